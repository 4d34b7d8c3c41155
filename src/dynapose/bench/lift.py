"""Benchmarks of the lifter: training samples/s at a given size and precision, inference
frames/s, and keypoints-to-joints on a real video.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch

from dynapose.config import load_lift_config
from dynapose.data.lift_motion import synthetic_motion
from dynapose.device import (
    check_precision,
    describe,
    make_deterministic,
    out_of_memory,
    resolve_device,
    resolve_precision,
    synchronize,
)
from dynapose.inference.lifting import load_lifter
from dynapose.models import build_model
from dynapose.models.lifter import TemporalLifter
from dynapose.skeleton import NUM_JOINTS
from dynapose.training.lift import make_optimizer, train_step
from dynapose.training.lift_batch import (
    camera_tensors,
    make_batch,
    motion_tensor,
    sample_windows,
)


def bench_lift(checkpoint: str | None = None, receptive_field: int = 243, channels: int = 256,
               batch: int = 1024, frames: int = 2000, seconds: float = 3.0,
               threads: int | None = None, precision: str = "auto",
               video: str | os.PathLike[str] | None = None, device: str = "auto",
               compile: bool = False, deterministic: bool = True) -> dict[str, Any]:
    """Measured speed of a lifter (default: random weights of the given size).

    * ``train``: samples/s of a full training step (random windows cut from synthetic motion,
      projected on the fly, forward, MPJPE, backward, AMSGrad Adam: the lift-h36m preset's
      step, :func:`dynapose.training.lift.train_step`, at this size and `precision`) at `batch`;
    * ``infer_batched``: frames/s lifting 4 sequences of `frames` frames at once (dilated);
    * ``infer_causal_stream``: frames/s one frame at a time with a causal model of the same size
      (each new frame: one strided pass over the last R frames, batch 1);
    * with `video`: ``mediapipe_2d`` and ``end_to_end`` (:func:`bench_lift_video`).
    Each figure is the median over repeats within `seconds`.

    On `device`, as ``dynapose train-lift`` runs there: batches made on the device, the
    BatchNorm momentum changed at every step, deterministic kernels on CUDA (`deterministic`
    False measures what they cost); `compile`: the training step's model through
    ``torch.compile`` (its compilation is left out: three warm-up steps).
    """

    if threads:
        torch.set_num_threads(threads)
    where = resolve_device(device)
    check_precision(precision, where)
    precision = resolve_precision(precision, where)
    if deterministic:
        make_deterministic(where)
    if checkpoint is not None:
        model = load_lifter(checkpoint)
        receptive_field = model.receptive_field
        channels = model.config["channels"]
    config = load_lift_config("lift-h36m", overrides={
        "receptive_field": receptive_field, "channels": channels, "batch_size": batch,
        "precision": precision})
    if checkpoint is None:
        model = TemporalLifter(**config.model_config())
    causal = build_model("lifter", **{**model.config, "causal": True})
    model.to(where)
    causal.to(where)

    def timed(fn: Any, units: int, warmup: int = 1) -> dict[str, float]:
        for _ in range(warmup):
            fn()
        synchronize(where)
        times: list[float] = []
        deadline = time.perf_counter() + seconds
        while not times or time.perf_counter() < deadline:
            t0 = time.perf_counter()
            fn()
            synchronize(where)
            times.append(time.perf_counter() - t0)
        median = float(np.median(times))
        return {"per_s": units / median, "ms": 1000 * median, "repeats": len(times)}

    motion = synthetic_motion(8, 400)
    cams = camera_tensors(motion.cameras, where)
    world = motion_tensor(motion, where)
    rng = np.random.default_rng(0)
    optimizer = make_optimizer(model, config)
    net = cast(torch.nn.Module, torch.compile(model)) if compile else model
    steps = [0]

    def step() -> None:
        frame, seq, cam = sample_windows(motion, batch, rng)
        inputs, target = make_batch(motion, cams, frame, seq, cam, config, rng, world=world)
        # as training does at every step: a new momentum (a compiled model must not recompile)
        model.set_bn_momentum(0.1 * 0.999 ** steps[0])
        steps[0] += 1
        train_step(net, optimizer, inputs, target, precision)

    result: dict[str, Any] = {"receptive_field": receptive_field, "channels": channels,
                              "frame_stride": config.frame_stride,
                              "params": sum(p.numel() for p in model.parameters()),
                              "threads": torch.get_num_threads(), "batch": batch,
                              "precision": precision, "compile": compile,
                              "deterministic": deterministic, **describe(where)}
    with out_of_memory(where, "the lifter benchmark", batch, hint="--batch"):
        result["train"] = timed(step, batch, warmup=3 if compile else 1)
        if compile:  # one graph: the momentum changing at every step recompiled nothing
            from torch._dynamo.utils import counters  # private to torch: only when compiling

            result["compiled_graphs"] = int(counters["stats"]["unique_graphs"])
        model.eval()
        causal.eval()
        seqs = (torch.randn(4, frames, NUM_JOINTS, 2) * 0.3).to(where)
        with torch.no_grad():
            result["infer_batched"] = timed(lambda: model.forward_sequence(seqs), 4 * frames)
            window = (torch.randn(1, model.receptive_field, NUM_JOINTS, 2) * 0.3).to(where)
            result["infer_causal_stream"] = timed(lambda: causal(window), 1)
    for key in ("train", "infer_batched", "infer_causal_stream"):
        unit = "samples_per_s" if key == "train" else "frames_per_s"
        result[key] = {unit: round(result[key]["per_s"], 1), "ms": round(result[key]["ms"], 3),
                       "repeats": result[key]["repeats"]}
    if video is not None:
        result.update(bench_lift_video(video, model))
    return result


def bench_lift_video(video: str | os.PathLike[str],
                     lifter: str | os.PathLike[str] | TemporalLifter | None = None
                     ) -> dict[str, Any]:
    """End-to-end frames/s of ``predict`` (the lifter; None: the shipped one) on a real `video`,
    each as a ratio to MediaPipe's own rate in the same run: MediaPipe's 2D keypoints alone
    (decode and BlazePose; measured first and again last, the ratios against their mean, so a
    machine whose load changes shows in the two), the whole command without visual outputs
    (MediaPipe, lifting, root solve, joints.{npz,json,csv}), the same with every visual output,
    and the lifting alone (the keypoints given). Needs MediaPipe."""
    # video decoding (PyAV) and MediaPipe only for this measurement, not for the training one
    from dynapose.inference.lifted import predict_video_lifted  # (see above)
    from dynapose.inference.mediapipe import detect_keypoints_mediapipe  # (see above)

    def mediapipe() -> tuple[Any, float]:
        t0 = time.perf_counter()
        found = detect_keypoints_mediapipe(video)
        return found, time.perf_counter() - t0

    keypoints, detect_s = mediapipe()
    frames = len(keypoints.found)
    with tempfile.TemporaryDirectory(prefix="dynapose-bench-") as tmp:
        t0 = time.perf_counter()
        predict_video_lifted(video, lifter, out_dir=Path(tmp) / "out", visuals=())
        total_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        predict_video_lifted(video, lifter, keypoints, out_dir=Path(tmp) / "lifted", visuals=())
        lifted_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        predict_video_lifted(video, lifter, out_dir=Path(tmp) / "visuals")
        visuals_s = time.perf_counter() - t0
    _, detect_again_s = mediapipe()
    rate = frames / (0.5 * (detect_s + detect_again_s))
    return {
        "mediapipe_2d": {"frames_per_s": round(frames / detect_s, 1), "frames": frames,
                         "found": int(keypoints.found.sum()),
                         "again_frames_per_s": round(frames / detect_again_s, 1)},
        "end_to_end": {"frames_per_s": round(frames / total_s, 1), "seconds": round(total_s, 2),
                       "ratio_to_mediapipe": round(frames / total_s / rate, 2),
                       "video": str(video),
                       "includes": "decode, MediaPipe 2D, lifting (flip TTA), root solve, "
                                   "joints.npz/json/csv"},
        "end_to_end_with_visuals": {
            "frames_per_s": round(frames / visuals_s, 1), "seconds": round(visuals_s, 2),
            "ratio_to_mediapipe": round(frames / visuals_s / rate, 2),
            "includes": "as end_to_end, plus side_by_side.mp4, overlay.mp4, skeleton3d.mp4 and "
                        "viewer.html"},
        "keypoints_to_joints": {
            "frames_per_s": round(frames / lifted_s, 1), "seconds": round(lifted_s, 2),
            "includes": "the keypoints given: frame times (decode, no pixels), lifting (flip "
                        "TTA), rigid bones, root solve, joints.npz/json/csv"},
        "targets": {"end_to_end_ratio": 0.9, "end_to_end_with_visuals_ratio": 0.6},
        "peak_rss_mb": _peak_rss_mb(),
    }


def _peak_rss_mb() -> float | None:
    """This process's peak resident memory so far (MB), where the OS says it."""
    try:
        import resource  # Unix only
    except ImportError:
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS
    return round(peak / (2**20 if sys.platform == "darwin" else 2**10), 1)
