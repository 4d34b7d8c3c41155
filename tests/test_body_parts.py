"""Body parts taken from another window (``recombine``): bones, floor, torso frame, batches."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dynapose.config import LiftConfig
from dynapose.data.lift_motion import load_motion
from dynapose.errors import DynaPoseError
from dynapose.skeleton import NUM_JOINTS, bone_lengths
from dynapose.training.body_parts import PARTS, local_bones, recombine_parts
from dynapose.training.lift_batch import camera_tensors, make_batch, sample_windows

pytestmark = pytest.mark.usefixtures("one_thread")


def _windows(seed: int, n: int = 12, frames: int = 20) -> torch.Tensor:
    motion = load_motion("synthetic:16:150+postures:6:300")
    starts = np.random.default_rng(seed).integers(0, len(motion.world) - frames, n)
    return torch.from_numpy(np.stack([motion.world[s:s + frames] for s in starts]))


def _unit(v: torch.Tensor) -> torch.Tensor:
    return v / v.norm(dim=-1, keepdim=True)


def test_no_parts_taken_is_the_window_itself() -> None:
    world, donor = _windows(0), _windows(1)
    out = recombine_parts(world, donor, np.zeros((len(world), len(PARTS)), bool))
    torch.testing.assert_close(out, world, atol=2e-3, rtol=0)


def test_taken_parts_move_as_the_donor_in_the_torso_frame_with_own_bones_and_floor() -> None:
    world, donor = _windows(2), _windows(3)
    parts = np.random.default_rng(4).random((len(world), len(PARTS))) < 0.5
    parts[0] = [True, False, False, False]  # the legs alone
    out = recombine_parts(world, donor, parts)
    np.testing.assert_allclose(bone_lengths(out.numpy()), bone_lengths(world.numpy()), atol=2e-3)
    torch.testing.assert_close(out[..., 2].flatten(1).amin(1),
                               world[..., 2].flatten(1).amin(1), atol=2e-3, rtol=0)
    (_, mine), (_, theirs), (_, before) = local_bones(out), local_bones(donor), local_bones(world)
    for p, joints in enumerate(PARTS.values()):
        rows = torch.from_numpy(parts[:, p])
        torch.testing.assert_close(_unit(mine[rows][..., list(joints), :]),
                                   _unit(theirs[rows][..., list(joints), :]), atol=1e-4, rtol=0)
    untouched = [j for j in range(1, NUM_JOINTS) if j not in PARTS["legs"]]
    torch.testing.assert_close(_unit(mine[0, :, untouched]), _unit(before[0, :, untouched]),
                               atol=1e-4, rtol=0)
    assert float((out[0] - world[0]).norm(dim=-1).amax()) > 100  # the legs did change


def test_make_batch_recombines_a_share_and_keeps_draws_without_it() -> None:
    motion = load_motion("synthetic:16:150+postures:6:300")
    cams = camera_tensors(motion.cameras)
    frame, seq, cam = sample_windows(motion, 32, np.random.default_rng(1))
    plain = make_batch(motion, cams, frame, seq, cam, LiftConfig(flip=0.0),
                       np.random.default_rng(2))
    again = make_batch(motion, cams, frame, seq, cam, LiftConfig(flip=0.0, recombine=0.0),
                       np.random.default_rng(2))
    torch.testing.assert_close(plain, again, atol=0, rtol=0)
    mixed = make_batch(motion, cams, frame, seq, cam, LiftConfig(flip=0.0, recombine=1.0),
                       np.random.default_rng(2))
    moved = (mixed[1] - plain[1]).norm(dim=-1).mean(-1)
    assert bool((moved > 1).all())  # every window took a part
    assert bool(torch.isfinite(mixed[0]).all() and torch.isfinite(mixed[1]).all())
    np.testing.assert_allclose(bone_lengths(mixed[1].numpy()), bone_lengths(plain[1].numpy()),
                               atol=0.05)


@pytest.mark.parametrize("bad", [-0.1, 1.5])
def test_recombine_share_out_of_range_is_refused(bad: float) -> None:
    with pytest.raises(DynaPoseError, match="recombine must be in"):
        LiftConfig(recombine=bad).validate()
