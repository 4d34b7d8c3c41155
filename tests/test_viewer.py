"""The HTML viewer: self-contained, and it renders and reacts in headless Chromium."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from dynapose.skeleton import JOINT_NAMES
from dynapose.viz.people_viewer import people_viewer_html
from dynapose.viz.viewer import jpeg_thumbnail, viewer_html

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
NEEDS_CHROMIUM = pytest.mark.skipif(
    CHROMIUM is None,
    reason="headless Chromium not installed (Debian: apt-get install -y chromium)",
)


def _poses(n: int = 30) -> np.ndarray:
    rng = np.random.default_rng(0)
    base = rng.normal(0, 300, (17, 3)) + np.array([0.0, 0.0, 5000.0])
    return np.stack([base + np.array([10.0 * i, 0.0, 0.0]) for i in range(n)])


def _frames(n: int, step: int) -> dict[int, bytes]:
    return {i: jpeg_thumbnail(np.full((48, 64, 3), 4 * i, np.uint8)) for i in range(0, n, step)}


def test_page_is_self_contained() -> None:
    page = viewer_html(_poses(), fps=25, frames=_frames(30, 2), frame_step=2,
                       title="t <&>", meta={"note": "</script> stays inert"})
    assert "<canvas" in page and "t &lt;&amp;&gt;" in page
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)  # no network fetch
    assert "<link" not in page and "import(" not in page and "fetch(" not in page
    data = re.search(r'<script id="pose-data" type="application/json">(.*?)</script>', page, re.S)
    assert data is not None
    payload = json.loads(data.group(1))
    assert payload["names"] == list(JOINT_NAMES) and len(payload["joints"]) == 30
    assert np.allclose(np.array(payload["joints"]).reshape(30, 17, 3), _poses(), atol=0.05)
    assert len(payload["images"]) == 15 and payload["frameStep"] == 2
    assert page.count("</script>") == 2  # the meta text could not close a script early
    assert "&lt;/script&gt; stays inert" in page.split("<pre>")[1]


def test_rejects_bad_shapes() -> None:
    with pytest.raises(ValueError):
        viewer_html(np.zeros((4, 16, 3)))


def test_thumbnail_size() -> None:
    from io import BytesIO

    from PIL import Image

    img = Image.open(BytesIO(jpeg_thumbnail(np.zeros((1000, 600, 3), np.uint8), side=200)))
    assert img.size == (120, 200) and img.format == "JPEG"


def _chromium(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
           "--no-first-run", "--disable-background-networking", "--disable-component-update",
           "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr",
           "--v=0", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def _body(dom: str) -> dict[str, str]:
    match = re.search(r"<body([^>]*)>", dom)
    assert match is not None, dom[:500]
    return {k: html.unescape(v) for k, v in re.findall(r'(data-[a-z-]+)="([^"]*)"', match.group(1))}


@NEEDS_CHROMIUM
@pytest.mark.parametrize("with_frames", [True, False])
def test_renders_and_reacts_in_chromium(tmp_path: Path, with_frames: bool) -> None:
    page = tmp_path / "viewer.html"
    frames = _frames(30, 3) if with_frames else None
    page.write_text(viewer_html(_poses(), fps=25, frames=frames, frame_step=3))
    run = _chromium(["--virtual-time-budget=5000", "--dump-dom",
                     page.as_uri() + "#selftest"], tmp_path)
    state = _body(run.stdout)
    assert "data-error" not in state, state["data-error"]
    assert int(state["data-drawn"]) > 2000  # a skeleton and a floor grid, not a blank canvas
    selftest = json.loads(state["data-selftest"])
    assert selftest == {"rotate": True, "zoom": True, "scrub": True, "imageSync": True,
                        "playing": True, "played": True, "paused": True}
    console = [line for line in run.stderr.splitlines() if "CONSOLE" in line]
    assert not [line for line in console if "error" in line.lower()], console


@NEEDS_CHROMIUM
def test_gap_frames_say_no_person(tmp_path: Path) -> None:
    poses = _poses()
    poses[:3] = np.nan  # the first frames are gaps: the page opens on one
    poses[10, 4] = np.nan
    page_html = viewer_html(poses, fps=25, frames=_frames(30, 1))
    data = re.search(r'<script id="pose-data" type="application/json">(.*?)</script>',
                     page_html, re.S)
    assert data is not None
    rows = json.loads(data.group(1))["joints"]
    assert [i for i, row in enumerate(rows) if row is None] == [0, 1, 2, 10]
    page = tmp_path / "viewer.html"
    page.write_text(page_html)
    run = _chromium(["--virtual-time-budget=2000", "--dump-dom", page.as_uri()], tmp_path)
    state = _body(run.stdout)
    assert "data-error" not in state, state["data-error"]
    assert state["data-frame"] == "0" and state["data-person"] == "0"
    assert int(state["data-drawn"]) > 500  # the floor grid and the "no person" line
    run = _chromium(["--virtual-time-budget=5000", "--dump-dom",
                     page.as_uri() + "#selftest"], tmp_path)
    state = _body(run.stdout)
    assert "data-error" not in state, state["data-error"]
    assert json.loads(state["data-selftest"])["scrub"] is True


@NEEDS_CHROMIUM
def test_screenshot_is_not_blank(tmp_path: Path) -> None:
    from PIL import Image

    page = tmp_path / "viewer.html"
    page.write_text(viewer_html(_poses(), fps=25, frames=_frames(30, 1)))
    shot = tmp_path / "shot.png"
    _chromium(["--window-size=1000,700", f"--screenshot={shot}", page.as_uri()], tmp_path)
    img = np.asarray(Image.open(shot).convert("RGB")).astype(int)
    canvas = img[45:515, 12:485]  # where the 480x480 canvas sits
    coloured = (np.abs(canvas[..., 0] - canvas[..., 2]) > 60).sum()  # red/blue bones
    assert coloured > 200


@NEEDS_CHROMIUM
def test_viewer_from_predict_renders(tmp_path: Path) -> None:
    from _predict_helpers import make_checkpoint, make_video
    from dynapose.inference.image_model import predict_video

    ckpt = make_checkpoint(tmp_path / "ckpt")
    video = make_video(tmp_path / "clip.mp4", n=10)
    pred = predict_video(video, ckpt, tmp_path / "out", visuals=("viewer",))
    run = _chromium(["--virtual-time-budget=5000", "--dump-dom",
                     pred.files["viewer"].as_uri() + "#selftest"], tmp_path)
    state = _body(run.stdout)
    assert "data-error" not in state and int(state["data-drawn"]) > 500
    assert json.loads(state["data-selftest"])["imageSync"] is True


def _page_data(page: str) -> dict[str, Any]:
    data = re.search(r'<script id="pose-data" type="application/json">(.*?)</script>', page, re.S)
    assert data is not None
    return json.loads(data.group(1))


def test_one_person_page_is_unchanged() -> None:
    """The one-person page, byte for byte as it was before the people's viewer (its pieces are
    shared with it): change this hash only on purpose."""
    import hashlib

    poses = _poses()
    poses[3] = np.nan
    floor = np.arange(12, dtype=float).reshape(2, 2, 3) * 100
    page = viewer_html(poses, fps=25, frames=_frames(30, 2), frame_step=2, title="t <&>",
                       meta={"a": 1}, times=np.arange(30) / 25, floor=floor,
                       path=np.ones((5, 3)), notes=["assumed: x"])
    assert hashlib.sha256(page.encode()).hexdigest() == (
        "8bf63043c56ec7159e411495f16b8aa93e4f9fe50e6d00393a9125cf6858cf21")


def _people() -> np.ndarray:
    """Three people (P, F, 17, 3): 1 throughout, 2 from frame 10, 4 until frame 19."""
    one = _poses()
    two = one + np.array([1500.0, 0.0, 1500.0])
    two[:10] = np.nan
    four = one + np.array([-1200.0, 0.0, 800.0])
    four[20:] = np.nan
    return np.stack([one, two, four])


PEOPLE_COLOURS = [(230, 85, 20), (30, 110, 220), (150, 60, 180)]


def test_people_page_data() -> None:
    joints = _people()
    joints[:, 25] = np.nan  # nobody in frame 25
    page = people_viewer_html(joints, [1, 2, 4], PEOPLE_COLOURS, fps=25, frames=_frames(30, 3),
                              frame_step=3, title="two <people>", meta={"people": 3})
    assert "two &lt;people&gt;" in page and page.count("</script>") == 2
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    data = _page_data(page)
    assert data["people"] == [{"person": 1, "color": "#e65514"},
                              {"person": 2, "color": "#1e6edc"},
                              {"person": 4, "color": "#963cb4"}]
    rows = data["joints"]
    assert len(rows) == 30 and rows[25] is None
    assert [[k for k, r in enumerate(rows[f]) if r is not None] for f in (0, 10, 24)] == [
        [0, 2], [0, 1, 2], [0, 1]]
    np.testing.assert_allclose(np.array(rows[12][1]).reshape(17, 3), joints[1, 12], atol=0.05)
    assert len(data["images"]) == 10 and data["frameStep"] == 3 and data["path"] is None
    with pytest.raises(ValueError, match="3 people's joints, 2 numbers"):
        people_viewer_html(joints, [1, 2], PEOPLE_COLOURS)
    with pytest.raises(ValueError, match=r"\(P, F, 17, 3\)"):
        people_viewer_html(joints[0], [1], PEOPLE_COLOURS[:1])


@NEEDS_CHROMIUM
def test_people_page_renders_and_reacts_in_chromium(tmp_path: Path) -> None:
    page = tmp_path / "viewer.html"
    page.write_text(people_viewer_html(_people(), [1, 2, 4], PEOPLE_COLOURS, fps=25,
                                       frames=_frames(30, 1)))
    run = _chromium(["--virtual-time-budget=2000", "--dump-dom", page.as_uri()], tmp_path)
    state = _body(run.stdout)
    assert "data-error" not in state, state["data-error"]
    assert state["data-frame"] == "0" and state["data-people"] == "1,4"  # 2 comes later
    assert state["data-person"] == "1" and int(state["data-drawn"]) > 2000
    run = _chromium(["--virtual-time-budget=5000", "--dump-dom", page.as_uri() + "#selftest"],
                    tmp_path)
    state = _body(run.stdout)
    assert "data-error" not in state, state["data-error"]
    assert json.loads(state["data-selftest"]) == {
        "rotate": True, "zoom": True, "scrub": True, "imageSync": True, "playing": True,
        "played": True, "paused": True}
    console = [line for line in run.stderr.splitlines() if "CONSOLE" in line]
    assert not [line for line in console if "error" in line.lower()], console


@NEEDS_CHROMIUM
def test_people_screenshot_shows_each_colour(tmp_path: Path) -> None:
    from PIL import Image

    page = tmp_path / "viewer.html"
    page.write_text(people_viewer_html(_people(), [1, 2, 4], PEOPLE_COLOURS, fps=25))
    shot = tmp_path / "shot.png"
    _chromium(["--window-size=1000,700", f"--screenshot={shot}", page.as_uri()], tmp_path)
    canvas = np.asarray(Image.open(shot).convert("RGB")).astype(int)[45:515, 12:485]

    def pixels(rgb: tuple[int, int, int]) -> int:
        return int((np.abs(canvas - np.array(rgb)).sum(axis=-1) < 40).sum())

    # frame 0: people 1 and 4 drawn (skeleton, number, legend), 2 only greyed in the legend
    assert pixels(PEOPLE_COLOURS[0]) > 300 and pixels(PEOPLE_COLOURS[2]) > 300
    assert pixels(PEOPLE_COLOURS[1]) < 30
