"""The ``dynapose`` command: a thin layer over the Python API.

Each subcommand parses its options, calls one documented function, and prints where its outputs
went. Bad input surfaces as ``error: <file>: <problem>`` on one line and exit status 2.
"""

from __future__ import annotations

import sys
from typing import Any

import click

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


@main.group()
def bench() -> None:
    """Benchmarks: measured speed and memory, printed as text or JSON (--json)."""


@main.command("import-arrays")
@click.argument("x_npy", type=click.Path(path_type=str))
@click.argument("y_npy", type=click.Path(path_type=str))
@click.option("--out", "-o", required=True, help="Clip store folder to create.")
@click.option("--val-fraction", default=0.0, show_default=True,
              help="Share of clips (seeded random) put in the validation split.")
@click.option("--seed", default=0, show_default=True, help="Seed of the split.")
@click.option("--overwrite", is_flag=True, help="Replace an existing store (only once complete).")
def import_arrays_cmd(x_npy: str, y_npy: str, out: str, val_fraction: float, seed: int,
                      overwrite: bool) -> None:
    """Convert the report's arrays (X: N×8×224×224×3 uint8, Y: N×8×17×3 mm) to a clip store."""
    from dynapose.data.arrays import import_arrays
    from dynapose.data.store import ClipStore

    path = import_arrays(x_npy, y_npy, out, val_fraction=val_fraction, seed=seed,
                         overwrite=overwrite)
    store = ClipStore(path)
    click.echo(f"wrote {len(store)} clips ({len(store.indices('train'))} train, "
               f"{len(store.indices('val'))} val) to {path}")


@main.command()
@click.option("--data", required=True, help="Clip store to train on (its train/val splits).")
@click.option("--out", "-o", required=True, help="Run folder (metrics, figures, checkpoint).")
@click.option("--preset", default="seed", show_default=True,
              help="Preset recipe from dynapose/configs (seed = the report's).")
@click.option("--config", "config_file", default=None, help="YAML file overriding the preset.")
@click.option("--epochs", type=int, default=None)
@click.option("--batch-size", type=int, default=None, help="Global batch (all processes).")
@click.option("--lr", type=float, default=None)
@click.option("--beta1", type=float, default=None)
@click.option("--beta2", type=float, default=None)
@click.option("--eps", type=float, default=None)
@click.option("--loss", type=click.Choice(["mse", "mpjpe"]), default=None)
@click.option("--seed", type=int, default=None)
@click.option("--workers", type=int, default=None, help="Data-loading processes per trainer.")
@click.option("--threads", type=int, default=None, help="Torch threads per process.")
@click.option("--checkpoint-every", type=int, default=None,
              help="Steps between resumable snapshots.")
@click.option("--input-size", type=int, default=None, help="Model input size (pixels).")
@click.option("--center-targets/--no-center-targets", default=None,
              help="Start the output at the training mean pose (default: on).")
@click.option("--resume", is_flag=True, help="Continue the interrupted run in --out.")
@click.option("--nproc", type=int, default=1, show_default=True,
              help="Data-parallel processes (torch.distributed, gloo).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def train(data: str, out: str, preset: str, config_file: str | None, resume: bool, nproc: int,
          quiet: bool, input_size: int | None, **overrides: Any) -> None:
    """Train a model on a clip store; resumable, optionally on several processes."""
    import os

    from dynapose.config import load_config
    from dynapose.train import train as run_training

    if nproc > 1 and "LOCAL_RANK" not in os.environ:
        _relaunch_distributed(nproc)
        return
    if input_size is not None:
        overrides["model_config"] = {"input_size": input_size}
    config = load_config(preset, config_file, overrides)
    result = run_training(data, out, config, resume=resume, progress=not quiet)
    if result["world_size"] == 1 or int(os.environ.get("RANK", "0")) == 0:
        click.echo(f"run folder: {result['run']}  (checkpoint: {result['checkpoint']}, "
                   f"metrics.csv, loss.png, mpjpe.png, pck3d.png)")


def _relaunch_distributed(nproc: int) -> None:
    """Run this same command under torch.distributed.run with `nproc` processes."""
    import subprocess

    args = [a for a in sys.argv[1:]]
    cleaned: list[str] = []
    skip = False
    for a in args:
        if skip:
            skip = False
            continue
        if a == "--nproc":
            skip = True
            continue
        if a.startswith("--nproc="):
            continue
        cleaned.append(a)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone",
           f"--nproc_per_node={nproc}", "-m", "dynapose", *cleaned]
    sys.exit(subprocess.call(cmd))


@main.command()
@click.option("--checkpoint", required=True, help="Run folder or checkpoint folder.")
@click.option("--data", required=True, help="Clip store to evaluate on.")
@click.option("--split", default="auto", show_default=True,
              help="Split to evaluate: test, val, train, all, or auto (test, else val, else all).")
@click.option("--out", "-o", default=None,
              help="JSON report path (default: CHECKPOINT/eval-<store>-<split>.json).")
@click.option("--batch-size", default=32, show_default=True)
@click.option("--workers", default=1, show_default=True)
def evaluate(checkpoint: str, data: str, split: str, out: str | None, batch_size: int,
             workers: int) -> None:
    """All metrics overall, per joint, per subject and action; a table and a JSON report."""
    from pathlib import Path

    from dynapose.checkpoint import resolve_checkpoint
    from dynapose.evaluate import evaluate as run_evaluation
    from dynapose.evaluate import format_report, write_report

    report = run_evaluation(checkpoint, data, split=None if split == "all" else split,
                            batch_size=batch_size, workers=workers)
    if out is None:
        ckpt = Path(checkpoint)
        folder = ckpt if (ckpt / "metrics.csv").exists() else resolve_checkpoint(ckpt)
        out = str(folder / f"eval-{Path(data).name}-{report['split'] or 'all'}.json")
    click.echo(format_report(report))
    click.echo(f"\nreport: {write_report(report, out)}")


if __name__ == "__main__":  # pragma: no cover
    main()
