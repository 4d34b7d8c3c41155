"""Every person in a frame with the BlazePose models the MediaPipe wheel ships (offline).

MediaPipe's legacy ``solutions.pose`` follows one person; its Tasks ``PoseLandmarker`` takes
``num_poses`` but wants a ``.task`` bundle the wheel does not carry. The wheel does carry the
two models (``pose_detection.tflite``, ``pose_landmark_full.tflite``) and the C++ subgraphs
that run them (``PoseDetectionCpu``, ``PoseLandmarkByRoiCpu``), registered in its Python
bindings. :class:`PeopleFinder` runs those subgraphs in two small calculator graphs of its own,
and, per frame:

1. **The single-person tracker** (:class:`dynapose.inference.mediapipe.MediaPipePose`, what
   ``dynapose predict`` runs, its landmark filter off) on the whole frame: its person is the
   first found.
2. **Everyone followed from the last frame**: the landmark model on each region of interest
   (ROI) the previous frame's landmarks give (a rotated square around the hips, 1.25 times the
   body's extent, as BlazePose's own tracker does).
3. **New people** (every `detect_every` frames): the person detector on the frame with everyone
   found so far painted over (grey boxes), the landmark model on each detection's ROI whose
   centre (the hips) is not in a found person's area; repeated on the newly painted frame while
   it finds someone, up to `max_people`.

A pose that repeats one already found (most of its joints within a tenth of the body's size,
or its box mostly inside that one's area: DUPLICATE_INSIDE, :func:`person_area`) is dropped;
so, in consequence, is a person mostly hidden behind another (they come back when they
show). No pose is filtered over time here: which pose is whose is only known after tracking,
and every person then gets the tracker's own filter along their track
(:mod:`dynapose.people.smoothing`). Each returned pose is ``(pixels (17, 2), confidences
(17,))`` in Human3.6M order, as :class:`MediaPipePose` returns; which pose is which person
from frame to frame is :mod:`dynapose.people.tracking`'s job.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import numpy as np

from dynapose.data.keypoints import mediapipe_to_h36m
from dynapose.inference.mediapipe import MediaPipePose, NativeLog

#: Poses closer than this (median joint distance / body size) are one person seen twice.
DUPLICATE_DISTANCE = 0.1
#: A pose whose box lies this much (fraction of its area) inside one found before is a second
#: look at that person (or at something beside them), not someone new.
DUPLICATE_INSIDE = 0.6
#: Grey the found people are painted over with before the detector looks for more.
MASK_GREY = 128
#: Margin (fraction of the box side) added around a found person before painting it over.
MASK_MARGIN = 0.2

_LANDMARK_GRAPH = """
input_stream: "image"
input_stream: "roi"
output_stream: "landmarks"
output_stream: "auxiliary"
node {
  calculator: "PoseLandmarkByRoiCpu"
  input_side_packet: "MODEL_COMPLEXITY:model_complexity"
  input_stream: "IMAGE:image"
  input_stream: "ROI:roi"
  output_stream: "LANDMARKS:landmarks"
  output_stream: "AUXILIARY_LANDMARKS:auxiliary"
}
"""

_DETECTION_GRAPH = """
input_stream: "image"
output_stream: "detections"
node {
  calculator: "PoseDetectionCpu"
  input_stream: "IMAGE:image"
  output_stream: "DETECTIONS:detections"
}
"""


@dataclass
class Roi:
    """A rotated square region of interest, normalised to the image: centre (x, y) in [0, 1],
    width and height (fractions of the image's width and height), rotation (radians)."""

    x: float
    y: float
    width: float
    height: float
    rotation: float


def roi_from_points(centre: np.ndarray, scale_point: np.ndarray, width: int, height: int,
                    scale: float = 1.25) -> Roi:
    """BlazePose's ROI from its two alignment points (normalised (2,) each): centred on the
    first (the hips' centre), a square of side 2 x their distance x `scale` (pixels), turned so
    the body's axis points up."""
    x0, y0 = float(centre[0]) * width, float(centre[1]) * height
    x1, y1 = float(scale_point[0]) * width, float(scale_point[1]) * height
    side = 2.0 * math.hypot(x1 - x0, y1 - y0) * scale
    angle = math.pi / 2 - math.atan2(-(y1 - y0), x1 - x0)
    angle -= 2 * math.pi * math.floor((angle + math.pi) / (2 * math.pi))
    return Roi(x0 / width, y0 / height, side / width, side / height, angle)


def _mp() -> SimpleNamespace:
    """The MediaPipe modules this file uses, imported on first use (heavy: about 1 s)."""
    import mediapipe  # heavy, optional (see the docstring)
    from google.protobuf import text_format  # MediaPipe's, imported with it
    from mediapipe.framework import calculator_pb2  # heavy, optional
    from mediapipe.framework.formats import rect_pb2  # heavy, optional
    from mediapipe.python import packet_creator, packet_getter  # heavy, optional
    from mediapipe.python._framework_bindings import (  # heavy, optional
        calculator_graph,
        image_frame,
        resource_util,
    )

    return SimpleNamespace(
        mediapipe=mediapipe, text_format=text_format, calculator_pb2=calculator_pb2,
        rect_pb2=rect_pb2, packet_creator=packet_creator, packet_getter=packet_getter,
        calculator_graph=calculator_graph, image_frame=image_frame, resource_util=resource_util)


def _graph(text: str, log: NativeLog) -> Any:
    mp = _mp()
    config = mp.text_format.Parse(text, mp.calculator_pb2.CalculatorGraphConfig())
    return log.run(lambda: mp.calculator_graph.CalculatorGraph(graph_config=config))


def body_box(pixels: np.ndarray) -> np.ndarray:
    """(x, y, w, h) px: the bounding box of one pose's joints (17, 2)."""
    lo, hi = np.nanmin(pixels, axis=0), np.nanmax(pixels, axis=0)
    return np.array([lo[0], lo[1], hi[0] - lo[0], hi[1] - lo[1]], dtype=np.float64)


def person_area(pixels: np.ndarray) -> tuple[float, float, float, float]:
    """(x0, y0, x1, y1) px: where a person with joints `pixels` (17, 2) is in the picture: their
    joints' box grown by MASK_MARGIN of its longer side, and above the nose by the head."""
    x, y, w, h = body_box(pixels)
    pad = MASK_MARGIN * max(w, h)
    return x - pad, y - pad - 0.15 * h, x + w + pad, y + h + pad


def same_person(new: np.ndarray, old: np.ndarray) -> bool:
    """Whether pose `new` (17, 2) px is pose `old`'s person found again (module docstring)."""
    a, b = body_box(new), body_box(old)
    size = max(float(np.hypot(*a[2:])), float(np.hypot(*b[2:])), 1.0)
    if float(np.median(np.linalg.norm(new - old, axis=1))) < DUPLICATE_DISTANCE * size:
        return True
    x0, y0, x1, y1 = person_area(old)
    w = min(a[0] + a[2], x1) - max(a[0], x0)
    h = min(a[1] + a[3], y1) - max(a[1], y0)
    return w > 0 and h > 0 and w * h > DUPLICATE_INSIDE * max(a[2] * a[3], 1.0)


class PeopleFinder:
    """Every person's 2D pose in consecutive video frames (module docstring).

    Call it with each frame, (H, W, 3) uint8 RGB, in order; it returns a list of
    ``(pixels (17, 2) px, confidences (17,))``, Human3.6M order, the single-person tracker's
    person first, none filtered over time (module docstring). :attr:`tracker_pose` holds what
    the single-person tracker alone found in the last frame. Close with :meth:`close`.

    max_people: at most this many people per frame. detect_every: run the person detector on
    every n-th frame (people are followed by their ROIs in between). min_detection: the
    detector's score a new person needs.
    """

    def __init__(self, max_people: int = 8, detect_every: int = 1,
                 show_log: bool | None = None) -> None:
        """show_log: let MediaPipe's native log lines through (:class:`NativeLog`)."""
        if max_people < 1 or detect_every < 1:
            raise ValueError("max_people and detect_every must be at least 1")
        self.max_people = max_people
        self.detect_every = detect_every
        self.tracker = MediaPipePose(show_log=show_log, smooth=False)
        self.tracker_pose: tuple[np.ndarray, np.ndarray] | None = None
        # one holder of file descriptor 2 for all three graphs (holds nest in no other way)
        self.log: NativeLog = self.tracker.log
        self._frame = 0
        self._stamp = 0
        self._rois: list[Roi] = []
        self._landmarks: list[Any] = []
        self._detections: list[Any] = []
        try:  # (MediaPipePose above gave the clear error when MediaPipe is missing)
            self._start()
        except BaseException:
            self.tracker.close()
            raise

    def _start(self) -> None:
        mp = _mp()
        # the subgraphs find their .tflite files under the installed package's parent folder
        mp.resource_util.set_resource_dir(os.path.dirname(os.path.dirname(mp.mediapipe.__file__)))
        self._landmark_graph = _graph(_LANDMARK_GRAPH, self.log)
        self._landmark_graph.observe_output_stream(
            "landmarks", lambda _, p: self._landmarks.append(
                ("landmarks", mp.packet_getter.get_proto(p))))
        self._landmark_graph.observe_output_stream(
            "auxiliary", lambda _, p: self._landmarks.append(
                ("auxiliary", mp.packet_getter.get_proto(p))))
        self._detection_graph = _graph(_DETECTION_GRAPH, self.log)
        self._detection_graph.observe_output_stream(
            "detections", lambda _, p: self._detections.extend(mp.packet_getter.get_proto_list(p)))
        side = {"model_complexity": mp.packet_creator.create_int(1)}
        # held until the first frame is done: the graphs' threads log as they start, and their
        # interpreters as they first run, so each runs once here on a blank picture
        self.log.run(self._landmark_graph.start_run, side, keep=True)
        self.log.run(self._detection_graph.start_run, keep=True)
        blank = np.zeros((64, 64, 3), np.uint8)
        self._detect(blank)
        self._landmarks_in(blank, Roi(0.5, 0.5, 1.0, 1.0, 0.0))

    # -- the two graphs ----------------------------------------------------------------------

    def _image_packet(self, image: np.ndarray) -> Any:
        mp = _mp()
        self._stamp += 1
        return mp.packet_creator.create_image_frame(
            image_format=mp.image_frame.ImageFormat.SRGB, data=image).at(self._stamp)

    def _landmarks_in(self, image: np.ndarray, roi: Roi
                      ) -> tuple[np.ndarray, np.ndarray, Roi] | None:
        """The landmark model in `roi`: (pixels (17, 2), confidences (17,), the next ROI), or
        None when it sees no person there."""
        mp = _mp()
        graph = self._landmark_graph
        self._landmarks.clear()
        packet = self._image_packet(image)
        rect = mp.rect_pb2.NormalizedRect(x_center=roi.x, y_center=roi.y, width=roi.width,
                                       height=roi.height, rotation=roi.rotation)

        def send() -> None:
            graph.add_packet_to_input_stream("image", packet)
            graph.add_packet_to_input_stream(
                "roi", mp.packet_creator.create_proto(rect).at(self._stamp))
            graph.wait_until_idle()

        self.log.run(send, keep=self._frame == 0)
        found = dict(self._landmarks)
        if "landmarks" not in found or "auxiliary" not in found:
            return None
        height, width = image.shape[:2]
        marks = found["landmarks"].landmark
        xy = np.array([(p.x * width, p.y * height) for p in marks], dtype=np.float64)
        vis = np.array([p.visibility for p in marks], dtype=np.float64)
        aux = found["auxiliary"].landmark
        following = roi_from_points(np.array([aux[0].x, aux[0].y]),
                                    np.array([aux[1].x, aux[1].y]), width, height)
        pixels, conf = mediapipe_to_h36m(xy, vis)
        return pixels, conf, following

    def _detect(self, image: np.ndarray) -> list[Roi]:
        """The person detector on `image`: each detection's ROI, best score first."""
        graph = self._detection_graph
        self._detections.clear()
        packet = self._image_packet(image)

        def send() -> None:
            graph.add_packet_to_input_stream("image", packet)
            graph.wait_until_idle()

        self.log.run(send, keep=self._frame == 0)
        height, width = image.shape[:2]
        out = []
        for det in sorted(self._detections, key=lambda d: -d.score[0]):
            points = det.location_data.relative_keypoints
            out.append(roi_from_points(np.array([points[0].x, points[0].y]),
                                       np.array([points[1].x, points[1].y]), width, height))
        return out

    # -- one frame --------------------------------------------------------------------------

    def __call__(self, image: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        image = np.ascontiguousarray(image)
        poses: list[tuple[np.ndarray, np.ndarray]] = []
        rois: list[Roi] = []
        self.tracker_pose = self.tracker(image)
        if self.tracker_pose is not None:
            poses.append(self.tracker_pose)

        def keep(found: tuple[np.ndarray, np.ndarray, Roi] | None) -> bool:
            if found is None or len(poses) >= self.max_people:
                return False
            if any(same_person(found[0], p[0]) for p in poses):
                return False
            poses.append((found[0], found[1]))
            rois.append(found[2])
            return True

        for roi in self._rois:
            keep(self._landmarks_in(image, roi))
        if self._frame % self.detect_every == 0:
            masked = image
            while len(poses) < self.max_people:
                masked = _painted_over(masked, [p[0] for p in poses])
                height, width = image.shape[:2]
                new = [keep(self._landmarks_in(image, roi)) for roi in self._detect(masked)
                       if not _inside_anyone(roi.x * width, roi.y * height, poses)]
                if not any(new):
                    break
        self._rois = rois
        if self._frame == 0:
            self.log.release()
        self._frame += 1
        return poses

    def close(self) -> None:
        """Close the graphs and let them go: they hold callbacks that hold this finder, a
        cycle through C++ that Python's collector cannot see (a finder left alive keeps its
        models' memory, about 100 MB)."""
        try:
            for graph in (self._landmark_graph, self._detection_graph):
                self.log.run(graph.close)
        finally:
            self._landmark_graph = self._detection_graph = None
            self.tracker.close()  # and the log


def _inside_anyone(x: float, y: float, poses: list[tuple[np.ndarray, np.ndarray]]) -> bool:
    """Whether the point (x, y) px lies in a found person's area (:func:`person_area`)."""
    for pixels, _ in poses:
        x0, y0, x1, y1 = person_area(pixels)
        if x0 <= x <= x1 and y0 <= y <= y1:
            return True
    return False


def _painted_over(image: np.ndarray, people: list[np.ndarray]) -> np.ndarray:
    """A copy of `image` with each person's area (:func:`person_area`) grey."""
    out = image.copy()
    height, width = image.shape[:2]
    for pixels in people:
        x0, y0, x1, y1 = person_area(pixels)
        out[max(0, int(y0)):min(height, math.ceil(y1)),
            max(0, int(x0)):min(width, math.ceil(x1))] = MASK_GREY
    return out
