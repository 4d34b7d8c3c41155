"""The viewer page of several people in one scene (``predict --people``'s ``viewer.html``).

The page of :mod:`dynapose.viz.viewer` (the same controls, pictures, floor and self-test) with
its own scene and drawing: every person in their colour with their number above the head, a
legend greying whoever is not in the frame, the view centred on everyone's median pelvis and
far enough to hold them all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from dynapose.viz.viewer import _PAGE_END, _PAGE_TOP, _VIEW, _checked, _common, _page, _rows


def people_viewer_html(
    joints: np.ndarray,
    numbers: Sequence[int],
    colors: Sequence[tuple[int, int, int]],
    fps: float = 25.0,
    frames: Mapping[int, bytes] | None = None,
    frame_step: int = 1,
    title: str = "DynaPose viewer",
    meta: dict[str, Any] | None = None,
    times: np.ndarray | None = None,
    floor: np.ndarray | None = None,
    notes: Sequence[str] = (),
) -> str:
    """The viewer page for several people in one scene: `joints` (P, F, 17, 3) mm, all in one
    camera frame (NaN where a person is not seen), person k numbered ``numbers[k]`` and drawn
    in ``colors[k]`` (RGB), with their number above the head and a legend. Everything else as
    :func:`viewer_html` (no path); the view is centred on everyone's median pelvis and far
    enough to hold them all. The embedded data's ``joints[f]`` is null when nobody is seen in
    frame f, else one entry per person (null where that person is not seen); ``people`` lists
    ``{"person": n, "color": "#rrggbb"}``. ``<body data-people>`` names the people drawn.
    """
    joints = _checked(joints, 4)
    if not len(numbers) == len(colors) == joints.shape[0]:
        raise ValueError(f"{joints.shape[0]} people's joints, {len(numbers)} numbers and "
                         f"{len(colors)} colours")
    rows = [_rows(person) for person in joints]
    per_frame = [None if all(r[f] is None for r in rows) else [r[f] for r in rows]
                 for f in range(joints.shape[1])]
    payload = {
        "joints": per_frame,
        "people": [{"person": int(n), "color": "#{:02x}{:02x}{:02x}".format(*c)}
                   for n, c in zip(numbers, colors, strict=True)],
        **_common(joints.shape[1], fps, frames, frame_step, times, floor, None),
    }
    return _page(_PAGE_TOP + _PEOPLE_SCENE + _VIEW + _PEOPLE_DRAW + _PAGE_END,
                 payload, title, meta, notes)


_PEOPLE_SCENE = (
    "  // D.joints[f] holds everyone's joints in frame f, in D.people's order (null: that person\n"
    r"""  // is not seen), or is null when nobody is: a frame kept on the timeline all the same.
  var P = D.people.length;
  function point(f, j, k) {
    var a = D.joints[f][k];
    return [a[3 * j], -a[3 * j + 1], -a[3 * j + 2]];
  }
  // The view: centred on the median of everyone's pelvis over the clip, sized by the body
  // and by how far from that centre anyone goes, so everyone stays in view.
  var centre = [0, 0, 0], extent = 1;
  (function () {
    var xs = [[], [], []], body = 0;
    for (var f = 0; f < F; f++) {
      for (var k = 0; D.joints[f] && k < P; k++) {
        if (!D.joints[f][k]) continue;
        var r = point(f, 0, k);
        for (var i = 0; i < 3; i++) xs[i].push(r[i]);
        for (var j = 0; j < J; j++) {
          var p = point(f, j, k);
          body = Math.max(body, Math.hypot(p[0] - r[0], p[1] - r[1], p[2] - r[2]));
        }
      }
    }
    if (!xs[0].length) return;
    for (var i = 0; i < 3; i++) {
      var sorted = xs[i].slice().sort(function (a, b) { return a - b; });
      centre[i] = sorted[Math.floor(sorted.length / 2)];
    }
    var reach = 0;
    for (var n = 0; n < xs[0].length; n++) {
      reach = Math.max(reach, Math.hypot(xs[0][n] - centre[0], xs[2][n] - centre[2]));
    }
    extent = Math.max(body, 0.45 * (body + reach), 1e-6);
  })();

""")

_PEOPLE_DRAW = r"""  function legend(seen) {  // bottom left: everyone, greyed where not seen
    ctx.font = "13px system-ui, sans-serif"; ctx.textAlign = "left"; ctx.lineWidth = 4;
    for (var k = 0; k < P; k++) {
      var y = canvas.height - 10 - 18 * (P - 1 - k), here = seen.indexOf(k) >= 0;
      ctx.strokeStyle = here ? D.people[k].color : "#cccccc";
      ctx.beginPath(); ctx.moveTo(10, y - 4); ctx.lineTo(28, y - 4); ctx.stroke();
      ctx.fillStyle = here ? "#222222" : "#aaaaaa";
      ctx.fillText("person " + D.people[k].person + (here ? "" : " (not seen)"), 34, y);
    }
  }

  function render() {
    ctx.fillStyle = "rgb(" + BG.join(",") + ")";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    var row = F > 0 ? D.joints[frame] : null, seen = [];
    for (var k = 0; row && k < P; k++) if (row[k]) seen.push(k);
    var person = seen.length;
    if (F) drawGrid();
    if (F && !person) {
      ctx.fillStyle = "#888888"; ctx.font = "16px system-ui, sans-serif";
      ctx.textAlign = "center";
      ctx.fillText("no person in this frame", canvas.width / 2, 28);
    }
    var figures = seen.map(function (k) {
      var pts = [];
      for (var j = 0; j < J; j++) pts.push(project(point(frame, j, k)));
      return { k: k, pts: pts };
    });
    figures.sort(function (a, b) { return b.pts[0][2] - a.pts[0][2]; });  // the farthest first
    figures.forEach(function (fig) {
      var pts = fig.pts, colour = D.people[fig.k].color, top = pts[0];
      ctx.strokeStyle = colour; ctx.fillStyle = colour; ctx.lineWidth = 4; ctx.lineCap = "round";
      for (var j = 0; j < J; j++) {
        var p = D.parents[j];
        if (p < 0) continue;
        ctx.beginPath(); ctx.moveTo(pts[p][0], pts[p][1]); ctx.lineTo(pts[j][0], pts[j][1]);
        ctx.stroke();
      }
      for (var j = 0; j < J; j++) {
        ctx.beginPath(); ctx.arc(pts[j][0], pts[j][1], 4, 0, 2 * Math.PI); ctx.fill();
        if (pts[j][1] < top[1]) top = pts[j];
      }
      ctx.font = "bold 15px system-ui, sans-serif"; ctx.textAlign = "center";
      ctx.fillText(String(D.people[fig.k].person), top[0], top[1] - 10);
    });
    if (F) legend(seen);
    body.setAttribute("data-people",
                      seen.map(function (k) { return D.people[k].person; }).join(","));
"""
