"""``dynapose export-motion``: a prediction as animation (BVH), in a world frame found from the
feet.

Imports of the API sit inside the command: ``dynapose --help`` starts without loading the stack.
"""

from __future__ import annotations

import click

from dynapose.errors import DynaPoseError


@click.command("export-motion")
@click.argument("prediction", type=click.Path(path_type=str))
@click.option("--bvh", "bvh_path", required=True, help="BVH file to write.")
@click.option("--smooth", "smoothing", type=click.Choice(["none", "offline", "causal"]),
              default="none", show_default=True,
              help="Smoothing without lag: offline (centred window) or causal (past frames).")
@click.option("--window", "window_s", type=click.FloatRange(min=0.0, min_open=True),
              default=None, help="Smoothing window, seconds (default 0.3).")
@click.option("--unit", type=click.Choice(["cm", "mm", "m"]), default="cm", show_default=True,
              help="Length unit of the BVH.")
@click.option("--origin", type=click.Choice(["start", "camera"]), default="start",
              show_default=True, help="World origin: the floor below the first pelvis, or "
                                      "below the camera.")
@click.option("--fps", type=click.FloatRange(min=0.0, min_open=True), default=None,
              help="Frame rate (default: the prediction's).")
@click.option("--report", "report_path", default=None, help="Also write the report as JSON.")
@click.option("--world", "world_path", default=None,
              help="Also write world joints, contacts and the camera-to-world transform (.npz).")
@click.option("--person", type=click.IntRange(min=1), default=None,
              help="A folder of `predict --people all`: only this person (default: one BVH "
                   "per person, <bvh stem>-person-<n>.bvh, all in one world frame, origin "
                   "below the camera; --report and --world named alike).")
@click.option("--overwrite", is_flag=True, help="Replace existing output files.")
def export_motion_cmd(prediction: str, bvh_path: str, smoothing: str, window_s: float | None,
                      unit: str, origin: str, fps: float | None, report_path: str | None,
                      world_path: str | None, person: int | None, overwrite: bool) -> None:
    """Write a prediction (folder, joints.npz/json, or .npy) as a BVH animation: world frame
    from the feet (Y up, floor at 0), rigid bones, joint rotations, root trajectory."""
    from dynapose.animation import export_motion
    from dynapose.io.atomic import check_output

    outputs = [p for p in (bvh_path, report_path, world_path) if p is not None]
    if len(set(outputs)) < len(outputs):
        raise DynaPoseError("--bvh, --report and --world must be different files")
    for path in outputs:
        check_output(path, folder=False, overwrite=overwrite)
    from dynapose.people.motion import is_people_folder

    if is_people_folder(prediction):
        from dynapose.cli.people import export_people_cmd

        export_people_cmd(prediction, bvh_path, person, overwrite, report_path, world_path,
                          smoothing=smoothing, window_s=window_s, unit=unit, fps=fps)
        return
    if person is not None:
        raise DynaPoseError("--person takes a folder `predict --people all` wrote "
                            "(with people.json)", prediction)
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
