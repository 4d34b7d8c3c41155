"""Everyday postures and the transitions between them, procedurally, for lifter training.

Motion capture that ships (CMU's actions, dance and sport) hardly sits, kneels, lies or crawls.
This generator makes that motion from human anatomy alone, no recorded pose: a walk through a
graph of key postures (:data:`POSTURES`: on a chair or a stool, on the floor cross-legged, on
one side or legs out, kneeling on one or both knees, squatting, bent to pick something up,
lying on the back, side or front, on all fours and crawling, reaching up, leaning on a table),
each drawn afresh with random joint angles inside its own ranges
(:mod:`dynapose.data.synthetic.key_postures`), held for a while with postural
sway and, where the arms are free, a hand activity (:data:`HAND_ACTIVITIES`: a phone at the ear
or in front, eating, a hand to the mouth, talking gestures, arms crossed, hands on the hips, a
chin on a hand), then eased into a neighbouring posture with a minimum-jerk profile whose
duration grows with how far the joints travel (getting up from the floor is a path through the
graph: lying, sitting, kneeling, standing).

Plausibility, by construction and checked (:func:`plausibility`):
- bone lengths are constant: joints are placed by forward kinematics of one body
  (:func:`dynapose.data.synthetic.motion.sample_body`);
- joint angles stay inside :data:`JOINT_LIMITS` (active ranges of motion of adults, degrees;
  the orthopaedic norms' order of magnitude, rounded inward);
- nothing goes below the floor: the body is placed, frame by frame, at the lowest height at which
  every joint clears the floor by its own padding (:data:`CLEARANCE_MM`: the flesh around it),
  and a seated pelvis clears its seat; whatever rests lowest carries the weight;
- the body does not slide: whatever touches the floor (or the seat) stays put horizontally while
  it does, and the rest of the body moves about it (contact locking), so a crawl advances.

World frame and angle conventions are those of :mod:`dynapose.data.synthetic.motion`.
"""

from __future__ import annotations

import numpy as np

from dynapose.data.synthetic.key_postures import (
    HAND_ACTIVITIES,
    JOINT_LIMITS,
    POSTURES,
    Angles,
    Posture,
    _limit_key,
)
from dynapose.data.synthetic.motion import (
    _DEFAULT_POSE,
    _POSE_KEYS,
    BodyShape,
    Motion,
    _pose_to_rotations,
    _wobble,
    check_length,
    forward_kinematics,
    sample_body,
)
from dynapose.skeleton import JOINT_NAMES, bone_lengths

#: How far (mm) each joint stays above the floor at least: the flesh around it (the ankle's is
#: the body's own ankle height when standing, see :class:`BodyShape`).
CLEARANCE_MM: dict[str, float] = {
    "pelvis": 95.0, "right_hip": 90.0, "right_knee": 50.0, "right_ankle": 45.0,
    "left_hip": 90.0, "left_knee": 50.0, "left_ankle": 45.0, "spine": 100.0, "thorax": 100.0,
    "neck": 70.0, "head": 95.0, "left_shoulder": 60.0, "left_elbow": 40.0,
    "left_wrist": 30.0, "right_shoulder": 60.0, "right_elbow": 40.0, "right_wrist": 30.0,
}

_U = np.random.Generator.uniform


def _min_jerk(u: np.ndarray) -> np.ndarray:
    """The minimum-jerk profile 0 -> 1 over u in [0, 1] (rest to rest, smooth accelerations)."""
    u = np.clip(u, 0.0, 1.0)
    return u**3 * (10.0 - 15.0 * u + 6.0 * u**2)


def _crawl(rng: np.random.Generator, t: np.ndarray) -> dict[str, np.ndarray]:
    """A hands-and-knees crawl: diagonal limbs swing together (0.5-1 cycles/s)."""
    phase = 2 * np.pi * _U(rng, 0.5, 1.0) * t + rng.uniform(0, 2 * np.pi)
    out = {}
    for side, ph in (("r", phase), ("l", phase + np.pi)):
        arm = ph + np.pi  # the opposite arm moves with each leg
        out[f"{side}_hip_flex"] = 14.0 * np.sin(ph)
        out[f"{side}_knee"] = 18.0 * np.maximum(0.0, np.cos(ph))
        out[f"{side}_sh_flex"] = 14.0 * np.sin(arm)
        out[f"{side}_elbow"] = 20.0 * np.maximum(0.0, np.cos(arm))
    return out


def _segment_angles(start: Angles, end: Angles, frames: int, fps: float,
                    rng: np.random.Generator) -> dict[str, np.ndarray]:
    """A minimum-jerk transition of every angle from `start` to `end`, each joint group a little
    early or late (people do not move every joint in lockstep)."""
    u = np.arange(frames) / max(frames - 1, 1)
    out = {}
    for key in _POSE_KEYS:
        a = start.get(key, _DEFAULT_POSE.get(key, 0.0))
        b = end.get(key, _DEFAULT_POSE.get(key, 0.0))
        lag = rng.uniform(-0.15, 0.15)
        out[key] = a + (b - a) * _min_jerk((u - max(lag, 0.0)) / (1.0 - abs(lag)))
    return out


def _transition_seconds(start: Angles, end: Angles, rng: np.random.Generator) -> float:
    """Longer the farther the joints travel: 0.7 s plus 1 s per 100 degrees of the largest
    change, times a personal tempo."""
    keys = set(start) | set(end)
    most = max((abs(start.get(k, _DEFAULT_POSE.get(k, 0.0)) - end.get(k, _DEFAULT_POSE.get(k, 0.0)))
                for k in keys), default=0.0)
    return (0.7 + most / 100.0) * float(rng.uniform(0.8, 1.3))


def _seat_height(posture: Posture, rng: np.random.Generator) -> float:
    """A seat height (mm) for `posture`, NaN when it has no seat."""
    if posture.seat is None:
        return float("nan")
    return float(rng.uniform(*posture.seat))


def check_postures(names: tuple[str, ...] | list[str] | None) -> tuple[str, ...]:
    """`names` as a tuple of known postures (all of :data:`POSTURES` for None); ValueError naming
    the unknown ones, or on an empty list."""
    if names is None:
        return tuple(POSTURES)
    names = [n.strip() for n in names if n.strip()]
    unknown = [n for n in names if n not in POSTURES]
    if unknown:
        raise ValueError(f"unknown posture(s) {', '.join(unknown)}; known: {', '.join(POSTURES)}")
    if not names:
        raise ValueError("no postures given")
    return tuple(dict.fromkeys(names))


def _posture_plan(num_frames: int, fps: float, rng: np.random.Generator,
                  allowed: tuple[str, ...] | None = None
                  ) -> tuple[dict[str, np.ndarray], np.ndarray, list[str]]:
    """Angles (degrees, (T,) each), the seat height under the pelvis per frame (mm; NaN where
    there is none) and the postures visited, for a walk through :data:`POSTURES` (only the
    `allowed` ones: a posture none of whose neighbours is allowed is held again, redrawn)."""
    names = list(check_postures(allowed))
    current = names[int(rng.integers(len(names)))]
    key = POSTURES[current].draw(rng)
    seat = _seat_height(POSTURES[current], rng)
    parts: list[dict[str, np.ndarray]] = []
    seats: list[np.ndarray] = []
    visited = [current]
    total = 0
    while total < num_frames:
        posture = POSTURES[current]
        hold = max(2, int(_U(rng, 0.8, 4.0) * fps))
        t = (total + np.arange(hold)) / fps
        angles = {k: np.full(hold, key.get(k, _DEFAULT_POSE.get(k, 0.0))) for k in _POSE_KEYS}
        # what the hold adds (sway, a crawl, a hand activity) eases in from the key posture
        ease = _min_jerk(np.arange(hold) / (0.6 * fps))
        for k, amp in (("spine_pitch", 2.0), ("spine_roll", 1.5), ("spine_yaw", 3.0),
                       ("neck_pitch", 4.0), ("neck_yaw", 8.0), ("pelvis_roll", 1.0)):
            angles[k] = angles[k] + ease * _wobble(rng, t, amp)
        if posture.cycle == "crawl":
            for k, v in _crawl(rng, t).items():
                angles[k] = angles[k] + ease * v
        elif posture.arms_free and rng.random() < 0.6:
            activity = list(HAND_ACTIVITIES)[int(rng.integers(len(HAND_ACTIVITIES)))]
            if activity != "hands_on_hips" or current in ("stand", "kneel_both"):
                for k, v in HAND_ACTIVITIES[activity](rng, t).items():
                    angles[k] = angles[k] + ease * (v - angles[k])
        parts.append(angles)
        seats.append(np.full(hold, seat))
        total += hold
        last = {k: float(v[-1]) for k, v in angles.items()}
        choices = [n for n in posture.neighbours if n in names] or [current]
        nxt = choices[int(rng.integers(len(choices)))]
        key = POSTURES[nxt].draw(rng)
        if POSTURES[nxt].cycle == "crawl":  # a crawl starts from the posture it left
            key = {k: v for k, v in last.items()}
        frames = max(2, int(_transition_seconds(last, key, rng) * fps))
        parts.append(_segment_angles(last, key, frames, fps, rng))
        nxt_seat = _seat_height(POSTURES[nxt], rng)
        # the seat is there for the whole way down to it and up from it
        seats.append(np.full(frames, nxt_seat if np.isfinite(nxt_seat) else seat))
        seat = nxt_seat
        total += frames
        current = nxt
        visited.append(current)
    angles = {k: np.concatenate([p[k] for p in parts])[:num_frames] for k in _POSE_KEYS}
    for k in angles:
        low, high = JOINT_LIMITS[_limit_key(k)]
        angles[k] = np.clip(angles[k], low, high)
    return angles, np.concatenate(seats)[:num_frames], visited


def _clearances(body: BodyShape, seat: np.ndarray) -> np.ndarray:
    """(T, 17) the least height (mm) of each joint above the floor, frame by frame: its padding,
    and for a seated pelvis and hips the seat plus theirs."""
    base = np.array([CLEARANCE_MM[name] for name in JOINT_NAMES])
    base[[JOINT_NAMES.index("right_ankle"), JOINT_NAMES.index("left_ankle")]] = min(
        body.ankle_height, CLEARANCE_MM["right_ankle"] + 30.0)
    out = np.repeat(base[None], len(seat), axis=0)
    seated = np.isfinite(seat)
    for name in ("pelvis", "right_hip", "left_hip"):
        j = JOINT_NAMES.index(name)
        out[seated, j] = np.maximum(out[seated, j], seat[seated] + CLEARANCE_MM[name])
    return out


def _contact_displacement(rel: np.ndarray, gap: np.ndarray) -> np.ndarray:
    """(T, 2) horizontal root displacement keeping whatever touches still: joints weighted by
    how near they are to their floor or seat clearance (`gap` (T, 17) mm above it; soft-min with
    a 15 mm temperature). Entry 0 is zero."""
    w = np.exp(-(gap - gap.min(axis=1, keepdims=True)) / 15.0)
    w = w / w.sum(axis=1, keepdims=True)
    disp = np.zeros((len(rel), 2))
    if len(rel) > 1:
        step = np.diff(rel[..., :2], axis=0)  # (T-1, 17, 2)
        wm = 0.5 * (w[1:] + w[:-1])
        disp[1:] = -(wm[..., None] * step).sum(axis=1)
    return disp


def generate_postures(body: BodyShape, num_frames: int, fps: float = 50.0,
                      rng: np.random.Generator | None = None, subject: str = "",
                      allowed: tuple[str, ...] | None = None) -> Motion:
    """A walk of `body` through :data:`POSTURES` (the `allowed` ones; all for None) over
    `num_frames` frames at `fps`: world joints (T, 17, 3) mm, Z up, floor z = 0 (module
    docstring). The postures visited are the Motion's `action`, joined by '>'."""
    check_length(num_frames, fps)
    rng = np.random.default_rng(0) if rng is None else rng
    n = int(num_frames)
    angles, seat, visited = _posture_plan(n, float(fps), rng, allowed)
    heading = np.full(n, rng.uniform(-np.pi, np.pi))
    local, root_rot = _pose_to_rotations(angles, heading, n)
    rel = forward_kinematics(body.rest_offsets(), local, root_rot, np.zeros((n, 3)))
    clear = _clearances(body, seat)
    height = (clear - rel[..., 2]).max(axis=1)  # the lowest height that clears everything
    gap = rel[..., 2] + height[:, None] - clear
    start = 500.0 * np.sqrt(rng.random()) * np.array([1.0, 0.0])
    xy = start + np.cumsum(_contact_displacement(rel, gap), axis=0)
    joints = rel + np.concatenate([xy, height[:, None]], axis=1)[:, None]
    return Motion(joints.astype(np.float32), float(fps), ">".join(visited), subject,
                  "procedural postures", body)


def plausibility(motion: Motion) -> dict[str, float]:
    """What :mod:`dynapose.data.synthetic.postures` promises, measured on a motion: the largest
    relative change of a bone's length over time, the lowest joint height (mm, must be >= 0)
    and the 99th percentile of the horizontal speed (mm/s) of joints resting on the floor (within
    5 mm of their clearance: contact without sliding) and the fastest joint's speed (mm/s: no
    jumps)."""
    joints = motion.joints.astype(np.float64)
    lengths = bone_lengths(joints)
    stretch = float((np.abs(lengths - lengths[:1]) / lengths[:1]).max())
    lowest = float(joints[..., 2].min())
    clear = np.array([CLEARANCE_MM[name] for name in JOINT_NAMES])
    resting = (joints[1:, :, 2] - clear[None] < 5.0) & (joints[:-1, :, 2] - clear[None] < 5.0)
    speed = np.linalg.norm(np.diff(joints[..., :2], axis=0), axis=-1) * motion.fps
    slide = float(np.percentile(speed[resting], 99)) if resting.any() else 0.0
    step = float(np.linalg.norm(np.diff(joints, axis=0), axis=-1).max()) * motion.fps
    return {"bone_stretch": stretch, "lowest_mm": lowest, "resting_slide_mm_s": slide,
            "fastest_joint_mm_s": step}


def posture_bodies(num_sequences: int, frames: int, seed: int = 0,
                   allowed: tuple[str, ...] | None = None) -> list[Motion]:
    """`num_sequences` posture walks (through the `allowed` postures; all for None) of `frames`
    frames at 50 fps, each by a new body."""
    allowed = None if allowed is None else check_postures(allowed)
    rng = np.random.default_rng([seed, 11])
    return [generate_postures(sample_body(rng), frames, 50.0, rng, subject=f"pose-{k % 8}",
                              allowed=allowed)
            for k in range(num_sequences)]
