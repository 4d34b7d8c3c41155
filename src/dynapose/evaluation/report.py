"""One evaluation report for both model families: the same envelope, one key per metric.

Every report is a JSON object with ``format`` ("dynapose-eval"), ``version``, ``family``
("image" or "lifter"), ``checkpoint`` and ``data``, and its figures under ``overall`` and per
group (``per_action``, ``per_subject``, ``per_joint``). A metric has one key everywhere, the name
of its function in :mod:`dynapose.metrics`: ``mpjpe`` (no alignment), ``mpjpe_p1`` (protocol 1,
pelvis-aligned), ``p_mpjpe`` (protocol 2, Procrustes), ``n_mpjpe``, ``mpjve``, ``pck3d``, ``auc``;
all in mm except ``pck3d`` and ``auc`` (fractions).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from dynapose.io.atomic import atomic_write_text

FORMAT = "dynapose-eval"
VERSION = 1
#: Metrics of an image model, per clip then averaged (clips have equal frames and joints).
CLIP_METRICS = ("mpjpe", "mpjpe_p1", "p_mpjpe", "n_mpjpe", "mpjve", "pck3d", "auc")
#: Metrics of the lifter protocol, per action then averaged over actions.
LIFTER_METRICS = ("mpjpe_p1", "p_mpjpe", "mpjve")


def report_header(family: str) -> dict[str, Any]:
    """The envelope's first keys."""
    return {"format": FORMAT, "version": VERSION, "family": family}


def write_report(report: dict[str, Any], path: str | os.PathLike[str]) -> Path:
    """Write `report` as JSON, atomically (a failure leaves any earlier file as it was). The
    commands check the path first (:func:`dynapose.io.atomic.check_output`)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps(report, indent=2) + "\n")
    return path


def format_report(report: dict[str, Any]) -> str:
    """A plain-text table of a report of either family."""
    return _format_lifter(report) if report.get("family") == "lifter" else _format_image(report)


def _format_image(report: dict[str, Any]) -> str:
    """The image model's table: every metric overall, per subject and action, per joint."""
    lines = [
        f"{report['clips']} clips ({report['frames']} frames) of split {report['split']!r} "
        f"from {report['data']}",
        "joints relative to the pelvis (the model's targets)"
        if report.get("targets") == "root" else "joints in the camera frame",
        "",
        f"{'':14}" + "".join(f"{m:>10}" for m in CLIP_METRICS),
    ]

    def row(label: str, values: dict[str, float]) -> str:
        shown = [values[m] * (100.0 if m in ("pck3d", "auc") else 1.0) for m in CLIP_METRICS]
        return f"{label[:14]:14}" + "".join(f"{v:10.2f}" for v in shown)

    lines.append(row("model", report["overall"]))
    if report.get("baseline"):
        lines.append(row("mean pose", report["baseline"]))
    lines.append("(mm; pck3d and auc in %)")
    for group in ("per_subject", "per_action"):
        if group in report:
            lines += ["", group.replace("_", " ") + ":"]
            lines += [row(k, v) for k, v in report[group].items()]
    lines += ["", "per joint (MPJPE / protocol 1, mm):"]
    for name, v in report["per_joint"].items():
        lines.append(f"  {name:15}{v['mpjpe']:9.1f}{v['mpjpe_p1']:9.1f}")
    return "\n".join(lines)


def _format_lifter(report: dict[str, Any]) -> str:
    """A table: one row per action, then the mean over actions; the network's errors, then
    (where the report has them) those with rigid bones and fitted to the 2D (lift_fit)."""
    extra = [k for k in ("rigid", "fitted") if "overall" in report.get(k, {})]
    names = {"rigid": "rigid", "fitted": "fit"}
    head = f"{'action':<14}{'frames':>8}{'P1 mm':>9}{'P2 mm':>9}{'MPJVE':>9}"
    head += "".join(f"{'P1 ' + names[k]:>10}{'P2 ' + names[k]:>10}" for k in extra)
    rows = [(a, v, [report[k]["per_action"][a] for k in extra])
            for a, v in report["per_action"].items()]
    rows.append(("average", {**report["overall"], "frames": report["frames"]},
                 [report[k]["overall"] for k in extra]))
    lines = [f"2D: {report['two_d']}"] if "two_d" in report else []
    left_out = report.get("detections_left_out") or {}
    if left_out.get("count"):
        shown = left_out["sequence_cameras"][:3]
        more = left_out["count"] - len(shown)
        lines.append(f"left out, no detections: {left_out['count']} sequence-camera(s): "
                     + ", ".join(shown) + (f" and {more} more" if more > 0 else ""))
    lines.append(head)
    for action, v, more in rows:
        lines.append(f"{action:<14}{v['frames']:>8}"
                     f"{v['mpjpe_p1']:>9.1f}{v['p_mpjpe']:>9.1f}{v['mpjve']:>9.2f}"
                     + "".join(f"{m['mpjpe_p1']:>10.1f}{m['p_mpjpe']:>10.1f}" for m in more))
    return "\n".join(lines)
