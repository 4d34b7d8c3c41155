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

import csv
import functools
import math
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any, cast

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator
from mpl_toolkits.mplot3d.art3d import Line3DCollection
from mpl_toolkits.mplot3d.axes3d import Axes3D  # also registers the "3d" projection
from PIL import Image, ImageDraw

from dynapose.errors import DynaPoseError
from dynapose.fsutil import atomic_path
from dynapose.skeleton import BONES, LEFT_JOINTS, NUM_JOINTS, PELVIS, RIGHT_JOINTS

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
VIDEO_SUFFIXES = (".mp4", ".gif")


# ---------------------------------------------------------------- colours


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


# ---------------------------------------------------------------- training curves


def _to_float(value: Any) -> float:
    if value is None:
        return math.nan
    if isinstance(value, str):
        value = value.strip()
        if not value:
            return math.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _read_metric_rows(
    source: str | os.PathLike[str] | Iterable[Mapping[str, Any]],
) -> tuple[list[dict[str, Any]], Path | None]:
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        try:
            with open(path, newline="", encoding="utf-8") as f:
                rows = list(csv.DictReader(f))
        except FileNotFoundError:
            raise DynaPoseError("metrics file not found", path) from None
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            raise DynaPoseError(f"cannot read metrics CSV: {exc}", path) from None
        return rows, path
    return [dict(r) for r in source], None


def plot_training_curves(
    metrics: str | os.PathLike[str] | Iterable[Mapping[str, Any]],
    out_dir: str | os.PathLike[str],
    dpi: int = 100,
) -> list[Path]:
    """Draw the report's figures from `metrics.csv` (a path) or its rows (dicts) as PNGs.

    Columns: ``epoch`` and ``train_``/``val_`` + ``loss``, ``mpjpe``, ``mpjpe_p1``, ``p_mpjpe``,
    ``pck3d`` (mm; PCK3D a share in [0, 1]); empty values (no validation set) are skipped.
    Writes, atomically, into `out_dir`: ``loss.png``, ``mpjpe.png``, ``pck3d.png`` (train and
    validation against epoch) and ``mpjpe_protocols.png`` (MPJPE, protocol 1 and P-MPJPE).
    Returns the paths written.
    """
    rows, path = _read_metric_rows(metrics)
    if not rows:
        raise DynaPoseError("no epochs in the metrics", path)
    if "epoch" not in rows[0]:
        raise DynaPoseError("metrics have no 'epoch' column", path)
    epochs = np.array([_to_float(r.get("epoch")) for r in rows])
    if not np.isfinite(epochs).all():
        raise DynaPoseError("metrics have an empty or non-numeric epoch", path)
    order = np.argsort(epochs, kind="stable")
    epochs = epochs[order]

    def column(name: str) -> np.ndarray:
        return np.array([_to_float(r.get(name)) for r in rows])[order]

    out_dir = Path(out_dir)
    figures = [
        ("loss.png", "Loss", "loss (MSE)", [("loss", "")]),
        ("mpjpe.png", "MPJPE", "MPJPE (mm)", [("mpjpe", "")]),
        ("pck3d.png", "PCK3D@150 mm", "PCK3D (share of joints within 150 mm)", [("pck3d", "")]),
        (
            "mpjpe_protocols.png",
            "MPJPE by protocol",
            "error (mm)",
            [("mpjpe", "MPJPE"), ("mpjpe_p1", "protocol 1"), ("p_mpjpe", "P-MPJPE")],
        ),
    ]
    styles = ["-", "--", ":"]
    written = []
    for filename, title, ylabel, series in figures:
        fig = Figure(figsize=(6.4, 4.0), dpi=dpi)
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        drawn = 0
        positive = []
        for i, (key, name) in enumerate(series):
            for split, color, marker in (("train", "tab:blue", "o"), ("val", "tab:orange", "s")):
                values = column(f"{split}_{key}")
                ok = np.isfinite(values)
                if not ok.any():
                    continue
                label = ("train" if split == "train" else "validation") + (
                    f" {name}" if name else ""
                )
                ax.plot(epochs[ok], values[ok], linestyle=styles[i], marker=marker, color=color,
                        label=label, markersize=4)
                drawn += 1
                positive.extend(values[ok])
        if drawn and min(positive) > 0 and max(positive) > 100 * min(positive):
            ax.set_yscale("log")  # e.g. an MSE loss in mm^2 that falls by orders of magnitude
        if drawn:
            ax.legend()
        else:
            ax.text(0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes)
        if series[0][0] == "pck3d":
            ax.set_ylim(0.0, 1.0)
        ax.set_title(title)
        ax.set_xlabel("epoch")
        ax.set_ylabel(ylabel)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(True, alpha=0.3)
        fig.tight_layout()
        dest = out_dir / filename
        _save_figure(fig, dest)
        written.append(dest)
    return written


def _save_figure(fig: Figure, dest: Path) -> None:
    try:
        with atomic_path(dest) as tmp:
            fig.savefig(tmp, format="png")
    except OSError as exc:
        raise DynaPoseError(f"cannot write: {exc.strerror or exc}", dest) from None


# ---------------------------------------------------------------- 2D overlay


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


# ---------------------------------------------------------------- 3D view


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


def _unit_rgb(color: RGB) -> tuple[float, float, float]:
    """An RGB colour 0..255 as matplotlib's 0..1 floats."""
    return (color[0] / 255.0, color[1] / 255.0, color[2] / 255.0)


def _segments(pose: np.ndarray) -> np.ndarray:
    """Bones of one camera-frame pose as plot-space segments (16, 2, 3): (x, z, -y)."""
    plot = np.stack([pose[:, 0], pose[:, 2], -pose[:, 1]], axis=-1)
    child = [c for c, _ in BONES]
    parent = [p for _, p in BONES]
    return np.stack([plot[parent], plot[child]], axis=1)


class Skeleton3DRenderer:
    """Renders one or more 3D skeletons into uint8 images, reusing a single figure.

    Build one per animation and call `render` per frame: only the artists' data change, so a
    frame costs one canvas draw. size: (H, W) px of the output; limits: camera-frame axis
    limits ((x0, x1), (y0, y1), (z0, z1)) mm, fixed for every frame (None: fitted to each
    frame's skeletons); colors: base colour per skeleton (primary first); labels: legend names
    per skeleton (None: no legend); elev/azim: matplotlib's view angles in degrees, where
    azim=-90, elev=0 looks from the camera itself; show_axes: ticks and panes in mm.
    """

    def __init__(
        self,
        size: tuple[int, int] = (256, 256),
        limits: Limits | None = None,
        colors: Sequence[Sequence[int]] = COLORS_3D,
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
        self.colors = [tuple(int(v) for v in c[:3]) for c in colors]
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
                Line2D([], [], color=_unit_rgb(self._color(i)), lw=2, label=str(name))
                for i, name in enumerate(labels)
            ]
            self.fig.legend(handles=handles, loc="upper left", fontsize=font, frameon=False)

    def _color(self, i: int) -> RGB:
        return self.colors[i % len(self.colors)]  # type: ignore[return-value]

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
    colors: tuple[RGB, ...],
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
    colors: Sequence[Sequence[int]] = COLORS_3D,
    labels: Sequence[str] | None = None,
    elev: float = 12.0,
    azim: float = -70.0,
    show_axes: bool = True,
) -> np.ndarray:
    """A 3D view of `joints3d` (17, 3) mm camera frame and `others` as uint8 (H, W, 3).

    Upright (up is -y), the first skeleton in ``colors[0]``, the others in the next colours.
    Give fixed `limits` (e.g. `skeleton_limits` over a whole clip) when rendering an animation.
    Successive calls with the same settings reuse one figure (see `Skeleton3DRenderer`).
    """
    lim = None if limits is None else tuple(tuple(map(float, x)) for x in limits)
    renderer = _cached_renderer(
        (int(size[0]), int(size[1])),
        lim,  # type: ignore[arg-type]
        tuple(tuple(int(v) for v in c[:3]) for c in colors),  # type: ignore[misc]
        None if labels is None else tuple(labels),
        float(elev),
        float(azim),
        bool(show_axes),
    )
    return renderer.render(joints3d, others)


# ---------------------------------------------------------------- video files


def _check_frame(frame: Any, path: Path, first: tuple[int, ...] | None) -> np.ndarray:
    arr = np.asarray(frame)
    if arr.dtype != np.uint8 or arr.ndim != 3 or arr.shape[2] != 3:
        raise DynaPoseError(f"frames must be uint8 (H, W, 3), got {arr.dtype} {arr.shape}", path)
    if first is not None and arr.shape != first:
        raise DynaPoseError(f"frame size changed from {first} to {arr.shape}", path)
    return np.ascontiguousarray(arr)


def _write_mp4(frames: Iterable[Any], tmp: Path, dest: Path, fps: float, crf: int) -> int:
    import av
    from av.video.stream import VideoStream

    rate = Fraction(fps).limit_denominator(1001)
    codec = "libx264" if "libx264" in av.codecs_available else "mpeg4"
    count = 0
    first: tuple[int, ...] | None = None
    pad = (0, 0)
    with av.open(str(tmp), mode="w", format="mp4", options={"movflags": "+faststart"}) as out:
        stream: VideoStream | None = None
        for frame in frames:
            arr = _check_frame(frame, dest, first)
            if stream is None:
                first = arr.shape
                h, w = arr.shape[:2]
                pad = (h % 2, w % 2)  # yuv420p needs even sizes
                added = out.add_stream(codec, rate=rate)
                assert isinstance(added, VideoStream)  # a video codec gives a video stream
                stream = added
                stream.width, stream.height = w + pad[1], h + pad[0]
                stream.pix_fmt = "yuv420p"
                if codec == "libx264":
                    stream.options = {"crf": str(crf), "preset": "veryfast"}
            if pad != (0, 0):
                arr = np.pad(arr, ((0, pad[0]), (0, pad[1]), (0, 0)), mode="edge")
            video_frame = av.VideoFrame.from_ndarray(arr, format="rgb24")
            for packet in stream.encode(video_frame):
                out.mux(packet)
            count += 1
        if stream is not None:
            for packet in stream.encode(None):
                out.mux(packet)
    return count


def _write_gif(frames: Iterable[Any], tmp: Path, dest: Path, fps: float) -> int:
    images: list[Image.Image] = []
    first: tuple[int, ...] | None = None
    for frame in frames:
        arr = _check_frame(frame, dest, first)
        first = arr.shape
        images.append(Image.fromarray(arr).quantize(256, method=Image.Quantize.FASTOCTREE))
    if images:
        images[0].save(
            tmp, format="GIF", save_all=True, append_images=images[1:],
            duration=max(20, round(1000.0 / fps)), loop=0,
        )
    return len(images)


def write_video(
    frames: Iterable[np.ndarray],
    path: str | os.PathLike[str],
    fps: float = 25.0,
    crf: int = 20,
) -> Path:
    """Write uint8 RGB frames (H, W, 3), all one size, to `path` atomically; returns the path.

    The suffix picks the format: ``.mp4`` is H.264 (libx264, yuv420p, quality `crf`; an odd
    width or height is padded by one edge pixel to make it even), ``.gif`` is an endlessly
    looping GIF (Pillow, one fast-octree palette per frame; identical consecutive frames are
    merged into one longer frame, and GIF timing has 10 ms steps). Frames are streamed for MP4;
    a GIF keeps them in memory (1 byte per pixel).
    """
    dest = Path(path)
    suffix = dest.suffix.lower()
    if suffix not in VIDEO_SUFFIXES:
        raise DynaPoseError(f"unsupported video type {suffix or '(none)'!r}; use .mp4 or .gif",
                            dest)
    if not (isinstance(fps, (int, float)) and math.isfinite(fps) and fps > 0):
        raise DynaPoseError(f"frame rate must be a positive number, got {fps!r}", dest)
    try:
        with atomic_path(dest) as tmp:
            if suffix == ".mp4":
                count = _write_mp4(frames, tmp, dest, float(fps), crf)
            else:
                count = _write_gif(frames, tmp, dest, float(fps))
            if count == 0:
                raise DynaPoseError("no frames to write", dest)
    except DynaPoseError:
        raise
    except OSError as exc:
        raise DynaPoseError(f"cannot write video: {exc.strerror or exc}", dest) from None
    return dest


# ---------------------------------------------------------------- side-by-side comparison


def _resize(image: np.ndarray, height: int) -> tuple[np.ndarray, float]:
    h, w = image.shape[:2]
    if h == height:
        return image, 1.0
    scale = height / h
    new_w = max(1, round(w * scale))
    img = Image.fromarray(image).resize((new_w, height), Image.Resampling.BILINEAR)
    return np.asarray(img), scale


def comparison_frames(
    frames: Iterable[np.ndarray],
    pred3d: np.ndarray,
    true3d: np.ndarray | None = None,
    joints2d_pred: np.ndarray | None = None,
    height: int | None = None,
    limits: Limits | None = None,
    root_align: bool = False,
    labels: Sequence[str] = ("predicted", "true"),
    elev: float = 12.0,
    azim: float = -70.0,
) -> Iterator[np.ndarray]:
    """Yield, per input frame, the frame (with `joints2d_pred` drawn if given) beside a 3D view
    of the predicted and, if given, true skeletons.

    frames: N uint8 (H, W, 3) images; pred3d, true3d: (N, 17, 3) mm camera frame;
    joints2d_pred: (N, 17, 2) px in the input frames, drawn in the prediction's colour. Output
    frames are (h, W*h/H + h, 3) with h = `height` (default max(H, 256), made even): the input
    scaled to h rows, then an h x h 3D panel.
    The 3D axis limits are fixed for the whole sequence (`limits`, default fitted to all poses).
    `root_align` moves each pose's pelvis to the origin (compare shape, not placement).
    """
    pred = np.asarray(pred3d, dtype=np.float64)
    true = None if true3d is None else np.asarray(true3d, dtype=np.float64)
    if pred.ndim != 3 or pred.shape[1:] != (NUM_JOINTS, 3):
        raise ValueError(f"pred3d must be (N, {NUM_JOINTS}, 3), got {pred.shape}")
    if true is not None and true.shape != pred.shape:
        raise ValueError(f"true3d shape {true.shape} differs from pred3d {pred.shape}")
    j2d = None if joints2d_pred is None else np.asarray(joints2d_pred, dtype=np.float64)
    if j2d is not None and j2d.shape != (len(pred), NUM_JOINTS, 2):
        raise ValueError(f"joints2d_pred must be ({len(pred)}, {NUM_JOINTS}, 2), got {j2d.shape}")
    if root_align:
        pred = pred - pred[:, PELVIS : PELVIS + 1]
        true = None if true is None else true - true[:, PELVIS : PELVIS + 1]
    if limits is None:
        limits = skeleton_limits(pred, true)
    renderer: Skeleton3DRenderer | None = None
    n = 0
    for i, frame in enumerate(frames):
        if i >= len(pred):
            raise ValueError(f"more frames than poses ({len(pred)})")
        img = np.asarray(frame)
        if img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] != 3:
            raise ValueError(f"frames must be uint8 (H, W, 3), got {img.dtype} {img.shape}")
        h = height or max(img.shape[0], 256)
        h += h % 2
        if renderer is None:
            names = list(labels[: 1 if true is None else 2])
            renderer = Skeleton3DRenderer((h, h), limits, labels=names, elev=elev, azim=azim)
        left, scale = _resize(img, h)
        if j2d is not None:
            left = draw_skeleton_2d(left, j2d[i] * scale, color=renderer.colors[0])
        right = renderer.render(pred[i], [] if true is None else [true[i]])
        yield np.concatenate([left, right], axis=1)
        n = i + 1
    if n != len(pred):
        raise ValueError(f"{n} frames for {len(pred)} poses")


def comparison_video(
    frames: Iterable[np.ndarray],
    pred3d: np.ndarray,
    true3d: np.ndarray | None,
    path: str | os.PathLike[str],
    fps: float = 25.0,
    joints2d_pred: np.ndarray | None = None,
    **kwargs: Any,
) -> Path:
    """Write the `comparison_frames` of a clip as MP4 or GIF (by suffix) to `path`, atomically.

    frames (N, H, W, 3) uint8; pred3d and true3d (N, 17, 3) mm camera frame (true3d may be None);
    joints2d_pred (N, 17, 2) px. Extra keyword arguments go to `comparison_frames`.
    """
    return write_video(
        comparison_frames(frames, pred3d, true3d, joints2d_pred, **kwargs), path, fps=fps
    )


# ---------------------------------------------------------------- benchmark

#: A person standing 4 m in front of the camera, facing it (camera frame, mm): benchmark input.
_STANDING_MM = np.array(
    [[0, 0, 0], [-120, 0, 0], [-120, 450, 0], [-120, 880, 0], [120, 0, 0], [120, 450, 0],
     [120, 880, 0], [0, -230, 0], [0, -480, 0], [0, -580, 0], [0, -700, 0], [180, -480, 0],
     [200, -220, 0], [210, 20, 0], [-180, -480, 0], [-200, -220, 0], [-210, 20, 0]],
    dtype=np.float64,
) + np.array([0.0, 0.0, 4000.0])


def bench_viz(frames: int = 200, size: int = 224) -> dict[str, Any]:
    """Time the visual outputs on generated input: frames per second of the 2D overlay (on
    `size` x `size` frames), of the 3D view (256 x 256, predicted and true skeletons), of
    `comparison_video` end to end to MP4 and to GIF, and the seconds to draw the training
    curves of a 5-epoch run. Returns a JSON-able dict."""
    import tempfile
    import time

    rng = np.random.default_rng(0)
    t = np.arange(frames)[:, None, None]
    true = _STANDING_MM + 80.0 * np.sin(t / 7.0 + np.arange(17)[None, :, None])
    pred = true + rng.normal(scale=40.0, size=true.shape)
    j2d = true[..., :2] * (size / 2200.0) + size / 2
    video = rng.integers(0, 255, size=(frames, size, size, 3), dtype=np.uint8)
    result: dict[str, Any] = {"frames": frames, "frame_size": size}

    start = time.perf_counter()
    for i in range(frames):
        draw_skeleton_2d(video[i], j2d[i])
    result["overlay_2d"] = {"frames_per_s": frames / (time.perf_counter() - start)}

    renderer = Skeleton3DRenderer((256, 256), skeleton_limits(pred, true), labels=["p", "t"])
    renderer.render(pred[0], [true[0]])  # the first frame draws the cached background
    start = time.perf_counter()
    for i in range(frames):
        renderer.render(pred[i], [true[i]])
    result["render_3d"] = {"frames_per_s": frames / (time.perf_counter() - start)}

    with tempfile.TemporaryDirectory() as tmp:
        for suffix in (".mp4", ".gif"):
            start = time.perf_counter()
            comparison_video(video, pred, true, Path(tmp) / f"c{suffix}", fps=25,
                             joints2d_pred=j2d)
            key = f"comparison_{suffix[1:]}"
            result[key] = {"frames_per_s": frames / (time.perf_counter() - start)}
        rows = [{"epoch": e, **{f"{s}_{m}": 100.0 / e for s in ("train", "val")
                                for m in ("loss", "mpjpe", "mpjpe_p1", "p_mpjpe", "pck3d")}}
                for e in range(1, 6)]
        start = time.perf_counter()
        plot_training_curves(rows, tmp)
        result["training_curves_s"] = time.perf_counter() - start
    return result
