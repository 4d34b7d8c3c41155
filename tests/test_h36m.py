"""Human3.6M readers and cameras: generated files, and the real files in ../shared when present."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import numpy as np
import pytest

from _h36m_mini import CAMS, make_dataset, mini_camera, write_cameras_h5, write_cdf
from dynapose.data import h36m_cameras
from dynapose.data.h36m import (
    MPII16_NAMES,
    MPII16_TO_17,
    BaselineLayout,
    OfficialLayout,
    cdf_pose_frames,
    detect_layout,
    load_npz_2d,
    load_npz_3d,
    read_cameras_h5,
    read_cdf_pose,
    read_npz_entry,
    split_of,
)
from dynapose.data.pose_store import PoseStore
from dynapose.data.prepare import prepare_h36m
from dynapose.errors import DynaPoseError
from dynapose.skeleton import H36M_32_TO_17, JOINT_NAMES

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "h36m"
BASELINE = SHARED / "pose_baseline_layout"
NPZ = SHARED / "data_3d_h36m.npz"
needs_baseline = pytest.mark.skipif(
    not (BASELINE / "cameras.h5").is_file(),
    reason=f"real 3d-pose-baseline files not found at {BASELINE}",
)
needs_npz = pytest.mark.skipif(not NPZ.is_file(), reason=f"real VideoPose3D npz not found: {NPZ}")


# -- cameras -------------------------------------------------------------------------------------
def test_published_cameras_are_rotations_facing_the_capture_area():
    cams = h36m_cameras.all_cameras()
    assert len(cams) == 7 * 4
    for (subject, cam_id), cam in cams.items():
        np.testing.assert_allclose(cam.R @ cam.R.T, np.eye(3), atol=1e-6)
        assert np.linalg.det(cam.R) == pytest.approx(1.0, abs=1e-6)
        # A person standing at the middle of the room (pelvis ~0.9 m up) is in front of every
        # camera and inside its image; the camera's y axis (image down) points down in the world.
        centre = cam.world_to_camera(np.array([0.0, 0.0, 900.0]))
        assert centre[2] > 3000
        u, v = cam.project(centre)
        assert 0 < u < cam.width and 0 < v < cam.height, (subject, cam_id)
        assert cam.R[1] @ np.array([0.0, 0.0, 1.0]) < -0.8
    assert cams[("S1", "54138969")].height == 1002 and cams[("S1", "55011271")].height == 1000
    with pytest.raises(DynaPoseError, match=r"unknown Human3\.6M camera id"):
        h36m_cameras.camera("S1", "12345678")
    with pytest.raises(DynaPoseError, match="no published calibration"):
        h36m_cameras.camera("S2", "54138969")


@needs_baseline
def test_published_cameras_agree_with_cameras_h5():
    h5 = read_cameras_h5(BASELINE / "cameras.h5")
    assert {k for k in h5} == set(h36m_cameras.all_cameras())
    for key, ref in h5.items():
        cam = h36m_cameras.camera(*key)
        np.testing.assert_allclose(cam.R, ref.R, atol=1e-6, err_msg=str(key))
        np.testing.assert_allclose(cam.T, ref.T, atol=1e-3, err_msg=str(key))
        np.testing.assert_allclose(cam.f, ref.f, atol=1e-3, err_msg=str(key))
        np.testing.assert_allclose(cam.c, ref.c, atol=1e-3, err_msg=str(key))
        np.testing.assert_allclose(cam.k, ref.k, atol=1e-6, err_msg=str(key))
        np.testing.assert_allclose(cam.p, ref.p, atol=1e-6, err_msg=str(key))


@needs_baseline
def test_s1_walking_projects_onto_stacked_hourglass_detections():
    base = BaselineLayout(BASELINE)
    world = base.world_positions("S1", "Walking")[:, list(H36M_32_TO_17)]
    # MPII's "Spine" and "Head" are other points than Human3.6M's (mid-back, head top): compare
    # the other 14 joints.
    comparable = [i for i, n in enumerate(MPII16_NAMES) if n not in ("Spine", "Head")]
    ours = [MPII16_TO_17[i] for i in comparable]
    for cam_id in h36m_cameras.CAMERA_IDS:
        detections = base.detections("S1", "Walking", cam_id)
        assert len(detections) == len(world)
        cam = base.camera("S1", cam_id)
        projected = cam.project_world(world)[:, ours]
        dist = np.linalg.norm(projected - detections[:, comparable], axis=-1)
        plain = cam.project_world(world, distort=False)[:, ours]
        dist_plain = np.linalg.norm(plain - detections[:, comparable], axis=-1)
        assert np.median(dist) <= 10.0, (cam_id, np.median(dist))
        # The lens distortion model moves the projections towards the detections.
        assert np.median(dist) < np.median(dist_plain), cam_id
    assert [JOINT_NAMES[j] for j in MPII16_TO_17[:3]] == ["right_ankle", "right_knee", "right_hip"]


# -- the npz layout and the h5 layout agree -----------------------------------------------------
@pytest.fixture(scope="module")
def npz_3d():
    if not NPZ.is_file():
        pytest.skip(f"real VideoPose3D npz not found: {NPZ}")
    return load_npz_3d(NPZ)


@needs_baseline
@needs_npz
def test_npz_and_h5_layouts_agree(npz_3d):
    assert set(npz_3d) == {"S1", "S5", "S6", "S7", "S8"}
    assert sum(len(a) for a in npz_3d.values()) == 146
    assert sum(len(p) for a in npz_3d.values() for p in a.values()) == 366100
    base = BaselineLayout(BASELINE)
    for action in base.actions("S1"):
        h5 = base.world_positions("S1", action)
        assert npz_3d["S1"][action].shape == h5.shape
        np.testing.assert_allclose(npz_3d["S1"][action], h5, atol=1e-3, rtol=0)


@needs_baseline
@needs_npz
def test_pose_stores_from_npz_and_baseline_agree(npz_3d, tmp_path):
    small = tmp_path / "data_3d_h36m.npz"
    subset = {"S1": {"Walking": (npz_3d["S1"]["Walking"] / 1000).astype(np.float32)}}
    np.savez(small, positions_3d=np.array(subset, dtype=object))
    a = PoseStore(prepare_h36m(small, tmp_path / "npz", poses_only=True))
    b = PoseStore(prepare_h36m(BASELINE, tmp_path / "h5", subjects=["S1"], poses_only=True))
    assert len(a) == 4 and len(b) == 8  # baseline: Directions and Walking
    walking = [i for i, s in enumerate(b.sequences) if s["action"] == "Walking"]
    for i, j in enumerate(walking):
        assert a.sequences[i]["camera"] == b.sequences[j]["camera"]
        # published (float32) vs cameras.h5 calibration: within a hundredth of a millimetre
        np.testing.assert_allclose(a.joints3d(i), b.joints3d(j), atol=1e-2)
        np.testing.assert_allclose(a.joints2d(i), b.joints2d(j), atol=1e-2)


# -- restricted unpickling ----------------------------------------------------------------------
class _RunsCode:
    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command,))


class _Evals:
    def __reduce__(self):
        return (eval, ("__import__('pathlib').Path('EVAL_RAN').touch()",))


@pytest.mark.parametrize("payload", ["system", "eval"])
def test_pickle_that_runs_code_is_refused(tmp_path, payload, monkeypatch):
    monkeypatch.chdir(tmp_path)
    marker = tmp_path / "PWNED"
    evil = _RunsCode(f"touch {marker}") if payload == "system" else _Evals()
    path = tmp_path / "data_3d_h36m.npz"
    data = {"S1": {"Walking": np.zeros((4, 32, 3), np.float32), "x": evil}}
    np.savez(path, positions_3d=np.array(data, dtype=object))
    with pytest.raises(DynaPoseError, match="not plain data") as exc:
        load_npz_3d(path)
    assert str(path) in str(exc.value) and "\n" not in str(exc.value)
    assert not marker.exists() and not (tmp_path / "EVAL_RAN").exists()
    with pytest.raises(DynaPoseError, match="not plain data"):
        prepare_h36m(path, tmp_path / "store", poses_only=True)
    assert not (tmp_path / "store").exists() and not (tmp_path / ".store.partial").exists()
    assert not marker.exists() and not (tmp_path / "EVAL_RAN").exists()


def test_plain_npz_files_load(tmp_path):
    path = tmp_path / "data_3d.npz"
    walk = np.random.default_rng(0).normal(size=(5, 32, 3)).astype(np.float32)
    np.savez(path, positions_3d=np.array({"S1": {"Walking": walk}}, dtype=object))
    data = load_npz_3d(path)
    np.testing.assert_allclose(data["S1"]["Walking"], walk * 1000.0)  # metres -> mm

    path2 = tmp_path / "data_2d.npz"
    cams = [np.full((5, 17, 2), i, np.float32) for i in range(4)]
    meta = {"layout_name": "h36m", "num_joints": 17,
            "keypoints_symmetry": [[4, 5, 6, 11, 12, 13], [1, 2, 3, 14, 15, 16]]}
    np.savez(path2, positions_2d=np.array({"S1": {"Walking": cams}}, dtype=object),
             metadata=np.array(meta, dtype=object))
    positions, metadata = load_npz_2d(path2)
    assert metadata == meta
    assert [float(a[0, 0, 0]) for a in positions["S1"]["Walking"]] == [0, 1, 2, 3]

    np.savez(tmp_path / "plain.npz", a=np.arange(6).reshape(2, 3))
    np.testing.assert_array_equal(read_npz_entry(tmp_path / "plain.npz", "a"),
                                  np.arange(6).reshape(2, 3))


def test_bad_npz_files(tmp_path):
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(DynaPoseError, match=r"not an \.npz file"):
        load_npz_3d(tmp_path / "junk.npz")
    np.savez(tmp_path / "other.npz", something=np.zeros(3))
    with pytest.raises(DynaPoseError, match="has no 'positions_3d' entry"):
        load_npz_3d(tmp_path / "other.npz")
    np.savez(tmp_path / "shape.npz",
             positions_3d=np.array({"S1": {"Walking": np.zeros((5, 32))}}, dtype=object))
    with pytest.raises(DynaPoseError, match=r"expected \(T, J, 3\)"):
        load_npz_3d(tmp_path / "shape.npz")
    with zipfile.ZipFile(tmp_path / "trunc.npz", "w") as z:
        z.writestr("positions_3d.npy", b"\x93NUMPY\x01\x00" + b"v\x00" + b"{'descr': '|O', "
                   b"'fortran_order': False, 'shape': (), }" + b" " * 79 + b"\n\x80\x04")
    with pytest.raises(DynaPoseError, match=r"trunc\.npz"):
        load_npz_3d(tmp_path / "trunc.npz")


# -- CDF and HDF5 readers -----------------------------------------------------------------------
def test_cdf_reader(tmp_path):
    pose = np.random.default_rng(1).normal(size=(7, 32, 3)) * 1000
    write_cdf(tmp_path / "ok.cdf", pose)
    np.testing.assert_allclose(read_cdf_pose(tmp_path / "ok.cdf", 3), pose, rtol=1e-6, atol=1e-3)
    assert cdf_pose_frames(tmp_path / "ok.cdf", 3) == 7
    write_cdf(tmp_path / "nopose.cdf", pose, variable="Angles")
    with pytest.raises(DynaPoseError, match="no 'Pose' variable") as exc:
        read_cdf_pose(tmp_path / "nopose.cdf", 3)
    assert "nopose.cdf" in str(exc.value) and "Angles" in str(exc.value)
    with pytest.raises(DynaPoseError, match=r"expected \(1, T, 64\)"):
        read_cdf_pose(tmp_path / "ok.cdf", 2)
    (tmp_path / "junk.cdf").write_bytes(b"junk" * 20)
    with pytest.raises(DynaPoseError, match="not a readable CDF"):
        read_cdf_pose(tmp_path / "junk.cdf", 3)
    with pytest.raises(DynaPoseError, match="not found"):
        read_cdf_pose(tmp_path / "missing.cdf", 3)


def test_cameras_h5_round_trip_and_unknown_id(tmp_path):
    cams = {(s, c): mini_camera(s, c) for s in ("S1", "S11") for c in CAMS}
    write_cameras_h5(tmp_path / "cameras.h5", cams)
    back = read_cameras_h5(tmp_path / "cameras.h5")
    assert set(back) == set(cams)
    for key, cam in cams.items():
        np.testing.assert_allclose(back[key].R, cam.R)
        np.testing.assert_allclose(back[key].T, cam.T)
        np.testing.assert_allclose(back[key].p, cam.p)
    bad = {("S1", "54138969"): mini_camera("S1", "54138969")}
    write_cameras_h5(tmp_path / "bad.h5", bad)
    import h5py

    with h5py.File(tmp_path / "bad.h5", "a") as f:
        del f["subject1/camera1/Name"]
        f["subject1/camera1/Name"] = np.array([float(ord(ch)) for ch in "12345678"])
    with pytest.raises(DynaPoseError, match="unknown camera id '12345678'"):
        read_cameras_h5(tmp_path / "bad.h5")


def test_official_layout(tmp_path):
    root = tmp_path / "h36m"
    make_dataset(root)
    assert detect_layout(root) == "official"
    layout = OfficialLayout(root, cameras=read_cameras_h5(root / "cameras.h5"))
    assert layout.subjects() == ["S1", "S11"]
    assert layout.actions("S1") == ["Walking"]
    world = layout.world_positions("S1", "Walking")
    cam = layout.camera("S1", "55011271")
    np.testing.assert_allclose(layout.camera_positions("S1", "Walking", "55011271"),
                               cam.world_to_camera(world), atol=1e-3)
    np.testing.assert_allclose(layout.image_positions("S1", "Walking", "55011271"),
                               cam.project_world(world), atol=1e-3)
    # S1's "Photo" poses go with "TakingPhoto" videos in the release.
    (root / "S1/Videos/TakingPhoto 1.55011271.mp4").write_bytes(b"")
    assert layout.video_path("S1", "Photo 1", "55011271").name == "TakingPhoto 1.55011271.mp4"
    with pytest.raises(DynaPoseError, match="video not found"):
        layout.video_path("S1", "Eating", "55011271")
    with pytest.raises(DynaPoseError, match="subject folder S9 is missing"):
        layout.actions("S9")
    assert split_of("S1") == "train" and split_of("S9") == split_of("S11") == "test"


@needs_baseline
def test_baseline_layout_real_files():
    assert detect_layout(BASELINE) == "baseline"
    base = BaselineLayout(BASELINE)
    assert base.subjects() == ["S1"] and base.actions("S1") == ["Directions", "Walking"]
    walk = base.world_positions("S1", "Walking")
    assert walk.shape == (3134, 32, 3)
    # World frame, Z up, mm: the head is ~1.5-1.8 m above the feet.
    assert 1400 < np.median(walk[:, 15, 2] - walk[:, 3, 2]) < 1900
    with pytest.raises(DynaPoseError, match="unknown camera id"):
        base.camera("S1", "12345678")


# -- pose stores from the npz layout, with 2D keypoint files --------------------------------------
def test_pose_store_from_npz_with_keypoints(tmp_path):
    rng = np.random.default_rng(3)
    walk = (rng.normal(0, 0.3, size=(6, 32, 3)) + np.array([0, 0, 1.0])).astype(np.float32)  # m
    npz3 = tmp_path / "data_3d_h36m.npz"
    np.savez(npz3, positions_3d=np.array({"S9": {"Walking": walk}}, dtype=object))
    out = prepare_h36m(npz3, tmp_path / "gt", cameras=["60457274"], poses_only=True)
    store = PoseStore(out)
    cam = h36m_cameras.camera("S9", "60457274")
    expected = cam.world_to_camera(walk[:, list(H36M_32_TO_17)].astype(np.float64) * 1000)
    np.testing.assert_allclose(store.joints3d(0), expected, rtol=1e-6, atol=1e-2)
    np.testing.assert_allclose(store.joints2d(0), cam.project(expected), atol=1e-2)
    assert store.sequences[0]["split"] == "test" and store.attrs["joints2d"] == "ground truth"

    # Detections, one frame longer than the 3D poses (trimmed), cameras in CAMERA_IDS order.
    dets = [rng.uniform(0, 1000, size=(7, 17, 2)).astype(np.float32) for _ in range(4)]
    npz2 = tmp_path / "data_2d_h36m_det.npz"
    np.savez(npz2, positions_2d=np.array({"S9": {"Walking": dets}}, dtype=object),
             metadata=np.array({"layout_name": "h36m", "num_joints": 17}, dtype=object))
    store = PoseStore(prepare_h36m(npz3, tmp_path / "det", cameras=["60457274"],
                                   poses_only=True, keypoints=npz2))
    np.testing.assert_allclose(store.joints2d(0), dets[3][:6])
    assert store.attrs["joints2d"] == npz2.name

    short = tmp_path / "short.npz"
    np.savez(short, positions_2d=np.array({"S9": {"Walking": [d[:5] for d in dets]}},
                                          dtype=object),
             metadata=np.array({"num_joints": 17}, dtype=object))
    with pytest.raises(DynaPoseError, match="have 5 frames, the 3D poses 6") as exc:
        prepare_h36m(npz3, tmp_path / "x", poses_only=True, keypoints=short)
    assert str(short) in str(exc.value)
    assert not (tmp_path / "x").exists() and not (tmp_path / ".x.partial").exists()
    with pytest.raises(DynaPoseError, match="subject S1 is not in the file"):
        prepare_h36m(npz3, tmp_path / "x", subjects=["S1"], poses_only=True)
    with pytest.raises(DynaPoseError, match="add --poses-only"):
        prepare_h36m(npz3, tmp_path / "x", keypoints=npz2)
