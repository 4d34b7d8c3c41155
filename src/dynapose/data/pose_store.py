"""The pose store: 2D and 3D joints per frame of whole sequences, no images.

For models that lift 2D keypoints to 3D. One folder::

    STORE/
      manifest.json              written last: its presence means the store is complete
      00000.joints3d.npy         float32 (T, 17, 3) camera frame, mm
      00000.joints2d.npy         float32 (T, 17, 2) image pixels (full frame, not a crop)
      00001.joints3d.npy ...

``manifest.json`` lists one entry per sequence: subject, action, camera (id), split, fps,
frames, and the camera's intrinsics (f, c, k, p, width, height) and extrinsics (R world ->
camera, T centre in world mm), so 2D can be normalised or re-projected. Arrays are plain ``.npy``
read with ``allow_pickle=False``. The store is written in ``.STORE.partial/`` and renamed into
place when complete (nothing half-written is ever seen as a store).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from dynapose.camera import Camera
from dynapose.errors import DynaPoseError
from dynapose.io.atomic import atomic_write_text, check_output, publish_dir
from dynapose.io.npy import load_npy
from dynapose.schema import check_mapping
from dynapose.skeleton import NUM_JOINTS

FORMAT = "dynapose-pose-store"
VERSION = 1
MANIFEST = "manifest.json"


def _partial(path: Path) -> Path:
    return path.with_name(f".{path.name}.partial")


def _camera_entry(camera: Camera) -> dict[str, Any]:
    return {
        "camera": camera.name,
        "f": camera.f.tolist(), "c": camera.c.tolist(), "k": camera.k.tolist(),
        "p": camera.p.tolist(), "width": camera.width, "height": camera.height,
        "R": camera.R.tolist(), "T": camera.T.tolist(),
    }


#: Types of the manifest's fields and of each sequence's entry (more keys may be present).
MANIFEST_SCHEMA: dict[str, Any] = {"format": str, "version": int, "num_joints": int,
                                   "num_sequences": int, "num_frames": int,
                                   "attrs": dict[str, Any], "sequences": list[dict[str, Any]]}
SEQUENCE_SCHEMA: dict[str, Any] = {
    "subject": str, "action": str, "split": str, "fps": float, "frames": int, "camera": str,
    "f": list[float], "c": list[float], "k": list[float], "p": list[float], "width": int,
    "height": int, "R": list[list[float]], "T": list[float]}


class PoseStoreWriter:
    """Write a pose store; use as a context manager.

    >>> with PoseStoreWriter("poses") as w:
    ...     w.add(joints3d, joints2d, camera=cam, subject="S1", action="Walking", fps=50)

    On an exception the partial folder is removed and ``STORE`` is left untouched.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        overwrite: bool = False,
        attrs: dict[str, Any] | None = None,
    ) -> None:
        self.path = Path(path)
        check_output(self.path, folder=True, overwrite=overwrite)
        self.partial = _partial(self.path)
        shutil.rmtree(self.partial, ignore_errors=True)
        self.partial.mkdir(parents=True)
        self.attrs = dict(attrs or {})
        self.sequences: list[dict[str, Any]] = []
        self._closed = False

    def add(
        self,
        joints3d: np.ndarray,
        joints2d: np.ndarray,
        *,
        camera: Camera,
        subject: str,
        action: str,
        fps: float,
        split: str = "train",
        **meta: Any,
    ) -> None:
        """Add a sequence: joints3d (T, 17, 3) camera frame mm; joints2d (T, 17, 2) px."""
        j3 = np.asarray(joints3d, dtype=np.float32)
        j2 = np.asarray(joints2d, dtype=np.float32)
        if j3.ndim != 3 or j3.shape[1:] != (NUM_JOINTS, 3) or len(j3) == 0:
            raise DynaPoseError(f"joints3d has shape {j3.shape}, expected (T, 17, 3)", self.path)
        if j2.shape != (*j3.shape[:2], 2):
            raise DynaPoseError(
                f"joints2d has shape {j2.shape}, expected {(*j3.shape[:2], 2)}", self.path
            )
        if not (np.all(np.isfinite(j3)) and np.all(np.isfinite(j2))):
            raise DynaPoseError(f"{subject} {action}: joints hold NaN or infinite values",
                                self.path)
        index = len(self.sequences)
        for name, array in (("joints3d", j3), ("joints2d", j2)):
            with open(self.partial / f"{index:05d}.{name}.npy", "wb") as f:
                np.save(f, array, allow_pickle=False)
                f.flush()
                os.fsync(f.fileno())
        entry = {"subject": subject, "action": action, "split": split, "fps": float(fps),
                 "frames": len(j3), **_camera_entry(camera), **meta}
        self.sequences.append(entry)

    def close(self) -> Path:
        """Write the manifest and move the store into place."""
        if self._closed:
            return self.path
        if not self.sequences:
            shutil.rmtree(self.partial, ignore_errors=True)
            self._closed = True
            raise DynaPoseError("no sequences were written; refusing to create an empty store",
                                self.path)
        manifest = {
            "format": FORMAT, "version": VERSION, "num_joints": NUM_JOINTS,
            "num_sequences": len(self.sequences),
            "num_frames": sum(s["frames"] for s in self.sequences),
            "attrs": self.attrs, "sequences": self.sequences,
        }
        atomic_write_text(self.partial / MANIFEST, json.dumps(manifest, indent=1))
        publish_dir(self.partial, self.path)
        self._closed = True
        return self.path

    def abort(self) -> None:
        """Drop everything written so far."""
        shutil.rmtree(self.partial, ignore_errors=True)
        self._closed = True

    def __enter__(self) -> PoseStoreWriter:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def _shape(value: Any) -> tuple[int, ...] | None:
    try:
        return tuple(np.shape(value))
    except ValueError:  # ragged nested lists
        return None


class PoseStore:
    """Read-only access to a complete pose store."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        manifest_file = self.path / MANIFEST
        if not self.path.is_dir():
            raise DynaPoseError("pose store not found", self.path)
        if not manifest_file.is_file():
            raise DynaPoseError(f"not a complete pose store: no {MANIFEST}", self.path)
        try:
            manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError) as exc:
            raise DynaPoseError(f"unreadable pose store manifest ({exc})", manifest_file) from exc
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise DynaPoseError("not a pose store manifest (format is not "
                                f"{FORMAT})", manifest_file)
        check_mapping(manifest, MANIFEST_SCHEMA, manifest_file, "the manifest",
                      required=("sequences", "num_frames"), known_only=False)
        for i, entry in enumerate(manifest["sequences"]):
            check_mapping(entry, SEQUENCE_SCHEMA, manifest_file, f"sequence {i}",
                          required=tuple(SEQUENCE_SCHEMA), known_only=False,
                          prefix=f"sequences[{i}].")
            if entry["frames"] < 1 or entry["width"] < 1 or entry["height"] < 1:
                raise DynaPoseError(f"sequence {i}: frames, width and height must be >= 1",
                                    manifest_file)
            for key, size in (("R", (3, 3)), ("T", (3,)), ("f", (2,)), ("c", (2,)),
                              ("k", (3,)), ("p", (2,))):
                if _shape(entry[key]) != size:
                    raise DynaPoseError(f"sequences[{i}].{key} is not {size} numbers",
                                        manifest_file)
        self.manifest = manifest
        self.sequences: list[dict[str, Any]] = manifest["sequences"]
        self.attrs: dict[str, Any] = manifest.get("attrs", {})

    def __len__(self) -> int:
        return len(self.sequences)

    @property
    def num_frames(self) -> int:
        return int(self.manifest["num_frames"])

    def indices(self, split: str | None = None) -> list[int]:
        """Indices of the sequences in `split` (all when None)."""
        return [i for i, s in enumerate(self.sequences) if split is None or s["split"] == split]

    def _load(self, index: int, name: str) -> np.ndarray:
        if not 0 <= index < len(self.sequences):
            raise IndexError(f"sequence {index} out of range (store has {len(self.sequences)})")
        f = self.path / f"{index:05d}.{name}.npy"
        array = load_npy(f)  # header checked against the file's size first
        expected = (self.sequences[index]["frames"], NUM_JOINTS, 3 if name == "joints3d" else 2)
        if array.shape != expected:
            raise DynaPoseError(f"has shape {array.shape}, expected {expected}", f)
        if array.dtype.kind != "f" or not np.isfinite(array).all():
            raise DynaPoseError(f"holds {array.dtype} values that are not all finite numbers "
                                "(the store was altered after it was written)", f)
        return array

    def joints3d(self, index: int) -> np.ndarray:
        """float32 (T, 17, 3), camera frame, mm."""
        return self._load(index, "joints3d")

    def joints2d(self, index: int) -> np.ndarray:
        """float32 (T, 17, 2), image pixels."""
        return self._load(index, "joints2d")

    def camera(self, index: int) -> Camera:
        """The camera of sequence `index` (intrinsics and extrinsics)."""
        s = self.sequences[index]
        return Camera(R=np.asarray(s["R"]), T=np.asarray(s["T"]), f=np.asarray(s["f"]),
                      c=np.asarray(s["c"]), k=np.asarray(s["k"]), p=np.asarray(s["p"]),
                      width=int(s["width"]), height=int(s["height"]), name=s["camera"])
