"""Several people in one video (dynapose.people): tracking on made-up poses, then the real
MediaPipe models on real photographs of people placed side by side."""

from __future__ import annotations

import filecmp
import json
import math
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from dynapose.errors import DynaPoseError
from dynapose.people.blazepose import roi_from_points, same_person
from dynapose.people.predict import choose, parse_people, scene_floor
from dynapose.people.tracking import track_people

STANDING = np.array([  # a person standing, (17, 2) px, 100 px tall, pelvis at the origin
    [0, 0], [-10, 0], [-10, 25], [-10, 50], [10, 0], [10, 25], [10, 50], [0, -20], [0, -35],
    [0, -42], [0, -50], [10, -33], [14, -18], [16, -5], [-10, -33], [-14, -18], [-16, -5]],
    dtype=np.float64)


def _pose(x: float, y: float = 200.0, scale: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    return STANDING * scale + [x, y], np.ones(17)


def test_crossing_people_keep_their_numbers() -> None:
    """Two people walk past each other; the one behind is hidden for 6 frames while they
    overlap; a third enters late; a false detection shows for 2 frames."""
    frames = []
    for i in range(60):
        a, b = 100 + 5 * i, 400 - 5 * i  # they meet at frame 30
        poses = [_pose(a)]
        if abs(a - b) > 30:  # b, walking behind, is hidden while they overlap
            poses.append(_pose(b, scale=0.9))
        if i >= 40:
            poses.append(_pose(600, y=260))
        if i in (10, 11):
            poses.append(_pose(700, y=50))
        frames.append(poses[::-1] if i % 2 else poses)  # the finder's order means nothing
    tracking = track_people(frames, max_gap=10, min_frames=5)
    assert [t.id for t in tracking.tracks] == [1, 2, 3]
    first, second, late = tracking.tracks
    assert first.first == 0 and second.first == 0 and late.first == 40
    assert np.nanmean(first.pixels[:5, 0, 0]) < np.nanmean(second.pixels[:5, 0, 0])
    # identities hold through the crossing: person 1 ends on the right, person 2 on the left
    assert first.found.all() and first.pixels[-1, 0, 0] == pytest.approx(100 + 5 * 59)
    assert second.pixels[-1, 0, 0] == pytest.approx(400 - 5 * 59)
    assert 0 < (~second.found).sum() <= 7
    assert [(t.first, t.num_found) for t in tracking.short] == [(10, 2)]
    assert tracking.per_frame()[0] == 2 and tracking.per_frame()[45] == 3


def test_a_person_gone_longer_than_max_gap_comes_back_as_someone_new() -> None:
    frames = [[_pose(100)] if i < 10 or i >= 30 else [] for i in range(40)]
    assert len(track_people(frames, max_gap=25, min_frames=3).tracks) == 1
    assert len(track_people(frames, max_gap=5, min_frames=3).tracks) == 2


def test_minimum_track_length_wants_frames_in_a_row() -> None:
    """A false pose now and then at one place adds up to many frames, never to a row."""
    frames = [[_pose(100)] + ([_pose(400)] if i % 5 == 0 else []) for i in range(80)]
    frames[30:33] = [[] for _ in range(3)]  # person 1 missed for 3 frames: a row broken
    tracking = track_people(frames, max_gap=10, min_frames=12)
    assert [t.id for t in tracking.tracks] == [1] and tracking.tracks[0].longest_run() == 47
    [short] = tracking.short
    assert short.num_found == 15 and short.longest_run() == 1
    frames[31] = [_pose(100)]  # misses of 1 and 1 frame: the row holds (misses not counted)
    assert track_people(frames, max_gap=10, min_frames=12).tracks[0].longest_run() == 78


def test_choosing_people() -> None:
    frames = [[_pose(100), _pose(300, scale=1.5)] for _ in range(10)]
    tracking = track_people(frames, min_frames=3)
    assert [t.id for t in choose(tracking, "all")] == [1, 2]
    assert [t.id for t in choose(tracking, "largest")] == [2]
    assert [t.id for t in choose(tracking, 1)] == [1]
    with pytest.raises(DynaPoseError, match=r"^--people 3: no such person; the people found "
                                            r"are 1 \(frames 0-9\), 2 \(frames 0-9\)$"):
        choose(tracking, "3")
    for bad in ("0", "-1", "two", 0):
        with pytest.raises(DynaPoseError, match="--people takes all, largest or a person's"):
            parse_people(bad)
    assert parse_people("2") == 2 and parse_people("largest") == "largest"


def test_bad_outputs_are_refused_before_the_search(tmp_path: Path) -> None:
    from dynapose.people.predict import predict_people

    video = tmp_path / "clip.mp4"
    video.write_bytes(b"not looked at")
    with pytest.raises(DynaPoseError, match="output folder must not contain the video"):
        predict_people(video, out_dir=tmp_path, overwrite=True)
    with pytest.raises(DynaPoseError, match="already exists"):
        predict_people(video, out_dir=tmp_path)
    with pytest.raises(DynaPoseError, match="--people takes all, largest"):
        predict_people(video, "everyone", out_dir=tmp_path / "out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4"]


def test_roi_and_duplicates() -> None:
    # hips at the centre, the scale point straight above: upright, not turned, 2.5 x 100 px
    roi = roi_from_points(np.array([0.5, 0.5]), np.array([0.5, 0.25]), 400, 400)
    assert (roi.x, roi.y) == (0.5, 0.5) and roi.rotation == pytest.approx(0.0)
    assert roi.width == pytest.approx(2 * 100 * 1.25 / 400)
    tilted = roi_from_points(np.array([0.5, 0.5]), np.array([0.75, 0.5]), 400, 400)
    assert tilted.rotation == pytest.approx(math.pi / 2)  # lying on the right side
    a = _pose(100)[0]
    assert same_person(a, a + 3) and not same_person(a, a + 40)


# -- the real models on real photographs ----------------------------------------------------


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A real photograph of a person (scikit-image's astronaut), 8 frames moving a little:
    alone, and beside her mirror image (two people in one 512 x 256 video)."""
    pytest.importorskip("mediapipe")
    skimage_data = pytest.importorskip("skimage.data")
    from PIL import Image

    from dynapose.io.video import write_test_video

    root = tmp_path_factory.mktemp("people")
    photo = np.asarray(Image.fromarray(skimage_data.astronaut()).resize((256, 256)))
    one = [np.roll(photo, (i, 2 * i), axis=(0, 1)) for i in range(8)]
    two = [np.concatenate([f, np.roll(photo[:, ::-1], (-i, i), axis=(0, 1))], axis=1)
           for i, f in enumerate(one)]
    # the two people on a textured background, the camera panning 8 px a frame
    texture = np.asarray(Image.fromarray(skimage_data.coffee()).resize((64, 256)))
    canvas = np.concatenate([texture, photo, photo[:, ::-1], texture[:, ::-1]], axis=1)
    panned = [np.ascontiguousarray(canvas[:, 8 * i: 8 * i + 576]) for i in range(8)]
    return {"root": root, "one": write_test_video(root / "one.mp4", np.stack(one), fps=10.0),
            "two": write_test_video(root / "two.mp4", np.stack(two), fps=10.0),
            "panned": write_test_video(root / "panned.mp4", np.stack(panned), fps=10.0)}


def test_finder_sees_both_people_in_every_frame(clips: dict[str, Path],
                                               capfd: pytest.CaptureFixture[str]) -> None:
    from dynapose.people.predict import find_people

    found = find_people(clips["two"], min_frames=4)
    os.write(2, b"stderr is back\n")
    err = capfd.readouterr().err  # MediaPipe's own log lines held back, stderr given back
    assert err == "stderr is back\n", err
    assert [len(p) for p in found.poses] == [2] * 8
    tracks = found.tracking.tracks
    assert [t.id for t in tracks] == [1, 2] and all(t.found.all() for t in tracks)
    assert np.nanmax(tracks[0].pixels[..., 0]) < 256 < np.nanmin(tracks[1].pixels[..., 0])


def test_predict_people_writes_everyone(clips: dict[str, Path]) -> None:
    from dynapose.io.video import iter_frames
    from dynapose.people.motion import export_people_motion
    from dynapose.people.predict import predict_people

    out = clips["root"] / "two-pose"
    preds = predict_people(clips["two"], "all", out, min_frames=4,
                           visuals=("overlay", "skeleton3d", "viewer"))
    assert len(preds) == 2 and preds.numbers == [1, 2]
    assert sorted(p.name for p in out.iterdir()) == [
        "overlay.mp4", "people.json", "people.npz", "person-1", "person-2", "scene.mp4",
        "viewer.html"]
    assert sorted(p.name for p in (out / "person-2").iterdir()) == [
        "joints.csv", "joints.json", "joints.npz", "overlay.mp4", "skeleton3d.mp4",
        "viewer.html"]
    with np.load(out / "people.npz") as data:
        assert data["joints"].shape == (2, 8, 17, 3) and data["valid"].all()
        assert list(data["person"]) == [1, 2]
        np.testing.assert_array_equal(data["joints"][1], preds[1].joints)
        joints = data["joints"]
    # the viewer: everyone in one scene, in the overlay's colours, on scene.mp4's floor
    page = (out / "viewer.html").read_text(encoding="utf-8")
    shown = json.loads(re.search(r'<script id="pose-data" type="application/json">(.*?)'
                                 r'</script>', page, re.S).group(1))  # type: ignore[union-attr]
    people = json.loads((out / "people.json").read_text())["people"]
    assert [p["person"] for p in shown["people"]] == [1, 2]
    assert [p["color"] for p in shown["people"]] == [
        "#{:02x}{:02x}{:02x}".format(*p["color"]) for p in people]
    np.testing.assert_allclose(np.array(shown["joints"][5][1]).reshape(17, 3), joints[1, 5],
                               atol=0.06)
    assert len(shown["images"]) == 8 and all(shown["images"])
    floor = scene_floor(preds)
    assert (shown["floor"] is None) == (floor is None)
    # both in one camera frame: side by side, the same size, so about the same depth
    pelvis = np.stack([p.joints[:, 0] for p in preds])
    assert (pelvis[0, :, 0] < pelvis[1, :, 0]).all()
    assert abs(np.median(pelvis[0, :, 2]) / np.median(pelvis[1, :, 2]) - 1) < 0.35
    overlay = [f.image for f in iter_frames(out / "overlay.mp4")]
    assert len(overlay) == 8 and overlay[0].shape == (256, 512, 3)
    assert len(list(iter_frames(out / "scene.mp4"))) == 8
    reports = export_people_motion(out, clips["root"] / "two.bvh",
                                   report_path=clips["root"] / "two.json")
    assert [r["person"] for r in reports] == [1, 2]
    assert [Path(r["report"]).name for r in reports] == ["two-person-1.json", "two-person-2.json"]
    assert {r["floor_from_person"] for r in reports} == {reports[0]["floor_from_person"]}
    assert all(Path(r["bvh"]).is_file() for r in reports)
    assert reports[0]["world"]["camera"] == reports[1]["world"]["camera"]


@pytest.mark.skipif(shutil.which("chromium") is None, reason="headless Chromium not installed")
def test_people_viewer_renders_in_chromium(clips: dict[str, Path], tmp_path: Path) -> None:
    from dynapose.people.predict import predict_people

    out = tmp_path / "two-pose"
    predict_people(clips["two"], "all", out, min_frames=4, visuals=("viewer",))
    run = subprocess.run(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=5000", "--dump-dom",
         (out / "viewer.html").as_uri() + "#selftest"], capture_output=True, text=True,
        timeout=120)
    body = re.search(r"<body([^>]*)>", run.stdout)
    assert body is not None, run.stdout[:300]
    state = dict(re.findall(r'(data-[a-z-]+)="([^"]*)"', body.group(1)))
    assert "data-error" not in state, state
    assert state["data-people"] == "1,2" and int(state["data-drawn"]) > 1000
    assert "false" not in state["data-selftest"]


def test_one_person_gives_what_predict_gives(clips: dict[str, Path]) -> None:
    from dynapose import predict
    from dynapose.people.predict import predict_people

    root = clips["root"]
    [mine] = predict_people(clips["one"], "all", root / "one-people",
                            visuals=("overlay", "viewer"))
    ref = predict(clips["one"], out_dir=root / "one-ref", visuals=("overlay", "viewer"))
    assert sorted(mine.files) == sorted(ref.files)
    for kind, file in ref.files.items():
        assert filecmp.cmp(file, mine.files[kind], shallow=False), kind
    assert '"people":' not in mine.files["viewer"].read_text(encoding="utf-8")  # one person's


@pytest.mark.slow
def test_cli_names_the_people_found(clips: dict[str, Path]) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(Path(__file__).resolve().parents[1] / "src"), os.environ.get("PYTHONPATH", "")])}
    root = clips["root"]

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "dynapose", *args], capture_output=True,
                              text=True, env=env, timeout=300)

    done = run("predict", str(clips["two"]), "--no-visuals", "--people", "3",
               "--out", str(root / "cli-3"))
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.splitlines() == [
        "error: --people 3: no such person; the people found are 1 (frames 0-7), "
        "2 (frames 0-7)"]
    assert not (root / "cli-3").exists()
    refused = run("predict", str(clips["two"]), "--keypoints", "k.npy", "--people", "2",
                  "--out", str(root / "cli-refused"))
    assert refused.returncode == 2 and "--people applies to the lifter on MediaPipe" in \
        refused.stderr
    done = run("predict", str(clips["two"]), "--no-visuals", "--out", str(root / "cli-all"))
    assert done.returncode == 0, done.stderr
    assert "people: 1 (frames 0-7, 8 found), 2 (frames 0-7, 8 found)" in done.stdout
    panned = run("predict", str(clips["panned"]), "--no-visuals", "--out", str(root / "cli-pan"))
    assert panned.returncode == 0, panned.stderr
    camera = [line for line in panned.stdout.splitlines() if "camera: moves" in line]
    assert len(camera) == 1 and camera[0].startswith("camera: ")  # for everyone, said once
    assert sorted(p.name for p in (root / "cli-all").iterdir()) == [
        "people.json", "people.npz", "person-1", "person-2"]
    bvh = root / "cli.bvh"
    done = run("export-motion", str(root / "cli-all"), "--bvh", str(bvh), "--person", "5")
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"error: {root / 'cli-all'}: --person 5: no such person; the people are 1, 2"]
    done = run("export-motion", str(root / "cli-all"), "--bvh", str(bvh))
    assert done.returncode == 0, done.stderr
    assert (root / "cli-person-1.bvh").is_file() and (root / "cli-person-2.bvh").is_file()


def test_nobody_gives_predicts_error(tmp_path: Path) -> None:
    pytest.importorskip("mediapipe")
    from _predict_helpers import make_video
    from dynapose.people.predict import predict_people

    nobody = make_video(tmp_path / "nobody.mp4", n=4)
    with pytest.raises(DynaPoseError, match=r"nobody\.mp4: no person found in any of the 4 "
                                            r"frames by MediaPipe$"):
        predict_people(nobody, out_dir=tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_cut_video_keeps_everyone_seen_before_the_cut(clips: dict[str, Path],
                                                        tmp_path: Path) -> None:
    import av

    from dynapose.io.video import iter_frames
    from dynapose.people.predict import find_people, summary

    whole = tmp_path / "two-faststart.mp4"
    frames = [f.image for f in iter_frames(clips["two"])] * 3  # 24 frames, index first
    with av.open(str(whole), "w", options={"movflags": "+faststart"}) as c:
        s = c.add_stream("libx264", rate=10)
        s.width, s.height, s.pix_fmt = 512, 256, "yuv420p"
        s.options = {"preset": "veryfast", "g": "4"}
        for image in frames:
            c.mux(s.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        c.mux(s.encode())
    cut = tmp_path / "cut.mp4"
    data = whole.read_bytes()
    cut.write_bytes(data[: len(data) * 3 // 5])
    found = find_people(cut, min_frames=4)
    assert 4 <= len(found.poses) < 24 and len(found.damage) == 1
    assert [t.id for t in found.tracking.tracks] == [1, 2]
    said = summary(found.tracking.tracks, found)["video_damage"]
    assert said["frames_decoded"] == len(found.poses) and "truncated" in said["reason"]


def test_the_camera_is_measured_outside_everyone(clips: dict[str, Path]) -> None:
    """Several people's joints say whether the camera moves, measured on the background outside
    every person found (as `predict` does outside its one person's box)."""
    from dynapose.people.predict import predict_people

    video = clips["panned"]
    moving = predict_people(video, "all", min_frames=4)
    still = predict_people(clips["two"], "all", min_frames=4)
    assert len(moving) == 2 and len(still) == 2
    assert [p.method["camera_motion"]["camera"] for p in moving] == ["moves", "moves"]
    assert moving[0].method["camera_motion"]["max_background_shift"] > 0.05
    assert [p.method["camera_motion"]["camera"] for p in still] == ["still", "still"]


def test_a_closed_finder_is_let_go() -> None:
    """Its graphs' callbacks hold it through C++ (a cycle the collector cannot see), and every
    finder kept alive keeps its models' memory: a process finding people in many videos grew by
    about 100 MB a video."""
    pytest.importorskip("mediapipe")
    import gc
    import weakref

    from dynapose.people.blazepose import PeopleFinder

    finder = PeopleFinder(max_people=2)
    finder(np.zeros((64, 96, 3), np.uint8))
    gone = weakref.ref(finder)
    finder.close()
    del finder
    gc.collect()
    assert gone() is None
