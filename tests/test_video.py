"""video: files as phones and editors write them, generated here with PyAV.

An edit list trimming the start, variable frame rate, display matrices (portrait phone video,
mirroring), truncated and corrupt files, a one-frame video, absurd frame sizes in a header.
"""

from __future__ import annotations

import gc
import struct
from collections.abc import Iterator, Sequence
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from dynapose.errors import DynaPoseError
from dynapose.io.video import (
    MAX_FRAME_AREA,
    frame_times,
    iter_frames,
    probe_video,
    write_test_video,
)

W, H = 64, 48


def grey(i: int) -> np.ndarray:
    """Frame i of a test video: flat grey 8 + 8 i, so decoded frames can be told apart."""
    return np.full((H, W, 3), 8 + 8 * i, np.uint8)


def which(image: np.ndarray) -> int:
    """The i of a decoded grey(i) frame (lossy codec: flat grey survives within a level or two)."""
    return round((float(image.mean()) - 8) / 8)


def boxes(data: bytes, start: int = 0, end: int | None = None) -> Iterator[tuple[str, bytes]]:
    """(path like "moov/trak/edts/elst", body) of every MP4 box, depth first."""
    end = len(data) if end is None else end
    containers = {"moov", "trak", "mdia", "edts", "minf", "stbl"}
    pos = start
    while pos + 8 <= end:
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        head = 8
        if size == 1:
            size, head = struct.unpack(">Q", data[pos + 8 : pos + 16])[0], 16
        elif size == 0:
            size = end - pos
        name = kind.decode("latin-1")
        yield name, data[pos + head : pos + size]
        if name in containers:
            for sub, body in boxes(data, pos + head, pos + size):
                yield f"{name}/{sub}", body
        pos += size


def edit_list(path: Path) -> tuple[list[tuple[int, int]], int]:
    """The video track's edit list as (segment duration, media time) pairs, and the media
    timescale (ticks/s) media time counts in."""
    found = dict(boxes(path.read_bytes()))
    mdhd, elst = found["moov/trak/mdia/mdhd"], found["moov/trak/edts/elst"]
    timescale = struct.unpack(">I", mdhd[20:24] if mdhd[0] == 1 else mdhd[12:16])[0]
    (count,) = struct.unpack(">I", elst[4:8])
    fmt = ">Qq" if elst[0] == 1 else ">Ii"
    step = struct.calcsize(fmt) + 4  # + media rate
    entries = [struct.unpack(fmt, elst[8 + k * step : 8 + k * step + step - 4])
               for k in range(count)]
    return entries, timescale


def expect_error(path: Path, match: str) -> None:
    """probe_video or iter_frames refuses `path` with a one-line error naming it."""
    with pytest.raises(DynaPoseError, match=match) as err:
        probe_video(path)
        list(iter_frames(path))
    assert str(err.value).startswith(f"{path}: ") and "\n" not in str(err.value)


# ------------------------------------------------------------------------- edit list


def write_trimmed(path: Path, n: int, trim: int, fps: int = 25) -> None:
    """An MP4 of grey(0..n-1) with B-frames whose first `trim` frames are cut off by an edit
    list, as ``ffmpeg -ss T -c copy`` and phone editors write them: every packet stays in the
    file, timestamps are shifted so frame `trim` is at 0 and the muxer writes an ``elst`` box
    that starts presentation there."""
    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=fps)
        s.width, s.height, s.pix_fmt = W, H, "yuv420p"
        s.options = {"preset": "veryfast", "bf": "2", "g": str(n)}  # one GOP: B-frames, no cuts

        def mux(packets: Sequence[av.Packet]) -> None:
            for p in packets:
                shift = round(Fraction(trim, fps) / p.time_base)
                assert p.pts is not None and p.dts is not None
                p.pts, p.dts = p.pts - shift, p.dts - shift
                c.mux(p)

        for i in range(n):
            mux(s.encode(av.VideoFrame.from_ndarray(grey(i), format="rgb24")))
        mux(s.encode())


def test_edit_list_trimming_the_start(tmp_path: Path) -> None:
    path = tmp_path / "trimmed.mp4"
    write_trimmed(path, n=30, trim=8)
    entries, timescale = edit_list(path)
    assert len(entries) == 1
    media_time = entries[0][1]
    assert media_time / timescale >= 8 / 25  # presentation starts 8 frames (+ B delay) in
    info = probe_video(path)
    assert info.num_frames == 30  # the container's count: every sample is still in the file
    frames = list(iter_frames(path))
    assert [which(f.image) for f in frames] == list(range(8, 30))
    assert [f.index for f in frames] == list(range(22))
    assert np.allclose([f.time for f in frames], np.arange(22) / 25, atol=1e-9)
    assert np.array_equal(frame_times(path), [f.time for f in frames])


# ------------------------------------------------------------------------- variable frame rate

VFR_MS = [0, 33, 50, 100, 133, 250, 260, 400, 433, 500, 517, 700, 1000, 1033]


@pytest.mark.parametrize("suffix", [".mp4", ".mkv"])
def test_variable_frame_rate_keeps_each_frames_time(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"vfr{suffix}"
    ms = Fraction(1, 1000)
    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=30)
        s.width, s.height, s.pix_fmt = W, H, "yuv420p"
        s.codec_context.time_base = s.time_base = ms
        for i, t in enumerate(VFR_MS):
            frame = av.VideoFrame.from_ndarray(grey(i), format="rgb24")
            frame.pts, frame.time_base = t, ms
            c.mux(s.encode(frame))
        c.mux(s.encode())
    frames = list(iter_frames(path))
    assert [which(f.image) for f in frames] == list(range(len(VFR_MS)))
    assert np.allclose([f.time for f in frames], np.array(VFR_MS) / 1000, atol=1e-9)
    assert np.allclose(frame_times(path), np.array(VFR_MS) / 1000, atol=1e-9)


# ------------------------------------------------------------------------- display matrix

#: (a, b, c, d) of a display matrix (the eight EXIF orientations), ISO/IEC 14496-12 convention
#: as FFmpeg's display.h states it: (x', y') = (a x + c y, b x + d y). "portrait" is what an
#: iPhone writes for video shot upright.
MATRICES = {
    "upright": (1, 0, 0, 1),
    "portrait": (0, 1, -1, 0),
    "portrait-other-way": (0, -1, 1, 0),
    "upside-down": (-1, 0, 0, -1),
    "mirrored": (-1, 0, 0, 1),
    "flipped": (1, 0, 0, -1),
    "transposed": (0, 1, 1, 0),
    "anti-transposed": (0, -1, -1, 0),
}


def corner(image: np.ndarray, sx: int, sy: int) -> np.ndarray:
    """Mean colour of the 6x6 patch in the corner at (sx, sy), -1 = left/top, +1 = right/bottom."""
    h, w = image.shape[:2]
    ys = slice(0, 6) if sy < 0 else slice(h - 6, h)
    xs = slice(0, 6) if sx < 0 else slice(w - 6, w)
    return image[ys, xs].reshape(-1, 3).mean(axis=0)


@pytest.mark.parametrize("name", list(MATRICES))
def test_display_matrix_makes_frames_upright(tmp_path: Path, name: str) -> None:
    a, b, c, d = MATRICES[name]
    stored = np.full((H, W, 3), 40, np.uint8)
    stored[:12, :12] = (255, 0, 0)  # red at the stored top-left
    stored[:12, -12:] = (0, 255, 0)  # green at the stored top-right
    path = tmp_path / f"{name}.mp4"
    with av.open(str(path), "w") as out:
        s = out.add_stream("libx264", rate=25)
        s.width, s.height, s.pix_fmt = W, H, "yuv420p"
        one = 1 << 16  # 16.16 fixed point
        s.set_display_matrix([a * one, b * one, 0, c * one, d * one, 0, 0, 0, 1 << 30])
        for _ in range(3):
            out.mux(s.encode(av.VideoFrame.from_ndarray(stored, format="rgb24")))
        out.mux(s.encode())
    tkhd = dict(boxes(path.read_bytes()))["moov/trak/tkhd"]
    matrix = struct.unpack(">9i", tkhd[40:76] if tkhd[0] == 0 else tkhd[52:88])
    assert matrix[:2] + matrix[3:5] == (a * one, b * one, c * one, d * one)  # in the file

    turned = b != 0
    info = probe_video(path)
    assert (info.width, info.height) == ((H, W) if turned else (W, H))
    assert info.mirrored == (a * d - b * c < 0)
    for image in (next(iter(iter_frames(path))).image,
                  next(iter(iter_frames(path, size=(info.width // 2, info.height // 2)))).image):
        scale = 1 if image.shape[1] == info.width else 2
        assert image.shape == (info.height // scale, info.width // scale, 3)
        for colour, (sx, sy) in (((255, 0, 0), (-1, -1)), ((0, 255, 0), (1, -1))):
            shown = (a * sx + c * sy, b * sx + d * sy)  # where the corner is displayed
            assert np.abs(corner(image, *shown) - colour).max() < 40, (name, colour)


# ------------------------------------------------------------------------- broken files


def test_truncated_and_corrupt_files(tmp_path: Path) -> None:
    frames = np.stack([grey(i) for i in range(30)])
    fast = tmp_path / "fast.mp4"  # index first, so a cut copy still opens
    with av.open(str(fast), "w", options={"movflags": "+faststart"}) as c:
        s = c.add_stream("libx264", rate=25)
        s.width, s.height, s.pix_fmt = W, H, "yuv420p"
        for image in frames:
            c.mux(s.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        c.mux(s.encode())
    for source in (fast, write_test_video(tmp_path / "whole.mkv", frames),
                   write_test_video(tmp_path / "whole.avi", frames)):
        assert len(list(iter_frames(source))) == 30
        cut = tmp_path / f"cut{source.suffix}"
        data = source.read_bytes()
        cut.write_bytes(data[: len(data) * 2 // 3])
        expect_error(cut, "truncated or corrupt video: its .* runs to byte")

    moov_last = write_test_video(tmp_path / "plain.mp4", frames)
    cut = tmp_path / "no-index.mp4"
    cut.write_bytes(moov_last.read_bytes()[:-500])
    expect_error(cut, "truncated or corrupt video: its 'moov' box runs to byte")

    garbled = bytearray(fast.read_bytes())
    mdat = garbled.find(b"mdat")
    middle = (mdat + len(garbled)) // 2
    noise = np.random.default_rng(0).integers(0, 256, 400, np.uint8)
    garbled[middle : middle + 400] = noise.tobytes()
    bad = tmp_path / "garbled.mp4"
    bad.write_bytes(bytes(garbled))
    expect_error(bad, "corrupt video: decoding failed after [0-9]+ frames")


def test_absurd_frame_sizes_are_refused_from_the_header(tmp_path: Path) -> None:
    # YUV4MPEG2: a text header, so any frame size can be declared without encoding it
    for side in (60000, 12000):  # FFmpeg refuses the first itself, opens the second
        assert side * side > MAX_FRAME_AREA
        path = tmp_path / f"huge{side}.y4m"
        path.write_bytes(f"YUV4MPEG2 W{side} H{side} F25:1 Ip A1:1 C420jpeg\nFRAME\n".encode()
                         + bytes(4096))
        expect_error(path, f"frame size {side}x{side} .* over the maximum frame area")
    small = tmp_path / "small.y4m"
    y = bytes(range(64)) * 48
    small.write_bytes(b"YUV4MPEG2 W64 H48 F25:1 Ip A1:1 C420jpeg\n"
                      + 2 * (b"FRAME\n" + y + bytes([128]) * (2 * 32 * 24)))
    assert [f.image.shape for f in iter_frames(small)] == [(48, 64, 3)] * 2


# ------------------------------------------------------------------------- short and long


@pytest.mark.parametrize("suffix", [".mp4", ".mkv", ".webm"])
def test_one_frame_video(tmp_path: Path, suffix: str) -> None:
    path = write_test_video(tmp_path / f"one{suffix}", grey(5)[None])
    info = probe_video(path)
    assert (info.width, info.height) == (W, H)
    frames = list(iter_frames(path))
    assert len(frames) == 1 and frames[0].index == 0 and frames[0].time == 0.0
    assert which(frames[0].image) == 5
    assert frame_times(path).tolist() == [0.0]


def test_decoded_frames_are_not_kept_alive(tmp_path: Path) -> None:
    """Streaming: however many frames go by, only the decoder's few are alive at once (reading
    a frame's side data makes a reference cycle; done on every frame, only the cyclic garbage
    collector would free them, and with it off, memory grew by a frame per frame)."""
    path = tmp_path / "rot.mp4"
    with av.open(str(path), "w") as c:  # a display matrix on every frame: the side data path
        s = c.add_stream("libx264", rate=25)
        s.width, s.height, s.pix_fmt = W, H, "yuv420p"
        s.set_display_rotation(90)
        for i in range(60):
            c.mux(s.encode(av.VideoFrame.from_ndarray(grey(i % 30), format="rgb24")))
        c.mux(s.encode())
    gc.collect()
    gc.disable()
    try:
        alive = []
        for frame in iter_frames(path):
            if frame.index % 15 == 14:
                alive.append(sum(type(o) is av.VideoFrame for o in gc.get_objects()))
    finally:
        gc.enable()
    # a handful in flight (threads, the frame at hand); 15 more at each count when kept alive
    assert len(alive) == 4 and max(alive) <= 8, alive
