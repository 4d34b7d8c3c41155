"""A fast software renderer for synthetic people: solid shaded bodies made of tapered capsules.

The body is a union of tapered capsules (sphere-swept segments whose radius changes linearly
from one end to the other): two thighs, two shins, two feet, upper arms, forearms, hands, a neck,
a torso built from seven capsules (pelvis, two spine segments, two flanks, hip and shoulder
bars) so that it is wide seen
from the front and narrow seen from the side, and a head made of a vertical capsule (an
ellipsoid-like shape) with a hair cap. Radii come from the body's own bone lengths times a
per-subject build.

Rendering is done directly at crop resolution (the crop is a change of intrinsics, so it is
equivalent to rendering the 1000x1000 camera image and resizing the crop, and far cheaper). Each
capsule is evaluated only inside its projected bounding box; all capsules of all frames of a clip
go through one vectorised NumPy pass, and a z-buffer keeps the nearest surface of every pixel,
so the nearer limb hides the farther one.

**The approximation** (documented because it is not exact ray casting): for a pixel ``p``, let
``q`` be the nearest point of the *projected* axis segment and ``t`` its parameter along it. The
projected radius ``R`` there is interpolated linearly in ``t`` between ``f r_a / z_a`` and
``f r_b / z_b`` (the perspective-correct radii of the two ends), and the pixel is covered when
``|p - q| < R``. The depth of the axis point behind ``q`` is perspective-correct (``1/z`` is
linear in ``t``). The surface there is taken to be that of the sphere of radius ``r`` (the
capsule radius at ``t``) centred on the axis point: depth ``z - r h`` and normal
``((p - q) / R, -h)`` with ``h = sqrt(1 - |p - q|^2 / R^2)``. This is exact for a sphere (up to
the tiny difference between its true silhouette and ``f r / z``) and for a cylinder whose axis
lies parallel to the image plane; for a limb pointing towards the camera the depth and normal
are those of the sphere-swept surface seen along the axis, which errs by less than the radius,
only in shading and in depth ties between touching limbs.

Shading is Lambert plus ambient with one directional light. Backgrounds are procedural: a room
seen through the same camera — a textured floor (checker, planks, tiles or mottled noise) with a
soft blob shadow under the person, and a surrounding wall (gradients, stripes, panels, noise) —
so the floor recedes in perspective consistently with the person standing on it.

Pixel convention: pixel ``(row i, column j)`` has its centre at image coordinates ``(x=j, y=i)``
(as OpenCV); a crop box ``[x0, x0 + side]`` maps onto ``[-0.5, size - 0.5]``.

Kept as one module: the capsule geometry, the z-buffer rasteriser, shading and the procedural
rooms are one renderer whose parts share the pixel convention below.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from dynapose.camera import Camera, look_at

if TYPE_CHECKING:
    from dynapose.data.synthetic.motion import BodyShape

# Colour slots of the palette; 0 is the background.
SKIN, TOP, BOTTOM, SHOES, HAIR, SLEEVE, LEG = 1, 2, 3, 4, 5, 6, 7
_NEAR_MM = 100.0  # capsules closer to the camera than this are not drawn
_MAX_CANDIDATES = 2_000_000  # (capsule, pixel) pairs evaluated at once by `render_capsules`

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
        build=float(rng.uniform(0.85, 1.15)),
        limb_build=float(rng.uniform(0.85, 1.15)),
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


def body_capsules(joints: np.ndarray, appearance: Appearance, body: BodyShape | None = None
                  ) -> Capsules:
    """The body of a (T, 17, 3) world-frame (mm, Z up) joint sequence as tapered capsules.

    Limb and trunk radii are proportional to the sequence's median bone lengths (so a bigger
    skeleton is also a broader one) times the appearance's build (and the body's ``bulk``).
    `body` (a `dynapose.data.synthetic.motion.BodyShape`, optional) supplies the head radius, crown,
    foot and hand lengths; without it (motion capture) they are estimated from bone lengths.
    """
    j = np.asarray(joints, dtype=np.float64)

    def med(p: int, q: int) -> float:
        return float(np.median(np.linalg.norm(j[:, p] - j[:, q], axis=-1)))

    thigh = 0.5 * (med(1, 2) + med(4, 5))
    shin = 0.5 * (med(2, 3) + med(5, 6))
    upper = 0.5 * (med(11, 12) + med(14, 15))
    fore = 0.5 * (med(12, 13) + med(15, 16))
    hip_w = med(1, 4)
    trunk = med(0, 8)
    if body is not None:
        head_r = float(body.head_radius)
        crown = float(body.crown)
        foot_len = float(body.foot_length)
        hand_len = float(body.hand_length)
        bulk = float(getattr(body, "bulk", 1.0))
    else:
        head_r = 0.8 * max(med(9, 10), 60.0)
        crown = 0.6 * head_r
        foot_len = 0.56 * shin
        hand_len = 0.73 * fore
        bulk = 1.0
    b = appearance.build * bulk
    lb = appearance.limb_build * np.sqrt(bulk)

    up = np.array([0.0, 0.0, 1.0])
    pelvis, spine, thorax = j[:, 0], j[:, 7], j[:, 8]
    fwd = _unit(np.cross(j[:, 4] - j[:, 1], up))  # facing direction of the pelvis, horizontal
    # Feet: in the frame of the shin (down) and the facing direction; flat when standing.
    r_heel, r_toe = 0.16 * foot_len, 0.12 * foot_len
    feet = []
    for knee, ankle in ((2, 3), (5, 6)):
        down = _unit(j[:, ankle] - j[:, knee])
        f = _unit(fwd - np.sum(fwd * down, axis=-1, keepdims=True) * down)
        heel = j[:, ankle] - f * 0.12 * foot_len + down * 0.25 * r_heel
        toe = j[:, ankle] + f * 0.68 * foot_len + down * 0.55 * r_heel
        feet.append((heel, toe))
    hands = [j[:, w] + _unit(j[:, w] - j[:, e]) * 0.45 * hand_len for e, w in ((15, 16), (12, 13))]
    # Head: an egg from chin to crown along the neck->head direction, face towards the nose.
    head_up = _unit(j[:, 10] - j[:, 8])
    face = j[:, 9] - j[:, 10]
    face = _unit(face - np.sum(face * head_up, axis=-1, keepdims=True) * head_up)
    top = j[:, 10] + head_up * crown + face * 0.15 * head_r
    head_hi = top - head_up * head_r
    head_lo = head_hi - head_up * 0.4 * head_r + face * 0.1 * head_r
    hair = head_hi - face * 0.14 * head_r + head_up * 0.06 * head_r
    neck_hi = head_lo - head_up * 0.2 * head_r
    # Torso: spine and flanks from the hips to the shoulders, a hip bar and a shoulder bar.
    sh_in_r = j[:, 14] + (thorax - j[:, 14]) * 0.35
    sh_in_l = j[:, 11] + (thorax - j[:, 11]) * 0.35
    waist = pelvis + (spine - pelvis) * 0.6
    flank_r = j[:, 1] + (sh_in_r - j[:, 1]) * 0.35
    flank_l = j[:, 4] + (sh_in_l - j[:, 4]) * 0.35
    chest = thorax - head_up * 0.05 * trunk

    parts = [
        # (a, b, ra, rb, slot)
        (waist, spine, 0.28 * trunk * b, 0.30 * trunk * b, TOP),
        (spine, chest, 0.30 * trunk * b, 0.29 * trunk * b, TOP),
        (flank_r, sh_in_r, 0.19 * trunk * b, 0.21 * trunk * b, TOP),
        (flank_l, sh_in_l, 0.19 * trunk * b, 0.21 * trunk * b, TOP),
        (j[:, 14], j[:, 11], 0.16 * trunk * b, 0.16 * trunk * b, TOP),
        (pelvis, waist, 0.24 * trunk * b, 0.26 * trunk * b, BOTTOM),
        (j[:, 1], j[:, 4], 0.30 * hip_w * b, 0.30 * hip_w * b, BOTTOM),
        (j[:, 1], j[:, 2], 0.19 * thigh * lb, 0.13 * thigh * lb, BOTTOM),
        (j[:, 4], j[:, 5], 0.19 * thigh * lb, 0.13 * thigh * lb, BOTTOM),
        (j[:, 2], j[:, 3], 0.125 * shin * lb, 0.085 * shin * lb, LEG),
        (j[:, 5], j[:, 6], 0.125 * shin * lb, 0.085 * shin * lb, LEG),
        (*feet[0], r_heel, r_toe, SHOES),
        (*feet[1], r_heel, r_toe, SHOES),
        (j[:, 14], j[:, 15], 0.19 * upper * lb, 0.145 * upper * lb, TOP),
        (j[:, 11], j[:, 12], 0.19 * upper * lb, 0.145 * upper * lb, TOP),
        (j[:, 15], j[:, 16], 0.145 * fore * lb, 0.11 * fore * lb, SLEEVE),
        (j[:, 12], j[:, 13], 0.145 * fore * lb, 0.11 * fore * lb, SLEEVE),
        (j[:, 16], hands[0], 0.12 * fore, 0.15 * hand_len, SKIN),
        (j[:, 13], hands[1], 0.12 * fore, 0.15 * hand_len, SKIN),
        (thorax, neck_hi, 0.5 * head_r, 0.45 * head_r, SKIN),
        (head_lo, head_hi, 0.8 * head_r, head_r, SKIN),
        (hair, hair, 1.0 * head_r, 1.0 * head_r, HAIR),
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
    point ``centre`` (x, y mm), looking at ``(centre, target_z)``; ``rng`` jitters the
    intrinsics (focal +-3 %, principal point +-8 px)."""
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


def render_background(
    camera: Camera,
    centre: np.ndarray,
    rng: np.random.Generator,
    shadow: tuple[np.ndarray, float, float] | None = None,
) -> np.ndarray:
    """A procedural room seen by `camera` (a crop camera, any size) as uint8 (H, W, 3).

    A textured floor (z = 0: checker, planks, tiles or mottled) and a cylindrical wall 6-12 m
    around ``centre`` (x, y mm; stripes, bands, panels or plain, with a skirting board), random
    colours, smooth light variation and distance haze. ``shadow = (xy mm, radius mm, strength)``
    darkens the floor with a soft blob there.
    """
    h, w = camera.height, camera.width
    f32 = np.float32
    u = ((np.arange(w) - camera.c[0]) / camera.f[0]).astype(f32)[None, :]
    v = ((np.arange(h) - camera.c[1]) / camera.f[1]).astype(f32)[:, None]
    rt = camera.R.T.astype(f32)  # camera -> world rotation
    dx = rt[0, 0] * u + rt[0, 1] * v + rt[0, 2]  # world ray directions, (H, W) each
    dy = rt[1, 0] * u + rt[1, 1] * v + rt[1, 2]
    dz = rt[2, 0] * u + rt[2, 1] * v + rt[2, 2]
    ex, ey, ez = (float(x) for x in camera.T)
    ox, oy = ex - float(centre[0]), ey - float(centre[1])
    # Wall: the far intersection with a vertical cylinder of radius rw around the centre.
    rw = float(rng.uniform(6000, 12000))
    qa = np.maximum(dx * dx + dy * dy, f32(1e-9))
    qb = 2 * (dx * ox + dy * oy)
    qc = ox * ox + oy * oy - rw * rw  # negative: the camera is inside
    t_wall = (np.sqrt(np.maximum(qb * qb - 4 * qa * qc, 0)) - qb) / (2 * qa)
    t_floor = -ez / np.minimum(dz, f32(-1e-9))
    on_floor = (dz < 0) & (t_floor < t_wall)
    t = np.where(on_floor, t_floor, t_wall)
    hx, hy = ex + dx * t, ey + dy * t  # hit point (floor or wall), mm
    dist = t * np.sqrt(qa + dz * dz)

    # Floor pattern, a mix value in [0, 1] between two colours.
    ang = rng.uniform(0, np.pi)
    ca, sa = f32(np.cos(ang)), f32(np.sin(ang))
    rx, ry = hx * ca - hy * sa, hx * sa + hy * ca
    kind = int(rng.integers(4))
    if kind == 0:  # checker
        s = f32(rng.uniform(300, 1000))
        m_floor = (np.floor(rx / s) + np.floor(ry / s)) % 2
    elif kind == 1:  # planks
        s = f32(rng.uniform(120, 300))
        gx = rx / s
        plank = np.floor(gx)
        m_floor = 0.8 * _hash_noise(plank, np.floor(ry / (8 * s) + 0.37 * plank), 1)
        m_floor += 0.2 * (gx - plank < 0.04)
    elif kind == 2:  # tiles with grout
        s = f32(rng.uniform(300, 700))
        gx, gy = rx / s, ry / s
        fx, fy = np.floor(gx), np.floor(gy)
        m_floor = 0.2 * _hash_noise(fx, fy, 2) + 0.8 * ((gx - fx < 0.04) | (gy - fy < 0.04))
    else:  # mottled
        s = f32(rng.uniform(400, 1500))
        m_floor = 0.25 + 0.5 * _hash_noise(np.floor(rx / s), np.floor(ry / s), 3)
    # Wall pattern from the angle around the centre and the height.
    theta = np.arctan2(hy - f32(centre[1]), hx - f32(centre[0]))
    hz = ez + dz * t
    wkind = int(rng.integers(4))
    if wkind == 0:  # vertical stripes
        m_wall = (np.sin(theta * f32(rng.integers(20, 120))) > rng.uniform(-0.5, 0.5))
    elif wkind == 1:  # a vertical gradient
        m_wall = np.clip(hz / f32(rng.uniform(2000, 4000)), 0, 1)
    elif wkind == 2:  # panels (doors, windows)
        g = theta * f32(rng.integers(6, 24) / (2 * np.pi))
        cell = np.floor(g)
        frac = g - cell
        m_wall = ((frac > 0.15) & (frac < 0.85) & (hz > 700) & (hz < 2300)
                  & (_hash_noise(cell, cell, 4) > 0.4))
    else:  # plain
        m_wall = np.zeros_like(theta)
    mix = np.where(on_floor, m_floor, m_wall).astype(f32)
    # Colour pairs: 0 wall, 1 floor, 2 skirting board.
    wall_a = _random_cloth(rng) * 0.7 + 0.25
    wall_b = np.clip(wall_a * rng.uniform(0.4, 0.9) + rng.uniform(-0.15, 0.15, 3), 0, 1)
    floor_a = _random_cloth(rng) * 0.8 + 0.1
    floor_b = np.clip(floor_a * rng.uniform(0.5, 0.9) + rng.uniform(-0.1, 0.1, 3), 0, 1)
    lo = np.stack([wall_a, floor_a, wall_b * 0.6]).astype(f32)
    hi = np.stack([wall_b, floor_b, wall_b * 0.6]).astype(f32)
    sel = on_floor.astype(np.uint8)
    sel[~on_floor & (hz < 120)] = 2
    # Brightness: smooth light variation, the shadow, then haze towards a grey.
    bright = 0.75 + 0.5 * _smooth_noise(rng, (h, w), int(rng.integers(2, 6)))
    if shadow is not None:
        (sx, sy), srad, strength = shadow
        d2 = ((hx - f32(sx)) ** 2 + (hy - f32(sy)) ** 2) * f32(1.0 / srad**2)
        bright *= 1.0 - on_floor * (f32(strength) * np.exp(-np.minimum(d2, 50.0)))
    haze = f32(rng.uniform(0.0, 0.5)) * np.minimum(dist * f32(1 / 15000.0), 1.0)
    haze_grey = f32(rng.uniform(0.5, 1.0))
    bright *= 1.0 - haze
    img = lo[sel]
    img += (hi - lo)[sel] * mix[..., None]
    img *= bright[..., None]
    img += (haze * haze_grey)[..., None]
    np.clip(img, 0.0, 1.0, out=img)
    return (img * 255.0 + 0.5).astype(np.uint8)


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
    """Rasterise P tapered capsules in `camera`'s frame (mm), for one frame or T at once.

    a, b: (P, 3) or (T, P, 3) axis ends; ra, rb: (P,) radii (mm); slot: (P,) colour slot (> 0);
    light: (3,) unit vector towards the light, camera frame. Distortion is ignored; capsules
    with an end nearer than 10 cm are skipped. Returns ``(depth, shade, slots)``, each (H, W)
    or (T, H, W): depth in mm (inf where empty), the Lambert + ambient factor, and the colour
    slot of the nearest capsule (0 where empty). See the module docstring for the surface.

    All frames and capsules are evaluated in one vectorised pass over the pixels of each
    capsule's projected bounding box (NumPy call overhead would dominate a loop over capsules);
    the z-buffer keeps the nearest candidate of every pixel.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    single = a.ndim == 2
    if single:
        a, b = a[None], b[None]
    T, P = a.shape[:2]
    H, W = camera.height, camera.width
    f = float(camera.f[0])
    cx, cy = float(camera.c[0]), float(camera.c[1])
    za, zb = a[..., 2], b[..., 2]
    valid = (za > _NEAR_MM) & (zb > _NEAR_MM)
    za, zb = np.maximum(za, _NEAR_MM), np.maximum(zb, _NEAR_MM)
    ax, ay = f * a[..., 0] / za + cx, f * a[..., 1] / za + cy
    bx, by = f * b[..., 0] / zb + cx, f * b[..., 1] / zb + cy
    ra = np.broadcast_to(np.asarray(ra, dtype=np.float64), (T, P))
    rb = np.broadcast_to(np.asarray(rb, dtype=np.float64), (T, P))
    rpa, rpb = f * ra / za, f * rb / zb  # projected radii at the ends, px
    # Bounding boxes of the projected capsules, clipped to the image.
    x0 = np.clip(np.floor(np.minimum(ax - rpa, bx - rpb)), 0, W).astype(np.int64).ravel()
    x1 = np.clip(np.ceil(np.maximum(ax + rpa, bx + rpb)) + 1, 0, W).astype(np.int64).ravel()
    y0 = np.clip(np.floor(np.minimum(ay - rpa, by - rpb)), 0, H).astype(np.int64).ravel()
    y1 = np.clip(np.ceil(np.maximum(ay + rpa, by + rpb)) + 1, 0, H).astype(np.int64).ravel()
    w = np.where(valid.ravel(), np.maximum(x1 - x0, 0), 0)
    n = w * np.maximum(y1 - y0, 0)
    if T > 1 and n.sum() > _MAX_CANDIDATES:  # large images: one frame at a time bounds memory
        per_frame = [render_capsules(a[i], b[i], ra[i], rb[i], slot, camera, light, ambient,
                                     diffuse) for i in range(T)]
        return tuple(np.stack(arrays) for arrays in zip(*per_frame, strict=True))  # type: ignore
    ex, ey = bx - ax, by - ay
    e2 = ex * ex + ey * ey
    inv_e2 = np.where(e2 > 1e-6, 1.0 / np.maximum(e2, 1e-6), 0.0)  # 0: a sphere, t = 0
    prm = np.stack([ax, ay, ex, ey, inv_e2, 1 / za, 1 / zb - 1 / za, rpa, rpb - rpa, ra, rb - ra])
    prm = prm.reshape(len(prm), T * P).astype(np.float32)
    # One candidate per (capsule, pixel of its box): capsule id k, pixel row and column.
    k = np.repeat(np.arange(T * P, dtype=np.int32), n)
    off = np.arange(k.size, dtype=np.int32) - np.repeat((np.cumsum(n) - n).astype(np.int32), n)
    wk = w.astype(np.int32)[k]
    row = y0.astype(np.int32)[k] + off // wk
    col = x0.astype(np.int32)[k] + off % wk
    c_ax, c_ay, c_ex, c_ey, c_ie2, c_rpa, c_drp = prm[[0, 1, 2, 3, 4, 7, 8]][:, k]
    px = col.astype(np.float32) - c_ax
    py = row.astype(np.float32) - c_ay
    # Nearest point of the projected axis: parameter t; offset (dx, dy) px from it.
    t = (px * c_ex + py * c_ey) * c_ie2
    np.clip(t, 0.0, 1.0, out=t)
    dx = px - t * c_ex
    dy = py - t * c_ey
    rp = c_rpa + t * c_drp  # projected radius there, px
    q = (dx * dx + dy * dy) / (rp * rp)
    inside = np.flatnonzero(q < 1.0)
    t, dx, dy, rp, q, k = t[inside], dx[inside], dy[inside], rp[inside], q[inside], k[inside]
    c_iza, c_diz, c_ra, c_dr = prm[[5, 6, 9, 10]][:, k]
    hgt = np.sqrt(1.0 - q)
    # 1/z is linear along the projected axis (perspective-correct depth of the axis point).
    dep = 1.0 / (c_iza + t * c_diz) - (c_ra + t * c_dr) * hgt
    lx, ly, lz = (np.float32(v) for v in light)
    lam = (dx * lx + dy * ly) / rp - hgt * lz  # normal . light
    sh = np.float32(ambient) + np.float32(diffuse) * np.maximum(lam, 0.0)
    pix = (k // P).astype(np.int64) * (H * W) + row[inside] * W + col[inside]
    depth = np.full(T * H * W, np.inf, dtype=np.float32)
    np.minimum.at(depth, pix, dep)
    win = np.flatnonzero(dep <= depth[pix])
    shade = np.zeros(T * H * W, dtype=np.float32)
    slots = np.zeros(T * H * W, dtype=np.uint8)
    shade[pix[win]] = sh[win]
    slots[pix[win]] = np.asarray(slot, dtype=np.uint8)[k[win] % P]
    out = depth.reshape(T, H, W), shade.reshape(T, H, W), slots.reshape(T, H, W)
    if single:
        return out[0][0], out[1][0], out[2][0]
    return out


def composite(
    shade: np.ndarray, slots: np.ndarray, palette: np.ndarray, background: np.ndarray
) -> np.ndarray:
    """Final uint8 image(s) (..., H, W, 3): ``palette[slot] * shade`` over the uint8 background
    (H, W, 3); shade and slots (..., H, W) as `render_capsules` returns them."""
    out = np.empty((*slots.shape, 3), dtype=np.uint8)
    out[...] = background
    where = np.flatnonzero(slots)
    body = palette[slots.reshape(-1)[where]] * shade.reshape(-1)[where][:, None]
    out.reshape(-1, 3)[where] = (np.minimum(body, 1.0) * 255.0 + 0.5).astype(np.uint8)
    return out


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
    body: BodyShape | None = None,
) -> RenderedClip:
    """Render a world-frame joint sequence (T, 17, 3) mm (Z up, floor z = 0) as a clip.

    The camera stands at ``placement`` (see `camera_rig`) around the sequence's mean pelvis and
    looks at it; the square crop is fixed for the whole clip (the union of the person's
    projected extent over all frames, plus a random 10-25 % margin and a small random shift), so
    the background is static and the person moves inside the crop as they move in the world.
    ``rng`` draws the intrinsics jitter, crop margin, background and lighting; `body` (a
    `BodyShape`, optional) refines head, hands and feet (see `body_capsules`).
    """
    joints = np.asarray(joints, dtype=np.float64)
    caps = body_capsules(joints, appearance, body)
    centre = joints[:, 0, :2].mean(axis=0)
    target_z = float(np.clip(joints[:, 0, 2].mean(), 600.0, 1300.0))
    full = place_camera(placement, centre, target_z, rng, name=camera_name)
    a_cam, b_cam = full.world_to_camera(caps.a), full.world_to_camera(caps.b)
    caps_cam = Capsules(a=a_cam, b=b_cam, ra=caps.ra, rb=caps.rb, slot=caps.slot)
    box = person_box(caps_cam, full, margin=float(rng.uniform(0.1, 0.25)),
                      jitter=rng.uniform(-0.05, 0.05, 2))
    cam = crop_camera(full, box, size)
    # A soft blob shadow on the floor around the clip's mean foot position (static over the
    # clip: 8 frames are 0.16 s, the person moves little).
    feet = 0.5 * (joints[:, 3, :2] + joints[:, 6, :2]).mean(axis=0)
    shadow_r = float(np.median(np.linalg.norm(joints[:, 1] - joints[:, 4], axis=-1))) * 2.2
    bg_u8 = render_background(cam, centre, rng,
                              shadow=(feet, shadow_r, float(rng.uniform(0.25, 0.55))))
    # Light: from above at a random azimuth (world frame), turned into the camera frame.
    el = rng.uniform(np.radians(25), np.radians(75))
    az = rng.uniform(0, 2 * np.pi)
    light_c = full.R @ np.array([np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el)])
    ambient = float(rng.uniform(0.25, 0.5))
    diffuse = float(rng.uniform(0.55, 0.9))
    palette = appearance.palette() * np.float32(rng.uniform(0.85, 1.15))
    joints_cam = full.world_to_camera(joints)
    _, shade, slots = render_capsules(a_cam, b_cam, caps.ra, caps.rb, caps.slot, cam, light_c,
                                      ambient, diffuse)
    frames = composite(shade, slots, palette, bg_u8)
    joints2d = cam.project(joints_cam, distort=False)
    return RenderedClip(frames=frames, joints3d=joints_cam.astype(np.float32),
                        joints2d=joints2d.astype(np.float32), camera=cam)
