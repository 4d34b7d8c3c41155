"""Human3.6M in the forms people have it: readers for three layouts.

* :class:`OfficialLayout` -- the release from the dataset's site::

      ROOT/S1/Videos/<Action>.<camera>.mp4
      ROOT/S1/MyPoseFeatures/D3_Positions/<Action>.cdf              world frame, mm
      ROOT/S1/MyPoseFeatures/D3_Positions_mono/<Action>.<camera>.cdf camera frame, mm
      ROOT/S1/MyPoseFeatures/D2_Positions/<Action>.<camera>.cdf      image, px

  Each CDF holds a variable ``Pose`` shaped (1, T, 32*d). The release has no camera file: the
  published calibration (:mod:`dynapose.data.h36m_cameras`) is used, or a ``cameras.h5``.
* :class:`BaselineLayout` -- 3d-pose-baseline's ``h36m.zip``: ``cameras.h5``,
  ``S*/MyPoses/3D_positions/<Action>.h5`` (``3D_positions``, (96, T), world mm) and
  ``S*/StackedHourglass/<Action>.<camera>.h5`` (``poses``, (T, 16, 2) px, MPII-16 order).
* :func:`load_npz_3d` / :func:`load_npz_2d` -- VideoPose3D's ``data_3d_h36m.npz`` (world,
  **metres**, returned here in mm) and ``data_2d_h36m_*.npz`` (px, with its metadata). Their
  pickles are read by an unpickler that admits only plain data (dicts, lists, strings, numbers,
  numpy arrays), so a crafted file cannot run code.

All positions come back as float64 (T, 32, 3) mm or (T, 32, 2) px in Human3.6M's 32-joint order;
:data:`dynapose.skeleton.H36M_32_TO_17` picks the 17 DynaPose joints. Everything is 50 fps.

Kept as one module: the three layouts share the frame counts, names and 32-joint conventions
that make their readers return the same arrays.
"""

from __future__ import annotations

import io
import math
import os
import pickle
import re
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from dynapose.camera import Camera
from dynapose.data import h36m_cameras
from dynapose.data.h36m_cameras import CAMERA_IDS
from dynapose.errors import DynaPoseError
from dynapose.io.npy import npz_member, read_header, read_npz_member

FPS = 50
TRAIN_SUBJECTS: tuple[str, ...] = ("S1", "S5", "S6", "S7", "S8")
TEST_SUBJECTS: tuple[str, ...] = ("S9", "S11")
SUBJECTS: tuple[str, ...] = TRAIN_SUBJECTS + TEST_SUBJECTS
#: Videos known to be corrupt in the official release: (subject, action, camera id).
CORRUPT_VIDEOS: frozenset[tuple[str, str, str]] = frozenset({("S11", "Directions", "54138969")})
#: Some video files are named differently from their poses (S1's "TakingPhoto"/"WalkingDog").
VIDEO_ALIASES: dict[str, str] = {"Photo": "TakingPhoto", "WalkDog": "WalkingDog"}

#: The MPII-16 order of Stacked-Hourglass detections, and the DynaPose joint each one is.
MPII16_NAMES: tuple[str, ...] = ("RAnk", "RKnee", "RHip", "LHip", "LKnee", "LAnk", "Hip", "Spine",
                                 "Thorax", "Head", "RWri", "RElb", "RSho", "LSho", "LElb", "LWri")
MPII16_TO_17: tuple[int, ...] = (3, 2, 1, 4, 5, 6, 0, 7, 8, 10, 16, 15, 14, 11, 12, 13)


def split_of(subject: str) -> str:
    """The standard split of a subject: 'train' (S1, S5-S8) or 'test' (S9, S11)."""
    return "test" if subject in TEST_SUBJECTS else "train"


def _subject_key(subject: str) -> tuple[int, str]:
    m = re.fullmatch(r"S(\d+)", subject)
    return (int(m.group(1)) if m else 10**6, subject)


# -- official release: CDF files ---------------------------------------------------------------
def read_cdf_pose(path: str | os.PathLike[str], dims: int) -> np.ndarray:
    """The ``Pose`` variable of a Human3.6M CDF file as float64 (T, 32, dims).

    dims is 3 for D3_Positions / D3_Positions_mono (mm) and 2 for D2_Positions (px).
    """
    import cdflib  # only for the raw release's CDF files: an optional-weight import

    path = Path(path)
    if not path.is_file():
        raise DynaPoseError("pose file not found", path)
    try:
        cdf = cdflib.CDF(str(path))
        variables = list(cdf.cdf_info().zVariables) + list(cdf.cdf_info().rVariables)
    except Exception as exc:
        raise DynaPoseError(f"not a readable CDF file ({exc})", path) from exc
    if "Pose" not in variables:
        raise DynaPoseError(
            f"CDF file has no 'Pose' variable (it has: {', '.join(variables) or 'none'})", path
        )
    try:
        pose = np.asarray(cdf.varget("Pose"), dtype=np.float64)
    except Exception as exc:
        raise DynaPoseError(f"cannot read the 'Pose' variable ({exc})", path) from exc
    if pose.ndim == 3 and pose.shape[0] == 1:
        pose = pose[0]
    if pose.ndim != 2 or pose.shape[1] != 32 * dims or pose.shape[0] == 0:
        raise DynaPoseError(
            f"'Pose' has shape {pose.shape}, expected (1, T, {32 * dims}) with T > 0", path
        )
    if not np.all(np.isfinite(pose)):
        raise DynaPoseError("'Pose' holds NaN or infinite values", path)
    return pose.reshape(len(pose), 32, dims)


def cdf_pose_frames(path: str | os.PathLike[str], dims: int) -> int:
    """Number of frames T of a CDF file's ``Pose`` variable, read from its header only."""
    import cdflib  # only for the raw release's CDF files: an optional-weight import

    path = Path(path)
    try:
        info = cdflib.CDF(str(path)).varinq("Pose")
        sizes, records = list(info.Dim_Sizes), int(info.Last_Rec) + 1
    except Exception:  # missing, unreadable, no Pose: let the full reader name the problem
        return len(read_cdf_pose(path, dims))
    if sizes == [32 * dims]:
        return records
    if len(sizes) == 2 and sizes[1] == 32 * dims and records == 1 and sizes[0] > 0:
        return int(sizes[0])
    return len(read_cdf_pose(path, dims))


def _split_name(stem: str) -> tuple[str, str | None]:
    """'Walking 1.54138969' -> ('Walking 1', '54138969'); 'Walking' -> ('Walking', None)."""
    action, dot, cam = stem.rpartition(".")
    if dot and cam.isdigit():
        return action, cam
    return stem, None


def _subject_folder(root: Path, subject: str) -> Path:
    """``root/subject``, which must exist (a one-line error naming it otherwise)."""
    path = root / subject
    if not path.is_dir():
        raise DynaPoseError(f"subject folder {subject} is missing", path)
    return path


class OfficialLayout:
    """The official Human3.6M release under `root` (see the module docstring).

    `cameras` maps (subject, camera id) to a :class:`Camera`; by default the published
    calibration. Pass :func:`read_cameras_h5`'s result to use a ``cameras.h5`` instead.
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        cameras: dict[tuple[str, str], Camera] | None = None,
    ) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise DynaPoseError("Human3.6M folder not found", self.root)
        self._cameras = cameras

    def subjects(self) -> list[str]:
        """Subject folders present (S1, S5, ...), in numeric order."""
        found = [p.name for p in self.root.iterdir()
                 if p.is_dir() and re.fullmatch(r"S\d+", p.name)]
        return sorted(found, key=_subject_key)

    def subject_dir(self, subject: str) -> Path:
        return _subject_folder(self.root, subject)

    def _features(self, subject: str, kind: str) -> Path:
        return self.subject_dir(subject) / "MyPoseFeatures" / kind

    def actions(self, subject: str) -> list[str]:
        """Actions with world-frame 3D poses (D3_Positions), else with camera-frame ones."""
        d3 = self._features(subject, "D3_Positions")
        if d3.is_dir():
            names = {p.stem for p in d3.glob("*.cdf")}
        else:
            mono = self._features(subject, "D3_Positions_mono")
            names = {_split_name(p.stem)[0] for p in mono.glob("*.cdf")} if mono.is_dir() else set()
        if not names:
            raise DynaPoseError(
                "no 3D poses found (expected MyPoseFeatures/D3_Positions/*.cdf or "
                "D3_Positions_mono/*.cdf)",
                self.subject_dir(subject),
            )
        return sorted(names)

    def check_camera_ids(self, subject: str) -> None:
        """Refuse a video or per-camera pose file whose name carries an unknown camera id."""
        sub = self.subject_dir(subject)
        dirs = [sub / "Videos", sub / "MyPoseFeatures" / "D3_Positions_mono",
                sub / "MyPoseFeatures" / "D2_Positions"]
        for d in dirs:
            if not d.is_dir():
                continue
            for f in sorted(d.iterdir()):
                if f.suffix.lower() not in (".mp4", ".cdf"):
                    continue
                _, cam = _split_name(f.stem)
                if cam is not None and cam not in CAMERA_IDS:
                    raise DynaPoseError(
                        f"unknown camera id {cam} (Human3.6M cameras: {', '.join(CAMERA_IDS)})", f
                    )

    def camera(self, subject: str, camera_id: str) -> Camera:
        """The calibration of `camera_id` for `subject`."""
        if self._cameras is None:
            return h36m_cameras.camera(subject, camera_id)
        try:
            return self._cameras[(subject, camera_id)]
        except KeyError:
            raise DynaPoseError(
                f"no calibration for subject {subject} camera {camera_id}", self.root
            ) from None

    def world_path(self, subject: str, action: str) -> Path:
        return self._features(subject, "D3_Positions") / f"{action}.cdf"

    def mono_path(self, subject: str, action: str, camera_id: str) -> Path:
        return self._features(subject, "D3_Positions_mono") / f"{action}.{camera_id}.cdf"

    def d2_path(self, subject: str, action: str, camera_id: str) -> Path:
        return self._features(subject, "D2_Positions") / f"{action}.{camera_id}.cdf"

    def world_positions(self, subject: str, action: str) -> np.ndarray:
        """(T, 32, 3) world frame, mm."""
        return read_cdf_pose(self.world_path(subject, action), 3)

    def camera_positions(self, subject: str, action: str, camera_id: str) -> np.ndarray:
        """(T, 32, 3) camera frame, mm: D3_Positions_mono, else D3_Positions through the camera."""
        mono = self.mono_path(subject, action, camera_id)
        if mono.is_file():
            return read_cdf_pose(mono, 3)
        world = self.world_positions(subject, action)
        return self.camera(subject, camera_id).world_to_camera(world)

    def image_positions(
        self, subject: str, action: str, camera_id: str, camera_positions: np.ndarray | None = None
    ) -> np.ndarray:
        """(T, 32, 2) px: D2_Positions, else the camera-frame joints projected with distortion."""
        d2 = self.d2_path(subject, action, camera_id)
        if d2.is_file():
            return read_cdf_pose(d2, 2)
        if camera_positions is None:
            camera_positions = self.camera_positions(subject, action, camera_id)
        return self.camera(subject, camera_id).project(camera_positions)

    def video_path(self, subject: str, action: str, camera_id: str) -> Path:
        """The video of (subject, action, camera); error if it is missing."""
        videos = self.subject_dir(subject) / "Videos"
        path = videos / f"{action}.{camera_id}.mp4"
        if path.is_file():
            return path
        base, space, number = action.partition(" ")
        if base in VIDEO_ALIASES:
            alias = videos / f"{VIDEO_ALIASES[base]}{space}{number}.{camera_id}.mp4"
            if alias.is_file():
                return alias
        raise DynaPoseError("video not found", path)


# -- 3d-pose-baseline layout: HDF5 files ------------------------------------------------------
def read_cameras_h5(path: str | os.PathLike[str]) -> dict[tuple[str, str], Camera]:
    """3d-pose-baseline's ``cameras.h5`` -> {(subject, camera id): Camera}.

    The file stores ``R`` transposed (X_cam = R_stored.T @ (X_world - T)); it is transposed back
    here. Camera ids come from each camera's ``Name`` (character codes); image sizes from
    :mod:`h36m_cameras`.
    """
    import h5py  # only for the .h5 layouts: h5py is slow to import

    path = Path(path)
    if not path.is_file():
        raise DynaPoseError("cameras.h5 not found", path)
    cameras: dict[tuple[str, str], Camera] = {}
    try:
        with h5py.File(path, "r") as f:
            for group in sorted(f):
                m = re.fullmatch(r"subject(\d+)", group)
                if not m:
                    continue
                subject = f"S{m.group(1)}"
                for cam_group in sorted(f[group]):
                    g = f[group][cam_group]
                    name = "".join(chr(int(v)) for v in np.asarray(g["Name"]).ravel())
                    if name not in CAMERA_IDS:
                        raise DynaPoseError(
                            f"unknown camera id {name!r} in {group}/{cam_group} (Human3.6M "
                            f"cameras: {', '.join(CAMERA_IDS)})",
                            path,
                        )
                    width, height = h36m_cameras.INTRINSICS[name][4]
                    cameras[(subject, name)] = Camera(
                        R=np.asarray(g["R"], dtype=np.float64).T,
                        T=np.asarray(g["T"], dtype=np.float64).ravel(),
                        f=np.asarray(g["f"], dtype=np.float64).ravel(),
                        c=np.asarray(g["c"], dtype=np.float64).ravel(),
                        k=np.asarray(g["k"], dtype=np.float64).ravel(),
                        p=np.asarray(g["p"], dtype=np.float64).ravel(),
                        width=int(width),
                        height=int(height),
                        name=name,
                    )
    except DynaPoseError:
        raise
    except (OSError, KeyError, ValueError) as exc:
        raise DynaPoseError(f"not a readable cameras.h5 ({exc})", path) from exc
    if not cameras:
        raise DynaPoseError("cameras.h5 holds no subject<N>/camera<M> groups", path)
    return cameras


def _read_h5(path: Path, dataset: str) -> np.ndarray:
    import h5py  # only for the .h5 layouts: h5py is slow to import

    if not path.is_file():
        raise DynaPoseError("pose file not found", path)
    try:
        with h5py.File(path, "r") as f:
            if dataset not in f:
                raise DynaPoseError(f"HDF5 file has no {dataset!r} dataset", path)
            data = np.asarray(f[dataset], dtype=np.float64)
    except DynaPoseError:
        raise
    except OSError as exc:
        raise DynaPoseError(f"not a readable HDF5 file ({exc})", path) from exc
    if not np.all(np.isfinite(data)):
        raise DynaPoseError(f"{dataset!r} holds NaN or infinite values", path)
    return data


class BaselineLayout:
    """3d-pose-baseline's layout under `root`: cameras.h5 plus per-subject HDF5 files."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise DynaPoseError("Human3.6M folder not found", self.root)
        self._cameras: dict[tuple[str, str], Camera] | None = None

    @property
    def cameras(self) -> dict[tuple[str, str], Camera]:
        if self._cameras is None:
            self._cameras = read_cameras_h5(self.root / "cameras.h5")
        return self._cameras

    def camera(self, subject: str, camera_id: str) -> Camera:
        if camera_id not in CAMERA_IDS:
            raise DynaPoseError(
                f"unknown camera id {camera_id} (Human3.6M cameras: {', '.join(CAMERA_IDS)})",
                self.root / "cameras.h5",
            )
        try:
            return self.cameras[(subject, camera_id)]
        except KeyError:
            raise DynaPoseError(
                f"no calibration for subject {subject} camera {camera_id}", self.root / "cameras.h5"
            ) from None

    def subjects(self) -> list[str]:
        found = [p.name for p in self.root.iterdir()
                 if re.fullmatch(r"S\d+", p.name) and (p / "MyPoses" / "3D_positions").is_dir()]
        return sorted(found, key=_subject_key)

    def subject_dir(self, subject: str) -> Path:
        return _subject_folder(self.root, subject)

    def actions(self, subject: str) -> list[str]:
        d = self.subject_dir(subject) / "MyPoses" / "3D_positions"
        names = sorted(p.stem for p in d.glob("*.h5")) if d.is_dir() else []
        if not names:
            raise DynaPoseError("no 3D poses found (expected MyPoses/3D_positions/*.h5)",
                                self.subject_dir(subject))
        return names

    def world_positions(self, subject: str, action: str) -> np.ndarray:
        """(T, 32, 3) world frame, mm (the file stores (96, T))."""
        path = self.subject_dir(subject) / "MyPoses" / "3D_positions" / f"{action}.h5"
        data = _read_h5(path, "3D_positions")
        if data.ndim != 2 or data.shape[0] != 96 or data.shape[1] == 0:
            raise DynaPoseError(f"'3D_positions' has shape {data.shape}, expected (96, T)", path)
        return data.T.reshape(-1, 32, 3)

    def detections(self, subject: str, action: str, camera_id: str) -> np.ndarray:
        """Stacked-Hourglass 2D detections (T, 16, 2) px, MPII-16 order (:data:`MPII16_NAMES`)."""
        path = self.subject_dir(subject) / "StackedHourglass" / f"{action}.{camera_id}.h5"
        data = _read_h5(path, "poses")
        if data.ndim != 3 or data.shape[1:] != (16, 2):
            raise DynaPoseError(f"'poses' has shape {data.shape}, expected (T, 16, 2)", path)
        return data


# -- VideoPose3D layout: npz files holding pickles ----------------------------------------------
def _numpy_multiarray() -> Any:
    try:
        from numpy._core import multiarray  # where pickles' ndarray reconstructor lives (numpy 2)
    except ImportError:  # numpy < 2
        from numpy.core import multiarray  # type: ignore[no-redef]
    return multiarray


def _latin1(text: str, encoding: str = "latin1", errors: str = "strict") -> bytes:
    """``_codecs.encode`` as protocol-2 pickles use it for bytes: latin-1 only (another codec,
    such as hex, would let a pickle double a string's size with every call)."""
    if not isinstance(text, str) or encoding.replace("-", "").lower() != "latin1":
        raise pickle.UnpicklingError(f"refused _codecs.encode with {encoding!r}")
    return text.encode("latin-1", errors)


class _PickledArray(np.ndarray):
    """The ndarray a pickle rebuilds, with its state checked before numpy sizes it: raw data
    whose length matches the shape, or (object arrays) a list with one item per element. A
    crafted shape can thus never ask for more memory than the pickle itself holds."""

    def __setstate__(self, state: Any) -> None:
        if not (isinstance(state, tuple) and len(state) == 5 and isinstance(state[1], tuple)
                and isinstance(state[2], np.dtype)):
            raise pickle.UnpicklingError("refused an ndarray state that is not plain data")
        _, shape, dtype, _, raw = state
        count = math.prod(int(n) for n in shape) if all(
            isinstance(n, int) and n >= 0 for n in shape) else -1
        if dtype.hasobject:
            ok = isinstance(raw, list) and len(raw) == count
        else:
            ok = isinstance(raw, (bytes, bytearray)) and len(raw) == count * dtype.itemsize
        if not ok:
            raise pickle.UnpicklingError(f"refused an ndarray state: shape {shape} {dtype} "
                                         "does not match the data it carries")
        super().__setstate__(state)


def _reconstruct(cls: Any, shape: Any, typecode: Any) -> np.ndarray:
    """numpy's pickle reconstructor, for ndarray only, starting empty (the state fills it)."""
    if cls is not _ArrayClass:
        raise pickle.UnpicklingError(f"refused to rebuild {cls!r}")
    return _PickledArray((0,), dtype=np.uint8)


def _new_array(*args: Any, **kwargs: Any) -> np.ndarray:
    """``numpy.ndarray(...)`` called by a pickle: only with a buffer (no allocation)."""
    raise pickle.UnpicklingError("refused numpy.ndarray(...): arrays are rebuilt from data only")


def _plain_globals() -> dict[tuple[str, str], Any]:
    ma = _numpy_multiarray()
    allowed: dict[tuple[str, str], Any] = {
        ("numpy", "ndarray"): _PickledArray,
        ("numpy", "dtype"): np.dtype,
        ("_codecs", "encode"): _latin1,  # bytes in protocol-2 pickles
    }
    for module in ("numpy.core.multiarray", "numpy._core.multiarray"):
        allowed[(module, "_reconstruct")] = _reconstruct
        allowed[(module, "scalar")] = ma.scalar
    return allowed


class _PlainDataUnpickler(pickle.Unpickler):
    """Admits dicts, lists, tuples, strings, numbers and numpy arrays; refuses any other global.

    Arrays are rebuilt through :class:`_PickledArray`, whose size is checked against the data
    the pickle carries before memory is asked for; ``numpy.ndarray(shape)`` called directly
    (allocation from the file's numbers alone) is refused."""

    _allowed = _plain_globals()

    def find_class(self, module: str, name: str) -> Any:
        try:
            found = self._allowed[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(
                f"refused {module}.{name}: the pickle is not plain data"
            ) from None
        if found is _PickledArray:
            return _ArrayClass
        return found


class _ArrayClassMeta(type):
    """``numpy.ndarray`` as a pickle sees it: passing it to ``_reconstruct`` is allowed,
    calling it (``REDUCE numpy.ndarray (shape,)``) is refused."""

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        return _new_array(*args, **kwargs)


class _ArrayClass(metaclass=_ArrayClassMeta):
    pass


def _plain(value: Any) -> Any:
    """`value` with every :class:`_PickledArray` turned into a plain ndarray (a view)."""
    if isinstance(value, _PickledArray):
        plain = value.view(np.ndarray)
        if plain.dtype.hasobject:
            plain = plain.copy()
            flat = plain.reshape(-1)
            for i, item in enumerate(flat):
                flat[i] = _plain(item)
        return plain
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_plain(v) for v in value)
    return value


def load_plain_pickle(stream: io.BufferedIOBase | Any) -> Any:
    """Unpickle `stream` admitting only plain data; raises pickle.UnpicklingError otherwise."""
    try:
        return _plain(_PlainDataUnpickler(stream).load())
    except RecursionError as exc:
        raise pickle.UnpicklingError("the pickle is nested too deeply") from exc


def read_npz_entry(path: str | os.PathLike[str], key: str) -> Any:
    """Entry `key` of an .npz file; an object array holding a pickle is read as plain data only.

    A 0-d object array is returned as the object it holds (as numpy's ``.item()``). Sizes are
    checked against the bytes the file holds before memory is asked for
    (:mod:`dynapose.io.npy`).
    """
    path = Path(path)
    member = npz_member(path, key)
    try:
        with zipfile.ZipFile(path) as archive:
            info = archive.getinfo(member)
            with archive.open(info) as f:
                _, _, dtype = read_header(f, path, f"entry {key!r}")
            if not dtype.hasobject:
                return read_npz_member(archive, info, path, f"entry {key!r}")
            with archive.open(info) as f:
                read_header(f, path, f"entry {key!r}")
                value = load_plain_pickle(f)
    except pickle.UnpicklingError as exc:
        raise DynaPoseError(f"refused to load {key!r}: {exc}", path) from exc
    except (ValueError, EOFError, OSError, zipfile.BadZipFile, TypeError, KeyError,
            IndexError, AttributeError, OverflowError, NotImplementedError,
            RuntimeError, zlib.error) as exc:
        # A corrupt pickle fails in many ways inside the unpickler; none of them runs code.
        raise DynaPoseError(f"unreadable entry {key!r} ({type(exc).__name__}: "
                            f"{' '.join(str(exc).split())[:200]})", path) from exc
    if isinstance(value, np.ndarray) and value.dtype.hasobject and value.shape == ():
        value = value.item()
    return value


def _check_nested(value: Any, path: Path, key: str) -> dict[str, dict[str, Any]]:
    ok = isinstance(value, dict) and all(
        isinstance(s, str) and isinstance(acts, dict) and all(isinstance(a, str) for a in acts)
        for s, acts in value.items()
    )
    if not ok:
        raise DynaPoseError(f"{key!r} is not a {{subject: {{action: ...}}}} dict", path)
    return value


def load_npz_3d(path: str | os.PathLike[str]) -> dict[str, dict[str, np.ndarray]]:
    """VideoPose3D's ``positions_3d``: {subject: {action: (T, 32, 3) float64 world mm}}.

    The file stores metres; they are converted to millimetres here.
    """
    path = Path(path)
    data = _check_nested(read_npz_entry(path, "positions_3d"), path, "positions_3d")
    out: dict[str, dict[str, np.ndarray]] = {}
    for subject, actions in data.items():
        out[subject] = {}
        for action, pos in actions.items():
            if not (isinstance(pos, np.ndarray) and pos.ndim == 3 and pos.shape[2] == 3
                    and pos.dtype.kind == "f" and len(pos) > 0):
                shape = getattr(pos, "shape", type(pos).__name__)
                raise DynaPoseError(
                    f"positions_3d[{subject!r}][{action!r}] is {shape}, expected (T, J, 3) floats",
                    path,
                )
            if not np.isfinite(pos).all():
                bad = int(np.flatnonzero(~np.isfinite(pos).reshape(len(pos), -1).all(1))[0])
                raise DynaPoseError(f"positions_3d[{subject!r}][{action!r}] holds NaN or "
                                    f"infinite values (first at frame {bad})", path)
            out[subject][action] = pos.astype(np.float64) * 1000.0
    return out


def load_npz_2d(
    path: str | os.PathLike[str], keep_confidence: bool = False,
) -> tuple[dict[str, dict[str, list[np.ndarray]]], dict[str, Any]]:
    """VideoPose3D 2D keypoints: ({subject: {action: [per camera (T, J, 2) px]}}, metadata).

    Cameras are in :data:`CAMERA_IDS` order; `metadata` is the file's dict (``num_joints``,
    ``keypoints_symmetry``, ...). `keep_confidence` keeps a third channel (the detector's
    confidence) where the file has one: (T, J, 3).
    """
    path = Path(path)
    data = _check_nested(read_npz_entry(path, "positions_2d"), path, "positions_2d")
    metadata = read_npz_entry(path, "metadata")
    if not isinstance(metadata, dict):
        raise DynaPoseError("'metadata' is not a dict", path)
    out: dict[str, dict[str, list[np.ndarray]]] = {}
    for subject, actions in data.items():
        out[subject] = {}
        for action, per_cam in actions.items():
            arrays = list(per_cam) if isinstance(per_cam, (list, tuple)) else None
            if not arrays or not all(isinstance(a, np.ndarray) and a.ndim == 3
                                     and a.shape[2] >= 2 and a.dtype.kind in "fiu"
                                     for a in arrays):
                raise DynaPoseError(
                    f"positions_2d[{subject!r}][{action!r}] is not a list of (T, J, 2) arrays "
                    "of numbers",
                    path,
                )
            channels = 3 if keep_confidence else 2
            out[subject][action] = [a[..., :channels].astype(np.float64) for a in arrays]
    return out, metadata


# -- one interface over the layouts, for pose-only stores ---------------------------------------
def detect_layout(root: str | os.PathLike[str]) -> str:
    """'npz' (a VideoPose3D file), 'baseline' (cameras.h5 + MyPoses) or 'official'."""
    root = Path(root)
    if root.is_file():
        if root.suffix == ".npz":
            return "npz"
        raise DynaPoseError("not a Human3.6M folder or .npz file", root)
    if not root.is_dir():
        raise DynaPoseError("Human3.6M folder not found", root)
    subjects = [p for p in root.iterdir() if p.is_dir() and re.fullmatch(r"S\d+", p.name)]
    if any((p / "MyPoseFeatures").is_dir() or (p / "Videos").is_dir() for p in subjects):
        return "official"
    if (root / "cameras.h5").is_file() or any((p / "MyPoses").is_dir() for p in subjects):
        return "baseline"
    raise DynaPoseError(
        "no Human3.6M layout recognised (expected S*/MyPoseFeatures or S*/Videos, "
        "cameras.h5 with S*/MyPoses, or a VideoPose3D .npz file)",
        root,
    )
