"""A fast software renderer for synthetic people: solid shaded bodies made of tapered capsules.

The body is a union of tapered capsules (sphere-swept segments whose radius changes linearly
from one end to the other): two thighs, two shins, two feet, upper arms, forearms, hands, a neck,
a torso built from six capsules (spine, hip bar, shoulder bar, two flanks) so that it is wide seen
from the front and narrow seen from the side, and a head made of a vertical capsule (an
ellipsoid-like shape) with a hair cap. Radii come from the body's own bone lengths times a
per-subject build.

Rendering is done directly at crop resolution (the crop is a change of intrinsics, so it is
equivalent to rendering the 1000x1000 camera image and resizing the crop, and far cheaper).
Each capsule is drawn inside its projected bounding box only, vectorised over those pixels,
with a z-buffer across capsules, so the nearer limb hides the farther one.

**The approximation** (documented because it is not exact ray casting): for a pixel ``p``, let
``q`` be the nearest point of the *projected* axis segment and ``t`` its parameter along it. The
axis point behind ``q`` is found perspective-correctly (``1/z`` is linear in ``t``), giving its
depth ``z`` and the capsule radius ``r`` there; the projected radius is ``R = f r / z``. The pixel
is covered when ``|p - q| < R``, and the surface there is taken to be that of the sphere of
radius ``r`` centred on the axis point: depth ``z - r h`` and normal ``((p - q) / R, -h)`` with
``h = sqrt(1 - |p - q|^2 / R^2)``. This is exact for a capsule whose axis lies parallel to the
image plane (and for every sphere, up to the tiny difference between the sphere's true
silhouette and ``f r / z``); for a limb pointing towards the camera the depth and normal are
those of the sphere-swept surface seen along the axis, which errs by at most the radius and only
on the shading and on depth ties between touching limbs.

Shading is Lambert plus ambient with one directional light. Backgrounds are procedural: a room
seen through the same camera — a textured floor (checker, planks, tiles or mottled noise) with a
soft blob shadow under the person, and a surrounding wall (gradients, stripes, panels, noise) —
so the floor recedes in perspective consistently with the person standing on it.

Pixel convention: pixel ``(row i, column j)`` has its centre at image coordinates ``(x=j, y=i)``
(as OpenCV); a crop box ``[x0, x0 + side]`` maps onto ``[-0.5, size - 0.5]``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dynapose.camera import Camera, look_at

# Colour slots of the palette; 0 is the background.
SKIN, TOP, BOTTOM, SHOES, HAIR, SLEEVE, LEG = 1, 2, 3, 4, 5, 6, 7
_NEAR_MM = 100.0  # capsules closer to the camera than this are not drawn

#: Human3.6M-like camera: focal length (px) and image size of the full virtual camera.
FULL_FOCAL = 1150.0
FULL_SIZE = 1000

_SKIN_TONES = np.array(
    [[255, 224, 196], [241, 194, 160], [224, 172, 130], [198, 134, 94], [160, 104, 70],
     [120, 76, 50], [90, 56, 38], [232, 190, 172]],
    dtype=np.float32,
) / 255.0
_HAIR_TONES = np.array(
    [[20, 16, 14], [60, 40, 28], [110, 76, 44], [170, 130, 80], [200, 170, 120], [120, 120, 120],
     [150, 60, 30]],
    dtype=np.float32,
) / 255.0


# -- appearance ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Appearance:
    """How one synthetic subject looks: colours (RGB in [0, 1]) and build.

    ``build`` scales the torso and limb radii (1 = average); ``sleeves`` and ``trousers`` say
    whether forearms and shins are clothed (else bare skin).
    """

    skin: np.ndarray
    top: np.ndarray
    bottom: np.ndarray
    shoes: np.ndarray
    hair: np.ndarray
    build: float = 1.0
    limb_build: float = 1.0
    sleeves: bool = True
    trousers: bool = True

    def palette(self) -> np.ndarray:
        """(8, 3) float32 colours indexed by the slot constants (row 0 unused: background)."""
        sleeve = self.top if self.sleeves else self.skin
        leg = self.bottom if self.trousers else self.skin
        return np.stack([np.zeros(3), self.skin, self.top, self.bottom, self.shoes, self.hair,
                         sleeve, leg]).astype(np.float32)


def _random_cloth(rng: np.random.Generator) -> np.ndarray:
    hue = rng.random()
    sat = rng.uniform(0.0, 0.9) if rng.random() < 0.8 else rng.uniform(0.0, 0.15)
    val = rng.uniform(0.12, 0.95)
    return _hsv_to_rgb(hue, sat, val)


def _hsv_to_rgb(h: float, s: float, v: float) -> np.ndarray:
    i = int(h * 6.0) % 6
    f = h * 6.0 - int(h * 6.0)
    p, q, t = v * (1 - s), v * (1 - f * s), v * (1 - (1 - f) * s)
    rgb = [(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)][i]
    return np.asarray(rgb, dtype=np.float32)


def sample_appearance(rng: np.random.Generator) -> Appearance:
    """A random subject's look: skin tone, clothing colours, hair, build."""
    skin = _SKIN_TONES[rng.integers(len(_SKIN_TONES))] * rng.uniform(0.9, 1.05)
    return Appearance(
        skin=np.clip(skin, 0, 1).astype(np.float32),
        top=_random_cloth(rng),
        bottom=_random_cloth(rng),
        shoes=_random_cloth(rng) * rng.uniform(0.3, 1.0),
        hair=_HAIR_TONES[rng.integers(len(_HAIR_TONES))],
        build=float(rng.uniform(0.85, 1.3)),
        limb_build=float(rng.uniform(0.85, 1.2)),
        sleeves=bool(rng.random() < 0.6),
        trousers=bool(rng.random() < 0.75),
    )


# -- body geometry ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Capsules:
    """Tapered capsules of T frames: ends ``a``, ``b`` (T, P, 3) mm; radii ``ra``, ``rb`` (P,) mm;
    colour slot ``slot`` (P,) uint8."""

    a: np.ndarray
    b: np.ndarray
    ra: np.ndarray
    rb: np.ndarray
    slot: np.ndarray


def _unit(v: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    return v / np.maximum(n, 1e-6)


def body_capsules(joints: np.ndarray, appearance: Appearance) -> Capsules:
    """The body of a (T, 17, 3) world-frame (mm, Z up) joint sequence as tapered capsules.

    Radii are proportional to the sequence's median bone lengths (so a taller skeleton is also
    a broader one) times the appearance's build.
    """
    j = np.asarray(joints, dtype=np.float64)
    med = lambda a, b: float(np.median(np.linalg.norm(j[:, a] - j[:, b], axis=-1)))  # noqa: E731
    thigh = 0.5 * (med(1, 2) + med(4, 5))
    shin = 0.5 * (med(2, 3) + med(5, 6))
    upper = 0.5 * (med(11, 12) + med(14, 15))
    fore = 0.5 * (med(12, 13) + med(15, 16))
    hip_w = med(1, 4)
    sh_w = med(11, 14)
    head = max(med(9, 10), 60.0)
    trunk = med(0, 8)
    b, lb = appearance.build, appearance.limb_build

    up = np.array([0.0, 0.0, 1.0])
    left = j[:, 4] - j[:, 1] + j[:, 11] - j[:, 14]  # towards the subject's left
    fwd = _unit(np.cross(left, up))  # facing direction, horizontal
    shin_dir = _unit(j[:, 3] - j[:, 2])
    foot_len = 0.5 * shin
    # Toe: forward along the facing direction, slightly down; heel a little behind the ankle.
    toe_r, toe_l = (j[:, k] + fwd * foot_len * 0.75 - up * 0.25 * foot_len * 0.3 for k in (3, 6))
    heel_r, heel_l = (j[:, k] - fwd * foot_len * 0.12 + shin_dir * 0.0 for k in (3, 6))
    hand_r = j[:, 16] + _unit(j[:, 16] - j[:, 15]) * fore * 0.28
    hand_l = j[:, 13] + _unit(j[:, 13] - j[:, 12]) * fore * 0.28
    head_axis = _unit(j[:, 10] - j[:, 9])
    head_c = j[:, 9] + (j[:, 10] - j[:, 9]) * 0.25 + fwd * head * 0.05
    head_r = 0.82 * head
    head_lo = head_c - head_axis * head_r * 0.25
    head_hi = head_c + head_axis * head_r * 0.2
    hair_c = head_c + head_axis * head_r * 0.22 - fwd * head_r * 0.16
    neck_lo = j[:, 8]
    neck_hi = j[:, 9] - head_axis * head_r * 0.3
    # Torso: spine and flanks from the hips to the shoulders.
    pelvis, spine, thorax = j[:, 0], j[:, 7], j[:, 8]
    sh_in_r = j[:, 14] + (thorax - j[:, 14]) * 0.35
    sh_in_l = j[:, 11] + (thorax - j[:, 11]) * 0.35
    hip_r = j[:, 1] + (pelvis - j[:, 1]) * 0.1
    hip_l = j[:, 4] + (pelvis - j[:, 4]) * 0.1

    parts = [
        # (a, b, ra, rb, slot)
        (pelvis, spine, 0.30 * trunk * b, 0.30 * trunk * b, TOP),
        (spine, thorax - up * 0.05 * trunk, 0.30 * trunk * b, 0.30 * trunk * b, TOP),
        (hip_r, sh_in_r, 0.20 * trunk * b, 0.22 * trunk * b, TOP),
        (hip_l, sh_in_l, 0.20 * trunk * b, 0.22 * trunk * b, TOP),
        (j[:, 14], j[:, 11], 0.17 * trunk * b, 0.17 * trunk * b, TOP),
        (j[:, 1], j[:, 4], 0.50 * hip_w * b, 0.50 * hip_w * b, BOTTOM),
        (j[:, 1], j[:, 2], 0.20 * thigh * lb, 0.13 * thigh * lb, BOTTOM),
        (j[:, 4], j[:, 5], 0.20 * thigh * lb, 0.13 * thigh * lb, BOTTOM),
        (j[:, 2], j[:, 3], 0.12 * shin * lb, 0.085 * shin * lb, LEG),
        (j[:, 5], j[:, 6], 0.12 * shin * lb, 0.085 * shin * lb, LEG),
        (heel_r, toe_r, 0.1 * shin, 0.085 * shin, SHOES),
        (heel_l, toe_l, 0.1 * shin, 0.085 * shin, SHOES),
        (j[:, 14], j[:, 15], 0.19 * upper * lb, 0.14 * upper * lb, TOP),
        (j[:, 11], j[:, 12], 0.19 * upper * lb, 0.14 * upper * lb, TOP),
        (j[:, 15], j[:, 16], 0.14 * fore * lb, 0.11 * fore * lb, SLEEVE),
        (j[:, 12], j[:, 13], 0.14 * fore * lb, 0.11 * fore * lb, SLEEVE),
        (j[:, 16], hand_r, 0.13 * fore, 0.14 * fore, SKIN),
        (j[:, 13], hand_l, 0.13 * fore, 0.14 * fore, SKIN),
        (neck_lo, neck_hi, 0.2 * sh_w * min(b, 1.1), 0.17 * sh_w, SKIN),
        (head_lo, head_hi, head_r * 0.92, head_r, SKIN),
        (hair_c, hair_c, head_r * 0.98, head_r * 0.98, HAIR),
    ]
    a = np.stack([p[0] for p in parts], axis=1)
    bb = np.stack([p[1] for p in parts], axis=1)
    ra = np.array([p[2] for p in parts], dtype=np.float64)
    rb = np.array([p[3] for p in parts], dtype=np.float64)
    slot = np.array([p[4] for p in parts], dtype=np.uint8)
    return Capsules(a=a, b=bb, ra=ra, rb=rb, slot=slot)


# -- cameras and crops -----------------------------------------------------------------------


def camera_rig(rng: np.random.Generator, num: int = 4) -> list[tuple[float, float, float]]:
    """``num`` camera placements around a subject, as Human3.6M's four: ``(azimuth rad,
    distance mm, height mm)``, azimuths roughly evenly spread, 3-6 m away, about 1.1 m high."""
    base = rng.uniform(0, 2 * np.pi)
    rig = []
    for i in range(num):
        az = base + 2 * np.pi * i / num + rng.uniform(-0.35, 0.35)
        rig.append((float(az), float(rng.uniform(3000, 6000)), float(rng.uniform(850, 1400))))
    return rig


def place_camera(
    placement: tuple[float, float, float],
    centre: np.ndarray,
    target_z: float,
    rng: np.random.Generator | None = None,
    name: str = "",
) -> Camera:
    """A 1000x1000 camera, focal ~1150 px, at ``placement`` (see `camera_rig`) around the world
    point ``centre`` (x, y mm), looking at ``(centre, target_z)``. ``rng`` jitters the intrinsics."""
    az, dist, height = placement
    cx, cy = float(centre[0]), float(centre[1])
    eye = np.array([cx + dist * np.cos(az), cy + dist * np.sin(az), height])
    target = np.array([cx, cy, target_z])
    f = FULL_FOCAL * (1.0 + (rng.uniform(-0.03, 0.03) if rng is not None else 0.0))
    c = np.full(2, FULL_SIZE / 2.0) + (rng.uniform(-8, 8, 2) if rng is not None else 0.0)
    return Camera(R=look_at(eye, target), T=eye, f=np.array([f, f]), c=c, width=FULL_SIZE,
                  height=FULL_SIZE, name=name)


def crop_camera(camera: Camera, box: tuple[float, float, float], size: int) -> Camera:
    """The camera that renders the square crop ``box = (x0, y0, side)`` (pixels of `camera`)
    directly at ``size x size``: the same pose, intrinsics scaled and shifted."""
    x0, y0, side = box
    s = size / side
    c = (camera.c - np.array([x0, y0])) * s - 0.5
    return Camera(R=camera.R, T=camera.T, f=camera.f * s, c=c, width=size, height=size,
                  name=camera.name)


def person_box(
    caps_cam: Capsules, camera: Camera, margin: float = 0.15, jitter: np.ndarray | None = None
) -> tuple[float, float, float]:
    """Square box ``(x0, y0, side)`` in `camera` pixels around the projected capsules of all
    frames (fixed for the clip), enlarged by ``margin`` on each side; ``jitter`` (2,) shifts its
    centre by that fraction of the side."""
    f = float(camera.f[0])
    pts, rads = [], []
    for ends, r in ((caps_cam.a, caps_cam.ra), (caps_cam.b, caps_cam.rb)):
        z = np.maximum(ends[..., 2], _NEAR_MM)
        pts.append(ends[..., :2] / z[..., None] * camera.f + camera.c)
        rads.append(f * r / z)
    p = np.concatenate(pts, axis=1).reshape(-1, 2)
    r = np.concatenate(rads, axis=1).reshape(-1)
    lo = (p - r[:, None]).min(axis=0)
    hi = (p + r[:, None]).max(axis=0)
    side = float(max(hi - lo)) * (1.0 + 2.0 * margin)
    centre = (lo + hi) / 2.0
    if jitter is not None:
        centre = centre + np.asarray(jitter) * side
    return float(centre[0] - side / 2), float(centre[1] - side / 2), side


# -- backgrounds -----------------------------------------------------------------------------


def _smooth_noise(rng: np.random.Generator, shape: tuple[int, int], cells: int) -> np.ndarray:
    """Low-frequency noise in [0, 1] of `shape`, bilinear from a (cells+1)^2 random grid."""
    grid = rng.random((cells + 1, cells + 1)).astype(np.float32)
    h, w = shape
    y = np.linspace(0, cells, h, dtype=np.float32)
    x = np.linspace(0, cells, w, dtype=np.float32)
    y0 = np.minimum(y.astype(np.int64), cells - 1)
    x0 = np.minimum(x.astype(np.int64), cells - 1)
    fy = (y - y0)[:, None]
    fx = (x - x0)[None, :]
    g00 = grid[y0][:, x0]
    g01 = grid[y0][:, x0 + 1]
    g10 = grid[y0 + 1][:, x0]
    g11 = grid[y0 + 1][:, x0 + 1]
    return (g00 * (1 - fx) + g01 * fx) * (1 - fy) + (g10 * (1 - fx) + g11 * fx) * fy


def _hash_noise(ix: np.ndarray, iy: np.ndarray, salt: int) -> np.ndarray:
    """Deterministic per-cell value in [0, 1) from integer cell coordinates."""
    h = (ix.astype(np.int64) * 73856093) ^ (iy.astype(np.int64) * 19349663) ^ (salt * 83492791)
    h = (h ^ (h >> 13)) * 1274126177
    return ((h ^ (h >> 16)) & 0xFFFF).astype(np.float32) / 65536.0


@dataclass(frozen=True)
class Background:
    """A rendered background (H, W, 3) float32 in [0, 1], and the world (x, y) mm of each floor
    pixel (NaN off the floor) for shadows."""

    image: np.ndarray
    floor_xy: np.ndarray


def render_background(camera: Camera, centre: np.ndarray, rng: np.random.Generator) -> Background:
    """A procedural room seen by `camera` (crop camera, any size): a textured floor (z = 0)
    and a cylindrical wall 6-12 m around ``centre`` (x, y mm), with random colours, patterns
    and a distance haze."""
    h, w = camera.height, camera.width
    u = (np.arange(w, dtype=np.float64) - camera.c[0]) / camera.f[0]
    v = (np.arange(h, dtype=np.float64) - camera.c[1]) / camera.f[1]
    rays = np.stack(np.broadcast_arrays(u[None, :], v[:, None], np.ones((1, 1))), axis=-1)
    d = rays @ camera.R  # world directions (H, W, 3), R^T applied to each ray
    eye = camera.T
    # Wall: cylinder of radius Rw around the centre.
    rw = rng.uniform(6000, 12000)
    o = eye[:2] - np.asarray(centre, dtype=np.float64)[:2]
    dxy = d[..., :2]
    qa = np.sum(dxy * dxy, axis=-1)
    qb = 2 * (dxy @ o)
    qc = o @ o - rw * rw  # negative: the camera is inside
    t_wall = (-qb + np.sqrt(np.maximum(qb * qb - 4 * qa * qc, 0))) / (2 * np.maximum(qa, 1e-12))
    dz = d[..., 2]
    t_floor = np.where(dz < -1e-9, -eye[2] / np.minimum(dz, -1e-9), np.inf)
    on_floor = t_floor < t_wall
    t = np.where(on_floor, t_floor, t_wall)
    hit = eye + d * t[..., None]
    dist = t * np.linalg.norm(d, axis=-1)

    # Floor texture.
    fx, fy = hit[..., 0], hit[..., 1]
    floor_a = _random_cloth(rng) * 0.8 + 0.1
    floor_b = np.clip(floor_a * rng.uniform(0.5, 0.9) + rng.uniform(-0.1, 0.1, 3), 0, 1)
    kind = rng.integers(4)
    ang = rng.uniform(0, np.pi)
    rx = fx * np.cos(ang) - fy * np.sin(ang)
    ry = fx * np.sin(ang) + fy * np.cos(ang)
    if kind == 0:  # checker
        s = rng.uniform(300, 1000)
        m = ((np.floor(rx / s) + np.floor(ry / s)) % 2).astype(np.float32)
    elif kind == 1:  # planks
        s = rng.uniform(120, 300)
        plank = np.floor(rx / s)
        m = _hash_noise(plank, np.floor(ry / (s * 8) + plank * 0.37), 1)
        m = m * 0.8 + 0.2 * ((rx / s - plank) < 0.04)
    elif kind == 2:  # tiles with grout
        s = rng.uniform(300, 700)
        gx, gy = rx / s - np.floor(rx / s), ry / s - np.floor(ry / s)
        m = ((gx < 0.04) | (gy < 0.04)).astype(np.float32) * 0.8 + 0.2 * _hash_noise(
            np.floor(rx / s), np.floor(ry / s), 2)
    else:  # mottled
        s = rng.uniform(400, 1500)
        m = _hash_noise(np.floor(rx / s), np.floor(ry / s), 3) * 0.5 + 0.25
    floor = floor_a * (1 - m[..., None]) + floor_b * m[..., None]

    # Wall texture: angle around the centre and height.
    theta = np.arctan2(hit[..., 1] - centre[1], hit[..., 0] - centre[0])
    wz = hit[..., 2]
    wall_a = _random_cloth(rng) * 0.7 + 0.25
    wall_b = np.clip(wall_a * rng.uniform(0.4, 0.9) + rng.uniform(-0.15, 0.15, 3), 0, 1)
    wkind = rng.integers(4)
    if wkind == 0:  # vertical stripes
        n = rng.integers(20, 120)
        m = (np.sin(theta * n) > rng.uniform(-0.5, 0.5)).astype(np.float32)
    elif wkind == 1:  # horizontal gradient bands
        m = np.clip(wz / rng.uniform(2000, 4000), 0, 1)
    elif wkind == 2:  # panels (doors/windows)
        n = rng.integers(6, 24)
        cell = np.floor(theta * n / (2 * np.pi))
        frac = theta * n / (2 * np.pi) - cell
        inside = (frac > 0.15) & (frac < 0.85) & (wz > 700) & (wz < 2300)
        m = inside * (_hash_noise(cell, cell * 0 + 5, 4) > 0.4).astype(np.float32)
    else:  # stains
        m = np.zeros(theta.shape, dtype=np.float32)
    wall = wall_a * (1 - m[..., None]) + wall_b * m[..., None]
    skirting = (wz < 120)[..., None]
    wall = np.where(skirting, wall_b * 0.6, wall)

    img = np.where(on_floor[..., None], floor, wall).astype(np.float32)
    # Low-frequency light variation, vignette-like, and haze with distance.
    img *= 0.75 + 0.5 * _smooth_noise(rng, (h, w), int(rng.integers(2, 6)))[..., None]
    haze = rng.uniform(0.0, 0.5) * np.clip(dist / 15000.0, 0, 1)
    haze_col = rng.uniform(0.5, 1.0) * np.ones(3, dtype=np.float32)
    img = img * (1 - haze[..., None]) + haze_col * haze[..., None]
    floor_xy = np.where(on_floor[..., None], hit[..., :2], np.nan).astype(np.float32)
    return Background(image=np.clip(img, 0, 1).astype(np.float32), floor_xy=floor_xy)


# -- rasterisation ---------------------------------------------------------------------------


def render_capsules(
    a: np.ndarray,
    b: np.ndarray,
    ra: np.ndarray,
    rb: np.ndarray,
    slot: np.ndarray,
    camera: Camera,
    light: np.ndarray,
    ambient: float = 0.35,
    diffuse: float = 0.75,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rasterise P tapered capsules of one frame, given in `camera`'s frame (mm).

    a, b: (P, 3) axis ends; ra, rb: (P,) radii (mm); slot: (P,) colour slot (> 0);
    light: (3,) unit vector towards the light, camera frame. Distortion is ignored.
    Returns ``(depth, shade, slots)`` of shape (H, W): depth in mm (inf where empty), the
    Lambert + ambient factor, and the colour slot of the visible capsule (0 where empty).
    See the module docstring for the surface approximation.
    """
    H, W = camera.height, camera.width
    depth = np.full((H, W), np.inf, dtype=np.float32)
    shade = np.zeros((H, W), dtype=np.float32)
    slots = np.zeros((H, W), dtype=np.uint8)
    f = float(camera.f[0])
    cx, cy = float(camera.c[0]), float(camera.c[1])
    lx, ly, lz = (float(x) for x in light)
    cols = np.arange(W, dtype=np.float32)
    rows = np.arange(H, dtype=np.float32)
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    for k in range(len(slot)):
        za, zb = a[k, 2], b[k, 2]
        if za < _NEAR_MM or zb < _NEAR_MM:
            continue
        ax, ay = f * a[k, 0] / za + cx, f * a[k, 1] / za + cy
        bx, by = f * b[k, 0] / zb + cx, f * b[k, 1] / zb + cy
        rpa, rpb = f * ra[k] / za, f * rb[k] / zb
        x0 = max(int(np.floor(min(ax - rpa, bx - rpb))), 0)
        x1 = min(int(np.ceil(max(ax + rpa, bx + rpb))) + 1, W)
        y0 = max(int(np.floor(min(ay - rpa, by - rpb))), 0)
        y1 = min(int(np.ceil(max(ay + rpa, by + rpb))) + 1, H)
        if x0 >= x1 or y0 >= y1:
            continue
        px = (cols[x0:x1] - ax)[None, :]
        py = (rows[y0:y1] - ay)[:, None]
        ex, ey = bx - ax, by - ay
        e2 = ex * ex + ey * ey
        if e2 > 1e-6:
            t = px * np.float32(ex / e2) + py * np.float32(ey / e2)
            np.clip(t, 0.0, 1.0, out=t)
            dx = px - t * np.float32(ex)
            dy = py - t * np.float32(ey)
            # Perspective-correct: 1/z is linear along the projected segment.
            iz = np.float32(1 / za) + t * np.float32(1 / zb - 1 / za)
            s = t * (np.float32(1 / zb) / iz)  # parameter along the 3D axis
            r = np.float32(ra[k]) + s * np.float32(rb[k] - ra[k])
            z = 1.0 / iz
        else:  # a sphere (or an axis seen end on)
            dx = np.broadcast_to(px, (y1 - y0, x1 - x0))
            dy = np.broadcast_to(py, (y1 - y0, x1 - x0))
            iz = np.float32(1 / za)
            r = np.float32(max(ra[k], rb[k]))
            z = np.float32(za)
        rp = (f * r) * iz  # projected radius, px
        q = (dx * dx + dy * dy) / (rp * rp)
        inside = q < 1.0
        hgt = np.sqrt(np.maximum(1.0 - q, 0.0))
        dep = z - r * hgt
        sub = depth[y0:y1, x0:x1]
        upd = inside & (dep < sub)
        if not upd.any():
            continue
        np.copyto(sub, dep, where=upd)
        lam = (dx * np.float32(lx) + dy * np.float32(ly)) / rp - hgt * np.float32(lz)
        np.copyto(shade[y0:y1, x0:x1], ambient + diffuse * np.maximum(lam, 0.0), where=upd)
        slots[y0:y1, x0:x1][upd] = slot[k]
    return depth, shade, slots


def composite(
    shade: np.ndarray, slots: np.ndarray, palette: np.ndarray, background: np.ndarray
) -> np.ndarray:
    """Final uint8 (H, W, 3) image: palette[slot] * shade over the background (float [0, 1])."""
    body = palette[slots] * shade[..., None]
    img = np.where((slots > 0)[..., None], body, background)
    return (np.clip(img, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


# -- a whole clip ----------------------------------------------------------------------------


@dataclass(frozen=True)
class RenderedClip:
    """frames (T, size, size, 3) uint8; joints3d (T, 17, 3) camera frame mm; joints2d (T, 17, 2)
    crop pixels; camera: the crop camera (its intrinsics give joints2d from joints3d)."""

    frames: np.ndarray
    joints3d: np.ndarray
    joints2d: np.ndarray
    camera: Camera


def render_clip(
    joints: np.ndarray,
    appearance: Appearance,
    placement: tuple[float, float, float],
    rng: np.random.Generator,
    size: int = 224,
    camera_name: str = "",
) -> RenderedClip:
    """Render a world-frame joint sequence (T, 17, 3) mm (Z up, floor z = 0) as a clip.

    The camera stands at ``placement`` (see `camera_rig`) around the sequence's mean pelvis and
    looks at it; the square crop is fixed for the whole clip (the union of the person's
    projected extent over all frames, plus a random 10-25 % margin and a small random shift), so
    the background is static and the person moves inside the crop as they move in the world.
    ``rng`` draws the intrinsics jitter, crop margin, background and lighting.
    """
    joints = np.asarray(joints, dtype=np.float64)
    caps = body_capsules(joints, appearance)
    centre = joints[:, 0, :2].mean(axis=0)
    target_z = float(np.clip(joints[:, 0, 2].mean(), 600.0, 1300.0))
    full = place_camera(placement, centre, target_z, rng, name=camera_name)
    a_cam, b_cam = full.world_to_camera(caps.a), full.world_to_camera(caps.b)
    caps_cam = Capsules(a=a_cam, b=b_cam, ra=caps.ra, rb=caps.rb, slot=caps.slot)
    box = person_box(caps_cam, full, margin=float(rng.uniform(0.1, 0.25)),
                      jitter=rng.uniform(-0.05, 0.05, 2))
    cam = crop_camera(full, box, size)
    background = render_background(cam, centre, rng)
    # Light: from above, random azimuth, in the world frame; into the camera frame.
    el = rng.uniform(np.radians(25), np.radians(75))
    az = rng.uniform(0, 2 * np.pi)
    light_w = np.array([np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el)])
    light_c = full.R @ light_w
    ambient = float(rng.uniform(0.25, 0.5))
    diffuse = float(rng.uniform(0.55, 0.9))
    palette = appearance.palette() * np.float32(rng.uniform(0.85, 1.15))
    shadow_strength = float(rng.uniform(0.25, 0.55))
    joints_cam = full.world_to_camera(joints)
    T = joints.shape[0]
    frames = np.empty((T, size, size, 3), dtype=np.uint8)
    floor = background.floor_xy
    has_floor = bool(np.isfinite(floor[..., 0]).any())
    shadow_r = float(np.median(np.linalg.norm(joints[:, 1] - joints[:, 4], axis=-1))) * 2.2
    for i in range(T):
        _, shade, slots = render_capsules(a_cam[i], b_cam[i], caps.ra, caps.rb, caps.slot, cam,
                                          light_c, ambient, diffuse)
        bg = background.image
        if has_floor:  # soft blob shadow on the floor around the feet
            feet = 0.5 * (joints[i, 3, :2] + joints[i, 6, :2])
            d2 = ((floor[..., 0] - feet[0]) ** 2 + (floor[..., 1] - feet[1]) ** 2) / shadow_r**2
            dark = shadow_strength * np.exp(-np.nan_to_num(d2, nan=1e9))
            bg = bg * (1.0 - dark[..., None])
        frames[i] = composite(shade, slots, palette, bg)
    joints2d = cam.project(joints_cam, distort=False)
    return RenderedClip(frames=frames, joints3d=joints_cam.astype(np.float32),
                        joints2d=joints2d.astype(np.float32), camera=cam)
