"""3D views of skeletons: the 17 joints, the floor grid and the path, projected through a
virtual orbit camera and drawn with OpenCV's anti-aliased lines, fast enough for every frame of
a video.

The camera orbits a centre point as matplotlib's 3D axes place theirs (`elev`, `azim` in
degrees; azim -90, elev 0 looks from the camera itself). "Plot space" is the camera frame
turned upright: (x, z, -y), x right, depth z into the picture, up; so a person stands upright
(the camera frame's y points down) and is not mirrored. The view shows `half` mm each way from
its centre (along the panel's shorter side) at the centre's depth, seen from `EYE_DISTANCE`
halves away: a mild perspective, about 28 degrees across. Bones and joints are drawn far to
near, so the nearer limb covers the farther one. Views either frame fixed limits (a whole clip,
:func:`~dynapose.viz.skeleton.skeleton_limits`) or follow the person (:func:`follow_view`:
centred on the pelvis, scaled to the body), the floor and path fading with distance from the
centre so a long walk does not clutter the view.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import cv2
import numpy as np

from dynapose.skeleton import BONES, NUM_JOINTS
from dynapose.viz.skeleton import (
    COLORS_3D,
    RGB,
    Limits,
    joint_side,
    side_colors,
    skeleton_limits,
)

#: Distance from the eye to the view's centre, in units of the view's half extent.
EYE_DISTANCE = 4.0
#: Scenery further than this (in view half extents) from the view's centre is not drawn, and
#: it fades towards the background on the way there (a long path does not clutter the view).
SCENERY_REACH = 3.0
#: Background of a 3D view, and the greys of the floor grid, the path and text.
BACKGROUND: RGB = (255, 255, 255)
GRID_GREY: RGB = (150, 150, 150)
PATH_GREY: RGB = (60, 60, 60)
TEXT_GREY: RGB = (70, 70, 70)
#: The path is drawn through points at least this far apart (mm): a person standing still
#: adds no pieces to draw.
PATH_STEP_MM = 40.0

_SHIFT = 4  # OpenCV's fractional bits: coordinates in 1/16 px, so lines are placed sub-pixel
_ONE = 1 << _SHIFT
_FADE_LEVELS = 6  # scenery greys are drawn in a few batches, one per fade level
_CHILD = np.array([c for c, _ in BONES])
_PARENT = np.array([p for _, p in BONES])
_SIDE_OF = [joint_side(j) for j in range(NUM_JOINTS)]


def _to_plot(points: np.ndarray) -> np.ndarray:
    """Camera-frame points (..., 3) as plot coordinates (x, z, -y): up is up, depth inwards."""
    return np.stack([points[..., 0], points[..., 2], -points[..., 1]], axis=-1)


def _orbit(elev: float, azim: float) -> np.ndarray:
    """Rows: the view's right, up and backward (towards the eye) unit vectors, plot space."""
    e, a = math.radians(elev), math.radians(azim)
    back = np.array([math.cos(e) * math.cos(a), math.cos(e) * math.sin(a), math.sin(e)])
    right = np.array([-math.sin(a), math.cos(a), 0.0])
    return np.stack([right, np.cross(back, right), back])


def _gaps_filled(points: np.ndarray) -> np.ndarray:
    """(F, 3) with NaN rows filled by linear interpolation over time (ends repeated)."""
    ok = np.isfinite(points).all(axis=1)
    idx = np.arange(len(points))
    return np.stack([np.interp(idx, idx[ok], points[ok, k]) for k in range(3)], axis=1)


def _smoothed(points: np.ndarray, sigma: float) -> np.ndarray:
    """(F, 3) smoothed over time by a Gaussian of `sigma` frames, the ends padded by point
    reflection so that steady motion is kept as it is, up to the last frame (no lag)."""
    r = min(math.ceil(3 * sigma), len(points) - 1)
    if r < 1 or sigma <= 0:
        return points
    kernel = np.exp(-0.5 * (np.arange(-r, r + 1) / sigma) ** 2)
    kernel /= kernel.sum()
    padded = np.concatenate([2 * points[:1] - points[r:0:-1], points,
                             2 * points[-1:] - points[-2 : -r - 2 : -1]])
    return np.stack([np.convolve(padded[:, k], kernel, mode="valid") for k in range(3)], axis=1)


def follow_view(joints: np.ndarray, sigma_frames: float = 2.0, room: float = 1.5,
                ) -> tuple[np.ndarray, float]:
    """Framing that follows the person: (centres (F, 3) camera frame mm, half extent mm).

    joints: (F, 17, 3) mm camera frame (NaN rows: no person). Each frame's centre is its pelvis,
    filled across gaps (linearly) and smoothed over `sigma_frames` (a Gaussian: the view does
    not shake with the pelvis's jitter); the half extent is `room` x the median over frames of
    the body's reach (the largest joint distance from the pelvis), so the view is scaled to the
    body and fixed over the clip (no zoom pumping). Give both to
    :meth:`Skeleton3DRenderer.set_view` / :meth:`Skeleton3DRenderer.render`.
    """
    j = np.asarray(joints, dtype=np.float64).reshape(-1, NUM_JOINTS, 3)
    valid = np.asarray(np.isfinite(j).all(axis=(1, 2)), dtype=bool)
    if not valid.any():
        return np.tile([0.0, 0.0, 4000.0], (len(j), 1)), 1000.0
    pelvis = np.where(valid[:, None], j[:, 0], np.nan)
    centres = _smoothed(_gaps_filled(pelvis), sigma_frames)
    reach = np.linalg.norm(j[valid] - j[valid, :1], axis=-1).max(axis=1)
    return centres, max(300.0, room * float(np.median(reach)))


def _pieces(a: np.ndarray, b: np.ndarray, length: float) -> tuple[np.ndarray, np.ndarray]:
    """Segments a -> b (N, 3) cut into pieces at most `length` long (each segment into equal
    parts): the scenery is drawn piece by piece, each faded by its own distance."""
    n = np.maximum(1, np.ceil(np.linalg.norm(b - a, axis=1) / length)).astype(int)
    seg = np.repeat(np.arange(len(a)), n)
    k = np.arange(len(seg)) - np.repeat(np.cumsum(n) - n, n)
    t0, t1 = (k / n[seg])[:, None], ((k + 1) / n[seg])[:, None]
    d = (b - a)[seg]
    return a[seg] + t0 * d, a[seg] + t1 * d


def _thinned(points: np.ndarray, step: float) -> np.ndarray:
    """`points` (N, 3) along a line, keeping the first, then each one at least `step` from the
    last kept, and the last: the same line in fewer pieces."""
    if len(points) < 3:
        return points
    keep = [0]
    for i in range(1, len(points) - 1):
        if np.linalg.norm(points[i] - points[keep[-1]]) >= step:
            keep.append(i)
    keep.append(len(points) - 1)
    return points[keep]


@functools.lru_cache(maxsize=8)
def _fades(grey: RGB) -> list[RGB]:
    """`grey` faded towards the background, one colour per fade level, nearest first."""
    return [tuple(round(g + (k + 0.5) / _FADE_LEVELS * (bg - g))  # type: ignore[misc]
                  for g, bg in zip(grey, BACKGROUND, strict=True))
            for k in range(_FADE_LEVELS)]


@functools.lru_cache(maxsize=16)
def _palette(color: RGB | None) -> dict[str, RGB]:
    return side_colors(color)


class Skeleton3DRenderer:
    """Renders one or more 3D skeletons into uint8 images with OpenCV (anti-aliased lines).

    Build one per animation and call `render` per frame. size: (H, W) px of the output;
    limits: camera-frame axis limits ((x0, x1), (y0, y1), (z0, z1)) mm that the view frames,
    fixed for every frame (None: fitted to each frame's skeletons, unless `set_view` or
    `render(centre=...)` set a view); colors: base colour per skeleton (primary first; None:
    the 2D overlay's left/right/centre palette); labels: legend names per skeleton (None: no
    legend); elev/azim: the orbit's angles in degrees as matplotlib's 3D axes take them, where
    azim=-90, elev=0 looks from the camera itself; show_axes: a small x / z / -y direction
    marker and a scale bar (mm at the view's centre); title: a caption at the top.
    """

    def __init__(
        self,
        size: tuple[int, int] = (256, 256),
        limits: Limits | None = None,
        colors: Sequence[Sequence[int] | None] = COLORS_3D,
        labels: Sequence[str] | None = None,
        elev: float = 12.0,
        azim: float = -70.0,
        show_axes: bool = True,
        title: str | None = None,
    ) -> None:
        h, w = int(size[0]), int(size[1])
        if h < 16 or w < 16:
            raise ValueError(f"3D view too small: {size}")
        self.size = (h, w)
        self.colors = [None if c is None else tuple(int(v) for v in c[:3]) for c in colors]
        self.labels = [str(x) for x in labels] if labels else []
        self.title = title
        self.show_axes = show_axes
        self.elev, self.azim = float(elev), float(azim)
        self._axes = _orbit(self.elev, self.azim)  # rows: right, up, back (plot space)
        m = min(h, w)
        self._thick = max(2, round(m / 120))  # bones, px
        self._radius = self._thick + 1  # joint dots, px
        self._font = max(0.3, m / 720)  # OpenCV font scale: about m / 30 px high
        # (piece starts, ends, midpoints (P, 3) plot space, grey, thickness) per scenery layer
        self._scenery: list[tuple[np.ndarray, np.ndarray, np.ndarray, RGB, int]] = []
        self._background: tuple[tuple[float, ...], np.ndarray] | None = None
        # the label layer: (half extent it was drawn for, [(tile, mask, pixels)])
        self._labels: tuple[float, list[tuple[tuple[slice, slice], np.ndarray, np.ndarray]]
                            ] | None = None
        self._blank = np.empty((h, w, 3), np.uint8)
        self._blank[:] = BACKGROUND
        self.limits: Limits | None = None
        self.centre: np.ndarray | None = None  # plot space
        self.half = 1000.0
        if limits is not None:
            self.set_limits(limits)

    def _color(self, i: int) -> RGB | None:
        return self.colors[i % len(self.colors)]  # type: ignore[return-value]

    # -- the view -------------------------------------------------------------------------

    def set_view(self, centre: Sequence[float] | np.ndarray, half: float) -> None:
        """Centre the view on `centre` (3,) mm camera frame, showing `half` mm each way (along
        the panel's shorter side, at the centre's depth). Fixed until changed."""
        c = np.asarray(centre, dtype=np.float64).reshape(3)
        if not (np.isfinite(c).all() and math.isfinite(half) and half > 0):
            raise ValueError(f"view centre and half extent must be finite, got {c}, {half}")
        self.centre = _to_plot(c)
        self.half = float(half)
        self.limits = None

    def set_limits(self, limits: Limits) -> None:
        """Frame the box of camera-frame axis limits ((x0, x1), (y0, y1), (z0, z1)) mm: the
        view centred on the box, every corner inside the panel."""
        (x0, x1), (y0, y1), (z0, z1) = (tuple(map(float, lim)) for lim in limits)
        if not all(math.isfinite(a) and math.isfinite(b) and b > a
                   for a, b in ((x0, x1), (y0, y1), (z0, z1))):
            raise ValueError(f"axis limits must be finite (low, high) pairs, got {limits}")
        corners = np.array([[x, y, z] for x in (x0, x1) for y in (y0, y1) for z in (z0, z1)])
        centre = corners.mean(axis=0)
        rel = (_to_plot(corners) - _to_plot(centre)) @ self._axes[:2].T  # (8, 2) right, up
        h, w = self.size
        m = min(h, w)
        half = max(float(np.abs(rel[:, 0]).max()) * m / w, float(np.abs(rel[:, 1]).max()) * m / h)
        self.set_view(centre, max(half, 1e-3))
        self.limits = ((x0, x1), (y0, y1), (z0, z1))

    def _project(self, plot: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Plot-space points (N, 3) -> (pixel x, y (N, 2), depth from the eye (N,))."""
        assert self.centre is not None
        h, w = self.size
        eye_d = EYE_DISTANCE * self.half
        rel = (plot - self.centre) @ self._axes.T  # right, up, back
        depth = eye_d - rel[:, 2]
        focal = 0.5 * min(h, w) * eye_d / self.half
        with np.errstate(divide="ignore", invalid="ignore"):
            px = np.stack([w / 2 + focal * rel[:, 0] / depth,
                           h / 2 - focal * rel[:, 1] / depth], axis=1)
        return px, depth

    def project(self, points: np.ndarray) -> np.ndarray:
        """Pixel coordinates (..., 2) (x right, y down) in the current view of camera-frame
        points (..., 3) mm: where `render` draws them (NaN behind the eye)."""
        pts = np.asarray(points, dtype=np.float64)
        if self.centre is None:
            raise ValueError("no view yet: set limits or a view, or render a frame first")
        px, depth = self._project(_to_plot(pts.reshape(-1, 3)))
        px[depth <= 0] = np.nan
        return px.reshape(*pts.shape[:-1], 2)

    def _fixed(self, px: np.ndarray) -> np.ndarray:
        """Pixel coordinates as OpenCV's fixed-point integers, clipped to a sane range."""
        lim = 8.0 * sum(self.size)
        return np.round(np.clip(np.nan_to_num(px), -lim, lim) * _ONE).astype(np.int32)

    # -- scenery --------------------------------------------------------------------------

    def set_scenery(self, floor: np.ndarray | None = None, path: np.ndarray | None = None) -> None:
        """Fixed scenery drawn behind the skeletons: `floor` segments (L, 2, 3) mm camera frame
        (:func:`floor_grid`) in light grey, and a `path` (N, 3) mm (the trajectory over the
        floor) as a dark line; both fade out with distance from the view's centre."""
        self._scenery = []
        if floor is not None and len(floor):
            seg = _to_plot(np.asarray(floor, dtype=np.float64).reshape(-1, 2, 3))
            seg = seg[np.isfinite(seg).all(axis=(1, 2))]
            spacing = float(np.median(np.linalg.norm(seg[:, 1] - seg[:, 0], axis=1)))
            a, b = _pieces(seg[:, 0], seg[:, 1], max(spacing / 2, 50.0))
            self._scenery.append((a, b, (a + b) / 2, GRID_GREY, 1))
        if path is not None and len(path) > 1:
            pts = _to_plot(np.asarray(path, dtype=np.float64).reshape(-1, 3))
            pts = _thinned(pts[np.isfinite(pts).all(axis=1)], PATH_STEP_MM)
            pts = pts[:: max(1, math.ceil(len(pts) / 4000))]  # bounded cost per frame
            if len(pts) > 1:
                thick = max(1, round(min(self.size) / 200))
                self._scenery.append((pts[:-1], pts[1:], (pts[:-1] + pts[1:]) / 2, PATH_GREY,
                                      thick))
        self._background = None

    def _draw_scenery(self, img: np.ndarray) -> None:
        """The scenery's pieces within reach of the view's centre, fading with distance; what
        passes behind the eye is cut at a near plane."""
        assert self.centre is not None
        reach = SCENERY_REACH * self.half
        near = 0.05 * EYE_DISTANCE * self.half
        for a, b, mid, grey, thick in self._scenery:
            dist = np.linalg.norm(mid - self.centre, axis=1)
            sel = dist < reach
            a, b = a[sel], b[sel]
            if not len(a):
                continue
            level = np.minimum(((dist[sel] / reach) ** 1.5 * _FADE_LEVELS).astype(int),
                               _FADE_LEVELS - 1)
            px, depth = self._project(np.concatenate([a, b]))
            pa, pb, da, db = px[: len(a)], px[len(a):], depth[: len(a)], depth[len(a):]
            cut = (da < near) ^ (db < near)
            if cut.any():  # move the end behind the near plane onto it
                t = ((near - da[cut]) / (db[cut] - da[cut]))[:, None]
                on = a[cut] + t * (b[cut] - a[cut])
                p_on, _ = self._project(on)
                pa[cut] = np.where((da[cut] < near)[:, None], p_on, pa[cut])
                pb[cut] = np.where((db[cut] < near)[:, None], p_on, pb[cut])
            ok = (da >= near) | (db >= near)
            segs = self._fixed(np.stack([pa, pb], axis=1))
            for k, color in enumerate(_fades(grey)):
                part = segs[ok & (level == k)]
                if len(part):
                    cv2.polylines(img, list(part), False, color, thick, cv2.LINE_AA, _SHIFT)

    def _draw_text(self, img: np.ndarray, text: str, org: tuple[float, float],
                   color: RGB = TEXT_GREY, scale: float = 1.0) -> None:
        cv2.putText(img, text, (round(org[0]), round(org[1])), cv2.FONT_HERSHEY_SIMPLEX,
                    self._font * scale, color, 1, cv2.LINE_AA)

    def _draw_labels(self, img: np.ndarray) -> None:
        """Title, legend, direction marker and scale bar over everything: drawn once per scale
        on a blank layer, then its pixels are copied onto every frame."""
        if self._labels is None or self._labels[0] != self.half:
            layer = self._blank.copy()
            self._label_layer(layer)
            mask = (layer != BACKGROUND).any(axis=2)
            tiles = []  # the layer in 32 px tiles, keeping those with something drawn
            for y in range(0, mask.shape[0], 32):
                for x in range(0, mask.shape[1], 32):
                    box = (slice(y, y + 32), slice(x, x + 32))
                    if mask[box].any():
                        tiles.append((box, mask[box], layer[box][mask[box]]))
            self._labels = (self.half, tiles)
        for box, part, pixels in self._labels[1]:
            img[box][part] = pixels

    def _label_layer(self, img: np.ndarray) -> None:
        h, w = self.size
        m = min(h, w)
        line = 30.0 * self._font  # text line height, px
        if self.title:
            (tw, _), _ = cv2.getTextSize(self.title, cv2.FONT_HERSHEY_SIMPLEX, self._font, 1)
            self._draw_text(img, self.title, ((w - tw) / 2, 1.1 * line))
        for i, name in enumerate(self.labels):
            y = (i + 1 + (1 if self.title else 0)) * line
            color = side_colors(self._color(i))["centre"]
            cv2.line(img, (round(0.6 * line), round(y - 0.3 * line)),
                     (round(1.6 * line), round(y - 0.3 * line)), color, self._thick, cv2.LINE_AA)
            self._draw_text(img, name, (1.9 * line, y))
        if not self.show_axes:
            return
        # direction marker, lower left: where +x, +z (depth) and -y (up) point in this view
        origin = np.array([0.12 * m, h - 0.12 * m])
        for vec, name in (((1, 0, 0), "x"), ((0, 1, 0), "z"), ((0, 0, 1), "-y")):
            d = np.array([self._axes[0] @ vec, -(self._axes[1] @ vec)]) * 0.08 * m
            tip = origin + d
            cv2.line(img, tuple(np.round(origin).astype(int)), tuple(np.round(tip).astype(int)),
                     TEXT_GREY, 1, cv2.LINE_AA)
            if np.hypot(*d) > 0.02 * m:
                at = tip + 0.35 * d - [0.15 * line, -0.15 * line]
                self._draw_text(img, name, (float(at[0]), float(at[1])), scale=0.8)
        # scale bar, lower right: a round length about a fifth of the panel, at the centre
        focal_per_mm = 0.5 * m / self.half
        mm = min((100, 200, 250, 500, 1000, 2000, 5000, 10000),
                 key=lambda v: abs(math.log(v * focal_per_mm / (0.2 * w))))
        bar = mm * focal_per_mm
        x1, y = w - 0.06 * m, h - 0.08 * m
        pts = np.array([[x1 - bar, y - 3], [x1 - bar, y], [x1, y], [x1, y - 3]])
        cv2.polylines(img, [np.round(pts * _ONE).astype(np.int32)], False, TEXT_GREY, 1,
                      cv2.LINE_AA, _SHIFT)
        label = f"{mm // 1000} m" if mm >= 1000 else f"{mm} mm"
        (tw, _), _ = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, 0.8 * self._font, 1)
        self._draw_text(img, label, (x1 - bar / 2 - tw / 2, y - 0.4 * line), scale=0.8)

    # -- skeletons ------------------------------------------------------------------------

    def _draw_skeleton(self, img: np.ndarray, pose: np.ndarray, color: RGB | None) -> None:
        """Bones and joints of one pose, far to near, so the nearer limb is on top."""
        palette = _palette(color)
        px, depth = self._project(_to_plot(pose))
        near = 0.05 * EYE_DISTANCE * self.half
        ok = np.isfinite(px).all(axis=1) & (depth > near)
        pts = self._fixed(px)
        items: list[tuple[float, int, int]] = []  # (depth, kind 0 bone / 1 joint, index)
        for bone in np.nonzero(ok[_CHILD] & ok[_PARENT])[0]:
            items.append((float(depth[_CHILD[bone]] + depth[_PARENT[bone]]) / 2, 0, int(bone)))
        for jj in np.nonzero(ok)[0]:
            items.append((float(depth[jj]) - 1.0, 1, int(jj)))  # a joint over its own bones
        radius = self._radius * _ONE
        for _, kind, k in sorted(items, reverse=True):
            if kind == 0:
                c, p = _CHILD[k], _PARENT[k]
                cv2.line(img, (int(pts[p, 0]), int(pts[p, 1])), (int(pts[c, 0]), int(pts[c, 1])),
                         palette[_SIDE_OF[c]], self._thick, cv2.LINE_AA, _SHIFT)
            else:
                cv2.circle(img, (int(pts[k, 0]), int(pts[k, 1])), radius,
                           palette[_SIDE_OF[k]], -1, cv2.LINE_AA, _SHIFT)

    def render(self, joints3d: np.ndarray, others: Sequence[np.ndarray | None] = (),
               centre: Sequence[float] | np.ndarray | None = None) -> np.ndarray:
        """One frame: `joints3d` (17, 3) mm camera frame in the first colour, then `others`
        (each (17, 3) or None to leave out) in the next colours. Returns uint8 (H, W, 3).

        centre: (3,) mm camera frame to centre the view on from this frame on (the half extent
        kept; see :func:`follow_view`). With no view set (no limits, no centre), the view is
        fitted to this frame's skeletons. The floor and path are drawn once per view and
        reused while the view stays put.
        """
        poses: list[np.ndarray | None] = [np.asarray(joints3d, dtype=np.float64)]
        poses += [None if o is None else np.asarray(o, dtype=np.float64) for o in others]
        for p in poses:
            if p is not None and p.shape != (NUM_JOINTS, 3):
                raise ValueError(f"expected joints of shape ({NUM_JOINTS}, 3), got {p.shape}")
        fitted = self.centre is None
        if centre is not None:
            self.set_view(centre, self.half)
        elif fitted:
            self.set_limits(skeleton_limits(*poses))
        assert self.centre is not None
        key = (*self.centre.tolist(), self.half)
        if self._background is not None and self._background[0] == key:
            img = self._background[1].copy()
        else:
            img = self._blank.copy()
            self._draw_scenery(img)
            # a view that moves (follows, or is fitted per frame) never reuses its background
            self._background = None if centre is not None or fitted else (key, img.copy())
        # the later skeletons first, so the primary one ends on top
        for i in reversed(range(len(poses))):
            pose = poses[i]
            if pose is not None:
                self._draw_skeleton(img, pose, self._color(i))
        self._draw_labels(img)
        if fitted and centre is None:
            self.centre, self.limits = None, None  # fit the next frame too
        return img


@functools.lru_cache(maxsize=4)
def _cached_renderer(
    size: tuple[int, int],
    limits: Limits | None,
    colors: tuple[RGB | None, ...],
    labels: tuple[str, ...] | None,
    elev: float,
    azim: float,
    show_axes: bool,
) -> Skeleton3DRenderer:
    return Skeleton3DRenderer(size, limits, colors, labels, elev, azim, show_axes)


def render_skeleton_3d(
    joints3d: np.ndarray,
    others: Sequence[np.ndarray | None] = (),
    size: tuple[int, int] = (256, 256),
    limits: Limits | None = None,
    colors: Sequence[Sequence[int] | None] = COLORS_3D,
    labels: Sequence[str] | None = None,
    elev: float = 12.0,
    azim: float = -70.0,
    show_axes: bool = True,
) -> np.ndarray:
    """A 3D view of `joints3d` (17, 3) mm camera frame and `others` as uint8 (H, W, 3).

    Upright (up is -y), the first skeleton in ``colors[0]``, the others in the next colours; a
    colour None draws that skeleton in the 2D overlay's palette (left, right, centre).
    Give fixed `limits` (e.g. `skeleton_limits` over a whole clip) when rendering an animation,
    or use a :class:`Skeleton3DRenderer` with :func:`follow_view` to follow the person.
    Successive calls with the same settings reuse one renderer.
    """
    lim = None if limits is None else tuple(tuple(map(float, x)) for x in limits)
    renderer = _cached_renderer(
        (int(size[0]), int(size[1])),
        lim,  # type: ignore[arg-type]
        tuple(None if c is None else tuple(int(v) for v in c[:3])  # type: ignore[misc]
              for c in colors),
        None if labels is None else tuple(labels),
        float(elev),
        float(azim),
        bool(show_axes),
    )
    return renderer.render(joints3d, others)
