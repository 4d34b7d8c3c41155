"""2D keypoint sources: arrays, COCO-17 JSON, VideoPose3D npz, MediaPipe; gaps and bad input."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from dynapose.data.keypoints import (
    COCO_TO_H36M,
    HEAD_EXTENSION,
    MEDIAPIPE_TO_COCO,
    MEDIAPIPE_TO_H36M,
    Keypoints2D,
    bounding_squares,
    coco_to_h36m,
    fill_gaps,
    from_array,
    mediapipe_to_h36m,
    read_keypoints_file,
)
from dynapose.errors import DynaPoseError
from dynapose.inference.lifting import read_keypoints
from dynapose.skeleton import JOINT_NAMES

RNG = np.random.default_rng(0)


def _coco_person(seed: int = 0) -> np.ndarray:
    """(17, 3) COCO keypoints [x, y, v] of a plausible upright person facing the camera."""
    rng = np.random.default_rng(seed)
    pts = np.array([
        [100, 40], [106, 35], [94, 35], [112, 38], [88, 38],  # nose, eyes, ears
        [125, 70], [75, 70], [135, 110], [65, 110], [138, 145], [62, 145],  # arms (l, r)
        [115, 150], [85, 150], [117, 200], [83, 200], [118, 250], [82, 250],  # legs (l, r)
    ], dtype=np.float64) + rng.normal(0, 2, (17, 2))
    v = rng.uniform(0.5, 1.0, 17)
    return np.column_stack([pts, v])


def _expected_h36m(coco: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The mapping written out joint by joint, independently of coco_to_h36m's code."""
    p, c = coco[:, :2], coco[:, 2]
    pelvis, thorax = (p[11] + p[12]) / 2, (p[5] + p[6]) / 2
    eyes_ears = p[1:5].mean(axis=0)
    head = eyes_ears + HEAD_EXTENSION * (eyes_ears - thorax)
    joints = [pelvis, p[12], p[14], p[16], p[11], p[13], p[15], (pelvis + thorax) / 2, thorax,
              p[0], head, p[5], p[7], p[9], p[6], p[8], p[10]]
    conf = [min(c[11], c[12]), c[12], c[14], c[16], c[11], c[13], c[15],
            min(c[11], c[12], c[5], c[6]), min(c[5], c[6]), c[0], min(*c[1:5], c[5], c[6]),
            c[5], c[7], c[9], c[6], c[8], c[10]]
    return np.array(joints), np.array(conf)


# -- mapping -------------------------------------------------------------------------------------
def test_coco_mapping_numerically() -> None:
    coco = _coco_person()
    px, conf = coco_to_h36m(coco[:, :2], coco[:, 2])
    want_px, want_conf = _expected_h36m(coco)
    np.testing.assert_allclose(px, want_px, atol=1e-12)
    np.testing.assert_allclose(conf, want_conf, atol=1e-12)
    # the table names every joint, and the person's left stays on the same side
    assert len(COCO_TO_H36M) == len(MEDIAPIPE_TO_H36M) == len(JOINT_NAMES)
    assert px[11, 0] > px[14, 0]  # COCO's left shoulder (image right here) -> H36M 11
    # the head lies above the eyes, the pelvis below the thorax (image y down)
    assert px[10, 1] < px[9, 1] and px[0, 1] > px[8, 1]


def test_mediapipe_mapping() -> None:
    coco = _coco_person(1)
    landmarks = RNG.uniform(0, 200, (33, 2))
    vis = RNG.uniform(0, 1, 33)
    landmarks[list(MEDIAPIPE_TO_COCO)] = coco[:, :2]
    vis[list(MEDIAPIPE_TO_COCO)] = coco[:, 2]
    px, conf = mediapipe_to_h36m(landmarks, vis)
    want_px, want_conf = _expected_h36m(coco)
    np.testing.assert_allclose(px, want_px, atol=1e-12)
    np.testing.assert_allclose(conf, want_conf, atol=1e-12)
    # the stated table: hips 23/24, knees 25/26, ankles 27/28, shoulders 11/12, elbows, wrists
    assert MEDIAPIPE_TO_H36M[1:7] == (24, 26, 28, 23, 25, 27)
    assert MEDIAPIPE_TO_H36M[11:] == (11, 13, 15, 12, 14, 16)
    assert MEDIAPIPE_TO_H36M[9] == 0


# -- arrays ----------------------------------------------------------------------------------------
def test_array_files_and_gaps(tmp_path: Path) -> None:
    array = RNG.uniform(100, 500, (12, 17, 3))
    array[..., 2] = RNG.uniform(0, 1, (12, 17))
    array[[0, 5, 6]] = np.nan  # three frames without a person
    np.savez(tmp_path / "kp.npz", keypoints=array)
    np.save(tmp_path / "kp.npy", array[..., :2])
    for name in ("kp.npz", "kp.npy"):
        kp = read_keypoints_file(tmp_path / name)
        assert kp.pixels.shape == (12, 17, 2) and kp.confidence.shape == (12, 17)
        assert kp.found.tolist() == [i not in (0, 5, 6) for i in range(12)]
        assert np.isnan(kp.pixels[[0, 5, 6]]).all() and np.isfinite(kp.pixels[kp.found]).all()
        np.testing.assert_array_equal(kp.pixels[kp.found], array[kp.found][..., :2])
        assert (kp.confidence[~kp.found] == 0).all()
    kp = read_keypoints_file(tmp_path / "kp.npz")
    np.testing.assert_allclose(kp.confidence[kp.found], array[kp.found][..., 2])
    assert (read_keypoints_file(tmp_path / "kp.npy").confidence[kp.found] == 1).all()
    # lift_eval's reader keeps its API: (pixels, confidences or None), gaps stay NaN
    px, conf = read_keypoints(tmp_path / "kp.npz")
    assert conf is not None and np.isnan(px[5]).all()
    assert read_keypoints(tmp_path / "kp.npy")[1] is None


@pytest.mark.parametrize(("array", "match"), [
    (np.zeros((5, 18, 2)), "18 joints, expected 17"),
    (np.zeros((5, 34)), "shape"),
    (np.zeros((5, 17, 4)), "shape"),
    (np.zeros((0, 17, 2)), "shape"),
])
def test_bad_arrays(tmp_path: Path, array: np.ndarray, match: str) -> None:
    path = tmp_path / "bad.npy"
    np.save(path, array)
    with pytest.raises(DynaPoseError, match=match) as err:
        read_keypoints_file(path)
    assert str(path) in str(err.value) and "\n" not in str(err.value)


def test_partly_nan_and_infinite_frames_are_refused(tmp_path: Path) -> None:
    array = RNG.uniform(0, 100, (10, 17, 2))
    array[4] = np.nan  # a gap: fine
    array[7, 3, 1] = np.nan  # one joint missing: refused
    np.save(tmp_path / "partial.npy", array)
    with pytest.raises(DynaPoseError, match=r"1 frame\(s\) that are not entirely NaN, first at "
                                            r"frame 7") as err:
        read_keypoints_file(tmp_path / "partial.npy")
    assert str(tmp_path / "partial.npy") in str(err.value)
    array[7, 3, 1] = np.inf
    np.save(tmp_path / "inf.npy", array)
    with pytest.raises(DynaPoseError, match="infinite"):
        read_keypoints_file(tmp_path / "inf.npy")


def test_unknown_and_missing_files(tmp_path: Path) -> None:
    (tmp_path / "kp.txt").write_text("1 2 3")
    with pytest.raises(DynaPoseError, match="unknown keypoint file type") as err:
        read_keypoints_file(tmp_path / "kp.txt")
    assert str(tmp_path / "kp.txt") in str(err.value)
    with pytest.raises(DynaPoseError, match="not found"):
        read_keypoints_file(tmp_path / "none.json")
    np.savez(tmp_path / "other.npz", poses=np.zeros((3, 17, 2)))
    with pytest.raises(DynaPoseError, match=r"neither a .keypoints. entry.*poses"):
        read_keypoints_file(tmp_path / "other.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(DynaPoseError, match=r"not an \.npz"):
        read_keypoints_file(tmp_path / "junk.npz")


# -- COCO JSON -------------------------------------------------------------------------------------
def _result(image_id: object, kp: np.ndarray, score: float, category: int = 1) -> dict:
    return {"image_id": image_id, "category_id": category,
            "keypoints": kp.reshape(-1).tolist(), "score": score}


def test_coco_results_list_highest_score_and_gaps(tmp_path: Path) -> None:
    a, b, c = _coco_person(1), _coco_person(2), _coco_person(3)
    results = [
        _result(10, a, 0.9), _result(10, b, 0.95),  # two people in frame 0: b wins
        _result(11, c, 0.5),
        _result(11, a, 0.99, category=2),  # not a person: ignored
        _result(13, a, 0.7),  # image 12 missing -> a gap
    ]
    path = tmp_path / "det.json"
    path.write_text(json.dumps(results))
    kp = read_keypoints_file(path)
    assert len(kp) == 4 and kp.found.tolist() == [True, True, False, True]
    for frame, person in ((0, b), (1, c), (3, a)):
        want_px, want_conf = _expected_h36m(person)
        np.testing.assert_allclose(kp.pixels[frame], want_px, atol=1e-9)
        np.testing.assert_allclose(kp.confidence[frame], want_conf, atol=1e-9)
    assert np.isnan(kp.pixels[2]).all()
    # knowing the video's length adds gap frames at the end
    assert read_keypoints_file(path, num_frames=6).found.tolist() == [True, True, False, True,
                                                                       False, False]


def test_coco_dict_with_images_orders_frames(tmp_path: Path) -> None:
    a, b = _coco_person(4), _coco_person(5)
    data = {
        "images": [{"id": 7, "file_name": "f2.jpg"}, {"id": 3, "file_name": "f0.jpg"},
                   {"id": 5, "file_name": "f1.jpg"}, {"id": 9, "file_name": "f3.jpg"}],
        "annotations": [{"image_id": 7, "keypoints": a.reshape(-1).tolist()},
                        {"image_id": 3, "keypoints": b.reshape(-1).tolist()}],
    }
    path = tmp_path / "coco.json"
    path.write_text(json.dumps(data))
    kp = read_keypoints_file(path)
    assert kp.found.tolist() == [True, False, True, False]  # ids 3, 5, 7, 9
    np.testing.assert_allclose(kp.pixels[0], _expected_h36m(b)[0], atol=1e-9)
    np.testing.assert_allclose(kp.pixels[2], _expected_h36m(a)[0], atol=1e-9)


@pytest.mark.parametrize(("content", "match"), [
    ('[{"image_id": 0, "keypoints": [1, 2', "not valid JSON"),  # truncated
    ('{"images": []}', "no 'annotations'"),
    ('"hello"', "not COCO keypoints JSON"),
    ('[{"image_id": 0, "keypoints": [' + ", ".join(["1"] * 54) + "]}]", "54 keypoint values"),
    ('[{"image_id": 0, "keypoints": [' + ", ".join(["1"] * 39) + "]}]", "39 keypoint values"),
    ('[{"image_id": "a", "keypoints": [' + ", ".join(["1"] * 51) + "]}]", "integer image_ids"),
    ('[{"keypoints": []}]', "image_id"),
    ("[]", "no person keypoints"),
])
def test_bad_coco(tmp_path: Path, content: str, match: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(DynaPoseError, match=match) as err:
        read_keypoints_file(path)
    assert str(path) in str(err.value) and "\n" not in str(err.value)


# -- VideoPose3D npz -------------------------------------------------------------------------------
def _vp3d_h36m(path: Path) -> dict:
    positions = {
        "S9": {"Walking": [RNG.uniform(0, 1000, (20, 17, 2)) for _ in range(4)],
               "Sitting 1": [RNG.uniform(0, 1000, (15, 17, 2)) for _ in range(4)]},
    }
    metadata = {"layout_name": "h36m", "num_joints": 17,
                "keypoints_symmetry": [[4, 5, 6, 11, 12, 13], [1, 2, 3, 14, 15, 16]]}
    np.savez_compressed(path, positions_2d=positions, metadata=metadata)
    return positions


def test_videopose3d_h36m_detections(tmp_path: Path) -> None:
    path = tmp_path / "data_2d_h36m_test.npz"
    positions = _vp3d_h36m(path)
    kp = read_keypoints_file(path, sequence="S9/Walking/55011271")  # camera 1 by id
    np.testing.assert_array_equal(kp.pixels, positions["S9"]["Walking"][1])
    assert kp.found.all() and (kp.confidence == 1).all()
    kp = read_keypoints_file(path, sequence="S9/Sitting 1/3")  # camera by index
    np.testing.assert_array_equal(kp.pixels, positions["S9"]["Sitting 1"][3])
    with pytest.raises(DynaPoseError, match=r"holds 8 sequences: choose one with --sequence "
                                            r"\(S9/Walking/54138969, ") as err:
        read_keypoints_file(path)
    assert str(path) in str(err.value)
    with pytest.raises(DynaPoseError, match="no sequence 'S1/Walking/0'"):
        read_keypoints_file(path, sequence="S1/Walking/0")


def test_videopose3d_custom_video(tmp_path: Path) -> None:
    coco = np.stack([_coco_person(i)[:, :2] for i in range(6)])
    coco[2] = np.nan
    path = tmp_path / "data_2d_custom_myvideos.npz"
    np.savez_compressed(
        path, positions_2d={"clip.mp4": {"custom": [coco]}},
        metadata={"layout_name": "coco", "num_joints": 17,
                  "keypoints_symmetry": [[1, 3, 5, 7, 9, 11, 13, 15], [2, 4, 6, 8, 10, 12, 14,
                                                                          16]],
                  "video_metadata": {"clip.mp4": {"w": 640, "h": 480}}})
    kp = read_keypoints_file(path)  # one sequence: no selector needed
    assert (kp.width, kp.height) == (640, 480)
    assert kp.found.tolist() == [True, True, False, True, True, True]
    want, _ = coco_to_h36m(coco[0], np.ones(17))
    np.testing.assert_allclose(kp.pixels[0], want, atol=1e-9)
    assert read_keypoints_file(path, sequence="clip.mp4").found.sum() == 5


def test_videopose3d_pickle_with_a_forbidden_global_is_refused(tmp_path: Path) -> None:
    class Evil:
        def __reduce__(self) -> tuple:
            return (print, ("this must never run",))

    path = tmp_path / "evil.npz"
    with zipfile.ZipFile(path, "w") as archive:
        for key, value in (("positions_2d", {"S1": {"Walking": [Evil()]}}),
                           ("metadata", {"layout_name": "h36m"})):
            holder = np.empty((), dtype=object)
            holder[()] = value
            buf = io.BytesIO()
            np.lib.format.write_array(buf, holder, allow_pickle=True)
            archive.writestr(f"{key}.npy", buf.getvalue())
    assert b"builtins" in zipfile.ZipFile(path).read("positions_2d.npy")
    with pytest.raises(DynaPoseError, match=r"refused.*builtins\.print") as err:
        read_keypoints_file(path)
    assert str(path) in str(err.value) and "\n" not in str(err.value)


def test_videopose3d_bad_layout(tmp_path: Path) -> None:
    path = tmp_path / "mpii.npz"
    np.savez_compressed(path, positions_2d={"v": {"custom": [np.zeros((4, 16, 2))]}},
                        metadata={"layout_name": "mpii"})
    with pytest.raises(DynaPoseError, match="layout_name is 'mpii'"):
        read_keypoints_file(path)
    np.savez_compressed(path, positions_2d={"v": {"custom": [np.zeros((4, 16, 2))]}},
                        metadata={"layout_name": "h36m"})
    with pytest.raises(DynaPoseError, match="16 joints, expected 17"):
        read_keypoints_file(path)


# -- gaps and boxes --------------------------------------------------------------------------------
def test_fill_gaps_interpolates_and_repeats_edges() -> None:
    values = np.arange(6, dtype=np.float64)[:, None] * np.array([1.0, 10.0])
    found = np.array([False, True, False, False, True, False])
    values[~found] = np.nan
    out = fill_gaps(values, found)
    np.testing.assert_allclose(out[:, 0], [1, 1, 2, 3, 4, 4])
    np.testing.assert_allclose(out[:, 1], [10, 10, 20, 30, 40, 40])
    with pytest.raises(ValueError):
        fill_gaps(values, np.zeros(6, bool))


def test_bounding_squares() -> None:
    px = np.zeros((2, 17, 2))
    px[0, :, 0] = np.linspace(10, 30, 17)
    px[0, :, 1] = np.linspace(100, 160, 17)
    px[1] = np.nan
    boxes = bounding_squares(px)
    np.testing.assert_allclose(boxes[0], [-10, 100, 60, 60])
    assert np.isnan(boxes[1]).all()


def test_from_array_and_dataclass() -> None:
    kp = from_array(np.full((3, 17, 2), 5.0))
    assert isinstance(kp, Keypoints2D) and len(kp) == 3 and kp.num_found == 3


# -- MediaPipe (optional) --------------------------------------------------------------------------
def _astronaut_video(path: Path, n: int = 10) -> Path:
    skimage_data = pytest.importorskip("skimage.data")
    from dynapose.io.video import write_test_video

    img = skimage_data.astronaut()  # 512x512 RGB, a person facing the camera
    frames = [np.roll(img, (4 * i, 6 * i), axis=(0, 1)) for i in range(n)]
    return write_test_video(path, np.stack(frames), fps=10.0)


def test_mediapipe_on_a_real_person(tmp_path: Path) -> None:
    pytest.importorskip("mediapipe")
    from dynapose.inference.mediapipe import detect_keypoints_mediapipe

    video = _astronaut_video(tmp_path / "astronaut.mp4")
    times: list[float] = []
    kp = detect_keypoints_mediapipe(video, times=times)
    assert len(kp) == len(times) == 10 and kp.found.all()
    # MediaPipe's "left" is the person's left, as Human3.6M's: facing the camera, the left
    # shoulder appears on the image's right
    assert (kp.pixels[:, 11, 0] > kp.pixels[:, 14, 0] + 50).all()
    assert (kp.pixels[:, 10, 1] < kp.pixels[:, 8, 1]).all()  # the head above the thorax
    assert (kp.confidence[:, [9, 11, 14]] > 0.8).all()  # face and shoulders clearly visible
    # follows the shift of the frames (6 px right, 4 px down per frame; MediaPipe's tracking
    # smooths, so it lags a little)
    shift = kp.pixels[-1, 9] - kp.pixels[0, 9]
    assert np.allclose(shift, [54, 36], atol=15), shift


def test_mediapipe_frames_without_a_person_are_gaps(tmp_path: Path) -> None:
    pytest.importorskip("mediapipe")
    from dynapose.inference.mediapipe import detect_keypoints_mediapipe
    from dynapose.io.video import write_test_video

    video = write_test_video(tmp_path / "empty.mp4", np.full((4, 64, 64, 3), 128, np.uint8))
    kp = detect_keypoints_mediapipe(video)
    assert len(kp) == 4 and not kp.found.any() and np.isnan(kp.pixels).all()
