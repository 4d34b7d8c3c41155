"""Option parsing the command modules share."""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from typing import Any

import click

from dynapose.errors import DEBUG_ENV, DynaPoseError

#: How the ``--device`` option reads in every command's help.
DEVICE_HELP = ("Where models run: auto (a GPU when torch sees one, else the CPU), cpu, cuda or "
               "cuda:N.")


def _check_device(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    from dynapose.device import check_device_spec  # imports torch: only when the option is used

    problem = None if value is None else check_device_spec(value)
    if problem:
        raise DynaPoseError(f"--device: {problem}")
    return None if value is None else value.strip().lower()


def device_option(default: str | None = "auto", settings: bool = False) -> Callable[[Any], Any]:
    """The ``--device`` option, defined once for every command. With `settings` it defaults to
    the settings file's (or preset's) ``device:`` key, itself ``auto`` by default."""
    more = " Default: the settings' device (auto)." if settings else ""
    return click.option("--device", default=default, metavar="auto|cpu|cuda|cuda:N",
                        callback=_check_device, show_default=default is not None,
                        help=DEVICE_HELP + more)


#: Where the command group keeps its function that turns debugging on (``ctx.meta``).
DEBUG_HOOK = "dynapose.debug"
#: How a command's own ``--debug`` reads in its help.
DEBUG_HELP = ("Let MediaPipe's and TensorFlow Lite's own log lines through (held back "
              "otherwise) and show a failure's traceback: the same as `dynapose --debug` or "
              "DYNAPOSE_DEBUG=1.")


def _turn_on_debug(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if not value:
        return
    hook = ctx.meta.get(DEBUG_HOOK)
    if hook is not None:
        hook()
    else:  # the command run on its own, outside the dynapose group
        os.environ[DEBUG_ENV] = "1"


def debug_option() -> Callable[[Any], Any]:
    """``--debug`` on a command that runs the detector, as well as before it
    (``dynapose --debug COMMAND``): the group's error path and the layers below see it."""
    return click.option("--debug", is_flag=True, expose_value=False, is_eager=True,
                        callback=_turn_on_debug, help=DEBUG_HELP)


def csv_values(values: tuple[str, ...]) -> list[str] | None:
    """Values given as repeated options and/or comma-separated lists (None when none)."""
    items = [v.strip() for value in values for v in value.split(",") if v.strip()]
    return items or None


class FiniteFloatRange(click.FloatRange):
    """click.FloatRange that also refuses nan and inf (click lets inf through a lower bound)."""

    name = "float range"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None
                ) -> Any:
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number.", param, ctx)
        return number


def count(minimum: int = 1, maximum: int | None = None) -> click.IntRange:
    """An integer option's range: at least `minimum` (at most `maximum`)."""
    return click.IntRange(min=minimum, max=maximum)


def number(minimum: float | None = None, maximum: float | None = None, *,
           min_open: bool = False, max_open: bool = False) -> FiniteFloatRange:
    """A float option's range (finite; bounds inclusive unless `min_open`/`max_open`)."""
    return FiniteFloatRange(min=minimum, max=maximum, min_open=min_open, max_open=max_open)


#: Seeds of numpy's and torch's generators: non-negative integers.
SEED = click.IntRange(min=0)
