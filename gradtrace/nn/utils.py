"""torch.nn.utils: clipping gradients before the optimiser's step.

Exploding gradients (the notes' 梯度爆炸) make one step throw the parameters far away. d2l
writes the fix by hand (grad_clipping: if ‖g‖ > θ, g ← θ·g/‖g‖); these are PyTorch's forms of
it, called between loss.backward() and optimizer.step():

    total = nn.utils.clip_grad_norm_(net.parameters(), max_norm=1.0)
"""

from __future__ import annotations

import math

import numpy as np

from ..core.tensor.errors import missing_names
from ..core.tensor import PyTorchError, Tensor, no_grad

__all__ = ["clip_grad_norm_", "clip_grad_value_"]


def _gradients(parameters) -> list:
    parameters = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    return [p.grad for p in parameters if p.grad is not None]


def clip_grad_norm_(parameters, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False, foreach=None) -> Tensor:
    """Scale every gradient by max_norm / (‖g‖ + 1e-6) when that is below 1, ‖g‖ the norm of
    all the gradients together (as if joined into one vector); returns ‖g‖ before clipping."""
    grads = _gradients(parameters)
    if not grads:
        return Tensor(np.array(0.0, dtype=np.float32))
    arrays = [np.asarray(g.value, dtype=np.float64) for g in grads]
    norm_type = float(norm_type)
    if math.isinf(norm_type):
        total = max(float(np.max(np.abs(a))) if a.size else 0.0 for a in arrays)
    else:
        each = [np.sum(np.abs(a) ** norm_type) ** (1.0 / norm_type) for a in arrays]
        total = float(np.sum(np.asarray(each) ** norm_type) ** (1.0 / norm_type))
    if error_if_nonfinite and not math.isfinite(total):
        raise PyTorchError(f"The total norm of order {norm_type} for gradients from "
                           "`parameters` is non-finite, so it cannot be clipped. To disable "
                           "this error and scale the gradients by the non-finite norm anyway, "
                           "set `error_if_nonfinite=False`")
    coefficient = min(max_norm / (total + 1e-6), 1.0)
    with no_grad():
        for grad in grads:
            grad.mul_(coefficient)
    return Tensor(np.array(total, dtype=grads[0].dtype))


def clip_grad_value_(parameters, clip_value: float, foreach=None) -> None:
    """Clamp every element of every gradient into [−clip_value, clip_value]."""
    with no_grad():
        for grad in _gradients(parameters):
            grad.clamp_(-clip_value, clip_value)


# names of torch.nn.utils gradtrace lacks: NotInGradtrace, naming what it has
__getattr__ = missing_names("gradtrace.nn.utils", __all__)
