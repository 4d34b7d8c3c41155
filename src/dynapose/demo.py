"""`dynapose demo`: the whole system on built-in synthetic data, from nothing to results.

Synthesise a dataset of rendered people (held-out subjects for testing), train the report's
``seed`` model on it, evaluate it against the mean-pose baseline, and write the figures, a
checkpoint, a side-by-side video of held-out clips and a short summary.

The full demo trains the seed model with the ``seed-synth`` recipe (He init, pelvis-relative
targets, batch 16, Adam 1e-3; the preset file says why): with the report's own recipe (``--preset
seed``) the model collapses to the mean pose on these clips.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from dynapose.config import load_config
from dynapose.data.store import ClipStore
from dynapose.data.synthetic.synth import synthesize
from dynapose.errors import DynaPoseError
from dynapose.evaluation.clips import evaluate
from dynapose.evaluation.report import format_report, write_report
from dynapose.io.atomic import atomic_write_text
from dynapose.io.checkpoint import load_checkpoint
from dynapose.skeleton import in_target_frame
from dynapose.training.image import train
from dynapose.viz.video import comparison_video


@dataclass(frozen=True)
class DemoPlan:
    """How big a demo is: clips to synthesise, the training preset and its overrides."""

    clips: int
    preset: str
    overrides: dict[str, Any]
    video_clips: int


FULL = DemoPlan(clips=2400, preset="seed-synth", overrides={}, video_clips=4)
QUICK = DemoPlan(clips=48, preset="quick", overrides={"epochs": 1}, video_clips=1)


def run_demo(
    out: str | os.PathLike[str] = "dynapose-demo",
    quick: bool = False,
    seed: int = 0,
    workers: int | None = None,
    overwrite: bool = False,
    progress: bool = True,
    echo: Any = print,
    preset: str | None = None,
    device: str = "auto",
) -> dict[str, Any]:
    """Run the demo into the folder `out` and return its summary (also in summary.json).

    `preset` replaces the plan's training preset (e.g. "seed": the report's exact recipe).
    `device`: where training and evaluation run (auto, cpu, cuda, cuda:N)."""

    plan = QUICK if quick else FULL
    if preset is not None:
        plan = DemoPlan(plan.clips, preset, plan.overrides, plan.video_clips)
    out = Path(out)
    if out.exists() and any(out.iterdir()) and not overwrite:
        raise DynaPoseError("demo folder is not empty (pass --overwrite or another --out)", out)
    out.mkdir(parents=True, exist_ok=True)
    workers = workers or os.cpu_count() or 1
    started = time.perf_counter()
    timings: dict[str, float] = {}

    echo(f"[1/4] synthesising {plan.clips} clips of rendered people (224x224, 8 frames) ...")
    t = time.perf_counter()
    data = synthesize(out / "data", plan.clips, size=224, seed=seed, workers=workers,
                      overwrite=True, progress=progress)
    timings["synthesise_s"] = time.perf_counter() - t
    store = ClipStore(data)
    counts = {s: len(store.indices(s)) for s in ("train", "val", "test")}
    echo(f"      {counts['train']} train / {counts['val']} val / {counts['test']} test clips; "
         "test subjects are never seen in training")

    echo(f"[2/4] training the report's model (preset {plan.preset!r}) ...")
    t = time.perf_counter()
    config = load_config(plan.preset, overrides={**plan.overrides, "seed": seed,
                                                 "device": device})
    run = out / "run"
    if run.exists():

        shutil.rmtree(run)
    result = train(data, run, config, progress=progress)
    timings["train_s"] = time.perf_counter() - t

    echo("[3/4] evaluating on held-out subjects ...")
    t = time.perf_counter()
    report = evaluate(run, data, split="test", device=device)
    write_report(report, run / "eval-test.json")
    echo(format_report(report))
    timings["evaluate_s"] = time.perf_counter() - t

    echo("[4/4] rendering held-out predictions next to the truth ...")
    t = time.perf_counter()
    video = _heldout_video(run, store, out / "heldout.gif", plan.video_clips)
    timings["video_s"] = time.perf_counter() - t
    timings["total_s"] = time.perf_counter() - started

    overall, baseline = report["overall"], report["baseline"]
    summary = {
        "data": str(data),
        "clips": counts,
        "preset": plan.preset,
        "targets": report["targets"],
        "epochs": config.epochs,
        "run": str(run),
        "checkpoint": str(run / "checkpoint"),
        "metrics_csv": str(run / "metrics.csv"),
        "figures": [str(run / f) for f in ("loss.png", "mpjpe.png", "pck3d.png")],
        "video": str(video),
        "evaluation": str(run / "eval-test.json"),
        "test_mpjpe_mm": overall["mpjpe"],
        "test_mpjpe_p1_mm": overall["mpjpe_p1"],
        "test_p_mpjpe_mm": overall["p_mpjpe"],
        "test_pck3d": overall["pck3d"],
        "baseline_mpjpe_mm": baseline["mpjpe"],
        "baseline_mpjpe_p1_mm": baseline["mpjpe_p1"],
        "improvement_over_baseline": 1.0 - overall["mpjpe"] / baseline["mpjpe"],
        "improvement_over_baseline_p1": 1.0 - overall["mpjpe_p1"] / baseline["mpjpe_p1"],
        "train_steps": result["steps"],
        "timings": timings,
    }
    atomic_write_text(out / "summary.json", json.dumps(summary, indent=2) + "\n")
    text = _summary_text(summary)
    atomic_write_text(out / "SUMMARY.md", text)
    echo("")
    echo(text)
    return summary


def _heldout_video(run: Path, store: Any, path: Path, clips: int) -> Path:
    """Side-by-side frames and 3D skeletons (prediction vs truth) of a few test clips."""

    model, config = load_checkpoint(run)
    picks = store.indices("test")
    picks = picks[np.linspace(0, len(picks) - 1, num=min(clips, len(picks))).astype(int)]
    frames = np.concatenate([store.read("frames", i) for i in picks])
    truth = in_target_frame(np.concatenate([store.read("joints3d", i) for i in picks]),
                            config.get("info", {}).get("targets", "camera"))
    with torch.no_grad():
        pred = np.concatenate([model(torch.from_numpy(store.read("frames", i))[None])[0].numpy()
                               for i in picks])
    return Path(comparison_video(frames, pred, truth, path, fps=10))


def _versus(improvement: float, metric: str = "MPJPE") -> str:
    """A plain sentence comparing the model's error with the baseline's."""
    if abs(improvement) < 0.005:
        return (f"The model's {metric} equals the baseline's: it has not learned beyond the mean "
                "pose.")
    side = "lower" if improvement > 0 else "higher"
    return f"The model's {metric} is {100 * abs(improvement):.1f}% {side} than the baseline's."


def _frame_note(targets: str) -> str:
    if targets == "root":
        return ("It predicts joints relative to the pelvis, so both rows compare poses, not "
                "where the person stands.")
    return ("It predicts joints in the camera frame; a crop around the person hides how far "
            "away they stand, so most of the plain MPJPE is that distance.")


def _summary_text(s: dict[str, Any]) -> str:
    t = s["timings"]
    return f"""# DynaPose demo

Trained the report's Deep Dynamic Model (`{s['preset']}` preset, {s['epochs']} epochs,
{s['train_steps']} optimizer steps) on {s['clips']['train']} synthetic clips and evaluated it on
{s['clips']['test']} clips of subjects it never saw. {_frame_note(s['targets'])}

| on held-out subjects | model | mean-pose baseline |
| --- | --- | --- |
| MPJPE (mm, no alignment) | {s['test_mpjpe_mm']:.1f} | {s['baseline_mpjpe_mm']:.1f} |
| MPJPE protocol 1 (mm, pelvis-aligned) | {s['test_mpjpe_p1_mm']:.1f} | \
{s['baseline_mpjpe_p1_mm']:.1f} |

{_versus(s['improvement_over_baseline_p1'], "protocol-1 error")}

Where everything is:
- training metrics per epoch: {s['metrics_csv']}
- the report's figures: {', '.join(s['figures'])}
- checkpoint (safetensors + JSON): {s['checkpoint']}
- evaluation (overall, per joint, per subject, per action): {s['evaluation']}
- held-out clips, each frame beside its predicted (orange) and true (blue) 3D skeleton: {s['video']}
- the synthetic clip store: {s['data']}

Time: synthesis {t['synthesise_s']:.0f} s, training {t['train_s']:.0f} s, evaluation \
{t['evaluate_s']:.0f} s, video {t['video_s']:.0f} s; {t['total_s']:.0f} s in all.

Next: `dynapose evaluate --checkpoint {s['run']} --data {s['data']}`; see the README for every
command.
"""
