"""DynaPose: 3D human pose estimation from video.

Every model returns the 17 Human3.6M joints per frame, in millimetres, in the camera frame. Each
``dynapose`` command is a thin layer over one of the functions exported here::

    from dynapose import predict, train, evaluate
    pred = predict("clip.mp4", out_dir="clip-pose")   # the shipped lifter on MediaPipe 2D
    pred.joints                                       # (F, 17, 3) float32 mm

Names are imported on first use, so ``import dynapose`` stays cheap.
"""

from __future__ import annotations

import importlib
import os as _os
from typing import TYPE_CHECKING, Any

# Back torch's large CPU allocations (the seed model's first-stage buffers) with transparent huge
# pages: far fewer page faults per training step. Torch reads this once, when it is first
# imported, so it is set here before any DynaPose module imports torch; a user's own value wins.
_os.environ.setdefault("THP_MEM_ALLOC_ENABLE", "1")

__version__ = "0.1.0"

#: Public name -> the module that defines it.
_API = {
    # inference
    "predict": "dynapose.inference.predict",
    "predict_video": "dynapose.inference.image_model",
    "predict_video_lifted": "dynapose.inference.lifted",
    "predict_people": "dynapose.people.predict",
    "Prediction": "dynapose.inference.prediction",
    "write_prediction": "dynapose.inference.writer",
    "load_lifter": "dynapose.inference.lifting",
    "lift_sequence": "dynapose.inference.lifting",
    "run_live": "dynapose.live.session",
    # training
    "train": "dynapose.training.image",
    "train_lifter": "dynapose.training.lift",
    "TrainConfig": "dynapose.config",
    "LiftConfig": "dynapose.config",
    "load_config": "dynapose.config",
    "load_lift_config": "dynapose.config",
    # evaluation
    "evaluate": "dynapose.evaluation.clips",
    "evaluate_lifter": "dynapose.evaluation.lifter",
    "format_report": "dynapose.evaluation.report",
    "write_report": "dynapose.evaluation.report",
    # data
    "synthesize": "dynapose.data.synthetic.synth",
    "import_arrays": "dynapose.data.arrays",
    "prepare_h36m": "dynapose.data.prepare",
    "ClipStore": "dynapose.data.store",
    "PoseStore": "dynapose.data.pose_store",
    "load_bvh": "dynapose.data.bvh",
    "read_keypoints_file": "dynapose.data.keypoints",
    "Keypoints2D": "dynapose.data.keypoints",
    # models and files
    "build_model": "dynapose.models",
    "load_checkpoint": "dynapose.io.checkpoint",
    "save_checkpoint": "dynapose.io.checkpoint",
    "export_onnx": "dynapose.io.onnx",
    "import_keras": "dynapose.io.keras",
    # the rest
    "run_demo": "dynapose.demo",
    "DynaPoseError": "dynapose.errors",
    "JOINT_NAMES": "dynapose.skeleton",
}

__all__ = sorted(_API)


def __getattr__(name: str) -> Any:
    if name not in _API:
        raise AttributeError(f"module 'dynapose' has no attribute {name!r}")
    value = getattr(importlib.import_module(_API[name]), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_API])


if TYPE_CHECKING:  # what the names are, for type checkers and editors
    from dynapose.config import LiftConfig, TrainConfig, load_config, load_lift_config
    from dynapose.data.arrays import import_arrays
    from dynapose.data.bvh import load_bvh
    from dynapose.data.keypoints import Keypoints2D, read_keypoints_file
    from dynapose.data.pose_store import PoseStore
    from dynapose.data.prepare import prepare_h36m
    from dynapose.data.store import ClipStore
    from dynapose.data.synthetic.synth import synthesize
    from dynapose.demo import run_demo
    from dynapose.errors import DynaPoseError
    from dynapose.evaluation.clips import evaluate
    from dynapose.evaluation.lifter import evaluate_lifter
    from dynapose.evaluation.report import format_report, write_report
    from dynapose.inference.image_model import predict_video
    from dynapose.inference.lifted import predict_video_lifted
    from dynapose.inference.lifting import lift_sequence, load_lifter
    from dynapose.inference.predict import predict
    from dynapose.inference.prediction import Prediction
    from dynapose.inference.writer import write_prediction
    from dynapose.io.checkpoint import load_checkpoint, save_checkpoint
    from dynapose.io.keras import import_keras
    from dynapose.io.onnx import export_onnx
    from dynapose.live.session import run_live
    from dynapose.models import build_model
    from dynapose.people.predict import predict_people
    from dynapose.skeleton import JOINT_NAMES
    from dynapose.training.image import train
    from dynapose.training.lift import train_lifter
