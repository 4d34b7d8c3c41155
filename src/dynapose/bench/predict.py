"""Benchmark of ``predict`` with the image model: the model alone per backend, decode and crop,
and end to end with and without the visual outputs.
"""

from __future__ import annotations

import math
import os
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from dynapose.device import describe, resolve_device
from dynapose.inference.backends import LoadedModel, load_model
from dynapose.inference.crops import iter_crops
from dynapose.inference.image_model import predict_video
from dynapose.inference.windows import DEFAULT_BATCH, DEFAULT_STRIDE
from dynapose.io.checkpoint import read_checkpoint_config, save_checkpoint
from dynapose.io.onnx import model_geometry
from dynapose.io.video import write_test_video
from dynapose.models import build_model


def bench_predict(
    checkpoint: str | os.PathLike[str] | None = None,
    batch: int = DEFAULT_BATCH,
    seconds: float = 3.0,
    video_frames: int = 400,
    video_size: int = 1000,
    backends: Sequence[str] = ("torch", "onnx"),
    stride: int = DEFAULT_STRIDE,
    input_size: int = 224,
    device: str = "auto",
    visuals: bool = True,
) -> dict[str, Any]:
    """Measure frames/s of the model alone and of predict end to end; returns a JSON-ready dict.

    Model alone: repeated calls on `batch` windows of T frames (random uint8), per backend,
    frames/s = batch x T / median call time. End to end: `predict_video` on a generated
    `video_size` x `video_size` H.264 video of `video_frames` frames (decode, crop, model,
    writing joints.{npz,json,csv}; visual outputs are timed separately as "visuals"), with the
    torch backend; frames/s = video frames / wall time. Without `checkpoint`, a seed model
    with random weights at `input_size` is used (speed does not depend on the weights).
    `device`: where the torch backend runs (ONNX Runtime runs on the CPU). `visuals` False
    leaves out the run with the visual outputs (drawn on the CPU whatever the device).
    """

    where = resolve_device(device)
    result: dict[str, Any] = {"batch_windows": batch, "torch_threads": torch.get_num_threads(),
                              **describe(where)}
    with tempfile.TemporaryDirectory(prefix="dynapose-bench-") as tmp_name:
        tmp = Path(tmp_name)
        if checkpoint is None:
            torch.manual_seed(0)
            checkpoint = save_checkpoint(tmp / "ckpt", build_model("seed", input_size=input_size))
            result["checkpoint"] = f"seed, random weights, input {input_size}"
        else:
            result["checkpoint"] = str(checkpoint)
        for backend in backends:
            loaded = load_model(checkpoint, backend,
                                device=str(where) if backend == "torch" else "cpu")
            clips = np.random.default_rng(0).integers(
                0, 256, (batch, loaded.clip_len, loaded.input_size, loaded.input_size, 3),
                dtype=np.uint8,
            )
            loaded.run(clips)  # warm-up
            times: list[float] = []
            deadline = time.perf_counter() + seconds
            while time.perf_counter() < deadline or len(times) < 3:
                t0 = time.perf_counter()
                loaded.run(clips)
                times.append(time.perf_counter() - t0)
            per_call = float(np.median(times))
            result[f"model_{backend}"] = {
                "frames_per_s": batch * loaded.clip_len / per_call,
                "clips_per_s": batch / per_call,
                "calls": len(times),
                "input": list(clips.shape),
            }
            if loaded.encode is not None and loaded.head is not None:
                result[f"model_{backend}_shared_features"] = _bench_shared(
                    loaded, clips, stride, seconds
                )
        video = tmp / "bench.mp4"
        _bench_video(video, video_frames, video_size)
        t0 = time.perf_counter()
        for _ in iter_crops(video, _size(checkpoint), detector="none"):
            pass
        result["decode_crop_only"] = {
            "frames_per_s": video_frames / (time.perf_counter() - t0),
            "includes": "decode, colour conversion, crop+resize to the model's input",
        }
        loaded = load_model(checkpoint, "torch", device=str(where))
        t0 = time.perf_counter()
        predict_video(video, checkpoint, tmp / "out", stride=stride, batch=batch, visuals=(),
                      model=loaded)
        elapsed = time.perf_counter() - t0
        result["end_to_end"] = {
            "frames_per_s": video_frames / elapsed,
            "seconds": elapsed,
            "video": f"{video_size}x{video_size} H.264, {video_frames} frames",
            "stride": stride,
            "includes": "decode, crop+resize, model, joints.npz/json/csv",
        }
        if visuals:
            t0 = time.perf_counter()
            predict_video(video, checkpoint, tmp / "out_vis", stride=stride, batch=batch,
                          model=loaded)
            elapsed = time.perf_counter() - t0
            result["end_to_end_with_visuals"] = {
                "frames_per_s": video_frames / elapsed,
                "seconds": elapsed,
                "includes": "as end_to_end plus overlay.mp4, skeleton3d.mp4, viewer.html",
            }
    result["targets"] = {"model_frames_per_s": 2106, "end_to_end_frames_per_s": 200}
    return result


def _size(checkpoint: str | os.PathLike[str]) -> int:
    return model_geometry(read_checkpoint_config(checkpoint))[1]


def _bench_shared(
    loaded: LoadedModel, clips: np.ndarray, stride: int, seconds: float
) -> dict[str, Any]:
    """Video frames/s of the model as predict runs it: each frame's CNN features once
    (batch x stride frames per call), the temporal head on `batch` windows of them."""
    assert loaded.encode is not None and loaded.head is not None
    batch, clip_len = clips.shape[:2]
    frames = clips.reshape(-1, *clips.shape[2:])[: batch * stride]
    feats = loaded.encode(frames)
    windows = np.ascontiguousarray(
        np.stack([feats[(i * stride) % len(feats)][None].repeat(clip_len, 0) for i in range(batch)])
    )
    times: list[float] = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline or len(times) < 3:
        t0 = time.perf_counter()
        loaded.encode(frames)
        loaded.head(windows)
        times.append(time.perf_counter() - t0)
    return {
        "frames_per_s": len(frames) / float(np.median(times)),
        "stride": stride,
        "calls": len(times),
        "note": "video frames/s: CNN once per frame, LSTM+dense head per window",
    }


def _bench_video(path: Path, frames: int, size: int) -> None:
    """A size x size H.264 video with a moving figure-like pattern over a gradient."""

    yy, xx = np.mgrid[0:size, 0:size]
    base = np.stack([xx * 255 // size, yy * 255 // size, np.full_like(xx, 90)], -1).astype(np.uint8)

    def gen() -> Iterator[np.ndarray]:
        for i in range(frames):
            img = base.copy()
            cx = size // 2 + int(size * 0.2 * math.sin(i / 15))
            img[size // 5 : 4 * size // 5, cx - size // 12 : cx + size // 12] = (220, 180, 150)
            yield img

    write_test_video(path, gen(), fps=50.0)
