"""CMU motion capture (three converted sets, ~29 minutes) as world motion for training lifters.

Reads the folder laid out as ``../shared/data/mocap/cmu`` (its README.md describes it): three
``.npz`` files of joint positions, millimetres, **Y up**, read as plain arrays (no pickle):

==========  =============================  ======  ====================================
set         file                           joints  keys
==========  =============================  ======  ====================================
actions     ``cmu_actions_38j.npz``        38      ``pos3d/<train|test>/<action>/<name>``
dance       ``cmu_dance_17j.npz``          17      ``pos3d/train_data_bvh/<style>/<nn>``
subjects    ``cmu_subjects1to7_17j.npz``   17      ``pos3d/subjects/<sss>/<sss_tt>``
==========  =============================  ======  ====================================

:func:`load_cmu` turns every take into sequences :func:`dynapose.data.lift_motion.load_motion` can
film: the 17 joints (:data:`ACTIONS_38_TO_17` for the 38-joint set), world frame **Z up**
(``(x, y, z)_cmu -> (x, -z, y)``: a rotation, so left stays left), 50 fps (Human3.6M's rate: the
lifter's ``frame_stride`` counts 50 fps frames), feet on a floor at z = 0 and the path centred on
the world origin (the middle of the Human3.6M camera ring that films it). In order:

1. **Start-up frames** (:func:`leading_rest_frames`): a take whose first frame is a T-pose (both
   arms straight out sideways: the rig's rest pose, or arms not yet captured) loses every frame
   up to the first implausible jump within its first second. A T-pose that is really performed
   (no jump after it) is kept. Detected, not assumed: in these files frame 0 of every actions
   and dance take is the rest pose, and so are the first frames of takes 003_02 and 007_03 to
   007_12 of the subjects set.
2. **Glitches** (:func:`clean_spans`): any joint moving faster than :data:`GLITCH_SPEED` between
   two frames (feet and knees of some takes flip for a frame or a few: up to 130 m/s; the
   fastest real motion here, soccer kicks and martial arts, stays below 13 m/s) cuts the take:
   the frames around it (:data:`GLITCH_MARGIN` each side) go, pieces shorter than
   :data:`MIN_PIECE` go, the rest become separate sequences. Steps 1 and 2 look at the rig's own
   joints, before step 3 (whose extrapolated head would magnify the neck's jitter).
3. **Joint definitions** (:func:`canonical_joints`, see below).
4. **Floor**: per take, the 2nd percentile of the lower ankle's height is put at
   :data:`ANKLE_HEIGHT` (the subjects set sits ~920 mm below its floor; the others drift by a
   few cm between takes).
5. **Rate**: linear interpolation from the file's rate (120 or 60 fps) to 50 fps.
6. **Place**: each piece's pelvis path is centred (its bounding box's middle) on the origin.

Subjects and the train/validation rule: sequences are named by performer group, so a subject
list selects them: ``cmu-actions`` (the actions set's ``train`` takes), ``cmu-actions-test``
(its ``test`` takes: the conversion's own held-out takes, the validation subject of the
``lift-cmu`` preset), ``cmu-salsa``, ``cmu-indian``, ``cmu-martial`` (dance set) and
``cmu-001`` ... ``cmu-007`` (subjects set; no 004). Actions are ``"<group> <take>"`` (``"walking
walking_3"``, ``"salsa 01"``, ``"005 005_11"``; a take cut into pieces adds ``.<k>``).

Joint definitions (measured against Human3.6M in ``benchmarks/cmu_joint_definitions.py``; that
measurement is for the record only: nothing below uses Human3.6M data, so a lifter trained on
this motion is a fair cross-dataset result). The three rigs disagree with each other and with
Human3.6M on where the trunk and head joints sit. The corrections are anatomical and internal
to CMU, towards the database's own ASF skeleton (the actions set):

* pelvis := the midpoint of the two hip joints, in every set. The ASF root sits ~10 cm above
  and 3 cm behind the hip joints (at the lower back); a 17-joint root is the hip centre (as the
  dance conversion already defines it). Root-relative targets move with it, so this one matters
  most.
* spine := the point halfway (by length) along the rig's trunk chain from the pelvis to the
  thorax (ASF: lower back, upper back; the others: their one spine joint). The rigs' first
  spine joint ranges from the lumbar spine (ASF lowerback, CC Spine01) to the chest (dance
  'chest'); the thoracolumbar junction lies about halfway up the trunk.
* dance knees: the rig's thigh is ~37 cm and its shin ~45 cm, where joint-centre thigh and shank
  are about equal in people (Drillis and Contini: 0.245 and 0.246 of stature). Each knee is
  moved, in its leg's plane with hip and ankle fixed, so that thigh = shin (half the sum).
* neck and head: ASF's neck is the upper end of the neck (skull base) and its head the end of
  the head bone, 0.1096 leg lengths (thigh + shin) further along (its head bone continues the
  neck's direction to within ~11 degrees). The subjects rig's ``CC_Base_Head`` is the skull
  base, so it becomes the neck; dance's neck ('head' joint) is already the skull base. Both
  get a head extrapolated as ASF's: skull base + 0.1096 leg x the thorax-to-skull-base
  direction (dance's between-the-eyes point is dropped).

Left as they are: hip width (all three rigs put hip joints ~9 cm from the midline, anatomical
hip centres), thorax (all three: the base of the neck) and shoulders (dance's sit closer to the
midline). The remaining differences are what the lifter's bone-length scaling (``bone_scale``,
``body_scale``) and posture turns (``posture_deg``, applied to input and target alike) teach it
to read from the 2D instead of assuming; ``jitter_mm`` perturbs the input only and so teaches
the opposite (to keep the training definition whatever the 2D says): see ``lift-cmu.yaml``.

CMU's terms: weights trained on this data may ship with the acknowledgement the data's README
quotes; the data itself, in any form, never goes into the repository.
"""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from dynapose.errors import DynaPoseError
from dynapose.skeleton import JOINT_NAMES, NUM_JOINTS
from dynapose.timeline import change_rate

#: The 38-joint ASF indices of the 17 joints (README of the data: 19 is the head top).
ACTIONS_38_TO_17: tuple[int, ...] = (0, 8, 9, 10, 2, 3, 4, 14, 17, 18, 19, 21, 22, 23, 30, 31,
                                     32)
#: ASF's upper back joint (between the spine and thorax joints above) for the spine's trunk chain.
ASF_UPPER_BACK = 15
#: Rate of the sequences :func:`load_cmu` returns (Human3.6M's), frames per second.
TARGET_FPS = 50.0
#: Height of the ankle joint above the floor when a foot stands on it, mm (the lateral
#: malleolus lies at ~4 % of stature; the joint centre slightly above it).
ANKLE_HEIGHT = 80.0
#: Joint speed (world frame, mm/s) above which a frame-to-frame step is a capture glitch.
GLITCH_SPEED = 15_000.0
#: Seconds dropped on each side of a glitch.
GLITCH_MARGIN = 0.05
#: Shortest piece kept after cutting, seconds.
MIN_PIECE = 0.5
#: Window (seconds) at a take's start in which a T-pose followed by a jump is dropped.
LEAD_WINDOW = 1.0
#: ASF's head bone (upper neck -> head end) over its leg (thigh + shin), both constant.
ASF_HEAD_PER_LEG = 0.1096

_J = JOINT_NAMES.index
PELVIS, R_HIP, R_KNEE, R_ANKLE, L_HIP, L_KNEE, L_ANKLE = (
    _J(n) for n in ("pelvis", "right_hip", "right_knee", "right_ankle", "left_hip",
                    "left_knee", "left_ankle"))
SPINE, THORAX, NECK, HEAD = _J("spine"), _J("thorax"), _J("neck"), _J("head")
ARMS = ((_J("left_shoulder"), _J("left_elbow"), _J("left_wrist"), 1.0),
        (_J("right_shoulder"), _J("right_elbow"), _J("right_wrist"), -1.0))


@dataclass(frozen=True)
class CmuSet:
    """One of the three files: its name, file, joints per frame and default rate (fps)."""

    name: str
    file: str
    joints: int
    fps: float


SETS: tuple[CmuSet, ...] = (
    CmuSet("actions", "cmu_actions_38j.npz", 38, 120.0),
    CmuSet("dance", "cmu_dance_17j.npz", 17, 120.0),
    CmuSet("subjects", "cmu_subjects1to7_17j.npz", 17, 60.0),
)


@dataclass
class CmuSequence:
    """One sequence ready for lifter training: world (T, 17, 3) float32 mm, Z up, 50 fps."""

    subject: str
    action: str
    world: np.ndarray


@dataclass
class CmuStats:
    """What :func:`load_cmu` kept and dropped, in source frames (at each file's own rate)."""

    takes: int = 0
    frames: int = 0
    rest_frames: int = 0  # leading T-pose frames dropped (step 2)
    rest_takes: int = 0
    glitch_frames: int = 0  # frames dropped around glitches and in too-short pieces (step 3)
    glitch_takes: int = 0
    sequences: int = 0  # pieces returned
    seconds: float = 0.0  # their total duration
    per_set: dict[str, float] = field(default_factory=dict)  # seconds kept per set


# --------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------
def read_set(folder: str | os.PathLike[str], spec: CmuSet) -> list[tuple[str, np.ndarray, float]]:
    """The takes of one file: [(key without ``pos3d/``, (T, J, 3) float64 mm Y up, fps)].

    Raises DynaPoseError naming the file when it is missing, not a plain-array ``.npz``, or holds
    a take of the wrong shape, with NaN or infinite values, or with a bad ``fps/`` entry.
    """
    path = Path(folder) / spec.file
    if not path.is_file():
        raise DynaPoseError(f"missing: the CMU {spec.name} set is expected here", path)
    try:
        archive = np.load(path, allow_pickle=False)
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise DynaPoseError(f"not a readable .npz file ({exc})", path) from exc
    takes = []
    with archive:
        keys = sorted(k for k in archive.files if k.startswith("pos3d/"))
        if not keys:
            raise DynaPoseError("holds no pos3d/... arrays", path)
        for key in keys:
            try:
                pos = archive[key]
                fps_key = "fps/" + key[len("pos3d/"):]
                fps = float(archive[fps_key]) if fps_key in archive.files else spec.fps
            except (ValueError, TypeError, OSError, zipfile.BadZipFile) as exc:
                raise DynaPoseError(f"unreadable entry {key!r} ({exc})", path) from exc
            if pos.ndim != 3 or pos.shape[1:] != (spec.joints, 3) or pos.dtype.kind != "f":
                raise DynaPoseError(f"{key} is {pos.dtype} {pos.shape}, expected float "
                                    f"(T, {spec.joints}, 3)", path)
            if not np.isfinite(pos).all():
                raise DynaPoseError(f"{key} holds NaN or infinite values", path)
            if not (np.isfinite(fps) and fps > 0):
                raise DynaPoseError(f"fps of {key} is {fps}, expected > 0", path)
            if len(pos) >= 2:
                takes.append((key[len("pos3d/"):], pos.astype(np.float64), fps))
    return takes


def subject_and_action(spec: CmuSet, key: str) -> tuple[str, str]:
    """The subject name (``cmu-...``) and action (``"<group> <take>"``) of a take's key."""
    parts = key.split("/")
    if spec.name == "actions":  # <train|test>/<action>/<name>
        return ("cmu-actions" if parts[0] == "train" else f"cmu-actions-{parts[0]}",
                f"{parts[-2]} {parts[-1]}")
    if spec.name == "dance":  # train_data_bvh/<style>/<nn>
        return f"cmu-{parts[-2]}", f"{parts[-2]} {parts[-1]}"
    return f"cmu-{parts[-2]}", f"{parts[-2]} {parts[-1]}"  # subjects/<sss>/<sss_tt>


# --------------------------------------------------------------------------------------------
# Geometry
# --------------------------------------------------------------------------------------------
def y_up_to_z_up(points: np.ndarray) -> np.ndarray:
    """(..., 3) Y-up points -> Z up: (x, y, z) -> (x, -z, y), a rotation (handedness kept)."""
    return np.stack([points[..., 0], -points[..., 2], points[..., 1]], axis=-1)


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-9)


def midway(chain: np.ndarray) -> np.ndarray:
    """The point halfway (by length) along polylines (T, K, 3) -> (T, 3)."""
    seg = np.linalg.norm(np.diff(chain, axis=1), axis=-1)  # (T, K-1)
    cum = np.concatenate([np.zeros((len(chain), 1)), np.cumsum(seg, axis=1)], axis=1)
    half = cum[:, -1:] / 2
    k = np.clip((cum[:, 1:] < half).sum(1), 0, seg.shape[1] - 1)  # segment holding the middle
    rows = np.arange(len(chain))
    u = ((half[:, 0] - cum[rows, k]) / np.maximum(seg[rows, k], 1e-9))[:, None]
    return chain[rows, k] + u * (chain[rows, k + 1] - chain[rows, k])


def rebalance_leg(hip: np.ndarray, knee: np.ndarray, ankle: np.ndarray) -> np.ndarray:
    """The knee (T, 3) moved so thigh = shin (half their sum), hip and ankle fixed, the knee kept
    in the leg's plane on the side it bends to (a straight leg stays straight)."""
    total = np.linalg.norm(knee - hip, axis=-1) + np.linalg.norm(ankle - knee, axis=-1)
    axis = ankle - hip
    d = np.linalg.norm(axis, axis=-1)
    e = _unit(axis)
    half = np.minimum(d, total) / 2  # along the hip-ankle line
    out = knee - hip - ((knee - hip) * e).sum(-1, keepdims=True) * e
    bend = np.linalg.norm(out, axis=-1, keepdims=True)
    side = np.where(bend > 1e-6, out / np.maximum(bend, 1e-9), 0.0)
    height = np.sqrt(np.maximum((total / 2) ** 2 - half**2, 0.0))
    return hip + half[:, None] * e + height[:, None] * side


def canonical_joints(joints: np.ndarray, set_name: str,
                     upper_back: np.ndarray | None = None) -> np.ndarray:
    """The 17 joints (T, 17, 3) of one rig moved to the common definitions (module docstring).

    upper_back: (T, 3) ASF upper back joint of the actions set (a point of its trunk chain).
    """
    out = joints.copy()
    out[:, PELVIS] = (joints[:, L_HIP] + joints[:, R_HIP]) / 2
    trunk = [out[:, PELVIS], joints[:, SPINE]]
    if upper_back is not None:
        trunk.append(upper_back)
    out[:, SPINE] = midway(np.stack([*trunk, joints[:, THORAX]], axis=1))
    if set_name == "dance":
        for hip, knee, ankle in ((R_HIP, R_KNEE, R_ANKLE), (L_HIP, L_KNEE, L_ANKLE)):
            out[:, knee] = rebalance_leg(out[:, hip], out[:, knee], out[:, ankle])
    if set_name in ("dance", "subjects"):
        skull_base = joints[:, HEAD if set_name == "subjects" else NECK]
        leg = np.mean([np.linalg.norm(joints[:, a] - joints[:, b], axis=-1).mean()
                       for a, b in ((R_HIP, R_KNEE), (R_KNEE, R_ANKLE), (L_HIP, L_KNEE),
                                    (L_KNEE, L_ANKLE))]) * 2
        out[:, NECK] = skull_base
        out[:, HEAD] = skull_base + ASF_HEAD_PER_LEG * leg * _unit(skull_base - joints[:, THORAX])
    return out


# --------------------------------------------------------------------------------------------
# Cleaning
# --------------------------------------------------------------------------------------------
def is_tpose(world: np.ndarray, max_tilt_deg: float = 15.0,
             min_lateral: float = 0.9) -> np.ndarray:
    """(T,) True where both arms are straight out sideways: upper arm and forearm within
    `max_tilt_deg` of horizontal (Z up) and along the body's left-right axis (cosine >=
    `min_lateral`, the axis from the right hip to the left hip)."""
    left = world[:, L_HIP] - world[:, R_HIP]
    left[:, 2] = 0
    left = _unit(left)
    ok = np.ones(len(world), dtype=bool)
    sin_tilt = np.sin(np.radians(max_tilt_deg))
    for shoulder, elbow, wrist, side in ARMS:
        for a, b in ((shoulder, elbow), (elbow, wrist)):
            d = _unit(world[:, b] - world[:, a])
            ok &= (np.abs(d[:, 2]) <= sin_tilt) & ((d * left).sum(-1) * side >= min_lateral)
    return ok


def glitch_steps(world: np.ndarray, fps: float) -> np.ndarray:
    """(T-1,) True where some joint moves faster than :data:`GLITCH_SPEED` between frames."""
    speed = np.linalg.norm(np.diff(world, axis=0), axis=-1).max(-1) * fps
    return speed > GLITCH_SPEED


def leading_rest_frames(world: np.ndarray, fps: float) -> int:
    """How many leading frames are a rest T-pose: 0 unless frame 0 is a T-pose
    (:func:`is_tpose`) and a glitch step follows within :data:`LEAD_WINDOW` seconds; then every
    frame up to that step."""
    if not is_tpose(world[:1])[0]:
        return 0
    lead = glitch_steps(world[: int(LEAD_WINDOW * fps) + 1], fps)
    hits = np.nonzero(lead)[0]
    return int(hits[0]) + 1 if len(hits) else 0


def clean_spans(world: np.ndarray, fps: float) -> tuple[list[tuple[int, int]], int]:
    """The [start, end) frame spans kept of a take (T, 17, 3) at `fps`, and how many leading
    rest frames were dropped (:func:`leading_rest_frames`). Glitch steps after those drop
    :data:`GLITCH_MARGIN` seconds around them; spans shorter than :data:`MIN_PIECE` seconds
    are dropped."""
    n = len(world)
    rest = leading_rest_frames(world, fps)
    keep = np.ones(n, dtype=bool)
    keep[:rest] = False
    margin = round(GLITCH_MARGIN * fps)
    for t in np.nonzero(glitch_steps(world, fps))[0]:
        if t >= rest:  # the step out of the rest pose is that pose's end, not a glitch
            keep[max(t - margin, 0): t + 2 + margin] = False
    edges = np.diff(np.concatenate([[0], keep.astype(np.int8), [0]]))
    starts, ends = np.nonzero(edges == 1)[0], np.nonzero(edges == -1)[0]
    spans = [(int(s), int(e)) for s, e in zip(starts, ends, strict=True)
             if (e - s) / fps >= MIN_PIECE]
    return spans, rest


def floor_height(world: np.ndarray) -> float:
    """Where the floor is (mm, Z up) under a take: its lower ankle's 2nd percentile height
    minus :data:`ANKLE_HEIGHT`."""
    return float(np.percentile(world[:, [R_ANKLE, L_ANKLE], 2].min(1), 2)) - ANKLE_HEIGHT


def centre_path(world: np.ndarray) -> np.ndarray:
    """The motion moved horizontally so its pelvis path's bounding box is centred on (0, 0)."""
    pelvis = world[:, PELVIS, :2]
    mid = (pelvis.min(0) + pelvis.max(0)) / 2
    return world - np.array([mid[0], mid[1], 0.0])


# --------------------------------------------------------------------------------------------
# The folder
# --------------------------------------------------------------------------------------------
def cmu_subjects() -> list[str]:
    """Every subject name :func:`load_cmu` returns for the shared folder (its subjects set has
    no CMU subject 4)."""
    return (["cmu-actions", "cmu-actions-test", "cmu-salsa", "cmu-indian", "cmu-martial"]
            + [f"cmu-{s:03d}" for s in (1, 2, 3, 5, 6, 7)])


def prepare_take(world_y_up: np.ndarray, fps: float, set_name: str
                 ) -> tuple[list[np.ndarray], int, int]:
    """One take (T, J, 3) Y up at `fps` -> its pieces [(T', 17, 3) float32, Z up, 50 fps,
    floored, centred], the leading rest frames dropped and all source frames dropped."""
    world = y_up_to_z_up(world_y_up)
    upper_back = None
    if world.shape[1] == 38:
        upper_back = world[:, ASF_UPPER_BACK]
        world = world[:, list(ACTIONS_38_TO_17)]
    spans, rest = clean_spans(world, fps)  # on the rig's own joints (module docstring)
    world = canonical_joints(world, set_name, upper_back)
    if spans:
        kept = np.concatenate([world[s:e] for s, e in spans])
        world = world - np.array([0.0, 0.0, floor_height(kept)])
    pieces = [centre_path(change_rate(world[s:e], fps, TARGET_FPS)).astype(np.float32)
              for s, e in spans]
    return pieces, rest, len(world) - sum(e - s for s, e in spans)


def load_cmu(folder: str | os.PathLike[str], subjects: list[str] | None = None,
             stats: CmuStats | None = None) -> list[CmuSequence]:
    """The CMU takes of `folder` as cleaned 50 fps world sequences (module docstring), only
    those of `subjects` (all when None). `stats`, when given, is filled in."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DynaPoseError("not a folder (expected the CMU mocap folder with "
                            f"{', '.join(s.file for s in SETS)})", folder)
    stats = stats if stats is not None else CmuStats()
    out = []
    for spec in SETS:
        for key, pos, fps in read_set(folder, spec):
            subject, action = subject_and_action(spec, key)
            if subjects is not None and subject not in subjects:
                continue
            pieces, rest, dropped = prepare_take(pos, fps, spec.name)
            stats.takes += 1
            stats.frames += len(pos)
            stats.rest_frames += rest
            stats.rest_takes += rest > 0
            stats.glitch_frames += dropped - rest
            stats.glitch_takes += dropped > rest
            for k, piece in enumerate(pieces):
                name = action if len(pieces) == 1 else f"{action}.{k + 1}"
                out.append(CmuSequence(subject, name, piece))
                seconds = (len(piece) - 1) / TARGET_FPS
                stats.seconds += seconds
                stats.per_set[spec.name] = stats.per_set.get(spec.name, 0.0) + seconds
    stats.sequences = len(out)
    assert all(s.world.shape[1:] == (NUM_JOINTS, 3) for s in out)
    return out
