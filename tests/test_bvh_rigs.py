"""BVH files of the common rigs: synonym table, joint maps, missing-joint errors, shared files.

Every rig below is written from one template: the same rest pose (a T-pose, Y up, facing +Z,
the person's left at +X, centimetres) and the same motion, only the joint names, prefixes and a
few helper joints (zero-length or unmoving ones, which change no position) differ. So every
rig must give the same 17 joints, and those are checked against positions worked out here.
"""

from __future__ import annotations

import json
import re
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from conftest import shared_path
from dynapose.cli import main
from dynapose.data.bvh import load_bvh, parse_bvh, rig_joints
from dynapose.data.bvh_rigs import (
    H36M_HEAD_MM,
    H36M_NOSE_MM,
    H36M_SIZE_MM,
    SPINE_FRACTION,
    SYNONYMS,
    JointMap,
    candidates,
    normalise_name,
    read_joint_map,
)
from dynapose.errors import DynaPoseError
from dynapose.skeleton import JOINT_NAMES

# --------------------------------------------------------------------------------------------
# The template: rest positions (cm) and default parents of its slots
# --------------------------------------------------------------------------------------------

SLOTS: dict[str, tuple[str | None, tuple[float, float, float]]] = {
    "root": (None, (0, 100, 0)),
    "pelvis": ("root", (0, 100, 0)),  # optional, zero length (CC Pelvis, Biped Pelvis...)
    "hipjoint_l": ("pelvis", (0, 100, 0)),  # optional, zero length (CMU LHipJoint...)
    "hip_l": ("hipjoint_l", (9, 94, 0)),
    "knee_l": ("hip_l", (9, 52, 1)),
    "ankle_l": ("knee_l", (9, 10, -1)),
    "toe_l": ("ankle_l", (9, 3, 12)),
    "hipjoint_r": ("pelvis", (0, 100, 0)),
    "hip_r": ("hipjoint_r", (-9, 94, 0)),
    "knee_r": ("hip_r", (-9, 52, 1)),
    "ankle_r": ("knee_r", (-9, 10, -1)),
    "toe_r": ("ankle_r", (-9, 3, 12)),
    "lowerback": ("root", (0, 100, 0)),  # optional, zero length (CMU LowerBack)
    "spine_a": ("lowerback", (0, 110, 0)),  # on the line from the hips' midpoint to the root
    "spine_b": ("spine_a", (0, 120, 1)),  # optional: on the segment spine_a -> chest
    "spine_c": ("spine_b", (0, 130, 2)),  # optional: on the segment spine_a -> chest
    "chest": ("spine_c", (0, 140, 3)),
    "neckbase": ("chest", (0, 140, 3)),  # optional, zero length (CMU Neck)
    "neck": ("neckbase", (0, 152, 0)),  # the thorax
    "neck_mid": ("neck", (0, 157, 1)),  # optional, never turns
    "head": ("neck_mid", (0, 163, 1)),
    "clav_l": ("chest", (3, 148, 0)),
    "shoulder_l": ("clav_l", (17, 147, 0)),
    "elbow_l": ("shoulder_l", (45, 147, 0)),
    "wrist_l": ("elbow_l", (70, 147, 0)),
    "hand_l": ("wrist_l", (78, 147, 0)),  # optional leaf (fingers, SMPL's L_Hand)
    "clav_r": ("chest", (-3, 148, 0)),
    "shoulder_r": ("clav_r", (-17, 147, 0)),
    "elbow_r": ("shoulder_r", (-45, 147, 0)),
    "wrist_r": ("elbow_r", (-70, 147, 0)),
    "hand_r": ("wrist_r", (-78, 147, 0)),
    "pole_r": ("root", (-9, 52, 30)),  # optional: an IK target in front of the right knee
}
OPTIONAL = {"pelvis", "hipjoint_l", "hipjoint_r", "lowerback", "spine_b", "spine_c", "neckbase",
            "neck_mid", "hand_l", "hand_r", "pole_r"}
#: The slot at each of the 17 joints (pelvis, spine, neck and head follow rules).
AT = {"right_hip": "hip_r", "right_knee": "knee_r", "right_ankle": "ankle_r",
      "left_hip": "hip_l", "left_knee": "knee_l", "left_ankle": "ankle_l", "thorax": "neck",
      "left_shoulder": "shoulder_l", "left_elbow": "elbow_l", "left_wrist": "wrist_l",
      "right_shoulder": "shoulder_r", "right_elbow": "elbow_r", "right_wrist": "wrist_r"}


def _sided(names: dict[str, str]) -> dict[str, str]:
    """Expand "x_*" slots written with {L}/{Left}/{l} into both sides."""
    out = {}
    for slot, name in names.items():
        if slot.endswith("_*"):
            for side, subst in (("l", ("Left", "L", "l")), ("r", ("Right", "R", "r"))):
                out[slot[:-1] + side] = (name.replace("{Left}", subst[0])
                                         .replace("{L}", subst[1]).replace("{l}", subst[2]))
        else:
            out[slot] = name
    return out


#: Each rig: slot -> joint name (slots left out must be OPTIONAL), and parent overrides.
RIGS: dict[str, tuple[dict[str, str], dict[str, str]]] = {
    "mixamo": ({"root": "mixamorig:Hips", "hip_*": "mixamorig:{Left}UpLeg",
                "knee_*": "mixamorig:{Left}Leg", "ankle_*": "mixamorig:{Left}Foot",
                "toe_*": "mixamorig:{Left}ToeBase", "spine_a": "mixamorig:Spine",
                "spine_b": "mixamorig:Spine1", "chest": "mixamorig:Spine2",
                "neck": "mixamorig:Neck", "head": "mixamorig:Head",
                "clav_*": "mixamorig:{Left}Shoulder", "shoulder_*": "mixamorig:{Left}Arm",
                "elbow_*": "mixamorig:{Left}ForeArm", "wrist_*": "mixamorig:{Left}Hand",
                "hand_*": "mixamorig:{Left}HandMiddle1"}, {}),
    "mixamo1": ({"root": "mixamorig1:Hips", "hip_*": "mixamorig1:{Left}UpLeg",
                 "knee_*": "mixamorig1:{Left}Leg", "ankle_*": "mixamorig1:{Left}Foot",
                 "toe_*": "mixamorig1:{Left}ToeBase", "spine_a": "mixamorig1:Spine",
                 "spine_b": "mixamorig1:Spine1", "chest": "mixamorig1:Spine2",
                 "neck": "mixamorig1:Neck", "head": "mixamorig1:Head",
                 "clav_*": "mixamorig1:{Left}Shoulder", "shoulder_*": "mixamorig1:{Left}Arm",
                 "elbow_*": "mixamorig1:{Left}ForeArm", "wrist_*": "mixamorig1:{Left}Hand"},
                {}),
    "cmu_daz": ({"root": "hip", "hipjoint_*": "{l}Buttock", "hip_*": "{l}Thigh",
                 "knee_*": "{l}Shin", "ankle_*": "{l}Foot", "toe_*": "{l}Toe",
                 "spine_a": "abdomen", "chest": "chest", "neck": "neck", "head": "head",
                 "clav_*": "{l}Collar", "shoulder_*": "{l}Shldr", "elbow_*": "{l}ForeArm",
                 "wrist_*": "{l}Hand"}, {}),
    "cmu_asf": ({"root": "root", "hipjoint_*": "{l}hipjoint", "hip_*": "{l}femur",
                 "knee_*": "{l}tibia", "ankle_*": "{l}foot", "toe_*": "{l}toes",
                 "lowerback": "lowerback", "spine_a": "upperback", "chest": "thorax",
                 "neck": "lowerneck", "neck_mid": "upperneck", "head": "head",
                 "clav_*": "{l}clavicle", "shoulder_*": "{l}humerus", "elbow_*": "{l}radius",
                 "wrist_*": "{l}wrist", "hand_*": "{l}hand"}, {}),
    "cmu_3dsmax": ({"root": "Hips", "hipjoint_*": "{L}HipJoint", "hip_*": "{Left}Hip",
                    "knee_*": "{Left}Knee", "ankle_*": "{Left}Ankle", "toe_*": "{Left}Toe",
                    "spine_a": "Spine", "chest": "Spine1", "neck": "Neck",
                    "head": "Head", "clav_*": "{Left}Collar", "shoulder_*": "{Left}Shoulder",
                    "elbow_*": "{Left}Elbow", "wrist_*": "{Left}Wrist"}, {}),
    "daz_genesis8": ({"root": "hip", "pelvis": "pelvis", "hip_*": "{l}ThighBend",
                      "knee_*": "{l}Shin", "ankle_*": "{l}Foot", "toe_*": "{l}Toe",
                      "spine_a": "abdomenLower", "spine_b": "abdomenUpper",
                      "spine_c": "chestLower", "chest": "chestUpper", "neck": "neckLower",
                      "neck_mid": "neckUpper", "head": "head", "clav_*": "{l}Collar",
                      "shoulder_*": "{l}ShldrBend", "elbow_*": "{l}ForearmBend",
                      "wrist_*": "{l}Hand", "hand_*": "{l}Mid1"}, {}),
    "character_creator": ({"root": "CC_Base_Hip", "pelvis": "CC_Base_Pelvis",
                           "hip_*": "CC_Base_{L}_Thigh", "knee_*": "CC_Base_{L}_Calf",
                           "ankle_*": "CC_Base_{L}_Foot", "toe_*": "CC_Base_{L}_ToeBase",
                           "spine_a": "CC_Base_Waist", "spine_b": "CC_Base_Spine01",
                           "chest": "CC_Base_Spine02", "neck": "CC_Base_NeckTwist01",
                           "neck_mid": "CC_Base_NeckTwist02", "head": "CC_Base_Head",
                           "clav_*": "CC_Base_{L}_Clavicle",
                           "shoulder_*": "CC_Base_{L}_Upperarm",
                           "elbow_*": "CC_Base_{L}_Forearm", "wrist_*": "CC_Base_{L}_Hand"},
                          {}),
    "rokoko": ({"root": "Hips", "hip_*": "{Left}Thigh", "knee_*": "{Left}Shin",
                "ankle_*": "{Left}Foot", "toe_*": "{Left}Toe", "spine_a": "Spine1",
                "spine_b": "Spine2", "spine_c": "Spine3", "chest": "Spine4", "neck": "Neck",
                "head": "Head", "clav_*": "{Left}Shoulder", "shoulder_*": "{Left}Arm",
                "elbow_*": "{Left}ForeArm", "wrist_*": "{Left}Hand"}, {}),
    "perception_neuron": ({"root": "Hips", "hip_*": "{Left}UpLeg", "knee_*": "{Left}Leg",
                           "ankle_*": "{Left}Foot", "spine_a": "Spine", "spine_b": "Spine1",
                           "chest": "Spine2", "neck": "Neck", "neck_mid": "Neck1",
                           "head": "Head", "toe_*": "{Left}FootEnd",
                           "clav_*": "{Left}Shoulder", "shoulder_*": "{Left}Arm",
                           "elbow_*": "{Left}ForeArm", "wrist_*": "{Left}Hand",
                           "hand_*": "{Left}HandMiddle1"}, {}),
    "bandai_namco": ({"root": "Hips", "hip_*": "UpperLeg_{L}", "knee_*": "LowerLeg_{L}",
                      "ankle_*": "Foot_{L}", "toe_*": "Toes_{L}", "spine_a": "Spine",
                      "chest": "Chest", "neck": "Neck", "head": "Head",
                      "clav_*": "Shoulder_{L}", "shoulder_*": "UpperArm_{L}",
                      "elbow_*": "LowerArm_{L}", "wrist_*": "Hand_{L}"}, {}),
    # Biped hangs the thighs off its first spine link.
    "3dsmax_biped": ({"root": "Bip01", "pelvis": "Bip01 Pelvis", "hip_*": "Bip01 {L} Thigh",
                      "knee_*": "Bip01 {L} Calf", "ankle_*": "Bip01 {L} Foot",
                      "toe_*": "Bip01 {L} Toe0", "spine_a": "Bip01 Spine",
                      "spine_b": "Bip01 Spine1", "chest": "Bip01 Spine2",
                      "neck": "Bip01 Neck", "head": "Bip01 Head",
                      "clav_*": "Bip01 {L} Clavicle", "shoulder_*": "Bip01 {L} UpperArm",
                      "elbow_*": "Bip01 {L} Forearm", "wrist_*": "Bip01 {L} Hand"},
                     {"hip_l": "spine_a", "hip_r": "spine_a", "spine_a": "pelvis"}),
    "unreal": ({"root": "pelvis", "hip_*": "thigh_{l}", "knee_*": "calf_{l}",
                "ankle_*": "foot_{l}", "toe_*": "ball_{l}", "spine_a": "spine_01",
                "spine_b": "spine_02", "chest": "spine_03", "neck": "neck_01", "head": "head",
                "clav_*": "clavicle_{l}", "shoulder_*": "upperarm_{l}",
                "elbow_*": "lowerarm_{l}", "wrist_*": "hand_{l}"}, {}),
    # SMPL: L_Foot is the toe, L_Hand below the wrist, L_Shoulder the shoulder.
    "smpl": ({"root": "Pelvis", "hip_*": "{L}_Hip", "knee_*": "{L}_Knee",
              "ankle_*": "{L}_Ankle", "toe_*": "{L}_Foot", "spine_a": "Spine1",
              "spine_b": "Spine2", "chest": "Spine3", "neck": "Neck", "head": "Head",
              "clav_*": "{L}_Collar", "shoulder_*": "{L}_Shoulder", "elbow_*": "{L}_Elbow",
              "wrist_*": "{L}_Wrist", "hand_*": "{L}_Hand"}, {}),
    "humanik_namespaced": ({"root": "Take1:Character1_Hips",
                            "hip_*": "Take1:Character1_{Left}UpLeg",
                            "knee_*": "Take1:Character1_{Left}Leg",
                            "ankle_*": "Take1:Character1_{Left}Foot",
                            "toe_*": "Take1:Character1_{Left}ToeBase",
                            "spine_a": "Take1:Character1_Spine",
                            "chest": "Take1:Character1_Spine1", "neck": "Take1:Character1_Neck",
                            "head": "Take1:Character1_Head",
                            "clav_*": "Take1:Character1_{Left}Shoulder",
                            "shoulder_*": "Take1:Character1_{Left}Arm",
                            "elbow_*": "Take1:Character1_{Left}ForeArm",
                            "wrist_*": "Take1:Character1_{Left}Hand"}, {}),
}
#: CMU's own 31-joint naming (cgspeed): the calibrated table `bvh.RIGS["cmu"]` reads it.
CMU_NAMES = ({"root": "Hips", "hipjoint_*": "{L}HipJoint", "hip_*": "{Left}UpLeg",
              "knee_*": "{Left}Leg", "ankle_*": "{Left}Foot", "toe_*": "{Left}ToeBase",
              "lowerback": "LowerBack", "spine_a": "Spine", "chest": "Spine1",
              "neckbase": "Neck", "neck": "Neck1", "head": "Head",
              "clav_*": "{Left}Shoulder", "shoulder_*": "{Left}Arm", "elbow_*": "{Left}ForeArm",
              "wrist_*": "{Left}Hand", "hand_*": "{Left}FingerBase"}, {})

#: The motion: the root's place (cm) and yaw (degrees about +Y), the head's nod (about +X).
FRAMES = [((0, 100, 0), 0, 0), ((20, 101, -30), 90, 0), ((5, 99, 40), 0, 30),
          ((-10, 100, 10), -60, -20), ((0, 100, 0), 180, 45)]


def rig_text(names: dict[str, str], parents: dict[str, str] | None = None,
             repeat: int = 1) -> str:
    """BVH text of the template under the names `names` (slot -> name; "x_*" for both sides)."""
    names = _sided(names)
    assert set(SLOTS) - set(names) <= OPTIONAL, set(SLOTS) - set(names) - OPTIONAL
    parents = parents or {}

    def parent_of(slot: str) -> str | None:
        p = parents.get(slot, SLOTS[slot][0])
        while p is not None and p not in names:  # a left-out slot: hang off its parent
            p = SLOTS[p][0]
        return p

    kids: dict[str | None, list[str]] = {}
    for slot in SLOTS:
        if slot in names:
            kids.setdefault(parent_of(slot), []).append(slot)
    order: list[str] = []
    lines = ["HIERARCHY"]

    def emit(slot: str, depth: int) -> None:
        ind = "  " * depth
        p = parent_of(slot)
        off = np.subtract(SLOTS[slot][1], SLOTS[p][1] if p else (0, 0, 0))
        lines.append(f"{ind}{'JOINT' if p else 'ROOT'} {names[slot]}")
        lines.append(f"{ind}{{")
        lines.append(f"{ind}  OFFSET {off[0]:g} {off[1]:g} {off[2]:g}")
        lines.append(f"{ind}  CHANNELS " + ("3 " if p else "6 Xposition Yposition Zposition ")
                     + "Zrotation Xrotation Yrotation")
        order.append(slot)
        for k in kids.get(slot, []):
            emit(k, depth + 1)
        if not kids.get(slot):
            lines.extend([f"{ind}  End Site", f"{ind}  {{", f"{ind}    OFFSET 0 4 0",
                          f"{ind}  }}"])
        lines.append(f"{ind}}}")

    emit(kids[None][0], 0)
    lines += ["MOTION", f"Frames: {len(FRAMES) * repeat}", "Frame Time: 0.02"]
    for (x, y, z), yaw, nod in FRAMES * repeat:
        values = []
        for slot in order:
            if slot == "root":
                values += [x, y, z, 0, 0, yaw]
            elif slot == "head":
                values += [0, nod, 0]
            else:
                values += [0, 0, 0]
        lines.append(" ".join(f"{v:g}" for v in values))
    return "\n".join(lines) + "\n"


def _rot(axis: int, deg: float) -> np.ndarray:
    a = np.deg2rad(deg)
    c, s = np.cos(a), np.sin(a)
    i, j = [(1, 2), (2, 0), (0, 1)][axis]
    m = np.eye(3)
    m[i, i] = m[j, j] = c
    m[i, j], m[j, i] = -s, s
    return m


def expected_17() -> np.ndarray:
    """The 17 joints (F, 17, 3) cm, worked out from the template by the documented rules."""
    rest = {k: np.array(v[1], dtype=np.float64) for k, v in SLOTS.items()}
    pelvis = 0.5 * (rest["hip_l"] + rest["hip_r"])
    # Spine: along hips' midpoint -> root -> spine_a -> chest -> thorax (the optional joints lie
    # on these segments).
    pts = [pelvis, rest["root"], rest["spine_a"], rest["chest"], rest["neck"]]
    seg = [np.linalg.norm(b - a) for a, b in pairwise(pts)]
    left = SPINE_FRACTION * sum(seg)
    spine = pts[-1]
    for (a, b), length in zip(pairwise(pts), seg, strict=True):
        if left <= length:
            spine = a + left / length * (b - a)
            break
        left -= length
    # Neck and head: the body is upright (+Y) and faces +Z in the rest pose.
    legs = (np.linalg.norm(rest["hip_l"] - rest["knee_l"])
            + np.linalg.norm(rest["knee_l"] - rest["ankle_l"]))
    scale = (legs + np.linalg.norm(rest["neck"] - pelvis)) / H36M_SIZE_MM  # cm per mm
    thorax_from_head = rest["neck"] - rest["head"]

    def skull(offset_mm: tuple[float, float]) -> np.ndarray:
        return thorax_from_head + scale * np.array([0.0, offset_mm[1], offset_mm[0]])

    out = np.zeros((len(FRAMES), 17, 3))
    for f, (root, yaw, nod) in enumerate(FRAMES):
        turn = _rot(1, yaw)

        def world(p: np.ndarray, turn: np.ndarray = turn, root: tuple = root) -> np.ndarray:
            return np.asarray(root) + turn @ (p - rest["root"])

        for joint, slot in AT.items():
            out[f, JOINT_NAMES.index(joint)] = world(rest[slot])
        out[f, 0] = world(pelvis)
        out[f, 7] = world(spine)
        head_rot = turn @ _rot(0, nod)
        out[f, 9] = world(rest["head"]) + head_rot @ skull(H36M_NOSE_MM)
        out[f, 10] = world(rest["head"]) + head_rot @ skull(H36M_HEAD_MM)
    return out


def write(tmp_path: Path, text: str, name: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


# --------------------------------------------------------------------------------------------
# Every rig gives the same, expected 17 joints
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("rig", list(RIGS))
def test_each_rig_maps_to_the_expected_joints(tmp_path, rig):
    path = write(tmp_path, rig_text(*RIGS[rig]), f"{rig}.bvh")
    joints, _, table = rig_joints(parse_bvh(path))
    assert table == "synonyms"
    np.testing.assert_allclose(joints, expected_17(), atol=1e-9)


def test_rigs_agree_through_load_bvh(tmp_path):
    loaded = {rig: load_bvh(write(tmp_path, rig_text(*RIGS[rig]), f"{rig}.bvh")).joints
              for rig in RIGS}
    ref = loaded["mixamo"]
    assert ref.shape == (len(FRAMES), 17, 3)
    for rig, joints in loaded.items():
        np.testing.assert_allclose(joints, ref, atol=1e-3, err_msg=rig)


def test_expected_joints_are_where_the_rules_say():
    # The helper itself, checked against numbers worked out by hand: frame 0 is the rest pose.
    j = expected_17()[0]
    np.testing.assert_allclose(j[0], [0, 94, 0])  # hips' midpoint
    # Spine: 48 % of 6 + 10 + |(0, 30, 3)| + |(0, 12, -3)| = 28.09 cm from the pelvis, i.e.
    # 12.09 cm up the bent segment spine_a -> chest.
    t = (0.48 * (16 + np.sqrt(909) + np.sqrt(153)) - 16) / np.sqrt(909)
    np.testing.assert_allclose(j[7], [0, 110 + 30 * t, 3 * t])
    scale = (np.sqrt(42 ** 2 + 1) + np.sqrt(42 ** 2 + 2 ** 2) + 58) / 1385
    np.testing.assert_allclose(j[9], [0, 152 + 90 * scale, 67 * scale])
    # Frame 1 turns the body by 90 degrees about the vertical: the nose swings from +Z to +X.
    assert expected_17()[1, 9, 0] > expected_17()[1, 8, 0] + 5


def test_cmu_names_use_the_calibrated_table_unless_a_joint_map_is_given(tmp_path):
    path = write(tmp_path, rig_text(*CMU_NAMES), "cmu.bvh")
    expected = expected_17()
    joints, _, table = rig_joints(parse_bvh(path))
    assert table == "cmu"
    limbs = [JOINT_NAMES.index(j) for j in AT] + [0]
    np.testing.assert_allclose(joints[:, limbs], expected[:, limbs], atol=1e-9)
    # The calibrated table takes CMU's Spine joint as the spine (frame 0 is the rest pose).
    np.testing.assert_allclose(joints[0, 7], SLOTS["spine_a"][1], atol=1e-9)
    # A joint map switches to the synonym rules: all 17 as for every other rig. CMU's Neck has
    # zero length, so the thorax is Neck1.
    jmap = write(tmp_path, "left_hip: LeftUpLeg\n", "map.yaml")
    joints, _, table = rig_joints(parse_bvh(path), jmap)
    assert table == "synonyms"
    np.testing.assert_allclose(joints, expected, atol=1e-9)


# --------------------------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "key"), [
    ("mixamorig:LeftUpLeg", "leftupleg"), ("mixamorig1:LeftUpLeg", "leftupleg"),
    ("mixamorigLeftUpLeg", "leftupleg"), ("CC_Base_L_Thigh", "lthigh"),
    ("Bip01 L Thigh", "lthigh"), ("Bip001 L Thigh", "lthigh"), ("lThigh", "lthigh"),
    ("thigh_l", "thighl"), ("UpperLeg_L", "upperlegl"), ("Take 001:Character1_Neck", "neck"),
    ("Spine.001", "spine001"), ("neck-lower", "necklower"),
])
def test_normalise_name(name, key):
    assert normalise_name(name) == key


def test_synonym_table_lists_both_sides_and_every_role():
    assert set(SYNONYMS) == {"hip", "knee", "ankle", "shoulder", "elbow", "wrist", "thorax",
                             "head"}
    assert candidates("right_hip")[:3] == ["RightUpLeg", "rThighBend", "RightThigh"]
    assert "Hand_R" in candidates("right_wrist") and "CC_Base_L_Calf" not in candidates(
        "right_knee")
    # The same normalised name never stands for two different joints.
    seen: dict[str, str] = {}
    for joint in [f"{s}_{p}" for s in ("left", "right")
                  for p in ("hip", "knee", "ankle", "shoulder", "elbow", "wrist")]:
        for name in candidates(joint):
            assert seen.setdefault(normalise_name(name), joint) == joint, name


# --------------------------------------------------------------------------------------------
# Joint maps
# --------------------------------------------------------------------------------------------

#: A rig whose names no table knows.
ODD = ({"root": "B00", **{f"{s}_*": f"B{i:02d}{{L}}" for i, s in enumerate(
    ["hip", "knee", "ankle", "toe", "clav", "shoulder", "elbow", "wrist"], start=1)},
    "spine_a": "B10", "chest": "B11", "neck": "B12", "head": "B13"}, {})
ODD_MAP = {"left_hip": "B01L", "left_knee": "B02L", "left_ankle": "B03L",
           "right_hip": "B01R", "right_knee": "B02R", "right_ankle": "B03R",
           "left_shoulder": "B06L", "left_elbow": "B07L", "left_wrist": "B08L",
           "right_shoulder": "B06R", "right_elbow": "B07R", "right_wrist": "B08R",
           "thorax": "B12", "head": "B13"}


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_joint_map_names_an_unknown_rig(tmp_path, fmt):
    path = write(tmp_path, rig_text(*ODD), "odd.bvh")
    with pytest.raises(DynaPoseError, match="pass --joint-map"):
        load_bvh(path)
    text = (json.dumps(ODD_MAP) if fmt == "json"
            else "".join(f"{k}: {v}\n" for k, v in ODD_MAP.items()))
    jmap = write(tmp_path, text, f"map.{fmt}")
    joints, _, _ = rig_joints(parse_bvh(path), jmap)
    np.testing.assert_allclose(joints, expected_17(), atol=1e-9)
    ref = load_bvh(write(tmp_path, rig_text(*RIGS["rokoko"]), "r.bvh")).joints
    np.testing.assert_allclose(load_bvh(path, joint_map=jmap).joints, ref, atol=1e-3)


def test_joint_map_takes_precedence_and_can_place_the_rule_joints(tmp_path):
    path = write(tmp_path, rig_text(*RIGS["mixamo"]), "m.bvh")
    jmap = write(tmp_path, "left_wrist: mixamorig:LeftHandMiddle1\n"
                           "spine: mixamorig:Spine1\npelvis: Hips\nneck: Head\n", "map.yaml")
    joints, _, _ = rig_joints(parse_bvh(path), jmap)
    expected = expected_17()
    rest = {k: np.array(v[1], float) for k, v in SLOTS.items()}
    # Frame 0 is the rest pose: the mapped joints sit exactly at the named ones.
    np.testing.assert_allclose(joints[0, 13], rest["hand_l"], atol=1e-9)
    np.testing.assert_allclose(joints[0, 7], rest["spine_b"], atol=1e-9)
    np.testing.assert_allclose(joints[0, 0], rest["root"], atol=1e-9)  # by normalised name
    np.testing.assert_allclose(joints[0, 9], rest["head"], atol=1e-9)
    keep = [i for i in range(17) if i not in (0, 7, 9, 13)]
    np.testing.assert_allclose(joints[:, keep], expected[:, keep], atol=1e-9)


@pytest.mark.parametrize(("text", "message"), [
    ("left_hand: LeftHand\n", "unknown Human3.6M joint(s) 'left_hand'"),
    ("- LeftUpLeg\n", "must be a mapping"),
    ("", "must be a mapping"),
    ("left_hip: [a, b]\n", "must be a non-empty name"),
    ("left_hip: ''\n", "must be a non-empty name"),
    ("left_hip: {a\n", "not valid YAML/JSON"),
])
def test_bad_joint_map_is_a_one_line_error_naming_it(tmp_path, text, message):
    jmap = write(tmp_path, text, "jm.yaml")
    with pytest.raises(DynaPoseError) as info:
        read_joint_map(jmap)
    msg = str(info.value)
    assert message in msg and msg.startswith(f"{jmap}: ") and "\n" not in msg


def test_joint_map_naming_absent_joints(tmp_path):
    path = write(tmp_path, rig_text(*RIGS["mixamo"]), "m.bvh")
    jmap = write(tmp_path, "left_knee: LeftKnee\n", "jm.yaml")
    with pytest.raises(DynaPoseError) as info:
        load_bvh(path, joint_map=jmap)
    msg = str(info.value)
    assert msg.startswith(f"{jmap}: ") and "'LeftKnee' given for left_knee" in msg
    assert str(path) in msg and "mixamorig:LeftLeg" in msg and "\n" not in msg
    with pytest.raises(DynaPoseError, match="cannot read joint map"):
        load_bvh(path, joint_map=tmp_path / "absent.yaml")


# --------------------------------------------------------------------------------------------
# Missing joints
# --------------------------------------------------------------------------------------------


def test_missing_joints_are_listed_with_the_rig_joints(tmp_path):
    names = dict(RIGS["rokoko"][0])
    names.update({"knee_*": "{Left}KneeBone", "elbow_*": "{Left}Bend"})
    names = _sided(names)
    names["ankle_l"] = "LeftPaw"
    path = write(tmp_path, rig_text(names), "odd.bvh")
    with pytest.raises(DynaPoseError) as info:
        load_bvh(path)
    msg = str(info.value)
    assert msg.startswith(f"{path}: BVH lacks the joints needed") and "\n" not in msg
    missing = re.search(r"no joint for (.*); rig joints", msg)
    assert missing is not None
    assert re.findall(r"(\w+) \(e\.g\.", missing.group(1)) == [
        "left_knee", "left_ankle", "right_knee", "left_elbow", "right_elbow"]
    assert "rig joints: Hips, LeftThigh, LeftKneeBone, LeftPaw" in msg
    assert msg.endswith("pass --joint-map FILE (YAML 'human36m_joint: rig_joint')")


def test_a_limb_is_taken_from_below_its_parent_joint(tmp_path):
    # An IK target named like a knee hangs off the root: the knee is the joint below the hip.
    names = _sided(dict(RIGS["rokoko"][0]))
    names["pole_r"] = "RightKnee"  # a better-ranked knee name than Rokoko's RightShin
    joints, _, _ = rig_joints(parse_bvh(write(tmp_path, rig_text(names), "x.bvh")))
    np.testing.assert_allclose(joints, expected_17(), atol=1e-9)


def test_cli_synth_joint_map(tmp_path):
    path = write(tmp_path, rig_text(*ODD, repeat=20), "odd.bvh")  # 100 frames, 2 s
    jmap = write(tmp_path, json.dumps(ODD_MAP), "map.json")
    runner = CliRunner()
    res = runner.invoke(main, ["synth", "--out", str(tmp_path / "s"), "--clips", "4",
                               "--size", "32", "--workers", "1", "--quiet", "--motions",
                               str(path)])
    assert res.exit_code == 2 and "pass --joint-map" in res.output
    assert "error: " in res.output and str(path) in res.output
    res = runner.invoke(main, ["synth", "--out", str(tmp_path / "s"), "--clips", "4",
                               "--size", "32", "--workers", "1", "--quiet", "--joint-map",
                               str(jmap), "--motions", str(path)])
    assert res.exit_code == 0, res.output
    bad = write(tmp_path, "left_hand: B08L\n", "bad.yaml")
    res = runner.invoke(main, ["synth", "--out", str(tmp_path / "t"), "--clips", "4",
                               "--size", "32", "--quiet", "--joint-map", str(bad),
                               "--motions", str(path)])
    assert res.exit_code == 2 and f"error: {bad}: unknown Human3.6M joint" in res.output


# --------------------------------------------------------------------------------------------
# The shared motion capture
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("folder", "name"), [
    ("bandai_namco", "dataset-1_walk_normal_001.bvh"),
    ("bandai_namco", "dataset-1_dance-short_normal_001.bvh"),
    ("xia_style_cmu_skeleton", "neutral_01_000.bvh"),
])
def test_shared_files_synonyms_agree_with_the_calibrated_tables(folder, name):
    path = shared_path("data", "mocap", folder, name)
    data = parse_bvh(path)
    calibrated, _, table = rig_joints(data)
    assert table == ("cmu" if "cmu" in folder else "bandai_namco")
    # Any joint map switches to the synonym table; this one names what it would find anyway.
    hip = "LeftUpLeg" if "cmu" in folder else "UpperLeg_L"
    synonyms, _, _ = rig_joints(data, JointMap(str(path), {"left_hip": hip}))
    unit = 10.0 if "bandai" in folder else 25.4 / 0.45  # mm per file unit
    err = np.linalg.norm(calibrated - synonyms, axis=-1).mean(axis=0) * unit
    exact = [JOINT_NAMES.index(j) for j in AT] + [0]
    assert err[exact].max() < 1e-6
    # Spine, neck and head follow the same rules, scaled to the rig's size: close, not equal.
    assert 5 < err[7] < 25 and 5 < err[9] < 20 and 5 < err[10] < 30
    assert load_bvh(path).joints.shape[1:] == (17, 3)

