"""The report's Deep Dynamic Model (``seed``), exactly as its Keras code built it.

Keras graph (``TimeDistributed`` layers apply per frame; valid padding everywhere)::

    x / 255
    Conv2D 16@7x7 stride 2, ReLU      224 -> 109
    MaxPool 2x2 stride 2 (floor)      109 -> 54
    Conv2D 16@3x3 stride 2, ReLU       54 -> 26
    Conv2D 32@3x3 stride 2, ReLU       26 -> 12
    Conv2D 64@3x3 stride 2, ReLU       12 -> 5
    Conv2D 128@3x3 stride 2, ReLU       5 -> 2
    MaxPool 2x2 stride 2                2 -> 1
    Flatten (channels-last: H, W, C)
    LSTM 128, ReLU cell candidate and output, sigmoid gates, all time steps
    Dense 256 ReLU, Dense 51, reshape (T, 17, 3)

279,395 parameters at 224x224 (and the output buffers ``pose_scale`` and ``pose_offset``, see
:class:`SeedModel`).
Parameters are held in PyTorch layouts of the Keras weights (conv ``(out, in, kh, kw)``, dense
``(out, in)``, LSTM ``(4H, in)`` with Keras' gate order i, f, c, o), so
:mod:`dynapose.models.keras_import` is a transposition and nothing else. Train it with
:class:`dynapose.training.keras_adam.KerasAdam` to follow Keras' numbers.

Speed (the first convolution is ~90 % of the multiply-adds). Frames go through the CNN as one
batch of ``B*T`` channels-last images. The first stage (conv 7x7 + ReLU + max-pool) is computed
as ``relu(maxpool(conv(x, W/255)) + b)`` -- the /255 folded into the kernel, the pool taken
before bias and ReLU (max commutes with both, so the result is the same) -- in chunks of ~16
frames whose float copy and conv output stay in cache. Its backward pass keeps only the uint8
input, the output and an int16 argmax, and remakes the float frames chunk by chunk, so no float
tensor the size of the input batch is ever held (385 MB at batch 80). ``fast=False`` runs the
literal Keras order instead (same numbers up to float rounding); tracing, ONNX export,
``torch.compile`` and GPUs get that path too.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any, cast

import torch
import torch.nn.functional as F
from torch import nn

from dynapose.models.registry import register

CONVS: tuple[tuple[int, int, int], ...] = (
    (16, 7, 2),
    (16, 3, 2),
    (32, 3, 2),
    (64, 3, 2),
    (128, 3, 2),
)
"""(filters, kernel size, stride) of the five convolutions, in order."""
LSTM_UNITS = 128
CHUNK_PIXELS = 16 * 224 * 224
"""Pixels per chunk of the first stage (16 frames at 224 px: its working set fits in L3 cache)."""
DENSE_UNITS = 256
N_JOINTS = 17


def _conv_out(n: int, k: int, s: int) -> int:
    return (n - k) // s + 1


def spatial_sizes(size: int) -> list[int]:
    """Side after the input and each layer up to the flatten: 224 -> [224, 109, 54, ..., 1]."""
    sizes = [size]
    for i, (_, k, s) in enumerate(CONVS):
        sizes.append(_conv_out(sizes[-1], k, s))
        if i == 0:
            sizes.append(sizes[-1] // 2)
    sizes.append(sizes[-1] // 2)
    return sizes


MIN_INPUT_SIZE = next(n for n in range(1, 1000) if min(spatial_sizes(n)) >= 1)
"""Smallest frame side (193 px) for which every layer still has an output."""


def _glorot_uniform_(w: torch.Tensor, fan_in: int, fan_out: int) -> None:
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    with torch.no_grad():
        w.uniform_(-limit, limit)


class ReluLSTM(nn.Module):
    """Keras ``LSTM(units, activation='relu', return_sequences=True)``; zero initial state.

    ``z = x W_ih^T + h W_hh^T + b`` split as gates i, f, c, o; ``i, f, o = sigmoid(.)``,
    ``c = f * c + i * relu(z_c)``, ``h = o * relu(c)``. Input (B, T, in) -> output (B, T, units).
    """

    def __init__(self, input_size: int, units: int) -> None:
        super().__init__()
        self.units = units
        self.weight_ih = nn.Parameter(torch.empty(4 * units, input_size))
        self.weight_hh = nn.Parameter(torch.empty(4 * units, units))
        self.bias = nn.Parameter(torch.empty(4 * units))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Keras defaults: glorot-uniform kernel, orthogonal recurrent kernel, forget bias 1."""
        _glorot_uniform_(self.weight_ih, self.weight_ih.shape[1], self.weight_ih.shape[0])
        nn.init.orthogonal_(self.weight_hh)
        with torch.no_grad():
            self.bias.zero_()
            self.bias[self.units : 2 * self.units] = 1.0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, steps, _ = x.shape
        h_units = self.units
        zx = F.linear(x, self.weight_ih, self.bias)  # (B, T, 4H): all input projections at once
        h = x.new_zeros(batch, h_units)
        c = x.new_zeros(batch, h_units)
        outputs = []
        for t in range(steps):
            z = zx[:, t] + h @ self.weight_hh.t()
            i, f, g, o = z.split(h_units, dim=1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.relu(g)
            h = torch.sigmoid(o) * torch.relu(c)
            outputs.append(h)
        return torch.stack(outputs, dim=1)


def _tracing() -> bool:
    """True while torch.jit / ONNX / torch.compile trace the model: they get the plain layers."""
    return torch.jit.is_tracing() or torch.onnx.is_in_onnx_export() or torch.compiler.is_compiling()


def _stem_geometry(size: int) -> tuple[int, int]:
    """(pooled side P, input rows actually used 4P+5) of the first conv + max-pool."""
    pooled = _conv_out(size, CONVS[0][1], CONVS[0][2]) // 2
    return pooled, 4 * pooled + 5


def _stem(
    images: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, chunk: int, argmax: bool
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """``relu(maxpool2x2(conv7x7_s2(images, weight)) + bias)`` over uint8 images, chunk by chunk.

    Returns the output (N, P, P, C) (NHWC storage) and, if `argmax`, the flat index of each
    max in its (2P, 2P) conv plane (same shape; int16, or int32 for inputs over ~360 px), else
    None.
    """
    n, size = images.shape[0], images.shape[1]
    side, rows = _stem_geometry(size)
    ch = weight.shape[0]
    out = images.new_empty((n, side, side, ch), dtype=weight.dtype)
    index = images.new_empty(out.shape, dtype=_index_dtype(side)) if argmax else None
    # the bias tiled along a whole output row, so the add runs over long contiguous rows
    bias_row = bias.detach().repeat(side)
    buf = _chunk_buffer(images, (chunk, 3, rows, rows), weight.dtype)
    for i in range(0, n, chunk):
        j = min(i + chunk, n)
        x = buf[: j - i]
        x.copy_(images[i:j, :rows, :rows].permute(0, 3, 1, 2))
        y = F.conv2d(x, weight, None, stride=CONVS[0][2])
        if index is None:
            pooled = F.max_pool2d(y, 2, 2)
        else:
            pooled, idx = F.max_pool2d_with_indices(y, (2, 2), (2, 2))
            index[i:j].copy_(idx.permute(0, 2, 3, 1))
        rows_out = out[i:j].view((j - i) * side, side * ch)
        torch.add(pooled.permute(0, 2, 3, 1).reshape(rows_out.shape), bias_row, out=rows_out)
        rows_out.relu_()
    return out, index


def _index_dtype(side: int) -> torch.dtype:
    return torch.int16 if (2 * side) ** 2 <= torch.iinfo(torch.int16).max else torch.int32


class _Stem(torch.autograd.Function):
    """The first stage with its gradient: see :func:`_stem`. Gradients for weight and bias.

    Identical to Keras' ``maxpool(relu(conv + bias))``: max commutes with adding a constant and
    with ReLU. Images go through in chunks so each chunk's float copy and conv output stay in
    cache, and no float tensor of the whole batch's input size is ever made. The backward pass
    keeps only the output and the argmax (int16) and remakes the float images from the uint8
    ones, chunk by chunk.
    """

    @staticmethod
    def forward(  # type: ignore[override]
        ctx: Any, images: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, chunk: int
    ) -> torch.Tensor:
        out, index = _stem(images, weight, bias, chunk, argmax=True)
        ctx.save_for_backward(images, weight, out, index)
        ctx.chunk = chunk
        return out.permute(0, 3, 1, 2)

    @staticmethod
    def backward(  # type: ignore[override]
        ctx: Any, grad: torch.Tensor
    ) -> tuple[None, torch.Tensor, torch.Tensor, None]:
        images, weight, out, index = ctx.saved_tensors
        chunk, n = ctx.chunk, images.shape[0]
        side, rows = _stem_geometry(images.shape[1])
        buf = _chunk_buffer(images, (chunk, 3, rows, rows), weight.dtype)
        # the pooling backward reads only the shape and memory format of this: never touched
        like = _chunk_buffer(images, (chunk, weight.shape[0], 2 * side, 2 * side), weight.dtype)
        grad = grad.permute(0, 2, 3, 1)  # (N, P, P, C)
        dw = torch.zeros_like(weight)
        db = grad.new_zeros(weight.shape[0])
        stride = [CONVS[0][2]] * 2
        for i in range(0, n, chunk):
            j = min(i + chunk, n)
            g = torch.ops.aten.threshold_backward(grad[i:j], out[i:j], 0)  # through the ReLU
            db += g.view(-1, g.shape[-1]).sum(dim=0)
            dy = torch.ops.aten.max_pool2d_with_indices_backward(
                g.permute(0, 3, 1, 2),
                like[: j - i],
                [2, 2],
                [2, 2],
                [0, 0],
                [1, 1],
                False,
                index[i:j].permute(0, 3, 1, 2).to(torch.int64),
            )
            x = buf[: j - i]
            x.copy_(images[i:j, :rows, :rows].permute(0, 3, 1, 2))
            dw += torch.ops.aten.convolution_backward(
                dy, x, weight, None, stride, [0, 0], [1, 1], False, [0, 0], 1, [False, True, False]
            )[1]
        return None, dw, db, None


def _chunk_buffer(images: torch.Tensor, shape: tuple[int, ...], dtype: torch.dtype) -> torch.Tensor:
    """An uninitialised channels-last float buffer for one chunk (at most the batch size)."""
    shape = (min(shape[0], images.shape[0]), *shape[1:])
    return torch.empty(shape, dtype=dtype, device=images.device, memory_format=torch.channels_last)


@register("seed")
class SeedModel(nn.Module):
    """The report's CNN + ReLU-LSTM: uint8 clips (B, T, H, W, 3) -> joints (B, T, 17, 3) in mm.

    Config: ``clip_len`` (T the model was built for; the LSTM accepts any T) and ``input_size``
    (square side in pixels, at least 193; the flatten width depends on it). ``fast`` (default
    True) selects the chunked first stage; ``fast=False`` the literal Keras layer order (same
    numbers up to float rounding). Two buffers map the last layer's output to millimetres,
    ``joints = out * pose_scale + pose_offset``: ``pose_scale`` (scalar) is 1 and ``pose_offset``
    (17, 3) is 0 for Keras' model exactly; training with ``normalize_targets`` sets them to the
    training targets' spread (mm) and mean pose (mm).

    ``init``: "keras" (the report's: glorot-uniform everywhere) or "he" (the convolutions
    He-normal for ReLU, the rest as Keras). With Keras' init and the x/255 input every ReLU layer
    shrinks the signal: on 224-px synthetic clips the CNN features and the output barely vary
    between clips, too little for the gradient to find the image; He's init keeps the features
    an order of magnitude larger (docs/results.md). Loaded weights replace either.
    """

    def __init__(self, clip_len: int = 8, input_size: int = 224, fast: bool = True,
                 init: str = "keras") -> None:
        super().__init__()
        if not isinstance(clip_len, int) or clip_len < 1:
            raise ValueError(f"clip_len must be a positive int, got {clip_len!r}")
        if not isinstance(input_size, int) or input_size < MIN_INPUT_SIZE:
            raise ValueError(
                f"input_size {input_size!r} is too small: the layers need at least "
                f"{MIN_INPUT_SIZE}x{MIN_INPUT_SIZE} pixels"
            )
        if init not in ("keras", "he"):
            raise ValueError(f"init must be 'keras' or 'he', got {init!r}")
        self.config: dict[str, Any] = {"clip_len": clip_len, "input_size": input_size}
        if init != "keras":
            self.config["init"] = init
        self.init = init
        self.fast = fast
        self.chunk: int | None = None  # images per first-stage chunk; None: CHUNK_PIXELS
        self.convs = nn.ModuleList()
        in_ch = 3
        for filters, k, s in CONVS:
            self.convs.append(nn.Conv2d(in_ch, filters, k, stride=s))
            in_ch = filters
        side = spatial_sizes(input_size)[-1]
        self.flat_features = side * side * in_ch
        self.lstm = ReluLSTM(self.flat_features, LSTM_UNITS)
        self.dense1 = nn.Linear(LSTM_UNITS, DENSE_UNITS)
        self.dense2 = nn.Linear(DENSE_UNITS, N_JOINTS * 3)
        # Output scale and offset (mm): 1 and 0 = Keras' model exactly; training may set them
        # to the training targets' spread and mean pose (``normalize_targets``). Not parameters.
        self.register_buffer("pose_scale", torch.ones(()))
        self.register_buffer("pose_offset", torch.zeros(N_JOINTS, 3))
        self.reset_parameters()
        # Module.to(memory_format=...) is documented and works; torch's overloads omit it
        self.to(memory_format=torch.channels_last)  # type: ignore[call-overload]

    def reset_parameters(self) -> None:
        """Keras initialisers: glorot-uniform kernels, zero biases (LSTM: see ReluLSTM); with
        ``init="he"`` the convolution kernels He-normal (fan in, ReLU gain) instead."""
        for conv in cast("Iterable[nn.Conv2d]", self.convs):
            assert conv.bias is not None  # built with bias=True
            out_ch, in_ch, kh, kw = conv.weight.shape
            if self.init == "he":
                nn.init.kaiming_normal_(conv.weight, nonlinearity="relu")
            else:
                _glorot_uniform_(conv.weight, kh * kw * in_ch, kh * kw * out_ch)
            nn.init.zeros_(conv.bias)
        for dense in (self.dense1, self.dense2):
            _glorot_uniform_(dense.weight, dense.in_features, dense.out_features)
            nn.init.zeros_(dense.bias)
        self.lstm.reset_parameters()

    @property
    def input_size(self) -> int:
        return int(self.config["input_size"])

    def features(self, images: torch.Tensor) -> torch.Tensor:
        """Per-frame CNN features: uint8 (N, H, W, 3) -> float32 (N, flat_features), Keras order."""
        conv1 = cast(nn.Conv2d, self.convs[0])
        b1 = cast(torch.Tensor, conv1.bias)  # built with bias=True
        w1 = conv1.weight / 255.0  # the model's x/255, folded into the first kernel
        # The chunked stem pays for CPU caches; a GPU runs the plain layers as a few large
        # kernels (cuDNN) instead of dozens of small ones per batch.
        if self.fast and not _tracing() and images.device.type == "cpu":
            chunk = self.chunk or max(1, CHUNK_PIXELS // (images.shape[1] * images.shape[2]))
            if torch.is_grad_enabled() and (w1.requires_grad or b1.requires_grad):
                y = _Stem.apply(images, w1, b1, chunk)
            else:
                y = _stem(images, w1, b1, chunk, argmax=False)[0].permute(0, 3, 1, 2)
        else:
            x = images.permute(0, 3, 1, 2).float()  # channels-last (N, 3, H, W), values 0..255
            y = torch.relu(F.conv2d(x, w1, b1, stride=conv1.stride))
            y = F.max_pool2d(y, 2, 2)
        for conv in self.convs[1:]:
            y = torch.relu(conv(y))
        y = F.max_pool2d(y, 2, 2)
        return y.permute(0, 2, 3, 1).reshape(y.shape[0], -1)  # Keras Flatten: (H, W, C)

    def forward(self, clips: torch.Tensor) -> torch.Tensor:
        """uint8 (B, T, H, W, 3) -> float32 (B, T, 17, 3) joints in mm."""
        if clips.dim() != 5 or clips.shape[-1] != 3:
            raise ValueError(f"expected clips (B, T, H, W, 3), got shape {tuple(clips.shape)}")
        b, t, h, w, _ = clips.shape
        if h != self.input_size or w != self.input_size:
            raise ValueError(
                f"model built for {self.input_size}x{self.input_size} frames, got {h}x{w}"
            )
        feats = self.features(clips.reshape(b * t, h, w, 3)).view(b, t, -1)
        return self.forward_from_features(feats)

    def forward_from_features(self, feats: torch.Tensor) -> torch.Tensor:
        """The temporal rest of the model: features (B, T, F) from :meth:`features` -> joints
        (B, T, 17, 3) mm. Lets a video's frames share CNN work across overlapping windows."""
        b, t, _ = feats.shape
        out = self.dense2(torch.relu(self.dense1(self.lstm(feats))))
        return out.view(b, t, N_JOINTS, 3) * self.pose_scale + self.pose_offset


def count_parameters(model: nn.Module) -> int:
    """Number of trainable scalars."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
