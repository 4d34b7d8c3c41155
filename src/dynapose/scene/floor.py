"""A world frame for a prediction: the floor, the camera's height and tilt, foot contacts.

A prediction's joints are in the camera frame (x right, y down, z forward, mm). For animation
they are wanted in a world frame: Y up, the floor at y = 0, the person's trajectory over the
ground. With a static camera, everything needed is in the feet:

1. **Contacts.** A foot that stands still is on the floor. Per frame and foot: the ankle's
   speed (positions smoothed over :data:`SPEED_SIGMA_S`, central differences) below
   :data:`CONTACT_SPEED_MM_S`, and the ankle level with the lower ankle of its frame (within
   :data:`CONTACT_BAND_MM`: a test that a wrong first guess of "up" barely affects). A run of
   at least :data:`MIN_CONTACT_S` of them is a *step*. Steps give points on the floor: the
   ankle's mean position over each :data:`SAMPLE_S` of a step, the points within
   :data:`PLACE_MM` of each other merged into one *place* (standing on one spot for a minute is
   one observation of the floor, not a hundred).
2. **Floor.** A plane through the places with a prior on its tilt (:func:`fit_plane`): in a
   frame whose third axis is the body's mean up direction u (pelvis to thorax), the floor is
   ``h = a x + b y + c``, fitted by ridge regression -- the places' height residuals against
   :data:`FLOOR_SCATTER_MM`, the slopes against ``tan(UP_PRIOR_DEG)`` -- with Tukey's
   biweight down-weighting places off the plane (a foot resting on a chair's rung). Places
   spread over the floor decide the tilt; a person who stays on one spot leaves it to the
   body's up direction (good to about 5 degrees when standing, worse when sitting or bending).
   The camera's height then puts the places' ankles :data:`ANKLE_HEIGHT_MM` above the floor
   (the ankle joint is not on the floor; the 17 joints have no toes). Contacts are found again
   against the fitted floor (ankle below ``ANKLE_HEIGHT_MM + CONTACT_BAND_MM``, still) and the
   plane refitted, :data:`FLOOR_ITERATIONS` times in all.
3. **World frame** (:class:`WorldFrame`): Y = the floor's normal, X = the camera's x axis laid
   on the floor, Z = X x Y (towards the camera: a person facing the camera faces +Z, the BVH
   custom). The origin is on the floor below the camera (``origin="camera"``) or below the
   pelvis in the first frame with a person (``origin="start"``, for animation).

Fallbacks, each named in :attr:`FloorEstimate.assumptions`: a clip with no step (too short to
measure speeds, or a person who never stands still) takes its contacts from height alone (each
ankle's lowest :data:`LOW_FRACTION` of heights along the body's up); with no usable contact at
all the floor is the body's up direction through the lowest ankle; places that cover too
little floor to fix the tilt (its standard deviation over 3 degrees) are said to leave it to
the body; a floor not to be trusted -- fewer than :data:`MIN_PLACES` places, places off one
plane (over :data:`MAX_OFF_PLANE` of them further than :data:`MAX_PLACE_SCATTER_MM`), or
tilted from the body's up direction by over :data:`MAX_TILT_FROM_BODY_DEG` (a crouching,
kneeling or stumbling person, a treadmill) -- is replaced by the body's up direction through
the places. A pelvis-relative prediction (``root`` frame) has no trajectory to find: see
:func:`foot_locked_trajectory`.

Constants marked *calibrated* were set on Human3.6M's training subjects S1, S5, S6, S7 (ground
truth) and are measured on S8 by ``benchmarks/animation_h36m.py``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from dynapose.errors import DynaPoseError
from dynapose.scene.rotations import unit

#: Ankle joint height above the floor when the foot is flat on it, mm (*calibrated*: the
#: median over 5,214 steps of S1, S5, S6, S7, 75.6 mm; the subjects' own medians range from 57
#: to 107 mm).
ANKLE_HEIGHT_MM = 75.0


#: A foot moving slower than this (mm/s, 3D) may be planted.
CONTACT_SPEED_MM_S = 150.0


#: ... and its ankle must be at most this far above the ankle level of a planted foot, mm.
CONTACT_BAND_MM = 60.0


#: Gaussian smoothing of ankle positions before their speed is taken, seconds (sigma).
SPEED_SIGMA_S = 0.04


#: Shortest run of contact frames that counts as a step for the floor, seconds.
MIN_CONTACT_S = 0.1


#: Scatter of a step's ankle height about the ankle level (foot pitch, heel lifts), mm
#: (*calibrated*: 21-27 mm within each of S1, S5, S6, S7).
FLOOR_SCATTER_MM = 25.0


#: Prior on the floor's normal: the body's up direction, give or take this many degrees.
UP_PRIOR_DEG = 15.0


#: A step longer than this is cut into pieces this long, each one point on the floor, seconds.
SAMPLE_S = 0.5


#: Pieces of steps closer than this are one place on the floor, mm. (UP_PRIOR_DEG and PLACE_MM
#: were chosen on S1, S5, S6, S7's ground truth: mean floor-angle error 1.9 degrees, against
#: 2.4 without merging places.)
PLACE_MM = 100.0


#: Contact frames / refits of the floor.
FLOOR_ITERATIONS = 3


#: Height-only contacts: the lowest fraction of ankle heights.
LOW_FRACTION = 0.2


#: The floor found from the feet is trusted only within this angle of the body's mean up
#: direction, degrees: further off (a crouching, kneeling or stumbling person whose "still"
#: feet are not on one floor, a treadmill) the body's up direction is the floor's normal.
MAX_TILT_FROM_BODY_DEG = 20.0


#: ... and only when the places on it lie on one plane: at most MAX_OFF_PLANE of them further
#: than MAX_PLACE_SCATTER_MM (3 x FLOOR_SCATTER_MM) from it, and at least MIN_PLACES of them.
MAX_PLACE_SCATTER_MM = 75.0
MAX_OFF_PLANE = 0.25
MIN_PLACES = 3


Origin = Literal["camera", "start"]



def smooth_positions(points: np.ndarray, valid: np.ndarray, sigma_frames: float) -> np.ndarray:
    """Gaussian smoothing over time of points (F, ...) using the valid frames only (F,) bool:
    a normalised convolution, so gaps and the clip's ends are not pulled towards zero. Frames
    with no valid frame within 3 sigma come back NaN."""
    points = np.asarray(points, dtype=np.float64)
    valid = np.asarray(valid, dtype=bool)
    if sigma_frames <= 0:
        return np.where(valid.reshape(-1, *[1] * (points.ndim - 1)), points, np.nan)
    radius = max(1, int(np.ceil(3 * sigma_frames)))
    kernel = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma_frames) ** 2)
    f = len(points)
    flat = np.where(valid[:, None], points.reshape(f, -1), 0.0)

    def conv(col: np.ndarray) -> np.ndarray:  # "same" length even when the kernel is longer
        return np.convolve(col, kernel, mode="full")[radius: radius + f]

    num = np.stack([conv(col) for col in flat.T], axis=1) if flat.shape[1] else flat
    den = conv(valid.astype(np.float64))
    out = np.divide(num, den[:, None], out=np.full_like(num, np.nan), where=den[:, None] > 1e-9)
    return out.reshape(points.shape)


def point_speeds(points: np.ndarray, valid: np.ndarray, fps: float,
                 sigma_s: float = SPEED_SIGMA_S) -> np.ndarray:
    """Speeds (F, K) mm/s of points (F, K, 3) mm: smoothed (:func:`smooth_positions`), then
    central differences. NaN where a frame or both its neighbours lack a person."""
    valid = np.asarray(valid, dtype=bool)
    f = len(points)
    out = np.full(points.shape[:2], np.nan)
    if f < 2:
        return out
    smooth = smooth_positions(points, valid, sigma_s * fps)
    lo = np.maximum(np.arange(f) - 1, 0)
    hi = np.minimum(np.arange(f) + 1, f - 1)
    # one-sided at the ends and next to gaps: use the neighbour frames that hold a person
    lo = np.where(valid[lo], lo, np.arange(f))
    hi = np.where(valid[hi], hi, np.arange(f))
    span = (hi - lo).astype(np.float64)
    ok = valid & (span > 0)
    diff = np.linalg.norm(smooth[hi] - smooth[lo], axis=-1)
    out[ok] = diff[ok] / span[ok, None] * fps
    return out


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """Maximal runs of True in a (F,) bool array: [(start, stop)), in order."""
    m = np.concatenate([[False], np.asarray(mask, dtype=bool), [False]])
    edges = np.flatnonzero(m[1:] != m[:-1])
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True)]


@dataclass
class FloorEstimate:
    """The floor in the camera frame and how it was found.

    up: (3,) unit normal of the floor in the camera frame, pointing up. camera_height: mm, the
    camera centre's height above the floor (height of a point p: ``up . p + camera_height``).
    contacts: (F, 2) bool, right and left foot planted (from the fitted floor). steps: the
    number of steps found; places: the places on the floor they stood on (the plane's points);
    support_mm: the places' spread across the floor (the smaller in-plane standard deviation:
    0 when the person never left one spot). body_up: (3,)
    the prior direction; prior_angle_deg: between it and ``up``; tilt_uncertainty_deg: the
    normal's standard deviation about its worst-determined axis under the fit's model (the
    steps' scatter and the prior). assumptions: what was assumed
    where the clip did not say (empty when the floor came from steps alone).
    """

    up: np.ndarray
    camera_height: float
    contacts: np.ndarray
    steps: int
    places: int
    support_mm: float
    body_up: np.ndarray
    prior_angle_deg: float
    tilt_uncertainty_deg: float
    assumptions: list[str] = field(default_factory=list)

    def heights(self, points: np.ndarray) -> np.ndarray:
        """Heights above the floor (...,) mm of camera-frame points (..., 3) mm."""
        return np.asarray(points, dtype=np.float64) @ self.up + self.camera_height

    def camera_tilt(self) -> dict[str, float]:
        """pitch_deg: the optical axis below the horizontal (positive: looking down);
        roll_deg: the image's x axis above the horizontal (positive: the image's right side
        is higher); height_mm: camera centre above the floor."""
        pitch = np.degrees(np.arcsin(np.clip(-self.up[2], -1.0, 1.0)))
        roll = np.degrees(np.arcsin(np.clip(self.up[0], -1.0, 1.0)))
        return {"pitch_deg": float(pitch), "roll_deg": float(roll),
                "height_mm": float(self.camera_height)}


def body_up(joints: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """The body's mean up direction (3,) unit: the mean over valid frames of the unit vector
    from the pelvis to the thorax (camera frame)."""
    j = np.asarray(joints, dtype=np.float64)[np.asarray(valid, dtype=bool)]
    u = unit(unit(j[:, 8] - j[:, 0]).mean(axis=0))
    if not np.isfinite(u).all() or np.linalg.norm(u) == 0:
        return np.array([0.0, -1.0, 0.0])
    return u


def _basis(u: np.ndarray) -> np.ndarray:
    """(3, 3) rows e1, e2, u: an orthonormal frame whose third axis is the unit vector u."""
    helper = np.array([1.0, 0.0, 0.0]) if abs(u[0]) < 0.9 else np.array([0.0, 0.0, 1.0])
    e1 = unit(np.cross(helper, u))
    return np.stack([e1, np.cross(u, e1), u])


def fit_plane(points: np.ndarray, prior_up: np.ndarray, weights: np.ndarray | None = None,
              scatter_mm: float | None = None, prior_deg: float | None = None
              ) -> tuple[np.ndarray, float]:
    """The floor through points (N, 3) mm: (unit normal (3,), height of the plane along it at
    the origin, mm), with a Gaussian prior on its slopes around `prior_up`.

    In a frame whose third axis is `prior_up`, the plane is ``h = a x + b y + c`` and
    ``sum_i w_i (h_i - a x_i - b y_i - c)^2 / scatter^2 + (a^2 + b^2) / tan^2(prior)`` is
    minimised (ridge regression: a plane far from the prior costs without bound, so stray
    points cannot stand it on its side), the points weighted by Tukey's biweight of their
    residuals (3 robust deviations, at least 3 scatters) so that a foot resting on something
    does not tilt it; the scatter in the prior's term is the larger of `scatter` and the
    residuals' robust deviation. scatter_mm, prior_deg: default FLOOR_SCATTER_MM,
    UP_PRIOR_DEG. Without points the plane is the prior's through the origin.
    """
    scatter = FLOOR_SCATTER_MM if scatter_mm is None else scatter_mm
    prior = np.tan(np.radians(UP_PRIOR_DEG if prior_deg is None else prior_deg))
    u = unit(np.asarray(prior_up, dtype=np.float64))
    points = np.asarray(points, dtype=np.float64).reshape(-1, 3)
    w0 = np.ones(len(points)) if weights is None else np.asarray(weights, dtype=np.float64)
    if len(points) == 0 or w0.sum() <= 0:
        return u, 0.0
    frame = _basis(u)
    local = points @ frame.T  # (x, y, h)
    design = np.concatenate([local[:, :2], np.ones((len(points), 1))], axis=1)
    coef = np.array([0.0, 0.0, float(np.median(local[:, 2]))])
    for _ in range(8):
        r = local[:, 2] - design @ coef
        scale = max(scatter, 1.4826 * float(np.median(np.abs(r - np.median(r)))))
        w = w0 * np.clip(1.0 - (r / (3.0 * scale)) ** 2, 0.0, None) ** 2
        if w.sum() <= 0:
            break
        # the prior weighs against the points' actual scatter, not the hoped-for one
        ridge = np.diag([scale**2 / prior**2, scale**2 / prior**2, 0.0])
        coef = np.linalg.solve(design.T @ (w[:, None] * design) + ridge,
                               design.T @ (w * local[:, 2]))
    n = unit(frame[2] - coef[0] * frame[0] - coef[1] * frame[1])
    # the plane h = a x + b y + c in the camera frame: n . p = c / |(-a, -b, 1)|
    return n, float(coef[2] / np.sqrt(1.0 + coef[0] ** 2 + coef[1] ** 2))


def _steps(contacts: np.ndarray, min_frames: int) -> list[tuple[int, int, int]]:
    """(foot, start, stop) of every run of contact frames at least `min_frames` long."""
    return [(k, a, b) for k in range(contacts.shape[1]) for a, b in runs(contacts[:, k])
            if b - a >= min_frames]


def estimate_floor(joints: np.ndarray, valid: np.ndarray | None = None, fps: float = 50.0,
                   ankle_height: float = ANKLE_HEIGHT_MM, relative: bool = False
                   ) -> FloorEstimate:
    """The floor under a camera-frame prediction (F, 17, 3) mm (module docstring).

    valid (F,) bool marks frames with a person (default: frames whose joints are finite).
    `relative`: the joints are pelvis-relative (no trajectory): contacts come from height
    alone and ``camera_height`` is the pelvis's mean height. Raises DynaPoseError when no frame
    has a person.
    """
    joints = np.asarray(joints, dtype=np.float64)
    if joints.ndim != 3 or joints.shape[1:] != (17, 3):
        raise DynaPoseError(f"joints must be (F, 17, 3), got {joints.shape}")
    finite = np.isfinite(joints).all(axis=(1, 2))
    valid = finite if valid is None else np.asarray(valid, dtype=bool) & finite
    if not valid.any():
        raise DynaPoseError("no frame with a person: cannot find the floor")
    assumptions: list[str] = []
    ankles = np.where(valid[:, None, None], joints[:, [3, 6]], np.nan)
    u0 = body_up(joints, valid)
    speed = np.full((len(joints), 2), np.nan) if relative else point_speeds(ankles, valid, fps)
    still = np.nan_to_num(speed, nan=np.inf) < CONTACT_SPEED_MM_S
    min_frames = max(2, round(MIN_CONTACT_S * fps))
    # First contacts: a still foot that is the lower one (or level with it) in its frame -- a
    # test that a wrong tilt barely affects, unlike heights compared across the whole room.
    h = ankles @ u0
    lower = np.nanmin(np.where(valid[:, None], h, np.inf), axis=1, keepdims=True)
    level_with_lower = valid[:, None] & (np.nan_to_num(h, nan=np.inf) < lower + CONTACT_BAND_MM)
    contacts = level_with_lower & still
    if not _steps(contacts, min_frames):
        if np.isfinite(speed).any():
            assumptions.append("no foot ever stood still: contacts from height alone (the "
                               f"lowest {LOW_FRACTION:.0%} of each ankle's heights)")
        elif not relative:
            assumptions.append("too few frames to measure foot speeds: contacts from height "
                               "alone")
        still = np.ones_like(still)
        contacts = _height_contacts(h, valid)
    if relative:
        assumptions.append("pelvis-relative joints: contacts from height alone; the camera "
                           "height is the pelvis's mean height above the floor")
    n, offset = u0, 0.0
    points, weights = np.zeros((0, 3)), np.zeros(0)
    steps: list[tuple[int, int, int]] = []
    chunk = max(1, round(SAMPLE_S * fps))
    for _ in range(FLOOR_ITERATIONS):
        steps = _steps(contacts, min(min_frames, int(valid.sum())))
        if not steps:
            break
        points = _step_points(ankles, valid, steps, chunk)
        weights = np.ones(len(points))
        n, level = fit_plane(points, u0, weights)
        offset = ankle_height - level
        heights = np.nan_to_num(ankles @ n + offset, nan=np.inf)
        contacts = valid[:, None] & (heights < ankle_height + CONTACT_BAND_MM) & still
    if not steps:
        assumptions.append("no step found: the floor is the body's up direction (pelvis to "
                           f"thorax) through the lowest ankles, {ankle_height:.0f} mm below them")
        n = u0
        h = ankles @ n
        offset = ankle_height - float(np.nanmin(h))
        contacts = valid[:, None] & (np.nan_to_num(h + offset, nan=np.inf)
                                     < ankle_height + CONTACT_BAND_MM)
    doubts = _doubts(points, n, u0, offset, ankle_height) if steps else []
    if doubts:
        assumptions.append(f"the floor found from the feet is not trusted ({'; '.join(doubts)}):"
                           " the floor is the body's up direction (pelvis to thorax) through "
                           "the places the feet stood")
        n = u0
        offset = ankle_height - float(np.median(points @ n))
        heights = np.nan_to_num(ankles @ n + offset, nan=np.inf)
        contacts = valid[:, None] & (heights < ankle_height + CONTACT_BAND_MM) & still
    uncertainty = tilt_uncertainty_deg(points, n, weights)
    if steps and not doubts and uncertainty > 3.0:
        assumptions.append(f"the steps cover too little floor to fix its tilt (+-"
                           f"{uncertainty:.0f} deg): the body's up direction decides it")
    return FloorEstimate(
        up=n, camera_height=float(offset), contacts=contacts, steps=len(steps),
        places=len(points), support_mm=_support(points, n), body_up=u0,
        prior_angle_deg=float(np.degrees(np.arccos(np.clip(n @ u0, -1.0, 1.0)))),
        tilt_uncertainty_deg=uncertainty, assumptions=assumptions)


def _doubts(points: np.ndarray, n: np.ndarray, u0: np.ndarray, offset: float,
            ankle_height: float) -> list[str]:
    """Why the floor `n`, `offset` through the places `points` is not to be trusted (empty: it
    is): too few places, places off one plane, or tilted too far from the body's up `u0`."""
    doubts = []
    if len(points) < MIN_PLACES:
        doubts.append(f"{len(points)} place(s) on it, fewer than {MIN_PLACES}")
    off = np.abs(points @ n + offset - ankle_height) > MAX_PLACE_SCATTER_MM
    if len(points) and off.mean() > MAX_OFF_PLANE:
        doubts.append(f"{off.sum()} of its {len(points)} places lie over "
                      f"{MAX_PLACE_SCATTER_MM:.0f} mm off one plane")
    tilt = float(np.degrees(np.arccos(np.clip(n @ u0, -1.0, 1.0))))
    if tilt > MAX_TILT_FROM_BODY_DEG:
        doubts.append(f"tilted {tilt:.0f} deg from the body's up direction, over "
                      f"{MAX_TILT_FROM_BODY_DEG:.0f}")
    return doubts


def _step_points(ankles: np.ndarray, valid: np.ndarray, steps: list[tuple[int, int, int]],
                 chunk: int) -> np.ndarray:
    """Points on the floor (N, 3): one per place a foot stood. Each step is cut into pieces of
    `chunk` frames (a foot that shuffles over a long stance stands in several places); pieces
    whose mean ankle positions lie within PLACE_MM of each other are one place, its point their
    mean (standing on one spot for a minute is one observation of the floor, not a hundred)."""
    pieces = []
    for k, a, b in steps:
        n = max(1, round((b - a) / chunk))
        edges = np.linspace(a, b, n + 1).round().astype(int)
        for lo, hi in itertools.pairwise(edges):
            ok = valid[lo:hi]
            if ok.any():
                pieces.append(ankles[lo:hi, k][ok].mean(axis=0))
    sums: list[np.ndarray] = []
    counts: list[int] = []
    for p in pieces:
        if sums:
            centres = np.array(sums) / np.array(counts)[:, None]
            d = np.linalg.norm(centres - p, axis=1)
            i = int(np.argmin(d))
            if d[i] < PLACE_MM:
                sums[i] = sums[i] + p
                counts[i] += 1
                continue
        sums.append(p.copy())
        counts.append(1)
    if not sums:
        return np.zeros((0, 3))
    return np.array(sums) / np.array(counts)[:, None]


def tilt_uncertainty_deg(points: np.ndarray, n: np.ndarray,
                         weights: np.ndarray | None = None) -> float:
    """The floor normal's standard deviation (degrees) about its worst-determined axis, from
    the places' points (N, 3) with their weights and the prior (the model of
    :func:`fit_plane`)."""
    u = unit(np.asarray(n, dtype=np.float64))
    info = (np.eye(3) - np.outer(u, u)) / np.radians(UP_PRIOR_DEG) ** 2
    if len(points) >= 2:
        w = np.ones(len(points)) if weights is None else np.asarray(weights, dtype=np.float64)
        d = points - (w[:, None] * points).sum(0) / w.sum()
        info = info + (w[:, None] * d).T @ d / FLOOR_SCATTER_MM**2
    # restricted to the two tilt directions (perpendicular to n)
    basis = np.linalg.svd(np.eye(3) - np.outer(u, u))[0][:, :2]
    vals = np.linalg.eigvalsh(basis.T @ info @ basis)
    return float(np.degrees(1.0 / np.sqrt(max(vals[0], 1e-12))))


def _height_contacts(h: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Contacts by height alone (F, 2): each foot's lowest LOW_FRACTION of its heights."""
    contacts = np.zeros(h.shape, dtype=bool)
    for k in range(h.shape[1]):
        cut = np.percentile(h[valid, k], 100 * LOW_FRACTION)
        contacts[:, k] = valid & (np.nan_to_num(h[:, k], nan=np.inf) <= cut)
    return contacts


def _support(points: np.ndarray, n: np.ndarray) -> float:
    """The smaller in-plane standard deviation (mm) of points (N, 3) on the plane normal n."""
    if len(points) < 2:
        return 0.0
    d = points - points.mean(axis=0)
    d = d - np.outer(d @ n, n)
    vals = np.linalg.eigvalsh(d.T @ d / len(points))
    return float(np.sqrt(max(vals[1], 0.0)))  # vals[0] ~ 0: the normal's direction


@dataclass
class WorldFrame:
    """Camera frame -> world frame (Y up, floor at y = 0, mm): ``p_w = rotation @ p_c +
    translation``. rotation rows are the world axes X, Y, Z in camera coordinates."""

    rotation: np.ndarray
    translation: np.ndarray

    def to_world(self, points: np.ndarray) -> np.ndarray:
        """Camera-frame points (..., 3) mm -> world points (..., 3) mm."""
        return np.asarray(points, dtype=np.float64) @ self.rotation.T + self.translation

    def to_camera(self, points: np.ndarray) -> np.ndarray:
        """World points (..., 3) mm -> camera-frame points (..., 3) mm."""
        return (np.asarray(points, dtype=np.float64) - self.translation) @ self.rotation

    @property
    def camera_position(self) -> np.ndarray:
        """The camera centre in the world, (3,) mm."""
        return np.asarray(self.translation, dtype=np.float64).copy()


def world_frame(floor: FloorEstimate, joints: np.ndarray | None = None,
                valid: np.ndarray | None = None, origin: Origin = "camera") -> WorldFrame:
    """The world frame of a floor (module docstring, step 3). ``origin="start"`` needs the
    joints (F, 17, 3) and puts the origin below the first valid frame's pelvis."""
    frame = world_frame_of(floor.up, floor.camera_height)
    if origin == "start":
        if joints is None:
            raise ValueError("origin='start' needs the joints")
        j = np.asarray(joints, dtype=np.float64)
        ok = np.isfinite(j[:, 0]).all(axis=1)
        if valid is not None:
            ok &= np.asarray(valid, dtype=bool)
        if ok.any():
            first = frame.to_world(j[int(np.argmax(ok)), 0])
            frame.translation = frame.translation - np.array([first[0], 0.0, first[2]])
    elif origin != "camera":
        raise ValueError(f"unknown origin {origin!r} (camera or start)")
    return frame


def world_frame_of(up: np.ndarray, camera_height: float) -> WorldFrame:
    """The world frame (origin below the camera) of a floor with normal `up` (3,) in the
    camera frame and the camera `camera_height` mm above it."""
    y = unit(np.asarray(up, dtype=np.float64))
    x = np.array([1.0, 0.0, 0.0]) - y[0] * y
    if np.linalg.norm(x) < 1e-6:  # the camera's x axis is vertical: lay its z axis instead
        x = np.array([0.0, 0.0, 1.0]) - y[2] * y
    x = unit(x)
    z = np.cross(x, y)
    return WorldFrame(np.stack([x, y, z]), np.array([0.0, float(camera_height), 0.0]))
