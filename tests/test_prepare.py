"""`prepare_h36m` end to end on a miniature official-layout dataset generated here."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from _h36m_mini import CAMS, SEQUENCES, background, make_dataset, write_cdf, write_video
from dynapose.cli import main
from dynapose.data.h36m import read_cdf_pose
from dynapose.data.pose_store import PoseStore
from dynapose.data.prepare import (
    clip_starts,
    crop_box,
    crop_resize,
    iter_video_frames,
    prepare_h36m,
    to_crop_pixels,
)
from dynapose.data.store import ClipStore, ClipStoreWriter, partial_path
from dynapose.errors import DynaPoseError
from dynapose.skeleton import H36M_32_TO_17

SIZE = 24  # crops are >= 32 px in the 64x64 videos, so every clip is resized


def _prepare(root: Path, out: Path, **kw):
    args = {"cameras": CAMS, "size": SIZE, "stride": 4, "cameras_h5": root / "cameras.h5",
            "chunk_clips": 4, "segment_clips": 3, "progress": False}
    args.update(kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return prepare_h36m(root, out, **args)


def _files(store: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(store.iterdir())}


@pytest.fixture(scope="module")
def mini(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("h36m") / "h36m"
    make_dataset(root)
    return root


@pytest.fixture(scope="module")
def reference(mini, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("stores") / "ref"
    with pytest.warns(UserWarning, match="S11 Directions camera 54138969"):
        prepare_h36m(mini, out, cameras=CAMS, size=SIZE, stride=4,
                     cameras_h5=mini / "cameras.h5", chunk_clips=4, segment_clips=3,
                     progress=False)
    return out


def test_clips_labels_and_metadata(mini, reference):
    store = ClipStore(reference)
    # S1 Walking: 40 frames, 2 cameras; S11 Directions: 24 frames, only 55011271 (54138969 is
    # the known-corrupt video and is skipped).
    expected = [("S1", "Walking", cam, s) for cam in CAMS for s in clip_starts(40, 8, 4, 1)]
    expected += [("S11", "Directions", "55011271", s) for s in clip_starts(24, 8, 4, 1)]
    got = list(zip(store.column("subject"), store.column("action"), store.column("camera"),
                   store.column("start"), strict=True))
    assert got == expected
    assert set(store.column("split")[store.column("subject") == "S1"]) == {"train"}
    assert set(store.column("split")[store.column("subject") == "S11"]) == {"test"}
    assert store.has_joints2d and (store.height, store.width, store.clip_len) == (SIZE, SIZE, 8)

    for index in (0, 10, len(store) - 1):
        clip = store.clip(index)
        subject, action, cam, start = expected[index]
        frames = range(start, start + 8)
        mono = read_cdf_pose(mini / subject / "MyPoseFeatures" / "D3_Positions_mono"
                             / f"{action}.{cam}.cdf", 3)
        np.testing.assert_allclose(clip["joints3d"], mono[frames][:, list(H36M_32_TO_17)],
                                   atol=1e-3)
        # Each frame is the right one: its background grey encodes the frame index.
        for t, frame in enumerate(clip["frames"]):
            grey = frame[..., 0][(frame[..., 0] > 10) & (frame[..., 0] < 250)]
            assert abs(np.median(grey) - background(start + t)) <= 2
        # The 2D labels land on the white joint dots of the crop.
        uv = np.rint(clip["joints2d"]).astype(int)
        inside = np.all((uv >= 0) & (uv < SIZE), axis=-1)
        values = clip["frames"][np.nonzero(inside)[0], uv[inside][:, 1], uv[inside][:, 0], 0]
        assert inside.mean() > 0.9 and np.mean(values > 180) > 0.9


def test_interrupted_then_resumed_is_identical(mini, reference, tmp_path, monkeypatch):
    out = tmp_path / "store"
    original = ClipStoreWriter.add
    calls = {"n": 0}

    def failing_add(self, *args, **kw):
        calls["n"] += 1
        if calls["n"] == 11:
            raise KeyboardInterrupt  # as if the user pressed Ctrl-C mid-run
        return original(self, *args, **kw)

    monkeypatch.setattr(ClipStoreWriter, "add", failing_add)
    with pytest.raises(KeyboardInterrupt):
        _prepare(mini, out)
    assert not out.exists() and partial_path(out).is_dir()
    monkeypatch.setattr(ClipStoreWriter, "add", original)

    resumed = []
    monkeypatch.setattr(ClipStoreWriter, "add",
                        lambda self, *a, **kw: (resumed.append(kw["start"]), original(self, *a,
                                                                                     **kw)))
    _prepare(mini, out)
    assert len(resumed) == len(ClipStore(reference)) - 8  # two chunks of 4 were already done
    assert _files(out) == _files(reference)
    assert not partial_path(out).exists()


def test_changed_settings_do_not_resume(mini, reference, tmp_path, monkeypatch):
    out = tmp_path / "store"
    original = ClipStoreWriter.add
    calls = {"n": 0}

    def failing_add(self, *args, **kw):
        calls["n"] += 1
        if calls["n"] == 9:
            raise KeyboardInterrupt
        return original(self, *args, **kw)

    monkeypatch.setattr(ClipStoreWriter, "add", failing_add)
    with pytest.raises(KeyboardInterrupt):
        _prepare(mini, out, stride=8)
    monkeypatch.setattr(ClipStoreWriter, "add", original)
    _prepare(mini, out)  # stride 4 now: starts afresh
    assert _files(out) == _files(reference)


def test_output_does_not_depend_on_segments(mini, reference, tmp_path):
    _prepare(mini, tmp_path / "whole", segment_clips=1000)
    assert _files(tmp_path / "whole") == _files(reference)


def test_parallel_workers_same_store(mini, reference, tmp_path):
    _prepare(mini, tmp_path / "par", workers=2)
    assert _files(tmp_path / "par") == _files(reference)


def test_world_positions_and_projection_when_mono_and_2d_absent(mini, reference, tmp_path):
    root = tmp_path / "h36m"
    shutil.copytree(mini, root)
    for kind in ("D3_Positions_mono", "D2_Positions"):
        for subject in SEQUENCES:
            shutil.rmtree(root / subject / "MyPoseFeatures" / kind)
    _prepare(root, tmp_path / "store")
    a, b = ClipStore(tmp_path / "store"), ClipStore(reference)
    assert len(a) == len(b)
    for i in range(len(a)):
        np.testing.assert_allclose(a.read("joints3d", i), b.read("joints3d", i), atol=1e-3)
        np.testing.assert_allclose(a.read("joints2d", i), b.read("joints2d", i), atol=1e-3)


def test_downsample_and_stride(mini, tmp_path):
    _prepare(mini, tmp_path / "ds", subjects=["S1"], cameras=["55011271"], downsample=2,
             stride=10)
    store = ClipStore(tmp_path / "ds")
    assert list(store.column("start")) == clip_starts(40, 8, 10, 2) == [0, 10, 20]
    assert store.attrs["fps"] == 25.0
    clip = store.clip(1)
    for t, frame in enumerate(clip["frames"]):
        grey = frame[..., 0][(frame[..., 0] > 10) & (frame[..., 0] < 250)]
        assert abs(np.median(grey) - background(10 + 2 * t)) <= 2


def test_pose_store_from_official_layout(mini, tmp_path):
    out = prepare_h36m(mini, tmp_path / "poses", cameras=CAMS, poses_only=True,
                       cameras_h5=mini / "cameras.h5")
    store = PoseStore(out)
    assert len(store) == 4  # (S1 Walking + S11 Directions) x 2 cameras; no video needed
    assert store.indices("test") == [2, 3]
    seq = store.sequences[0]
    assert (seq["subject"], seq["action"], seq["camera"], seq["fps"], seq["frames"]) == (
        "S1", "Walking", CAMS[0], 50.0, 40)
    mono = read_cdf_pose(mini / "S1/MyPoseFeatures/D3_Positions_mono/Walking.54138969.cdf", 3)
    d2 = read_cdf_pose(mini / "S1/MyPoseFeatures/D2_Positions/Walking.54138969.cdf", 2)
    np.testing.assert_allclose(store.joints3d(0), mono[:, list(H36M_32_TO_17)], atol=1e-3)
    np.testing.assert_allclose(store.joints2d(0), d2[:, list(H36M_32_TO_17)], atol=1e-3)
    # The stored camera re-projects the 3D joints onto the 2D ones.
    np.testing.assert_allclose(store.camera(0).project(store.joints3d(0)), store.joints2d(0),
                               atol=1e-2)


def test_crop_helpers():
    pts = np.array([[10.0, 20.0], [30.0, 60.0]])
    x0, y0, side = crop_box(pts, margin=0.25, min_size=8)
    assert side == 60 and (x0, y0) == (-10, 10)
    image = np.arange(50 * 40 * 3, dtype=np.uint32).reshape(50, 40, 3).astype(np.uint8)
    crop = crop_resize(image, (x0, y0, side), side)
    np.testing.assert_array_equal(crop[:40, 10:50], image[10:50, 0:40])
    assert not crop[:, :10].any() and not crop[40:].any()  # black outside the image
    np.testing.assert_allclose(to_crop_pixels(pts, (x0, y0, side), side), pts - (x0, y0))
    assert crop_resize(image, (x0, y0, side), 30).shape == (30, 30, 3)
    # Scaling maps pixel centres: source pixel x0 is the centre of the first output pixel block.
    np.testing.assert_allclose(to_crop_pixels([[x0 - 0.5, y0 - 0.5]], (x0, y0, side), 30),
                               [[-0.5, -0.5]])


def test_seeking_decodes_the_same_frames_as_reading_from_the_start(mini):
    video = mini / "S1" / "Videos" / "Walking.54138969.mp4"
    seq = [f.to_ndarray(format="rgb24") for _, f in iter_video_frames(video, 0, 39, 40)]
    assert len(seq) == 40
    for first in (3, 8, 19, 39):  # keyframes every 8 frames
        seeked = list(iter_video_frames(video, first, min(first + 8, 39), 40))
        plain = list(iter_video_frames(video, first, min(first + 8, 39), 40, seek=False))
        assert [i for i, _ in seeked] == [i for i, _ in plain] == list(range(first,
                                                                             min(first + 9, 40)))
        for i, frame in seeked:
            np.testing.assert_array_equal(frame.to_ndarray(format="rgb24"), seq[i])
            assert abs(np.median(seq[i][..., 0]) - background(i)) <= 2
    # A video that ends before the poses do is reported while decoding, too.
    with pytest.raises(DynaPoseError, match="shorter than its poses") as exc:
        list(iter_video_frames(video, 30, 44, 45))
    assert str(video) in str(exc.value)


# -- bad input: one-line error naming the file, nothing written ---------------------------------
def _assert_nothing_written(out: Path) -> None:
    assert not out.exists()
    assert not partial_path(out).exists()


def test_missing_subject_folder(mini, tmp_path):
    with pytest.raises(DynaPoseError, match="subject folder S5 is missing") as exc:
        _prepare(mini, tmp_path / "s", subjects=["S1", "S5"])
    assert str(mini / "S5") in str(exc.value) and "\n" not in str(exc.value)
    _assert_nothing_written(tmp_path / "s")


def test_cdf_without_pose(mini, tmp_path):
    root = tmp_path / "h36m"
    shutil.copytree(mini, root)
    bad = root / "S1/MyPoseFeatures/D3_Positions_mono/Walking.55011271.cdf"
    write_cdf(bad, np.zeros((40, 32, 3)), variable="Positions")
    with pytest.raises(DynaPoseError, match="no 'Pose' variable") as exc:
        _prepare(root, tmp_path / "s")
    assert str(bad) in str(exc.value)
    _assert_nothing_written(tmp_path / "s")


def test_video_shorter_than_poses(mini, tmp_path):
    root = tmp_path / "h36m"
    shutil.copytree(mini, root)
    bad = root / "S11/Videos/Directions.55011271.mp4"
    write_video(bad, np.full((24, 17, 2), 30.0), frames=20)
    with pytest.raises(DynaPoseError, match="shorter than its poses") as exc:
        _prepare(root, tmp_path / "s")
    assert str(bad) in str(exc.value)
    _assert_nothing_written(tmp_path / "s")


def test_unknown_camera_id(mini, tmp_path):
    with pytest.raises(DynaPoseError, match="unknown camera id 12345678"):
        _prepare(mini, tmp_path / "s", cameras=["12345678"])
    root = tmp_path / "h36m"
    shutil.copytree(mini, root)
    stray = root / "S1/Videos/Walking.12345678.mp4"
    shutil.copy(root / "S1/Videos/Walking.55011271.mp4", stray)
    with pytest.raises(DynaPoseError, match="unknown camera id 12345678") as exc:
        _prepare(root, tmp_path / "s")
    assert str(stray) in str(exc.value)
    _assert_nothing_written(tmp_path / "s")


def test_existing_store_is_not_overwritten(mini, reference):
    before = _files(reference)
    with pytest.raises(DynaPoseError, match="already exists"):
        _prepare(mini, reference)
    assert _files(reference) == before


def test_clips_need_videos(tmp_path):
    npz = tmp_path / "data_3d_h36m.npz"
    np.savez(npz, positions_3d=np.array({"S1": {"Walking": np.zeros((9, 32, 3), np.float32)}},
                                        dtype=object))
    with pytest.raises(DynaPoseError, match="use --poses-only"):
        prepare_h36m(npz, tmp_path / "s", progress=False)


# -- command line --------------------------------------------------------------------------------
def test_cli_prepare(mini, reference, tmp_path):
    out = tmp_path / "cli"
    args = ["prepare", "h36m", str(mini), "--out", str(out), "--cameras", ",".join(CAMS),
            "--size", str(SIZE), "--stride", "4", "--cameras-h5", str(mini / "cameras.h5"),
            "--chunk-clips", "4", "--segment-clips", "3", "--no-progress"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert _files(out) == _files(reference)
    assert str(out) in result.stdout
    assert "warning: skipping S11 Directions camera 54138969" in result.stderr

    result = CliRunner().invoke(main, [*args[:3], "--out", str(tmp_path / "poses"),
                                       "--cameras", ",".join(CAMS), "--poses-only"])
    assert result.exit_code == 0, result.output
    assert len(PoseStore(tmp_path / "poses")) == 4

    result = CliRunner().invoke(main, ["prepare", "h36m", str(mini), "--out",
                                       str(tmp_path / "x"), "--subjects", "S7"])
    assert result.exit_code == 2
    assert result.output.strip().startswith("error: ") and "S7" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_pose_store_refuses_bad_input(mini, reference, tmp_path):
    from dynapose.camera import Camera
    from dynapose.data.pose_store import PoseStoreWriter

    with pytest.raises(DynaPoseError, match="pose store not found"):
        PoseStore(tmp_path / "nothing")
    with pytest.raises(DynaPoseError, match="not a pose store"):
        PoseStore(reference)  # a clip store
    cam = Camera(R=np.eye(3), T=np.zeros(3), f=[500, 500], c=[320, 240], name="c")
    out = tmp_path / "poses"
    with pytest.raises(DynaPoseError, match="joints2d has shape"), PoseStoreWriter(out) as w:
        w.add(np.zeros((3, 17, 3)), np.zeros((3, 17, 2)), camera=cam, subject="S1",
              action="a", fps=50)
        w.add(np.zeros((3, 17, 3)), np.zeros((2, 17, 2)), camera=cam, subject="S1",
              action="b", fps=50)
    assert not out.exists() and not partial_path(out).exists()
    with PoseStoreWriter(out) as w:
        w.add(np.ones((3, 17, 3)), np.ones((3, 17, 2)), camera=cam, subject="S1", action="a",
              fps=50)
    (out / "00000.joints2d.npy").write_bytes(b"garbage")
    with pytest.raises(DynaPoseError, match=r"not a \.npy array"):
        PoseStore(out).joints2d(0)
    np.testing.assert_array_equal(PoseStore(out).joints3d(0), np.ones((3, 17, 3)))
