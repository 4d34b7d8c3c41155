"""Joint names of common BVH rigs -> the 17 Human3.6M joints: a synonym table and joint maps.

`SYNONYMS` lists, for each Human3.6M joint a rig has a joint *at*, the names rigs give that joint;
`synonym_table` finds them in a file and writes the mapping rules `dynapose.data.bvh.map_to_17`
applies (the same rule language as the calibrated tables `bvh.RIGS`). `read_joint_map` reads a
user's ``--joint-map`` file (YAML or JSON, ``human36m_joint: rig_joint``), which takes precedence
over the synonyms.

Names are compared after `normalise_name`: the namespace (``mixamorig:``, ``mixamorig1:``, any
``xxx:``) and the rig prefixes ``CC_Base_`` (Character Creator), ``Bip01``/``Bip001`` (3ds Max
Biped), ``mixamorig`` without a colon and ``Character1_`` (HumanIK) are dropped, then case and the
separators space, ``_``, ``.`` and ``-``. So ``CC_Base_L_Thigh``, ``Bip01 L Thigh`` and Daz's
``lThigh`` are one name, ``lthigh``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import yaml

from dynapose.errors import DynaPoseError
from dynapose.skeleton import JOINT_NAMES

#: The names rigs give the joints that lie at a Human3.6M joint, best first (the first one a file
#: has is taken, among joints below the ones already found: a knee below its hip, an ankle below
#: its knee, an elbow below its shoulder, a wrist below its elbow, the thorax above the head).
#: ``{Left}``, ``{L}`` and ``{l}`` stand for the side (Right, R, r for the right joints). Rigs:
#: CMU conversions (cgspeed's MotionBuilder/3ds Max releases: LeftUpLeg, LeftLeg, LeftArm...,
#: LHipJoint and LowerBack being helpers; the Daz-friendly release: hip, abdomen, chest, lThigh,
#: lShin, lCollar, lShldr, lForeArm; ASF names: lfemur, ltibia, lhumerus, lradius, lwrist,
#: lowerneck), Mixamo, Perception Neuron and HumanIK (LeftUpLeg, LeftLeg, LeftFoot, LeftArm,
#: LeftForeArm, LeftHand), Daz/Poser (Genesis 1/2 and Poser: lThigh, lShin, lFoot, lShldr,
#: lForeArm, lHand, neck, head; Genesis 3/8: lThighBend, lShldrBend, lForearmBend, neckLower),
#: Character Creator (CC_Base_L_Thigh, L_Calf, L_Foot, L_Upperarm, L_Forearm, L_Hand,
#: NeckTwist01, Head), Rokoko (LeftThigh, LeftShin, LeftFoot, LeftArm, LeftForeArm, LeftHand,
#: Neck, Head), Bandai Namco (UpperLeg_L, LowerLeg_L, Foot_L, UpperArm_L, LowerArm_L, Hand_L),
#: 3ds Max Biped (Bip01 L Thigh, L Calf, L Foot, L UpperArm, L Forearm, L Hand, Neck, Head),
#: Unreal (thigh_l, calf_l, foot_l, upperarm_l, lowerarm_l, hand_l, neck_01, head), Unity and
#: Xsens MVN (LeftUpperLeg, LeftLowerLeg, LeftUpperArm, LeftForeArm), SMPL/AMASS (L_Hip, L_Knee,
#: L_Ankle, L_Shoulder, L_Elbow, L_Wrist; left_hip...).
#:
#: Ankles before feet and wrists before hands: where a rig has both, foot and hand are the next
#: joints down (SMPL's L_Foot is the toe). ``{Left}Shoulder`` comes last: in most rigs it is the
#: clavicle, and only rigs without an upper-arm joint (SMPL's L_Collar, L_Shoulder, L_Elbow and
#: other collar/shoulder/elbow rigs) put it at the shoulder.
#: The thorax (Human3.6M's sits at the base of the neck, about 60 mm above the shoulder joints) is
#: the rig's lowest neck joint; when that joint lies exactly at its parent (CMU's zero-length
#: ``Neck``, which marks no point of its own), its child towards the head is taken (CMU's
#: ``Neck1``, 3 cm above the shoulders). ``head`` is the rig's head joint: Human3.6M's head and
#: neck/nose lie on and in front of the skull, where no rig has joints, and are placed from it
#: (see `synonym_table`).
#:
#: The other joints follow rules, not names: pelvis = midpoint of the two hip joints (as in
#: Human3.6M, whose hips sit symmetrically about it; rigs' own root/hips joints sit above it);
#: spine = the point 48 % of the way along the rig's spine chain (the joints from the hips'
#: midpoint to the thorax), as Human3.6M's spine joint lies 47.6 % (S1; 48.5 % over S1, S5-S8)
#: of the way from pelvis to thorax.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "hip": ("{Left}UpLeg", "{l}ThighBend", "{Left}Thigh", "{L}_Thigh", "Thigh_{L}",
            "UpperLeg_{L}", "{Left}UpperLeg", "{Left}Hip", "{L}_Hip", "{l}femur"),
    "knee": ("{Left}Knee", "{L}_Knee", "{Left}Leg", "{Left}Shin", "{l}Shin", "{L}_Calf",
             "Calf_{L}", "LowerLeg_{L}", "{Left}LowerLeg", "{Left}LowLeg", "{l}tibia"),
    "ankle": ("{Left}Ankle", "{L}_Ankle", "{Left}Foot", "{l}Foot", "Foot_{L}"),
    "shoulder": ("{Left}Arm", "{Left}UpperArm", "{l}ShldrBend", "{l}Shldr", "{L}_UpperArm",
                 "UpperArm_{L}", "{Left}UpArm", "{l}humerus", "{Left}Shoulder", "{L}_Shoulder"),
    "elbow": ("{Left}Elbow", "{L}_Elbow", "{Left}ForeArm", "{l}ForearmBend", "{l}ForeArm",
              "LowerArm_{L}", "{Left}LowerArm", "{Left}LowArm", "{l}radius"),
    "wrist": ("{Left}Wrist", "{L}_Wrist", "{Left}Hand", "{l}Hand", "Hand_{L}"),
    "thorax": ("Neck", "neckLower", "lowerneck", "Neck_01", "NeckTwist01", "Neck_Base"),
    "head": ("Head",),
}

#: Human3.6M S1's neck/nose and head joints relative to its thorax (mm, forward and up in the
#: body's frame), and S1's size: mean leg (hip-knee-ankle) plus pelvis-to-thorax, 897 + 487 mm.
#: The calibrated tables `bvh.RIGS` use the same offsets.
H36M_NOSE_MM = (67.0, 90.0)
H36M_HEAD_MM = (13.0, 184.0)
H36M_SIZE_MM = 1385.0
#: Where Human3.6M's spine joint lies along the pelvis-to-thorax chain (S1: 0.476).
SPINE_FRACTION = 0.48

_PREFIXES = re.compile(r"^(?:mixamorig\d*_?|cc_base_|bip\d+|character\d*_)", re.IGNORECASE)
_SEPARATORS = re.compile(r"[\s_.\-]+")
_SIDES = {"left": {"Left": "Left", "L": "L", "l": "l"},
          "right": {"Left": "Right", "L": "R", "l": "r"}}
#: The H36M joints the table names and the side-less role each one looks up.
_ROLES = {"thorax": ("thorax", ""), "head": ("head", "")} | {
    f"{side}_{part}": (part, side) for side in ("left", "right")
    for part in ("hip", "knee", "ankle", "shoulder", "elbow", "wrist")}
#: Roles resolved in this order (the constraint of each refers to an earlier one).
_ORDER = ("head", "thorax", "left_hip", "left_knee", "left_ankle", "right_hip", "right_knee",
          "right_ankle", "left_shoulder", "left_elbow", "left_wrist", "right_shoulder",
          "right_elbow", "right_wrist")
#: (joint, must lie below it) pairs; ("thorax", "head") is the other way: thorax above head.
_BELOW = {"left_knee": "left_hip", "left_ankle": "left_knee", "right_knee": "right_hip",
          "right_ankle": "right_knee", "left_elbow": "left_shoulder",
          "left_wrist": "left_elbow", "right_elbow": "right_shoulder",
          "right_wrist": "right_elbow"}


def normalise_name(name: str) -> str:
    """A joint name without namespace, rig prefix, case and separators: 'lthigh' for
    'CC_Base_L_Thigh', 'Bip01 L Thigh', 'mixamorig:LeftUpLeg' -> 'leftupleg'."""
    base = name.rsplit(":", 1)[-1]
    return _SEPARATORS.sub("", _PREFIXES.sub("", base)).lower()


def candidates(joint: str) -> list[str]:
    """The rig names (display form) the table looks for, best first, for a joint of `_ROLES`."""
    role, side = _ROLES[joint]
    subst = _SIDES[side or "left"]
    return [re.sub(r"\{(Left|L|l)\}", lambda m: subst[m.group(1)], n) for n in SYNONYMS[role]]


@dataclass(frozen=True)
class JointMap:
    """A user's joint map: Human3.6M joint name -> rig joint name, read from `path`."""

    path: str
    joints: dict[str, str]


def read_joint_map(path: str | os.PathLike[str]) -> JointMap:
    """Read a joint map file: a YAML (or JSON) mapping ``human36m_joint: rig_joint``.

    Keys are names of `skeleton.JOINT_NAMES`. For the joints of `SYNONYMS` the value replaces the
    table's lookup (``head``: the rig's head joint, from which head and neck/nose are placed);
    ``pelvis``, ``spine`` and ``neck`` may name a rig joint taken as is instead of their rule.
    Raises DynaPoseError naming the file when it is unreadable or malformed.
    """
    p = os.fspath(path)
    try:
        with open(p, encoding="utf-8") as f:
            data = yaml.safe_load(f)
    except OSError as exc:
        raise DynaPoseError(f"cannot read joint map ({exc.strerror or exc})", p) from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DynaPoseError(f"joint map is not valid YAML/JSON ({first})", p) from None
    if not isinstance(data, dict) or not data:
        raise DynaPoseError("a joint map must be a mapping 'human36m_joint: rig_joint' (e.g. "
                            "left_knee: LeftLeg)", p)
    unknown = sorted(str(k) for k in data if k not in JOINT_NAMES)
    if unknown:
        raise DynaPoseError(f"unknown Human3.6M joint(s) {', '.join(map(repr, unknown))} (the "
                            f"17: {', '.join(JOINT_NAMES)})", p)
    bad = sorted(k for k, v in data.items() if not isinstance(v, str) or not v.strip())
    if bad:
        raise DynaPoseError(f"the rig joint for {', '.join(bad)} must be a non-empty name", p)
    return JointMap(p, {k: v.strip() for k, v in data.items()})


# --------------------------------------------------------------------------------------------
# Finding the joints in a file
# --------------------------------------------------------------------------------------------


def _ancestors(parents: Sequence[int], j: int) -> list[int]:
    out = []
    while parents[j] >= 0:
        j = parents[j]
        out.append(j)
    return out


def _is_below(parents: Sequence[int], j: int, anc: int) -> bool:
    return anc in _ancestors(parents, j)


def _rig_joints(names: Sequence[str]) -> str:
    joints = [n for n in names if not n.endswith("/End")]
    shown = ", ".join(joints[:80])
    return shown + (f", ... ({len(joints) - 80} more)" if len(joints) > 80 else "")


def _lookup_map(joint_map: JointMap, names: Sequence[str], bvh_path: str) -> dict[str, int]:
    """Indices of the joints a joint map names: exact name, else the one normalised match."""
    found = {}
    for h36m, rig in joint_map.joints.items():
        exact = [i for i, n in enumerate(names) if n == rig]
        loose = [i for i, n in enumerate(names) if normalise_name(n) == normalise_name(rig)]
        hits = exact or loose
        if len(hits) != 1:
            why = "matches several joints" if hits else "is not a joint"
            raise DynaPoseError(f"rig joint {rig!r} given for {h36m} {why} of {bvh_path} (rig "
                                f"joints: {_rig_joints(names)})", joint_map.path)
        found[h36m] = hits[0]
    return found


def resolve_joints(names: Sequence[str], parents: Sequence[int], rest: np.ndarray,
                   joint_map: JointMap | None = None, path: str = "") -> dict[str, int]:
    """Indices of the rig joints at the 12 limb joints, the thorax and the rig's head joint
    (plus pelvis, spine and neck where `joint_map` names them).

    names, parents: the BVH's joints (End Sites named "<joint>/End"); rest: (J, 3) rest-pose
    positions (for the zero-length neck rule). Joints of `joint_map` are taken as given; the
    others from `SYNONYMS` (first match below/above the joints already found). Raises
    DynaPoseError naming `path` and listing what is missing.
    """
    given = _lookup_map(joint_map, names, path) if joint_map else {}
    keys: dict[str, list[int]] = {}
    for i, n in enumerate(names):
        if not n.endswith("/End"):
            keys.setdefault(normalise_name(n), []).append(i)
    found: dict[str, int] = {}
    missing = []
    for joint in _ORDER:
        if joint in given:
            found[joint] = given[joint]
            continue

        def fits(i: int, joint: str = joint) -> bool:
            if joint == "thorax":
                return "head" not in found or _is_below(parents, found["head"], i)
            above = _BELOW.get(joint)
            return above is None or above not in found or _is_below(parents, i, found[above])

        hit = next((i for c in candidates(joint) for i in keys.get(normalise_name(c), [])
                    if fits(i)), None)
        if hit is None:
            missing.append(joint)
            continue
        if joint == "thorax" and "thorax" not in given:
            hit = _skip_zero_length(hit, parents, rest, found.get("head"))
        found[joint] = hit
    found.update({k: i for k, i in given.items() if k not in found})  # pelvis, spine, neck
    if missing:
        wanted = ", ".join(f"{j} (e.g. {', '.join(candidates(j)[:3])})" for j in missing)
        raise DynaPoseError(f"BVH lacks the joints needed for the 17-joint skeleton: no joint "
                            f"for {wanted}; rig joints: {_rig_joints(names)}; pass --joint-map "
                            "FILE (YAML 'human36m_joint: rig_joint')", path or None)
    return found


def _skip_zero_length(j: int, parents: Sequence[int], rest: np.ndarray, head: int | None
                      ) -> int:
    """`j`, or while `j` lies at its parent's place, its child on the way to `head`."""
    if head is None:
        return j
    scale = float(np.ptp(rest, axis=0).max()) or 1.0
    path = [head, *_ancestors(parents, head)]  # head up to the root
    while parents[j] >= 0 and np.linalg.norm(rest[j] - rest[parents[j]]) <= 1e-6 * scale:
        k = path.index(j)
        if k <= 1:  # its child towards the head is the head itself
            break
        j = path[k - 1]
    return j


# --------------------------------------------------------------------------------------------
# Rules for the joints no rig has
# --------------------------------------------------------------------------------------------


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-12)


def head_frame(rest: np.ndarray, j: dict[str, int], spine_root: int, path: str = ""
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The body's forward and up axes and the thorax's place in the rig head joint's own frame,
    the head held as in the rest pose: (fwd (3,), up (3,), thorax (3,) file units).

    In the rest pose (every rotation channel zero) every joint's frame is the file's, so these
    are rest-pose vectors: up from the bottom of the spine chain (`spine_root`) to the thorax,
    left from the right to the left shoulder made normal to up, forward = left x up. Only the
    upper body's rest posture is used: rigs whose rest pose is no posture below the chest
    (Bandai Namco's: every bone along its joint's x axis, the hips a quarter turn from the
    shoulders) still hold the trunk, shoulders and head straight in it.
    """
    up = rest[j["thorax"]] - rest[spine_root]
    across = rest[j["left_shoulder"]] - rest[j["right_shoulder"]]
    up = _unit(up)
    left = across - (across @ up) * up
    # Shoulders within ~17 degrees of the spine (or coincident joints) give no left.
    if not np.linalg.norm(up) > 0 or not np.linalg.norm(left) > 0.3 * np.linalg.norm(across):
        raise DynaPoseError("cannot tell the body's up and left from the rest pose (the "
                            "shoulders do not lie across the spine); name the joints with "
                            "--joint-map or use a file with a standing rest pose", path or None)
    left = _unit(left)
    return np.cross(left, up), up, rest[j["thorax"]] - rest[j["head"]]


def body_size(positions: np.ndarray, j: dict[str, int]) -> float:
    """Median over frames of the mean leg (hip-knee-ankle) plus pelvis-to-thorax, file units."""
    def d(a: str, b: str) -> np.ndarray:
        return np.linalg.norm(positions[:, j[a]] - positions[:, j[b]], axis=-1)

    legs = 0.5 * sum(d(f"{s}_hip", f"{s}_knee") + d(f"{s}_knee", f"{s}_ankle")
                     for s in ("left", "right"))
    pelvis = 0.5 * (positions[:, j["left_hip"]] + positions[:, j["right_hip"]])
    trunk = np.linalg.norm(positions[:, j["thorax"]] - pelvis, axis=-1)
    return float(np.median(legs + trunk))


def synonym_table(names: Sequence[str], parents: Sequence[int], rest: np.ndarray,
                  positions: np.ndarray, joint_map: JointMap | None = None, path: str = ""
                  ) -> dict[str, str | tuple]:
    """The mapping rules (`bvh.map_to_17`'s language) for a rig, from `SYNONYMS` and `joint_map`.

    rest: (J, 3) rest pose; positions (F, J, 3): world, file units.
    Limb joints and thorax: the joints found (`resolve_joints`). Pelvis: midpoint of the hips.
    Spine: `SPINE_FRACTION` of the way along the polyline from the hips' midpoint through the
    thorax's ancestors below the hips' and thorax's common ancestor (inclusive) to the thorax.
    Neck/nose and head: Human3.6M S1's offsets from the thorax (`H36M_NOSE_MM`, `H36M_HEAD_MM`,
    forward and up), scaled by the rig's `body_size` over `H36M_SIZE_MM`, added to the thorax
    carried with the head joint, in the head joint's frame (`head_frame`): they turn with the
    head. A joint map's pelvis, spine or neck joint is taken as is.

    Against the calibrated tables on the shared files (which use S1's offsets unscaled and
    their rigs' own spine joints) this rule differs by ~16-20 mm at the spine and 10-35 mm at
    neck and head, mostly the size scaling (the rigs are 1233 and 1280 mm against S1's 1385).
    """
    j = resolve_joints(names, parents, rest, joint_map, path)
    n = {k: names[i] for k, i in j.items()}
    table: dict[str, str | tuple] = {k: n[k] for k in _ROLES if k != "head"}
    table["pelvis"] = ("mid", n["left_hip"], n["right_hip"])
    # The spine chain: the thorax's ancestors below where the legs branch off.
    legs = set(_ancestors(parents, j["left_hip"])) & set(_ancestors(parents, j["right_hip"]))
    chain = []
    for a in _ancestors(parents, j["thorax"]):
        chain.append(a)
        if a in legs:
            break
    table["spine"] = ("arc", SPINE_FRACTION, (n["left_hip"], n["right_hip"]),
                      *[names[a] for a in reversed(chain)], n["thorax"])
    fwd, up, thorax = head_frame(rest, j, chain[-1] if chain else j["thorax"], path)
    scale = body_size(positions, j) / H36M_SIZE_MM
    for joint, (f, u) in (("neck", H36M_NOSE_MM), ("head", H36M_HEAD_MM)):
        vec = thorax + scale * (f * fwd + u * up)
        table[joint] = ("offset", n["head"], tuple(float(x) for x in vec))
    for joint in ("pelvis", "spine", "neck"):
        if joint in j:
            table[joint] = n[joint]
    return table
