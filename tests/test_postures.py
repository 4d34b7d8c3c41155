"""Everyday postures: plausible by construction (bones, joint limits, floor, no sliding), every
posture reachable, reproducible, and selectable by name."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from dynapose.data.lift_motion import load_motion
from dynapose.data.synthetic.motion import sample_body
from dynapose.data.synthetic.postures import (
    CLEARANCE_MM,
    JOINT_LIMITS,
    POSTURES,
    _limit_key,
    _posture_plan,
    generate_postures,
    plausibility,
)
from dynapose.errors import DynaPoseError
from dynapose.skeleton import JOINT_NAMES


@pytest.mark.parametrize("seed", range(6))
def test_walks_are_plausible(seed: int) -> None:
    rng = np.random.default_rng(seed)
    motion = generate_postures(sample_body(rng), 1500, 50.0, rng)
    checks = plausibility(motion)
    assert checks["bone_stretch"] < 1e-4  # forward kinematics of one body
    assert checks["lowest_mm"] >= min(CLEARANCE_MM.values()) - 1e-3  # nothing below the floor
    assert checks["fastest_joint_mm_s"] < 8000  # no jumps: a fast hand is 3-5 m/s
    assert checks["resting_slide_mm_s"] < 800  # what rests on the floor stays (mostly) put
    heights = motion.joints[..., 2] - np.array([CLEARANCE_MM[n] for n in JOINT_NAMES])
    seated = (motion.joints[:, 0, 2] > 380) & (motion.joints[:, 0, 2] < 900)
    assert ((heights.min(axis=1) < 60) | seated).all()  # nobody floats: the floor or a seat


def test_angles_stay_inside_the_joint_limits() -> None:
    angles, _, _ = _posture_plan(3000, 50.0, np.random.default_rng(3))
    for key, values in angles.items():
        low, high = JOINT_LIMITS[_limit_key(key)]
        assert values.min() >= low - 1e-9 and values.max() <= high + 1e-9, key


def test_every_posture_is_reached_and_each_step_is_an_edge_of_the_graph() -> None:
    seen: set[str] = set()
    for seed in range(30):
        _, _, visited = _posture_plan(2000, 50.0, np.random.default_rng(seed))
        seen.update(visited)
        for a, b in itertools.pairwise(visited):
            assert b in POSTURES[a].neighbours, (a, b)
    assert seen == set(POSTURES)


def test_lying_is_low_and_standing_is_tall() -> None:
    rng = np.random.default_rng(0)
    body = sample_body(rng)
    lying = generate_postures(body, 400, 50.0, np.random.default_rng(1), allowed=("lie_back",))
    standing = generate_postures(body, 400, 50.0, np.random.default_rng(1), allowed=("stand",))
    assert lying.joints[..., 2].max() < 700  # a body lying on its back: knees up at most
    assert standing.joints[:, JOINT_NAMES.index("head"), 2].min() > 1300
    seated = generate_postures(body, 400, 50.0, np.random.default_rng(1), allowed=("chair",))
    pelvis = seated.joints[:, 0, 2]
    assert 380 < pelvis.min() and pelvis.max() < 800  # on a chair's seat


def test_the_same_seed_gives_the_same_motion() -> None:
    a = load_motion("postures:3:200")
    b = load_motion("postures:3:200")
    np.testing.assert_array_equal(a.world, b.world)
    assert [s["subject"] for s in a.sequences] == ["pose-0", "pose-1", "pose-2"]
    assert len(a.cameras) == 20


def test_postures_can_be_chosen_by_name() -> None:
    motion = load_motion("postures:2:300:kneel_both,kneel_sit,all_fours,crawl")
    for s in motion.sequences:
        assert set(s["action"].split()[0].split(">")) <= {"kneel_both", "kneel_sit", "all_fours",
                                                          "crawl"}
    with pytest.raises(DynaPoseError, match=r"unknown posture.*sofa"):
        load_motion("postures:2:300:chair,sofa")
    with pytest.raises(DynaPoseError, match="no postures"):
        load_motion("postures:2:300:")
