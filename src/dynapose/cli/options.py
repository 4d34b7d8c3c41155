"""Option parsing the command modules share."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from dynapose.errors import DynaPoseError

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


def csv_values(values: tuple[str, ...]) -> list[str] | None:
    """Values given as repeated options and/or comma-separated lists (None when none)."""
    items = [v.strip() for value in values for v in value.split(",") if v.strip()]
    return items or None
