"""``predict`` (video in, joints out) and ``export`` (ONNX).

Imports of the API sit inside the commands: ``dynapose --help`` and every command start without
loading torch and the rest of the stack until a command needs it.
"""

from __future__ import annotations

from pathlib import Path

import click

from dynapose.cli.options import device_option
from dynapose.errors import DynaPoseError

_DEFAULT_LIFTER = "<default>"


@click.command()
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
@device_option()
def predict(video: str, checkpoint: str | None, lifter: str | None, keypoints: str | None,
            sequence: str | None, rigid_bones: bool, out: str | None, box: str | None,
            detector: str, backend: str, onnx_path: str | None, stride: int, batch: int,
            no_visuals: bool, overwrite: bool, device: str) -> None:
    """3D joints for every frame of VIDEO: NPZ/JSON/CSV, overlay, 3D animation, HTML viewer.

    With --checkpoint, an image model on cropped frames; with --lifter, 2D keypoints (MediaPipe
    or --keypoints FILE) lifted to 3D (dynapose.inference.lifted).
    """
    from dynapose.inference.crops import parse_box
    from dynapose.inference.image_model import predict_video
    from dynapose.inference.writer import VISUALS

    path = Path(video)
    target = Path(out) if out else path.with_name(f"{path.stem}-pose")
    if (checkpoint is None) == (lifter is None):
        raise DynaPoseError("give either --checkpoint RUN (image model) or --lifter [LIFTER]")
    if lifter is not None:
        from dynapose.inference.lifted import predict_video_lifted

        lifted = predict_video_lifted(
            video, None if lifter == _DEFAULT_LIFTER else lifter, keypoints, target,
            visuals=() if no_visuals else VISUALS, overwrite=overwrite, sequence=sequence,
            rigid=rigid_bones, device=device)
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
                         batch=batch, visuals=() if no_visuals else VISUALS, overwrite=overwrite,
                         device=device)
    click.echo(f"{pred.num_frames} frames at {pred.fps:.4g} fps, crop: {pred.crop_policy}, "
               f"backend: {backend}")
    for kind, file in pred.files.items():
        click.echo(f"{kind:>10}: {file}")


@click.command()
@click.option("--checkpoint", required=True, help="Run folder or checkpoint folder.")
@click.option("--onnx", "onnx_path", required=True, help="ONNX file to write.")
def export(checkpoint: str, onnx_path: str) -> None:
    """Export a checkpoint to ONNX and check onnxruntime matches torch (1e-4)."""
    from dynapose.io.onnx import export_onnx

    summary = export_onnx(checkpoint, onnx_path)
    click.echo(f"wrote {summary['path']} (input {summary['input']}); onnxruntime vs torch: "
               f"max |diff| {summary['max_abs_diff_mm']:.2g} mm, "
               f"relative {summary['max_rel_diff']:.2g}")
