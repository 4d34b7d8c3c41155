"""The clip store: a folder of fixed-size 8-frame clips on disk, written once, streamed forever.

Every source of training data (the report's arrays, synthetic video, Human3.6M) writes this
format; training and evaluation read it. Layout::

    STORE/
      manifest.json          written last: its presence means the store is complete
      clips.json             per-clip metadata columns (subject, action, camera, start, split, ...)
      frames-00000.u8        raw uint8  (n, T, H, W, 3), C order
      joints3d-00000.f32     raw float32 (n, T, 17, 3), camera frame, mm
      joints2d-00000.f32     raw float32 (n, T, 17, 2), crop pixels (optional)
      ...

Chunks hold ``chunk_clips`` clips (the last may hold fewer). Reading a clip is one positioned
read per array, so memory stays flat however large the store is; nothing is memory-mapped for
training (mapped pages would count towards the process's resident memory).

Writing happens in ``.STORE.partial/`` and the folder is renamed to ``STORE`` only when complete,
so an interrupted write is never mistaken for a store. Each finished chunk is recorded in
``progress.json`` there, so a writer opened with ``resume=True`` continues where it stopped.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dynapose.errors import DynaPoseError
from dynapose.io.atomic import atomic_write_text, check_output, publish_dir
from dynapose.schema import check_mapping
from dynapose.skeleton import NUM_JOINTS

FORMAT = "dynapose-clip-store"
VERSION = 1
MANIFEST = "manifest.json"
METADATA = "clips.json"
PROGRESS = "progress.json"
#: Per-clip metadata columns every store has (more may be added by a writer).
META_COLUMNS = ("subject", "action", "camera", "start", "split", "source")
SPLITS = ("train", "val", "test")


def partial_path(path: str | os.PathLike[str]) -> Path:
    """Where a store at `path` is written before it is complete."""
    path = Path(path)
    return path.with_name(f".{path.name}.partial")


@dataclass(frozen=True)
class _ArraySpec:
    prefix: str
    dtype: np.dtype
    tail: tuple[int, ...]  # per-clip shape

    @property
    def clip_bytes(self) -> int:
        return int(np.prod(self.tail)) * self.dtype.itemsize

    def chunk_file(self, chunk: int) -> str:
        ext = "u8" if self.dtype == np.uint8 else "f32"
        return f"{self.prefix}-{chunk:05d}.{ext}"


def _specs(clip_len: int, height: int, width: int, joints2d: bool) -> dict[str, _ArraySpec]:
    specs = {
        "frames": _ArraySpec("frames", np.dtype(np.uint8), (clip_len, height, width, 3)),
        "joints3d": _ArraySpec("joints3d", np.dtype(np.float32), (clip_len, NUM_JOINTS, 3)),
    }
    if joints2d:
        specs["joints2d"] = _ArraySpec("joints2d", np.dtype(np.float32), (clip_len, NUM_JOINTS, 2))
    return specs


class ClipStoreWriter:
    """Append clips to a new store; use as a context manager.

    >>> with ClipStoreWriter("store", height=224, width=224) as w:
    ...     w.add(frames, joints3d, subject="S1", action="walk", split="train")

    On a clean exit the store is renamed into place; on an exception the partial folder is kept
    (for ``resume=True``) but ``STORE`` itself is never created or touched.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        height: int,
        width: int,
        clip_len: int = 8,
        joints2d: bool = False,
        chunk_clips: int = 256,
        overwrite: bool = False,
        resume: bool = False,
        attrs: dict[str, Any] | None = None,
    ) -> None:
        self.path = Path(path)
        if height <= 0 or width <= 0 or clip_len <= 0 or chunk_clips <= 0:
            raise DynaPoseError(
                f"impossible store geometry: clip_len={clip_len}, {height}x{width}, "
                f"chunk_clips={chunk_clips}",
                self.path,
            )
        check_output(self.path, folder=True, overwrite=overwrite)
        self.partial = partial_path(self.path)
        self.geometry = {"clip_len": clip_len, "height": height, "width": width,
                         "joints2d": joints2d, "chunk_clips": chunk_clips}
        self.specs = _specs(clip_len, height, width, joints2d)
        self.attrs = dict(attrs or {})
        self.chunks: list[int] = []  # clip counts of finished chunks
        self.meta: dict[str, list[Any]] = {c: [] for c in META_COLUMNS}
        if resume and (self.partial / PROGRESS).is_file():
            self._load_progress()
        else:
            shutil.rmtree(self.partial, ignore_errors=True)
            self.partial.mkdir(parents=True)
        self._buffer: dict[str, list[np.ndarray]] = {k: [] for k in self.specs}
        self._buffer_meta: list[dict[str, Any]] = []
        self._closed = False

    # -- progress -----------------------------------------------------------------------------
    @property
    def num_committed(self) -> int:
        """Clips safely on disk (those a resumed writer does not need again)."""
        return sum(self.chunks)

    @property
    def num_clips(self) -> int:
        """Clips added so far, committed or buffered."""
        return self.num_committed + len(self._buffer_meta)

    def _load_progress(self) -> None:
        progress = json.loads((self.partial / PROGRESS).read_text())
        if progress.get("geometry") != self.geometry:
            raise DynaPoseError(
                "cannot resume: the unfinished store was written with other settings "
                f"({progress.get('geometry')})",
                self.partial,
            )
        self.chunks = list(progress["chunks"])
        self.meta = {k: list(v) for k, v in progress["meta"].items()}
        # Drop files of a chunk that was being written when the process stopped.
        keep = {spec.chunk_file(i) for i in range(len(self.chunks)) for spec in self.specs.values()}
        for f in self.partial.iterdir():
            if f.name not in keep and f.name != PROGRESS:
                f.unlink()

    # -- writing ------------------------------------------------------------------------------
    def add(
        self,
        frames: np.ndarray,
        joints3d: np.ndarray,
        joints2d: np.ndarray | None = None,
        **meta: Any,
    ) -> None:
        """Add one clip: frames (T, H, W, 3) uint8; joints3d (T, 17, 3) mm; joints2d (T, 17, 2).

        `meta` fills the metadata columns (subject, action, camera, start, split, source, or
        any other name, which becomes a column of its own).
        """
        arrays = {"frames": frames, "joints3d": joints3d}
        if "joints2d" in self.specs:
            if joints2d is None:
                raise DynaPoseError("this store needs joints2d for every clip", self.path)
            arrays["joints2d"] = joints2d
        for name, spec in self.specs.items():
            a = np.asarray(arrays[name])
            if a.shape != spec.tail:
                raise DynaPoseError(f"{name} has shape {a.shape}, expected {spec.tail}", self.path)
            if name == "frames":
                if a.dtype != np.uint8:
                    raise DynaPoseError(f"frames must be uint8, got {a.dtype}", self.path)
            elif not np.all(np.isfinite(a)):
                raise DynaPoseError(f"{name} holds NaN or infinite values", self.path)
            self._buffer[name].append(np.ascontiguousarray(a, dtype=spec.dtype))
        split = meta.get("split", "train")
        if split not in SPLITS:
            raise DynaPoseError(f"unknown split {split!r} (use one of {SPLITS})", self.path)
        self._buffer_meta.append(meta)
        if len(self._buffer_meta) >= self.geometry["chunk_clips"]:
            self._flush()

    def _flush(self) -> None:
        if not self._buffer_meta:
            return
        chunk = len(self.chunks)
        for name, spec in self.specs.items():
            target = self.partial / spec.chunk_file(chunk)
            with open(target, "wb") as f:
                for a in self._buffer[name]:
                    f.write(a.tobytes())
                f.flush()
                os.fsync(f.fileno())
            self._buffer[name].clear()
        n = len(self._buffer_meta)
        start = self.num_committed
        for i, m in enumerate(self._buffer_meta):
            # Columns in first-seen order (a set's order would follow PYTHONHASHSEED).
            for col in [*self.meta, *(c for c in m if c not in self.meta)]:
                if col not in self.meta:
                    self.meta[col] = [None] * (start + i)
                value = m.get(col, _default(col))
                self.meta[col].append(value.item() if isinstance(value, np.generic) else value)
        self._buffer_meta.clear()
        self.chunks.append(n)
        progress = {"geometry": self.geometry, "chunks": self.chunks, "meta": self.meta}
        atomic_write_text(self.partial / PROGRESS, json.dumps(progress))

    def close(self) -> Path:
        """Finish the store: flush, write metadata and manifest, move it into place."""
        if self._closed:
            return self.path
        self._flush()
        if self.num_committed == 0:
            raise DynaPoseError("no clips were written; refusing to create an empty store",
                                self.path)
        atomic_write_text(self.partial / METADATA, json.dumps(self.meta))
        manifest = {
            "format": FORMAT,
            "version": VERSION,
            "num_clips": self.num_committed,
            **self.geometry,
            "chunks": self.chunks,
            "arrays": {k: {"dtype": str(s.dtype), "shape": list(s.tail), "prefix": s.prefix}
                       for k, s in self.specs.items()},
            "attrs": self.attrs,
        }
        atomic_write_text(self.partial / MANIFEST, json.dumps(manifest, indent=1))
        (self.partial / PROGRESS).unlink(missing_ok=True)
        publish_dir(self.partial, self.path)
        self._closed = True
        return self.path

    def __enter__(self) -> ClipStoreWriter:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self.close()
            return
        self._closed = True
        if isinstance(exc, Exception):
            # Bad input or a failure: nothing half-written stays behind.
            shutil.rmtree(self.partial, ignore_errors=True)
        # An interruption (KeyboardInterrupt, SIGTERM as SystemExit) keeps the partial folder
        # so that a writer opened with resume=True can continue; STORE itself is untouched.


#: Types of the manifest's fields (a manifest written by another version may hold more).
MANIFEST_SCHEMA: dict[str, Any] = {
    "format": str, "version": int, "num_clips": int, "clip_len": int, "height": int,
    "width": int, "joints2d": bool, "chunk_clips": int, "chunks": list[int],
    "arrays": dict[str, Any], "attrs": dict[str, Any],
}
MANIFEST_REQUIRED = ("num_clips", "clip_len", "height", "width", "joints2d", "chunk_clips",
                     "chunks")
#: Largest single metadata or manifest file read (its JSON is parsed whole).
MAX_JSON_BYTES = 1 << 30


def _read_json(path: Path) -> Any:
    """Parse the JSON file `path`; DynaPoseError naming it when missing or malformed."""
    try:
        if path.stat().st_size > MAX_JSON_BYTES:
            raise DynaPoseError(f"larger than {MAX_JSON_BYTES} bytes", path)
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise DynaPoseError(f"unreadable clip store file ({exc})", path) from exc


def _check_geometry(store: ClipStore, manifest: Path) -> None:
    """The manifest's numbers must describe a store a writer could have made."""
    if min(store.clip_len, store.height, store.width, store.chunk_clips, store.num_clips) < 1:
        raise DynaPoseError("clip_len, height, width, chunk_clips and num_clips must be >= 1",
                            manifest)
    if sum(store.chunks) != store.num_clips:
        raise DynaPoseError("manifest chunk counts do not add up", manifest)
    full, last = store.chunks[:-1], store.chunks[-1] if store.chunks else 0
    if any(n != store.chunk_clips for n in full) or not 1 <= last <= store.chunk_clips:
        raise DynaPoseError(f"manifest chunks {store.chunks[:5]}... are not full chunks of "
                            f"{store.chunk_clips} clips and a last one", manifest)


def _default(col: str) -> Any:
    return {"start": -1, "split": "train"}.get(col, "")


class ClipStore:
    """Read-only access to a complete store. Cheap to open; safe to use from worker processes."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        if not self.path.exists():
            if partial_path(self.path).exists():
                raise DynaPoseError(
                    "store is incomplete: its writing was interrupted (found "
                    f"{partial_path(self.path).name}); write it again or resume it",
                    self.path,
                )
            raise DynaPoseError("clip store not found", self.path)
        manifest_file = self.path / MANIFEST
        if not manifest_file.is_file():
            raise DynaPoseError(f"not a complete clip store: no {MANIFEST}", self.path)
        manifest = _read_json(manifest_file)
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise DynaPoseError(f"not a clip store manifest (format is not {FORMAT})",
                                manifest_file)
        check_mapping(manifest, MANIFEST_SCHEMA, manifest_file, "the manifest",
                      required=MANIFEST_REQUIRED, known_only=False)
        self.manifest = manifest
        self.num_clips = int(manifest["num_clips"])
        self.clip_len = int(manifest["clip_len"])
        self.height = int(manifest["height"])
        self.width = int(manifest["width"])
        self.chunk_clips = int(manifest["chunk_clips"])
        self.chunks = [int(n) for n in manifest["chunks"]]
        self.attrs: dict[str, Any] = manifest.get("attrs", {})
        _check_geometry(self, manifest_file)
        self.specs = _specs(self.clip_len, self.height, self.width, bool(manifest["joints2d"]))
        metadata_file = self.path / METADATA
        self.meta_columns: dict[str, list[Any]] = _read_json(metadata_file)
        check_mapping(self.meta_columns, {}, metadata_file, "the metadata", known_only=False)
        for col, values in self.meta_columns.items():
            if not isinstance(values, list) or len(values) != self.num_clips:
                raise DynaPoseError(f"metadata column {col!r} is not a list of {self.num_clips} "
                                    "values", metadata_file)
        if "split" not in self.meta_columns:
            raise DynaPoseError("metadata has no 'split' column", metadata_file)
        bad = next((v for v in self.meta_columns["split"] if v not in SPLITS), None)
        if bad is not None:
            raise DynaPoseError(f"metadata column 'split' holds {bad!r} (expected one of "
                                f"{', '.join(SPLITS)})", metadata_file)
        self._check_files()
        self._fds: dict[str, int] = {}
        self._pid = -1

    def check_finite(self, indices: Iterable[int] | None = None) -> None:
        """Refuse a store whose joints (3D, and 2D where stored) hold NaN or infinite values in
        the clips `indices` (all when None): the writer refuses them, so such a store was made
        or changed by something else. Reads only the joint arrays, one chunk at a time."""
        wanted = None
        if indices is not None:
            wanted = np.zeros(self.num_clips, dtype=bool)
            wanted[np.asarray(list(indices), dtype=np.int64)] = True
        start = 0
        for chunk, n in enumerate(self.chunks):
            for name in ("joints3d", "joints2d"):
                if name not in self.specs or n == 0:
                    continue
                spec = self.specs[name]
                f = self.path / spec.chunk_file(chunk)
                values = np.fromfile(f, dtype=spec.dtype).reshape(n, -1)
                ok = np.isfinite(values).all(axis=1)
                if wanted is not None:
                    ok |= ~wanted[start:start + n]
                if not ok.all():
                    clip = start + int(np.flatnonzero(~ok)[0])
                    raise DynaPoseError(f"{name} of clip {clip} hold NaN or infinite values "
                                        "(the store was altered after it was written)", f)
            start += n

    def _check_files(self) -> None:
        for chunk, n in enumerate(self.chunks):
            for spec in self.specs.values():
                f = self.path / spec.chunk_file(chunk)
                try:
                    size = f.stat().st_size
                except OSError as exc:
                    raise DynaPoseError("store chunk is missing", f) from exc
                if size != n * spec.clip_bytes:
                    raise DynaPoseError(
                        f"store chunk is truncated or corrupt ({size} bytes, expected "
                        f"{n * spec.clip_bytes})",
                        f,
                    )

    def __len__(self) -> int:
        return self.num_clips

    @property
    def has_joints2d(self) -> bool:
        return "joints2d" in self.specs

    def column(self, name: str) -> np.ndarray:
        """One metadata column as an array (object dtype for strings)."""
        if name not in self.meta_columns:
            raise DynaPoseError(f"store has no metadata column {name!r}", self.path)
        values = self.meta_columns[name]
        return np.asarray(values, dtype=object if isinstance(values[0], str) else None)

    def indices(self, split: str | Sequence[str] | None = None) -> np.ndarray:
        """Indices of the clips in `split` (all clips when None)."""
        if split is None:
            return np.arange(self.num_clips)
        wanted = {split} if isinstance(split, str) else set(split)
        return np.flatnonzero([s in wanted for s in self.meta_columns["split"]])

    def _locate(self, index: int) -> tuple[int, int]:
        if not 0 <= index < self.num_clips:
            raise IndexError(f"clip {index} out of range (store has {self.num_clips})")
        return divmod(index, self.chunk_clips)

    def _fd(self, name: str, chunk: int) -> int:
        if self._pid != os.getpid():  # a forked worker must not share file offsets/handles
            self._fds, self._pid = {}, os.getpid()
        key = f"{name}:{chunk}"
        fd = self._fds.get(key)
        if fd is None:
            fd = os.open(self.path / self.specs[name].chunk_file(chunk), os.O_RDONLY)
            self._fds[key] = fd
        return fd

    def read(self, name: str, index: int) -> np.ndarray:
        """Array `name` ('frames', 'joints3d' or 'joints2d') of clip `index`."""
        if name not in self.specs:
            raise DynaPoseError(f"store has no {name!r} array", self.path)
        spec = self.specs[name]
        chunk, offset = self._locate(int(index))
        buf = os.pread(self._fd(name, chunk), spec.clip_bytes, offset * spec.clip_bytes)
        if len(buf) != spec.clip_bytes:
            raise DynaPoseError("short read: store chunk truncated", self.path)
        return np.frombuffer(bytearray(buf), dtype=spec.dtype).reshape(spec.tail)

    def read_into(self, name: str, index: int, out: np.ndarray) -> None:
        """Read array `name` of clip `index` into `out` (C-contiguous, right shape and dtype)."""
        spec = self.specs[name]
        chunk, offset = self._locate(int(index))
        # ndarray has the buffer protocol; numpy's stubs declare __buffer__ only on Python >= 3.12
        view = memoryview(out).cast("B")  # type: ignore[arg-type]
        got = os.preadv(self._fd(name, chunk), [view], offset * spec.clip_bytes)
        if got != spec.clip_bytes:
            raise DynaPoseError("short read: store chunk truncated", self.path)

    def clip(self, index: int) -> dict[str, Any]:
        """Everything about clip `index`: its arrays plus its metadata."""
        out: dict[str, Any] = {name: self.read(name, index) for name in self.specs}
        out.update({col: values[index] for col, values in self.meta_columns.items()})
        return out

    def iter_joints3d(self, indices: Iterable[int] | None = None) -> Iterable[np.ndarray]:
        """Joints (T, 17, 3) of each clip in `indices`, without touching the frames."""
        for i in range(self.num_clips) if indices is None else indices:
            yield self.read("joints3d", int(i))

    def close(self) -> None:
        for fd in self._fds.values():
            os.close(fd)
        self._fds = {}

    def __del__(self) -> None:
        try:
            if self._pid == os.getpid():
                self.close()
        except Exception:
            pass

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_fds"], state["_pid"] = {}, -1
        return state
