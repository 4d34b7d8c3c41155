"""Everyday postures and the transitions between them, procedurally, for lifter training.

Motion capture that ships (CMU's actions, dance and sport) hardly sits, kneels, lies or crawls.
This generator makes that motion from human anatomy alone, no recorded pose: a walk through a
graph of key postures (:data:`POSTURES`: on a chair or a stool, on the floor cross-legged, on
one side or legs out, kneeling on one or both knees, squatting, bent to pick something up,
lying on the back, side or front, on all fours and crawling, reaching up, leaning on a table),
each drawn afresh with random joint angles inside its own ranges, held for a while with postural
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

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from dynapose.data.synthetic.motion import (
    _DEFAULT_POSE,
    _POSE_KEYS,
    BodyShape,
    Motion,
    _pose_to_rotations,
    _wobble,
    forward_kinematics,
    sample_body,
)
from dynapose.skeleton import JOINT_NAMES, bone_lengths

#: Active ranges of motion (degrees, (low, high)) every generated angle is kept inside.
JOINT_LIMITS: dict[str, tuple[float, float]] = {
    "pelvis_pitch": (-95.0, 95.0), "pelvis_roll": (-95.0, 95.0), "pelvis_yaw": (-180.0, 180.0),
    "spine_pitch": (-25.0, 80.0), "spine_roll": (-30.0, 30.0), "spine_yaw": (-40.0, 40.0),
    "neck_pitch": (-55.0, 60.0), "neck_yaw": (-70.0, 70.0), "neck_roll": (-30.0, 30.0),
    "hip_flex": (-25.0, 135.0), "hip_abd": (-25.0, 55.0), "hip_rot": (-40.0, 50.0),
    "knee": (0.0, 155.0),
    "sh_flex": (-50.0, 180.0), "sh_abd": (-30.0, 180.0), "sh_rot": (-80.0, 80.0),
    "elbow": (0.0, 150.0),
}

#: How far (mm) each joint stays above the floor at least: the flesh around it (the ankle's is
#: the body's own ankle height when standing, see :class:`BodyShape`).
CLEARANCE_MM: dict[str, float] = {
    "pelvis": 95.0, "right_hip": 90.0, "right_knee": 50.0, "right_ankle": 45.0,
    "left_hip": 90.0, "left_knee": 50.0, "left_ankle": 45.0, "spine": 100.0, "thorax": 100.0,
    "neck": 70.0, "head": 95.0, "left_shoulder": 60.0, "left_elbow": 40.0,
    "left_wrist": 30.0, "right_shoulder": 60.0, "right_elbow": 40.0, "right_wrist": 30.0,
}

Angles = dict[str, float]
_U = np.random.Generator.uniform


def _limit_key(key: str) -> str:
    return key[2:] if key[:2] in ("l_", "r_") else key


def _both(pose: Angles, **angles: float) -> Angles:
    """Set a left/right pair of angles to the same value: ``hip_flex=90`` sets l_ and r_."""
    for name, value in angles.items():
        pose[f"l_{name}"] = pose[f"r_{name}"] = value
    return pose


def _legs(pose: Angles, rng: np.random.Generator, flex: tuple[float, float],
          knee: tuple[float, float], abd: tuple[float, float] = (2.0, 8.0),
          rot: tuple[float, float] = (0.0, 10.0), spread: float = 8.0) -> Angles:
    """Both legs near one shape, each side varying by up to `spread` degrees."""
    base = {"hip_flex": _U(rng, *flex), "knee": _U(rng, *knee), "hip_abd": _U(rng, *abd),
            "hip_rot": _U(rng, *rot)}
    for side in ("l", "r"):
        for name, value in base.items():
            pose[f"{side}_{name}"] = value + _U(rng, -spread, spread)
    return pose


def _arms_rest(pose: Angles, rng: np.random.Generator) -> Angles:
    for side in ("l", "r"):
        pose[f"{side}_sh_flex"] = _U(rng, -5.0, 20.0)
        pose[f"{side}_sh_abd"] = _U(rng, 5.0, 20.0)
        pose[f"{side}_elbow"] = _U(rng, 5.0, 35.0)
    return pose


def _arms_on_thighs(pose: Angles, rng: np.random.Generator) -> Angles:
    for side in ("l", "r"):
        pose[f"{side}_sh_flex"] = _U(rng, 15.0, 45.0)
        pose[f"{side}_sh_abd"] = _U(rng, 5.0, 25.0)
        pose[f"{side}_elbow"] = _U(rng, 40.0, 80.0)
    return pose


# -- key postures: each draws joint angles (degrees) ------------------------------------------

def _stand(rng: np.random.Generator) -> Angles:
    pose = _legs({}, rng, (-3.0, 8.0), (0.0, 12.0), spread=5.0)
    pose.update(spine_pitch=_U(rng, -3.0, 8.0), neck_pitch=_U(rng, -10.0, 15.0))
    return _arms_rest(pose, rng)


def _chair(rng: np.random.Generator) -> Angles:
    pose = _legs({}, rng, (75.0, 100.0), (60.0, 115.0), abd=(0.0, 15.0), rot=(-5.0, 15.0))
    style = rng.integers(4)
    if style == 1:  # crossed legs: one thigh over the other
        side, other = ("l", "r") if rng.random() < 0.5 else ("r", "l")
        pose.update({f"{side}_hip_flex": _U(rng, 95.0, 115.0),
                     f"{side}_hip_abd": _U(rng, -20.0, -8.0),
                     f"{side}_knee": _U(rng, 70.0, 110.0), f"{other}_hip_abd": _U(rng, 0.0, 8.0)})
    pose["pelvis_pitch"] = _U(rng, -15.0, 10.0)
    pose["spine_pitch"] = _U(rng, -5.0, 15.0)
    if style == 2:  # leaning forward, forearms on the knees
        pose["pelvis_pitch"], pose["spine_pitch"] = _U(rng, 10.0, 30.0), _U(rng, 15.0, 35.0)
        pose["neck_pitch"] = _U(rng, -30.0, 0.0)
        return _arms_on_thighs(pose, rng)
    if style == 3:  # slouched back
        pose["pelvis_pitch"], pose["spine_pitch"] = _U(rng, -30.0, -15.0), _U(rng, 10.0, 25.0)
    pose["neck_pitch"] = _U(rng, -10.0, 20.0)
    return _arms_on_thighs(pose, rng) if rng.random() < 0.5 else _arms_rest(pose, rng)


def _stool(rng: np.random.Generator) -> Angles:
    pose = _legs({}, rng, (55.0, 85.0), (50.0, 110.0), abd=(3.0, 15.0))
    pose.update(pelvis_pitch=_U(rng, -10.0, 10.0), spine_pitch=_U(rng, 0.0, 15.0))
    return _arms_on_thighs(pose, rng)


def _squat(rng: np.random.Generator) -> Angles:
    pose = _legs({}, rng, (95.0, 130.0), (110.0, 150.0), abd=(10.0, 30.0), rot=(5.0, 25.0))
    pose.update(pelvis_pitch=_U(rng, 15.0, 40.0), spine_pitch=_U(rng, 5.0, 30.0),
                neck_pitch=_U(rng, -35.0, 5.0))
    return _arms_on_thighs(pose, rng) if rng.random() < 0.5 else _reach_low(pose, rng)


def _reach_low(pose: Angles, rng: np.random.Generator) -> Angles:
    """Arms hanging forward-down toward the floor (picking something up)."""
    for side in ("l", "r"):
        pose[f"{side}_sh_flex"] = _U(rng, 40.0, 100.0)
        pose[f"{side}_sh_abd"] = _U(rng, 0.0, 20.0)
        pose[f"{side}_elbow"] = _U(rng, 0.0, 40.0)
    if rng.random() < 0.5:  # one hand only
        side = "l" if rng.random() < 0.5 else "r"
        pose[f"{side}_sh_flex"], pose[f"{side}_elbow"] = _U(rng, 0.0, 40.0), _U(rng, 10.0, 80.0)
    return pose


def _bend(rng: np.random.Generator) -> Angles:
    """Bent over from the hips to pick something up, knees straight or a little bent."""
    pose = _legs({}, rng, (50.0, 100.0), (5.0, 45.0), spread=6.0)
    pose["pelvis_pitch"] = _U(rng, 45.0, 85.0)
    pose["spine_pitch"] = _U(rng, 10.0, 45.0)
    pose["neck_pitch"] = _U(rng, -45.0, 0.0)
    return _reach_low(pose, rng)


def _kneel_one(rng: np.random.Generator) -> Angles:
    up, down = ("l", "r") if rng.random() < 0.5 else ("r", "l")
    pose = {f"{up}_hip_flex": _U(rng, 70.0, 100.0), f"{up}_knee": _U(rng, 75.0, 110.0),
            f"{up}_hip_abd": _U(rng, 0.0, 15.0), f"{down}_hip_flex": _U(rng, -15.0, 15.0),
            f"{down}_knee": _U(rng, 80.0, 110.0), f"{down}_hip_abd": _U(rng, 0.0, 10.0)}
    pose.update(pelvis_pitch=_U(rng, -5.0, 25.0), spine_pitch=_U(rng, 0.0, 20.0))
    return _arms_on_thighs(pose, rng) if rng.random() < 0.5 else _reach_low(pose, rng)


def _kneel_both(rng: np.random.Generator) -> Angles:
    pose = _legs({}, rng, (-10.0, 20.0), (80.0, 105.0), abd=(3.0, 12.0))
    pose.update(pelvis_pitch=_U(rng, -5.0, 20.0), spine_pitch=_U(rng, 0.0, 15.0))
    return _arms_rest(pose, rng)


def _kneel_sit(rng: np.random.Generator) -> Angles:
    """Kneeling sat back on the heels."""
    pose = _legs({}, rng, (55.0, 80.0), (140.0, 155.0), abd=(3.0, 15.0), spread=4.0)
    pose.update(pelvis_pitch=_U(rng, -10.0, 15.0), spine_pitch=_U(rng, 0.0, 20.0))
    return _arms_on_thighs(pose, rng)


def _cross_legged(rng: np.random.Generator) -> Angles:
    pose = _legs({}, rng, (60.0, 90.0), (115.0, 150.0), abd=(30.0, 50.0), rot=(25.0, 45.0),
                 spread=5.0)
    pose.update(pelvis_pitch=_U(rng, -20.0, 10.0), spine_pitch=_U(rng, 5.0, 30.0),
                neck_pitch=_U(rng, -10.0, 25.0))
    return _arms_on_thighs(pose, rng)


def _side_sit(rng: np.random.Generator) -> Angles:
    """Sitting on the floor, both knees bent and folded to one side, a hand on the floor."""
    side = 1.0 if rng.random() < 0.5 else -1.0
    near, far = ("l", "r") if side > 0 else ("r", "l")
    pose = {f"{near}_hip_flex": _U(rng, 40.0, 75.0), f"{near}_knee": _U(rng, 110.0, 145.0),
            f"{near}_hip_abd": _U(rng, 15.0, 35.0), f"{near}_hip_rot": _U(rng, 20.0, 45.0),
            f"{far}_hip_flex": _U(rng, 30.0, 70.0), f"{far}_knee": _U(rng, 100.0, 140.0),
            f"{far}_hip_abd": _U(rng, -15.0, 5.0), f"{far}_hip_rot": _U(rng, -35.0, -10.0),
            "pelvis_roll": side * _U(rng, 5.0, 20.0), "pelvis_pitch": _U(rng, -10.0, 10.0),
            "spine_roll": -side * _U(rng, 5.0, 20.0), "spine_pitch": _U(rng, 0.0, 20.0)}
    _arms_rest(pose, rng)
    pose[f"{far}_sh_abd"], pose[f"{far}_elbow"] = _U(rng, 20.0, 45.0), _U(rng, 0.0, 20.0)
    return pose


def _long_sit(rng: np.random.Generator) -> Angles:
    """Sitting on the floor, legs out in front; leaning back on the hands or upright."""
    pose = _legs({}, rng, (75.0, 100.0), (0.0, 40.0), abd=(3.0, 20.0))
    if rng.random() < 0.5:  # leaning back on straight arms
        pose.update(pelvis_pitch=_U(rng, -35.0, -15.0), spine_pitch=_U(rng, 0.0, 15.0))
        for side in ("l", "r"):
            pose[f"{side}_sh_flex"] = _U(rng, -50.0, -25.0)
            pose[f"{side}_sh_abd"] = _U(rng, 10.0, 30.0)
            pose[f"{side}_elbow"] = _U(rng, 0.0, 15.0)
        return pose
    pose.update(pelvis_pitch=_U(rng, -15.0, 5.0), spine_pitch=_U(rng, 10.0, 35.0))
    return _arms_on_thighs(pose, rng)


def _knees_up(rng: np.random.Generator) -> Angles:
    """Sitting on the floor with the knees drawn up, arms around them or resting."""
    pose = _legs({}, rng, (95.0, 125.0), (110.0, 145.0), abd=(0.0, 20.0))
    pose.update(pelvis_pitch=_U(rng, -35.0, -10.0), spine_pitch=_U(rng, 15.0, 40.0))
    for side in ("l", "r"):
        pose[f"{side}_sh_flex"] = _U(rng, 30.0, 60.0)
        pose[f"{side}_sh_abd"] = _U(rng, 5.0, 25.0)
        pose[f"{side}_elbow"] = _U(rng, 20.0, 80.0)
    return pose


def _lie_back(rng: np.random.Generator) -> Angles:
    pose = _legs({}, rng, (-5.0, 10.0), (0.0, 20.0), abd=(3.0, 15.0), spread=6.0)
    if rng.random() < 0.4:  # knees up, feet on the floor
        _legs(pose, rng, (40.0, 75.0), (70.0, 120.0), abd=(0.0, 15.0))
    pose.update(pelvis_pitch=_U(rng, -92.0, -85.0), spine_pitch=_U(rng, -5.0, 10.0),
                neck_pitch=_U(rng, -10.0, 30.0), neck_yaw=_U(rng, -40.0, 40.0))
    for side in ("l", "r"):
        if rng.random() < 0.3:  # a hand under the head
            pose[f"{side}_sh_flex"], pose[f"{side}_sh_abd"] = _U(rng, 130.0, 170.0), _U(
                rng, 40.0, 80.0)
            pose[f"{side}_elbow"] = _U(rng, 110.0, 140.0)
        else:
            pose[f"{side}_sh_flex"], pose[f"{side}_sh_abd"] = _U(rng, -10.0, 30.0), _U(
                rng, 5.0, 60.0)
            pose[f"{side}_elbow"] = _U(rng, 0.0, 60.0)
    return pose


def _lie_side(rng: np.random.Generator) -> Angles:
    side = 1.0 if rng.random() < 0.5 else -1.0
    pose = _legs({}, rng, (10.0, 70.0), (20.0, 100.0), abd=(-5.0, 10.0), spread=15.0)
    pose.update(pelvis_roll=side * _U(rng, 80.0, 92.0), pelvis_pitch=_U(rng, -10.0, 10.0),
                spine_pitch=_U(rng, 0.0, 25.0), neck_roll=-side * _U(rng, 0.0, 20.0))
    under, top = ("r", "l") if side > 0 else ("l", "r")
    pose.update({f"{under}_sh_flex": _U(rng, 60.0, 150.0), f"{under}_sh_abd": _U(rng, 0.0, 20.0),
                 f"{under}_elbow": _U(rng, 30.0, 130.0), f"{top}_sh_flex": _U(rng, 0.0, 60.0),
                 f"{top}_sh_abd": _U(rng, 0.0, 20.0), f"{top}_elbow": _U(rng, 0.0, 90.0)})
    return pose


def _lie_front(rng: np.random.Generator) -> Angles:
    pose = _legs({}, rng, (-10.0, 5.0), (0.0, 30.0), abd=(3.0, 15.0), spread=8.0)
    pose.update(pelvis_pitch=_U(rng, 85.0, 92.0), spine_pitch=_U(rng, -20.0, 0.0),
                neck_pitch=_U(rng, -50.0, -10.0), neck_yaw=_U(rng, -50.0, 50.0))
    for side in ("l", "r"):  # on the forearms or arms alongside
        pose[f"{side}_sh_flex"] = _U(rng, 60.0, 150.0) if rng.random() < 0.6 else _U(
            rng, -10.0, 10.0)
        pose[f"{side}_sh_abd"] = _U(rng, 5.0, 40.0)
        pose[f"{side}_elbow"] = _U(rng, 60.0, 120.0)
    return pose


def _all_fours(rng: np.random.Generator) -> Angles:
    pose = _legs({}, rng, (75.0, 100.0), (80.0, 100.0), abd=(3.0, 12.0), spread=5.0)
    pose.update(pelvis_pitch=_U(rng, 75.0, 92.0), spine_pitch=_U(rng, -10.0, 10.0),
                neck_pitch=_U(rng, -50.0, -10.0))
    for side in ("l", "r"):
        pose[f"{side}_sh_flex"] = _U(rng, 75.0, 95.0)
        pose[f"{side}_sh_abd"] = _U(rng, 0.0, 15.0)
        pose[f"{side}_elbow"] = _U(rng, 0.0, 15.0)
    return pose


def _reach_up(rng: np.random.Generator) -> Angles:
    pose = _stand(rng)
    sides = ("l", "r") if rng.random() < 0.4 else (("l",) if rng.random() < 0.5 else ("r",))
    for side in sides:
        pose[f"{side}_sh_flex"] = _U(rng, 130.0, 175.0)
        pose[f"{side}_sh_abd"] = _U(rng, 0.0, 40.0)
        pose[f"{side}_elbow"] = _U(rng, 0.0, 40.0)
    pose.update(spine_pitch=_U(rng, -15.0, 0.0), neck_pitch=_U(rng, -45.0, -10.0))
    return pose


def _lean_table(rng: np.random.Generator) -> Angles:
    """Standing, leaning on a table with the hands or the forearms."""
    pose = _legs({}, rng, (15.0, 45.0), (0.0, 20.0), spread=5.0)
    pose.update(pelvis_pitch=_U(rng, 15.0, 45.0), spine_pitch=_U(rng, 5.0, 30.0),
                neck_pitch=_U(rng, -30.0, 20.0))
    on_forearms = rng.random() < 0.5
    for side in ("l", "r"):
        pose[f"{side}_sh_flex"] = _U(rng, 20.0, 50.0) if on_forearms else _U(rng, 40.0, 75.0)
        pose[f"{side}_sh_abd"] = _U(rng, 5.0, 30.0)
        pose[f"{side}_elbow"] = _U(rng, 80.0, 120.0) if on_forearms else _U(rng, 0.0, 25.0)
    return pose


@dataclass(frozen=True)
class Posture:
    """A key posture: `draw` gives its joint angles (degrees); `seat` the range of seat heights
    (mm, floor to seat) its pelvis rests on, if any; `arms_free`: a hand activity may replace its
    arms' angles; `cycle`: a repeated movement while held (crawling)."""

    draw: Callable[[np.random.Generator], Angles]
    neighbours: tuple[str, ...]
    seat: tuple[float, float] | None = None
    arms_free: bool = True
    cycle: str = ""


#: The key postures and which ones each may move to directly.
POSTURES: dict[str, Posture] = {
    "stand": Posture(_stand, ("chair", "stool", "squat", "bend", "kneel_one", "reach_up",
                              "lean_table", "stand")),
    "chair": Posture(_chair, ("stand", "chair"), seat=(380.0, 520.0)),
    "stool": Posture(_stool, ("stand",), seat=(580.0, 760.0)),
    "squat": Posture(_squat, ("stand", "kneel_one", "kneel_both", "cross_legged")),
    "bend": Posture(_bend, ("stand", "squat"), arms_free=False),
    "kneel_one": Posture(_kneel_one, ("stand", "kneel_both", "squat")),
    "kneel_both": Posture(_kneel_both, ("kneel_one", "kneel_sit", "all_fours")),
    "kneel_sit": Posture(_kneel_sit, ("kneel_both", "side_sit")),
    "cross_legged": Posture(_cross_legged, ("side_sit", "long_sit", "knees_up", "squat")),
    "side_sit": Posture(_side_sit, ("kneel_sit", "cross_legged", "long_sit", "all_fours",
                                    "lie_side")),
    "long_sit": Posture(_long_sit, ("cross_legged", "knees_up", "lie_back", "side_sit")),
    "knees_up": Posture(_knees_up, ("long_sit", "cross_legged", "lie_back", "squat")),
    "lie_back": Posture(_lie_back, ("long_sit", "knees_up", "lie_side")),
    "lie_side": Posture(_lie_side, ("lie_back", "lie_front", "side_sit")),
    "lie_front": Posture(_lie_front, ("lie_side", "all_fours")),
    "all_fours": Posture(_all_fours, ("kneel_both", "lie_front", "side_sit", "crawl")),
    "crawl": Posture(_all_fours, ("all_fours", "kneel_both"), arms_free=False, cycle="crawl"),
    "reach_up": Posture(_reach_up, ("stand",), arms_free=False),
    "lean_table": Posture(_lean_table, ("stand",), arms_free=False),
}
# Lying on the arms or leaning on them leaves no hand free.
for _name in ("lie_front", "all_fours", "long_sit", "side_sit"):
    POSTURES[_name] = Posture(POSTURES[_name].draw, POSTURES[_name].neighbours,
                              POSTURES[_name].seat, False, POSTURES[_name].cycle)


def _one_side(rng: np.random.Generator) -> tuple[str, str]:
    return ("l", "r") if rng.random() < 0.5 else ("r", "l")


def _phone_ear(rng: np.random.Generator, t: np.ndarray) -> dict[str, np.ndarray]:
    side, _ = _one_side(rng)
    c = np.ones_like(t)
    return {f"{side}_sh_flex": c * _U(rng, 15.0, 40.0), f"{side}_sh_abd": c * _U(rng, 25.0, 50.0),
            f"{side}_sh_rot": c * _U(rng, -40.0, -10.0), f"{side}_elbow": c * _U(rng, 130.0, 148.0),
            "neck_roll": c * _U(rng, -10.0, 10.0)}


def _phone_front(rng: np.random.Generator, t: np.ndarray) -> dict[str, np.ndarray]:
    c = np.ones_like(t)
    out = {"neck_pitch": c * _U(rng, 15.0, 40.0)}
    for side in ("l", "r") if rng.random() < 0.6 else _one_side(rng)[:1]:
        out.update({f"{side}_sh_flex": c * _U(rng, 15.0, 40.0),
                    f"{side}_sh_abd": c * _U(rng, 5.0, 20.0),
                    f"{side}_sh_rot": c * _U(rng, -45.0, -20.0),
                    f"{side}_elbow": c * _U(rng, 75.0, 105.0) + _wobble(rng, t, 6.0)})
    return out


def _to_mouth(rng: np.random.Generator, t: np.ndarray, period: tuple[float, float],
              hold: float) -> dict[str, np.ndarray]:
    """One hand raised to the mouth and lowered again, repeatedly (eating, drinking, smoking)."""
    side, _ = _one_side(rng)
    p = _U(rng, *period)
    u = np.mod(t / p + rng.random(), 1.0)
    up = np.clip(np.minimum(u / 0.25, (1.0 - u) / 0.25), 0.0, 1.0) * min(1.0, hold + 0.5)
    up = (1 - np.cos(np.pi * up)) / 2
    low_flex, low_elbow = _U(rng, 10.0, 35.0), _U(rng, 60.0, 95.0)
    return {f"{side}_sh_flex": low_flex + (_U(rng, 35.0, 60.0) - low_flex) * up,
            f"{side}_sh_abd": np.full_like(t, _U(rng, 5.0, 25.0)),
            f"{side}_sh_rot": -_U(rng, 20.0, 45.0) * up,
            f"{side}_elbow": low_elbow + (_U(rng, 130.0, 145.0) - low_elbow) * up}


def _eat(rng: np.random.Generator, t: np.ndarray) -> dict[str, np.ndarray]:
    out = _to_mouth(rng, t, (2.0, 4.0), 0.2)
    other = "l" if any(k.startswith("r_") for k in out) else "r"
    out.update({f"{other}_sh_flex": np.full_like(t, _U(rng, 15.0, 35.0)),
                f"{other}_elbow": np.full_like(t, _U(rng, 70.0, 100.0)),
                "neck_pitch": np.full_like(t, _U(rng, 5.0, 25.0))})
    return out


def _smoke(rng: np.random.Generator, t: np.ndarray) -> dict[str, np.ndarray]:
    return _to_mouth(rng, t, (4.0, 8.0), 0.6)


def _gesture(rng: np.random.Generator, t: np.ndarray) -> dict[str, np.ndarray]:
    out = {}
    for side in ("l", "r"):
        out[f"{side}_sh_flex"] = _U(rng, 10.0, 40.0) + _wobble(rng, t * 2.5, 25.0)
        out[f"{side}_sh_abd"] = _U(rng, 10.0, 30.0) + _wobble(rng, t * 2.5, 15.0)
        out[f"{side}_elbow"] = _U(rng, 50.0, 100.0) + _wobble(rng, t * 3.0, 30.0)
    out["neck_yaw"] = _wobble(rng, t, 25.0)
    return out


def _arms_crossed(rng: np.random.Generator, t: np.ndarray) -> dict[str, np.ndarray]:
    c = np.ones_like(t)
    return {k: c * v for k, v in _both({}, sh_flex=_U(rng, 15.0, 35.0), sh_abd=_U(rng, 5.0, 20.0),
                                       sh_rot=-_U(rng, 50.0, 70.0),
                                       elbow=_U(rng, 95.0, 120.0)).items()}


def _hands_on_hips(rng: np.random.Generator, t: np.ndarray) -> dict[str, np.ndarray]:
    c = np.ones_like(t)
    return {k: c * v for k, v in _both({}, sh_flex=_U(rng, -20.0, 0.0), sh_abd=_U(rng, 35.0, 55.0),
                                       sh_rot=-_U(rng, 10.0, 40.0),
                                       elbow=_U(rng, 85.0, 110.0)).items()}


def _chin_on_hand(rng: np.random.Generator, t: np.ndarray) -> dict[str, np.ndarray]:
    side, _ = _one_side(rng)
    c = np.ones_like(t)
    return {f"{side}_sh_flex": c * _U(rng, 20.0, 45.0), f"{side}_sh_abd": c * _U(rng, 0.0, 15.0),
            f"{side}_sh_rot": c * -_U(rng, 20.0, 40.0), f"{side}_elbow": c * _U(rng, 135.0, 148.0),
            "neck_pitch": c * _U(rng, 0.0, 20.0)}


def _free_arms(rng: np.random.Generator, t: np.ndarray) -> dict[str, np.ndarray]:
    """Arms anywhere in their range, moving slowly (holding, carrying, pointing, adjusting
    clothes: the many things no list names)."""
    out = {}
    for side in ("l", "r"):
        out[f"{side}_sh_flex"] = _U(rng, -30.0, 150.0) + _wobble(rng, t, 20.0)
        out[f"{side}_sh_abd"] = _U(rng, -10.0, 100.0) + _wobble(rng, t, 15.0)
        out[f"{side}_sh_rot"] = _U(rng, -60.0, 40.0) + _wobble(rng, t, 15.0)
        out[f"{side}_elbow"] = _U(rng, 0.0, 145.0) + _wobble(rng, t, 20.0)
    return out


#: Things the hands do while a posture is held (joint angles over time, degrees).
HAND_ACTIVITIES: dict[str, Callable[[np.random.Generator, np.ndarray], dict[str, np.ndarray]]] = {
    "phone_ear": _phone_ear, "phone_front": _phone_front, "eat": _eat, "smoke": _smoke,
    "gesture": _gesture, "arms_crossed": _arms_crossed, "hands_on_hips": _hands_on_hips,
    "chin_on_hand": _chin_on_hand, "free_arms": _free_arms,
}


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
    if int(num_frames) < 1:
        raise ValueError(f"num_frames must be at least 1, got {num_frames}")
    if not fps > 0:
        raise ValueError(f"fps must be positive, got {fps}")
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
