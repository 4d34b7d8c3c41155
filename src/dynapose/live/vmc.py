"""The pose as a humanoid avatar's bones, sent as the VMC protocol (OSC over UDP).

**World frame.** The camera-frame joints are put in the world frame of
:mod:`dynapose.scene.floor` (Y up, the floor at y = 0, mm) by :class:`LiveWorld`: the floor is
estimated from the frames seen so far (:func:`dynapose.scene.floor.estimate_floor`) after 1, 2,
4, 8 ... frames with a person and then every :data:`FLOOR_EVERY` frames, so it settles as the
person moves and stays put after; the origin is on the floor below the first pelvis seen.

**Bones.** Rotations come from the BVH rig's IK (:func:`dynapose.animation.ik.solve`: the hips'
frame, the chest's frame, each limb bone the shortest rotation from its rest direction, a T-pose
rest). Each of Unity's ``HumanBodyBones`` in :data:`HUMANOID` takes the world rotation of one rig
joint, and its local rotation is that relative to its humanoid parent's -- so a receiver that
composes them from the hips down turns every bone exactly to the observed direction. The rest
pose is the T-pose with every rotation the identity, as VRM's normalised bones have it.

**Unity's convention.** Unity is left-handed: X right, Y up, Z forward, metres, and an avatar at
rest faces +Z with its left hand towards -X. The rig's world (right-handed, facing +Z, left hand
+X) maps onto it by mirroring X: positions ``(x, y, z) -> (-x, y, z) / 1000`` and rotations
``R -> S R S`` with ``S = diag(-1, 1, 1)``, i.e. quaternions ``(x, y, z, w) -> (x, -y, -z, w)``.
A person facing the camera makes the avatar face the receiver's camera (not mirrored: the
person's left hand is the avatar's left hand, on the right of the picture).

**Messages** (one OSC bundle per frame; docs/live.md lists them): ``/VMC/Ext/OK 1 3 0 tracked``,
``/VMC/Ext/T time``, ``/VMC/Ext/Root/Pos "root" px py pz qx qy qz qw`` (the pelvis's point on the
floor, no rotation), ``/VMC/Ext/Bone/Pos name px py pz qx qy qz qw`` per bone (local position in
the parent's rest frame, local rotation; the hips' position is relative to the root: their
height). A frame without a person sends only OK (tracked 0) and T.
"""

from __future__ import annotations

import functools
import socket
import struct
from dataclasses import dataclass

import numpy as np
from pythonosc.parsing import osc_types

from dynapose.animation import ik
from dynapose.errors import DynaPoseError
from dynapose.scene.floor import WorldFrame, estimate_floor, world_frame_of

#: Frames with a person between two floor estimates once the first ones are done.
FLOOR_EVERY = 512


#: Unity's humanoid bones sent: (name, rig joint whose world rotation it takes, humanoid parent,
#: the 17-joint index where the bone starts). Spine starts at the 17 joints' spine and turns as
#: the chest's frame; Chest sits at the thorax with the same rotation (identity locally); Neck
#: (thorax -> neck) and Head (neck -> head top) carry the two neck bones of the 17 joints.
HUMANOID: tuple[tuple[str, str, str | None, int], ...] = (
    ("Hips", "pelvis", None, 0),
    ("LeftUpperLeg", "left_hip", "Hips", 4),
    ("LeftLowerLeg", "left_knee", "LeftUpperLeg", 5),
    ("LeftFoot", "left_ankle", "LeftLowerLeg", 6),
    ("RightUpperLeg", "right_hip", "Hips", 1),
    ("RightLowerLeg", "right_knee", "RightUpperLeg", 2),
    ("RightFoot", "right_ankle", "RightLowerLeg", 3),
    ("Spine", "spine", "Hips", 7),
    ("Chest", "thorax", "Spine", 8),
    ("Neck", "neck_base", "Chest", 8),
    ("Head", "neck", "Neck", 9),
    ("LeftShoulder", "left_clavicle", "Chest", 8),
    ("LeftUpperArm", "left_shoulder", "LeftShoulder", 11),
    ("LeftLowerArm", "left_elbow", "LeftUpperArm", 12),
    ("LeftHand", "left_wrist", "LeftLowerArm", 13),
    ("RightShoulder", "right_clavicle", "Chest", 8),
    ("RightUpperArm", "right_shoulder", "RightShoulder", 14),
    ("RightLowerArm", "right_elbow", "RightUpperArm", 15),
    ("RightHand", "right_wrist", "RightLowerArm", 16),
)
BONE_NAMES: tuple[str, ...] = tuple(b[0] for b in HUMANOID)
_RIG_INDEX = [ik.RIG_NAMES.index(b[1]) for b in HUMANOID]
_PARENT_INDEX = [-1 if b[2] is None else BONE_NAMES.index(b[2]) for b in HUMANOID]
_MIRROR = np.diag([-1.0, 1.0, 1.0])


class LiveWorld:
    """Camera frame -> world frame for a live stream (module docstring). :meth:`update` with
    each frame's camera-frame joints (17, 3) mm (NaN: no person) returns the frame in use, or
    None before the first person."""

    def __init__(self, fps: float = 30.0, history: int = 1800) -> None:
        self.fps = fps if fps > 0 else 30.0
        self.history = history
        self._joints: list[np.ndarray] = []
        self._seen = 0
        self._next = 1
        self.frame: WorldFrame | None = None
        self._origin: np.ndarray | None = None  # camera-frame pelvis of the first person

    def update(self, joints: np.ndarray) -> WorldFrame | None:
        j = np.asarray(joints, dtype=np.float64)
        if not np.isfinite(j).all():
            return self.frame
        self._joints.append(j)
        del self._joints[:-self.history]
        self._seen += 1
        if self._origin is None:
            self._origin = j[0].copy()
        if self._seen >= self._next:
            self._next = self._seen * 2 if self._seen < FLOOR_EVERY else self._seen + FLOOR_EVERY
            try:
                floor = estimate_floor(np.stack(self._joints), None, self.fps)
            except DynaPoseError:
                return self.frame
            frame = world_frame_of(floor.up, floor.camera_height)
            start = frame.to_world(self._origin)
            frame.translation = frame.translation - np.array([start[0], 0.0, start[2]])
            self.frame = frame
        return self.frame


@dataclass
class HumanoidPose:
    """A frame of the avatar in Unity's convention (module docstring). root: (3,) m, the
    pelvis's point on the floor. positions: (B, 3) m, each bone's local position (the hips':
    from the root; the others': their rest offset in the parent's frame). rotations: (B, 4)
    local quaternions (x, y, z, w). world: (B, 3, 3) each bone's world rotation in the rig's
    (right-handed) world frame. Bones in :data:`BONE_NAMES` order."""

    root: np.ndarray
    positions: np.ndarray
    rotations: np.ndarray
    world: np.ndarray


def quaternion(rot: np.ndarray) -> np.ndarray:
    """Rotation matrices (..., 3, 3) -> unit quaternions (..., 4) as (x, y, z, w), w >= 0."""
    r = np.asarray(rot, dtype=np.float64)
    m00, m11, m22 = r[..., 0, 0], r[..., 1, 1], r[..., 2, 2]
    q = np.stack([1.0 + m00 - m11 - m22, 1.0 - m00 + m11 - m22, 1.0 - m00 - m11 + m22,
                  1.0 + m00 + m11 + m22], -1)
    # four ways to read the same quaternion; the one with the largest component is stable
    pick = np.argmax(q, axis=-1)
    s = np.sqrt(np.maximum(np.take_along_axis(q, pick[..., None], -1)[..., 0], 1e-300)) * 2.0
    d = {  # (x, y, z, w) * s for each choice, from the off-diagonal sums and differences
        0: (0.25 * s * s, r[..., 0, 1] + r[..., 1, 0], r[..., 0, 2] + r[..., 2, 0],
            r[..., 2, 1] - r[..., 1, 2]),
        1: (r[..., 0, 1] + r[..., 1, 0], 0.25 * s * s, r[..., 1, 2] + r[..., 2, 1],
            r[..., 0, 2] - r[..., 2, 0]),
        2: (r[..., 0, 2] + r[..., 2, 0], r[..., 1, 2] + r[..., 2, 1], 0.25 * s * s,
            r[..., 1, 0] - r[..., 0, 1]),
        3: (r[..., 2, 1] - r[..., 1, 2], r[..., 0, 2] - r[..., 2, 0],
            r[..., 1, 0] - r[..., 0, 1], 0.25 * s * s),
    }
    out = np.zeros((*r.shape[:-2], 4))
    for k, parts in d.items():
        out = np.where((pick == k)[..., None], np.stack(parts, -1) / s[..., None], out)
    out /= np.linalg.norm(out, axis=-1, keepdims=True)
    return np.where(out[..., 3:] < 0, -out, out)


def to_unity_rotation(rot: np.ndarray) -> np.ndarray:
    """Rotations (..., 3, 3) in the rig's right-handed world -> Unity's (module docstring)."""
    return _MIRROR @ np.asarray(rot, dtype=np.float64) @ _MIRROR


def to_unity_position(points_mm: np.ndarray) -> np.ndarray:
    """Points (..., 3) mm in the rig's world -> Unity metres."""
    return np.asarray(points_mm, dtype=np.float64) * np.array([-1.0, 1.0, 1.0]) / 1000.0


def rest_joints(lengths: np.ndarray) -> np.ndarray:
    """The 17 joints (17, 3) mm of the T-pose rest with bone `lengths` (16,), pelvis at 0."""
    return _rest_joints(np.asarray(lengths, dtype=np.float64).tobytes()).copy()


@functools.lru_cache(maxsize=8)
def _rest_joints(key: bytes) -> np.ndarray:
    offsets = ik.rest_offsets(np.frombuffer(key, dtype=np.float64))
    eye = np.broadcast_to(np.eye(3), (1, len(ik.RIG), 3, 3))
    return ik.joints_of(ik.forward(eye, np.zeros((1, 3)), offsets))[0]


def humanoid_pose(world: np.ndarray, lengths: np.ndarray) -> HumanoidPose:
    """The avatar's pose for world joints (17, 3) mm (Y up, rigid bones of `lengths` (16,) mm):
    see :class:`HumanoidPose` and the module docstring."""
    world = np.asarray(world, dtype=np.float64)
    glob = ik.solve(world[None])[0]  # (len(RIG), 3, 3)
    bones = glob[_RIG_INDEX]  # (B, 3, 3) world rotations of the humanoid bones
    local = np.empty_like(bones)
    positions = np.zeros((len(HUMANOID), 3))
    rest = rest_joints(lengths)
    for b, (_, _, _, at) in enumerate(HUMANOID):
        parent = _PARENT_INDEX[b]
        if parent < 0:
            local[b] = bones[b]
            positions[b] = [0.0, world[0, 1], 0.0]
        else:
            local[b] = bones[parent].T @ bones[b]
            positions[b] = rest[at] - rest[HUMANOID[parent][3]]
    root = np.array([world[0, 0], 0.0, world[0, 2]])
    return HumanoidPose(to_unity_position(root), to_unity_position(positions),
                        quaternion(to_unity_rotation(local)), bones)


def vmc_messages(pose: HumanoidPose | None, time_s: float) -> list[tuple[str, list[object]]]:
    """One frame's VMC messages (address, arguments), in sending order (module docstring);
    `pose` None: no person this frame (OK with tracking 0, and T)."""
    out: list[tuple[str, list[object]]] = [
        ("/VMC/Ext/OK", [1, 3, 0, 0 if pose is None else 1]),
        ("/VMC/Ext/T", [float(time_s)]),
    ]
    if pose is None:
        return out
    out.append(("/VMC/Ext/Root/Pos", ["root", *map(float, pose.root), 0.0, 0.0, 0.0, 1.0]))
    for name, p, q in zip(BONE_NAMES, pose.positions, pose.rotations, strict=True):
        out.append(("/VMC/Ext/Bone/Pos", [name, *map(float, p), *map(float, q)]))
    return out


def osc_message(address: str, args: list[object]) -> bytes:
    """One OSC message's bytes: strings, ints and floats (32-bit) as python-osc encodes them."""
    tags = "," + "".join("s" if isinstance(a, str) else "i" if isinstance(a, int) else "f"
                         for a in args)
    parts = [osc_types.write_string(address), osc_types.write_string(tags)]
    for a in args:
        parts.append(osc_types.write_string(a) if isinstance(a, str) else
                     osc_types.write_int(a) if isinstance(a, int) else
                     osc_types.write_float(float(a)))  # type: ignore[arg-type]
    return b"".join(parts)


def osc_bundle(messages: list[tuple[str, list[object]]]) -> bytes:
    """An OSC bundle (time tag 1: at once) of `messages` (address, arguments)."""
    body = [b"#bundle\x00", struct.pack(">Q", 1)]
    for address, args in messages:
        msg = osc_message(address, args)
        body += [struct.pack(">i", len(msg)), msg]
    return b"".join(body)


class VmcSender:
    """Sends each frame's VMC messages as one OSC bundle (:func:`osc_bundle`) in a UDP datagram
    to `host`:`port`. DynaPoseError when the host cannot be resolved."""

    def __init__(self, host: str, port: int) -> None:
        self.target = f"{host}:{port}"
        try:
            family, kind, proto, _, address = socket.getaddrinfo(
                host, port, type=socket.SOCK_DGRAM)[0]
        except (OSError, UnicodeError) as exc:
            reason = getattr(exc, "strerror", None) or exc
            raise DynaPoseError(f"cannot send OSC there ({reason})",
                                f"--osc {self.target}") from None
        self._socket = socket.socket(family, kind, proto)
        self._address = address
        self.sent = 0

    def send(self, messages: list[tuple[str, list[object]]]) -> None:
        """Send one frame's messages as one bundle (a refused datagram is skipped: UDP)."""
        try:
            self._socket.sendto(osc_bundle(messages), self._address)
        except OSError:  # nobody listening (an ICMP refusal), a full buffer: UDP goes on
            return
        self.sent += 1

    def close(self) -> None:
        self._socket.close()
