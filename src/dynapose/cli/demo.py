"""``dynapose demo``: the whole job on built-in synthetic data.

Imports of the API sit inside the commands: ``dynapose --help`` and every command start without
loading torch and the rest of the stack until a command needs it.
"""

from __future__ import annotations

import click

from dynapose.cli.options import SEED, count, device_option


@click.command()
@click.option("--out", "-o", default="dynapose-demo", show_default=True, help="Output folder.")
@click.option("--quick", is_flag=True, help="A tiny run (under a minute) that checks the plumbing.")
@click.option("--seed", type=SEED, default=0, show_default=True)
@click.option("--workers", type=count(), default=None, help="Synthesis processes (default: cores).")
@click.option("--overwrite", is_flag=True, help="Reuse a non-empty output folder.")
@click.option("--preset", default=None,
              help="Training preset instead of the plan's (seed-synth; quick with --quick), "
                   "e.g. seed: the report's exact recipe.")
@device_option()
def demo(out: str, quick: bool, seed: int, workers: int | None, overwrite: bool,
         preset: str | None, device: str) -> None:
    """Synthesise data, train the report's model, evaluate it, and show the results."""
    from dynapose.demo import run_demo

    run_demo(out, quick=quick, seed=seed, workers=workers, overwrite=overwrite, echo=click.echo,
             preset=preset, device=device)
