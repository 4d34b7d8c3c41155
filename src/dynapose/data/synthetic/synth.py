"""Synthetic human video with exact 3D ground truth, written as a clip store.

`synthesize` renders 8-frame clips (50 fps, as Human3.6M) of synthetic people — procedural
motion from `dynapose.data.synthetic.motion` or motion-capture files through
`dynapose.data.bvh` — with the renderer of `dynapose.data.synthetic.render`, and writes them with
`ClipStoreWriter` (joints3d in the camera frame, mm; joints2d in crop pixels).

How the work is laid out (so the output is identical for any number of workers): clip ``i``
belongs to *sequence* ``q = i // 4`` and is seen by camera ``i % 4`` of the subject's four-camera
rig. Everything about sequence ``q`` (its split, subject, motion, start frames, rendering
randomness) comes from ``numpy.random.default_rng([seed, 1, q])`` and the inputs alone; worker
processes render whole sequences and the parent writes them in sequence order.

Splits, by subject *and* by motion, so that nothing of a test clip was seen in training:

* Subjects (body shape, look, camera rig) are partitioned into train/val/test (about 70/10/20 %,
  at least one each).
* Procedural motion: each action has `VARIANTS` motion variants (the random draw that sets tempo,
  amplitudes, heading...); each action's variants are partitioned the same way.
* Motion capture: with three files or more, the files are partitioned; with one or two, each
  file is cut in time (first 70 % train, next 10 % val, last 20 % test).
* Sequences take their split from a fixed pattern of ten (7 train, 1 val, 2 test), then draw a
  subject and a motion of that split.

Each clip's square crop is fixed over its 8 frames (see `render_clip`). Metadata columns:
subject, action, camera (``cam0``..``cam3``), start (frame in the 50 fps motion), split, source
(``procedural`` or ``bvh:<file>``), motion (``<action>/v<variant>`` or the file name) and
intrinsics (the crop camera's ``[fx, fy, cx, cy]`` in pixels, no distortion).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import shutil
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from dynapose.data.bvh import load_bvh
from dynapose.data.bvh_rigs import JointMap, read_joint_map
from dynapose.data.store import ClipStoreWriter, partial_path
from dynapose.data.synthetic.motion import ACTIONS, BodyShape, Motion, generate_motion, sample_body
from dynapose.data.synthetic.render import Appearance, camera_rig, render_clip, sample_appearance
from dynapose.errors import DynaPoseError

CLIP_LEN = 8


FPS = 50.0


VIEWS = 4


#: Frames of one procedural sequence (3 s); each of its clips starts somewhere inside it.
SEQ_FRAMES = 150


#: Procedural motion variants per action (partitioned into the splits).
VARIANTS = 10


#: The order in which sequences take their split: 7 train, 1 val, 2 test per ten.
SPLIT_PATTERN = ("train", "test", "val", "train", "train", "test", "train", "train", "train",
                 "train")


MIN_SIZE, MAX_SIZE = 32, 1024


@dataclass(frozen=True)
class SynthSubject:
    """A synthetic person: name, split, body measurements, look and four-camera rig."""

    name: str
    split: str
    body: BodyShape
    appearance: Appearance
    rig: tuple[tuple[float, float, float], ...]


def split_counts(n: int) -> dict[str, int]:
    """How many of `n` (>= 3) items go to each split: ~20 % test, ~10 % val, at least one each."""
    test = max(1, round(0.2 * n))
    val = max(1, round(0.1 * n))
    return {"train": n - test - val, "val": val, "test": test}


def _partition(n: int, rng: np.random.Generator) -> list[str]:
    """Split label of each of `n` (>= 3) items, a seeded random partition by `split_counts`."""
    counts = split_counts(n)
    labels = ["train"] * counts["train"] + ["val"] * counts["val"] + ["test"] * counts["test"]
    out = [""] * n
    for label, k in zip(labels, rng.permutation(n), strict=True):
        out[int(k)] = label
    return out


def default_num_subjects(num_clips: int) -> int:
    """Subjects for a store of `num_clips` clips: one per 32 clips, between 5 and 40."""
    return int(np.clip(num_clips // 32, 5, 40))


def make_subjects(seed: int, num: int) -> list[SynthSubject]:
    """`num` (>= 3) subjects, each drawn from its own seeded generator, split by subject."""
    if num < 3:
        raise DynaPoseError(f"need at least 3 subjects for train/val/test, got {num}")
    splits = _partition(num, np.random.default_rng([seed, 3]))
    subjects = []
    for k in range(num):
        rng = np.random.default_rng([seed, 0, k])
        subjects.append(SynthSubject(
            name=f"synth-{k:02d}", split=splits[k], body=sample_body(rng),
            appearance=sample_appearance(rng), rig=tuple(camera_rig(rng, VIEWS)),
        ))
    return subjects


@dataclass(frozen=True)
class _MotionItem:
    """One entry of a split's motion pool: a procedural (action, variant) or a BVH file range."""

    action: str
    variant: int = -1  # procedural variant, or -1
    file: int = -1  # index into the loaded BVH motions, or -1
    lo: int = 0  # usable frame range [lo, hi) of the BVH motion
    hi: int = 0


@dataclass(frozen=True)
class _Job:
    seed: int
    size: int
    num_clips: int
    subjects: tuple[SynthSubject, ...]
    pools: dict[str, tuple[_MotionItem, ...]]
    bvh: tuple[Motion, ...] = ()
    bvh_names: tuple[str, ...] = ()


def _procedural_pools(seed: int) -> dict[str, tuple[_MotionItem, ...]]:
    pools: dict[str, list[_MotionItem]] = {s: [] for s in ("train", "val", "test")}
    for a, action in enumerate(ACTIONS):
        labels = _partition(VARIANTS, np.random.default_rng([seed, 4, a]))
        for v, label in enumerate(labels):
            pools[label].append(_MotionItem(action=action, variant=v))
    return {k: tuple(v) for k, v in pools.items()}


#: Longest motion (frames at 50 fps, 5.5 hours) a BVH file may be resampled to.
MAX_MOTION_FRAMES = 1_000_000


def load_motions(paths: Sequence[str | os.PathLike[str]],
                 joint_map: str | os.PathLike[str] | JointMap | None = None) -> list[Motion]:
    """Load BVH files and resample them to 50 fps; a bad file raises a DynaPoseError naming it.
    `joint_map`: a joint map file (or `JointMap`) naming rig joints, see `load_bvh`."""
    if joint_map is not None and not isinstance(joint_map, JointMap):
        joint_map = read_joint_map(joint_map)

    motions = []
    for p in paths:
        path = Path(p)
        if not path.is_file():
            raise DynaPoseError("motion file not found", path)
        try:
            motion = load_bvh(path, joint_map=joint_map)
        except DynaPoseError:
            raise
        except Exception as exc:  # any parser failure becomes a one-line error naming the file
            raise DynaPoseError(f"cannot read BVH ({type(exc).__name__}: {exc})", path) from exc
        if abs(motion.fps - FPS) > 1e-6:
            frames = int(motion.duration * FPS) + 1
            if frames > MAX_MOTION_FRAMES:  # sized by the file's numbers: bound it first
                raise DynaPoseError(f"motion would be {frames} frames at {FPS:g} fps, more "
                                    f"than {MAX_MOTION_FRAMES}", path)
            motion = motion.resample(FPS)
        if motion.num_frames < CLIP_LEN:
            raise DynaPoseError(
                f"motion too short: {motion.num_frames} frames at {FPS:g} fps, need {CLIP_LEN}",
                path)
        motions.append(motion)
    return motions


def _bvh_pools(motions: Sequence[Motion], paths: Sequence[Path], seed: int
               ) -> dict[str, tuple[_MotionItem, ...]]:
    pools: dict[str, list[_MotionItem]] = {s: [] for s in ("train", "val", "test")}
    if len(motions) >= 3:
        labels = _partition(len(motions), np.random.default_rng([seed, 5]))
        for i, (m, label) in enumerate(zip(motions, labels, strict=True)):
            pools[label].append(_MotionItem(action=m.action, file=i, lo=0, hi=m.num_frames))
        return {k: tuple(v) for k, v in pools.items()}
    for i, m in enumerate(motions):  # one or two files: cut each in time
        n = m.num_frames
        cuts = [0, int(0.7 * n), int(0.8 * n), n]
        for label, lo, hi in zip(("train", "val", "test"), cuts[:-1], cuts[1:], strict=True):
            if hi - lo < CLIP_LEN:
                raise DynaPoseError(
                    f"motion too short to split in time into train/val/test ({n} frames at "
                    f"{FPS:g} fps; give 3 or more files, or files of at least "
                    f"{10 * CLIP_LEN + 1} frames)", paths[i])
            pools[label].append(_MotionItem(action=m.action, file=i, lo=lo, hi=hi))
    return {k: tuple(v) for k, v in pools.items()}


def _make_job(num_clips: int, size: int, seed: int,
              motions: Sequence[str | os.PathLike[str]] | None,
              subjects: int | None, joint_map: JointMap | None = None) -> _Job:
    n_subjects = default_num_subjects(num_clips) if subjects is None else int(subjects)
    subj = make_subjects(seed, n_subjects)
    if motions:
        paths = [Path(p) for p in motions]
        loaded = load_motions(paths, joint_map)
        return _Job(seed, size, num_clips, tuple(subj), _bvh_pools(loaded, paths, seed),
                    tuple(loaded), tuple(p.name for p in paths))
    return _Job(seed, size, num_clips, tuple(subj), _procedural_pools(seed))


_JOB: _Job | None = None


_CACHE: dict[tuple[str, str, int], Motion] = {}


def _init_worker(job: _Job) -> None:
    global _JOB
    _JOB = job
    _CACHE.clear()


def _procedural_motion(job: _Job, subject: SynthSubject, item: _MotionItem) -> Motion:
    key = (subject.name, item.action, item.variant)
    motion = _CACHE.get(key)
    if motion is None:
        rng = np.random.default_rng([job.seed, 2, ACTIONS.index(item.action), item.variant])
        motion = generate_motion(item.action, subject.body, SEQ_FRAMES, fps=FPS, rng=rng,
                                 subject=subject.name)
        if len(_CACHE) >= 256:
            _CACHE.clear()
        _CACHE[key] = motion
    return motion


def render_sequence(job: _Job, q: int, timings: dict[str, float] | None = None
                    ) -> list[dict[str, Any]]:
    """The clips of sequence `q` (up to `VIEWS`, fewer at the end): dicts of frames, joints3d,
    joints2d and metadata, exactly as `synthesize` writes them (``intrinsics``: the crop
    camera's [fx, fy, cx, cy] px, so that joints2d = project(joints3d) with them)."""
    t0 = time.perf_counter()
    rng = np.random.default_rng([job.seed, 1, q])
    split = SPLIT_PATTERN[q % len(SPLIT_PATTERN)]
    candidates = [s for s in job.subjects if s.split == split]
    subject = candidates[int(rng.integers(len(candidates)))]
    pool = job.pools[split]
    item = pool[int(rng.integers(len(pool)))]
    if item.file >= 0:
        motion = job.bvh[item.file]
        lo, hi = item.lo, item.hi
        source, motion_id = f"bvh:{job.bvh_names[item.file]}", job.bvh_names[item.file]
        body = None
    else:
        motion = _procedural_motion(job, subject, item)
        lo, hi = 0, motion.num_frames
        source, motion_id = "procedural", f"{item.action}/v{item.variant}"
        body = subject.body
    t1 = time.perf_counter()
    clips = []
    for v in range(VIEWS):
        index = q * VIEWS + v
        if index >= job.num_clips:
            break
        start = int(rng.integers(lo, hi - CLIP_LEN + 1))
        rendered = render_clip(motion.joints[start:start + CLIP_LEN], subject.appearance,
                               subject.rig[v], rng, size=job.size, camera_name=f"cam{v}",
                               body=body)
        cam = rendered.camera
        clips.append({
            "frames": rendered.frames, "joints3d": rendered.joints3d,
            "joints2d": rendered.joints2d, "subject": subject.name, "action": item.action,
            "camera": f"cam{v}", "start": start, "split": split, "source": source,
            "motion": motion_id, "intrinsics": [float(x) for x in (*cam.f, *cam.c)],
        })
    if timings is not None:
        timings["motion_s"] = timings.get("motion_s", 0.0) + t1 - t0
        timings["render_s"] = timings.get("render_s", 0.0) + time.perf_counter() - t1
    return clips


def warm_worker(_: int) -> None:
    """In a worker process: render one sequence and forget it (imports and caches warmed, for
    benchmarks that time only the steady state)."""
    assert _JOB is not None
    render_sequence(_JOB, 0)
    _CACHE.clear()


def _work(q: int) -> list[dict[str, Any]]:
    assert _JOB is not None
    return render_sequence(_JOB, q)


def _context() -> mp.context.BaseContext:
    return mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")


def _check_args(out: Path | None, num_clips: int, size: int, workers: int | None) -> None:
    if isinstance(num_clips, bool) or int(num_clips) != num_clips or num_clips < 1:
        raise DynaPoseError(f"number of clips must be a positive integer, got {num_clips}", out)
    if isinstance(size, bool) or int(size) != size or not MIN_SIZE <= size <= MAX_SIZE:
        raise DynaPoseError(f"image size must be an integer in [{MIN_SIZE}, {MAX_SIZE}], "
                            f"got {size}", out)
    if workers is not None and workers < 1:
        raise DynaPoseError(f"workers must be at least 1, got {workers}", out)


def synthesize(
    out: str | os.PathLike[str],
    num_clips: int,
    size: int = 224,
    motions: Sequence[str | os.PathLike[str]] | None = None,
    seed: int = 0,
    workers: int | None = None,
    overwrite: bool = False,
    progress: bool = True,
    subjects: int | None = None,
    joint_map: str | os.PathLike[str] | None = None,
) -> Path:
    """Render `num_clips` synthetic 8-frame clips (size x size, 50 fps) into a clip store.

    out: the store folder; motions: BVH files (None: procedural motion); seed: everything
    follows from it; workers: processes (default: all CPUs; the output does not depend on it);
    subjects: number of synthetic people (default `default_num_subjects`); joint_map: a file
    naming the BVH rig's joints (`dynapose.data.bvh_rigs.read_joint_map`). Frames are uint8
    RGB, joints3d (8, 17, 3) camera frame mm, joints2d (8, 17, 2) crop pixels; metadata columns
    subject, action, camera, start, split, source, motion (procedural ``action/vN`` or the BVH
    file name) and intrinsics (the crop camera's [fx, fy, cx, cy], px; no distortion).
    Returns the store path.
    Bad input raises DynaPoseError; on any failure no store (and no partial folder) is left.
    """
    out = Path(out)
    _check_args(out, num_clips, size, workers)
    num_clips, size = int(num_clips), int(size)
    if out.exists() and not overwrite:
        raise DynaPoseError("already exists (pass --overwrite to replace it)", out)
    jmap = None
    if joint_map is not None:
        jmap = read_joint_map(joint_map)
    job = _make_job(num_clips, size, seed, motions, subjects, jmap)
    workers = min(workers or os.cpu_count() or 1, -(-num_clips // VIEWS))
    attrs = {
        "source": "synthetic", "generator": "dynapose.data.synthetic.synth", "seed": seed,
        "fps": FPS,
        "motion": "bvh" if motions else "procedural",
        "motions": list(job.bvh_names),
        **({"joint_map": jmap.joints} if jmap and motions else {}),
        "subjects": {s.name: s.split for s in job.subjects},
        "split_by": "subject and motion",
    }
    num_seq = -(-num_clips // VIEWS)
    pool = None
    results: Iterable[list[dict[str, Any]]]
    try:
        # Chunks of about 100 MB of frames: the writer buffers one chunk in memory.
        chunk = int(np.clip(100e6 // (CLIP_LEN * size * size * 3), 1, 256))
        with ClipStoreWriter(out, height=size, width=size, clip_len=CLIP_LEN, joints2d=True,
                             chunk_clips=chunk, overwrite=overwrite, attrs=attrs) as writer:
            if workers > 1:
                pool = _context().Pool(workers, initializer=_init_worker, initargs=(job,))
                results = pool.imap(_work, range(num_seq))
            else:
                _init_worker(job)
                results = (_work(q) for q in range(num_seq))
            with tqdm(total=num_clips, desc="synth", unit="clip", disable=not progress) as bar:
                for clips in results:
                    for c in clips:
                        writer.add(c.pop("frames"), c.pop("joints3d"), c.pop("joints2d"), **c)
                    bar.update(len(clips))
    except BaseException:
        shutil.rmtree(partial_path(out), ignore_errors=True)
        raise
    finally:
        if pool is not None:
            pool.terminate()
            pool.join()
        _CACHE.clear()
    return out
