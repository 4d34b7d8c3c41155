"""Adam exactly as Keras computes it (the report's optimizer), as a ``torch.optim.Optimizer``.

Keras (2 and 3) puts epsilon outside the bias correction of the second moment::

    m <- m + (g - m) (1 - b1)            v <- v + (g^2 - v) (1 - b2)
    alpha = lr * sqrt(1 - b2^t) / (1 - b1^t)
    p <- p - alpha * m / (sqrt(v) + eps)

``torch.optim.Adam`` computes ``p <- p - lr/(1 - b1^t) * m / (sqrt(v)/sqrt(1 - b2^t) + eps)``,
which equals Keras only with a step-dependent ``eps' = eps / sqrt(1 - b2^t)`` (4.5x larger at
step 1 with b2 = 0.95). On the report's fixture torch's Adam drifts from Keras' outputs within
3 steps; this optimizer reproduces them (docs/results.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch


class KerasAdam(torch.optim.Optimizer):
    """Keras' Adam. Defaults are the report's recipe: lr 5e-3, betas (0.75, 0.95), eps 1e-7.

    State per parameter: ``step`` (float32 scalar tensor), ``exp_avg``, ``exp_avg_sq``, so it
    round-trips through ``state_dict()`` like ``torch.optim.Adam``.
    """

    def __init__(
        self,
        params: Iterable[torch.Tensor] | Iterable[dict[str, Any]],
        lr: float = 5e-3,
        betas: tuple[float, float] = (0.75, 0.95),
        eps: float = 1e-7,
    ) -> None:
        if lr <= 0 or eps < 0 or not (0 <= betas[0] < 1 and 0 <= betas[1] < 1):
            raise ValueError(f"invalid Adam settings lr={lr}, betas={betas}, eps={eps}")
        super().__init__(params, {"lr": lr, "betas": tuple(betas), "eps": eps})

    @torch.no_grad()
    def step(self, closure: Callable[[], float] | None = None) -> float | None:  # type: ignore[override]
        """One update of every parameter that has a gradient."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = p.grad
                state = self.state[p]
                if not state:
                    state["step"] = torch.zeros((), dtype=torch.float32)
                    state["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                    state["exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                state["step"] += 1
                alpha = _alpha(group["lr"], beta1, beta2, state["step"])
                m, v = state["exp_avg"], state["exp_avg_sq"]
                # Keras' own operation order, in float32, so rounding follows it too
                m.add_((grad - m).mul_(1.0 - beta1))
                v.add_((grad * grad).sub_(v).mul_(1.0 - beta2))
                p.sub_((m * alpha).div_(v.sqrt().add_(group["eps"])))
        return loss


def _alpha(lr: float, beta1: float, beta2: float, step: torch.Tensor) -> torch.Tensor:
    """``lr * sqrt(1 - b2^t) / (1 - b1^t)`` computed in float32 as Keras does."""
    f32 = torch.float32
    b1_power = torch.pow(torch.tensor(beta1, dtype=f32), step)
    b2_power = torch.pow(torch.tensor(beta2, dtype=f32), step)
    return torch.tensor(lr, dtype=f32) * torch.sqrt(1 - b2_power) / (1 - b1_power)
