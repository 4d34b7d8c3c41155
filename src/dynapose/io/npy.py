"""Reading ``.npy`` arrays (plain files and ``.npz`` members) from untrusted files, bounded.

numpy's own loader sizes its buffer from the header's shape before it reads a byte, so a
100-byte file whose header claims (10**12,) float64 asks for 8 TB. Here the header is read
first and its size checked against the bytes the file actually holds; only then is memory
asked for, and never more than the file's own size. Object (pickled) arrays are refused: they
are read only by :func:`dynapose.data.h36m.read_npz_entry`, which admits plain data alone.
"""

from __future__ import annotations

import math
import os
import zipfile
import zlib
from pathlib import Path
from typing import IO, Any

import numpy as np

from dynapose.errors import DynaPoseError

MAGIC = b"\x93NUMPY"


def short_reason(exc: BaseException) -> str:
    """An exception's message on one line, at most 200 characters (for a DynaPoseError)."""
    return " ".join(str(exc).split())[:200] or type(exc).__name__


def read_header(f: IO[bytes], source: str | os.PathLike[str], what: str = "array"
                ) -> tuple[tuple[int, ...], bool, np.dtype[Any]]:
    """(shape, fortran order, dtype) of the ``.npy`` stream `f`, left at the data's start."""
    start = f.read(len(MAGIC) + 2)
    if start[: len(MAGIC)] != MAGIC:
        if not start:
            raise DynaPoseError(f"{what} is empty (not a .npy array)", source)
        shown = start.decode("ascii", "replace") if start.isascii() else repr(start)
        raise DynaPoseError(f"{what} is not a .npy array (it begins with {shown!r})", source)
    version = (start[-2], start[-1])
    readers = {(1, 0): np.lib.format.read_array_header_1_0,
               (2, 0): np.lib.format.read_array_header_2_0}
    if version not in readers:
        raise DynaPoseError(f"{what} is a .npy file of unsupported version {version}", source)
    try:
        shape, fortran, dtype = readers[version](f)
    except Exception as exc:  # numpy parses the (<= 10 kB) header text in many steps, and a
        # corrupt one fails in any of them (ValueError, SyntaxError, tokenize.TokenError, ...)
        raise DynaPoseError(f"{what} has a corrupt .npy header ({short_reason(exc)})",
                            source) from exc
    return tuple(int(n) for n in shape), bool(fortran), dtype


def data_bytes(shape: tuple[int, ...], dtype: np.dtype[Any]) -> int:
    """Bytes of an array's data (exact Python integers: no overflow for crafted shapes)."""
    return math.prod(shape) * dtype.itemsize


def _check_size(shape: tuple[int, ...], dtype: np.dtype[Any], available: int,
                source: str | os.PathLike[str], what: str) -> int:
    if dtype.hasobject:
        raise DynaPoseError(f"{what} holds pickled (object) data, which is not loaded "
                            "(save plain numbers)", source)
    need = data_bytes(shape, dtype)
    if need != available:
        raise DynaPoseError(f"{what} is truncated or corrupt: its header says shape {shape} "
                            f"{dtype} ({need} bytes), the file holds {available} bytes of data",
                            source)
    return need


def _array(data: bytes, shape: tuple[int, ...], fortran: bool, dtype: np.dtype[Any]
           ) -> np.ndarray:
    array = np.frombuffer(data, dtype=dtype)
    if fortran:
        return array.reshape(shape[::-1]).T.copy()
    return array.reshape(shape).copy()


def load_npy(path: str | os.PathLike[str], mmap: bool = False) -> np.ndarray:
    """The array in the ``.npy`` file `path` (memory-mapped read-only with `mmap`).

    DynaPoseError naming the file when it is missing, not a .npy array, holds pickled
    objects, or holds fewer or more bytes than its header says."""
    path = Path(path)
    if not path.is_file():
        raise DynaPoseError("file not found", path)
    try:
        with open(path, "rb") as f:
            shape, fortran, dtype = read_header(f, path)
            offset = f.tell()
            need = _check_size(shape, dtype, os.fstat(f.fileno()).st_size - offset, path,
                               "array")
            if mmap and need:
                return np.memmap(f, dtype=dtype, mode="r", shape=shape,
                                 order="F" if fortran else "C", offset=offset)
            return _array(f.read(), shape, fortran, dtype)
    except OSError as exc:
        raise DynaPoseError(f"unreadable array ({exc.strerror or short_reason(exc)})",
                            path) from exc


def read_npz_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo,
                    source: str | os.PathLike[str], what: str) -> np.ndarray:
    """A plain (non-object) array from the ``.npz`` member `info`, its size checked against
    the member's declared uncompressed size before any memory is asked for (a zip reader
    never yields more than that size)."""
    with archive.open(info) as f:
        shape, fortran, dtype = read_header(f, source, what)
        need = _check_size(shape, dtype, info.file_size - f.tell(), source, what)
        data = f.read(need)
    if len(data) != need:
        raise DynaPoseError(f"{what} is truncated ({len(data)} of {need} bytes)", source)
    return _array(data, shape, fortran, dtype)


def npz_members(path: str | os.PathLike[str]) -> dict[str, str]:
    """{entry name without ``.npy``: member name} of the ``.npz`` (zip) file `path`."""
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as archive:
            return {n.removesuffix(".npy"): n for n in archive.namelist()}
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise DynaPoseError(f"not an .npz file ({short_reason(exc)})", path) from exc


def npz_member(path: str | os.PathLike[str], key: str) -> str:
    """The zip member name of entry `key` of the ``.npz`` file `path`; a DynaPoseError naming
    the file when it is missing, not an .npz, or has no such entry."""
    path = Path(path)
    if not path.is_file():
        raise DynaPoseError("file not found", path)
    members = npz_members(path)
    if key not in members:
        raise DynaPoseError(f"has no {key!r} entry (it has: {', '.join(members) or 'none'})",
                            path)
    return members[key]


def load_npz_array(path: str | os.PathLike[str], key: str) -> np.ndarray:
    """The plain array `key` of the ``.npz`` file `path` (see :func:`read_npz_member`)."""
    path = Path(path)
    member = npz_member(path, key)
    try:
        with zipfile.ZipFile(path) as archive:
            return read_npz_member(archive, archive.getinfo(member), path, f"entry {key!r}")
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError,
            RuntimeError, zlib.error) as exc:
        raise DynaPoseError(f"unreadable entry {key!r} ({short_reason(exc)})", path) from exc
