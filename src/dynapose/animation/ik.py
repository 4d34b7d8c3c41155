"""Joint rotations from joint positions: the skeleton a BVH file animates, and its IK.

**The rig** (:data:`RIG`). One BVH joint at each of the 17 joints, named as
:data:`dynapose.skeleton.JOINT_NAMES`, plus six joints of zero length where a joint has more
than one bone (as Human3.6M's own 32-joint skeleton has at its pelvis and thorax): at the pelvis
``right_pelvis``, ``left_pelvis`` and ``lower_back`` (one per bone to the hips and the spine),
at the thorax ``neck_base``, ``left_clavicle`` and ``right_clavicle``. So every bone has a
joint of its own whose rotation sets its direction, and any pose with the rig's bone lengths is
reproduced exactly; the pelvis and thorax carry the body's orientation.

**Rest pose** (world frame of :mod:`dynapose.scene.floor`: Y up, the person faces +Z, +X is
their left): a T-pose. Legs straight down, spine, neck and head straight up, hips, clavicles and
arms straight out sideways, each bone with its length from the clip (rigid bones). End Sites:
the foot, :data:`FOOT_FORWARD_MM` ahead of the ankle and down to the floor (the 17 joints have
no toes); the hands and the crown continue their last bone by :data:`HAND_MM` and
:data:`CROWN_MM`.

**IK** (:func:`solve`), world rotations G per joint, each joint's BVH rotation ``G_parent^T G``:

* pelvis (root): the hips' own frame -- X from the right hip to the left hip, Y the pelvis-to-
  spine direction made perpendicular to X, Z = X x Y (forward);
* spine (the bone spine -> thorax): the chest's frame -- Y along that bone, X the right-to-left
  shoulder line made perpendicular to it; the thorax joint keeps it (the torso's twist lives
  here);
* every other bone: the shortest rotation that takes the bone's rest direction, as its parent
  joint has turned it, onto the observed direction (no twist of its own, so a limb's twist is
  the body frame's above it: hips for the legs, chest for the arms and neck);
* ankles: the pelvis's heading about the vertical only (the foot flat, pointing where the hips
  face); wrists and head: their parent's rotation (the hand and crown continue the last bone).

The shortest rotation is undefined when a bone points exactly against its turned rest direction
(a thigh along the spine, an arm through the opposite shoulder); there the axis is any
perpendicular one, so the twist may jump, though the positions stay exact.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dynapose.scene.floor import ANKLE_HEIGHT_MM
from dynapose.scene.rotations import axis_angle, frame_from, shortest_rotation
from dynapose.skeleton import BONES, NUM_JOINTS

#: Foot End Site: this far ahead of the ankle, mm (down to the floor, ANKLE_HEIGHT_MM).
FOOT_FORWARD_MM = 150.0


#: Hand End Site beyond the wrist, and crown End Site above the head joint, mm.
HAND_MM = 80.0


CROWN_MM = 50.0


_LEFT = np.array([1.0, 0.0, 0.0])


_RIGHT = -_LEFT


_UP = np.array([0.0, 1.0, 0.0])


_DOWN = -_UP


#: Rest direction of the bone ending at each of the 17 joints (the pelvis has none).
REST_DIRECTION: dict[int, np.ndarray] = {
    1: _RIGHT, 2: _DOWN, 3: _DOWN, 4: _LEFT, 5: _DOWN, 6: _DOWN, 7: _UP, 8: _UP, 9: _UP,
    10: _UP, 11: _LEFT, 12: _LEFT, 13: _LEFT, 14: _RIGHT, 15: _RIGHT, 16: _RIGHT,
}


@dataclass(frozen=True)
class RigJoint:
    """One BVH joint. name; parent: index in :data:`RIG` (-1 for the root); at: the 17-joint
    index where it sits; bone: the 17-joint index of the child whose direction its rotation
    sets (None: a leaf or a frame joint); end: the End Site offset in rest-pose mm, or None."""

    name: str
    parent: int
    at: int
    bone: int | None
    end: tuple[float, float, float] | None = None


def _rig() -> tuple[RigJoint, ...]:
    j: list[RigJoint] = []

    def add(name: str, parent: int, at: int, bone: int | None,
            end: tuple[float, float, float] | None = None) -> int:
        j.append(RigJoint(name, parent, at, bone, end))
        return len(j) - 1

    root = add("pelvis", -1, 0, None)
    foot = (0.0, -ANKLE_HEIGHT_MM, FOOT_FORWARD_MM)
    for side, (hip, knee, ankle) in (("right", (1, 2, 3)), ("left", (4, 5, 6))):
        p = add(f"{side}_pelvis", root, 0, hip)
        p = add(f"{side}_hip", p, hip, knee)
        p = add(f"{side}_knee", p, knee, ankle)
        add(f"{side}_ankle", p, ankle, None, foot)
    p = add("lower_back", root, 0, 7)
    p = add("spine", p, 7, 8)
    thorax = add("thorax", p, 8, None)
    p = add("neck_base", thorax, 8, 9)
    p = add("neck", p, 9, 10)
    add("head", p, 10, None, (0.0, CROWN_MM, 0.0))
    for side, (sh, el, wr), out in (("left", (11, 12, 13), 1.0), ("right", (14, 15, 16), -1.0)):
        p = add(f"{side}_clavicle", thorax, 8, sh)
        p = add(f"{side}_shoulder", p, sh, el)
        p = add(f"{side}_elbow", p, el, wr)
        add(f"{side}_wrist", p, wr, None, (out * HAND_MM, 0.0, 0.0))
    return tuple(j)


#: The BVH joints in file order (depth first, parents before children).
RIG: tuple[RigJoint, ...] = _rig()


RIG_NAMES: tuple[str, ...] = tuple(r.name for r in RIG)


#: For each of the 17 joints, the index in RIG of the BVH joint sitting at it under its name.
RIG_OF_JOINT: tuple[int, ...] = tuple(RIG_NAMES.index(n) for n in (
    "pelvis", "right_hip", "right_knee", "right_ankle", "left_hip", "left_knee", "left_ankle",
    "spine", "thorax", "neck", "head", "left_shoulder", "left_elbow", "left_wrist",
    "right_shoulder", "right_elbow", "right_wrist"))


_BONE_INDEX = {child: i for i, (child, _) in enumerate(BONES)}


def rest_offsets(lengths: np.ndarray) -> np.ndarray:
    """OFFSET of every RIG joint from its parent (len(RIG), 3) mm for bone lengths (16,) mm in
    `BONES` order: zero for the root and the zero-length joints, else the bone's rest
    direction times its length."""
    lengths = np.asarray(lengths, dtype=np.float64)
    out = np.zeros((len(RIG), 3))
    for i, r in enumerate(RIG):
        if r.parent >= 0 and r.at != RIG[r.parent].at:  # the bone RIG[r.parent].at -> r.at
            out[i] = REST_DIRECTION[r.at] * lengths[_BONE_INDEX[r.at]]
    return out


def rot_y(angle: np.ndarray) -> np.ndarray:
    """Rotations (..., 3, 3) about +Y by angles (...) radians."""
    return axis_angle(np.broadcast_to(_UP, (*np.shape(angle), 3)), angle)


def solve(joints: np.ndarray) -> np.ndarray:
    """World rotations (F, len(RIG), 3, 3) of every RIG joint for world joints (F, 17, 3) mm
    (Y up; see the module docstring). The joints must be finite; bone lengths are not
    checked (FK with :func:`rest_offsets` of the same lengths reproduces them exactly)."""
    p = np.asarray(joints, dtype=np.float64)
    f = len(p)
    glob = np.zeros((f, len(RIG), 3, 3))
    # the hips' frame: X right hip -> left hip, Y towards the spine
    hips = frame_from(p[:, 4] - p[:, 1], p[:, 7] - p[:, 0], 0, 1)
    chest = frame_from(p[:, 8] - p[:, 7], p[:, 11] - p[:, 14], 1, 0)
    forward = np.cross(hips[..., 0], _UP)  # X x Y: where the hips face, on the floor
    heading = np.arctan2(forward[:, 0], forward[:, 2])
    for i, r in enumerate(RIG):
        if r.parent < 0:
            glob[:, i] = hips
            continue
        parent = glob[:, r.parent]
        if r.name == "spine":
            glob[:, i] = chest
        elif r.bone is not None:
            d = p[:, r.bone] - p[:, r.at]
            rest = parent @ REST_DIRECTION[r.bone]
            glob[:, i] = shortest_rotation(rest, d) @ parent
        elif r.name.endswith("_ankle"):
            glob[:, i] = rot_y(heading)
        else:  # thorax, head, wrists: their parent's rotation
            glob[:, i] = parent
    return glob


def local_rotations(glob: np.ndarray) -> np.ndarray:
    """World rotations (F, len(RIG), 3, 3) -> rotations relative to each joint's parent
    (the root's is its world rotation)."""
    local = np.empty_like(glob)
    for i, r in enumerate(RIG):
        local[:, i] = glob[:, i] if r.parent < 0 else \
            np.swapaxes(glob[:, r.parent], -1, -2) @ glob[:, i]
    return local


def forward(local: np.ndarray, root: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Forward kinematics: local rotations (F, len(RIG), 3, 3), root positions (F, 3) and
    OFFSETs (len(RIG), 3) -> world positions of the RIG joints (F, len(RIG), 3) (BVH order:
    a joint's offset turns with its parent's world rotation)."""
    f = len(local)
    pos = np.zeros((f, len(RIG), 3))
    glob = np.zeros_like(local)
    for i, r in enumerate(RIG):
        if r.parent < 0:
            pos[:, i] = root
            glob[:, i] = local[:, i]
        else:
            pos[:, i] = pos[:, r.parent] + glob[:, r.parent] @ offsets[i]
            glob[:, i] = glob[:, r.parent] @ local[:, i]
    return pos


def joints_of(rig_positions: np.ndarray) -> np.ndarray:
    """The 17 joints (F, 17, 3) out of RIG positions (F, len(RIG), 3)."""
    return rig_positions[:, list(RIG_OF_JOINT)]


assert len(RIG_OF_JOINT) == NUM_JOINTS
