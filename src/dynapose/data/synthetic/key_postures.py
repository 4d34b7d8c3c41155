"""The key postures and hand activities :mod:`dynapose.data.synthetic.postures` walks through:
each draws joint angles (degrees, the conventions of :mod:`dynapose.data.synthetic.motion`) at
random inside its own ranges, so no two draws of a posture are the same body placement; the
graph (:data:`POSTURES`) says which posture may follow which, and every angle is kept inside
:data:`JOINT_LIMITS`, adults' active ranges of motion (the orthopaedic norms' order of
magnitude, rounded inward).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from dynapose.data.synthetic.motion import _wobble

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


def _arms(pose: Angles, rng: np.random.Generator, flex: tuple[float, float],
          abd: tuple[float, float], elbow: tuple[float, float]) -> Angles:
    """Both arms drawn from the same ranges (shoulder flexion, abduction, elbow; degrees), each
    side on its own draw."""
    for side in ("l", "r"):
        pose[f"{side}_sh_flex"] = _U(rng, *flex)
        pose[f"{side}_sh_abd"] = _U(rng, *abd)
        pose[f"{side}_elbow"] = _U(rng, *elbow)
    return pose


def _arms_rest(pose: Angles, rng: np.random.Generator) -> Angles:
    return _arms(pose, rng, (-5.0, 20.0), (5.0, 20.0), (5.0, 35.0))


def _arms_on_thighs(pose: Angles, rng: np.random.Generator) -> Angles:
    return _arms(pose, rng, (15.0, 45.0), (5.0, 25.0), (40.0, 80.0))


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
    _arms(pose, rng, (40.0, 100.0), (0.0, 20.0), (0.0, 40.0))
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
    _arms(pose, rng, (30.0, 60.0), (5.0, 25.0), (20.0, 80.0))
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
    _arms(pose, rng, (75.0, 95.0), (0.0, 15.0), (0.0, 15.0))
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
