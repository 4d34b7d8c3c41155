"""The ``dynapose`` command: a thin layer over the Python API.

Each subcommand parses its options, calls one documented function, and prints where its outputs
went. Bad input surfaces as ``error: <file>: <problem>`` on one line and exit status 2.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from dynapose.cli.bench import bench
from dynapose.cli.data import import_arrays_cmd, import_keras_cmd, prepare, synth
from dynapose.cli.demo import demo
from dynapose.cli.evaluation import evaluate, evaluate_lift_cmd
from dynapose.cli.inference import export, predict
from dynapose.cli.training import train, train_lift_cmd
from dynapose.errors import DynaPoseError


class _Group(click.Group):
    """Turns DynaPoseError into a one-line message and exit status 2."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except DynaPoseError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="dynapose")
def main() -> None:
    """DynaPose: 3D human pose estimation from video (17 Human3.6M joints, millimetres)."""


for _command in (demo, synth, import_arrays_cmd, import_keras_cmd, prepare, train, train_lift_cmd,
                 evaluate, evaluate_lift_cmd, predict, export, bench):
    main.add_command(_command)
