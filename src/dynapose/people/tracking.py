"""Following people from frame to frame: each frame's poses joined into tracks with stable
identities.

Online, frame by frame (:func:`track_people`):

1. Each live track *predicts* where its person is now: its last pose moved by its velocity
   (the pelvis's pixels per frame, smoothed) times the frames since it was last seen (at most
   COAST_FRAMES), and its last pose where it was (a person who stopped behind someone).
2. Every (track, pose) pair gets a **similarity** in [0, 1]: the mean of the boxes' overlap
   (intersection over union of the predicted and the found joints' boxes) and the 2D pose
   similarity ``exp(-d / (0.5 s))``, d the median joint distance between the predicted and the
   found pose (px) and s the larger body's box diagonal (px); the better of the two
   predictions counts. A pair under MIN_SIMILARITY cannot match.
3. **Hungarian assignment** (``scipy.optimize.linear_sum_assignment``) on one minus the
   similarity: each pose goes to at most one track, the best total.
4. A pose no track takes starts a new track; a track not matched for more than `max_gap`
   frames ends (**ageing**), so a person hidden behind another, or out of the picture, for up to
   `max_gap` frames comes back under the same identity.
5. **Stitching**, once the video is done: a track that starts within `max_gap` frames after
   another ends (or up to STITCH_OVERLAP frames before), its first pose similar to the other's
   last (as in 2), continues it: a person entering the picture, first seen in part, then
   whole, stays one person. The most similar pairs are joined first.

**Minimum track length**: a track is kept when the person is seen in `min_frames` frames in a
row at least once (a miss of up to RUN_GAP frames does not break the row); a shorter one (a
person seen for a handful of frames, or a false detection now and then) is reported and left
out (:attr:`Tracking.short`). Kept tracks are numbered
1, 2, ... by their first frame (left to right among those that start together).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment

from dynapose.skeleton import NUM_JOINTS

#: A (track, pose) pair less similar than this cannot be matched.
MIN_SIMILARITY = 0.25
#: Missed frames that do not break a row of found frames (minimum track length).
RUN_GAP = 2
#: Frames two pieces of one track may share when they are stitched (the later one's win).
STITCH_OVERLAP = 2
#: Weight of the newest displacement in a track's smoothed velocity.
VELOCITY_WEIGHT = 0.5
#: Frames a track's velocity carries it on while unseen; then it waits where it got to.
COAST_FRAMES = 5

Pose = tuple[np.ndarray, np.ndarray]  # (pixels (17, 2), confidences (17,))


@dataclass
class Track:
    """One person over the video's F frames: pixels (F, 17, 2) px, NaN where not found;
    confidence (F, 17), 0 there. `id`: 1, 2, ... for kept tracks (0 while tracking)."""

    id: int
    pixels: np.ndarray
    confidence: np.ndarray

    @property
    def found(self) -> np.ndarray:
        """(F,) bool: the frames the person was found in."""
        return np.isfinite(self.pixels).all(axis=(1, 2))

    @property
    def num_found(self) -> int:
        return int(self.found.sum())

    def longest_run(self) -> int:
        """The most frames the person is seen in a row (a miss of up to RUN_GAP frames kept
        in the row, not counted)."""
        best = run = misses = 0
        for seen in self.found:
            if seen:
                run += 1
                misses = 0
                best = max(best, run)
            else:
                misses += 1
                if misses > RUN_GAP:
                    run = 0
        return best

    @property
    def first(self) -> int:
        """The first frame the person was found in."""
        return int(np.argmax(self.found))

    @property
    def last(self) -> int:
        return len(self.found) - 1 - int(np.argmax(self.found[::-1]))

    def mean_height(self) -> float:
        """The person's mean box height (px) over the found frames (their size in the video)."""
        px = self.pixels[self.found]
        return float(np.mean(px[:, :, 1].max(axis=1) - px[:, :, 1].min(axis=1)))


@dataclass
class Tracking:
    """What :func:`track_people` found: `tracks` kept (numbered 1, 2, ...), `short` left out
    for never being seen in `min_frames` frames in a row."""

    tracks: list[Track]
    short: list[Track] = field(default_factory=list)
    min_frames: int = 0

    def per_frame(self) -> np.ndarray:
        """(F,) int: how many kept people each frame shows."""
        if not self.tracks:
            return np.zeros(0, dtype=np.int64)
        return np.sum([t.found for t in self.tracks], axis=0).astype(np.int64)


def _box(pixels: np.ndarray) -> np.ndarray:
    lo, hi = pixels.min(axis=0), pixels.max(axis=0)
    return np.concatenate([lo, hi])


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


def similarity(predicted: np.ndarray, found: np.ndarray) -> float:
    """How alike two poses (17, 2) px are, in [0, 1] (module docstring, step 2)."""
    a, b = _box(predicted), _box(found)
    size = max(float(np.hypot(*(a[2:] - a[:2]))), float(np.hypot(*(b[2:] - b[:2]))), 1.0)
    distance = float(np.median(np.linalg.norm(predicted - found, axis=1)))
    return 0.5 * _iou(a, b) + 0.5 * float(np.exp(-distance / (0.5 * size)))


class _Live:
    """A track being followed: its rows so far and its motion."""

    def __init__(self, frame: int, pose: Pose) -> None:
        self.rows: dict[int, Pose] = {frame: pose}
        self.last = frame
        self.velocity = np.zeros(2)

    def similarity(self, frame: int, pose: np.ndarray) -> float:
        """The better similarity of `pose` to this track's two predictions (docstring, 1-2)."""
        pixels = self.rows[self.last][0]
        moved = pixels + self.velocity * min(frame - self.last, COAST_FRAMES)
        return max(similarity(moved, pose), similarity(pixels, pose))

    def add(self, frame: int, pose: Pose) -> None:
        step = (pose[0][0] - self.rows[self.last][0][0]) / (frame - self.last)  # the pelvis
        self.velocity = VELOCITY_WEIGHT * step + (1 - VELOCITY_WEIGHT) * self.velocity
        self.rows[frame] = pose
        self.last = frame

    def track(self, num_frames: int) -> Track:
        pixels = np.full((num_frames, NUM_JOINTS, 2), np.nan)
        conf = np.zeros((num_frames, NUM_JOINTS))
        for i, (px, c) in self.rows.items():
            pixels[i], conf[i] = px, c
        return Track(0, pixels, conf)


def _assign(cost: np.ndarray) -> list[tuple[int, int]]:
    rows, cols = linear_sum_assignment(cost)
    return [(int(r), int(c)) for r, c in zip(rows, cols, strict=True)
            if cost[r, c] <= 1.0 - MIN_SIMILARITY]


def track_people(frames: Sequence[Sequence[Pose]], max_gap: int = 50,
                 min_frames: int = 10) -> Tracking:
    """Join each frame's poses into tracks of one person each (module docstring).

    frames: per frame, the poses found, ``(pixels (17, 2) px, confidences (17,))`` each.
    max_gap: frames a person may go unseen and keep their identity. min_frames: a track never
    seen in this many frames in a row is left out (reported in :attr:`Tracking.short`).
    """
    if max_gap < 1 or min_frames < 1:
        raise ValueError("max_gap and min_frames must be at least 1")
    live: list[_Live] = []
    ended: list[_Live] = []
    for i, poses in enumerate(frames):
        still = [t for t in live if i - t.last <= max_gap + 1]
        ended += [t for t in live if i - t.last > max_gap + 1]
        live = still
        taken: set[int] = set()
        if live and poses:
            cost = np.array([[1.0 - t.similarity(i, p[0]) for p in poses] for t in live])
            for r, c in _assign(cost):
                live[r].add(i, poses[c])
                taken.add(c)
        live += [_Live(i, p) for k, p in enumerate(poses) if k not in taken]
    every = _stitched([t.track(len(frames)) for t in ended + live], max_gap)
    kept = [t for t in every if t.longest_run() >= min_frames]
    short = [t for t in every if t.longest_run() < min_frames]
    kept.sort(key=lambda t: (t.first, float(np.nanmean(t.pixels[t.first, :, 0]))))
    for number, t in enumerate(kept, start=1):
        t.id = number
    return Tracking(kept, sorted(short, key=lambda t: t.first), min_frames)


def _stitched(tracks: list[Track], max_gap: int) -> list[Track]:
    """Join tracks that continue one another (module docstring, step 5)."""
    tracks = list(tracks)
    while True:
        best: tuple[float, int, int] | None = None
        for a, early in enumerate(tracks):
            for b, late in enumerate(tracks):
                start, end = late.first, early.last
                if a == b or not (-STITCH_OVERLAP <= start - end <= max_gap):
                    continue
                if late.first <= early.first or late.last <= early.last:
                    continue
                both = early.found & late.found
                if both.sum() > STITCH_OVERLAP:
                    continue
                before = early.found.copy()
                before[start:] = False  # the earlier track's last pose before the later starts
                if not before.any():
                    continue
                last = len(before) - 1 - int(np.argmax(before[::-1]))
                score = similarity(early.pixels[last], late.pixels[start])
                if score >= MIN_SIMILARITY and (best is None or score > best[0]):
                    best = (score, a, b)
        if best is None:
            return tracks
        _, a, b = best
        early, late = tracks[a], tracks[b]
        take = late.found
        early.pixels[take] = late.pixels[take]
        early.confidence[take] = late.confidence[take]
        del tracks[b]
