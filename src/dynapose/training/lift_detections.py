"""Lifter training batches whose 2D input is a detector's keypoints (the field's protocol).

What VideoPose3D does with CPN detections: the lifter learns from the 2D a detector found in
the training subjects' images, errors and biases included, and the 3D targets stay the ground
truth's root-relative camera-frame joints (mm). Detections are fixed pixels, so the only
augmentation is mirroring (the 2D about the camera's principal point, the 3D about the camera's
x = 0 plane, left and right swapped); a share of each batch may still be projected ground truth
with every augmentation of :func:`dynapose.training.lift_batch.make_batch`
(``detection_share``). Those projected windows may carry a detector's error too
(``detection_errors``): the detected minus the projected 2D of another training window, added
to their projection, so bodies and turns the detections never show still come with the
detector's mistakes and its own idea of where each joint is.

:func:`detected_inputs` lines a :class:`~dynapose.data.detections.Detections` up with a
:class:`~dynapose.data.lift_motion.MotionData` frame by frame (every sequence and camera must
have detections of its exact length: a one-line error names the file otherwise), after
:func:`detected_cameras` has left out of each sequence the cameras the detections lack (the
public Human3.6M release has no Stacked-Hourglass file for S11 'Directions' camera 54138969);
:func:`training_batch` draws the mixed batches training and validation use.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import torch

from dynapose.camera import normalize_screen
from dynapose.config import LiftConfig
from dynapose.data.detections import Detections
from dynapose.data.lift_motion import MotionData
from dynapose.errors import DynaPoseError
from dynapose.models.lifter import flip_keypoints
from dynapose.skeleton import NUM_JOINTS, flip_permutation
from dynapose.training.lift_batch import make_batch, window_index


@dataclass
class DetectedInputs:
    """A detector's 2D of every frame of a MotionData, per camera slot (a sequence's k-th camera
    is slot k): points (N, K, 17, 2) float32 normalised coordinates; errors (N, K, 17, 2) the
    same minus the ground truth's projection (the detector's error, normalised); confidence
    (N, K, 17) or None; detector: its name, for run records."""

    points: torch.Tensor
    errors: torch.Tensor
    confidence: torch.Tensor | None
    detector: str

    def to(self, device: torch.device | str) -> DetectedInputs:
        conf = None if self.confidence is None else self.confidence.to(device)
        return DetectedInputs(self.points.to(device), self.errors.to(device), conf,
                              self.detector)


def detected_cameras(motion: MotionData, detections: Detections
                     ) -> tuple[MotionData, list[tuple[str, str, str]]]:
    """`motion` with each sequence's camera list cut to the cameras `detections` has, and the
    (subject, action, camera id) left out. Windows are drawn from a sequence's camera list, so
    a camera left out is neither projected nor detected for that sequence. A DynaPoseError when
    a sequence has no detections from any camera (:meth:`Detections.has`)."""
    sequences, left_out = [], []
    for s in motion.sequences:
        kept = []
        for ci in s["cameras"]:
            name = motion.cameras[ci].name
            if detections.has(s["subject"], s["action"], name):
                kept.append(ci)
            else:
                left_out.append((s["subject"], s["action"], name))
        if not kept:
            raise DynaPoseError(f"no detections for {s['subject']} {s['action']!r} from any of "
                                "its cameras", detections.source)
        sequences.append({**s, "cameras": kept})
    return (replace(motion, sequences=sequences) if left_out else motion), left_out


def detected_inputs(motion: MotionData, detections: Detections) -> DetectedInputs:
    """The detections of `motion`'s sequences, as seen by each of their cameras, normalised as
    the lifter's input (:func:`dynapose.camera.normalize_screen`). Every camera of every
    sequence needs detections: leave out those without first (:func:`detected_cameras`)."""
    slots = max((len(s["cameras"]) for s in motion.sequences), default=0)
    points = np.zeros((motion.num_frames, slots, NUM_JOINTS, 2), np.float32)
    errors = np.zeros_like(points)
    confidence = (np.ones((motion.num_frames, slots, NUM_JOINTS), np.float32)
                  if detections.confidence else None)
    for s in motion.sequences:
        rows = slice(s["start"], s["start"] + s["frames"])
        for slot, ci in enumerate(s["cameras"]):
            cam = motion.cameras[ci]
            px, conf = detections.get(s["subject"], s["action"], cam.name, s["frames"])
            points[rows, slot] = normalize_screen(px, cam.width, cam.height)
            truth = cam.project_world(motion.world[rows].astype(np.float64))
            errors[rows, slot] = points[rows, slot] - normalize_screen(truth, cam.width,
                                                                       cam.height)
            if confidence is not None and conf is not None:
                confidence[rows, slot] = conf
    return DetectedInputs(torch.from_numpy(points), torch.from_numpy(errors),
                          None if confidence is None else torch.from_numpy(confidence),
                          detections.detector)


def _window_rows(motion: MotionData, frame: np.ndarray, seq: np.ndarray, cam: np.ndarray,
                 config: LiftConfig, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """Indices into a DetectedInputs' frames (B, R) and camera slots (B, 1) of the windows
    around global frames `frame` of sequences `seq` seen by cameras `cam`."""
    idx = window_index(motion, frame, seq, config)
    slot = np.array([motion.sequences[s]["cameras"].index(c) for s, c in zip(seq, cam,
                                                                           strict=True)])
    return torch.from_numpy(idx).to(device), torch.from_numpy(slot).to(device)[:, None]


def detection_batch(motion: MotionData, detected: DetectedInputs, cams: dict[str, torch.Tensor],
                    frame: np.ndarray, seq: np.ndarray, cam: np.ndarray, config: LiftConfig,
                    rng: np.random.Generator, augment: bool = True,
                    world: torch.Tensor | None = None
                    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """Windows of detections around global frames `frame` of sequences `seq` seen by cameras
    `cam` (indices into the camera table `cams`, see
    :func:`~dynapose.training.lift_batch.camera_tensors`).

    Returns (inputs (B, R, 17, 2) normalised, targets (B, 17, 3) root-relative camera-frame
    mm, confidences (B, R, 17) or None), on the device of `world`. With `augment`, each window
    is mirrored with probability ``config.flip``.
    """
    source = torch.from_numpy(motion.world) if world is None else world
    dev = source.device

    def put(array: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(array)).to(dev)

    rows, slots = _window_rows(motion, frame, seq, cam, config, detected.points.device)
    inputs = detected.points[rows, slots]  # (B, R, 17, 2)
    conf = None if detected.confidence is None else detected.confidence[rows, slots]
    ci = put(cam)
    R, T = cams["R"][ci], cams["T"][ci]
    centre = source[put(frame)]  # (B, 17, 3) world mm
    points = torch.einsum("bij,bkj->bki", R, centre - T[:, None])
    target = points - points[:, :1]
    if augment and config.flip > 0:
        flip = put(rng.random(len(frame)) < config.flip)
        axis = cams["c"][ci, 0] / cams["size"][ci, 0] * 2 - 1  # principal point, normalised
        mirrored = flip_keypoints(inputs)  # about x = 0, then moved back about the axis
        mirrored[..., 0] += 2 * axis[:, None, None]
        inputs = torch.where(flip[:, None, None, None], mirrored, inputs)
        target = torch.where(flip[:, None, None], flip_keypoints(target), target)
        if conf is not None:
            conf = torch.where(flip[:, None, None], conf[:, :, put(flip_permutation())], conf)
    return inputs.float(), target.float(), conf


def detector_errors(motion: MotionData, detected: DetectedInputs, frame: np.ndarray,
                    seq: np.ndarray, cam: np.ndarray, config: LiftConfig,
                    rng: np.random.Generator) -> torch.Tensor:
    """The detector's errors (B, R, 17, 2) over windows around global frames `frame` of
    sequences `seq` seen by cameras `cam`, each mirrored (x -> -x, left and right swapped) with
    probability ``config.flip``: what a detector gets wrong over a window, to add to another
    window's projection."""
    rows, slots = _window_rows(motion, frame, seq, cam, config, detected.errors.device)
    errors = detected.errors[rows, slots]
    flip = torch.from_numpy(rng.random(len(frame)) < config.flip).to(errors.device)
    return torch.where(flip[:, None, None, None], flip_keypoints(errors), errors)


def training_batch(motion: MotionData, cams: dict[str, torch.Tensor], frame: np.ndarray,
                   seq: np.ndarray, cam: np.ndarray, config: LiftConfig,
                   rng: np.random.Generator, *, detected: DetectedInputs | None = None,
                   share: float = 1.0, augment: bool = True, world: torch.Tensor | None = None
                   ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """A batch of (inputs, targets, confidences or None): without `detected`, projected ground
    truth (:func:`~dynapose.training.lift_batch.make_batch`); with it, a `share` of the windows
    (drawn per window) from the detections and the rest projected, ``config.detection_errors``
    of those (with `augment`) plus the detector's error over another window of the batch
    (:func:`detector_errors`). Confidences are given when the lifter takes them
    (``config.confidence``): the detector's where it has them, 1 else."""
    if detected is None:
        inputs, target = make_batch(motion, cams, frame, seq, cam, config, rng, augment=augment,
                                    world=world)
        return inputs, target, (torch.ones(inputs.shape[:3], device=inputs.device)
                                if config.confidence else None)
    chosen = rng.random(len(frame)) < share
    parts = []
    if chosen.any():
        parts.append(detection_batch(motion, detected, cams, frame[chosen], seq[chosen],
                                     cam[chosen], config, rng, augment=augment, world=world))
    if (~chosen).any():
        inputs, target = make_batch(motion, cams, frame[~chosen], seq[~chosen], cam[~chosen],
                                    config, rng, augment=augment, world=world)
        if augment and config.detection_errors > 0:
            noisy = np.nonzero(rng.random(len(inputs)) < config.detection_errors)[0]
            donor = rng.integers(0, len(frame), len(noisy))  # another window of the batch
            errors = detector_errors(motion, detected, frame[donor], seq[donor], cam[donor],
                                     config, rng).to(inputs.device)
            inputs[torch.from_numpy(noisy).to(inputs.device)] += errors
        parts.append((inputs, target, None))
    inputs = torch.cat([p[0] for p in parts])
    target = torch.cat([p[1] for p in parts])
    if not config.confidence:
        return inputs, target, None
    conf = torch.cat([p[2] if p[2] is not None else torch.ones(p[0].shape[:3],
                                                                device=p[0].device)
                      for p in parts])
    return inputs, target, conf
