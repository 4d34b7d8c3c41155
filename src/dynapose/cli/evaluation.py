"""Evaluation commands: ``evaluate`` and ``evaluate-lift``.

Imports of the API sit inside the commands: ``dynapose --help`` and every command start without
loading torch and the rest of the stack until a command needs it.
"""

from __future__ import annotations

from pathlib import Path

import click

from dynapose.cli.options import count, csv_values, device_option, number
from dynapose.io.atomic import check_output


def _report_folder(checkpoint: str) -> Path:
    """Where an evaluation report goes by default: the run folder when `checkpoint` is one,
    the current folder for a checkpoint shipped inside the package, else the checkpoint's."""
    from dynapose.io.checkpoint import resolve_checkpoint

    given = Path(checkpoint)
    if (given / "metrics.csv").exists():
        return given
    folder = resolve_checkpoint(given)
    package = Path(__file__).resolve().parents[1]
    return Path.cwd() if folder.resolve().is_relative_to(package) else folder


@click.command()
@click.option("--checkpoint", required=True, help="Run folder or checkpoint folder.")
@click.option("--data", required=True, help="Clip store to evaluate on.")
@click.option("--split", type=click.Choice(["auto", "test", "val", "train", "all"]),
              default="auto", show_default=True,
              help="Split to evaluate: test, val, train, all, or auto (test, else val, else all).")
@click.option("--out", "-o", default=None,
              help="JSON report path (default: CHECKPOINT/eval-<store>-<split>.json).")
@click.option("--batch-size", type=count(), default=32, show_default=True)
@click.option("--workers", type=count(-1), default=-1, show_default=True,
              help="Data-loading processes (-1: sized to the device).")
@click.option("--overwrite", is_flag=True, help="Replace an existing report.")
@device_option()
@click.pass_context
def evaluate(ctx: click.Context, checkpoint: str, data: str, split: str, out: str | None,
             batch_size: int, workers: int, overwrite: bool, device: str) -> None:
    """All metrics overall, per joint, per subject and action; a table and a JSON report.

    A lifter checkpoint is evaluated by VideoPose3D's protocol (see `evaluate-lift`) on a pose
    store or Human3.6M npz."""
    from dynapose.evaluation.clips import default_split
    from dynapose.evaluation.clips import evaluate as run_evaluation
    from dynapose.evaluation.report import format_report, write_report
    from dynapose.io.checkpoint import read_checkpoint_config

    if read_checkpoint_config(checkpoint)["model"]["name"] == "lifter":
        ctx.invoke(evaluate_lift_cmd, checkpoint=checkpoint, data=data, subjects=(),
                   cameras=(), flip_tta=True, noise_px=0.0, detections=None, out=out,
                   overwrite=overwrite, device=device)
        return

    from dynapose.data.store import ClipStore

    chosen = default_split(ClipStore(data)) if split == "auto" else split
    chosen = None if chosen == "all" else chosen
    target = Path(out) if out else (_report_folder(checkpoint)
                                    / f"eval-{Path(data).name}-{chosen or 'all'}.json")
    check_output(target, folder=False, overwrite=overwrite)  # before the evaluation, not after
    report = run_evaluation(checkpoint, data, split=chosen, batch_size=batch_size,
                            workers=workers, device=device)
    click.echo(format_report(report))
    click.echo(f"\nreport: {write_report(report, target)}")


@click.command("evaluate-lift")
@click.option("--checkpoint", required=True, help="Run folder or checkpoint folder of a lifter.")
@click.option("--data", required=True, help="VideoPose3D data_3d_h36m.npz or a pose store.")
@click.option("--subjects", multiple=True,
              help="e.g. S8 (default: the run's validation subjects; a store: all).")
@click.option("--cameras", multiple=True, help="Camera ids (default: all).")
@click.option("--flip-tta/--no-flip-tta", default=True, show_default=True,
              help="Average with the mirrored input's prediction.")
@click.option("--noise-px", type=number(0), default=0.0, show_default=True,
              help="Gaussian noise (std, pixels) added to the 2D, as a detector's would be.")
@click.option("--detections", default=None, type=click.Path(path_type=str),
              help="Lift a detector's 2D instead of the projection: a 3d-pose-baseline folder "
                   "(S*/StackedHourglass/*.h5) or a VideoPose3D data_2d_h36m_<det>.npz.")
@click.option("--out", "-o", default=None, help="JSON report (default: CHECKPOINT/eval-lift.json).")
@click.option("--overwrite", is_flag=True, help="Replace an existing report.")
@device_option()
def evaluate_lift_cmd(checkpoint: str, data: str, subjects: tuple[str, ...],
                      cameras: tuple[str, ...], flip_tta: bool, noise_px: float,
                      detections: str | None, out: str | None, overwrite: bool,
                      device: str) -> None:
    """VideoPose3D's protocol: every frame of every camera; P1, P2 per action, and MPJVE."""
    target = Path(out) if out else _report_folder(checkpoint) / "eval-lift.json"
    check_output(target, folder=False, overwrite=overwrite)
    from dynapose.evaluation.lifter import evaluate_lifter
    from dynapose.evaluation.report import format_report, write_report

    report = evaluate_lifter(checkpoint, data, subjects=csv_values(subjects),
                             cameras=csv_values(cameras), flip_tta=flip_tta, noise_px=noise_px,
                             device=device, detections=detections)
    click.echo(format_report(report))
    click.echo(f"report: {write_report(report, target)}")
