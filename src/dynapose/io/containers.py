"""Is a video file cut short? Read from its container's own byte structure, never frame counts.

MP4/MOV top-level box sizes, the Matroska segment size and the AVI RIFF size say how long the
file should be; a file shorter than that was cut (a Matroska file cut in half still decodes part
of its frames without an error, so the decoder alone would not tell). Sizes left unknown (live
recordings) are not checked.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path
from typing import BinaryIO

from dynapose.errors import DynaPoseError

#: Types of the box an MP4/MOV/3GP file starts with.
_MP4_FIRST_BOXES = {b"ftyp", b"styp", b"moov", b"mdat", b"free", b"skip", b"wide", b"pnot"}


def check_not_cut(path: Path) -> None:
    """Raise if the file ends before its container structure does (a cut download or copy).

    Byte lengths from the file's own structure (MP4/MOV top-level boxes, the Matroska/WebM
    segment, the RIFF chunk of AVI), told apart by their first bytes; not frame counts, which
    are hints. Without this a cut file may decode without an error into fewer frames (Matroska,
    AVI) and pass for a shorter video, or fail to open with a vague reason (MP4).
    """
    size = path.stat().st_size
    with path.open("rb") as f:
        head = f.read(12)
        end: tuple[str, int] | None = None
        if head[4:8] in _MP4_FIRST_BOXES:
            end = _mp4_end(f, size)
        elif head[:4] == b"\x1a\x45\xdf\xa3":
            end = _matroska_end(f)
        elif head[:4] == b"RIFF":
            end = _riff_end(f)
    if end is not None and end[1] > size:
        raise DynaPoseError(f"truncated or corrupt video: {end[0]} runs to byte {end[1]}, the "
                            f"file ends at byte {size}", path)


def _mp4_end(f: BinaryIO, size: int) -> tuple[str, int] | None:
    """(what, end byte) of the first top-level MP4/MOV box that runs past `size` bytes."""
    pos = 0
    while pos + 8 <= size:
        f.seek(pos)
        head = f.read(16)
        length, kind = struct.unpack(">I4s", head[:8])
        header = 8
        if length == 1:  # 64-bit size follows
            if len(head) < 16:
                return None
            length, header = struct.unpack(">Q", head[8:16])[0], 16
        elif length == 0:  # the box runs to the end of the file, by definition
            return None
        if length < header or not all(32 <= c < 127 for c in kind):
            return None  # not a box: trailing bytes after the last one
        if pos + length > size:
            return f"its '{kind.decode('ascii')}' box", pos + length
        pos += length
    return None


def _ebml_number(f: BinaryIO) -> tuple[int, int, bool] | None:
    """One EBML variable-length number: (with its length marker, without, all value bits set);
    None at the end of the file or on a malformed byte."""
    first = f.read(1)
    if not first or first[0] == 0:
        return None
    width = 9 - first[0].bit_length()  # the number of leading zero bits + 1
    rest = f.read(width - 1)
    if len(rest) < width - 1:
        return None
    raw = int.from_bytes(first + rest, "big")
    marker = 1 << (7 * width)
    value = raw & (marker - 1)
    return raw, value, value == marker - 1


def _matroska_end(f: BinaryIO) -> tuple[str, int] | None:
    """(what, end byte) of a Matroska/WebM file's first segment, when its size is known."""
    f.seek(0)
    body = 0
    for expected in (0x1A45DFA3, 0x18538067):  # the EBML header, then the segment
        element = _ebml_number(f)
        length = _ebml_number(f)
        if element is None or length is None or element[0] != expected or length[2]:
            return None  # not the usual layout, or a size left unknown (live recording)
        body = length[1]
        if expected == 0x1A45DFA3:
            f.seek(body, os.SEEK_CUR)
    return "its Matroska segment", f.tell() + body


def _riff_end(f: BinaryIO) -> tuple[str, int] | None:
    """(what, end byte) of a RIFF file's (AVI's) first chunk; the pad byte an odd length
    calls for is not counted, so a file missing only that passes."""
    f.seek(0)
    head = f.read(12)
    if len(head) < 12 or head[:4] != b"RIFF":
        return None
    length = struct.unpack("<I", head[4:8])[0]
    if length == 0:  # never filled in (an interrupted recording): no claim to check
        return None
    return "its RIFF chunk", 8 + length
