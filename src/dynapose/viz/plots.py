"""Training curves: the report's figures (loss, MPJPE, PCK3D per epoch, train and validation)
from a run's metrics.csv.
"""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from dynapose.errors import DynaPoseError
from dynapose.io.atomic import atomic_path


def _to_float(value: Any) -> float:
    if value is None:
        return math.nan
    if isinstance(value, str):
        value = value.strip()
        if not value:
            return math.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _read_metric_rows(
    source: str | os.PathLike[str] | Iterable[Mapping[str, Any]],
) -> tuple[list[dict[str, Any]], Path | None]:
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        try:
            with open(path, newline="", encoding="utf-8") as f:
                rows = list(csv.DictReader(f))
        except FileNotFoundError:
            raise DynaPoseError("metrics file not found", path) from None
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            raise DynaPoseError(f"cannot read metrics CSV: {exc}", path) from None
        return rows, path
    return [dict(r) for r in source], None


def plot_training_curves(
    metrics: str | os.PathLike[str] | Iterable[Mapping[str, Any]],
    out_dir: str | os.PathLike[str],
    dpi: int = 100,
) -> list[Path]:
    """Draw the report's figures from `metrics.csv` (a path) or its rows (dicts) as PNGs.

    Columns: ``epoch`` and ``train_``/``val_`` + ``loss``, ``mpjpe``, ``mpjpe_p1``, ``p_mpjpe``,
    ``pck3d`` (mm; PCK3D a share in [0, 1]); empty values (no validation set) are skipped.
    Writes, atomically, into `out_dir`: ``loss.png``, ``mpjpe.png``, ``pck3d.png`` (train and
    validation against epoch) and ``mpjpe_protocols.png`` (MPJPE, protocol 1 and P-MPJPE).
    Returns the paths written.
    """
    rows, path = _read_metric_rows(metrics)
    if not rows:
        raise DynaPoseError("no epochs in the metrics", path)
    if "epoch" not in rows[0]:
        raise DynaPoseError("metrics have no 'epoch' column", path)
    epochs = np.array([_to_float(r.get("epoch")) for r in rows])
    if not np.isfinite(epochs).all():
        raise DynaPoseError("metrics have an empty or non-numeric epoch", path)
    order = np.argsort(epochs, kind="stable")
    epochs = epochs[order]

    def column(name: str) -> np.ndarray:
        return np.array([_to_float(r.get(name)) for r in rows])[order]

    out_dir = Path(out_dir)
    figures = [
        ("loss.png", "Loss", "loss (MSE)", [("loss", "")]),
        ("mpjpe.png", "MPJPE", "MPJPE (mm)", [("mpjpe", "")]),
        ("pck3d.png", "PCK3D@150 mm", "PCK3D (share of joints within 150 mm)", [("pck3d", "")]),
        (
            "mpjpe_protocols.png",
            "MPJPE by protocol",
            "error (mm)",
            [("mpjpe", "MPJPE"), ("mpjpe_p1", "protocol 1"), ("p_mpjpe", "P-MPJPE")],
        ),
    ]
    styles = ["-", "--", ":"]
    written = []
    for filename, title, ylabel, series in figures:
        fig = Figure(figsize=(6.4, 4.0), dpi=dpi)
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        drawn = 0
        positive = []
        for i, (key, name) in enumerate(series):
            for split, color, marker in (("train", "tab:blue", "o"), ("val", "tab:orange", "s")):
                values = column(f"{split}_{key}")
                ok = np.isfinite(values)
                if not ok.any():
                    continue
                label = ("train" if split == "train" else "validation") + (
                    f" {name}" if name else ""
                )
                ax.plot(epochs[ok], values[ok], linestyle=styles[i], marker=marker, color=color,
                        label=label, markersize=4)
                drawn += 1
                positive.extend(values[ok])
        if drawn and min(positive) > 0 and max(positive) > 100 * min(positive):
            ax.set_yscale("log")  # e.g. an MSE loss in mm^2 that falls by orders of magnitude
        if drawn:
            ax.legend()
        else:
            ax.text(0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes)
        if series[0][0] == "pck3d":
            ax.set_ylim(0.0, 1.0)
        ax.set_title(title)
        ax.set_xlabel("epoch")
        ax.set_ylabel(ylabel)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(True, alpha=0.3)
        fig.tight_layout()
        dest = out_dir / filename
        _save_figure(fig, dest)
        written.append(dest)
    return written


def _save_figure(fig: Figure, dest: Path) -> None:
    try:
        with atomic_path(dest) as tmp:
            fig.savefig(tmp, format="png")
    except OSError as exc:
        raise DynaPoseError(f"cannot write: {exc.strerror or exc}", dest) from None
