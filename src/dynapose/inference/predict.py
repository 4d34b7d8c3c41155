"""``predict``: a video in, 3D joints out, with either model family.

One rule picks the family: the checkpoint's model name (as ``evaluate`` does). No checkpoint means
the lifter shipped in the package, fed with 2D keypoints (MediaPipe on the video, or a keypoint
file). Options that only one family uses are refused for the other, not ignored.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from dynapose.data.keypoints import Keypoints2D
from dynapose.errors import DynaPoseError
from dynapose.inference.image_model import predict_video
from dynapose.inference.lifted import predict_video_lifted
from dynapose.inference.lifting import default_lifter_path
from dynapose.inference.prediction import Prediction
from dynapose.inference.windows import DEFAULT_BATCH, DEFAULT_STRIDE
from dynapose.inference.writer import VISUALS
from dynapose.io.checkpoint import read_checkpoint_config

#: Options of each family, by their command-line spelling (what a refusal names).
IMAGE_OPTIONS = ("--box", "--detector", "--backend", "--onnx", "--stride", "--batch")
LIFTER_OPTIONS = ("--keypoints", "--sequence", "--rigid-bones/--free-bones")


def model_family(checkpoint: str | os.PathLike[str] | None) -> str:
    """"lifter" or "image": the family of the checkpoint's model (None: the shipped lifter)."""
    if checkpoint is None:
        return "lifter"
    name = read_checkpoint_config(checkpoint)["model"]["name"]
    return "lifter" if name == "lifter" else "image"


def predict(
    video: str | os.PathLike[str],
    checkpoint: str | os.PathLike[str] | None = None,
    out_dir: str | os.PathLike[str] | None = None,
    *,
    keypoints: str | os.PathLike[str] | Keypoints2D | None = None,
    sequence: str | None = None,
    rigid: bool | None = None,
    box: Sequence[float] | None = None,
    detector: str | None = None,
    backend: str | None = None,
    onnx_path: str | os.PathLike[str] | None = None,
    stride: int | None = None,
    batch: int | None = None,
    visuals: Sequence[str] = VISUALS,
    overwrite: bool = False,
    device: str = "auto",
    progress: bool | None = False,
) -> Prediction:
    """3D joints (mm, camera frame) of every frame of `video`, and their files in `out_dir`.

    checkpoint: a run or checkpoint folder of either family, or None for the shipped lifter
    (:func:`dynapose.inference.lifting.default_lifter_path`). Lifter options: keypoints (a file
    or :class:`Keypoints2D`; default MediaPipe on the video), sequence (which sequence of a
    VideoPose3D file), rigid (one length per bone, default True). Image-model options: box,
    detector, backend, onnx_path, stride, batch (see
    :func:`dynapose.inference.image_model.predict_video`). An option left None is not given;
    one given to the other family is a DynaPoseError. visuals, overwrite, device (auto, cpu,
    cuda, cuda:N): for both. progress: the lifter's progress bars over the video, with the
    time left (None: when stderr is a terminal).
    """
    family = model_family(checkpoint)
    image: dict[str, Any] = {"--box": box, "--detector": detector, "--backend": backend,
                             "--onnx": onnx_path, "--stride": stride, "--batch": batch}
    lifter: dict[str, Any] = {"--keypoints": keypoints, "--sequence": sequence,
                              "--rigid-bones/--free-bones": rigid}
    wrong = image if family == "lifter" else lifter
    given = [name for name, value in wrong.items() if value is not None]
    if given:
        model = "the shipped lifter" if checkpoint is None else f"a {family} checkpoint"
        raise DynaPoseError(f"{', '.join(given)} do not apply to {model}: they are options of "
                            f"the {'image model' if family == 'lifter' else 'lifter'}",
                            checkpoint if checkpoint is not None else default_lifter_path())
    if family == "lifter":
        return predict_video_lifted(video, checkpoint, keypoints, out_dir, visuals=visuals,
                                    overwrite=overwrite, sequence=sequence,
                                    rigid=True if rigid is None else rigid, device=device,
                                    progress=progress)
    assert checkpoint is not None
    return predict_video(video, checkpoint, out_dir, box=box, detector=detector or "auto",
                         backend="onnx" if onnx_path else backend or "torch",
                         stride=stride or DEFAULT_STRIDE, batch=batch or DEFAULT_BATCH,
                         onnx_path=onnx_path, visuals=visuals, overwrite=overwrite,
                         device=device)
