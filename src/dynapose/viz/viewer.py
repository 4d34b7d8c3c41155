"""A self-contained interactive HTML viewer for predicted 3D joints.

:func:`viewer_html` returns one HTML page: the joints embedded as JSON, a small inline
JavaScript renderer drawing the skeleton on a ``<canvas>`` (perspective view of an orbiting
camera), and optionally the video's frames as JPEG data URIs kept in sync. No network fetch, no
CDN: the file works offline and can be mailed around.

Controls: drag to rotate, mouse wheel to zoom, the slider to scrub, the button (or the space
bar) to play/pause, double-click to reset the view.

Display frame: joints arrive in the camera frame (x right, y down, z forward, mm); the viewer
shows them with "up" = -y, centred on the sequence's median pelvis, so the person stands upright
and their movement through the scene is kept. Left side blue, right side red.

For automated checks the page writes its state into ``<body>`` data attributes after each
render: ``data-frame``, ``data-drawn`` (canvas pixels that differ from the background),
``data-error`` (any uncaught error's message); with ``#selftest`` in the URL it also drives its
own controls (drag, wheel, slider, play) and writes ``data-selftest`` (JSON of what changed).
"""

from __future__ import annotations

import base64
import html
import io
import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from PIL import Image

from dynapose.skeleton import JOINT_NAMES, LEFT_JOINTS, PARENTS, RIGHT_JOINTS
from dynapose.viz.skeleton import resize_image

#: Longest side of the video frames embedded in the viewer (pixels).
THUMBNAIL_SIDE = 480


def jpeg_thumbnail(image: np.ndarray, side: int = THUMBNAIL_SIDE, quality: int = 80) -> bytes:
    """JPEG bytes of an (H, W, 3) uint8 RGB frame scaled so its longest side is at most `side`."""

    image = np.ascontiguousarray(image)
    h, w = image.shape[:2]
    scale = side / max(h, w)
    if scale < 1:
        image = resize_image(image, (round(w * scale), round(h * scale)))
    img = Image.fromarray(image)
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


def viewer_html(
    joints: np.ndarray,
    fps: float = 25.0,
    frames: Mapping[int, bytes] | None = None,
    frame_step: int = 1,
    title: str = "DynaPose viewer",
    meta: dict[str, Any] | None = None,
    times: np.ndarray | None = None,
    floor: np.ndarray | None = None,
    path: np.ndarray | None = None,
    notes: Sequence[str] = (),
) -> str:
    """The viewer page for `joints` (F, 17, 3) mm, camera frame, played at `fps`.

    A frame whose joints hold NaN (a gap: no person found) is kept on the timeline and shown as
    "no person in this frame" with its video image, so the clock and the images stay in step.

    frames: optional JPEG bytes keyed by frame index (every `frame_step`-th frame); frame i shows
    the image of frame ``i - i % frame_step``. meta: optional JSON shown under "details".
    times: optional (F,) seconds shown for each frame (default: index / fps). floor: optional
    grid segments (L, 2, 3) mm, camera frame, drawn as the floor (else a grid below the
    skeleton); path: optional (N, 3) mm, the trajectory drawn on it. notes: lines shown under
    the title (what was assumed, a moving camera).
    """
    joints = _checked(joints, 3)
    payload = {"joints": _rows(joints),
               **_common(joints.shape[0], fps, frames, frame_step, times, floor, path)}
    return _page(_PAGE_TOP + _ONE_PERSON_SCENE + _VIEW + _ONE_PERSON_DRAW + _PAGE_END,
                 payload, title, meta, notes)


def _checked(joints: np.ndarray, ndim: int) -> np.ndarray:
    joints = np.asarray(joints, dtype=np.float64)
    if joints.ndim != ndim or joints.shape[-2:] != (len(JOINT_NAMES), 3):
        shape = ("P, " if ndim == 4 else "") + f"F, {len(JOINT_NAMES)}, 3"
        raise ValueError(f"joints must be ({shape}), got {joints.shape}")
    return joints


def _rows(joints: np.ndarray) -> list[list[float] | None]:
    """Each frame's joints (F, 17, 3) flattened, rounded to 0.1 mm; None where not finite."""
    return [None if not np.isfinite(row).all() else row.tolist()
            for row in np.round(joints, 1).reshape(joints.shape[0], -1)]


def _common(num_frames: int, fps: float, frames: Mapping[int, bytes] | None, frame_step: int,
            times: np.ndarray | None, floor: np.ndarray | None, path: np.ndarray | None
            ) -> dict[str, Any]:
    """The embedded data both pages share (:func:`viewer_html`'s arguments)."""
    side = np.zeros(len(JOINT_NAMES), dtype=int)
    side[list(LEFT_JOINTS)] = 1
    side[list(RIGHT_JOINTS)] = 2
    images: list[str | None] = []
    if frames:
        for i in range(0, num_frames, max(1, frame_step)):
            data = frames.get(i)
            if data is None:
                images.append(None)
            else:
                images.append("data:image/jpeg;base64," + base64.b64encode(data).decode())
    return {
        "names": list(JOINT_NAMES),
        "parents": list(PARENTS),
        "side": side.tolist(),
        "fps": float(fps) if fps and fps > 0 else 25.0,
        "frameStep": max(1, int(frame_step)),
        "images": images,
        "times": None if times is None else np.round(np.asarray(times, float), 4).tolist(),
        "floor": None if floor is None else
        np.round(np.asarray(floor, float).reshape(-1, 6), 1).tolist(),
        "path": None if path is None else
        np.round(np.asarray(path, float)[:: max(1, len(path) // 2000)], 1).tolist(),
    }


def _page(template: str, payload: dict[str, Any], title: str, meta: dict[str, Any] | None,
          notes: Sequence[str]) -> str:
    encoded = json.dumps(payload, separators=(",", ":")).replace("</", "<\\/")
    details = json.dumps(meta or {}, indent=1)
    return (
        template.replace("__TITLE__", html.escape(title))
        .replace("__NOTES__", "".join(f"<p class=\"note\">{html.escape(n)}</p>" for n in notes))
        .replace("__DETAILS__", html.escape(details))
        .replace("__DATA__", encoded)
    )


# The page in pieces: the top (markup, styles, the data, the controls' elements), the scene
# (the people's coordinates, the view's centre and size), the view (projection, floor), the
# drawing (the start of render()), the end (the rest of render(), the controls, the self-test).
# One person and several (:mod:`dynapose.viz.people_viewer`) share all but the scene and the
# drawing.

_PAGE_TOP = r"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>__TITLE__</title>
<style>
 body { margin: 0; font: 14px system-ui, sans-serif; background: #f4f4f4; color: #222; }
 header { padding: 8px 12px; background: #263238; color: #fff; }
 #panes { display: flex; flex-wrap: wrap; align-items: flex-start; gap: 8px; padding: 8px; }
 canvas { background: #ffffff; border: 1px solid #ccc; cursor: grab; touch-action: none; }
 #video { max-width: 480px; max-height: 480px; border: 1px solid #ccc; background: #000; }
 #controls { display: flex; align-items: center; gap: 8px; padding: 0 8px; }
 #slider { flex: 1; }
 #readout { font-variant-numeric: tabular-nums; min-width: 11em; }
 .note { margin: 4px 12px; padding: 4px 8px; background: #fff3cd; border: 1px solid #e0c36c; }
 details { padding: 4px 12px; } pre { font-size: 11px; overflow: auto; max-height: 300px; }
</style>
</head>
<body>
<header>__TITLE__ &mdash; drag: rotate &middot; wheel: zoom &middot; slider: scrub &middot;
space: play/pause &middot; double-click: reset view</header>
__NOTES__
<div id="panes">
 <canvas id="view" width="480" height="480"></canvas>
 <img id="video" alt="video frame" hidden>
</div>
<div id="controls">
 <button id="play" type="button">Play</button>
 <input id="slider" type="range" min="0" max="0" value="0" step="1">
 <span id="readout"></span>
</div>
<details><summary>details</summary><pre>__DETAILS__</pre></details>
<script id="pose-data" type="application/json">__DATA__</script>
<script>
"use strict";
(function () {
  var body = document.body;
  window.onerror = function (msg, src, line) {
    body.setAttribute("data-error", String(msg) + " (line " + line + ")");
  };
  var consoleError = console.error;
  console.error = function () {
    body.setAttribute("data-error", Array.prototype.join.call(arguments, " "));
    consoleError.apply(console, arguments);
  };
  var D = JSON.parse(document.getElementById("pose-data").textContent);
  var J = D.names.length, F = D.joints.length;
  var canvas = document.getElementById("view");
  var ctx = canvas.getContext("2d", { willReadFrequently: true });
  var slider = document.getElementById("slider"), playBtn = document.getElementById("play");
  var readout = document.getElementById("readout"), img = document.getElementById("video");
  var BG = [255, 255, 255];
  slider.max = String(Math.max(0, F - 1));

  // Display coordinates: x right, y up (= -camera y), z towards the viewer (= -camera z).
"""

_ONE_PERSON_SCENE = (
    "  // A null frame is a gap (no person found): drawn as such, kept on the timeline.\n"
    r"""  function point(f, j) {
    var a = D.joints[f];
    return [a[3 * j], -a[3 * j + 1], -a[3 * j + 2]];
  }
  var firstPose = -1;
  for (var f = 0; f < F && firstPose < 0; f++) if (D.joints[f]) firstPose = f;
  var centre = [0, 0, 0], extent = 1;
  (function () {
    if (firstPose < 0) return;
    var xs = [[], [], []], lo = [1e18, 1e18, 1e18], hi = [-1e18, -1e18, -1e18];
    for (var f = 0; f < F; f++) {
      if (!D.joints[f]) continue;
      for (var j = 0; j < J; j++) {
        var p = point(f, j);
        for (var k = 0; k < 3; k++) {
          if (j === 0) xs[k].push(p[k]);
          lo[k] = Math.min(lo[k], p[k]); hi[k] = Math.max(hi[k], p[k]);
        }
      }
    }
    for (var k = 0; k < 3; k++) {
      xs[k].sort(function (a, b) { return a - b; });
      centre[k] = xs[k][Math.floor(xs[k].length / 2)];
    }
    // Size the view by the skeleton (one frame), not by how far the person travels.
    var s = 0;
    for (var j = 0; j < J; j++) {
      var p = point(firstPose, j), q = point(firstPose, 0);
      s = Math.max(s, Math.hypot(p[0] - q[0], p[1] - q[1], p[2] - q[2]));
    }
    extent = Math.max(s, 1e-6);
  })();

""")

_VIEW = r"""  var view = { yaw: 0.6, pitch: 0.25, zoom: 1.0 };
  var frame = 0, playing = false;

  function project(p) {
    var x = p[0] - centre[0], y = p[1] - centre[1], z = p[2] - centre[2];
    var cy = Math.cos(view.yaw), sy = Math.sin(view.yaw);
    var x1 = cy * x + sy * z, z1 = -sy * x + cy * z;
    var cp = Math.cos(view.pitch), sp = Math.sin(view.pitch);
    var y2 = cp * y - sp * z1, z2 = sp * y + cp * z1;
    var dist = 4 * extent, depth = dist - z2;
    if (depth < 1e-3 * extent) depth = 1e-3 * extent;
    var scale = view.zoom * canvas.height * 0.9 / depth;
    return [canvas.width / 2 + x1 * scale, canvas.height / 2 - y2 * scale, depth];
  }

  function drawGrid() {
    ctx.strokeStyle = "#d0d0d0"; ctx.lineWidth = 1;
    if (D.floor) {  // the floor found from the feet, and the path over it (camera frame, mm)
      ctx.beginPath();
      for (var s = 0; s < D.floor.length; s++) {
        var g = D.floor[s];
        var a = project([g[0], -g[1], -g[2]]), b = project([g[3], -g[4], -g[5]]);
        ctx.moveTo(a[0], a[1]); ctx.lineTo(b[0], b[1]);
      }
      ctx.stroke();
      if (D.path && D.path.length > 1) {
        ctx.strokeStyle = "#444444"; ctx.lineWidth = 2; ctx.beginPath();
        for (var k = 0; k < D.path.length; k++) {
          var q = D.path[k], r = project([q[0], -q[1], -q[2]]);
          if (k === 0) ctx.moveTo(r[0], r[1]); else ctx.lineTo(r[0], r[1]);
        }
        ctx.stroke();
      }
      return;
    }
    var floor = centre[1] - extent, n = 4, step = extent / 2;
    for (var i = -n; i <= n; i++) {
      var a = project([centre[0] + i * step, floor, centre[2] - n * step]);
      var b = project([centre[0] + i * step, floor, centre[2] + n * step]);
      var c = project([centre[0] - n * step, floor, centre[2] + i * step]);
      var d = project([centre[0] + n * step, floor, centre[2] + i * step]);
      ctx.beginPath(); ctx.moveTo(a[0], a[1]); ctx.lineTo(b[0], b[1]);
      ctx.moveTo(c[0], c[1]); ctx.lineTo(d[0], d[1]); ctx.stroke();
    }
  }

"""

_ONE_PERSON_DRAW = r"""  var COLOURS = ["#555555", "#1e6fd9", "#d9381e"];
  function render() {
    ctx.fillStyle = "rgb(" + BG.join(",") + ")";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    var person = F > 0 && !!D.joints[frame];
    if (F) drawGrid();
    if (F && !person) {
      ctx.fillStyle = "#888888"; ctx.font = "16px system-ui, sans-serif";
      ctx.textAlign = "center";
      ctx.fillText("no person in this frame", canvas.width / 2, 28);
    }
    if (person) {
      var pts = [];
      for (var j = 0; j < J; j++) pts.push(project(point(frame, j)));
      ctx.lineWidth = 4; ctx.lineCap = "round";
      for (var j = 0; j < J; j++) {
        var p = D.parents[j];
        if (p < 0) continue;
        ctx.strokeStyle = COLOURS[D.side[j]];
        ctx.beginPath(); ctx.moveTo(pts[p][0], pts[p][1]); ctx.lineTo(pts[j][0], pts[j][1]);
        ctx.stroke();
      }
      for (var j = 0; j < J; j++) {
        ctx.fillStyle = COLOURS[D.side[j]];
        ctx.beginPath(); ctx.arc(pts[j][0], pts[j][1], 4, 0, 2 * Math.PI); ctx.fill();
      }
    }
"""

_PAGE_END = r"""    var t = !F ? 0 : (D.times ? D.times[frame] : frame / D.fps);
    readout.textContent =
      "frame " + frame + " / " + Math.max(0, F - 1) + "  " + t.toFixed(2) + " s";
    slider.value = String(frame);
    if (D.images.length) {
      var src = D.images[Math.floor(frame / D.frameStep)];
      if (src && img.getAttribute("src") !== src) img.setAttribute("src", src);
      img.hidden = !src;
    }
    body.setAttribute("data-frame", String(frame));
    body.setAttribute("data-person", person ? "1" : "0");
    body.setAttribute("data-drawn", String(countDrawn()));
  }

  function countDrawn() {
    var px = ctx.getImageData(0, 0, canvas.width, canvas.height).data, n = 0;
    for (var i = 0; i < px.length; i += 4) {
      if (px[i] !== BG[0] || px[i + 1] !== BG[1] || px[i + 2] !== BG[2]) n++;
    }
    return n;
  }

  function setFrame(f) { frame = Math.max(0, Math.min(F - 1, f | 0)); render(); }
  var timer = null;
  function setPlaying(on) {
    playing = on && F > 1;
    playBtn.textContent = playing ? "Pause" : "Play";
    if (timer !== null) { clearInterval(timer); timer = null; }
    if (playing) timer = setInterval(function () { setFrame((frame + 1) % F); }, 1000 / D.fps);
  }

  var drag = null;
  canvas.addEventListener("mousedown", function (e) { drag = [e.clientX, e.clientY]; });
  window.addEventListener("mouseup", function () { drag = null; });
  window.addEventListener("mousemove", function (e) {
    if (!drag) return;
    view.yaw += (e.clientX - drag[0]) * 0.01;
    view.pitch = Math.max(-1.5, Math.min(1.5, view.pitch + (e.clientY - drag[1]) * 0.01));
    drag = [e.clientX, e.clientY];
    render();
  });
  canvas.addEventListener("wheel", function (e) {
    e.preventDefault();
    view.zoom = Math.max(0.1, Math.min(20, view.zoom * Math.exp(-e.deltaY * 0.001)));
    render();
  }, { passive: false });
  canvas.addEventListener("dblclick", function () {
    view = { yaw: 0.6, pitch: 0.25, zoom: 1.0 };
    render();
  });
  slider.addEventListener("input", function () { setPlaying(false); setFrame(+slider.value); });
  playBtn.addEventListener("click", function () { setPlaying(!playing); });
  window.addEventListener("keydown", function (e) {
    if (e.key === " ") { e.preventDefault(); setPlaying(!playing); }
    if (e.key === "ArrowRight") setFrame(frame + 1);
    if (e.key === "ArrowLeft") setFrame(frame - 1);
  });

  render();

  if (location.hash === "#selftest") {
    var result = {}, before = canvas.toDataURL();
    canvas.dispatchEvent(new MouseEvent("mousedown", { clientX: 100, clientY: 100 }));
    window.dispatchEvent(new MouseEvent("mousemove", { clientX: 160, clientY: 120 }));
    window.dispatchEvent(new MouseEvent("mouseup", {}));
    result.rotate = canvas.toDataURL() !== before;
    before = canvas.toDataURL();
    canvas.dispatchEvent(new WheelEvent("wheel", { deltaY: -300, cancelable: true }));
    result.zoom = canvas.toDataURL() !== before;
    var imgBefore = img.getAttribute("src");
    slider.value = String(F - 1);
    slider.dispatchEvent(new Event("input"));
    result.scrub = frame === F - 1;
    result.imageSync = !D.images.length || img.getAttribute("src") !== imgBefore || F < 2;
    setFrame(0);
    playBtn.click();
    result.playing = playing;
    setTimeout(function () {
      result.played = frame > 0;
      playBtn.click();
      result.paused = !playing;
      body.setAttribute("data-selftest", JSON.stringify(result));
    }, 1000);
  }
})();
</script>
</body>
</html>
"""
