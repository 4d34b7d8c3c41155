"""``export-motion`` for several people: one BVH per person, all in one world frame.

:func:`export_people_motion` reads a folder ``predict --people all`` wrote (``people.json``
and ``person-<n>/``), finds the floor once, from the feet of the person seen in the most frames
(:func:`dynapose.scene.floor.estimate_floor`), and writes each chosen person with
:func:`dynapose.animation.export.export_motion` on that floor with the origin below the
camera: every BVH shares one world frame (Y up, floor at 0), so the people stand where they
stood relative to each other.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from dynapose.animation.export import export_motion, read_prediction
from dynapose.errors import DynaPoseError
from dynapose.scene.floor import estimate_floor


def is_people_folder(path: str | os.PathLike[str]) -> bool:
    """Whether `path` is a folder ``predict --people all`` wrote."""
    return (Path(path) / "people.json").is_file()


def people_numbers(folder: str | os.PathLike[str]) -> list[int]:
    """The people's numbers in a people folder (its ``people.json``)."""
    path = Path(folder) / "people.json"
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        return [int(p["person"]) for p in doc["people"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DynaPoseError(f"cannot read the people ({exc})", path) from None


def bvh_paths(bvh_path: str | os.PathLike[str], numbers: list[int]) -> dict[int, Path]:
    """Where each person's file goes: `bvh_path` for one person, ``<stem>-person-<n><suffix>``
    beside it for several (BVHs, reports and world joints alike)."""
    bvh_path = Path(bvh_path)
    if len(numbers) == 1:
        return {numbers[0]: bvh_path}
    return {n: bvh_path.with_name(f"{bvh_path.stem}-person-{n}{bvh_path.suffix}")
            for n in numbers}


def export_people_motion(folder: str | os.PathLike[str], bvh_path: str | os.PathLike[str],
                         person: int | None = None,
                         report_path: str | os.PathLike[str] | None = None,
                         world_path: str | os.PathLike[str] | None = None,
                         **options: Any) -> list[dict[str, Any]]:
    """Write each person of a people folder (or only `person`) as a BVH in one shared world
    frame (module docstring); returns each person's export report, in order. report_path,
    world_path: also write each person's report and world joints (named as the BVHs are:
    :func:`bvh_paths`). `options` go to :func:`~dynapose.animation.export.export_motion`
    (smoothing, window_s, unit, fps)."""
    folder = Path(folder)
    numbers = people_numbers(folder)
    if person is not None and person not in numbers:
        raise DynaPoseError(f"--person {person}: no such person; the people are "
                            + ", ".join(map(str, numbers)), folder)
    preds = {n: read_prediction(folder / f"person-{n}", options.get("fps")) for n in numbers}
    longest = max(numbers, key=lambda n: int(preds[n].valid.sum()))
    ref = preds[longest]
    floor = estimate_floor(ref.joints, ref.valid, ref.fps, relative=ref.relative)
    chosen = [person] if person is not None else numbers
    reports_to = bvh_paths(report_path, chosen) if report_path is not None else {}
    worlds_to = bvh_paths(world_path, chosen) if world_path is not None else {}
    reports = []
    for number, path in bvh_paths(bvh_path, chosen).items():
        report = export_motion(preds[number], path, origin="camera", floor=floor,
                               report_path=reports_to.get(number),
                               world_path=worlds_to.get(number), **options)
        report["person"] = number
        report["floor_from_person"] = longest
        reports.append(report)
    return reports
