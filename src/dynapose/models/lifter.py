"""2D -> 3D lifting: a temporal convolutional network in the style of VideoPose3D.

Input: 2D keypoints of the 17 joints in normalised image coordinates (:func:`normalize_screen`:
x / w * 2 - 1 and y / w * 2 - h / w, so the image's width spans [-1, 1] and the aspect ratio is
kept), optionally with a confidence per joint. Output: root-relative 3D joints in the camera
frame (x right, y down, z forward), millimetres, pelvis at the origin.

The network is a stack of 1D convolutions over time: an "expand" convolution of width
``filter_widths[0]`` from the 17 x 2 (or x 3) input channels to ``channels`` features, then one
residual block per further filter width (a temporal convolution, then a 1x1 convolution, each
followed by BatchNorm, ReLU and dropout), then a 1x1 convolution to the 16 non-root joints x 3.
The receptive field is the product of the filter widths (1x1x1 = 1, 3x3x3 = 27, 3^4 = 81,
3^5 = 243 frames). With ``frame_stride`` s > 1 the network sees every s-th frame: the same
compute and receptive field in frames seen, a span of (R - 1) * s + 1 video frames (at 50 fps,
R = 27 and s = 3 cover 1.6 s instead of 0.5 s).

The same weights run two ways (as VideoPose3D's "optimised" training):

* :meth:`TemporalLifter.forward` -- one window of exactly ``receptive_field`` frames (already
  taken every ``frame_stride`` frames) -> the pose of its centre frame (its last when
  ``causal``). The convolutions are *strided* (stride = filter width), so only the positions that
  reach the one output are computed: cheap training on independent random windows.
* :meth:`TemporalLifter.forward_sequence` -- a whole sequence -> a pose for every frame. The
  convolutions are *dilated* (dilation = frame stride x the product of the earlier widths); the
  sequence is padded by repeating its first and last frames, so frame t sees frames
  t - s*(R//2) .. t + s*(R//2) in steps of s (causal: the ones ending at t, only past ones).

In eval mode both give the same numbers for the same window.
"""

from __future__ import annotations

import math
from typing import Any, cast

import torch
import torch.nn.functional as F
from torch import nn

from dynapose.models.registry import register
from dynapose.skeleton import NUM_JOINTS, flip_permutation

#: Filter widths for each supported receptive field (frames).
RECEPTIVE_FIELDS: dict[int, tuple[int, ...]] = {
    1: (1, 1, 1),
    27: (3, 3, 3),
    81: (3, 3, 3, 3),
    243: (3, 3, 3, 3, 3),
}


#: Most video frames one prediction may look at (243-frame lifters at stride 3 see 727).
MAX_SPAN = 10_000


def filter_widths_for(receptive_field: int) -> tuple[int, ...]:
    """The filter widths of a receptive field of 1, 27, 81 or 243 frames."""
    if receptive_field not in RECEPTIVE_FIELDS:
        raise ValueError(f"receptive field must be one of {sorted(RECEPTIVE_FIELDS)}, "
                         f"got {receptive_field}")
    return RECEPTIVE_FIELDS[receptive_field]


def flip_keypoints(keypoints: torch.Tensor) -> torch.Tensor:
    """Horizontal mirror of normalised 2D (..., 17, C>=2) or root-relative 3D (..., 17, 3):
    x -> -x and left/right joints swapped (confidences, if any, follow their joints)."""
    out = keypoints[..., torch.as_tensor(flip_permutation(), device=keypoints.device), :].clone()
    out[..., 0] = -out[..., 0]
    return out


class FastDropout(nn.Module):
    """Dropout (zero each value with probability p, scale the rest by 1 / (1 - p)), with a mask
    drawn several times faster than :class:`torch.nn.Dropout` draws it on CPUs
    (docs/results.md).

    ``nn.Dropout`` draws one Bernoulli variate per element, a large share of a lifter training
    step on a CPU. Here each 64-bit random integer from torch's generator
    (uniform over all 2^64 values but one) gives four 16-bit draws: an element is kept when
    its draw is at or above the p-quantile (p is thus rounded to 1/65,536). Seeded by
    ``torch.manual_seed`` like ``nn.Dropout``, so training stays replayable; the identity in
    eval mode.
    """

    def __init__(self, p: float) -> None:
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {p}")
        self.p = float(p)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        n = x.numel()
        draws = torch.randint(-(2**63), 2**63 - 1, (-(-n // 4),), device=x.device)
        # as int16 the draws are uniform over [-32768, 32767]: keep those >= the p-quantile
        keep = (draws.view(torch.int16)[:n] >= round(self.p * 65536) - 32768).view(x.shape)
        return x * keep.to(x.dtype).mul_(1.0 / (1.0 - self.p))

    def extra_repr(self) -> str:
        return f"p={self.p}"


class BatchNorm(nn.BatchNorm1d):
    """:class:`torch.nn.BatchNorm1d` whose running statistics can follow a momentum that changes
    every step without ``torch.compile`` compiling the model again each time.

    Training decays the momentum step by step (:meth:`TemporalLifter.set_bn_momentum`); a
    compiled graph that read the float ``momentum`` would be specialised on its value and rebuilt
    at every step. Under ``torch.compile`` the training pass therefore normalises by the batch's
    statistics itself and moves the running ones by the tensor ``momentum_now`` (not saved with
    the weights). Run eagerly it is exactly ``nn.BatchNorm1d``.
    """

    def __init__(self, channels: int, momentum: float) -> None:
        super().__init__(channels, momentum=momentum)
        self.register_buffer("momentum_now", torch.tensor(float(momentum)), persistent=False)

    def set_momentum(self, momentum: float) -> None:
        self.momentum = momentum
        cast(torch.Tensor, self.momentum_now).fill_(momentum)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not (self.training and torch.compiler.is_compiling()):
            return super().forward(x)
        h = x.float()
        mean, var = h.mean(0), h.var(0, unbiased=False)
        with torch.no_grad():  # as nn.BatchNorm1d: the running variance is the unbiased one
            n = h.shape[0]
            self.running_mean.lerp_(mean, self.momentum_now)  # type: ignore[union-attr, arg-type]
            self.running_var.lerp_(var * (n / max(n - 1, 1)),  # type: ignore[union-attr]
                                   self.momentum_now)  # type: ignore[arg-type]
            self.num_batches_tracked.add_(1)  # type: ignore[union-attr]
        y = (h - mean) * torch.rsqrt(var + self.eps) * self.weight + self.bias
        return y.to(x.dtype)


@register("lifter")
class TemporalLifter(nn.Module):
    """Temporal dilated-convolution lifter (see the module docstring).

    filter_widths: odd widths (or 1), e.g. (3, 3, 3) for 27 frames. channels: features per layer
    (256-1024). dropout: probability after each ReLU. causal: see only past frames and predict
    the window's last frame. confidence: take a third input value per joint (a 0-1 confidence).
    bn_momentum: BatchNorm momentum (training may decay it). frame_stride: see every s-th
    frame (the module docstring).
    """

    def __init__(
        self,
        filter_widths: tuple[int, ...] | list[int] = (3, 3, 3),
        channels: int = 512,
        dropout: float = 0.25,
        causal: bool = False,
        confidence: bool = False,
        bn_momentum: float = 0.1,
        num_joints: int = NUM_JOINTS,
        frame_stride: int = 1,
    ) -> None:
        super().__init__()
        widths = tuple(int(w) for w in filter_widths)
        if not widths or any(w < 1 or (w > 1 and w % 2 == 0) for w in widths):
            raise ValueError(f"filter widths must be odd (or 1), got {widths}")
        if int(frame_stride) < 1:
            raise ValueError(f"frame_stride must be >= 1, got {frame_stride}")
        if int(num_joints) != NUM_JOINTS:  # the rest of DynaPose reads the 17 joints
            raise ValueError(f"num_joints must be {NUM_JOINTS}, got {num_joints}")
        if (math.prod(widths) - 1) * int(frame_stride) + 1 > MAX_SPAN:
            raise ValueError(f"filter widths {widths} with frame_stride {frame_stride} span more "
                             f"than {MAX_SPAN} frames")
        self.config: dict[str, Any] = {
            "filter_widths": list(widths), "channels": int(channels), "dropout": float(dropout),
            "causal": bool(causal), "confidence": bool(confidence),
            "bn_momentum": float(bn_momentum), "num_joints": int(num_joints),
            "frame_stride": int(frame_stride),
        }
        self.filter_widths = widths
        self.causal = bool(causal)
        self.num_joints = int(num_joints)
        self.in_features = 3 if confidence else 2
        self.receptive_field = math.prod(widths)
        self.frame_stride = int(frame_stride)
        #: video frames one prediction looks at, first to last: (R - 1) * frame_stride + 1
        self.span = (self.receptive_field - 1) * self.frame_stride + 1
        c = int(channels)
        self.expand = nn.Conv1d(self.num_joints * self.in_features, c, widths[0], bias=False)
        self.expand_bn = BatchNorm(c, momentum=bn_momentum)
        self.convs = nn.ModuleList(nn.Conv1d(c, c, w, bias=False) for w in widths[1:])
        self.conv_bns = nn.ModuleList(BatchNorm(c, momentum=bn_momentum) for _ in widths[1:])
        self.pointwise = nn.ModuleList(nn.Conv1d(c, c, 1, bias=False) for _ in widths[1:])
        self.point_bns = nn.ModuleList(BatchNorm(c, momentum=bn_momentum) for _ in widths[1:])
        self.shrink = nn.Conv1d(c, (self.num_joints - 1) * 3, 1)
        self.drop = FastDropout(dropout)
        # The Conv1d modules hold the weights (out, in, width) as VideoPose3D's do; both passes
        # below apply them as matrix products on channels-last tensors (faster on CPUs).
        with torch.no_grad():  # start near the zero pose: outputs are scaled by 1000 (m -> mm)
            self.shrink.weight.mul_(0.1)
            self.shrink.bias.zero_()  # type: ignore[union-attr]

    # -- typed access to the blocks' layers ------------------------------------------------
    def _conv(self, i: int) -> nn.Conv1d:
        return cast(nn.Conv1d, self.convs[i])

    def _pointwise(self, i: int) -> nn.Conv1d:
        return cast(nn.Conv1d, self.pointwise[i])

    @staticmethod
    def _bn(norms: nn.ModuleList, i: int) -> nn.BatchNorm1d:
        return cast(nn.BatchNorm1d, norms[i])

    # -- shape helpers ----------------------------------------------------------------------
    @property
    def pad(self) -> tuple[int, int]:
        """Video frames needed before and after the predicted frame: (S//2, S//2), causal
        (S-1, 0), S - 1 = (R - 1) * frame_stride."""
        r = self.span - 1
        return (r, 0) if self.causal else (r // 2, r - r // 2)

    def set_bn_momentum(self, momentum: float) -> None:
        for m in self.modules():
            if isinstance(m, BatchNorm):
                m.set_momentum(momentum)

    def _inputs(self, keypoints: torch.Tensor, confidences: torch.Tensor | None) -> torch.Tensor:
        """(B, F, J, 2) [+ (B, F, J)] -> (B, F, J * in_features), channels last."""
        if keypoints.ndim != 4 or keypoints.shape[2:] != (self.num_joints, 2):
            raise ValueError(f"keypoints must be (B, F, {self.num_joints}, 2), "
                             f"got {tuple(keypoints.shape)}")
        x = keypoints
        if self.in_features == 3:
            if confidences is None:
                confidences = torch.ones(keypoints.shape[:3], dtype=x.dtype, device=x.device)
            if tuple(confidences.shape) != tuple(keypoints.shape[:3]):
                raise ValueError(f"confidences must be {tuple(keypoints.shape[:3])}, "
                                 f"got {tuple(confidences.shape)}")
            x = torch.cat([x, confidences.to(x.dtype)[..., None]], dim=-1)
        return x.reshape(*x.shape[:2], -1)

    def _outputs(self, y: torch.Tensor) -> torch.Tensor:
        """(B, F, 16 * 3) in metres -> (B, F, 17, 3) mm with the pelvis at zero."""
        b, f, _ = y.shape
        y = y.reshape(b, f, self.num_joints - 1, 3) * 1000.0
        return torch.cat([y.new_zeros(b, f, 1, 3), y], dim=2)

    def _run_dilated(self, x: torch.Tensor) -> torch.Tensor:
        """The dilated pass, channels last: (B, L, in) -> (B, L - S + 1, 16 * 3) m (S = span).

        A width-w convolution with dilation d is one GEMM over the w shifted copies of the
        sequence, concatenated along channels.
        """
        act = self.drop

        def dense(h: torch.Tensor, conv: nn.Conv1d, w: int, d: int) -> torch.Tensor:
            weight = conv.weight.permute(0, 2, 1).reshape(conv.out_channels, -1)
            n = h.shape[1] - (w - 1) * d
            taps = torch.cat([h[:, k * d: k * d + n] for k in range(w)], dim=-1) if w > 1 else h
            out = taps.reshape(-1, taps.shape[-1]) @ weight.t()
            return out.reshape(h.shape[0], n, -1)

        def bn(h: torch.Tensor, norm: nn.BatchNorm1d) -> torch.Tensor:
            return norm(h.reshape(-1, h.shape[-1])).reshape(h.shape)

        w0, s = self.filter_widths[0], self.frame_stride
        h = act(F.relu(bn(dense(x, self.expand, w0, s), self.expand_bn)))
        dilation = w0 * s
        for i, w in enumerate(self.filter_widths[1:]):
            span = (w - 1) * dilation
            offset = span if self.causal else span // 2
            res = h[:, offset: h.shape[1] - span + offset]
            y = act(F.relu(bn(dense(h, self._conv(i), w, dilation), self._bn(self.conv_bns, i))))
            y = act(F.relu(bn(dense(y, self._pointwise(i), 1, 1), self._bn(self.point_bns, i))))
            h = res + y
            dilation *= w
        return self._shrink(h)

    def _run_windows(self, x: torch.Tensor) -> torch.Tensor:
        """The strided pass in channels-last form: (B, R, in) -> (B, 16 * 3) metres.

        A convolution of width w and stride w is a matrix product on groups of w frames, so
        each layer is one GEMM over (batch x positions) rows: faster on CPUs than conv1d.
        """
        b = x.shape[0]
        act = self.drop

        def dense(h: torch.Tensor, conv: nn.Conv1d, w: int) -> torch.Tensor:
            weight = conv.weight.permute(0, 2, 1).reshape(conv.out_channels, -1)
            return h.reshape(-1, w * h.shape[-1]) @ weight.t()

        w0 = self.filter_widths[0]
        h = act(F.relu(self.expand_bn(dense(x, self.expand, w0))))
        h = h.reshape(b, -1, h.shape[-1])
        for i, w in enumerate(self.filter_widths[1:]):
            res = h.reshape(b, -1, w, h.shape[-1])[:, :, (w - 1) if self.causal else w // 2]
            y = act(F.relu(self.conv_bns[i](dense(h, self._conv(i), w))))
            y = act(F.relu(self.point_bns[i](dense(y, self._pointwise(i), 1))))
            h = res + y.reshape(res.shape)
        return self._shrink(h.reshape(b, -1))

    def _shrink(self, h: torch.Tensor) -> torch.Tensor:
        """The last 1x1 convolution, (..., channels) -> (..., 16 * 3) metres, always in float32:
        under bfloat16 autocast (training with ``precision: bf16``) its 8-bit mantissa would
        round a 0.5 m coordinate by up to 1 mm."""
        with torch.autocast(h.device.type, enabled=False):
            return F.linear(h.float(), self.shrink.weight[:, :, 0], self.shrink.bias)

    # -- the two ways to run ----------------------------------------------------------------
    def forward(self, keypoints: torch.Tensor,
                confidences: torch.Tensor | None = None) -> torch.Tensor:
        """Windows (B, R, 17, 2) normalised coordinates [+ confidences (B, R, 17)] ->
        (B, 17, 3) mm, root-relative camera frame, of each window's centre (causal: last) frame.
        R must be the receptive field."""
        if keypoints.ndim == 4 and keypoints.shape[1] != self.receptive_field:
            raise ValueError(f"a window must hold {self.receptive_field} frames (the receptive "
                             f"field), got {keypoints.shape[1]}")
        return self._outputs(self._run_windows(self._inputs(keypoints, confidences))[:, None])[:, 0]

    def forward_sequence(self, keypoints: torch.Tensor, confidences: torch.Tensor | None = None,
                         pad: bool = True) -> torch.Tensor:
        """Sequences (B, T, 17, 2) [+ (B, T, 17)] -> (B, T, 17, 3) mm, one pose per frame.

        With `pad` the first and last frames are repeated so that every frame gets a pose;
        without it the output has T - S + 1 frames (those with a full window; S = :attr:`span`).
        """
        if pad:
            before, after = self.pad
            keypoints = _edge_pad(keypoints, before, after)
            if confidences is not None:
                confidences = _edge_pad(confidences, before, after)
        if keypoints.ndim == 4 and keypoints.shape[1] < self.span:
            raise ValueError(f"need at least {self.span} frames, got "
                             f"{keypoints.shape[1]}")
        return self._outputs(self._run_dilated(self._inputs(keypoints, confidences)))


def _edge_pad(x: torch.Tensor, before: int, after: int) -> torch.Tensor:
    """Repeat the first frame `before` times and the last `after` times along axis 1."""
    if before == 0 and after == 0:
        return x
    parts = [x[:, :1].expand(-1, before, *x.shape[2:]), x,
             x[:, -1:].expand(-1, after, *x.shape[2:])]
    return torch.cat(parts, dim=1)
