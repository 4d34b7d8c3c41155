"""``predict`` (video in, joints out) and ``export`` (ONNX).

Imports of the API sit inside the commands: ``dynapose --help`` and every command start without
loading torch and the rest of the stack until a command needs it.
"""

from __future__ import annotations

from pathlib import Path

import click

from dynapose.cli.options import debug_option, device_option
from dynapose.errors import DynaPoseError
from dynapose.io.atomic import check_output

_DEFAULT_LIFTER = "<default>"


@click.command()
@click.argument("video", type=click.Path(path_type=str))
@click.option("--checkpoint", default=None,
              help="Run or checkpoint folder of either model family; its model decides which "
                   "(default: the lifter shipped with DynaPose).")
@click.option("--lifter", is_flag=False, flag_value=_DEFAULT_LIFTER, default=None,
              help="The same as --checkpoint for a lifter; --lifter alone: the shipped lifter.")
@click.option("--keypoints", default=None,
              help="Lifter: 2D keypoints file (.npy/.npz Human3.6M order, COCO-17 .json, "
                   "VideoPose3D 2D .npz) instead of MediaPipe.")
@click.option("--sequence", default=None,
              help="Lifter, with --keypoints: the VideoPose3D sequence, subject/action/camera or "
                   "the custom video's name.")
@click.option("--rigid-bones/--free-bones", "rigid", default=None,
              help="Lifter: one length per bone for the whole video (median of the lifter's; "
                   "default), or the lifter's own lengths frame by frame.")
@click.option("--people", default=None,
              help="Lifter on MediaPipe: all (default: every person, one folder each), largest, "
                   "or a person's number.")
@click.option("--out", "-o", default=None,
              help="Output folder to create (default: <video name>-pose beside the video).")
@click.option("--box", default=None,
              help="Image model: crop x,y,w,h in pixels (default: MediaPipe if installed, else "
                   "the centred square of the frame).")
@click.option("--detector", type=click.Choice(["auto", "none", "mediapipe"]), default=None,
              help="Image model: person detector for the crop when no --box is given (auto).")
@click.option("--backend", type=click.Choice(["torch", "onnx"]), default=None,
              help="Image model: torch (default) or onnx.")
@click.option("--onnx", "onnx_path", default=None,
              help="Image model: ONNX file from `dynapose export` (implies --backend onnx; "
                   "without it, --backend onnx exports on the fly).")
@click.option("--stride", type=click.IntRange(min=1), default=None,
              help="Image model: frames between 8-frame windows (4).")
@click.option("--batch", type=click.IntRange(min=1), default=None,
              help="Image model: windows per model call (16).")
@click.option("--no-visuals", is_flag=True,
              help="Only joints.{npz,json,csv}: no overlay, 3D animation or viewer.")
@click.option("--overwrite", is_flag=True, help="Replace an existing output folder.")
@click.option("--quiet", is_flag=True,
              help="No progress bars (they show only on a terminal anyway).")
@device_option()
@debug_option()
def predict(video: str, checkpoint: str | None, lifter: str | None, keypoints: str | None,
            sequence: str | None, rigid: bool | None, people: str | None, out: str | None,
            box: str | None,
            detector: str | None, backend: str | None, onnx_path: str | None,
            stride: int | None, batch: int | None, no_visuals: bool, overwrite: bool,
            quiet: bool, device: str) -> None:
    """3D joints for every frame of VIDEO: NPZ/JSON/CSV, overlay, 3D animation, HTML viewer.

    The checkpoint's model decides how: a lifter lifts 2D keypoints (MediaPipe, or --keypoints
    FILE); an image model sees crops of the frames. Without a checkpoint, the shipped lifter.
    MediaPipe's own log lines are held back unless --debug.
    """
    from dynapose.inference.crops import parse_box
    from dynapose.inference.predict import model_family
    from dynapose.inference.predict import predict as run_predict
    from dynapose.inference.writer import VISUALS

    if checkpoint is not None and lifter is not None:
        raise DynaPoseError("give --checkpoint or --lifter, not both")
    if lifter is not None and lifter != _DEFAULT_LIFTER:
        if model_family(lifter) != "lifter":
            raise DynaPoseError("--lifter takes a lifter checkpoint: pass an image model with "
                                "--checkpoint", lifter)
        checkpoint = lifter
    path = Path(video)
    target = Path(out) if out else path.with_name(f"{path.stem}-pose")
    check_output(target, folder=True, overwrite=overwrite)
    image = (box, detector, backend, onnx_path, stride, batch)
    if _people_path(checkpoint, keypoints, sequence, image, people):
        from dynapose.cli.people import predict_people_cmd

        predict_people_cmd(video, people or "all", target, checkpoint, rigid, no_visuals,
                           overwrite, device, quiet)
        return
    pred = run_predict(video, checkpoint, target, keypoints=keypoints, sequence=sequence,
                       rigid=rigid, box=parse_box(box) if box else None, detector=detector,
                       backend=backend, onnx_path=onnx_path, stride=stride, batch=batch,
                       visuals=() if no_visuals else VISUALS, overwrite=overwrite, device=device,
                       progress=False if quiet else None)
    if pred.model["name"] == "lifter":
        from dynapose.inference.writer import notes

        gaps = int((~pred.valid()).sum())
        click.echo(f"{pred.num_frames} frames at {pred.fps:.4g} fps, lifter: "
                   f"{pred.model['checkpoint']}, frames without a person: {gaps}")
        for line in notes(pred):
            click.echo(line)
    else:
        click.echo(f"{pred.num_frames} frames at {pred.fps:.4g} fps, crop: {pred.source}, "
                   f"backend: {pred.model.get('backend', 'torch')}")
    for kind, file in pred.files.items():
        click.echo(f"{kind:>10}: {file}")


def _people_path(checkpoint: str | None, keypoints: str | None, sequence: str | None,
                 image: tuple[object, ...], people: str | None) -> bool:
    """Whether `predict` looks for every person (dynapose.people): the lifter on MediaPipe.
    Elsewhere --people is refused; without MediaPipe the single-person path says so."""
    from dynapose.inference.mediapipe import mediapipe_available
    from dynapose.inference.predict import model_family

    mediapipe = (model_family(checkpoint) == "lifter" and keypoints is None and sequence is None
                 and all(v is None for v in image))
    if people is not None and not mediapipe:
        raise DynaPoseError("--people applies to the lifter on MediaPipe's keypoints, not to "
                            "--keypoints, --sequence or an image model")
    return mediapipe and (people is not None or mediapipe_available())


@click.command()
@click.option("--checkpoint", required=True, help="Run folder or checkpoint folder.")
@click.option("--onnx", "onnx_path", required=True, help="ONNX file to write.")
@click.option("--overwrite", is_flag=True, help="Replace an existing ONNX file.")
def export(checkpoint: str, onnx_path: str, overwrite: bool) -> None:
    """Export a checkpoint to ONNX and check onnxruntime matches torch (1e-4)."""
    check_output(onnx_path, folder=False, overwrite=overwrite)
    from dynapose.io.onnx import export_onnx

    summary = export_onnx(checkpoint, onnx_path)
    click.echo(f"wrote {summary['path']} (input {summary['input']}); onnxruntime vs torch: "
               f"max |diff| {summary['max_abs_diff_mm']:.2g} mm, "
               f"relative {summary['max_rel_diff']:.2g}")
