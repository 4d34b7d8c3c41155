"""Training commands: ``train`` (clip stores) and ``train-lift`` (3D motion).

Imports of the API sit inside the commands: ``dynapose --help`` and every command start without
loading torch and the rest of the stack until a command needs it.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from dynapose.cli.options import SEED, count, csv_values, device_option, number
from dynapose.io.atomic import check_output

_precision_option = click.option(
    "--precision", type=click.Choice(["auto", "fp32", "bf16"]), default=None,
    help="bf16: forward and backward under bfloat16 autocast (weights stay float32); auto: "
         "bf16 where the hardware computes it (a GPU, an AVX512-BF16/AMX CPU), else fp32.")
_compile_option = click.option(
    "--compile/--no-compile", "compile", default=None,
    help="torch.compile the model (compiles for a minute first; see README: GPUs).")


@click.command()
@click.option("--data", required=True, help="Clip store to train on (its train/val splits).")
@click.option("--out", "-o", required=True, help="Run folder (metrics, figures, checkpoint).")
@click.option("--preset", default="seed", show_default=True,
              help="Preset recipe from dynapose/configs (seed = the report's).")
@click.option("--config", "config_file", default=None, help="YAML file overriding the preset.")
@click.option("--epochs", type=count(), default=None)
@click.option("--batch-size", type=count(), default=None, help="Global batch (all processes).")
@click.option("--lr", type=number(0, min_open=True), default=None)
@click.option("--beta1", type=number(0, 1, max_open=True), default=None)
@click.option("--beta2", type=number(0, 1, max_open=True), default=None)
@click.option("--eps", type=number(0, min_open=True), default=None)
@click.option("--loss", type=click.Choice(["mse", "mpjpe"]), default=None)
@click.option("--seed", type=SEED, default=None)
@click.option("--workers", type=count(-1), default=None,
              help="Data-loading processes per trainer (-1: sized to the device).")
@click.option("--threads", type=count(0), default=None, help="Torch threads per process.")
@click.option("--checkpoint-every", type=count(0), default=None,
              help="Steps between resumable snapshots.")
@click.option("--input-size", type=count(), default=None, help="Model input size (pixels).")
@click.option("--normalize-targets/--no-normalize-targets", default=None,
              help="Output in units of the targets' spread around their mean pose (default: on).")
@click.option("--targets", type=click.Choice(["camera", "root"]), default=None,
              help="Joints in the camera frame (the report's) or relative to the pelvis.")
@click.option("--resume", is_flag=True, help="Continue the interrupted run in --out.")
@click.option("--nproc", type=count(), default=1, show_default=True,
              help="Data-parallel processes (torch.distributed: one per GPU over NCCL, or CPU "
                   "processes over gloo).")
@device_option(default=None, settings=True)
@_precision_option
@_compile_option
@click.option("--quiet", is_flag=True, help="No progress bar.")
def train(data: str, out: str, preset: str, config_file: str | None, resume: bool, nproc: int,
          quiet: bool, input_size: int | None, **overrides: Any) -> None:
    """Train a model on a clip store; resumable, optionally on several processes (GPUs)."""
    import os

    from dynapose.config import load_config
    from dynapose.device import rank_device
    from dynapose.training.image import train as run_training

    check_output(out, folder=True, may_exist=True)
    if input_size is not None:
        overrides["model_config"] = {"input_size": input_size}
    config = load_config(preset, config_file, overrides)
    if nproc > 1 and "LOCAL_RANK" not in os.environ:
        rank_device(config.device, nproc - 1, nproc)  # enough GPUs? (one line, before launch)
        _relaunch_distributed(nproc)
        return
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


@click.command("train-lift")
@click.option("--data", required=True,
              help="3D motion: a VideoPose3D data_3d_h36m.npz, a pose store, 'synthetic[:N[:F]]', "
                   "'cmu:FOLDER' (CMU mocap), or a mix 'A+B' (e.g. cmu:DIR+synthetic:100:600).")
@click.option("--out", "-o", required=True, help="Run folder (metrics.csv, checkpoint, state).")
@click.option("--preset", default="lift-h36m", show_default=True,
              help="Lift preset from dynapose/configs (lift-*.yaml).")
@click.option("--config", "config_file", default=None, help="YAML file overriding the preset.")
@click.option("--receptive-field", type=click.Choice(["1", "27", "81", "243"]), default=None)
@click.option("--channels", type=count(), default=None)
@click.option("--frame-stride", type=count(), default=None,
              help="See every s-th frame: a window spans (R-1)*s+1 frames.")
@click.option("--causal/--centred", "causal", default=None, help="See only past frames.")
@click.option("--epochs", type=count(), default=None)
@click.option("--samples-per-epoch", type=count(), default=None)
@click.option("--batch-size", type=count(), default=None)
@click.option("--lr", type=number(0, min_open=True), default=None)
@click.option("--threads", type=count(0), default=None, help="Torch threads (0: all cores).")
@click.option("--seed", type=SEED, default=None)
@device_option(default=None, settings=True)
@_precision_option
@_compile_option
@click.option("--train-subjects", multiple=True,
              help="Subjects to train on, e.g. S1,S5,S7,S8 (default: the preset's).")
@click.option("--val-subjects", multiple=True,
              help="Held-out subjects, e.g. S6 (default: the preset's): with --train-subjects, "
                   "leave-one-subject-out cross-validation.")
@click.option("--detections", default=None, type=click.Path(exists=True),
              help="A detector's 2D of the same sequences as the lifter's input (a "
                   "3d-pose-baseline folder S*/<detector>/*.h5 or a VideoPose3D "
                   "data_2d_h36m_<detector>.npz); detection_share of the windows, the rest "
                   "projected. Validation and the evaluation use it too.")
@click.option("--detection-share", type=number(0, 1), default=None,
              help="With --detections: the share of windows from them (default: the preset's).")
@click.option("--detection-errors", type=number(0, 1), default=None,
              help="With --detections: the share of the projected windows given a detector's "
                   "error, another training window's detected minus projected 2D (default: the "
                   "preset's).")
@click.option("--user-views", type=number(0, 1), default=None,
              help="The share of windows filmed by a camera placed as users film (heights, "
                   "distances, lenses, roll: dynapose.training.views; default: the preset's).")
@click.option("--recombine", type=number(0, 1), default=None,
              help="The share of windows given body parts (legs, an arm, the head) of another "
                   "window, kept in the torso's frame (dynapose.training.body_parts; default: "
                   "the preset's).")
@click.option("--detector-model", type=number(0, 1), default=None,
              help="The share of projected windows given a modelled detector's errors "
                   "(dynapose.training.detector_model; default: the preset's).")
@click.option("--resume", is_flag=True, help="Continue the interrupted run in --out.")
@click.option("--evaluate/--no-evaluate", "run_eval", default=True, show_default=True,
              help="Afterwards, the full protocol on the validation subjects (RUN/eval.json).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def train_lift_cmd(data: str, out: str, preset: str, config_file: str | None, resume: bool,
                   run_eval: bool, quiet: bool, receptive_field: str | None,
                   detections: str | None, **overrides: Any) -> None:
    """Train a 2D->3D lifter on 3D motion projected through cameras on the fly; resumable."""
    from dynapose.config import load_lift_config
    from dynapose.evaluation.lifter import evaluate_lifter
    from dynapose.evaluation.report import format_report, write_report
    from dynapose.training.lift import train_lifter

    check_output(out, folder=True, may_exist=True)
    if receptive_field is not None:
        overrides["receptive_field"] = int(receptive_field)
    for key in ("train_subjects", "val_subjects"):
        overrides[key] = csv_values(overrides[key])
    config = load_lift_config(preset, config_file, overrides)
    result = train_lifter(data, out, config, resume=resume, progress=not quiet,
                          detections=detections)
    click.echo(f"run folder: {result['run']}  (checkpoint: {result['checkpoint']}, metrics.csv; "
               f"{result['samples_per_s']:.0f} training samples/s in {result['precision']})")
    if run_eval and config.val_subjects and not result["val_frames"]:
        click.echo(f"no frames of {', '.join(config.val_subjects)} in {data}: evaluation skipped")
    elif run_eval and config.val_subjects:
        report = evaluate_lifter(result["checkpoint"], data, subjects=config.val_subjects,
                                 device=config.device, detections=detections)
        click.echo(format_report(report))
        click.echo(f"report: {write_report(report, Path(out) / 'eval.json')}")
