"""2D keypoint sources for the lifter: files people bring, and MediaPipe on a video.

Every source returns a :class:`Keypoints2D`: ``pixels`` (F, 17, 2) float64 in the image's pixels
(x right, y down), Human3.6M joint order (:data:`dynapose.skeleton.JOINT_NAMES`); ``confidence``
(F, 17) float64 in [0, 1]; ``found`` (F,) bool. A frame with ``found`` False had no person: its
keypoints are NaN and its confidences 0 (a *gap*, not an error).

Sources (:func:`read_keypoints_file` picks one from the file):

* ``.npy`` / ``.npz`` with a ``keypoints`` entry: (F, 17, 2) pixels or (F, 17, 3) with a
  confidence last, already in Human3.6M order. A frame that is entirely NaN is a gap; a frame
  with only some NaN values, or any infinite value, is refused.
* COCO-17 JSON (``.json``), as detectors write it: the COCO *results* format, a list of
  ``{"image_id", "category_id", "keypoints": [x, y, v] * 17, "score"}``, or a COCO-style dict
  with ``annotations`` (same objects) and optionally ``images`` (``{"id", "file_name"}``).
  **Frames**: the frames are the images in ascending ``image_id`` order -- the ``images`` list's
  ids when it is given (images without a person are gaps), otherwise every integer from the
  smallest to the largest ``image_id`` in the file, read as consecutive frame numbers (a missing
  id is a gap; given the video's frame count, frames after the last id are gaps too; a person
  missing in the very first frames needs the ``images`` list). **People**: only
  ``category_id`` 1 (person) is used, when present; with several people in a frame, the one
  with the highest ``score`` (without a score: the highest mean ``v``). ``v`` is the keypoint's
  confidence, clipped to [0, 1] (COCO's labelled/visible flags 1 and 2 both read as 1; a point
  with v = 0 keeps its coordinates, with confidence 0). The COCO -> Human3.6M mapping is
  :data:`COCO_TO_H36M`.
* VideoPose3D 2D ``.npz`` (``positions_2d`` + ``metadata``): their Human3.6M detections
  (``positions_2d[subject][action][camera]``) and their custom-video layout from
  ``prepare_data_2d_custom.py`` (``positions_2d[video]['custom'] = [(T, 17, 2)]``,
  ``metadata['video_metadata'][video] = {'w', 'h'}``). ``metadata['layout_name']`` says the joint
  order: ``'h36m'`` (used as is) or ``'coco'`` (mapped by :data:`COCO_TO_H36M`, confidence 1).
  These files hold pickles: they are read only through the plain-data unpickler of
  :mod:`dynapose.data.h36m`, which refuses any code. Choose a sequence with ``sequence``:
  ``"subject/action/camera"`` (camera: index 0-3 or id, e.g. ``S9/Walking/54138969``) or the
  video name for the custom layout; a file with exactly one sequence needs none.
* MediaPipe BlazePose *full* (:func:`dynapose.inference.mediapipe.detect_keypoints_mediapipe`;
  ``mediapipe==0.10.21``, installed with DynaPose, the last release whose wheel ships the
  model): ``mediapipe.python.solutions.pose`` with ``model_complexity=1`` and
  ``static_image_mode=False`` over every frame. Its 33 landmarks map to the 17 joints by
  :data:`MEDIAPIPE_TO_H36M`; the confidence is the landmark's ``visibility``; a frame without a
  pose is a gap. MediaPipe's "left" is the person's left, as Human3.6M's.

Joint mapping (both detectors; COCO index / MediaPipe landmark)::

    H36M joint         COCO-17                 MediaPipe (33)
    0  pelvis          mid(11 l.hip, 12 r.hip) mid(23, 24)
    1  right hip       12                      24
    2  right knee      14                      26
    3  right ankle     16                      28
    4  left hip        11                      23
    5  left knee       13                      25
    6  left ankle      15                      27
    7  spine           mid(pelvis, thorax)     mid(pelvis, thorax)
    8  thorax          mid(5 l.sh, 6 r.sh)     mid(11, 12)
    9  neck/nose       0 nose                  0 nose
    10 head            head estimate           head estimate (eyes 2, 5; ears 7, 8)
    11 left shoulder   5                       11
    12 left elbow      7                       13
    13 left wrist      9                       15
    14 right shoulder  6                       12
    15 right elbow     8                       14
    16 right wrist     10                      16

Head estimate (Human3.6M's "head" is the top of the head, which no detector marks):
``E + HEAD_EXTENSION * (E - thorax)``, where E is the mean of the eyes and ears (COCO 1-4,
MediaPipe 2, 5, 7, 8) -- about eye level -- pushed away from the thorax by
:data:`HEAD_EXTENSION` of the thorax-to-eyes distance (the top of an adult's head is ~10 cm
above the eyes, the eyes ~28 cm above the mid-shoulders). The confidence of a derived joint is
the minimum of its sources' confidences.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dynapose.data.h36m import load_npz_2d
from dynapose.data.h36m_cameras import CAMERA_IDS
from dynapose.errors import DynaPoseError
from dynapose.io.npy import load_npy, load_npz_array, npz_members, short_reason
from dynapose.skeleton import NUM_JOINTS

#: How far the head top lies beyond the eyes/ears centre, as a share of the thorax-to-eyes
#: distance (see the module docstring).
HEAD_EXTENSION = 0.35


#: COCO-17 keypoint names, in COCO order.
COCO_NAMES: tuple[str, ...] = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder",
    "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip",
    "left_knee", "right_knee", "left_ankle", "right_ankle",
)


#: Human3.6M joint -> its COCO-17 source: an index (taken 1:1) or a rule name (derived).
COCO_TO_H36M: tuple[int | str, ...] = (
    "mid-hips (11, 12)",  # 0 pelvis
    12, 14, 16,  # 1-3 right hip, knee, ankle
    11, 13, 15,  # 4-6 left hip, knee, ankle
    "mid pelvis-thorax",  # 7 spine
    "mid-shoulders (5, 6)",  # 8 thorax
    0,  # 9 neck/nose = nose
    "head estimate (eyes 1, 2; ears 3, 4)",  # 10 head
    5, 7, 9,  # 11-13 left shoulder, elbow, wrist
    6, 8, 10,  # 14-16 right shoulder, elbow, wrist
)


#: The COCO-17 points among MediaPipe's 33 pose landmarks (in COCO order): nose 0, eyes 2 and 5,
#: ears 7 and 8, shoulders 11/12, elbows 13/14, wrists 15/16, hips 23/24, knees 25/26, ankles
#: 27/28. MediaPipe -> Human3.6M is this, then :data:`COCO_TO_H36M`.
MEDIAPIPE_TO_COCO: tuple[int, ...] = (0, 2, 5, 7, 8, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27,
                                      28)


#: Human3.6M joint -> MediaPipe landmark(s) (the table in the module docstring).
MEDIAPIPE_TO_H36M: tuple[int | str, ...] = (
    "mid-hips (23, 24)",  # 0 pelvis
    24, 26, 28,  # 1-3 right hip, knee, ankle
    23, 25, 27,  # 4-6 left hip, knee, ankle
    "mid pelvis-thorax",  # 7 spine
    "mid-shoulders (11, 12)",  # 8 thorax
    0,  # 9 neck/nose = nose
    "head estimate (eyes 2, 5; ears 7, 8)",  # 10 head
    11, 13, 15,  # 11-13 left shoulder, elbow, wrist
    12, 14, 16,  # 14-16 right shoulder, elbow, wrist
)


#: Most frames a COCO list without ``images`` may span (9 h at 30 fps) unless the video has more.
MAX_COCO_FRAMES = 1_000_000


_COCO_DIRECT = {h: c for h, c in enumerate(COCO_TO_H36M) if isinstance(c, int)}


@dataclass
class Keypoints2D:
    """2D keypoints of one person over F frames (see the module docstring).

    pixels: (F, 17, 2) float64 px, Human3.6M order, NaN in gaps. confidence: (F, 17) float64 in
    [0, 1], 0 in gaps. found: (F,) bool, False where no person was found. source: what they came
    from (for the output's header). width, height: the image size in pixels when the source says
    it (VideoPose3D custom metadata), else None.
    """

    pixels: np.ndarray
    confidence: np.ndarray
    found: np.ndarray
    source: str = ""
    width: int | None = None
    height: int | None = None

    def __len__(self) -> int:
        return int(self.pixels.shape[0])

    @property
    def num_found(self) -> int:
        return int(self.found.sum())


def from_array(array: np.ndarray, path: str | os.PathLike[str] | None = None,
               source: str = "array") -> Keypoints2D:
    """Keypoints2D from (F, 17, 2) pixels or (F, 17, 3) with a confidence last (Human3.6M order).

    A frame that is all NaN is a gap; partly NaN frames, infinite values, wrong shapes and
    joint counts raise DynaPoseError naming `path`.
    """
    array = np.asarray(array)
    if array.ndim != 3 or array.shape[-1] not in (2, 3) or len(array) == 0:
        raise DynaPoseError(f"keypoints have shape {array.shape}, expected (T, 17, 2) or "
                            "(T, 17, 3)", path)
    if array.shape[1] != NUM_JOINTS:
        raise DynaPoseError(f"keypoints have {array.shape[1]} joints, expected {NUM_JOINTS} "
                            "(Human3.6M order)", path)
    if not np.issubdtype(array.dtype, np.number):
        raise DynaPoseError(f"keypoints are {array.dtype}, expected numbers", path)
    array = array.astype(np.float64)
    pixels = array[..., :2].copy()
    conf = array[..., 2].copy() if array.shape[-1] == 3 else np.ones(pixels.shape[:2])
    return _checked(pixels, conf, path, source)


def _checked(pixels: np.ndarray, conf: np.ndarray, path: str | os.PathLike[str] | None,
             source: str, width: int | None = None, height: int | None = None) -> Keypoints2D:
    """Validate gaps (all-NaN frames) and values; confidences clipped to [0, 1]."""
    nan = np.isnan(pixels).reshape(len(pixels), -1)
    gap = nan.all(axis=1)
    partial = nan.any(axis=1) & ~gap
    if partial.any() or np.isinf(pixels).any():
        bad = np.nonzero(partial | np.isinf(pixels).reshape(len(pixels), -1).any(axis=1))[0]
        raise DynaPoseError(
            f"keypoints hold NaN or infinite values in {len(bad)} frame(s) that are not entirely "
            f"NaN, first at frame {bad[0]} (a frame without a person must be all NaN)", path)
    conf = np.where(gap[:, None], 0.0, conf)
    if not np.all(np.isfinite(conf)):
        bad = np.unique(np.nonzero(~np.isfinite(conf))[0])
        raise DynaPoseError(f"confidences hold NaN or infinite values in {len(bad)} frame(s), "
                            f"first at frame {bad[0]}", path)
    return Keypoints2D(pixels=pixels, confidence=np.clip(conf, 0.0, 1.0), found=~gap,
                       source=source, width=width, height=height)


def coco_to_h36m(points: np.ndarray, conf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """COCO-17 (..., 17, 2) px and confidences (..., 17) -> Human3.6M (..., 17, 2), (..., 17).

    By :data:`COCO_TO_H36M`; derived joints take the minimum of their sources' confidences.
    """
    points = np.asarray(points, dtype=np.float64)
    conf = np.asarray(conf, dtype=np.float64)
    out = np.empty((*points.shape[:-2], NUM_JOINTS, 2))
    c = np.empty((*conf.shape[:-1], NUM_JOINTS))
    for h, k in _COCO_DIRECT.items():
        out[..., h, :] = points[..., k, :]
        c[..., h] = conf[..., k]
    out[..., 0, :] = (points[..., 11, :] + points[..., 12, :]) / 2
    c[..., 0] = np.minimum(conf[..., 11], conf[..., 12])
    out[..., 8, :] = (points[..., 5, :] + points[..., 6, :]) / 2
    c[..., 8] = np.minimum(conf[..., 5], conf[..., 6])
    out[..., 7, :] = (out[..., 0, :] + out[..., 8, :]) / 2
    c[..., 7] = np.minimum(c[..., 0], c[..., 8])
    eyes_ears = points[..., 1:5, :].mean(axis=-2)
    out[..., 10, :] = eyes_ears + HEAD_EXTENSION * (eyes_ears - out[..., 8, :])
    c[..., 10] = np.minimum(conf[..., 1:5].min(axis=-1), c[..., 8])
    return out, c


def mediapipe_to_h36m(landmarks: np.ndarray, visibility: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray]:
    """MediaPipe's 33 landmarks (..., 33, 2) px and visibilities (..., 33) -> Human3.6M 17
    joints (..., 17, 2) px and confidences (..., 17); see :data:`MEDIAPIPE_TO_H36M`."""
    landmarks = np.asarray(landmarks, dtype=np.float64)
    visibility = np.asarray(visibility, dtype=np.float64)
    if landmarks.shape[-2:] != (33, 2) or visibility.shape != landmarks.shape[:-1]:
        raise ValueError(f"expected (..., 33, 2) landmarks and (..., 33) visibilities, got "
                         f"{landmarks.shape} and {visibility.shape}")
    idx = list(MEDIAPIPE_TO_COCO)
    return coco_to_h36m(landmarks[..., idx, :], np.clip(visibility[..., idx], 0.0, 1.0))


def read_keypoints_file(path: str | os.PathLike[str], sequence: str | None = None,
                        num_frames: int | None = None) -> Keypoints2D:
    """2D keypoints from a file: ``.npy``/``.npz`` arrays, COCO-17 ``.json``, or a VideoPose3D
    2D ``.npz`` (see the module docstring). `sequence` picks a VideoPose3D sequence.

    num_frames: the video's frame count, when known: a COCO results list without an ``images``
    list then also has gap frames after its last image_id up to it.
    """
    path = Path(path)
    if not path.is_file():
        raise DynaPoseError("keypoint file not found", path)
    suffix = path.suffix.lower()
    if suffix == ".json":
        return read_coco_json(path, num_frames)
    if suffix == ".npy" or (suffix == ".npz" and "keypoints" in list(npz_members(path))):
        return from_array(load_keypoint_array(path), path, f"keypoint array {path.name}")
    if suffix == ".npz":
        names = list(npz_members(path))
        if "positions_2d" in names:
            return read_videopose3d_2d(path, sequence)
        raise DynaPoseError(f"has neither a 'keypoints' entry nor VideoPose3D's 'positions_2d' "
                            f"(it has: {', '.join(names) or 'none'})", path)
    raise DynaPoseError("unknown keypoint file type (expected .npy, .npz or COCO .json)", path)


def load_keypoint_array(path: str | os.PathLike[str]) -> np.ndarray:
    """The raw array of a ``.npy`` file or of an ``.npz`` file's ``keypoints`` entry (no pickles);
    check it with :func:`from_array`."""
    path = Path(path)
    if not path.is_file():
        raise DynaPoseError("keypoint file not found", path)
    suffix = path.suffix.lower()
    if suffix not in (".npy", ".npz"):
        raise DynaPoseError("unknown keypoint file type (expected .npy or .npz)", path)
    # Headers are checked against the file's size before memory is asked for (dynapose.io.npy).
    if suffix == ".npy":
        return load_npy(path)
    return load_npz_array(path, "keypoints")


def read_coco_json(path: str | os.PathLike[str], num_frames: int | None = None) -> Keypoints2D:
    """COCO-17 keypoints JSON (results list or dict with ``annotations``) -> Keypoints2D.

    Frame order, person choice and confidences: see the module docstring.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise DynaPoseError("not a JSON text file (not UTF-8)", path) from exc
    except json.JSONDecodeError as exc:
        raise DynaPoseError(f"not valid JSON (truncated or corrupt: {exc.msg} at line "
                            f"{exc.lineno}, column {exc.colno})", path) from exc
    except RecursionError as exc:
        raise DynaPoseError("not COCO keypoints JSON (nested too deeply)", path) from exc
    except OSError as exc:
        raise DynaPoseError(f"unreadable keypoint file ({short_reason(exc)})", path) from exc
    images: list[Any] | None = None
    if isinstance(data, dict):
        if "annotations" not in data:
            raise DynaPoseError("COCO JSON dict has no 'annotations' list", path)
        annotations, images = data["annotations"], data.get("images")
        if images is not None and not isinstance(images, list):
            raise DynaPoseError("COCO 'images' is not a list", path)
    elif isinstance(data, list):
        annotations = data
    else:
        raise DynaPoseError("not COCO keypoints JSON (expected a list of results or a dict with "
                            "'annotations')", path)
    if not isinstance(annotations, list):
        raise DynaPoseError("COCO 'annotations' is not a list", path)

    best: dict[Any, tuple[float, np.ndarray]] = {}
    for i, ann in enumerate(annotations):
        if not isinstance(ann, dict) or "image_id" not in ann or "keypoints" not in ann:
            raise DynaPoseError(f"COCO entry {i} is not an object with 'image_id' and "
                                "'keypoints'", path)
        if ann.get("category_id", 1) != 1:
            continue
        try:
            flat = np.asarray(ann["keypoints"], dtype=np.float64).reshape(-1)
        except (TypeError, ValueError) as exc:
            raise DynaPoseError(f"COCO entry {i}: keypoints are not numbers", path) from exc
        if flat.size != 3 * len(COCO_NAMES):
            raise DynaPoseError(f"COCO entry {i} has {flat.size} keypoint values, expected "
                                f"{3 * len(COCO_NAMES)} (17 COCO joints x [x, y, v])", path)
        kp = flat.reshape(len(COCO_NAMES), 3)
        if not np.all(np.isfinite(kp)):
            raise DynaPoseError(f"COCO entry {i} holds NaN or infinite keypoint values", path)
        score = ann.get("score")
        rank = float(score) if isinstance(score, (int, float)) else float(kp[:, 2].mean())
        key = ann["image_id"]
        if not isinstance(key, (int, str)) or isinstance(key, bool):
            raise DynaPoseError(f"COCO entry {i} has image_id {key!r}, expected an int or str",
                                path)
        if key not in best or rank > best[key][0]:
            best[key] = (rank, kp)

    if images is not None:
        ids = []
        for i, img in enumerate(images):
            if not isinstance(img, dict) or "id" not in img:
                raise DynaPoseError(f"COCO image {i} has no 'id'", path)
            if not isinstance(img["id"], (int, str)) or isinstance(img["id"], bool):
                raise DynaPoseError(f"COCO image {i} has id {img['id']!r}, expected an int or "
                                    "str", path)
            ids.append(img["id"])
        try:
            order = sorted(set(ids))
        except TypeError as exc:
            raise DynaPoseError("COCO image ids mix numbers and strings", path) from exc
        unknown = set(best) - set(order)
        if unknown:
            raise DynaPoseError(f"COCO annotations name {len(unknown)} image_id(s) not in "
                                f"'images', e.g. {sorted(map(str, unknown))[0]}", path)
    else:
        if not best:
            raise DynaPoseError("COCO JSON holds no person keypoints", path)
        if not all(isinstance(k, int) for k in best):
            raise DynaPoseError("COCO results without an 'images' list need integer image_ids "
                                "(frame numbers)", path)
        first, last = min(best), max(best)
        if num_frames is not None:
            last = max(last, first + num_frames - 1)
        # The frame count comes from the file's own numbers: bound it before allocating.
        limit = max(num_frames or 0, MAX_COCO_FRAMES)
        if last - first + 1 > limit:
            raise DynaPoseError(f"COCO image_ids run from {first} to {last}: {last - first + 1} "
                                f"frames, more than {limit} (without an 'images' list, "
                                "image_ids are read as frame numbers)", path)
        order = list(range(first, last + 1))
    frames = len(order)
    if frames == 0:
        raise DynaPoseError("COCO JSON has no images", path)
    coco = np.full((frames, len(COCO_NAMES), 2), np.nan)
    conf = np.zeros((frames, len(COCO_NAMES)))
    index = {key: i for i, key in enumerate(order)}
    for key, (_, kp) in best.items():
        coco[index[key]] = kp[:, :2]
        conf[index[key]] = np.clip(kp[:, 2], 0.0, 1.0)
    pixels, c = coco_to_h36m(coco, conf)
    return _checked(pixels, c, path, f"COCO-17 JSON {path.name} (mapped to Human3.6M)")


def read_videopose3d_2d(path: str | os.PathLike[str], sequence: str | None = None
                        ) -> Keypoints2D:
    """One sequence of a VideoPose3D 2D ``.npz`` (Human3.6M detections or custom video).

    `sequence`: "subject/action/camera" (camera index or id) or a custom video's name; may be
    None when the file holds exactly one sequence. Pickled entries are read by the plain-data
    unpickler only (:func:`dynapose.data.h36m.read_npz_entry`).
    """

    path = Path(path)
    positions, metadata = load_npz_2d(path)
    layout = metadata.get("layout_name")
    if layout not in ("h36m", "coco"):
        raise DynaPoseError(f"metadata layout_name is {layout!r}; only 'h36m' and 'coco' "
                            "(17 joints) are supported", path)
    choices: dict[str, tuple[str, str, int]] = {}
    for subject, actions in positions.items():
        for action, cams in actions.items():
            if action == "custom" and len(cams) == 1:
                choices[subject] = (subject, action, 0)
                continue
            for c in range(len(cams)):
                cam = CAMERA_IDS[c] if len(cams) == len(CAMERA_IDS) else str(c)
                choices[f"{subject}/{action}/{cam}"] = (subject, action, c)
    if not choices:
        raise DynaPoseError("positions_2d holds no sequences", path)
    key = _pick_sequence(sequence, choices, path)
    subject, action, c = choices[key]
    array = positions[subject][action][c]
    if array.shape[1] != NUM_JOINTS:
        raise DynaPoseError(f"sequence {key!r} has {array.shape[1]} joints, expected "
                            f"{NUM_JOINTS} ({layout} layout)", path)
    if layout == "coco":
        nan = np.isnan(array).all(axis=(1, 2))
        pixels, conf = coco_to_h36m(array, np.ones(array.shape[:2]))
        pixels[nan] = np.nan
    else:
        pixels, conf = array.copy(), np.ones(array.shape[:2])
    width = height = None
    video_meta = metadata.get("video_metadata")
    if isinstance(video_meta, dict) and isinstance(video_meta.get(subject), dict):
        w, h = video_meta[subject].get("w"), video_meta[subject].get("h")
        if isinstance(w, (int, np.integer)) and isinstance(h, (int, np.integer)):
            width, height = int(w), int(h)
    return _checked(pixels, conf, path, f"VideoPose3D 2D {path.name} [{key}] ({layout} layout)",
                    width, height)


def _pick_sequence(sequence: str | None, choices: dict[str, tuple[str, str, int]],
                   path: Path) -> str:

    names = list(choices)
    if sequence is None:
        if len(names) == 1:
            return names[0]
        raise DynaPoseError(f"holds {len(names)} sequences: choose one with --sequence "
                            f"({_listing(names)})", path)
    if sequence in choices:
        return sequence
    parts = sequence.split("/")
    if len(parts) == 3 and parts[2].isdigit() and int(parts[2]) < len(CAMERA_IDS):
        alias = f"{parts[0]}/{parts[1]}/{CAMERA_IDS[int(parts[2])]}"
        if alias in choices:
            return alias
    raise DynaPoseError(f"has no sequence {sequence!r} (choose from {_listing(names)})", path)


def _listing(names: Sequence[str], limit: int = 8) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def fill_gaps(values: np.ndarray, found: np.ndarray) -> np.ndarray:
    """Fill the gap frames of `values` (F, ...) for a network's input: linear interpolation
    between the nearest found frames, the first/last found frame repeated at the ends.

    Needs at least one found frame. Returns a new float64 array.
    """
    values = np.asarray(values, dtype=np.float64)
    found = np.asarray(found, dtype=bool)
    if not found.any():
        raise ValueError("no found frame to fill gaps from")
    if found.all():
        return values.copy()
    t = np.arange(len(values))
    known = t[found]
    flat = values.reshape(len(values), -1)
    out = np.empty_like(flat)
    for k in range(flat.shape[1]):
        out[:, k] = np.interp(t, known, flat[found, k])  # np.interp repeats the end values
    return out.reshape(values.shape)


def bounding_squares(pixels: np.ndarray) -> np.ndarray:
    """Per frame, the square (x, y, s, s) px around the keypoints (F, J, 2): centred on their
    bounding box, side its larger extent. NaN for frames whose keypoints are NaN."""
    pixels = np.asarray(pixels, dtype=np.float64)
    out = np.full((len(pixels), 4), np.nan)
    ok = np.isfinite(pixels).all(axis=(1, 2))
    if ok.any():
        lo, hi = pixels[ok].min(axis=1), pixels[ok].max(axis=1)
        side = (hi - lo).max(axis=1)
        centre = (lo + hi) / 2
        out[ok] = np.column_stack([centre - side[:, None] / 2, side, side])
    return out
