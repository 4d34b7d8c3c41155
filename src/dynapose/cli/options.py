"""Option parsing the command modules share."""

from __future__ import annotations

import math
from typing import Any

import click


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
