"""Commands that make data: ``synth``, ``import-arrays``, ``import-keras``, ``prepare h36m``.

Imports of the API sit inside the commands: ``dynapose --help`` and every command start without
loading torch and the rest of the stack until a command needs it.
"""

from __future__ import annotations

from typing import Any

import click

from dynapose.cli.options import SEED, count, csv_values, number
from dynapose.io.atomic import check_output


@click.command("import-arrays")
@click.argument("x_npy", type=click.Path(path_type=str))
@click.argument("y_npy", type=click.Path(path_type=str))
@click.option("--out", "-o", required=True, help="Clip store folder to create.")
@click.option("--val-fraction", type=number(0, 1, max_open=True), default=0.0, show_default=True,
              help="Share of clips (seeded random) put in the validation split.")
@click.option("--seed", type=SEED, default=0, show_default=True, help="Seed of the split.")
@click.option("--overwrite", is_flag=True, help="Replace an existing store (only once complete).")
def import_arrays_cmd(x_npy: str, y_npy: str, out: str, val_fraction: float, seed: int,
                      overwrite: bool) -> None:
    """Convert the report's arrays (X: N×8×224×224×3 uint8, Y: N×8×17×3 mm) to a clip store."""
    check_output(out, folder=True, overwrite=overwrite)
    from dynapose.data.arrays import import_arrays
    from dynapose.data.store import ClipStore

    path = import_arrays(x_npy, y_npy, out, val_fraction=val_fraction, seed=seed,
                         overwrite=overwrite)
    store = ClipStore(path)
    click.echo(f"wrote {len(store)} clips ({len(store.indices('train'))} train, "
               f"{len(store.indices('val'))} val) to {path}")


@click.command()
@click.option("--out", "-o", required=True, help="Clip store folder to create.")
@click.option("--clips", required=True, type=count(), help="Number of 8-frame clips.")
@click.option("--size", type=count(), default=224, show_default=True,
              help="Side of the square frames, px.")
@click.option("--motions", multiple=True, type=click.Path(path_type=str),
              help="BVH files to animate (repeat or list after --motions; default: "
                   "procedural motion).")
@click.argument("more_motions", nargs=-1, type=click.Path(path_type=str),
                metavar="[BVH]...")
@click.option("--seed", type=SEED, default=0, show_default=True, help="Everything follows from it.")
@click.option("--workers", type=count(), default=None,
              help="Rendering processes (default: all cores; the output does not depend on it).")
@click.option("--subjects", type=count(), default=None,
              help="Synthetic people (default: one per 32 clips, 5 to 40).")
@click.option("--joint-map", "joint_map", default=None, type=click.Path(path_type=str),
              help="YAML/JSON file naming the BVH rig's joints (human36m_joint: rig_joint), "
                   "for rigs the built-in synonyms do not cover.")
@click.option("--overwrite", is_flag=True, help="Replace an existing store (only once complete).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def synth(out: str, clips: int, size: int, motions: tuple[str, ...],
          more_motions: tuple[str, ...], seed: int, workers: int | None, subjects: int | None,
          joint_map: str | None, overwrite: bool, quiet: bool) -> None:
    """Render synthetic people (procedural or BVH motion) into a clip store with exact 3D labels;
    train/val/test split by subject and motion."""
    check_output(out, folder=True, overwrite=overwrite)
    from dynapose.data.store import ClipStore
    from dynapose.data.synthetic.synth import synthesize

    files = [*motions, *more_motions]
    path = synthesize(out, clips, size=size, motions=files or None, seed=seed, workers=workers,
                      overwrite=overwrite, progress=not quiet, subjects=subjects,
                      joint_map=joint_map)
    store = ClipStore(path)
    counts = ", ".join(f"{len(store.indices(s))} {s}" for s in ("train", "val", "test"))
    click.echo(f"wrote {len(store)} clips ({counts}) of {size}x{size} to {path}")


@click.group()
def prepare() -> None:
    """Turn datasets into clip stores (or pose stores)."""


@prepare.command("h36m")
@click.argument("root", type=click.Path(path_type=str))
@click.option("--out", "-o", required=True, help="Store folder to create.")
@click.option("--subjects", multiple=True,
              help="e.g. S1,S5 (default: all). Splits: train S1,S5-S8; test S9,S11.")
@click.option("--cameras", multiple=True, help="Camera ids, e.g. 54138969 (default: all four).")
@click.option("--stride", type=count(), default=None,
              help="Source frames between clip starts (default: clip length x downsample).")
@click.option("--downsample", type=count(), default=1, show_default=True,
              help="Keep every n-th frame.")
@click.option("--size", type=count(), default=224, show_default=True,
              help="Side of the square crops, px.")
@click.option("--clip-len", type=count(), default=8, show_default=True, help="Frames per clip.")
@click.option("--margin", type=number(0), default=0.2, show_default=True,
              help="Added around the joints' box on each side, as a share of its longer side.")
@click.option("--poses-only", is_flag=True,
              help="Write a pose store (2D + 3D joints, no images); any layout with 3D.")
@click.option("--workers", type=count(), default=1, show_default=True, help="Decoding processes.")
@click.option("--cameras-h5", default=None,
              help="A 3d-pose-baseline cameras.h5 to use instead of the published calibration.")
@click.option("--keypoints", default=None,
              help="With --poses-only: a VideoPose3D 2D keypoint .npz to use as the 2D joints.")
@click.option("--segment-clips", type=count(), default=None, help="Clips per unit of work.")
@click.option("--chunk-clips", type=count(), default=256, show_default=True,
              help="Clips per store chunk.")
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

    check_output(out, folder=True, overwrite=overwrite)
    from dynapose.data.prepare import prepare_h36m

    def show(message: Any, category: Any, filename: str, lineno: int, file: Any = None,
             line: Any = None) -> None:
        click.echo(f"warning: {message}", err=True)

    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.showwarning = show
        path = prepare_h36m(root, out, csv_values(subjects), csv_values(cameras), stride=stride,
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


@click.command("import-keras")
@click.argument("file", type=click.Path(path_type=str))
@click.option("--out", "-o", required=True, help="Checkpoint folder to create.")
@click.option("--input-size", type=count(), default=None,
              help="Frame side in pixels (default: 224 when the weights fit it).")
@click.option("--overwrite", is_flag=True, help="Replace an existing checkpoint folder.")
def import_keras_cmd(file: str, out: str, input_size: int | None, overwrite: bool) -> None:
    """Convert the report's Keras weights (Keras 3 .weights.h5 or Keras 2 .h5) to a checkpoint."""
    check_output(out, folder=True, overwrite=overwrite)
    from dynapose.io.keras import import_keras

    path = import_keras(file, out, input_size=input_size, overwrite=overwrite)
    click.echo(f"wrote seed checkpoint {path}")

