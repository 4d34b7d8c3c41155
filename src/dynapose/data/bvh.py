"""BVH motion capture -> `Motion` on the 17-joint skeleton (world mm, Z up, floor at z = 0).

Steps: `parse_bvh` reads the HIERARCHY (ROOT / JOINT / End Site, OFFSET, CHANNELS with 3 or 6
channels in any rotation order) and the MOTION table; `bvh_positions` runs forward kinematics
over all frames at once (one batched matrix product per joint); `load_bvh` maps the rig's joints
to the 17 by name (the calibrated tables `RIGS` below for the two shared rigs, else the synonym
table of `dynapose.data.bvh_rigs`, which covers the common rigs, or a user's joint map),
converts units to millimetres, turns the up axis into +Z and puts the floor at z = 0.

BVH conventions followed: a joint's rotation is the product of its rotation channels in the
order listed (``Zrotation Xrotation Yrotation`` = Rz @ Rx @ Ry, degrees, right-handed), applied
in the parent's frame; a joint with position channels uses them as its translation from the
parent (in place of its OFFSET; the shared files repeat the OFFSET in those channels).

Units are read off the skeleton's size (see `detect_unit_mm`), the up axis off the motion (the
axis from the ankles to the head). The floor: files recorded on a floor at height 0 (both shared
rigs) keep it; otherwise it is the 5th percentile over frames of the rig's lowest point (toe end
sites included), so a short hop does not lift it. Finally `rigidify` fixes the bone lengths.

Kept as one module: parsing, forward kinematics and the name mapping are the one path from a
BVH file to a `Motion`, and their conventions refer to each other.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dynapose.data.bvh_rigs import JointMap, read_joint_map, synonym_table
from dynapose.data.synthetic.motion import ACTIONS, Motion
from dynapose.errors import DynaPoseError
from dynapose.skeleton import BONES, JOINT_NAMES

PathLike = str | os.PathLike[str]

# --------------------------------------------------------------------------------------------
# Joint-name mappings. Each entry gives, for one of the 17 joints, either a rig joint name or a
# rule: ("mid", a, b) = midpoint of a and b; ("lerp", a, b, f) = a + f * (b - a);
# ("local", a, (x, y, z), b, c) = the point a + |b - c| * (x, y, z), the vector taken in joint a's
# own (rotating) frame and measured in units of the rig bone b-c (so no unit is assumed);
# ("offset", a, (x, y, z)) = a + (x, y, z) in joint a's own frame, file units; ("arc", f, (a, b),
# c, ..., z) = the point a fraction f along the polyline from the midpoint of a and b through
# c, ..., z. "X/End" is the End Site below joint X. Names match case-insensitively.
#
# Human3.6M's neck/nose joint lies in front of the neck (thorax -> nose: 67 mm forward, 90 mm up)
# and its head joint on top of the head (13 mm forward, 184 mm up from the thorax); neither rig
# has such joints, so both are placed at those offsets in the frame of the rig's Head joint.
# --------------------------------------------------------------------------------------------

#: Bandai Namco Research Motion dataset (22 joints, cm, Y up). Its "Hips" joint sits 2 cm above
#: the hip joints, so the pelvis is the midpoint of the two hip joints, as in Human3.6M. The
#: spine joint (about 47% of the way from pelvis to thorax in Human3.6M) is the midpoint of
#: Spine and Chest. The rig's Neck joint (base of the neck, just above the shoulders) is the
#: thorax. The Head joint sits at the top of the neck, 6.5 cm above Neck; its End Site is 10 cm
#: long in some files and 0 cm in others, so it is not used. In the Head joint's frame +x is up,
#: +y forward and +z left; the neck/nose joint is placed 2.5 cm up and 6.7 cm forward of Head
#: and the head joint 12 cm up and 1.3 cm forward (in units of the 6.46 cm Neck -> Head bone),
#: the Human3.6M offsets from the thorax. Shoulders are the UpperArm joints
#: (Shoulder_* are the clavicles). The rig itself is narrow: 13 cm between the hip joints and
#: 21 cm between the shoulder joints (Human3.6M S1: 27 and 28 cm); it is kept as recorded.
BANDAI_NAMCO: dict[str, str | tuple] = {
    "pelvis": ("mid", "UpperLeg_L", "UpperLeg_R"),
    "right_hip": "UpperLeg_R",
    "right_knee": "LowerLeg_R",
    "right_ankle": "Foot_R",
    "left_hip": "UpperLeg_L",
    "left_knee": "LowerLeg_L",
    "left_ankle": "Foot_L",
    "spine": ("mid", "Spine", "Chest"),
    "thorax": "Neck",
    "neck": ("local", "Head", (0.39, 1.04, 0.0), "Neck", "Head"),
    "head": ("local", "Head", (1.86, 0.2, 0.0), "Neck", "Head"),
    "left_shoulder": "UpperArm_L",
    "left_elbow": "LowerArm_L",
    "left_wrist": "Hand_L",
    "right_shoulder": "UpperArm_R",
    "right_elbow": "LowerArm_R",
    "right_wrist": "Hand_R",
}

#: CMU 31-joint skeleton (the widely used BVH conversion of the CMU database; Xia et al.'s style
#: data is retargeted to it). Its "Hips" root sits about 10 cm above the hip joints (LeftUpLeg,
#: RightUpLeg), so the pelvis is their midpoint. LowerBack has a zero offset; Spine lies about
#: 22 cm above the hip joints, where Human3.6M's spine joint is. Neck has a zero offset from
#: Spine1 and lies below the shoulders; Neck1 (3 cm above the shoulders) is the thorax; the Head
#: joint is about 10 cm higher, at the top of the neck, and its End Site has zero length. In the
#: Head joint's frame (the rig's rest pose is a Y-up T-pose facing +Z) +y is up, +z forward, +x
#: left; the neck/nose joint is placed 6.7 cm forward and 1 cm below Head, the head joint 8.5 cm
#: up and 1.3 cm forward (in units of the 9.9 cm Neck1 -> Head bone), the Human3.6M offsets from
#: the thorax. Shoulders are LeftArm / RightArm (LeftShoulder / RightShoulder are the
#: clavicles). This rig has narrow hips and broad shoulders: 12 cm between the hip joints, 39 cm
#: between the shoulder joints in the shared files (Human3.6M S1: 27 and 28 cm); kept as is.
CMU: dict[str, str | tuple] = {
    "pelvis": ("mid", "LeftUpLeg", "RightUpLeg"),
    "right_hip": "RightUpLeg",
    "right_knee": "RightLeg",
    "right_ankle": "RightFoot",
    "left_hip": "LeftUpLeg",
    "left_knee": "LeftLeg",
    "left_ankle": "LeftFoot",
    "spine": "Spine",
    "thorax": "Neck1",
    "neck": ("local", "Head", (0.0, -0.1, 0.68), "Neck1", "Head"),
    "head": ("local", "Head", (0.0, 0.86, 0.13), "Neck1", "Head"),
    "left_shoulder": "LeftArm",
    "left_elbow": "LeftForeArm",
    "left_wrist": "LeftHand",
    "right_shoulder": "RightArm",
    "right_elbow": "RightForeArm",
    "right_wrist": "RightHand",
}

#: DynaPose's own rig (``dynapose export-motion``, :mod:`dynapose.animation.ik`): a joint at
#: each of the 17, under its own name.
DYNAPOSE: dict[str, str | tuple] = {name: name for name in JOINT_NAMES}

#: Known rigs, tried in this order; the first whose joint names, and signature joints, are all
#: present is used. The signatures keep other rigs that share these names (Perception Neuron's
#: Hips, LeftUpLeg... Neck, Neck1, Head) off tables calibrated on another rig's frames.
RIGS: dict[str, dict[str, str | tuple]] = {"bandai_namco": BANDAI_NAMCO, "cmu": CMU,
                                           "dynapose": DYNAPOSE}
SIGNATURES: dict[str, tuple[str, ...]] = {"bandai_namco": ("joint_Root",),
                                          "cmu": ("LHipJoint", "RHipJoint", "LowerBack"),
                                          "dynapose": ("pelvis", "thorax")}

#: Candidate units (mm per file unit) and the range of the ankle-to-head chain length (sum of
#: the leg and trunk bones of the 17-joint skeleton, about 0.95 x stature) in that unit for a
#: person 1.3-2.2 m tall. CMU's unit is 1/0.45 inch (the ASF files' length scale).
_UNITS: tuple[tuple[str, float, float, float], ...] = (
    ("metre", 1000.0, 1.1, 2.2),
    ("CMU unit", 25.4 / 0.45, 20.0, 40.0),
    ("inch", 25.4, 45.0, 90.0),
    ("centimetre", 10.0, 110.0, 220.0),
    ("millimetre", 1.0, 1100.0, 2200.0),
)

#: A file whose lowest point (5th percentile over frames) lies within (-30, +60) mm of height 0
#: is taken to be recorded on a floor at 0 (both shared rigs are).
_NATIVE_FLOOR_TOLERANCE_MM = (30.0, 60.0)

#: Frame Time range accepted (seconds per frame): 1 to 10,000 frames per second.
MIN_FRAME_TIME, MAX_FRAME_TIME = 1e-4, 1.0

_ROT_AXES = {"xrotation": 0, "yrotation": 1, "zrotation": 2}
_POS_AXES = {"xposition": 0, "yposition": 1, "zposition": 2}


@dataclass
class BvhData:
    """A parsed BVH file, in its own units and axes.

    names: joint names, End Sites named "<parent>/End"; parents: index of each joint's parent
    (-1 for the root), parents before children; offsets: (J, 3) OFFSET rows; channels: per
    joint, the channel names (lower case) in file order; motion: (F, C) float64 channel values;
    frame_time: seconds per frame.
    """

    path: str
    names: list[str]
    parents: list[int]
    offsets: np.ndarray
    channels: list[list[str]]
    motion: np.ndarray
    frame_time: float

    @property
    def num_frames(self) -> int:
        return int(self.motion.shape[0])


# --------------------------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------------------------


def _number(tok: str, what: str, path: str) -> float:
    try:
        value = float(tok)
    except ValueError:
        raise DynaPoseError(f"bad number {tok!r} in {what}", path) from None
    if not np.isfinite(value):
        raise DynaPoseError(f"non-finite number {tok!r} in {what}", path)
    return value


def _parse_hierarchy(text: str, path: str
                     ) -> tuple[list[str], list[int], list[list[float]], list[list[str]]]:
    tokens: list[str] = []
    token_lines: list[int] = []  # line of each token: a joint's name runs to its line's end
    for line_no, line in enumerate(text.splitlines()):
        found = re.findall(r"[{}]|[^\s{}]+", line)
        tokens += found
        token_lines += [line_no] * len(found)
    if not tokens or tokens[0].upper() != "HIERARCHY":
        raise DynaPoseError("not a BVH file: it does not start with HIERARCHY", path)
    names: list[str] = []
    parents: list[int] = []
    offsets: list[list[float]] = []
    channels: list[list[str]] = []
    pos = 1

    def take(what: str) -> str:
        nonlocal pos
        if pos >= len(tokens):
            raise DynaPoseError(f"truncated HIERARCHY: expected {what}", path)
        pos += 1
        return tokens[pos - 1]

    def expect(word: str, where: str) -> None:
        tok = take(f"{word!r} {where}")
        if tok.upper() != word.upper():
            raise DynaPoseError(f"expected {word!r} {where}, found {tok!r}", path)

    def joint(parent: int, end_site: bool) -> None:
        name = f"{names[parent]}/End" if end_site else take("a joint name")
        if name in ("{", "}"):
            raise DynaPoseError("missing joint name in HIERARCHY", path)
        # Names may hold spaces (3ds Max Biped's "Bip01 L Thigh"): the rest of the line.
        while (not end_site and pos < len(tokens) and token_lines[pos] == token_lines[pos - 1]
               and tokens[pos] not in ("{", "}")):
            name += " " + take("a joint name")
        index = len(names)
        names.append(name)
        parents.append(parent)
        channels.append([])
        expect("{", f"after {name}")
        expect("OFFSET", f"in {name}")
        offsets.append([_number(take("OFFSET values"), f"OFFSET of {name}", path)
                        for _ in range(3)])
        if end_site:
            expect("}", f"closing {name}")
            return
        expect("CHANNELS", f"in {name}")
        count_tok = take(f"the channel count of {name}")
        if not count_tok.isdigit():
            raise DynaPoseError(f"bad channel count {count_tok!r} in {name}", path)
        for _ in range(int(count_tok)):
            ch = take(f"channels of {name}").lower()
            if ch not in _ROT_AXES and ch not in _POS_AXES:
                raise DynaPoseError(f"unknown channel {ch!r} in {name}", path)
            channels[index].append(ch)
        if len(set(channels[index])) != len(channels[index]):
            raise DynaPoseError(f"repeated channel in {name}", path)
        while True:
            tok = take(f"'}}' closing {name}")
            up = tok.upper()
            if tok == "}":
                return
            if up == "JOINT":
                joint(index, end_site=False)
            elif up == "END":
                expect("Site", f"after End in {name}")
                joint(index, end_site=True)
            else:
                raise DynaPoseError(f"unexpected {tok!r} in {name}", path)

    expect("ROOT", "after HIERARCHY")
    try:
        joint(-1, end_site=False)
    except RecursionError:
        raise DynaPoseError("HIERARCHY nested too deeply", path) from None
    if pos != len(tokens):
        raise DynaPoseError(f"unexpected {tokens[pos]!r} after the root joint (only one ROOT "
                            "is supported)", path)
    return names, parents, offsets, channels


def parse_bvh(path: PathLike) -> BvhData:
    """Read a BVH file. Raises DynaPoseError naming the file for any malformed content."""
    p = os.fspath(path)
    try:
        raw = Path(p).read_bytes()
    except OSError as exc:
        raise DynaPoseError(f"cannot read BVH file ({exc.strerror or exc})", p) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    if "\x00" in text:
        raise DynaPoseError("not a BVH file (binary content)", p)
    m = re.search(r"^\s*MOTION\s*$", text, flags=re.MULTILINE | re.IGNORECASE)
    if m is None:
        if not text.lstrip().upper().startswith("HIERARCHY"):
            raise DynaPoseError("not a BVH file: it does not start with HIERARCHY", p)
        raise DynaPoseError("no MOTION section (truncated BVH?)", p)
    names, parents, offsets, channels = _parse_hierarchy(text[: m.start()], p)
    body = text[m.end():]
    fm = re.match(r"\s*Frames\s*:\s*(\S+)\s*\n?", body, flags=re.IGNORECASE)
    if fm is None:
        raise DynaPoseError("MOTION section lacks 'Frames:'", p)
    if not re.fullmatch(r"\d+", fm.group(1)):
        raise DynaPoseError(f"bad frame count {fm.group(1)!r}", p)
    n_frames = int(fm.group(1))
    tm = re.match(r"\s*Frame\s+Time\s*:\s*(\S+)", body[fm.end():], flags=re.IGNORECASE)
    if tm is None:
        raise DynaPoseError("MOTION section lacks 'Frame Time:'", p)
    frame_time = _number(tm.group(1), "Frame Time", p)
    if frame_time <= 0:
        raise DynaPoseError(f"Frame Time must be positive, got {frame_time}", p)
    if not MIN_FRAME_TIME <= frame_time <= MAX_FRAME_TIME:
        # Resampling sizes its output from the Frame Time: bound it before any memory is used.
        raise DynaPoseError(f"Frame Time {frame_time:g} s is not a motion-capture rate (from "
                            f"{1 / MAX_FRAME_TIME:g} to {1 / MIN_FRAME_TIME:g} frames per second)",
                            p)
    if n_frames == 0:
        raise DynaPoseError("BVH has zero frames", p)
    data = body[fm.end() + tm.end():].split()
    n_channels = sum(len(c) for c in channels)
    expected = n_frames * n_channels
    if len(data) < expected:
        raise DynaPoseError(f"truncated MOTION data: {n_frames} frames x {n_channels} channels "
                            f"need {expected} values, found {len(data)}", p)
    if len(data) > expected:
        raise DynaPoseError(f"MOTION data has {len(data)} values, more than {n_frames} frames x "
                            f"{n_channels} channels = {expected}", p)
    try:
        motion = np.array(data, dtype=np.float64).reshape(n_frames, n_channels)
    except ValueError:
        bad = next(tok for tok in data if not _is_float(tok))
        raise DynaPoseError(f"bad number {bad!r} in MOTION data", p) from None
    if not np.isfinite(motion).all():
        raise DynaPoseError("non-finite number in MOTION data", p)
    return BvhData(p, names, parents, np.asarray(offsets, dtype=np.float64), channels, motion,
                   frame_time)


def _is_float(tok: str) -> bool:
    try:
        float(tok)
    except ValueError:
        return False
    return True


# --------------------------------------------------------------------------------------------
# Forward kinematics
# --------------------------------------------------------------------------------------------


def _axis_rotations(axis: int, deg: np.ndarray) -> np.ndarray:
    a = np.deg2rad(deg)
    c, s = np.cos(a), np.sin(a)
    m = np.zeros((a.shape[0], 3, 3))
    i, j = [(1, 2), (2, 0), (0, 1)][axis]
    m[:, axis, axis] = 1.0
    m[:, i, i] = c
    m[:, j, j] = c
    m[:, i, j] = -s
    m[:, j, i] = s
    return m


def bvh_positions(data: BvhData) -> np.ndarray:
    """World positions (F, J, 3) of every joint and End Site, in the file's units and axes."""
    return bvh_transforms(data)[0]


def bvh_transforms(data: BvhData) -> tuple[np.ndarray, np.ndarray]:
    """Forward kinematics: world positions (F, J, 3) and world rotations (F, J, 3, 3) of every
    joint and End Site, in the file's units and axes."""
    f = data.num_frames
    n = len(data.names)
    pos = np.zeros((f, n, 3))
    glob = np.zeros((f, n, 3, 3))
    col = 0
    for j in range(n):
        chans = data.channels[j]
        values = data.motion[:, col:col + len(chans)]
        col += len(chans)
        trans = np.broadcast_to(data.offsets[j], (f, 3)).copy()
        rot = None
        for k, ch in enumerate(chans):
            if ch in _POS_AXES:
                trans[:, _POS_AXES[ch]] = values[:, k]
            else:
                r = _axis_rotations(_ROT_AXES[ch], values[:, k])
                rot = r if rot is None else rot @ r
        if rot is None:
            rot = np.broadcast_to(np.eye(3), (f, 3, 3))
        p = data.parents[j]
        if p < 0:
            pos[:, j] = trans
            glob[:, j] = rot
        else:
            pos[:, j] = pos[:, p] + np.einsum("fab,fb->fa", glob[:, p], trans)
            glob[:, j] = glob[:, p] @ rot
    return pos, glob


# --------------------------------------------------------------------------------------------
# Mapping to the 17 joints
# --------------------------------------------------------------------------------------------


def _rule_names(rule: str | tuple) -> list[str]:
    if isinstance(rule, str):
        return [rule]
    names: list[str] = []
    for x in rule[1:]:  # names, and tuples of names ("arc"'s pair); numbers are skipped
        names += [x] if isinstance(x, str) else [y for y in x if isinstance(y, str)] \
            if isinstance(x, tuple) else []
    return names


def _rig_names(table: dict[str, str | tuple]) -> set[str]:
    return {n for rule in table.values() for n in _rule_names(rule)}


def find_rig(names: list[str]) -> str | None:
    """Name of the first rig in `RIGS` whose required joints (and `SIGNATURES`) all occur in
    `names`, or None."""
    have = {n.lower() for n in names}
    for rig, table in RIGS.items():
        if all(n.lower() in have for n in [*_rig_names(table), *SIGNATURES.get(rig, ())]):
            return rig
    return None


def map_to_17(positions: np.ndarray, rotations: np.ndarray, names: list[str],
              table: dict[str, str | tuple]) -> np.ndarray:
    """Apply a mapping table to rig positions (F, J, 3) and world rotations (F, J, 3, 3):
    -> (F, 17, 3) in `JOINT_NAMES` order, file units and axes."""
    index = {n.lower(): i for i, n in enumerate(names)}

    def at(name: str) -> np.ndarray:
        return positions[:, index[name.lower()]]

    out = np.zeros((positions.shape[0], len(JOINT_NAMES), 3))
    for k, joint in enumerate(JOINT_NAMES):
        rule = table[joint]
        if isinstance(rule, str):
            out[:, k] = at(rule)
        elif rule[0] == "mid":
            out[:, k] = 0.5 * (at(rule[1]) + at(rule[2]))
        elif rule[0] == "lerp":
            a = at(rule[1])
            out[:, k] = a + float(rule[3]) * (at(rule[2]) - a)
        elif rule[0] == "local":
            vec = np.asarray(rule[2], dtype=np.float64)
            rot = rotations[:, index[rule[1].lower()]]
            length = np.linalg.norm(at(rule[3]) - at(rule[4]), axis=-1)[:, None]
            out[:, k] = at(rule[1]) + length * (rot @ vec)
        elif rule[0] == "offset":
            rot = rotations[:, index[rule[1].lower()]]
            out[:, k] = at(rule[1]) + rot @ np.asarray(rule[2], dtype=np.float64)
        elif rule[0] == "arc":
            start = 0.5 * (at(rule[2][0]) + at(rule[2][1]))
            out[:, k] = _along(np.stack([start, *[at(n) for n in rule[3:]]], axis=1),
                               float(rule[1]))
        else:
            raise ValueError(f"unknown mapping rule {rule!r}")
    return out


def _along(points: np.ndarray, fraction: float) -> np.ndarray:
    """The point a `fraction` of the way along each polyline of points (F, P, 3) -> (F, 3)."""
    seg = np.linalg.norm(np.diff(points, axis=1), axis=-1)  # (F, P - 1)
    cum = np.concatenate([np.zeros((len(points), 1)), np.cumsum(seg, axis=1)], axis=1)
    target = fraction * cum[:, -1:]
    # The segment holding the target: the last one starting at or before it.
    s = np.clip((cum[:, :-1] <= target).sum(axis=1) - 1, 0, seg.shape[1] - 1)
    rows = np.arange(len(points))
    t = (target[:, 0] - cum[rows, s]) / np.maximum(seg[rows, s], 1e-12)
    t = np.clip(t, 0.0, 1.0)[:, None]
    return points[rows, s] + t * (points[rows, s + 1] - points[rows, s])


def bvh_rest_positions(data: BvhData) -> np.ndarray:
    """Positions (J, 3) of the rest pose: every rotation channel at zero, so that every joint's
    frame is the file's (position channels keep their first frame's values)."""
    motion = data.motion[:1].copy()
    names = [ch for chans in data.channels for ch in chans]
    motion[:, [i for i, ch in enumerate(names) if ch in _ROT_AXES]] = 0.0
    rest = BvhData(data.path, data.names, data.parents, data.offsets, data.channels, motion,
                   data.frame_time)
    return bvh_positions(rest)[0]


def chain_length(joints17: np.ndarray) -> float:
    """Ankle-to-head chain length of a (F, 17, 3) motion at frame 0: mean leg (hip-knee-ankle)
    plus pelvis-spine-thorax-neck-head, in the input's unit (about 0.95 x stature)."""
    j = joints17[0]

    def d(a: int, b: int) -> float:
        return float(np.linalg.norm(j[a] - j[b]))

    leg = 0.5 * (d(1, 2) + d(2, 3) + d(4, 5) + d(5, 6))
    return leg + d(0, 7) + d(7, 8) + d(8, 9) + d(9, 10)


def detect_unit_mm(chain: float, path: str = "") -> tuple[str, float]:
    """(unit name, mm per unit) for a skeleton whose ankle-to-head chain is `chain` units."""
    for name, mm, lo, hi in _UNITS:
        if lo <= chain <= hi:
            return name, mm
    raise DynaPoseError(f"cannot tell the BVH's length unit: its ankle-to-head chain is "
                        f"{chain:.4g} units, not a human size in m, CMU units, inches, cm or "
                        "mm (pass unit_mm)", path or None)


def _up_rotation(joints17: np.ndarray) -> np.ndarray:
    """Proper rotation (3, 3) taking the motion's up axis (ankles -> head, file axes) to +Z."""
    up = (joints17[:, 10] - 0.5 * (joints17[:, 3] + joints17[:, 6])).mean(axis=0)
    axis = int(np.argmax(np.abs(up)))
    base = {
        0: np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]),  # X up: cyclic
        1: np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]]),  # Y up: (x, -z, y)
        2: np.eye(3),
    }[axis]
    if up[axis] < 0:
        base = np.diag([1.0, -1.0, -1.0]) @ base  # upside down: turn 180 degrees about x
    return base


def rigidify(joints: np.ndarray) -> np.ndarray:
    """Give every bone of a (F, 17, 3) motion its median length, keeping each bone's direction.

    Rebuilt from the pelvis outwards (parents before children), so a joint moves by the length
    corrections of the bones above it: a few millimetres for the shared mocap files.
    """
    out = joints.copy()
    for child, parent in BONES:
        d = joints[:, child] - joints[:, parent]
        length = np.linalg.norm(d, axis=-1, keepdims=True)
        unit = d / np.maximum(length, 1e-9)
        out[:, child] = out[:, parent] + np.median(length) * unit
    return out


def _action_from_stem(stem: str) -> str:
    words = re.split(r"[_\-\s.]+", stem.lower())
    for w in words:
        if w in ACTIONS:
            return w
    m = re.match(r"dataset-\d+_([^_]+)_", stem)
    if m:
        return m.group(1)
    return stem


def rig_joints(data: BvhData, joint_map: JointMap | PathLike | None = None
               ) -> tuple[np.ndarray, np.ndarray, str]:
    """The 17 joints of a parsed BVH: (joints (F, 17, 3), every rig point (F, J, 3), the table
    used), in the file's units and axes. The table is a `RIGS` name when the file is one of
    those rigs and `joint_map` is None, else "synonyms" (see `load_bvh`)."""
    if joint_map is not None and not isinstance(joint_map, JointMap):
        joint_map = read_joint_map(joint_map)
    rig = find_rig(data.names) if joint_map is None else None
    positions, rotations = bvh_transforms(data)
    if rig is not None:
        table = RIGS[rig]
    else:
        table = synonym_table(data.names, data.parents, bvh_rest_positions(data), positions,
                              joint_map, data.path)
    return map_to_17(positions, rotations, data.names, table), positions, rig or "synonyms"


def load_bvh(path: PathLike, unit_mm: float | None = None, action: str | None = None,
             subject: str | None = None, rigid: bool = True,
             joint_map: JointMap | PathLike | None = None) -> Motion:
    """Load a BVH file as a `Motion`: (F, 17, 3) float32 world mm, Z up, floor at z = 0.

    The rig is recognised by its joint names: the calibrated tables `RIGS`, else the synonym
    table (`dynapose.data.bvh_rigs.SYNONYMS`); `joint_map` (a `JointMap` or the path of a joint
    map file, see `read_joint_map`) names rig joints for any of the 17 and takes precedence
    over the synonym table (the calibrated tables are then not used). `unit_mm` (mm per file
    unit) overrides
    the unit detection. `action` defaults to a word of `ACTIONS` found in the file name (else
    the name's action field for Bandai Namco files, else the file stem); `subject` defaults to
    the file stem. fps is 1 / Frame Time. With `rigid` (default) the 16 bones get constant
    lengths (see `rigidify`), as in Human3.6M; otherwise bones that span two rig segments
    (clavicle, spine) stretch by a few millimetres as the rig's clavicles and spine move.
    Raises DynaPoseError naming the file when it is malformed, has no frames, or lacks the
    joints the mapping needs.
    """
    p = os.fspath(path)
    data = parse_bvh(p)
    joints, positions, _ = rig_joints(data, joint_map)
    if unit_mm is None:
        _, unit_mm = detect_unit_mm(chain_length(joints), p)
    elif not unit_mm > 0:
        raise ValueError(f"unit_mm must be positive, got {unit_mm}")
    rot = _up_rotation(joints) * float(unit_mm)
    joints = joints @ rot.T
    heights = positions @ rot[2]  # (F, J) height of every rig point (toe end sites too), mm
    lowest = float(np.percentile(heights.min(axis=1), 5.0))
    # Files recorded on a floor at height 0 keep it; others are grounded at their lowest point.
    floor = 0.0 if -_NATIVE_FLOOR_TOLERANCE_MM[0] <= lowest <= _NATIVE_FLOOR_TOLERANCE_MM[1] \
        else lowest
    joints[..., 2] -= floor
    if rigid:
        joints = rigidify(joints)
    stem = Path(p).stem
    return Motion(joints.astype(np.float32), 1.0 / data.frame_time,
                  action or _action_from_stem(stem), subject or stem, p)
