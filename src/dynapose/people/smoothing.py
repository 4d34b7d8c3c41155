"""The single-person tracker's landmark filter, run along every person's track.

MediaPipe's single-person tracker (what ``dynapose predict`` runs) smooths its person's
landmarks inside its own graph (BlazePose's ``PoseLandmarkFiltering``): a low-pass filter on
the visibilities (``VisibilitySmoothingCalculator``, alpha 0.1), then a One Euro filter on the
positions (``LandmarksSmoothingCalculator``: min_cutoff 0.05, beta 80, derivate_cutoff 1,
scaled by the body's size), fed one frame every 1/30 s whatever the video's rate (MediaPipe's
solution's own clock). That filter follows one person; the people's landmark models
(:mod:`dynapose.people.blazepose`) have none, and which pose is whose is only known after
tracking. So :class:`~dynapose.people.blazepose.PeopleFinder` runs every model unfiltered (its
single-person tracker too), and :func:`smooth_track` runs those same two calculators, with the
same settings, along each person's track (:func:`~dynapose.people.predict.find_people`): every
person gets the same filter. A frame where the person is not seen resets the positions' filter,
as the tracker's does when it loses its person.

The filter's speeds are measured in body sizes: the body is the square around the pelvis that
holds every joint, as BlazePose's own region around the hips that holds the body. One
difference from the tracker's own filter: it filters the 17 Human3.6M joints, the tracker
BlazePose's 33 landmarks before they are mapped to them. Measured on a clip of one person
(``docs/results.md``, issue 28), the unfiltered tracker's keypoints through :func:`smooth_track`
land 0.16 px on average from the filtered tracker's (2.4 px before).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dynapose.inference.mediapipe import NativeLog
from dynapose.people.tracking import Track

#: The time MediaPipe's solution puts between frames (µs): 30 frames/s, whatever the video's.
FRAME_STEP_US = 33333
#: Side (px) of the blank picture that gives the filter its image size: the joints are handed
#: over in units of the frame's longer side, so this square keeps their aspect (the filter's
#: result does not depend on the unit: its speeds are measured in body sizes).
_UNIT_SIDE = 16

_FILTER_GRAPH = """
input_stream: "image"
input_stream: "landmarks"
input_stream: "body"
output_stream: "filtered"
node {
  calculator: "ImagePropertiesCalculator"
  input_stream: "IMAGE_CPU:image"
  output_stream: "SIZE:size"
}
node {
  calculator: "VisibilitySmoothingCalculator"
  input_stream: "NORM_LANDMARKS:landmarks"
  output_stream: "NORM_FILTERED_LANDMARKS:visibility_filtered"
  options {
    [mediapipe.VisibilitySmoothingCalculatorOptions.ext] { low_pass_filter { alpha: 0.1 } }
  }
}
node {
  calculator: "LandmarksSmoothingCalculator"
  input_stream: "NORM_LANDMARKS:visibility_filtered"
  input_stream: "IMAGE_SIZE:size"
  input_stream: "OBJECT_SCALE_ROI:body"
  output_stream: "NORM_FILTERED_LANDMARKS:filtered"
  options {
    [mediapipe.LandmarksSmoothingCalculatorOptions.ext] {
      one_euro_filter { min_cutoff: 0.05 beta: 80.0 derivate_cutoff: 1.0 }
    }
  }
}
"""


def smooth_track(pixels: np.ndarray, confidence: np.ndarray, side: float
                 ) -> tuple[np.ndarray, np.ndarray]:
    """One person's keypoints through the tracker's filter (module docstring).

    pixels: (F, 17, 2) px, NaN in the frames the person is not seen; confidence: (F, 17) in
    [0, 1]; side: the frame's longer side (px). Returns the filtered (pixels, confidence), NaN
    and 0 where they were.
    """
    # imported here: heavy, and MediaPipe is optional (the options' extensions must be known)
    from google.protobuf import text_format  # MediaPipe's, imported with it
    from mediapipe.calculators.util import (  # noqa: F401  (registers the options)
        landmarks_smoothing_calculator_pb2,
        visibility_smoothing_calculator_pb2,
    )
    from mediapipe.framework import calculator_pb2  # (MediaPipe, as above)
    from mediapipe.framework.formats import landmark_pb2, rect_pb2  # (as above)
    from mediapipe.python import packet_creator, packet_getter  # (as above)
    from mediapipe.python._framework_bindings import (  # (as above)
        calculator_graph,
        image_frame,
    )

    found = np.isfinite(pixels).all(axis=(1, 2))
    out_pixels = np.full_like(pixels, np.nan, dtype=np.float64)
    out_conf = np.zeros_like(confidence, dtype=np.float64)
    if not found.any():
        return out_pixels, out_conf
    filtered: dict[int, Any] = {}
    config = text_format.Parse(_FILTER_GRAPH, calculator_pb2.CalculatorGraphConfig())
    log = NativeLog()
    graph = log.run(lambda: calculator_graph.CalculatorGraph(graph_config=config))
    graph.observe_output_stream(
        "filtered", lambda _, p: filtered.__setitem__(p.timestamp.value,
                                                     packet_getter.get_proto(p)))
    blank = packet_creator.create_image_frame(
        image_format=image_frame.ImageFormat.SRGB,
        data=np.zeros((_UNIT_SIDE, _UNIT_SIDE, 3), np.uint8))

    def run() -> None:
        graph.start_run()
        for f in range(len(pixels)):
            stamp = (f + 1) * FRAME_STEP_US
            graph.add_packet_to_input_stream("image", blank.at(stamp))
            if found[f]:
                marks = landmark_pb2.NormalizedLandmarkList()
                for (x, y), c in zip(pixels[f] / side, confidence[f], strict=True):
                    marks.landmark.add(x=float(x), y=float(y), z=0.0, visibility=float(c))
                graph.add_packet_to_input_stream(
                    "landmarks", packet_creator.create_proto(marks).at(stamp))
                reach = 2.0 * float(np.max(np.linalg.norm(pixels[f] - pixels[f, 0], axis=1)))
                body = rect_pb2.NormalizedRect(x_center=float(pixels[f, 0, 0] / side),
                                               y_center=float(pixels[f, 0, 1] / side),
                                               width=reach / side, height=reach / side)
                graph.add_packet_to_input_stream(
                    "body", packet_creator.create_proto(body).at(stamp))
        graph.close()

    try:
        log.run(run)
    finally:
        log.close()
    for f in np.flatnonzero(found):
        marks = filtered[int((f + 1) * FRAME_STEP_US)].landmark
        out_pixels[f] = [(m.x * side, m.y * side) for m in marks]
        out_conf[f] = [m.visibility for m in marks]
    return out_pixels, out_conf


def smooth_tracks(tracks: list[Track], side: float) -> None:
    """Every track of `tracks` through :func:`smooth_track`, in place (`side`: the frame's
    longer side, px)."""
    for track in tracks:
        track.pixels, track.confidence = smooth_track(track.pixels, track.confidence, side)
