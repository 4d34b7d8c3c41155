"""Option parsing the command modules share."""

from __future__ import annotations


def csv_values(values: tuple[str, ...]) -> list[str] | None:
    """Values given as repeated options and/or comma-separated lists (None when none)."""
    items = [v.strip() for value in values for v in value.split(",") if v.strip()]
    return items or None
