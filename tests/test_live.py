"""``dynapose live``: the causal lifter, the VMC conversion and protocol, and real sessions on video
files and local streams (no camera needed): an OSC server and WebSocket clients receive what is
sent, a headless browser opens the page, SIGINT ends a session with its recording whole."""

from __future__ import annotations

import http.server
import importlib.util
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from dynapose.cli import main
from dynapose.errors import DynaPoseError

SRC = str(Path(__file__).resolve().parents[1] / "src")


def _env() -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([SRC, os.environ.get("PYTHONPATH", "")])}
    env.pop("DYNAPOSE_DEBUG", None)
    return env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _quat_rotate(q: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Rotate v (3,) by the unit quaternion q = (x, y, z, w) (Hamilton product, written out)."""
    u, w = np.asarray(q[:3], dtype=np.float64), float(q[3])
    return v + 2.0 * np.cross(u, np.cross(u, v) + w * v)


def _angle_deg(a: np.ndarray, b: np.ndarray) -> float:
    c = float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))
    return float(np.degrees(np.arccos(np.clip(c, -1.0, 1.0))))


# -- the causal lifter ----------------------------------------------------------------------

def test_live_pose_is_predicts_pose_of_the_video_cut_at_that_frame(one_thread: None) -> None:
    """Frame t's live pose equals the offline lift (``predict``'s) of the sequence ending at t:
    the shipped lifter's centred window gets its future half from the newest frame."""
    from dynapose.camera import normalize_screen
    from dynapose.inference.lifting import lift_sequence
    from dynapose.live.pose import CausalLifter

    rng = np.random.default_rng(0)
    kp = rng.uniform(200, 400, (17, 2)) + np.cumsum(rng.normal(0, 2, (60, 17, 2)), axis=0)
    times = np.arange(60) / 50.0  # the lifters' own rate: no resampling on either side
    live = CausalLifter(640, 480, rigid=False)
    assert live.lookahead_s == pytest.approx(1.6)  # 81 frames at stride 2, centred
    poses = [live(t, p).joints for t, p in zip(times, kp, strict=True)]
    for t in (0, 7, 59):
        offline = lift_sequence(live.model, normalize_screen(kp[: t + 1], 640, 480), None,
                                flip_tta=True)[-1]
        assert np.abs((poses[t] - poses[t][0]) - offline).max() < 1e-2


def test_live_pose_gaps_rigid_bones_and_root(one_thread: None) -> None:
    """No person: NaN joints and the history kept; rigid bones: one length per bone (the
    median so far), left = right; the root in front of the camera, reprojecting near the 2D."""
    from dynapose.camera import solve_root_translation
    from dynapose.live.pose import CausalLifter
    from dynapose.skeleton import LEFT_JOINTS, RIGHT_JOINTS, bone_lengths

    rng = np.random.default_rng(1)
    kp = rng.uniform(250, 350, (17, 2)) + np.cumsum(rng.normal(0, 1, (12, 17, 2)), axis=0)
    live = CausalLifter(640, 480)
    out = [live(i / 30, None if i == 4 else kp[i]) for i in range(12)]
    assert not out[4].found and np.isnan(out[4].joints).all()
    last = out[-1]
    lengths = bone_lengths(last.joints)
    assert np.allclose(lengths, last.lengths, atol=1e-6)
    for left, right in zip(LEFT_JOINTS, RIGHT_JOINTS, strict=True):
        assert lengths[left - 1] == pytest.approx(lengths[right - 1])
    assert last.joints[0, 2] > 500  # in front of the camera
    rel = last.joints - last.joints[0]  # the root: predict's reprojection solve, per frame
    root = solve_root_translation(rel[None], kp[-1][None], None, live.focal, live.cx, live.cy)
    assert np.allclose(last.joints[0], root[0], atol=1e-6)


# -- the VMC conversion and protocol ----------------------------------------------------------

def _posed_joints() -> tuple[np.ndarray, np.ndarray]:
    """World joints (Y up, mm) of a person with rigid bones, arms and legs bent, and lengths."""
    from dynapose.inference.refine import sequence_bone_lengths, with_bone_lengths
    from dynapose.live.vmc import rest_joints

    rng = np.random.default_rng(3)
    rest = rest_joints(np.full(16, 250.0))
    joints = rest + rng.normal(0, 60, (17, 3)) + np.array([300.0, 950.0, -200.0])
    lengths = sequence_bone_lengths(joints[None])
    return with_bone_lengths(joints, lengths), lengths


def test_humanoid_rotations_turn_each_bone_onto_the_joints() -> None:
    """Composed from the hips down, the sent local quaternions turn every bone's rest offset
    onto the observed bone (Unity coordinates), and the rest pose sends identities."""
    from dynapose.live.vmc import HUMANOID, humanoid_pose, rest_joints, to_unity_position

    joints, lengths = _posed_joints()
    pose = humanoid_pose(joints, lengths)
    assert np.isfinite(pose.rotations).all()
    assert np.allclose(np.linalg.norm(pose.rotations, axis=1), 1.0)
    names = [b[0] for b in HUMANOID]
    world: dict[str, np.ndarray] = {}  # each bone's world rotation as a quaternion chain
    unity = to_unity_position(joints)
    checked = 0
    for b, (name, _, parent, at) in enumerate(HUMANOID):
        chain = [pose.rotations[b]] if parent is None else [*world[parent], pose.rotations[b]]
        world[name] = chain
        if parent is None or HUMANOID[names.index(parent)][3] == at:
            continue
        if parent == "Hips":  # the avatar's hips are rigid: hips, legs and spine start fixed
            continue
        offset = pose.positions[b]
        for q in reversed(world[parent]):
            offset = _quat_rotate(q, offset)
        bone = unity[at] - unity[HUMANOID[names.index(parent)][3]]
        assert _angle_deg(offset, bone) < 1e-6, name
        assert np.linalg.norm(offset) == pytest.approx(np.linalg.norm(bone), rel=1e-6)
        checked += 1
    assert checked == 12  # every bone but the hips' rigid offsets and the zero-length ones
    rest = humanoid_pose(rest_joints(lengths) + np.array([0.0, 900.0, 0.0]), lengths)
    assert np.allclose(rest.rotations, [0.0, 0.0, 0.0, 1.0], atol=1e-9)


def test_unity_convention_left_handed_mirror() -> None:
    """The person's left arm hanging down: in Unity (left-handed, the avatar's left towards
    -X) LeftUpperArm's local rotation takes the rest direction -X to -Y; the hips a quarter
    turn to the person's left (counter-clockwise seen from above, right-handed) is a turn
    about Unity's Y that takes the avatar's forward +Z to its left, -X."""
    from dynapose.live.vmc import BONE_NAMES, humanoid_pose, rest_joints

    lengths = np.full(16, 250.0)
    joints = rest_joints(lengths) + np.array([0.0, 900.0, 0.0])
    shoulder, elbow, wrist = 11, 12, 13
    joints[elbow] = joints[shoulder] + [0.0, -250.0, 0.0]
    joints[wrist] = joints[elbow] + [0.0, -250.0, 0.0]
    pose = humanoid_pose(joints, lengths)
    q = pose.rotations[BONE_NAMES.index("LeftUpperArm")]
    assert np.allclose(_quat_rotate(q, np.array([-1.0, 0.0, 0.0])), [0.0, -1.0, 0.0], atol=1e-9)
    # a quarter turn about +Y (ours): the person faces +X, their own left
    turn = np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [-1.0, 0.0, 0.0]])
    rest = rest_joints(lengths)
    turned = rest @ turn.T + [0.0, 900.0, 0.0]
    hips = humanoid_pose(turned, lengths).rotations[0]
    assert np.allclose(_quat_rotate(hips, np.array([0.0, 0.0, 1.0])), [-1.0, 0.0, 0.0],
                       atol=1e-9)


def test_osc_bundle_reads_back_with_python_osc() -> None:
    from pythonosc.osc_bundle import OscBundle

    from dynapose.live.vmc import BONE_NAMES, humanoid_pose, osc_bundle, vmc_messages

    joints, lengths = _posed_joints()
    messages = vmc_messages(humanoid_pose(joints, lengths), 1.25)
    bundle = OscBundle(osc_bundle(messages))
    got = [(m.address, m.params) for m in bundle]
    assert [a for a, _ in got] == ["/VMC/Ext/OK", "/VMC/Ext/T", "/VMC/Ext/Root/Pos",
                                   *["/VMC/Ext/Bone/Pos"] * len(BONE_NAMES)]
    assert got[0][1] == [1, 3, 0, 1] and got[1][1] == [pytest.approx(1.25)]
    assert [p[0] for _, p in got[3:]] == list(BONE_NAMES)
    for (_, sent), (_, read) in zip(messages[2:], got[2:], strict=True):
        assert read[0] == sent[0]
        assert np.allclose(read[1:], sent[1:], atol=1e-6)  # 32-bit floats
    nobody = [(m.address, m.params) for m in OscBundle(osc_bundle(vmc_messages(None, 2.0)))]
    assert nobody == [("/VMC/Ext/OK", [1, 3, 0, 0]), ("/VMC/Ext/T", [2.0])]


def test_addresses_and_sources_refused_in_one_line(tmp_path: Path) -> None:
    from dynapose.live.server import parse_address
    from dynapose.live.source import open_source, parse_source

    assert parse_address("127.0.0.1:39539", "--osc") == ("127.0.0.1", 39539)
    assert parse_address(":9000", "--osc") == ("127.0.0.1", 9000)
    for bad in ("localhost", "host:port", "h:0", "h:70000"):
        with pytest.raises(DynaPoseError, match="--osc takes HOST:PORT"):
            parse_address(bad, "--osc")
    assert parse_source("0") == 0 and parse_source("clip.mp4") == "clip.mp4"
    with pytest.raises(DynaPoseError, match="no such video file"):
        open_source(tmp_path / "missing.mp4")
    port = _free_port()  # nobody listens there
    with pytest.raises(DynaPoseError, match="cannot open the stream"):
        open_source(f"http://127.0.0.1:{port}/live.ts")


def test_a_stream_that_never_answers_times_out(monkeypatch: pytest.MonkeyPatch) -> None:
    """A server that accepts the connection and says nothing: refused after the timeout."""
    from dynapose.live import source

    monkeypatch.setattr(source, "URL_TIMEOUT_S", 1.0)
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/live.ts"
        start = time.monotonic()
        with pytest.raises(DynaPoseError, match=re.escape(url)):
            source.open_source(url)
        assert time.monotonic() - start < 15


def test_no_camera_is_one_line() -> None:
    """A camera index with no camera there (none has index 63): one line, OpenCV's own
    complaints held back, exit 2."""
    done = subprocess.run([sys.executable, "-m", "dynapose", "live", "63", "--view", "none"],
                          capture_output=True, text=True, env=_env(), timeout=120)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "error: camera 63: no camera there (pass another index, a stream URL or a video file)"]


# -- real sessions ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def person_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 320x240 video at 30 frames/s of a person (scikit-image's astronaut) moving sideways."""
    pytest.importorskip("mediapipe")
    pytest.importorskip("skimage")
    from dynapose.bench.live import person_frames
    from dynapose.io.video import write_test_video

    path = tmp_path_factory.mktemp("live") / "person.mp4"
    return write_test_video(path, person_frames(320, 240, 75, 30.0), fps=30.0)


@pytest.fixture
def osc_server() -> Iterator[tuple[int, list[tuple[float, str, tuple[object, ...]]]]]:
    """python-osc's UDP server on the loopback, recording (arrival time, address, args)."""
    from pythonosc.dispatcher import Dispatcher
    from pythonosc.osc_server import ThreadingOSCUDPServer

    got: list[tuple[float, str, tuple[object, ...]]] = []
    dispatcher = Dispatcher()
    dispatcher.set_default_handler(lambda address, *args: got.append(
        (time.monotonic(), address, args)))
    server = ThreadingOSCUDPServer(("127.0.0.1", 0), dispatcher)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield int(server.server_address[1]), got
    server.shutdown()
    server.server_close()


@pytest.mark.slow
def test_live_session_sends_vmc_and_json_and_records(
        person_video: Path, tmp_path: Path,
        osc_server: tuple[int, list[tuple[float, str, tuple[object, ...]]]]) -> None:
    """A video file played at its rate: VMC to a loopback OSC server (every processed frame,
    at the video's pace, the humanoid bones, finite values, knee and elbow bends matching the
    recorded joints), JSON to a WebSocket client, and the recording as predict writes it."""
    from websockets.sync.client import connect

    from dynapose.live.session import run_live
    from dynapose.live.vmc import BONE_NAMES

    port, got = osc_server
    ws_port = _free_port()
    received: list[dict[str, object]] = []

    def client() -> None:
        for _ in range(100):  # until the server is up
            try:
                ws = connect(f"ws://127.0.0.1:{ws_port}/ws")
                break
            except OSError:
                time.sleep(0.1)
        else:
            return
        with ws:
            try:
                while True:
                    received.append(json.loads(ws.recv(timeout=5)))
            except Exception:
                return

    reader = threading.Thread(target=client, daemon=True)
    reader.start()
    record = tmp_path / "rec"
    summary = run_live(person_video, osc=f"127.0.0.1:{port}", json_ws=f"127.0.0.1:{ws_port}",
                       record=record, visuals=("overlay",))
    reader.join(timeout=10)
    time.sleep(0.3)
    # how many frames are processed depends on the machine and its load; at least a few are
    assert summary.stopped == "end" and summary.frames >= 3 and summary.found >= 3
    assert summary.frames + summary.dropped == summary.captured == 75

    # OSC: one bundle per processed frame, at the video's pace
    times = [a for _, addr, a in got if addr == "/VMC/Ext/T"]
    assert len(times) == summary.osc_bundles == summary.frames
    t = np.array([float(a[0]) for a in times])
    assert np.all(np.diff(t) > 0) and t[-1] - t[0] > 2.0  # 75 frames at 30/s: 2.5 s
    arrival = [when for when, addr, _ in got if addr == "/VMC/Ext/T"]
    assert arrival[-1] - arrival[0] == pytest.approx(t[-1] - t[0], abs=1.0)
    bones = [a for _, addr, a in got if addr == "/VMC/Ext/Bone/Pos"]
    assert {str(a[0]) for a in bones} == set(BONE_NAMES)
    assert len(bones) == len(BONE_NAMES) * summary.found
    values = np.array([a[1:] for a in bones], dtype=np.float64)
    assert np.isfinite(values).all() and values.shape[1] == 7
    assert np.allclose(np.linalg.norm(values[:, 3:], axis=1), 1.0, atol=1e-5)
    oks = [a for _, addr, a in got if addr == "/VMC/Ext/OK"]
    assert len(oks) == summary.frames and {a[:3] for a in oks} == {(1, 3, 0)}

    # the rotations match the joints: knee and elbow bends, frame by frame
    npz = np.load(record / "joints.npz")
    joints, valid = npz["joints"].astype(np.float64), npz["valid"]
    assert len(joints) == summary.frames and valid.sum() == summary.found
    per_frame = [bones[i:i + len(BONE_NAMES)] for i in range(0, len(bones), len(BONE_NAMES))]
    for frame_bones, j in zip(per_frame, joints[valid], strict=True):
        rot = {str(a[0]): np.array(a[4:], dtype=np.float64) for a in frame_bones}
        for bone, (a, b, c) in (("LeftLowerLeg", (4, 5, 6)), ("RightLowerArm", (14, 15, 16))):
            bend = _angle_deg(j[b] - j[a], j[c] - j[b])
            sent = np.degrees(2 * np.arccos(np.clip(abs(rot[bone][3]), 0, 1)))
            assert sent == pytest.approx(bend, abs=0.01), bone

    # JSON over WebSocket: a hello, then frames with the joints
    assert received and received[0]["type"] == "hello"
    frames = [m for m in received if m["type"] == "frame"]
    assert len(frames) >= summary.frames - 2  # the client may join a frame or two late
    last = frames[-1]
    assert last["found"] and np.isfinite(np.array(last["joints_world_mm"])).all()
    assert np.allclose(np.array(last["joints_camera_mm"]), joints[-1], atol=0.06)

    # the recording: what predict writes, for the frames seen
    assert {"video", "npz", "json", "csv", "overlay"} <= set(summary.files)
    header = json.loads(str(npz["meta"]))
    assert header["live"]["causal"] and header["video"]["path"] == str(record / "video.mp4")
    from dynapose.io.video import frame_times

    seen = frame_times(record / "video.mp4")
    assert len(seen) == summary.frames
    assert np.allclose(seen, npz["time_s"], atol=2e-3)


@pytest.mark.slow
def test_browser_view_and_ctrl_c_keep_the_recording(person_video: Path, tmp_path: Path) -> None:
    """The page on localhost in a headless browser (else its HTTP and WebSocket endpoints with
    a Python client) draws frames; SIGINT ends the session cleanly, exit 0, the recording
    whole."""
    import urllib.request

    from websockets.sync.client import connect

    from dynapose.bench.live import person_frames
    from dynapose.io.video import write_test_video

    long_video = write_test_video(tmp_path / "long.mp4", person_frames(320, 240, 600, 30.0),
                                  fps=30.0)  # 20 s: the session is stopped long before its end
    record = tmp_path / "rec"
    process = subprocess.Popen(
        [sys.executable, "-m", "dynapose", "live", str(long_video), "--view", "browser",
         "--port", "0", "--record", str(record), "--no-visuals"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env())
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        match = re.search(r"browser: (http://127\.0\.0\.1:\d+/)", line)
        assert match, line + process.communicate()[1]
        url = match.group(1)
        with urllib.request.urlopen(url, timeout=10) as reply:
            page = reply.read().decode()
            assert reply.headers["Content-Type"].startswith("text/html")
        assert "DynaPose live" in page and "/ws" in page
        ws_url = url.replace("http://", "ws://") + "ws"
        with connect(ws_url) as ws:
            hello = json.loads(ws.recv(timeout=30))
            assert hello["type"] == "hello" and hello["image_size"] == [320, 240]
            kinds = [type(ws.recv(timeout=30)) for _ in range(6)]
        assert bytes in kinds and str in kinds  # the picture (JPEG) and the frame's JSON
        from _chromium import Browser, find_chromium

        chromium = find_chromium()
        if chromium is not None:
            with Browser(chromium) as browser:
                browser.open(url)
                frames = 0
                deadline = time.monotonic() + 30
                while frames < 10 and time.monotonic() < deadline:
                    time.sleep(0.5)
                    frames = int(browser.evaluate("document.body.dataset.frames || 0"))
                assert frames >= 10
                assert browser.evaluate("document.body.dataset.found") == "true"
                browser.screenshot(tmp_path / "page.png")
        process.send_signal(signal.SIGINT)
        rest, err = process.communicate(timeout=60)
        out = line + rest
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    assert "stopped: interrupted" in out
    processed = int(re.search(r"(\d+) frames processed", out).group(1))  # type: ignore[union-attr]
    npz = np.load(record / "joints.npz")
    assert len(npz["joints"]) == processed > 3
    assert sorted(p.name for p in record.iterdir()) == [
        "joints.csv", "joints.json", "joints.npz", "video.mp4"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


class _CutStream(http.server.BaseHTTPRequestHandler):
    """Serves the first part of a video's bytes as a stream, then drops the connection: a
    camera or stream that vanishes mid-run."""

    data = b""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "video/mp2t")
        self.end_headers()
        cut = len(self.data) // 2
        for i in range(0, cut, 8192):
            self.wfile.write(self.data[i:min(i + 8192, cut)])
            time.sleep(0.01)
        self.close_connection = True

    def log_message(self, *args: object) -> None:
        pass


@pytest.mark.slow
def test_a_stream_that_vanishes_exits_2_and_keeps_what_was_seen(tmp_path: Path) -> None:
    pytest.importorskip("mediapipe")
    pytest.importorskip("skimage")
    from dynapose.bench.live import person_frames
    from dynapose.io.video import write_test_video

    clip = write_test_video(tmp_path / "clip.ts", person_frames(320, 240, 90, 30.0), fps=30.0)
    _CutStream.data = clip.read_bytes()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _CutStream)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/live.ts"
        record = tmp_path / "rec"
        done = subprocess.run([sys.executable, "-m", "dynapose", "live", url, "--view", "none",
                               "--record", str(record), "--no-visuals"],
                              capture_output=True, text=True, env=_env(), timeout=120)
    finally:
        server.shutdown()
        server.server_close()
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {url}: stopped giving frames")
    assert f"are in {record}" in lines[0]
    npz = np.load(record / "joints.npz")
    assert 0 < len(npz["joints"]) < 90 and npz["valid"].any()


def test_bad_input_on_the_command_line(tmp_path: Path) -> None:
    """One line, exit 2: a missing file, a URL that does not answer, a busy port, an existing
    recording folder, a bad address; nothing written."""
    runner = CliRunner()
    video = tmp_path / "missing.mp4"

    def fails(*args: str) -> str:
        result = runner.invoke(main, ["live", *args])
        assert result.exit_code == 2, result.output
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), result.output
        return lines[0]

    assert "no such video file" in fails(str(video), "--view", "none")
    port = _free_port()
    assert "cannot open the stream" in fails(f"rtsp://127.0.0.1:{port}/cam", "--view", "none")
    assert "--osc takes HOST:PORT" in fails(str(video), "--osc", "nowhere")
    if importlib.util.find_spec("mediapipe") is not None:
        lite = Path(importlib.util.find_spec("mediapipe").submodule_search_locations[0]) / \
            "modules" / "pose_landmark" / "pose_landmark_lite.tflite"  # type: ignore[index]
        if not lite.exists():  # the wheel ships only the full model
            assert f"error: {lite}: MediaPipe's lite pose model is not installed" in fails(
                str(video), "--pose-model", "lite")
    existing = tmp_path / "rec"
    existing.mkdir()
    assert "already exists" in fails(str(video), "--record", str(existing))
    assert not any(p.name.startswith(".") for p in tmp_path.iterdir())


@pytest.mark.slow
def test_busy_port_is_one_line(person_video: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = runner.invoke(main, ["live", str(person_video), "--view", "browser", "--port",
                                      str(port), "--record", str(tmp_path / "rec")])
        assert result.exit_code == 2, result.output
        assert result.output.strip() == (f"error: --port 127.0.0.1:{port}: cannot serve on "
                                         f"port {port} (address already in use)")
        result = runner.invoke(main, ["live", str(person_video), "--json-ws",
                                      f"127.0.0.1:{port}", "--view", "none"])
        assert result.exit_code == 2 and "cannot serve on port" in result.output
    assert not (tmp_path / "rec").exists()


def test_window_without_a_display_says_what_to_use(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from dynapose.io.video import write_test_video
    from dynapose.live.session import run_live

    video = write_test_video(tmp_path / "v.mp4", np.zeros((3, 64, 64, 3), np.uint8), fps=10.0)
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    if sys.platform.startswith("linux"):
        with pytest.raises(DynaPoseError, match="no display for a window here: use --view "
                                                "browser"):
            run_live(video, view="window")


@pytest.mark.slow
def test_window_view_under_xvfb(person_video: Path, tmp_path: Path) -> None:
    """The OpenCV window on a virtual display (Xvfb, where installed): the session opens it,
    draws every processed frame in it and plays the file to its end."""
    import shutil

    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        pytest.skip("Xvfb is not installed (apt-get install xvfb)")
    display = f":{_free_port() % 500 + 100}"
    server = subprocess.Popen([xvfb, display, "-screen", "0", "1280x720x24"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(1.0)
        env = {**_env(), "DISPLAY": display}
        done = subprocess.run([sys.executable, "-m", "dynapose", "live", str(person_video),
                               "--view", "window"], capture_output=True, text=True, env=env,
                              timeout=180)
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert done.returncode == 0, done.stderr
    assert "stopped: end" in done.stdout
