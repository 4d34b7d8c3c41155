"""The ``dynapose`` command: a thin layer over the Python API.

Each subcommand parses its options, calls one documented function, and prints where its outputs
went. Bad input surfaces as ``error: <file>: <problem>`` on one line and exit status 2; every
other failure is one line too (exit 1), its traceback shown only with ``--debug`` or
``DYNAPOSE_DEBUG=1`` (docs/errors.md), which also let MediaPipe's own log lines through
(:mod:`dynapose.inference.mediapipe`).
"""

from __future__ import annotations

import os
import sys
import traceback
import warnings
from typing import Any, TextIO

import click

from dynapose.cli.animation import export_motion_cmd
from dynapose.cli.bench import bench
from dynapose.cli.data import import_arrays_cmd, import_keras_cmd, prepare, synth
from dynapose.cli.demo import demo
from dynapose.cli.evaluation import evaluate, evaluate_lift_cmd
from dynapose.cli.inference import export, predict
from dynapose.cli.live import live
from dynapose.cli.options import DEBUG_HOOK
from dynapose.cli.training import train, train_lift_cmd
from dynapose.errors import DEBUG_ENV, DynaPoseError, debugging

#: numpy's floating-point warnings (shown again with --debug).
NUMPY_FLOAT_WARNINGS = (r"(invalid value|divide by zero|overflow|underflow) encountered|"
                        r"Mean of empty slice|Degrees of freedom")


def _debugging(ctx: click.Context) -> bool:
    return bool(ctx.params.get("debug")) or debugging()


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def _show_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                  file: TextIO | None = None, line: str | None = None) -> None:
    """Warnings as one ``warning: ...`` line each, without the source line Python adds."""
    click.echo(f"warning: {_one_line(message)}", err=True)


def _describe_failure(exc: BaseException) -> str:
    """One line for a failure that is not bad input: the machine's, or DynaPose's bug."""
    if isinstance(exc, MemoryError):
        return "out of memory"
    if isinstance(exc, OSError) and exc.strerror:
        where = f"{exc.filename}: " if exc.filename else ""
        return f"{where}{exc.strerror}"
    text = _one_line(exc)
    return (f"internal error, please report it: {type(exc).__name__}"
            + (f": {text[:300]}" if text else ""))


class _Group(click.Group):
    """The one error path of the command line.

    Bad input (:class:`DynaPoseError`) prints ``error: <file>: <problem>`` and exits 2.
    Anything else is a bug (or the machine's: memory, disk): still one line, exit 1, with the
    traceback only under ``dynapose --debug`` or ``DYNAPOSE_DEBUG=1`` (or a command's own
    ``--debug``, :func:`dynapose.cli.options.debug_option`). An interruption exits 130. click's
    own usage errors keep click's message and status 2. Debugging sets ``DYNAPOSE_DEBUG=1`` for
    the command's duration, for the layers below (MediaPipe's log lines).
    """

    def invoke(self, ctx: click.Context) -> Any:
        before = os.environ.get(DEBUG_ENV)
        with warnings.catch_warnings():
            shown = warnings.showwarning

            def turn_on_debug() -> None:
                os.environ[DEBUG_ENV] = "1"
                warnings.showwarning = shown
                warnings.filterwarnings("default", category=RuntimeWarning,
                                        message=NUMPY_FLOAT_WARNINGS)

            ctx.meta[DEBUG_HOOK] = turn_on_debug
            if _debugging(ctx):
                os.environ[DEBUG_ENV] = "1"
            else:
                warnings.showwarning = _show_warning
                # Floating-point warnings (overflow, invalid value) say nothing a user can act
                # on: inputs are validated, and a non-finite result is refused where it matters.
                warnings.filterwarnings("ignore", category=RuntimeWarning,
                                        message=NUMPY_FLOAT_WARNINGS)
            try:
                return super().invoke(ctx)
            except DynaPoseError as exc:
                if _debugging(ctx):
                    traceback.print_exc()
                click.echo(f"error: {_one_line(exc)}", err=True)
                sys.exit(2)
            except (click.exceptions.ClickException, click.exceptions.Exit,
                    click.exceptions.Abort):
                raise
            except KeyboardInterrupt:
                click.echo("error: interrupted", err=True)
                sys.exit(130)
            except Exception as exc:
                debug = _debugging(ctx)
                if debug:
                    traceback.print_exc()
                hint = "" if debug else f" (rerun with --debug or {DEBUG_ENV}=1 for the traceback)"
                click.echo(f"error: {_describe_failure(exc)}{hint}", err=True)
                sys.exit(1)
            finally:
                if before is None:
                    os.environ.pop(DEBUG_ENV, None)
                else:
                    os.environ[DEBUG_ENV] = before


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="dynapose")
@click.option("--debug", is_flag=True,
              help=f"Show the traceback of an unexpected failure, and MediaPipe's own log "
                   f"lines (also: {DEBUG_ENV}=1).")
def main(debug: bool) -> None:
    """DynaPose: 3D human pose estimation from video (17 Human3.6M joints, millimetres).

    Bad input stops with one line, `error: <file>: <problem>`, exit status 2, and leaves no
    half-written output."""


for _command in (demo, synth, import_arrays_cmd, import_keras_cmd, prepare, train, train_lift_cmd,
                 evaluate, evaluate_lift_cmd, predict, export, export_motion_cmd, live, bench):
    main.add_command(_command)
