"""Pictures and videos: training curves, 2D skeleton overlays, 3D skeleton views, MP4/GIF.

Everything renders off-screen (matplotlib's Agg canvas, Pillow) and every file is written
atomically: a reader sees the previous file or the finished new one, never half of one.

Conventions: images are uint8 RGB arrays (H, W, 3); 2D joints are (17, 2) pixels (x right,
y down), NaN for a joint that is missing; 3D joints are (17, 3) millimetres in the camera frame
(x right, y down, z forward). In the 3D views "up" is -y, so a person stands upright, and depth
(z) runs into the picture. Left-side bones are drawn lighter and right-side bones darker than a
skeleton's base colour, the centre line in the base colour.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import Any, cast

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator
from mpl_toolkits.mplot3d.art3d import Line3DCollection
from mpl_toolkits.mplot3d.axes3d import Axes3D  # also registers the "3d" projection
from PIL import Image, ImageDraw

from dynapose.skeleton import BONES, LEFT_JOINTS, NUM_JOINTS, RIGHT_JOINTS

RGB = tuple[int, int, int]


Limits = tuple[tuple[float, float], tuple[float, float], tuple[float, float]]


#: Base colours of the 2D overlay when none is given, per side.
SIDE_COLORS_2D: dict[str, RGB] = {
    "left": (0, 170, 255),
    "right": (255, 70, 40),
    "centre": (60, 220, 60),
}


#: Base colours of the skeletons of a 3D view, in order: prediction, ground truth, more.
COLORS_3D: tuple[RGB, ...] = ((230, 85, 20), (30, 110, 220), (40, 160, 60), (150, 60, 180))


def _side(joint: int) -> str:
    if joint in LEFT_JOINTS:
        return "left"
    if joint in RIGHT_JOINTS:
        return "right"
    return "centre"


def side_colors(color: Sequence[int] | None = None) -> dict[str, RGB]:
    """Colours for the left, right and centre parts of one skeleton.

    With no `color` the default overlay palette; with one, the centre in `color`, the left side
    45 % towards white and the right side 40 % towards black, so sides stay distinct.
    """
    if color is None:
        return dict(SIDE_COLORS_2D)
    base = np.asarray(color[:3], dtype=np.float64)
    light = base + 0.45 * (255.0 - base)
    dark = 0.6 * base
    return {
        "centre": tuple(round(float(v)) for v in base),  # type: ignore[dict-item]
        "left": tuple(round(float(v)) for v in light),  # type: ignore[dict-item]
        "right": tuple(round(float(v)) for v in dark),  # type: ignore[dict-item]
    }


def draw_skeleton_2d(
    image: np.ndarray,
    joints2d: np.ndarray,
    color: Sequence[int] | None = None,
    thickness: int | None = None,
    radius: int | None = None,
) -> np.ndarray:
    """A copy of `image` (uint8 H x W x 3) with the skeleton's bones and joints drawn on it.

    joints2d: (17, 2) pixel coordinates (x, y); a joint with a NaN coordinate and its bones are
    skipped. `color` gives the skeleton's base colour (see `side_colors`); `thickness` and
    `radius` (px) default to about 1/100 of the image's smaller side.
    """
    image = np.asarray(image)
    joints = np.asarray(joints2d, dtype=np.float64)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected a uint8 image (H, W, 3), got {image.dtype} {image.shape}")
    if joints.shape != (NUM_JOINTS, 2):
        raise ValueError(f"expected joints of shape ({NUM_JOINTS}, 2), got {joints.shape}")
    h, w = image.shape[:2]
    if thickness is None:
        thickness = max(1, round(min(h, w) / 100))
    if radius is None:
        radius = max(1, round(min(h, w) / 80))
    palette = side_colors(color)
    ok = cast(np.ndarray, np.isfinite(joints).all(axis=1))  # (17,) bool: joints is (17, 2)
    # Far-away points are clipped so Pillow never sees absurd coordinates.
    pts = np.clip(np.nan_to_num(joints), -4.0 * (w + h), 5.0 * (w + h))
    img = Image.fromarray(np.ascontiguousarray(image))
    draw = ImageDraw.Draw(img)
    for child, parent in BONES:
        if ok[child] and ok[parent]:
            draw.line(
                [tuple(pts[parent]), tuple(pts[child])],
                fill=palette[_side(child)],
                width=thickness,
            )
    for j in range(NUM_JOINTS):
        if ok[j]:
            x, y = pts[j]
            draw.ellipse([x - radius, y - radius, x + radius, y + radius], fill=palette[_side(j)])
    return np.array(img)


def skeleton_limits(*poses: np.ndarray | None, margin: float = 150.0) -> Limits:
    """Cube-shaped camera-frame axis limits (mm) around every finite joint of `poses`.

    poses: arrays (..., 17, 3) mm (None entries ignored). The same limits for a whole clip keep
    an animation from jumping. With no finite joint, a 2 m cube 4 m in front of the camera.
    """
    pts = [np.asarray(p, dtype=np.float64).reshape(-1, 3) for p in poses if p is not None]
    allpts = np.concatenate(pts) if pts else np.zeros((0, 3))
    allpts = allpts[np.isfinite(allpts).all(axis=1)]
    if len(allpts) == 0:
        centre, half = np.array([0.0, 0.0, 4000.0]), 1000.0
    else:
        lo, hi = allpts.min(axis=0), allpts.max(axis=0)
        centre, half = (lo + hi) / 2, float((hi - lo).max()) / 2 + margin
    return tuple((float(c - half), float(c + half)) for c in centre)  # type: ignore[return-value]


def floor_grid(up: np.ndarray, camera_height: float, centre: np.ndarray, half: float = 2000.0,
               step: float = 500.0) -> np.ndarray:
    """Segments (L, 2, 3) mm, camera frame, of a square grid on the floor: the plane of points p
    with ``up . p + camera_height == 0`` (`up`: the floor's unit normal in the camera frame,
    pointing up; `camera_height`: mm). Centred below `centre` (3,) mm, ``half`` mm each way, a
    line every ``step`` mm."""
    n = np.asarray(up, dtype=np.float64)
    n = n / np.linalg.norm(n)
    helper = np.array([1.0, 0.0, 0.0]) if abs(n[0]) < 0.9 else np.array([0.0, 0.0, 1.0])
    e1 = np.cross(n, helper)
    e1 /= np.linalg.norm(e1)
    e2 = np.cross(n, e1)
    c = np.asarray(centre, dtype=np.float64)
    origin = c - (n @ c + camera_height) * n  # `centre` dropped onto the floor
    ticks = np.arange(-half, half + 1e-6, step)
    segs = [(origin + t * a - half * b, origin + t * a + half * b)
            for t in ticks for a, b in ((e1, e2), (e2, e1))]
    return np.asarray(segs, dtype=np.float64)


def _unit_rgb(color: RGB) -> tuple[float, float, float]:
    """An RGB colour 0..255 as matplotlib's 0..1 floats."""
    return (color[0] / 255.0, color[1] / 255.0, color[2] / 255.0)


def _to_plot(points: np.ndarray) -> np.ndarray:
    """Camera-frame points (..., 3) as plot coordinates (x, z, -y): up is up, depth inwards."""
    return np.stack([points[..., 0], points[..., 2], -points[..., 1]], axis=-1)


def _segments(pose: np.ndarray) -> np.ndarray:
    """Bones of one camera-frame pose as plot-space segments (16, 2, 3): (x, z, -y)."""
    plot = _to_plot(pose)
    child = [c for c, _ in BONES]
    parent = [p for _, p in BONES]
    return np.stack([plot[parent], plot[child]], axis=1)


class Skeleton3DRenderer:
    """Renders one or more 3D skeletons into uint8 images, reusing a single figure.

    Build one per animation and call `render` per frame: only the artists' data change, so a
    frame costs one canvas draw. size: (H, W) px of the output; limits: camera-frame axis
    limits ((x0, x1), (y0, y1), (z0, z1)) mm, fixed for every frame (None: fitted to each
    frame's skeletons); colors: base colour per skeleton (primary first; None: the 2D
    overlay's left/right/centre palette); labels: legend names
    per skeleton (None: no legend); elev/azim: matplotlib's view angles in degrees, where
    azim=-90, elev=0 looks from the camera itself; show_axes: ticks and panes in mm.
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
        dpi: int = 100,
    ) -> None:
        h, w = int(size[0]), int(size[1])
        if h < 16 or w < 16:
            raise ValueError(f"3D view too small: {size}")
        self.size = (h, w)
        self.colors = [None if c is None else tuple(int(v) for v in c[:3]) for c in colors]
        self.fig = Figure(figsize=(w / dpi, h / dpi), dpi=dpi)
        self.canvas = FigureCanvasAgg(self.fig)
        self.ax = cast(Axes3D, self.fig.add_axes((0.0, 0.0, 1.0, 1.0), projection="3d"))
        self.ax.view_init(elev=elev, azim=azim)
        self.ax.set_proj_type("persp", focal_length=1.5)
        font = max(5, min(9, h // 45))
        if show_axes:
            for axis, name in ((self.ax.xaxis, "x"), (self.ax.yaxis, "depth z"),
                               (self.ax.zaxis, "up -y")):
                axis.set_major_locator(MaxNLocator(3))
                axis.set_tick_params(labelsize=font - 1, pad=0)
                axis.set_label_text(f"{name} (mm)", fontsize=font)
                axis.labelpad = -4
        else:
            self.ax.set_axis_off()
        self._bones: list[Line3DCollection] = []
        self._joints: list[Any] = []
        self._background: Any = None
        self.limits: Limits | None = None
        if limits is not None:
            self.set_limits(limits)
        if labels:
            handles = [
                Line2D([], [], color=_unit_rgb(side_colors(self._color(i))["centre"]), lw=2,
                       label=str(name))
                for i, name in enumerate(labels)
            ]
            self.fig.legend(handles=handles, loc="upper left", fontsize=font, frameon=False)

    def _color(self, i: int) -> RGB | None:
        return self.colors[i % len(self.colors)]  # type: ignore[return-value]

    def set_scenery(self, floor: np.ndarray | None = None, path: np.ndarray | None = None) -> None:
        """Fixed scenery drawn behind the skeletons: `floor` segments (L, 2, 3) mm camera frame
        (:func:`floor_grid`) in grey, and a `path` (N, 3) mm (the trajectory over the floor)
        as a dark line; drawn once with the axes when the limits are fixed."""
        if floor is not None and len(floor):
            grid = Line3DCollection(_to_plot(np.asarray(floor, dtype=np.float64)),
                                    colors=[(0.6, 0.6, 0.6)], linewidths=0.6, zorder=0)
            self.ax.add_collection3d(grid)
        if path is not None and len(path):
            p = _to_plot(np.asarray(path, dtype=np.float64))
            self.ax.plot(p[:, 0], p[:, 1], p[:, 2], color=(0.25, 0.25, 0.25), lw=1.2, zorder=1)
        self._background = None

    def set_limits(self, limits: Limits) -> None:
        """Fix the camera-frame axis limits ((x0, x1), (y0, y1), (z0, z1)) mm."""
        (x0, x1), (y0, y1), (z0, z1) = (tuple(map(float, lim)) for lim in limits)
        if not all(math.isfinite(a) and math.isfinite(b) and b > a
                   for a, b in ((x0, x1), (y0, y1), (z0, z1))):
            raise ValueError(f"axis limits must be finite (low, high) pairs, got {limits}")
        self.limits = ((x0, x1), (y0, y1), (z0, z1))
        self.ax.set_xlim(x0, x1)
        self.ax.set_ylim(z0, z1)  # depth into the picture
        self.ax.set_zlim(-y1, -y0)  # up is -y
        self.ax.set_box_aspect((x1 - x0, z1 - z0, y1 - y0))
        self._background = None

    def _artists(self, n: int) -> None:
        while len(self._bones) < n:
            i = len(self._bones)
            pal = side_colors(self._color(i))
            colors = [np.array(pal[_side(c)]) / 255.0 for c, _ in BONES]
            lines = Line3DCollection(
                np.zeros((len(BONES), 2, 3)), colors=colors, linewidths=2.2, zorder=10 - i
            )
            self.ax.add_collection3d(lines)
            (dots,) = self.ax.plot(
                [], [], [], linestyle="", marker="o", markersize=2.5,
                color=np.array(pal["centre"]) / 255.0,
            )
            self._bones.append(lines)
            self._joints.append(dots)

    def render(self, joints3d: np.ndarray, others: Sequence[np.ndarray | None] = ()) -> np.ndarray:
        """One frame: `joints3d` (17, 3) mm camera frame in the first colour, then `others`
        (each (17, 3) or None to leave out) in the next colours. Returns uint8 (H, W, 3).

        With fixed limits the axes, panes and legend are drawn once and cached; each frame then
        only restores that background and draws the skeletons on it (blitting).
        """
        poses: list[np.ndarray | None] = [np.asarray(joints3d, dtype=np.float64)]
        poses += [None if o is None else np.asarray(o, dtype=np.float64) for o in others]
        for p in poses:
            if p is not None and p.shape != (NUM_JOINTS, 3):
                raise ValueError(f"expected joints of shape ({NUM_JOINTS}, 3), got {p.shape}")
        if len(poses) > len(self._bones):
            self._artists(len(poses))
            self._background = None
        fitted = self.limits is None
        if fitted:
            self.set_limits(skeleton_limits(*poses))
        if self._background is None:
            for artist in (*self._bones, *self._joints):
                artist.set_visible(False)
            self.canvas.draw()
            self._background = self.canvas.copy_from_bbox(self.fig.bbox)
        else:
            self.canvas.restore_region(self._background)
        # Draw the later skeletons first, so the primary one ends on top.
        for i in reversed(range(len(self._bones))):
            pose = poses[i] if i < len(poses) else None
            lines, dots = self._bones[i], self._joints[i]
            if pose is None:
                lines.set_visible(False)
                dots.set_visible(False)
                continue
            lines.set_segments(_segments(pose))  # NaN segments are not drawn
            dots.set_data_3d(pose[:, 0], pose[:, 2], -pose[:, 1])
            lines.set_visible(True)
            dots.set_visible(True)
            lines.do_3d_projection()
            self.ax.draw_artist(lines)
            self.ax.draw_artist(dots)
        buf = np.asarray(self.canvas.buffer_rgba())[..., :3]
        out = _fit(buf, self.size)
        if fitted:
            self.limits = None  # refit (and redraw the axes) on the next frame too
            self._background = None
        return out


def _fit(img: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Crop or edge-pad `img` to exactly (H, W) (matplotlib may round a pixel)."""
    h, w = size
    img = img[:h, :w]
    if img.shape[0] < h or img.shape[1] < w:
        img = np.pad(img, ((0, h - img.shape[0]), (0, w - img.shape[1]), (0, 0)), mode="edge")
    return np.ascontiguousarray(img)


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
    Give fixed `limits` (e.g. `skeleton_limits` over a whole clip) when rendering an animation.
    Successive calls with the same settings reuse one figure (see `Skeleton3DRenderer`).
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
