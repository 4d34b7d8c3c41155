"""The ``dynapose`` command: a thin layer over the Python API.

Each subcommand parses its options, calls one documented function, and prints where its outputs
went. Bad input surfaces as ``error: <file>: <problem>`` on one line and exit status 2.
"""

from __future__ import annotations

import sys
from pathlib import Path
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


@main.command()
@click.option("--out", "-o", default="dynapose-demo", show_default=True, help="Output folder.")
@click.option("--quick", is_flag=True, help="A tiny run (under a minute) that checks the plumbing.")
@click.option("--seed", default=0, show_default=True)
@click.option("--workers", type=int, default=None, help="Synthesis processes (default: cores).")
@click.option("--overwrite", is_flag=True, help="Reuse a non-empty output folder.")
@click.option("--preset", default=None,
              help="Training preset instead of the plan's (seed-synth; quick with --quick), "
                   "e.g. seed: the report's exact recipe.")
def demo(out: str, quick: bool, seed: int, workers: int | None, overwrite: bool,
         preset: str | None) -> None:
    """Synthesise data, train the report's model, evaluate it, and show the results."""
    from dynapose.demo import run_demo

    run_demo(out, quick=quick, seed=seed, workers=workers, overwrite=overwrite, echo=click.echo,
             preset=preset)


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
@click.option("--out", "-o", required=True, help="Clip store folder to create.")
@click.option("--clips", required=True, type=int, help="Number of 8-frame clips.")
@click.option("--size", default=224, show_default=True, help="Side of the square frames, px.")
@click.option("--motions", multiple=True, type=click.Path(path_type=str),
              help="BVH files to animate (repeat or list after --motions; default: "
                   "procedural motion).")
@click.argument("more_motions", nargs=-1, type=click.Path(path_type=str),
                metavar="[BVH]...")
@click.option("--seed", default=0, show_default=True, help="Everything follows from it.")
@click.option("--workers", type=int, default=None,
              help="Rendering processes (default: all cores; the output does not depend on it).")
@click.option("--subjects", type=int, default=None,
              help="Synthetic people (default: one per 32 clips, 5 to 40).")
@click.option("--overwrite", is_flag=True, help="Replace an existing store (only once complete).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def synth(out: str, clips: int, size: int, motions: tuple[str, ...],
          more_motions: tuple[str, ...], seed: int, workers: int | None, subjects: int | None,
          overwrite: bool, quiet: bool) -> None:
    """Render synthetic people (procedural or BVH motion) into a clip store with exact 3D labels;
    train/val/test split by subject and motion."""
    from dynapose.data.store import ClipStore
    from dynapose.data.synth import synthesize

    files = [*motions, *more_motions]
    path = synthesize(out, clips, size=size, motions=files or None, seed=seed, workers=workers,
                      overwrite=overwrite, progress=not quiet, subjects=subjects)
    store = ClipStore(path)
    counts = ", ".join(f"{len(store.indices(s))} {s}" for s in ("train", "val", "test"))
    click.echo(f"wrote {len(store)} clips ({counts}) of {size}x{size} to {path}")


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
@click.option("--normalize-targets/--no-normalize-targets", default=None,
              help="Output in units of the targets' spread around their mean pose (default: on).")
@click.option("--targets", type=click.Choice(["camera", "root"]), default=None,
              help="Joints in the camera frame (the report's) or relative to the pelvis.")
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


def _report_folder(checkpoint: str) -> Path:
    """Where an evaluation report goes by default: the run folder when `checkpoint` is one,
    the current folder for a checkpoint shipped inside the package, else the checkpoint's."""
    from dynapose.checkpoint import resolve_checkpoint

    given = Path(checkpoint)
    if (given / "metrics.csv").exists():
        return given
    folder = resolve_checkpoint(given)
    package = Path(__file__).resolve().parent
    return Path.cwd() if folder.resolve().is_relative_to(package) else folder


@main.command()
@click.option("--checkpoint", required=True, help="Run folder or checkpoint folder.")
@click.option("--data", required=True, help="Clip store to evaluate on.")
@click.option("--split", default="auto", show_default=True,
              help="Split to evaluate: test, val, train, all, or auto (test, else val, else all).")
@click.option("--out", "-o", default=None,
              help="JSON report path (default: CHECKPOINT/eval-<store>-<split>.json).")
@click.option("--batch-size", default=32, show_default=True)
@click.option("--workers", default=1, show_default=True)
@click.pass_context
def evaluate(ctx: click.Context, checkpoint: str, data: str, split: str, out: str | None,
             batch_size: int, workers: int) -> None:
    """All metrics overall, per joint, per subject and action; a table and a JSON report.

    A lifter checkpoint is evaluated by VideoPose3D's protocol (see `evaluate-lift`) on a pose
    store or Human3.6M npz."""
    from dynapose.checkpoint import read_checkpoint_config
    from dynapose.evaluate import evaluate as run_evaluation
    from dynapose.evaluate import format_report, write_report

    if read_checkpoint_config(checkpoint)["model"]["name"] == "lifter":
        ctx.invoke(evaluate_lift_cmd, checkpoint=checkpoint, data=data, subjects=(),
                   cameras=(), flip_tta=True, noise_px=0.0, out=out)
        return

    report = run_evaluation(checkpoint, data, split=None if split == "all" else split,
                            batch_size=batch_size, workers=workers)
    if out is None:
        out = str(_report_folder(checkpoint) / f"eval-{Path(data).name}-{report['split'] or 'all'}"
                  ".json")
    click.echo(format_report(report))
    click.echo(f"\nreport: {write_report(report, out)}")


#: `predict --lifter` given without a value: the shipped lifter.
_DEFAULT_LIFTER = "<default>"


@main.command()
@click.argument("video", type=click.Path(path_type=str))
@click.option("--checkpoint", default=None,
              help="Run folder or checkpoint folder of an image model (or use --lifter).")
@click.option("--lifter", is_flag=False, flag_value=_DEFAULT_LIFTER, default=None,
              help="Lift 2D keypoints with this lifter run/checkpoint; --lifter alone: the "
                   "lifter shipped with DynaPose. Keypoints from --keypoints, else MediaPipe.")
@click.option("--keypoints", default=None,
              help="With --lifter: 2D keypoints file (.npy/.npz Human3.6M order, COCO-17 "
                   ".json, VideoPose3D 2D .npz) instead of MediaPipe.")
@click.option("--sequence", default=None,
              help="With --keypoints: the VideoPose3D sequence, subject/action/camera or the "
                   "custom video's name.")
@click.option("--rigid-bones/--free-bones", default=True, show_default=True,
              help="With --lifter: one length per bone for the whole video (median of the "
                   "lifter's), or the lifter's own lengths frame by frame.")
@click.option("--out", "-o", default=None,
              help="Output folder to create (default: <video name>-pose beside the video).")
@click.option("--box", default=None,
              help="Crop x,y,w,h in pixels (default: MediaPipe if installed, else the centred "
                   "square of the frame).")
@click.option("--detector", type=click.Choice(["auto", "none", "mediapipe"]), default="auto",
              show_default=True, help="Person detector for the crop when no --box is given.")
@click.option("--backend", type=click.Choice(["torch", "onnx"]), default="torch",
              show_default=True)
@click.option("--onnx", "onnx_path", default=None,
              help="ONNX file from `dynapose export` (implies --backend onnx; without it, "
                   "--backend onnx exports on the fly).")
@click.option("--stride", default=4, show_default=True, help="Frames between 8-frame windows.")
@click.option("--batch", default=16, show_default=True, help="Windows per model call.")
@click.option("--no-visuals", is_flag=True,
              help="Only joints.{npz,json,csv}: no overlay, 3D animation or viewer.")
@click.option("--overwrite", is_flag=True, help="Replace an existing output folder.")
def predict(video: str, checkpoint: str | None, lifter: str | None, keypoints: str | None,
            sequence: str | None, rigid_bones: bool, out: str | None, box: str | None,
            detector: str, backend: str, onnx_path: str | None, stride: int, batch: int,
            no_visuals: bool, overwrite: bool) -> None:
    """3D joints for every frame of VIDEO: NPZ/JSON/CSV, overlay, 3D animation, HTML viewer.

    With --checkpoint, an image model on cropped frames; with --lifter, 2D keypoints (MediaPipe
    or --keypoints FILE) lifted to 3D (dynapose.lift_predict).
    """
    from dynapose.predict import VISUALS, parse_box, predict_video

    path = Path(video)
    target = Path(out) if out else path.with_name(f"{path.stem}-pose")
    if (checkpoint is None) == (lifter is None):
        raise DynaPoseError("give either --checkpoint RUN (image model) or --lifter [LIFTER]")
    if lifter is not None:
        from dynapose.lift_predict import predict_video_lifted

        lifted = predict_video_lifted(
            video, None if lifter == _DEFAULT_LIFTER else lifter, keypoints, target,
            visuals=() if no_visuals else VISUALS, overwrite=overwrite, sequence=sequence,
            rigid=rigid_bones)
        gaps = int((~lifted.valid()).sum())
        click.echo(f"{lifted.num_frames} frames at {lifted.fps:.4g} fps, lifter: "
                   f"{lifted.model['checkpoint']}, frames without a person: {gaps}")
        for kind, file in lifted.files.items():
            click.echo(f"{kind:>10}: {file}")
        return
    if keypoints is not None or sequence is not None:
        raise DynaPoseError("--keypoints and --sequence go with --lifter")
    assert checkpoint is not None
    backend = "onnx" if onnx_path else backend
    pred = predict_video(video, checkpoint, target, box=parse_box(box) if box else None,
                         detector=detector, backend=backend, onnx_path=onnx_path, stride=stride,
                         batch=batch, visuals=() if no_visuals else VISUALS, overwrite=overwrite)
    click.echo(f"{pred.num_frames} frames at {pred.fps:.4g} fps, crop: {pred.crop_policy}, "
               f"backend: {backend}")
    for kind, file in pred.files.items():
        click.echo(f"{kind:>10}: {file}")


@main.command()
@click.option("--checkpoint", required=True, help="Run folder or checkpoint folder.")
@click.option("--onnx", "onnx_path", required=True, help="ONNX file to write.")
def export(checkpoint: str, onnx_path: str) -> None:
    """Export a checkpoint to ONNX and check onnxruntime matches torch (1e-4)."""
    from dynapose.export import export_onnx

    summary = export_onnx(checkpoint, onnx_path)
    click.echo(f"wrote {summary['path']} (input {summary['input']}); onnxruntime vs torch: "
               f"max |diff| {summary['max_abs_diff_mm']:.2g} mm, "
               f"relative {summary['max_rel_diff']:.2g}")


@bench.command("predict")
@click.option("--checkpoint", default=None,
              help="Checkpoint to time (default: the seed model with random weights).")
@click.option("--input-size", default=224, show_default=True,
              help="Input side of the default seed model.")
@click.option("--batch", default=16, show_default=True, help="Windows per model call.")
@click.option("--frames", "video_frames", default=400, show_default=True,
              help="Frames of the generated 1000x1000 video.")
@click.option("--seconds", default=3.0, show_default=True, help="Time per model measurement.")
@click.option("--backend", "backends", multiple=True, type=click.Choice(["torch", "onnx"]),
              help="Backends for the model-alone figure (default: both).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def bench_predict_cmd(checkpoint: str | None, input_size: int, batch: int, video_frames: int,
                      seconds: float, backends: tuple[str, ...], as_json: bool) -> None:
    """Frames/s of the model alone (torch, onnxruntime) and of predict end to end."""
    import json

    from dynapose.predict import bench_predict

    result = bench_predict(checkpoint, batch=batch, seconds=seconds, video_frames=video_frames,
                           backends=backends or ("torch", "onnx"), input_size=input_size)
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    for key, value in result.items():
        if isinstance(value, dict) and "frames_per_s" in value:
            click.echo(f"{key:>24}: {value['frames_per_s']:8.1f} frames/s")
        else:
            click.echo(f"{key:>24}: {value}")


@main.group()
def prepare() -> None:
    """Turn datasets into clip stores (or pose stores)."""


def _csv(values: tuple[str, ...]) -> list[str] | None:
    """Values given as repeated options and/or comma-separated lists."""
    items = [v.strip() for value in values for v in value.split(",") if v.strip()]
    return items or None


@prepare.command("h36m")
@click.argument("root", type=click.Path(path_type=str))
@click.option("--out", "-o", required=True, help="Store folder to create.")
@click.option("--subjects", multiple=True,
              help="e.g. S1,S5 (default: all). Splits: train S1,S5-S8; test S9,S11.")
@click.option("--cameras", multiple=True, help="Camera ids, e.g. 54138969 (default: all four).")
@click.option("--stride", type=int, default=None,
              help="Source frames between clip starts (default: clip length x downsample).")
@click.option("--downsample", default=1, show_default=True, help="Keep every n-th frame.")
@click.option("--size", default=224, show_default=True, help="Side of the square crops, px.")
@click.option("--clip-len", default=8, show_default=True, help="Frames per clip.")
@click.option("--margin", default=0.2, show_default=True,
              help="Added around the joints' box on each side, as a share of its longer side.")
@click.option("--poses-only", is_flag=True,
              help="Write a pose store (2D + 3D joints, no images); any layout with 3D.")
@click.option("--workers", default=1, show_default=True, help="Decoding processes.")
@click.option("--cameras-h5", default=None,
              help="A 3d-pose-baseline cameras.h5 to use instead of the published calibration.")
@click.option("--keypoints", default=None,
              help="With --poses-only: a VideoPose3D 2D keypoint .npz to use as the 2D joints.")
@click.option("--segment-clips", type=int, default=None, help="Clips per unit of work.")
@click.option("--chunk-clips", default=256, show_default=True, help="Clips per store chunk.")
@click.option("--overwrite", is_flag=True, help="Replace an existing store (only once complete).")
@click.option("--progress/--no-progress", default=True, show_default=True)
def prepare_h36m_cmd(root: str, out: str, subjects: tuple[str, ...], cameras: tuple[str, ...],
                     stride: int | None, downsample: int, size: int, clip_len: int, margin: float,
                     poses_only: bool, workers: int, cameras_h5: str | None,
                     keypoints: str | None, segment_clips: int | None, chunk_clips: int,
                     overwrite: bool, progress: bool) -> None:
    """Human3.6M (official release; with --poses-only also 3d-pose-baseline or VideoPose3D npz)
    -> a clip store of cropped 8-frame clips with camera-frame mm labels. Resumes an
    interrupted run with the same arguments."""
    import warnings

    from dynapose.data.prepare import prepare_h36m

    def show(message: Any, category: Any, filename: str, lineno: int, file: Any = None,
             line: Any = None) -> None:
        click.echo(f"warning: {message}", err=True)

    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.showwarning = show
        path = prepare_h36m(root, out, _csv(subjects), _csv(cameras), stride=stride,
                            downsample=downsample, size=size, clip_len=clip_len, margin=margin,
                            poses_only=poses_only, workers=workers, cameras_h5=cameras_h5,
                            keypoints=keypoints, segment_clips=segment_clips,
                            chunk_clips=chunk_clips, overwrite=overwrite, progress=progress)
    if poses_only:
        from dynapose.data.pose_store import PoseStore

        poses = PoseStore(path)
        click.echo(f"wrote {len(poses)} sequences ({poses.num_frames} frames) to {path}")
    else:
        from dynapose.data.store import ClipStore

        store = ClipStore(path)
        click.echo(f"wrote {len(store)} clips ({len(store.indices('train'))} train, "
                   f"{len(store.indices('test'))} test) to {path}")


@bench.command("viz")
@click.option("--frames", default=200, show_default=True, help="Frames per measurement.")
@click.option("--size", default=224, show_default=True, help="Side of the input frames (px).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def bench_viz_cmd(frames: int, size: int, as_json: bool) -> None:
    """Frames/s of the 2D overlay, the 3D view and the comparison video (MP4, GIF)."""
    import json

    from dynapose.viz import bench_viz

    result = bench_viz(frames=frames, size=size)
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    for key, value in result.items():
        shown = f"{value['frames_per_s']:8.1f} frames/s" if isinstance(value, dict) else value
        click.echo(f"{key:>18}: {shown}")


@bench.command("synth")
@click.option("--size", default=224, show_default=True, help="Side of the rendered frames, px.")
@click.option("--frames", default=800, show_default=True, help="Frames per measurement.")
@click.option("--workers", type=int, default=None, help="Processes (default: all cores).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def bench_synth_cmd(size: int, frames: int, workers: int | None, as_json: bool) -> None:
    """Rendered frames/s of synthetic video, end to end (motion + render + crop)."""
    import json

    from dynapose.data.synth import bench_synth

    result = bench_synth(size=size, frames=frames, workers=workers)
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    for key, value in result.items():
        shown = f"{value:.3g}" if isinstance(value, float) else value
        click.echo(f"{key:>22}: {shown}")


@main.command("import-keras")
@click.argument("file", type=click.Path(path_type=str))
@click.option("--out", "-o", required=True, help="Checkpoint folder to create.")
@click.option("--input-size", type=int, default=None,
              help="Frame side in pixels (default: 224 when the weights fit it).")
@click.option("--overwrite", is_flag=True, help="Replace an existing checkpoint folder.")
def import_keras_cmd(file: str, out: str, input_size: int | None, overwrite: bool) -> None:
    """Convert the report's Keras weights (Keras 3 .weights.h5 or Keras 2 .h5) to a checkpoint."""
    from dynapose.models.keras_import import import_keras

    path = import_keras(file, out, input_size=input_size, overwrite=overwrite)
    click.echo(f"wrote seed checkpoint {path}")


@bench.command("train")
@click.option("--batch", default=80, show_default=True, type=click.IntRange(min=1),
              help="Clips per optimizer step.")
@click.option("--size", default=224, show_default=True, type=click.IntRange(min=193),
              help="Side of the square frames, px (the model needs at least 193).")
@click.option("--steps", default=10, show_default=True, type=click.IntRange(min=1),
              help="Timed steps (after warm-up).")
@click.option("--warmup", default=2, show_default=True, type=click.IntRange(min=0),
              help="Untimed steps first.")
@click.option("--threads", type=int, default=None, help="Torch threads (default: torch's).")
@click.option("--huge-pages/--no-huge-pages", default=True, show_default=True,
              help="THP_MEM_ALLOC_ENABLE=1 in the measuring process (fewer page faults).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def bench_train_cmd(batch: int, size: int, steps: int, warmup: int, threads: int | None,
                    huge_pages: bool, as_json: bool) -> None:
    """Training step of the seed model: clips/s and peak resident memory (fresh process)."""
    import json

    from dynapose.bench import bench_train, format_table

    result = bench_train(batch=batch, size=size, steps=steps, warmup=warmup, threads=threads,
                         huge_pages=huge_pages)
    click.echo(json.dumps(result, indent=2) if as_json else format_table(result))


@bench.command("memory")
@click.option("--sizes", default="500,2000,8000", show_default=True,
              help="Store sizes (clips), comma-separated.")
@click.option("--size", default=224, show_default=True, type=click.IntRange(min=193))
@click.option("--batch", default=80, show_default=True, type=click.IntRange(min=1))
@click.option("--workers", default=1, show_default=True, type=click.IntRange(min=0))
@click.option("--root", default=None, help="Folder for the temporary stores (default: /tmp).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def bench_memory_cmd(sizes: str, size: int, batch: int, workers: int, root: str | None,
                     as_json: bool) -> None:
    """Peak resident memory of a training epoch over stores of growing size (stays flat)."""
    import json

    from dynapose.bench import bench_memory

    try:
        counts = tuple(int(n) for n in sizes.split(","))
    except ValueError as exc:
        raise click.BadParameter(f"not a list of integers: {sizes}") from exc
    result = bench_memory(counts, size=size, batch=batch, workers=workers, root=root)
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    click.echo(f"{'clips':>7} {'store GB':>9} {'peak RSS MB':>12} {'+workers MB':>12} "
               f"{'epoch s':>8} {'clips/s':>8}")
    for r in result["results"]:
        click.echo(f"{r['clips']:>7} {r['store_gb']:>9} {r['peak_rss_mb']:>12} "
                   f"{r['peak_tree_rss_mb']:>12} {r['epoch_s']:>8} {r['clips_per_s']:>8}")


@main.command("train-lift")
@click.option("--data", required=True,
              help="3D motion: a VideoPose3D data_3d_h36m.npz, a pose store, or 'synthetic'.")
@click.option("--out", "-o", required=True, help="Run folder (metrics.csv, checkpoint, state).")
@click.option("--preset", default="lift-h36m", show_default=True,
              help="Lift preset from dynapose/configs (lift-*.yaml).")
@click.option("--config", "config_file", default=None, help="YAML file overriding the preset.")
@click.option("--receptive-field", type=click.Choice(["1", "27", "81", "243"]), default=None)
@click.option("--channels", type=int, default=None)
@click.option("--frame-stride", type=int, default=None,
              help="See every s-th frame: a window spans (R-1)*s+1 frames.")
@click.option("--causal/--centred", "causal", default=None, help="See only past frames.")
@click.option("--epochs", type=int, default=None)
@click.option("--samples-per-epoch", type=int, default=None)
@click.option("--batch-size", type=int, default=None)
@click.option("--lr", type=float, default=None)
@click.option("--threads", type=int, default=None, help="Torch threads (0: all cores).")
@click.option("--seed", type=int, default=None)
@click.option("--train-subjects", multiple=True,
              help="Subjects to train on, e.g. S1,S5,S7,S8 (default: the preset's).")
@click.option("--val-subjects", multiple=True,
              help="Held-out subjects, e.g. S6 (default: the preset's): with --train-subjects, "
                   "leave-one-subject-out cross-validation.")
@click.option("--resume", is_flag=True, help="Continue the interrupted run in --out.")
@click.option("--evaluate/--no-evaluate", "run_eval", default=True, show_default=True,
              help="Afterwards, the full protocol on the validation subjects (RUN/eval.json).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def train_lift_cmd(data: str, out: str, preset: str, config_file: str | None, resume: bool,
                   run_eval: bool, quiet: bool, receptive_field: str | None,
                   **overrides: Any) -> None:
    """Train a 2D->3D lifter on 3D motion projected through cameras on the fly; resumable."""
    from dynapose.lift_eval import evaluate_lifter, format_lift_report, write_lift_report
    from dynapose.lift_train import load_lift_config, train_lifter

    if receptive_field is not None:
        overrides["receptive_field"] = int(receptive_field)
    for key in ("train_subjects", "val_subjects"):
        overrides[key] = _csv(overrides[key])
    config = load_lift_config(preset, config_file, overrides)
    result = train_lifter(data, out, config, resume=resume, progress=not quiet)
    click.echo(f"run folder: {result['run']}  (checkpoint: {result['checkpoint']}, metrics.csv; "
               f"{result['samples_per_s']:.0f} training samples/s)")
    if run_eval and config.val_subjects and not result["val_frames"]:
        click.echo(f"no frames of {', '.join(config.val_subjects)} in {data}: evaluation skipped")
    elif run_eval and config.val_subjects:
        report = evaluate_lifter(result["checkpoint"], data, subjects=config.val_subjects)
        click.echo(format_lift_report(report))
        click.echo(f"report: {write_lift_report(report, Path(out) / 'eval.json')}")


@main.command("evaluate-lift")
@click.option("--checkpoint", required=True, help="Run folder or checkpoint folder of a lifter.")
@click.option("--data", required=True, help="VideoPose3D data_3d_h36m.npz or a pose store.")
@click.option("--subjects", multiple=True,
              help="e.g. S8 (default: the run's validation subjects; a store: all).")
@click.option("--cameras", multiple=True, help="Camera ids (default: all).")
@click.option("--flip-tta/--no-flip-tta", default=True, show_default=True,
              help="Average with the mirrored input's prediction.")
@click.option("--noise-px", type=float, default=0.0, show_default=True,
              help="Gaussian noise (std, pixels) added to the 2D, as a detector's would be.")
@click.option("--out", "-o", default=None, help="JSON report (default: CHECKPOINT/eval-lift.json).")
def evaluate_lift_cmd(checkpoint: str, data: str, subjects: tuple[str, ...],
                      cameras: tuple[str, ...], flip_tta: bool, noise_px: float,
                      out: str | None) -> None:
    """VideoPose3D's protocol: every frame of every camera; P1, P2 per action, and MPJVE."""
    from dynapose.lift_eval import evaluate_lifter, format_lift_report, write_lift_report

    report = evaluate_lifter(checkpoint, data, subjects=_csv(subjects), cameras=_csv(cameras),
                             flip_tta=flip_tta, noise_px=noise_px)
    click.echo(format_lift_report(report))
    target = out or _report_folder(checkpoint) / "eval-lift.json"
    click.echo(f"report: {write_lift_report(report, target)}")


@bench.command("lift")
@click.option("--checkpoint", default=None, help="Lifter to time (default: random weights).")
@click.option("--receptive-field", type=click.Choice(["1", "27", "81", "243"]), default="243",
              show_default=True)
@click.option("--channels", default=256, show_default=True)
@click.option("--batch", default=1024, show_default=True, help="Training batch.")
@click.option("--frames", default=2000, show_default=True, help="Frames per inference sequence.")
@click.option("--seconds", default=3.0, show_default=True, help="Time per measurement.")
@click.option("--threads", type=int, default=None, help="Torch threads (default: torch's).")
@click.option("--precision", type=click.Choice(["bf16", "fp32"]), default="bf16",
              show_default=True, help="Training step precision (the lift presets use bf16).")
@click.option("--video", default=None, type=click.Path(dir_okay=False),
              help="Also time `predict --lifter` end to end on this real video (MediaPipe).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def bench_lift_cmd(checkpoint: str | None, receptive_field: str, channels: int, batch: int,
                   frames: int, seconds: float, threads: int | None, precision: str,
                   video: str | None, as_json: bool) -> None:
    """Lifter training samples/s and inference frames/s (batched, and causal one frame at a
    time); with --video, MediaPipe 2D and the whole `predict --lifter` in frames/s."""
    import json

    from dynapose.lift_eval import bench_lift

    result = bench_lift(checkpoint, receptive_field=int(receptive_field), channels=channels,
                        batch=batch, frames=frames, seconds=seconds, threads=threads,
                        precision=precision, video=video)
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    for key, value in result.items():
        if isinstance(value, dict):
            unit = "samples_per_s" if "samples_per_s" in value else "frames_per_s"
            click.echo(f"{key:>20}: {value[unit]:10.1f} {unit.replace('_per_s', '/s')}")
        else:
            click.echo(f"{key:>20}: {value}")


@main.command("export-motion")
@click.argument("prediction", type=click.Path(path_type=str))
@click.option("--bvh", "bvh_path", required=True, help="BVH file to write.")
@click.option("--smooth", "smoothing", type=click.Choice(["none", "offline", "causal"]),
              default="none", show_default=True,
              help="Smoothing without lag: offline (centred window) or causal (past frames).")
@click.option("--window", "window_s", type=float, default=None,
              help="Smoothing window, seconds (default 0.3).")
@click.option("--unit", type=click.Choice(["cm", "mm", "m"]), default="cm", show_default=True,
              help="Length unit of the BVH.")
@click.option("--origin", type=click.Choice(["start", "camera"]), default="start",
              show_default=True, help="World origin: the floor below the first pelvis, or "
                                      "below the camera.")
@click.option("--fps", type=float, default=None, help="Frame rate (default: the prediction's).")
@click.option("--report", "report_path", default=None, help="Also write the report as JSON.")
@click.option("--world", "world_path", default=None,
              help="Also write world joints, contacts and the camera-to-world transform (.npz).")
def export_motion_cmd(prediction: str, bvh_path: str, smoothing: str, window_s: float | None,
                      unit: str, origin: str, fps: float | None, report_path: str | None,
                      world_path: str | None) -> None:
    """Write a prediction (folder, joints.npz/json, or .npy) as a BVH animation: world frame
    from the feet (Y up, floor at 0), rigid bones, joint rotations, root trajectory."""
    from dynapose.animation import export_motion

    rep = export_motion(prediction, bvh_path, smoothing=smoothing,  # type: ignore[arg-type]
                        window_s=window_s, unit=unit, origin=origin,  # type: ignore[arg-type]
                        fps=fps, report_path=report_path, world_path=world_path)
    cam = rep["world"]["camera"]
    before, after = rep["quality_before"], rep["quality_after"]
    click.echo(f"wrote {rep['bvh']}: {rep['frames']} frames at {rep['fps']:g} fps, {unit}")
    click.echo(f"camera: {cam['height_mm']:.0f} mm above the floor, pitch {cam['pitch_deg']:.1f}"
               f" deg, roll {cam['roll_deg']:.1f} deg ({rep['world']['steps']} steps)")
    click.echo(f"bone spread {before['bone_spread_mm']:.2f} -> {after['bone_spread_mm']:.2f} mm,"
               f" jitter {before['jitter_mm_per_frame2']:.2f} -> "
               f"{after['jitter_mm_per_frame2']:.2f} mm/frame^2, foot skating "
               f"{before['skating']['mm_per_contact']:.1f} -> "
               f"{after['skating']['mm_per_contact']:.1f} mm per contact")
    for line in rep["assumptions"]:
        click.echo(f"assumed: {line}")
    if report_path:
        click.echo(f"report: {report_path}")


if __name__ == "__main__":  # pragma: no cover
    main()
