"""Human motion on the 17-joint skeleton: the `Motion` container and a procedural generator.

World frame: Z up, millimetres, floor at z = 0 (right-handed). The 17 joints are those of
`dynapose.skeleton` (pelvis, hips, knees, ankles, spine, thorax, neck/nose, head, shoulders,
elbows, wrists). Ankle joints sit `BodyShape.ankle_height` above the floor when a foot stands on
it (as in Human3.6M, where the ankle marker is 5-9 cm above the ground).

The generator poses the skeleton by forward kinematics over `dynapose.skeleton.PARENTS`, so bone
lengths are constant over time by construction. Joint angles are smooth functions of time, one
family per action in `ACTIONS`; tempo, amplitudes, heading and start position are drawn from the
caller's `numpy.random.Generator`, so a seed reproduces a motion exactly.

Body frame used for the rest pose and joint angles: x forward, y to the person's left, z up.
Angles are in degrees inside this module. Flexion is positive forward (hips, shoulders, elbow
bending the forearm forward), knee flexion bends the shank backward, abduction moves a limb away
from the midline, axial rotation is positive outward (external) on both sides. The root height
is not animated directly: the pelvis is placed so that the lower ankle rests at `ankle_height`
(plus a ballistic lift during the flight of jumps and runs), and the pelvis moves horizontally so
that the supporting foot stays put (foot locking) — the body follows its legs.

Kept as one module: the body model, the eight actions and foot locking share one set of joint
angles and helpers, and read best top to bottom.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field, fields

import numpy as np

from dynapose.skeleton import NUM_JOINTS, PARENTS
from dynapose.timeline import change_rate

#: The procedural actions `generate_motion` knows, in a fixed order (index = action id).
ACTIONS: tuple[str, ...] = ("walk", "run", "jump", "squat", "wave", "turn", "reach", "sit")

GRAVITY_MM_S2 = 9810.0


@dataclass
class Motion:
    """A motion of one person on the 17-joint skeleton.

    joints: (T, 17, 3) float32, world frame, millimetres, Z up, floor at z = 0.
    fps: frames per second. action: e.g. "walk". subject: e.g. "synth-07" or a BVH file stem.
    source: "procedural" or the BVH file path. body: the `BodyShape` of a procedural motion
    (None for motion capture).
    """

    joints: np.ndarray
    fps: float
    action: str
    subject: str
    source: str
    body: BodyShape | None = None

    def __post_init__(self) -> None:
        joints = np.asarray(self.joints, dtype=np.float32)
        if joints.ndim != 3 or joints.shape[1:] != (NUM_JOINTS, 3) or joints.shape[0] < 1:
            raise ValueError(f"Motion.joints must be (T>=1, {NUM_JOINTS}, 3), got {joints.shape}")
        if not np.isfinite(joints).all():
            raise ValueError("Motion.joints contains non-finite values")
        if not self.fps > 0:
            raise ValueError(f"Motion.fps must be positive, got {self.fps}")
        self.joints = joints
        self.fps = float(self.fps)

    @property
    def num_frames(self) -> int:
        return int(self.joints.shape[0])

    @property
    def duration(self) -> float:
        """Seconds spanned by the frames (T / fps)."""
        return self.num_frames / self.fps

    def resample(self, fps: float) -> Motion:
        """The same motion at another frame rate (linear interpolation in time)."""
        if not fps > 0:
            raise ValueError(f"fps must be positive, got {fps}")
        joints = change_rate(self.joints, self.fps, fps)
        return Motion(joints.astype(np.float32), fps, self.action, self.subject, self.source,
                      self.body)


# --------------------------------------------------------------------------------------------
# Body shape
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class BodyShape:
    """Per-subject body measurements, millimetres. Bone lengths are joint-to-joint distances.

    `height` is the standing stature (floor to crown). The crown lies `crown` above the head
    joint. Widths are half-widths from the midline. `bulk` scales limb girth for renderers (1.0 =
    average build); `head_radius` is the radius of a sphere approximating the skull.
    """

    height: float
    hip_half_width: float  # pelvis -> hip joint, lateral
    thigh: float  # hip -> knee
    shin: float  # knee -> ankle
    ankle_height: float  # ankle joint above the floor when standing
    foot_length: float  # heel to toe tip
    lower_spine: float  # pelvis -> spine
    upper_spine: float  # spine -> thorax
    neck: float  # thorax -> neck/nose
    head: float  # neck/nose -> head
    crown: float  # head joint -> top of the skull (vertical, standing)
    shoulder_half_width: float  # thorax -> shoulder, lateral
    shoulder_drop: float  # shoulder joint below the thorax joint
    upper_arm: float  # shoulder -> elbow
    forearm: float  # elbow -> wrist
    hand_length: float  # wrist -> finger tips
    head_radius: float
    bulk: float = 1.0

    def to_dict(self) -> dict[str, float]:
        return {f.name: float(getattr(self, f.name)) for f in fields(self)}

    @classmethod
    def from_dict(cls, d: dict[str, float]) -> BodyShape:
        return cls(**{f.name: float(d[f.name]) for f in fields(cls)})

    def rest_offsets(self) -> np.ndarray:
        """(17, 3) offset of each joint from its parent in the rest pose, body frame, mm.

        Rest pose: standing upright, arms hanging, body frame x forward, y left, z up. The
        pelvis row is zero. Directions follow Human3.6M's median standing pose.
        """
        off = np.zeros((NUM_JOINTS, 3))
        for side, (hip, knee, ankle) in ((-1.0, (1, 2, 3)), (1.0, (4, 5, 6))):
            off[hip] = (0.0, side * self.hip_half_width, -0.04 * self.hip_half_width)
            off[knee] = (0.0, 0.0, -self.thigh)
            off[ankle] = (0.0, 0.0, -self.shin)
        off[7] = self.lower_spine * _unit(-0.17, 1.0)  # spine joint lies on the back
        off[8] = self.upper_spine * _unit(-0.08, 1.0)
        off[9] = self.neck * _unit(0.65, 1.0)  # the nose is in front of the neck base
        off[10] = self.head * _unit(-0.55, 1.0)
        for side, (sho, elb, wri) in ((1.0, (11, 12, 13)), (-1.0, (14, 15, 16))):
            off[sho] = (0.0, side * self.shoulder_half_width, -self.shoulder_drop)
            off[elb] = (0.0, 0.0, -self.upper_arm)
            off[wri] = (0.0, 0.0, -self.forearm)
        return off

    def standing_head_height(self) -> float:
        """Height of the head joint above the floor in the rest pose, mm."""
        off = self.rest_offsets()
        return float(self.ankle_height - off[3, 2] - off[2, 2] - off[1, 2]
                     + off[7, 2] + off[8, 2] + off[9, 2] + off[10, 2])


def _unit(x: float, z: float) -> np.ndarray:
    v = np.array([x, 0.0, z])
    return v / np.linalg.norm(v)


# Reference measurements (mm), Human3.6M subject S1's median bone lengths where it has them (a
# stature of about 1,720 mm); `sample_body` rescales them to the drawn height.
_REFERENCE = {
    "hip_half_width": 133.0, "thigh": 443.0, "shin": 453.0, "ankle_height": 75.0,
    "foot_length": 255.0, "lower_spine": 232.0, "upper_spine": 257.0, "neck": 119.0,
    "head": 113.0, "crown": 0.0, "shoulder_half_width": 140.0, "shoulder_drop": 55.0,
    "upper_arm": 279.0, "forearm": 252.0, "hand_length": 185.0, "head_radius": 98.0,
}
# Relative spread (1 sd) of each measurement between people of the same stature.
_SPREAD = {
    "hip_half_width": 0.07, "thigh": 0.035, "shin": 0.035, "ankle_height": 0.06,
    "foot_length": 0.04, "lower_spine": 0.05, "upper_spine": 0.04, "neck": 0.06, "head": 0.05,
    "shoulder_half_width": 0.07, "shoulder_drop": 0.15, "upper_arm": 0.035, "forearm": 0.035,
    "hand_length": 0.04, "head_radius": 0.04,
}


def sample_body(rng: np.random.Generator) -> BodyShape:
    """Draw a body: stature ~ N(1,715, 95) mm clipped to [1,500, 1,950], human proportions.

    Each measurement varies independently by a few per cent around the reference proportions,
    then the whole body is scaled so that its stature is the drawn height.
    """
    height = float(np.clip(rng.normal(1715.0, 95.0), 1500.0, 1950.0))
    vals = {k: v * float(np.clip(rng.normal(1.0, _SPREAD.get(k, 0.0)), 0.85, 1.15))
            for k, v in _REFERENCE.items()}
    bulk = float(np.clip(rng.normal(1.0, 0.12), 0.8, 1.3))
    probe = BodyShape(height=0.0, bulk=bulk, **vals)
    crown_ref = 0.55 * vals["head_radius"] + 10.0  # skull top above the head joint
    scale = height / (probe.standing_head_height() + crown_ref)
    scaled = {k: v * scale for k, v in vals.items()}
    scaled["crown"] = crown_ref * scale
    return BodyShape(height=height, bulk=bulk, **scaled)


# --------------------------------------------------------------------------------------------
# Rotations and forward kinematics
# --------------------------------------------------------------------------------------------


def _rot(axis: int, angle_rad: np.ndarray) -> np.ndarray:
    """Rotation matrices (..., 3, 3) about a coordinate axis (0 x, 1 y, 2 z), right-handed."""
    a = np.asarray(angle_rad, dtype=np.float64)
    c, s = np.cos(a), np.sin(a)
    m = np.zeros((*a.shape, 3, 3))
    i, j = [(1, 2), (2, 0), (0, 1)][axis]
    m[..., axis, axis] = 1.0
    m[..., i, i] = c
    m[..., j, j] = c
    m[..., i, j] = -s
    m[..., j, i] = s
    return m


def forward_kinematics(offsets: np.ndarray, local_rot: np.ndarray, root_rot: np.ndarray,
                       root_pos: np.ndarray) -> np.ndarray:
    """World joint positions (T, 17, 3) from rest offsets and per-frame rotations.

    offsets (17, 3) parent-to-joint offsets in the parent's frame; local_rot (T, 17, 3, 3) each
    joint's rotation relative to its parent (row 0 unused); root_rot (T, 3, 3); root_pos (T, 3).
    """
    t = root_pos.shape[0]
    pos = np.zeros((t, NUM_JOINTS, 3))
    glob = np.zeros((t, NUM_JOINTS, 3, 3))
    pos[:, 0] = root_pos
    glob[:, 0] = root_rot
    for j in range(1, NUM_JOINTS):
        p = PARENTS[j]
        pos[:, j] = pos[:, p] + glob[:, p] @ offsets[j]
        glob[:, j] = glob[:, p] @ local_rot[:, j]
    return pos


_POSE_KEYS = (
    "pelvis_pitch", "pelvis_roll", "pelvis_yaw", "spine_pitch", "spine_roll", "spine_yaw",
    "neck_pitch", "neck_yaw", "neck_roll",
    "l_hip_flex", "l_hip_abd", "l_hip_rot", "r_hip_flex", "r_hip_abd", "r_hip_rot",
    "l_knee", "r_knee",
    "l_sh_flex", "l_sh_abd", "l_sh_rot", "r_sh_flex", "r_sh_abd", "r_sh_rot",
    "l_elbow", "r_elbow",
)
_DEFAULT_POSE = {"l_sh_abd": 9.0, "r_sh_abd": 9.0, "l_elbow": 8.0, "r_elbow": 8.0}


def _limb_rot(flex: np.ndarray, abd: np.ndarray, rot: np.ndarray, side: float) -> np.ndarray:
    """Ball joint: flexion about -y, then abduction about +-x, then axial rotation about +-z."""
    return _rot(1, -flex) @ _rot(0, side * abd) @ _rot(2, side * rot)


def _pose_to_rotations(pose: dict[str, np.ndarray], heading: np.ndarray, t: int
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Joint angles (degrees) -> (local rotations (T,17,3,3), root rotation (T,3,3))."""
    g = {k: np.deg2rad(np.broadcast_to(np.asarray(pose.get(k, _DEFAULT_POSE.get(k, 0.0)),
                                                  dtype=np.float64), (t,)))
         for k in _POSE_KEYS}
    local = np.broadcast_to(np.eye(3), (t, NUM_JOINTS, 3, 3)).copy()
    root = (_rot(2, heading + g["pelvis_yaw"]) @ _rot(1, g["pelvis_pitch"])
            @ _rot(0, g["pelvis_roll"]))
    local[:, 1] = _limb_rot(g["r_hip_flex"], g["r_hip_abd"], g["r_hip_rot"], -1.0)
    local[:, 4] = _limb_rot(g["l_hip_flex"], g["l_hip_abd"], g["l_hip_rot"], 1.0)
    local[:, 2] = _rot(1, g["r_knee"])
    local[:, 5] = _rot(1, g["l_knee"])
    # The trunk's bend and twist is shared between the spine and thorax joints.
    half = (_rot(2, 0.5 * g["spine_yaw"]) @ _rot(1, 0.5 * g["spine_pitch"])
            @ _rot(0, 0.5 * g["spine_roll"]))
    local[:, 7] = half
    local[:, 8] = half
    local[:, 9] = _rot(2, g["neck_yaw"]) @ _rot(1, g["neck_pitch"]) @ _rot(0, g["neck_roll"])
    local[:, 11] = _limb_rot(g["l_sh_flex"], g["l_sh_abd"], g["l_sh_rot"], 1.0)
    local[:, 14] = _limb_rot(g["r_sh_flex"], g["r_sh_abd"], g["r_sh_rot"], -1.0)
    local[:, 12] = _rot(1, -g["l_elbow"])
    local[:, 15] = _rot(1, -g["r_elbow"])
    return local, root


# --------------------------------------------------------------------------------------------
# Actions: each returns joint angles over time plus how the root moves
# --------------------------------------------------------------------------------------------


@dataclass
class _Plan:
    """What an action contributes: joint angles (degrees, (T,) arrays), heading change (rad),
    extra pelvis lift above the grounded height (mm), the weight of foot locking (1 = a foot is
    planted, 0 = airborne), the forward speed carried while airborne (mm/s), and optionally which
    foot supports the body ((T, 2) weights for the right and left ankle, summing to 1; default:
    the lower ankle)."""

    pose: dict[str, np.ndarray]
    heading: np.ndarray
    lift: np.ndarray
    contact: np.ndarray
    carry_speed: float = 0.0
    support: np.ndarray | None = None
    extras: dict[str, float] = field(default_factory=dict)


def _bump(phase: np.ndarray, centre: float, power: float) -> np.ndarray:
    """Smooth periodic bump in [0, 1], peak 1 at `centre` (rad); higher power = narrower."""
    return ((1.0 + np.cos(phase - centre)) / 2.0) ** power


def _keyframes(u: np.ndarray, keys: list[float], values: list[float]) -> np.ndarray:
    """Cosine-eased interpolation of `values` at normalised times `keys` (0..1, cyclic)."""
    k = np.asarray(keys, dtype=np.float64)
    v = np.asarray(values, dtype=np.float64)
    u = np.mod(u, 1.0)
    i = np.clip(np.searchsorted(k, u, side="right") - 1, 0, len(k) - 2)
    s = (u - k[i]) / np.maximum(k[i + 1] - k[i], 1e-9)
    w = (1.0 - np.cos(np.pi * np.clip(s, 0.0, 1.0))) / 2.0
    return v[i] + (v[i + 1] - v[i]) * w


def _wobble(rng: np.random.Generator, t: np.ndarray, amp: float) -> np.ndarray:
    """Slow natural sway: two sinusoids (0.1-0.5 Hz) of random phase, peak about `amp`."""
    f = rng.uniform(0.1, 0.5, 2)
    ph = rng.uniform(0, 2 * np.pi, 2)
    return amp * 0.5 * (np.sin(2 * np.pi * f[0] * t + ph[0]) + np.sin(2 * np.pi * f[1] * t + ph[1]))


def _idle(rng: np.random.Generator, t: np.ndarray, scale: float = 1.0) -> dict[str, np.ndarray]:
    """Small postural sway for every action (degrees)."""
    return {
        "pelvis_roll": _wobble(rng, t, 1.5 * scale),
        "spine_pitch": _wobble(rng, t, 2.0 * scale) + rng.uniform(-2.0, 5.0),
        "spine_roll": _wobble(rng, t, 1.5 * scale),
        "spine_yaw": _wobble(rng, t, 2.5 * scale),
        "neck_pitch": _wobble(rng, t, 4.0 * scale) + rng.uniform(-8.0, 8.0),
        "neck_yaw": _wobble(rng, t, 6.0 * scale),
        "neck_roll": _wobble(rng, t, 2.0 * scale),
        "l_sh_flex": _wobble(rng, t, 3.0 * scale),
        "r_sh_flex": _wobble(rng, t, 3.0 * scale),
        "l_sh_abd": 9.0 + _wobble(rng, t, 2.0 * scale),
        "r_sh_abd": 9.0 + _wobble(rng, t, 2.0 * scale),
        "l_elbow": rng.uniform(5.0, 20.0) + _wobble(rng, t, 4.0 * scale),
        "r_elbow": rng.uniform(5.0, 20.0) + _wobble(rng, t, 4.0 * scale),
        "l_hip_abd": np.full_like(t, rng.uniform(1.0, 5.0)),
        "r_hip_abd": np.full_like(t, rng.uniform(1.0, 5.0)),
        "l_hip_rot": np.full_like(t, rng.uniform(0.0, 10.0)),
        "r_hip_rot": np.full_like(t, rng.uniform(0.0, 10.0)),
    }


def _add(pose: dict[str, np.ndarray], **more: np.ndarray) -> dict[str, np.ndarray]:
    for k, v in more.items():
        pose[k] = pose.get(k, _DEFAULT_POSE.get(k, 0.0)) + v
    return pose


def _gait(rng: np.random.Generator, t: np.ndarray, run: bool) -> _Plan:
    """Walking or running: phase-coupled legs and arms, pelvis rotation and sway."""
    zeros = np.zeros_like(t)
    if run:
        freq = rng.uniform(1.3, 1.5)  # strides (two steps) per second
        hip_amp, hip_off = rng.uniform(27.0, 35.0), rng.uniform(8.0, 14.0)
        knee_swing, knee_stance = rng.uniform(75.0, 95.0), rng.uniform(20.0, 32.0)
        arm_amp, elbow = rng.uniform(25.0, 40.0), rng.uniform(75.0, 95.0)
        lean = rng.uniform(6.0, 14.0)
    else:
        freq = rng.uniform(0.8, 1.05)
        hip_amp, hip_off = rng.uniform(17.0, 25.0), rng.uniform(2.0, 6.0)
        knee_swing, knee_stance = rng.uniform(50.0, 62.0), rng.uniform(8.0, 16.0)
        arm_amp, elbow = rng.uniform(10.0, 26.0), rng.uniform(10.0, 25.0)
        lean = rng.uniform(0.0, 5.0)
    phase = 2 * np.pi * freq * t + rng.uniform(0, 2 * np.pi)
    pose = _idle(rng, t, 0.5)
    for side, ph in (("r", phase), ("l", phase + np.pi)):
        _add(pose, **{
            f"{side}_hip_flex": hip_off + hip_amp * np.sin(ph),
            f"{side}_knee": 4.0 + knee_swing * _bump(ph, -0.15 if run else -0.25, 3.0)
            + knee_stance * _bump(ph, 2.3, 6.0),
            # Arms swing against the leg of the same side.
            f"{side}_sh_flex": 3.0 - arm_amp * np.sin(ph),
            f"{side}_elbow": elbow + 0.4 * arm_amp * (1.0 - np.sin(ph)) / 2.0,
        })
    _add(pose, pelvis_yaw=(6.0 if run else 4.0) * np.sin(phase),
         spine_yaw=-(10.0 if run else 6.0) * np.sin(phase),
         pelvis_roll=3.0 * np.sin(2 * phase + 0.5), spine_pitch=lean + zeros)
    turn_rate = np.deg2rad(rng.uniform(-12.0, 12.0))  # gently curving path, rad/s
    # The right foot supports the body while its hip extends (cos(phase) < 0); the hand-over
    # happens at the hip's extremes, where both feet rest relative to the pelvis.
    right = 1.0 / (1.0 + np.exp(np.clip(np.cos(phase) / 0.08, -50.0, 50.0)))
    support = np.stack([right, 1.0 - right], axis=-1)
    if run:
        # Flight phases between the stance phases (around phase = +-pi/2).
        flight = np.maximum(0.0, -np.cos(2 * phase)) ** 2
        lift = rng.uniform(35.0, 70.0) * flight
        contact = 1.0 - flight
    else:
        lift, contact = zeros, np.ones_like(t)
    return _Plan(pose, turn_rate * t, lift, contact, support=support, extras={"freq": freq})


def _walk(rng: np.random.Generator, t: np.ndarray) -> _Plan:
    return _gait(rng, t, run=False)


def _run(rng: np.random.Generator, t: np.ndarray) -> _Plan:
    return _gait(rng, t, run=True)


def _legs_sagittal(pose: dict[str, np.ndarray], thigh: np.ndarray, shank: np.ndarray,
                   pelvis_pitch: np.ndarray) -> None:
    """Set both legs from global segment angles (degrees forward of straight down)."""
    _add(pose, pelvis_pitch=pelvis_pitch)
    for side in ("l", "r"):
        _add(pose, **{f"{side}_hip_flex": thigh + pelvis_pitch, f"{side}_knee": thigh - shank})


def _jump(rng: np.random.Generator, t: np.ndarray) -> _Plan:
    """Crouch, take-off with an arm swing, ballistic flight, landing, recovery; repeated."""
    flight_time = rng.uniform(0.32, 0.55)
    period = rng.uniform(1.9, 2.6)
    u = np.mod(t / period + rng.uniform(0, 1), 1.0)
    k_to, k_land = 0.45, 0.45 + flight_time / period
    depth = rng.uniform(0.7, 1.0)
    keys = [0.0, 0.1, 0.29, k_to, 0.5 * (k_to + k_land), k_land, k_land + 0.1, 0.92, 1.0]
    thigh = depth * np.array([0, 0, 62, 2, 22, 12, 50, 0, 0], dtype=float)
    shank = depth * np.array([0, 0, -32, -2, -10, -8, -28, 0, 0], dtype=float)
    pitch = depth * np.array([0, 0, 28, 2, 6, 8, 24, 0, 0], dtype=float)
    arms = np.array([0, 0, -40, 130, 110, 60, 10, 0, 0], dtype=float) * rng.uniform(0.6, 1.0)
    pose = _idle(rng, t, 0.5)
    _legs_sagittal(pose, _keyframes(u, keys, list(thigh)), _keyframes(u, keys, list(shank)),
                   _keyframes(u, keys, list(pitch)))
    arm = _keyframes(u, keys, list(arms))
    _add(pose, l_sh_flex=arm, r_sh_flex=arm, spine_pitch=0.3 * _keyframes(u, keys, list(pitch)),
         l_elbow=0.15 * np.abs(arm), r_elbow=0.15 * np.abs(arm))
    in_flight = (u >= k_to) & (u < k_land)
    s = np.clip((u - k_to) / (k_land - k_to), 0.0, 1.0)
    apex = GRAVITY_MM_S2 * flight_time**2 / 8.0
    lift = np.where(in_flight, 4.0 * apex * s * (1.0 - s), 0.0)
    hop = rng.uniform(0.0, 400.0)
    return _Plan(pose, np.zeros_like(t), lift, (~in_flight).astype(float),
                 carry_speed=hop / flight_time)


def _squat(rng: np.random.Generator, t: np.ndarray) -> _Plan:
    """Repeated squats: hips back, knees forward and out, trunk leaning, arms forward."""
    period = rng.uniform(2.4, 4.0)
    u = np.mod(t / period + rng.uniform(0, 1), 1.0)
    depth = rng.uniform(0.55, 1.0) * _keyframes(u, [0, 0.12, 0.45, 0.58, 0.9, 1.0],
                                                [0, 0, 1, 1, 0, 0])
    pose = _idle(rng, t, 0.5)
    _legs_sagittal(pose, 100.0 * depth, -32.0 * depth, 30.0 * depth)
    arms = rng.uniform(0.0, 1.0)
    _add(pose, l_hip_abd=12 * depth, r_hip_abd=12 * depth, l_hip_rot=10 * depth,
         r_hip_rot=10 * depth, spine_pitch=8 * depth, neck_pitch=-25 * depth,
         l_sh_flex=85 * arms * depth, r_sh_flex=85 * arms * depth)
    return _Plan(pose, np.zeros_like(t), np.zeros_like(t), np.ones_like(t))


def _sit(rng: np.random.Generator, t: np.ndarray) -> _Plan:
    """Sit down on a (not drawn) chair, stay seated, stand up again; repeated."""
    period = rng.uniform(6.0, 9.0)
    u = np.mod(t / period + rng.uniform(0, 1), 1.0)
    keys = [0.0, 0.1, 0.38, 0.62, 0.9, 1.0]
    seat = _keyframes(u, keys, [0, 0, 1, 1, 0, 0])
    # Lean forward while lowering and rising: a bump centred on each transition.
    lean = rng.uniform(25.0, 40.0) * (_keyframes(u, [0, 0.1, 0.24, 0.38, 1.0], [0, 0, 1, 0, 0])
                                      + _keyframes(u, [0, 0.62, 0.76, 0.9, 1.0], [0, 0, 1, 0, 0]))
    thigh_seated = rng.uniform(82.0, 95.0)
    shank_seated = rng.uniform(-5.0, 15.0)
    pose = _idle(rng, t, 0.5)
    pelvis = lean * 0.6 - rng.uniform(0.0, 10.0) * seat
    _legs_sagittal(pose, thigh_seated * seat, shank_seated * seat, pelvis)
    rest = rng.uniform(20.0, 45.0)
    _add(pose, spine_pitch=lean * 0.4 - 5.0 * seat, l_hip_abd=6 * seat, r_hip_abd=6 * seat,
         l_sh_flex=rest * seat, r_sh_flex=rest * seat, l_elbow=50 * seat, r_elbow=50 * seat)
    return _Plan(pose, np.zeros_like(t), np.zeros_like(t), np.ones_like(t))


def _one_arm(rng: np.random.Generator) -> tuple[str, str]:
    return ("l", "r") if rng.random() < 0.5 else ("r", "l")


def _wave(rng: np.random.Generator, t: np.ndarray) -> _Plan:
    """Raise one arm, wave the forearm side to side, lower it; repeated."""
    period = rng.uniform(3.0, 5.0)
    u = np.mod(t / period + rng.uniform(0, 1), 1.0)
    up = _keyframes(u, [0, 0.12, 0.3, 0.8, 0.95, 1.0], [0, 0, 1, 1, 0, 0])
    side, _ = _one_arm(rng)
    fw = rng.uniform(1.5, 3.0)
    wave = rng.uniform(18.0, 35.0) * np.sin(2 * np.pi * fw * t) * up
    pose = _idle(rng, t, 0.7)
    _add(pose, **{
        f"{side}_sh_abd": rng.uniform(80.0, 125.0) * up,
        f"{side}_sh_flex": rng.uniform(0.0, 30.0) * up,
        f"{side}_sh_rot": 90.0 * up,
        f"{side}_elbow": rng.uniform(55.0, 95.0) * up + wave,
        "spine_roll": (4.0 if side == "r" else -4.0) * up,
        "neck_yaw": rng.uniform(-15.0, 15.0) * up,
    })
    return _Plan(pose, np.zeros_like(t), np.zeros_like(t), np.ones_like(t))


def _turn(rng: np.random.Generator, t: np.ndarray) -> _Plan:
    """Turn in place by 60-180 degrees with small steps, pause, turn again."""
    turn_time, pause = rng.uniform(1.2, 2.2), rng.uniform(0.5, 1.5)
    period = turn_time + pause
    tt = t + rng.uniform(0, period)
    cycle, within = np.floor(tt / period), np.mod(tt, period)
    s = np.clip(within / turn_time, 0.0, 1.0)
    direction = 1.0 if rng.random() < 0.5 else -1.0
    angle = np.deg2rad(rng.uniform(60.0, 180.0))
    heading = direction * angle * (cycle + (1.0 - np.cos(np.pi * s)) / 2.0)
    active = np.sin(np.pi * s) ** 2  # stepping while turning
    step_phase = 2 * np.pi * rng.uniform(1.6, 2.0) * within
    pose = _idle(rng, t, 0.6)
    for side, ph in (("r", step_phase), ("l", step_phase + np.pi)):
        _add(pose, **{f"{side}_hip_flex": 14.0 * active * _bump(ph, 0.0, 2.0),
                      f"{side}_knee": 32.0 * active * _bump(ph, 0.0, 2.0)})
    _add(pose, neck_yaw=direction * 15.0 * active, spine_yaw=direction * 8.0 * active)
    return _Plan(pose, heading, np.zeros_like(t), np.ones_like(t))


def _reach(rng: np.random.Generator, t: np.ndarray) -> _Plan:
    """Reach with one arm to a random target (high, forward, low or to the side) and back."""
    period = rng.uniform(3.0, 5.0)
    u = np.mod(t / period + rng.uniform(0, 1), 1.0)
    out = _keyframes(u, [0, 0.15, 0.42, 0.6, 0.88, 1.0], [0, 0, 1, 1, 0, 0])
    side, other = _one_arm(rng)
    elevation = rng.uniform(20.0, 160.0)  # shoulder flexion at full reach
    low = max(0.0, (70.0 - elevation) / 50.0)  # reaching low bends the trunk and knees
    lean = rng.uniform(5.0, 15.0) + 35.0 * low
    bend = rng.uniform(0.0, 40.0) * low
    twist = (1.0 if side == "r" else -1.0) * rng.uniform(0.0, 20.0)
    pose = _idle(rng, t, 0.6)
    _legs_sagittal(pose, bend * out, -0.5 * bend * out, 0.5 * lean * out)
    _add(pose, **{
        f"{side}_sh_flex": elevation * out,
        f"{side}_sh_abd": rng.uniform(0.0, 45.0) * out,
        f"{side}_elbow": -rng.uniform(0.0, 5.0) * out,
        f"{other}_sh_flex": rng.uniform(-5.0, 20.0) * out,
        "spine_pitch": 0.5 * lean * out,
        "spine_yaw": twist * out,
        "neck_pitch": -0.4 * lean * out,
    })
    return _Plan(pose, np.zeros_like(t), np.zeros_like(t), np.ones_like(t))


_ACTION_FNS: dict[str, Callable[[np.random.Generator, np.ndarray], _Plan]] = {
    "walk": _walk, "run": _run, "jump": _jump, "squat": _squat, "wave": _wave, "turn": _turn,
    "reach": _reach, "sit": _sit,
}


# --------------------------------------------------------------------------------------------
# The generator
# --------------------------------------------------------------------------------------------


def _pose_relative(body: BodyShape, plan: _Plan, heading: np.ndarray) -> np.ndarray:
    """Joints (T, 17, 3) with the pelvis at the origin, oriented in the world, mm."""
    t = heading.shape[0]
    local, root = _pose_to_rotations(plan.pose, heading, t)
    return forward_kinematics(body.rest_offsets(), local, root, np.zeros((t, 3)))


def _foot_lock_velocity(rel: np.ndarray, support: np.ndarray | None = None) -> np.ndarray:
    """Per-frame pelvis displacement (T, 2) that keeps the supporting foot still, mm.

    `support` (T, 2) weights the right and left ankle; by default the lower ankle supports,
    near-level feet sharing the support (soft-min weights over ankle heights with a 15 mm
    temperature). Entry 0 is zero.
    """
    ankles = rel[:, [3, 6]]
    if support is None:
        z = ankles[..., 2] - ankles[..., 2].min(axis=1, keepdims=True)
        w = np.exp(-z / 15.0)
    else:
        w = np.asarray(support, dtype=np.float64)
    w = w / w.sum(axis=1, keepdims=True)
    disp = np.zeros((rel.shape[0], 2))
    if rel.shape[0] > 1:
        step = np.diff(ankles[..., :2], axis=0)  # (T-1, 2 feet, 2)
        wm = 0.5 * (w[1:] + w[:-1])
        disp[1:] = -(wm[..., None] * step).sum(axis=1)
    return disp


def check_length(num_frames: int, fps: float) -> None:
    """ValueError unless a motion of `num_frames` frames at `fps` can be generated."""
    if int(num_frames) < 1:
        raise ValueError(f"num_frames must be at least 1, got {num_frames}")
    if not fps > 0:
        raise ValueError(f"fps must be positive, got {fps}")


def generate_motion(action: str, body: BodyShape, num_frames: int, fps: float = 50.0,
                    rng: np.random.Generator | None = None, subject: str = "") -> Motion:
    """Procedural motion of `body` performing `action` (one of `ACTIONS`).

    Returns a `Motion` with joints (num_frames, 17, 3) float32 in world mm (Z up, floor z = 0).
    Tempo, amplitudes, start phase, heading (uniform) and start position (within 0.5 m of the
    origin) are drawn from `rng` (default: a fresh generator seeded 0), so the same seed gives
    the same motion. The lower ankle is at `body.ankle_height` whenever a foot is planted.
    """
    if action not in _ACTION_FNS:
        raise ValueError(f"unknown action {action!r}; expected one of {', '.join(ACTIONS)}")
    check_length(num_frames, fps)
    rng = np.random.default_rng(0) if rng is None else rng
    n = int(num_frames)
    t = np.arange(n) / float(fps) + rng.uniform(0.0, 20.0)
    replay = copy.deepcopy(rng)  # replays the action's draws on a finer time grid if needed
    plan = _ACTION_FNS[action](rng, t)
    heading0 = rng.uniform(-np.pi, np.pi)
    radius, angle = 500.0 * np.sqrt(rng.random()), rng.uniform(-np.pi, np.pi)
    start = radius * np.array([np.cos(angle), np.sin(angle)])

    heading = heading0 + plan.heading
    rel = _pose_relative(body, plan, heading)
    carry = plan.carry_speed
    if action == "run":
        carry = _mean_contact_speed(body, action, replay, t[0], plan.extras["freq"])
    contact = np.clip(plan.contact, 0.0, 1.0)
    disp = _foot_lock_velocity(rel, plan.support)
    c_mid = np.concatenate([[1.0], 0.5 * (contact[1:] + contact[:-1])])
    h_mid = np.concatenate([heading[:1], 0.5 * (heading[1:] + heading[:-1])])
    flying = carry / fps * np.stack([np.cos(h_mid), np.sin(h_mid)], axis=-1)
    flying[0] = 0.0
    xy = start + np.cumsum(c_mid[:, None] * disp + (1.0 - c_mid[:, None]) * flying, axis=0)
    ground = body.ankle_height - rel[:, [3, 6], 2].min(axis=1)
    root = np.concatenate([xy, (ground + plan.lift)[:, None]], axis=1)
    joints = rel + root[:, None, :]
    return Motion(joints.astype(np.float32), float(fps), action, subject, "procedural", body)


def _mean_contact_speed(body: BodyShape, action: str, rng: np.random.Generator, t0: float,
                        freq: float) -> float:
    """Mean speed (mm/s) of foot-locked travel while a foot is planted, over two strides.

    `rng` must be in the state the action was drawn from, so the same gait is replayed on a
    200 Hz grid. Used as the speed a runner carries through the flight phases.
    """
    t = t0 + np.arange(0.0, 2.0 / freq, 1.0 / 200.0)
    plan = _ACTION_FNS[action](rng, t)
    rel = _pose_relative(body, plan, np.zeros_like(t))
    speed = np.linalg.norm(_foot_lock_velocity(rel, plan.support), axis=1) * 200.0
    c = plan.contact
    return float((speed[1:] * c[1:]).sum() / max(c[1:].sum(), 1e-6))
