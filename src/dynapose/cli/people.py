"""``predict --people``: the printing around :func:`dynapose.people.predict.predict_people`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click


def predict_people_cmd(video: str, people: str, target: os.PathLike[str], lifter: str | None,
                       rigid: bool | None, no_visuals: bool, overwrite: bool,
                       device: str, quiet: bool = False) -> None:
    """Find, follow and lift the people `people` names; print what was written. One person
    prints what ``dynapose predict`` prints."""
    from dynapose.inference.writer import VISUALS, notes
    from dynapose.people.predict import predict_people

    preds = predict_people(video, people, target, lifter=lifter,
                           rigid=True if rigid is None else rigid,
                           visuals=() if no_visuals else VISUALS, overwrite=overwrite,
                           device=device, progress=False if quiet else None)
    tracking = preds.found.tracking
    if len(preds) == 1:
        pred = preds[0]
        gaps = int((~pred.valid()).sum())
        click.echo(f"{pred.num_frames} frames at {pred.fps:.4g} fps, lifter: "
                   f"{pred.model['checkpoint']}, frames without a person: {gaps}")
    else:
        pred = preds[0]
        click.echo(f"{pred.num_frames} frames at {pred.fps:.4g} fps, lifter: "
                   f"{pred.model['checkpoint']}, {len(preds)} people")
    if len(tracking.tracks) > 1:
        click.echo("people: " + ", ".join(
            f"{t.id} (frames {t.first}-{t.last}, {t.num_found} found)" for t in tracking.tracks))
    if tracking.short:
        click.echo(f"left out: {len(tracking.short)} never seen in {tracking.min_frames} frames in "
                   "a row (" + ", ".join(f"frames {t.first}-{t.last}"
                                         for t in tracking.short) + ")")
    if len(preds) > 1 and preds.found.damage:
        click.echo(f"video: {preds.found.damage[0]}: kept the {len(preds.found.times)} "
                   "frame(s) before")
    everyone = set.intersection(*(set(notes(p)) for p in preds))  # (the camera's, say)
    for line in notes(preds[0]):
        if line in everyone:
            click.echo(line)
    for number, pred in zip(preds.numbers, preds, strict=True):
        for line in notes(pred):
            if line not in everyone:
                click.echo(f"person {number}: {line}")
    if len(preds) == 1:
        for kind, file in preds[0].files.items():
            click.echo(f"{kind:>10}: {file}")
        return
    folder = Path(target)
    for name in ("viewer.html", "overlay.mp4", "scene.mp4", "people.json", "people.npz"):
        if (folder / name).is_file():
            click.echo(f"{name:>11}: {folder / name}")
    for number, pred in zip(preds.numbers, preds, strict=True):
        names = ", ".join(p.name for p in pred.files.values())
        click.echo(f"{'person ' + str(number):>11}: {folder / f'person-{number}'} ({names})")

def export_people_cmd(folder: str, bvh_path: str, person: int | None, overwrite: bool,
                      report_path: str | None, world_path: str | None, **options: Any) -> None:
    """One BVH per person of a people folder (or `person`'s), in one world frame."""
    from dynapose.io.atomic import check_output
    from dynapose.people.motion import bvh_paths, export_people_motion, people_numbers

    numbers = [person] if person is not None else people_numbers(folder)
    for given in (bvh_path, report_path, world_path):
        if given is not None:
            for path in bvh_paths(given, numbers).values():
                check_output(path, folder=False, overwrite=overwrite)
    for rep in export_people_motion(folder, bvh_path, person, report_path, world_path,
                                    **options):
        cam = rep["world"]["camera"]
        click.echo(f"person {rep['person']}: wrote {rep['bvh']}: {rep['frames']} frames at "
                   f"{rep['fps']:g} fps, {rep['unit']}, {rep['frames_without_person']} without "
                   "the person (interpolated)")
    click.echo(f"one world frame for everyone: the floor under person "
               f"{rep['floor_from_person']}'s feet, the camera {cam['height_mm']:.0f} mm above "
               f"it, origin below the camera")
