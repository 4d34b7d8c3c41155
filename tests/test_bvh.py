"""BVH import: parser, forward kinematics, rig mapping, units and axes, bad input, shared files."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from dynapose.data.bvh import (
    RIGS,
    bvh_positions,
    detect_unit_mm,
    find_rig,
    load_bvh,
    parse_bvh,
)
from dynapose.errors import DynaPoseError
from dynapose.skeleton import BONES, JOINT_NAMES, bone_lengths

MOCAP = Path(__file__).resolve().parents[2] / "shared" / "data" / "mocap"
SHARED_FILES = sorted(MOCAP.glob("*/*.bvh")) if MOCAP.is_dir() else []
needs_mocap = pytest.mark.skipif(not SHARED_FILES,
                                 reason=f"shared motion capture not found at {MOCAP}")

# --------------------------------------------------------------------------------------------
# Crafted files
# --------------------------------------------------------------------------------------------

TWO_JOINTS = """HIERARCHY
ROOT A
{
  OFFSET 0 0 0
  CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation
  JOINT B
  {
    OFFSET 0 10 0
    CHANNELS 3 {order}
    End Site
    {
      OFFSET 0 5 0
    }
  }
}
MOTION
Frames: 2
Frame Time: 0.04
1 2 3 0 0 0 0 0 0
1 2 3 90 0 0 {angles}
"""


def write(tmp_path: Path, text: str, name: str = "x.bvh") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize(("order", "angles", "end"), [
    # Rz(90) on the root turns B's offset (0,10,0) into (-10,0,0). B's channels, in file order:
    # "Zrotation Xrotation" = Rz @ Rx: Rx(90) maps (0,5,0) to (0,0,5), then Rz keeps it.
    ("Zrotation Xrotation Yrotation", "90 90 0", (0.0, 0.0, 5.0)),
    # "Xrotation Zrotation" = Rx @ Rz: Rz(90) maps (0,5,0) to (-5,0,0), then Rx keeps it;
    # the root's Rz(90) turns that into (0,-5,0).
    ("Xrotation Zrotation Yrotation", "90 90 0", (0.0, -5.0, 0.0)),
    ("Yrotation Xrotation Zrotation", "0 0 0", (-5.0, 0.0, 0.0)),
])
def test_forward_kinematics_known_answer(tmp_path, order, angles, end):
    data = parse_bvh(write(tmp_path, TWO_JOINTS.replace("{order}", order)
                           .replace("{angles}", angles)))
    assert data.names == ["A", "B", "B/End"]
    assert data.parents == [-1, 0, 1]
    assert data.num_frames == 2 and data.frame_time == pytest.approx(0.04)
    pos = bvh_positions(data)
    np.testing.assert_allclose(pos[0], [[1, 2, 3], [1, 12, 3], [1, 17, 3]], atol=1e-9)
    np.testing.assert_allclose(pos[1, 1], [-9, 2, 3], atol=1e-9)
    np.testing.assert_allclose(pos[1, 2] - pos[1, 1], end, atol=1e-9)


def test_position_channels_replace_the_offset(tmp_path):
    text = TWO_JOINTS.replace("CHANNELS 3 {order}", "CHANNELS 6 Xposition Yposition Zposition "
                              "Zrotation Xrotation Yrotation")
    text = text.replace("1 2 3 0 0 0 0 0 0\n1 2 3 90 0 0 {angles}",
                        "0 0 0 0 0 0 0 7 0 0 0 0\n0 0 0 0 0 0 0 8 0 0 0 0")
    pos = bvh_positions(parse_bvh(write(tmp_path, text)))
    assert pos[0, 1, 1] == pytest.approx(7.0) and pos[1, 1, 1] == pytest.approx(8.0)


# A CMU-style rig written in its T-pose (Y up, facing +Z, the person's left at +X), lengths in
# CMU units. Every joint has 3 rotation channels, the root 6. Used to test the mapping, units,
# axes and handedness without the shared files.
CMU_TREE = [  # name, parent, offset (CMU units)
    ("Hips", None, (0, 0, 0)),
    ("LHipJoint", "Hips", (0, 0, 0)), ("LeftUpLeg", "LHipJoint", (1.4, -1.8, 0.0)),
    ("LeftLeg", "LeftUpLeg", (0, -7.2, 0)), ("LeftFoot", "LeftLeg", (0, -7.5, 0)),
    ("LeftToeBase", "LeftFoot", (0, -0.9, 2.3)),
    ("RHipJoint", "Hips", (0, 0, 0)), ("RightUpLeg", "RHipJoint", (-1.4, -1.8, 0.0)),
    ("RightLeg", "RightUpLeg", (0, -7.2, 0)), ("RightFoot", "RightLeg", (0, -7.5, 0)),
    ("RightToeBase", "RightFoot", (0, -0.9, 2.3)),
    ("LowerBack", "Hips", (0, 0, 0)), ("Spine", "LowerBack", (0, 2.0, 0)),
    ("Spine1", "Spine", (0, 2.0, 0)), ("Neck", "Spine1", (0, 0, 0)),
    ("Neck1", "Neck", (0, 1.75, 0)), ("Head", "Neck1", (0, 1.75, 0)),
    ("LeftShoulder", "Spine1", (0, 0, 0)), ("LeftArm", "LeftShoulder", (3.0, 1.2, 0)),
    ("LeftForeArm", "LeftArm", (5.0, 0, 0)), ("LeftHand", "LeftForeArm", (3.5, 0, 0)),
    ("RightShoulder", "Spine1", (0, 0, 0)), ("RightArm", "RightShoulder", (-3.0, 1.2, 0)),
    ("RightForeArm", "RightArm", (-5.0, 0, 0)), ("RightHand", "RightForeArm", (-3.5, 0, 0)),
]
LEAVES = {"LeftToeBase", "RightToeBase", "Head", "LeftHand", "RightHand"}


def cmu_text(frames: np.ndarray, scale: float = 1.0, drop: set[str] = frozenset(),
             frame_time: float = 1 / 120) -> str:
    """BVH text of the CMU-style rig; `frames` (F, 6 + 3 * (J - 1)) channel values."""
    tree = [row for row in CMU_TREE if row[0] not in drop]
    children: dict[str | None, list] = {}
    for name, parent, off in tree:
        children.setdefault(parent, []).append((name, off))
    lines = ["HIERARCHY"]

    def emit(name: str, off: tuple, depth: int, root: bool) -> None:
        ind = "  " * depth
        lines.append(f"{ind}{'ROOT' if root else 'JOINT'} {name}")
        lines.append(f"{ind}{{")
        lines.append(f"{ind}  OFFSET " + " ".join(f"{scale * v:.6f}" for v in off))
        lines.append(f"{ind}  CHANNELS " + ("6 Xposition Yposition Zposition " if root else "3 ")
                     + "Zrotation Yrotation Xrotation")
        for child, coff in children.get(name, []):
            emit(child, coff, depth + 1, False)
        if name in LEAVES:
            lines.extend([f"{ind}  End Site", f"{ind}  {{", f"{ind}    OFFSET 0 0 0",
                          f"{ind}  }}"])
        lines.append(f"{ind}}}")

    emit("Hips", (0, 0, 0), 0, True)
    lines += ["MOTION", f"Frames: {len(frames)}", f"Frame Time: {frame_time}"]
    lines += [" ".join(f"{v:.6f}" for v in row) for row in frames]
    return "\n".join(lines) + "\n"


def walking_frames(n: int = 12, scale: float = 1.0) -> np.ndarray:
    """Channel values: the T-pose rig gliding forward along +Z (its facing) at hip height."""
    frames = np.zeros((n, 6 + 3 * (len(CMU_TREE) - 1)))
    frames[:, 1] = 17.4 * scale  # Hips height above the floor: legs 1.8 + 7.2 + 7.5 + toe 0.9
    frames[:, 2] = np.linspace(0.0, 10.0, n) * scale
    return frames


def test_cmu_rig_units_axes_and_left_right(tmp_path):
    motion = load_bvh(write(tmp_path, cmu_text(walking_frames()), "cmu.bvh"))
    assert motion.fps == pytest.approx(120.0)
    assert motion.joints.shape == (12, 17, 3) and motion.joints.dtype == np.float32
    j = motion.joints
    unit = 25.4 / 0.45
    # Z up: the head is above the ankles; thigh length converted from CMU units to mm.
    assert (j[:, 10, 2] > j[:, 3, 2] + 1000).all()
    np.testing.assert_allclose(bone_lengths(j)[:, 1], 7.2 * unit, rtol=1e-5)
    # Floor at 0: the toes (0.9 units below the ankle) touch it.
    np.testing.assert_allclose(j[:, [3, 6], 2], 0.9 * unit, atol=1e-3)
    # The person walks towards BVH +Z, which is world -Y; their left (BVH +X) stays on their
    # left: left = up x forward = +X.
    travel = j[-1, 0] - j[0, 0]
    assert travel[1] < -500 and abs(travel[0]) < 1e-3
    left_dir = np.cross([0.0, 0.0, 1.0], travel / np.linalg.norm(travel))
    assert ((j[:, 4] - j[:, 1]) @ left_dir > 100).all()
    assert ((j[:, 11] - j[:, 14]) @ left_dir > 100).all()
    assert find_rig([n for n, _, _ in CMU_TREE]) == "cmu"


@pytest.mark.parametrize(("unit_name", "scale"), [("centimetre", 25.4 / 0.45 / 10),
                                                  ("metre", 25.4 / 0.45 / 1000),
                                                  ("millimetre", 25.4 / 0.45)])
def test_units_are_detected(tmp_path, unit_name, scale):
    ref = load_bvh(write(tmp_path, cmu_text(walking_frames()), "a.bvh")).joints
    text = cmu_text(walking_frames(scale=scale), scale=scale)
    np.testing.assert_allclose(load_bvh(write(tmp_path, text, "b.bvh")).joints, ref, atol=0.05)
    with pytest.raises(DynaPoseError):
        detect_unit_mm(5.0, "x.bvh")  # a 5-unit person is no human in any known unit


def test_unit_override_and_rigid_off(tmp_path):
    path = write(tmp_path, cmu_text(walking_frames()), "a.bvh")
    ref = load_bvh(path).joints
    doubled = load_bvh(path, unit_mm=2 * 25.4 / 0.45, rigid=False).joints
    np.testing.assert_allclose(doubled[:, :, 2], 2 * ref[:, :, 2], rtol=1e-4, atol=0.05)


def test_z_up_file_gives_same_heights(tmp_path):
    # Rotate the whole rig by +90 degrees about X so that BVH +Y (up) becomes +Z.
    frames = walking_frames()
    frames[:, 3 + 2] = 90.0  # root Xrotation (channels: Zrot Yrot Xrot)
    frames[:, [1, 2]] = np.stack([-frames[:, 2], frames[:, 1]], axis=1)
    z_up = load_bvh(write(tmp_path, cmu_text(frames), "z.bvh")).joints
    y_up = load_bvh(write(tmp_path, cmu_text(walking_frames()), "y.bvh")).joints
    np.testing.assert_allclose(z_up[..., 2], y_up[..., 2], atol=0.05)


def test_crlf_tabs_and_braces_on_one_line(tmp_path):
    text = re.sub(r"\n\s*\{", " {", cmu_text(walking_frames())).replace("  ", "\t")
    assert text.count(" {") == len(CMU_TREE) + len(LEAVES)  # joints and End Sites
    ref = load_bvh(write(tmp_path, cmu_text(walking_frames()), "a.bvh")).joints
    path = tmp_path / "crlf.bvh"
    path.write_bytes(text.replace("\n", "\r\n").encode())
    np.testing.assert_array_equal(load_bvh(path).joints, ref)


def test_action_and_subject_from_file_name(tmp_path):
    text = cmu_text(walking_frames())
    assert load_bvh(write(tmp_path, text, "dataset-1_walk_happy_001.bvh")).action == "walk"
    m = load_bvh(write(tmp_path, text, "dataset-2_raise-up_normal_001.bvh"))
    assert (m.action, m.subject) == ("raise-up", "dataset-2_raise-up_normal_001")
    assert load_bvh(write(tmp_path, text, "q.bvh"), action="sit", subject="S").action == "sit"


# --------------------------------------------------------------------------------------------
# Bad input: one-line DynaPoseError naming the file
# --------------------------------------------------------------------------------------------

GOOD = TWO_JOINTS.replace("{order}", "Zrotation Xrotation Yrotation").replace("{angles}", "0 0 0")


@pytest.mark.parametrize(("text", "message"), [
    (GOOD.split("MOTION")[0], "no MOTION section"),
    (GOOD.replace("1 2 3 90 0 0 0 0 0\n", "1 2 3 90 0\n"), "truncated MOTION data"),
    (GOOD + "5 5\n", "more than"),
    (GOOD.replace("1 2 3 90 0 0", "1 2 x 90 0 0"), "bad number 'x'"),
    (GOOD.replace("OFFSET 0 10 0", "OFFSET 0 ten 0"), "bad number 'ten'"),
    (GOOD.replace("Frames: 2", "Frames: 0"), "zero frames"),
    (GOOD.replace("Frames: 2", "Frames: two"), "bad frame count"),
    (GOOD.replace("Frame Time: 0.04", "Frame Time: 0"), "Frame Time must be positive"),
    (GOOD.replace("Frame Time: 0.04", ""), "lacks 'Frame Time:'"),
    (GOOD.replace("Zrotation Xrotation Yrotation", "Zrotation Wrotation Yrotation"),
     "unknown channel"),
    (GOOD.replace("CHANNELS 3", "CHANNELS three"), "bad channel count"),
    (GOOD.replace("    {\n      OFFSET 0 5 0\n    }\n", ""), "expected '{'"),
    (GOOD.replace("HIERARCHY", "HIERARCHIE"), "not a BVH file"),
    (GOOD.replace("}\nMOTION", "MOTION"), "truncated HIERARCHY"),
    (GOOD.replace("}\nMOTION", "}\nROOT C\n{\n OFFSET 0 0 0\n CHANNELS 0\n}\nMOTION"),
     "only one ROOT"),
    (GOOD.replace("Frames: 2", "Frames: -2"), "bad frame count"),
    (GOOD.replace("1 2 3 90 0 0", "1 2 nan 90 0 0"), "non-finite"),
    (GOOD.replace("CHANNELS 3 Zrotation Xrotation", "CHANNELS 3 Zrotation Zrotation"),
     "repeated channel"),
    ("hello world\n", "not a BVH file"),
    ("", "not a BVH file"),
])
def test_malformed_bvh_is_a_clear_error(tmp_path, text, message):
    path = write(tmp_path, text, "bad.bvh")
    with pytest.raises(DynaPoseError) as info:
        load_bvh(path)
    msg = str(info.value)
    assert message in msg and str(path) in msg and "\n" not in msg


def test_missing_joints_and_missing_file(tmp_path):
    path = write(tmp_path, GOOD, "two.bvh")
    with pytest.raises(DynaPoseError, match="lacks the joints needed") as info:
        load_bvh(path)
    assert str(path) in str(info.value) and "LeftUpLeg" in str(info.value)
    no_knee = write(tmp_path, cmu_text(walking_frames()[:, :-3], drop={"LeftHand"}), "c.bvh")
    with pytest.raises(DynaPoseError, match="LeftHand"):
        load_bvh(no_knee)
    with pytest.raises(DynaPoseError, match="cannot read"):
        load_bvh(tmp_path / "absent.bvh")


# --------------------------------------------------------------------------------------------
# The shared motion-capture files
# --------------------------------------------------------------------------------------------


@cache
def _load(path: Path, rigid: bool = True):
    return load_bvh(path, rigid=rigid)


def _ids(paths):
    return [f"{p.parent.name}/{p.stem}" for p in paths]


@needs_mocap
def test_every_shared_file_is_a_known_rig():
    assert len(SHARED_FILES) >= 40
    for path in SHARED_FILES:
        names = parse_bvh(path).names
        assert find_rig(names) == ("cmu" if "cmu" in path.parent.name else "bandai_namco")


@needs_mocap
@pytest.mark.parametrize("path", SHARED_FILES, ids=_ids(SHARED_FILES))
def test_shared_file_loads_plausibly(path):
    m = _load(path)
    j = m.joints
    assert j.ndim == 3 and j.shape[1:] == (17, 3) and j.shape[0] >= 20
    assert m.fps == pytest.approx(30.0 if "bandai" in str(path) else 120.0, rel=1e-3)
    assert m.source == str(path)
    # Constant bones (rigid mapping); raw mapping: the rig's own limb bones are constant too.
    assert bone_lengths(j).std(axis=0).max() < 0.01
    raw = bone_lengths(_load(path, rigid=False).joints)
    limb = [i for i, (c, _) in enumerate(BONES)
            if JOINT_NAMES[c].endswith(("knee", "ankle", "elbow", "wrist"))]
    assert raw[:, limb].std(axis=0).max() < 0.05
    # Human size in mm: the upright ankle-to-head chain, and the head's height over the clip.
    bl = bone_lengths(j)[0]
    names = {JOINT_NAMES[c]: i for i, (c, _) in enumerate(BONES)}
    upright = (bl[names["right_ankle"]] + bl[names["right_knee"]] + bl[names["spine"]]
               + bl[names["thorax"]] + bl[names["neck"]] + bl[names["head"]])
    assert 1400 < upright < 2000
    assert 1200 < np.percentile(j[:, 10, 2], 95) < 2100
    # Feet on the floor: the lower ankle is near z = 0 (ankle joints sit 1-13 cm above it).
    lower = j[:, [3, 6], 2].min(axis=1)
    assert 0 < np.percentile(lower, 5) < 150
    assert lower.min() > -30
    # No teleports: no joint moves faster than 15 m/s.
    assert (np.linalg.norm(np.diff(j, axis=0), axis=-1).max() * m.fps) < 15000


WALKS = [p for p in SHARED_FILES
         if p.stem in {"dataset-1_walk_normal_001", "dataset-2_walk_normal_001",
                       "dataset-1_walk_old_001", "neutral_01_000", "sexy_01_000",
                       "strutting_01_000"}]


@needs_mocap
@pytest.mark.parametrize("path", WALKS, ids=_ids(WALKS))
def test_walking_clips_keep_left_on_the_left(path):
    j = _load(path).joints
    travel = j[-1, 0, :2] - j[0, 0, :2]
    assert np.linalg.norm(travel) > 1000
    fwd = travel / np.linalg.norm(travel)
    left_dir = np.array([-fwd[1], fwd[0]])  # up x forward
    assert np.mean((j[:, 4, :2] - j[:, 1, :2]) @ left_dir > 50) > 0.9  # hips
    assert np.mean((j[:, 11, :2] - j[:, 14, :2]) @ left_dir > 50) > 0.9  # shoulders
    # While walking one foot is planted: the slower ankle barely moves (a wrong rotation order
    # or axis convention makes both feet slide).
    speed = np.linalg.norm(np.diff(j[:, [3, 6], :2], axis=0), axis=-1) * _load(path).fps
    assert np.median(speed.min(axis=1)) < 120


@needs_mocap
def test_walking_backwards_faces_against_travel():
    path = MOCAP / "bandai_namco" / "dataset-1_walk-back_normal_001.bvh"
    if not path.is_file():
        pytest.skip(f"{path} not present")
    j = _load(path).joints
    travel = j[-1, 0, :2] - j[0, 0, :2]
    fwd = -travel / np.linalg.norm(travel)  # facing is opposite to the travel
    left_dir = np.array([-fwd[1], fwd[0]])
    assert np.mean((j[:, 4, :2] - j[:, 1, :2]) @ left_dir > 50) > 0.9


def test_rigs_table_is_complete():
    for table in RIGS.values():
        assert set(table) == set(JOINT_NAMES)
