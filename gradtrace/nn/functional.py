"""Layers as functions on gradtrace tensors, named as in `torch.nn.functional`.

    import gradtrace.nn.functional as F
    h = F.relu(F.linear(x, W, b))
    loss = F.cross_entropy(F.linear(h, W2, b2), labels)
    trace = loss.backward()          # W.grad, b.grad... are numpy arrays

Each function records one registry op (linear, conv2d, batch_norm, dropout...), so the trace
shows a layer as one step. Numpy arrays given as inputs become constants: no gradient is
computed for data. Modes that differ between training and evaluation (batch_norm, dropout)
take the `training` flag and the numpy Generator as arguments, never from a global setting.
"""

from __future__ import annotations

import numpy as np

from .. import ops  # noqa: F401  (the op tables: fills the registry this module reads)
from ..core.arrays import float_type
from ..core.registry import activations
from ..core.tensor import Tensor, as_tensor


def _op(name: str, first, *others, **attrs) -> Tensor:
    """Record registry op `name`; attributes left at None take the op's default."""
    given = tuple(sorted((key, value) for key, value in attrs.items() if value is not None)
                  ) if attrs else ()
    return as_tensor(first)._apply(name, *others, attrs=given)


def _data(array) -> Tensor:
    return Tensor(array, requires_grad=False)


# -- layers with parameters ---------------------------------------------------------------

def linear(input, weight, bias=None) -> Tensor:
    """input (..., in) · weightᵀ (in, out) + bias (out,), weight (out, in) as in PyTorch. In the
    notes' column notation this is z⁽ˡ⁾ = W⁽ˡ⁾a⁽ˡ⁻¹⁾ + b⁽ˡ⁾ with one sample per row."""
    if bias is None:
        return as_tensor(input) @ as_tensor(weight).T
    return _op("linear", input, weight, bias)


def conv2d(input, weight, bias=None, stride=1, padding=0) -> Tensor:
    """Cross-correlation of input (N, C, H, W) with filters weight (F, C, KH, KW) plus bias (F,):
    (N, F, OH, OW), OH = (H + 2·padding − KH) // stride + 1 (likewise OW)."""
    if bias is None:
        weight = as_tensor(weight)
        bias = _data(np.zeros(weight.shape[0], dtype=float_type(weight.value)))
    return _op("conv2d", input, weight, bias, stride=_plain(stride), padding=_plain(padding))


def _plain(size):
    """An int or a (height, width) pair as the plain value a graph attribute holds."""
    return tuple(int(n) for n in size) if isinstance(size, (tuple, list)) else int(size)


def max_pool2d(input, kernel_size=2, stride=None) -> Tensor:
    """Largest element of each kernel_size window; stride defaults to kernel_size."""
    return _op("max_pool2d", input, kernel=_plain(kernel_size),
               stride=None if stride is None else _plain(stride))


def avg_pool2d(input, kernel_size=2, stride=None) -> Tensor:
    """Mean of each kernel_size window; stride defaults to kernel_size."""
    return _op("avg_pool2d", input, kernel=_plain(kernel_size),
               stride=None if stride is None else _plain(stride))


def batch_norm(input, weight, bias, running_mean=None, running_var=None, training=True,
               momentum=0.1, eps=1e-5) -> Tensor:
    """Batch normalisation per channel (axis 1) of (N, C) or (N, C, H, W), weight = γ and
    bias = β (《深度学习入门》 §6.3): y = γ·(x − μ)/sqrt(σ² + eps) + β.

    Training: μ, σ² are the batch's; running_mean and running_var (numpy arrays, if given) are
    updated in place, r ← (1 − momentum)·r + momentum·batch value, with the unbiased batch
    variance as PyTorch keeps it. Evaluation: the running statistics replace the batch's."""
    if not training:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm in evaluation mode needs running_mean and running_var")
        return _op("batch_norm_eval", input, weight, bias, _data(running_mean),
                   _data(running_var), eps=eps)
    output = _op("batch_norm", input, weight, bias, eps=eps)
    if running_mean is not None and running_var is not None:
        _update_running(as_tensor(input).value, running_mean, running_var, momentum)
    return output


def _update_running(x: np.ndarray, running_mean, running_var, momentum: float) -> None:
    axes = (0,) + tuple(range(2, x.ndim))
    count = x.size // x.shape[1]
    mean = x.mean(axis=axes)
    unbiased = x.var(axis=axes) * (count / max(count - 1, 1))
    running_mean *= 1.0 - momentum
    running_mean += momentum * mean
    running_var *= 1.0 - momentum
    running_var += momentum * unbiased


def dropout(input, p=0.5, training=True, rng: np.random.Generator | None = None) -> Tensor:
    """Inverted dropout: in training, each element is kept with probability 1 − p (the 0/1
    mask drawn from `rng`) and scaled by 1/(1 − p), so evaluation needs no rescaling and
    returns the input unchanged (《深度学习入门》 §6.4.3 scales at test time instead; same expectation).
    """
    if not 0 <= p < 1:
        raise ValueError(f"dropout probability p must lie in [0, 1), not {p}")
    input = as_tensor(input)
    if not training or p == 0:
        return input
    if not isinstance(rng, np.random.Generator):
        raise TypeError("dropout in training mode draws a mask: "
                        "pass rng=np.random.default_rng(seed)")
    mask = rng.random(input.shape) >= p
    return _op("dropout", input, _data(mask.astype(float_type(input.value))), p=float(p))


# -- activations: one function per activation op of the registry -------------------------

def _activation(op):
    """F.relu(input), F.leaky_relu(input, negative_slope=0.01), ...: the op's attributes as
    arguments after the input, positional or by name, in PyTorch's order."""
    names = tuple(op.attrs)

    def function(input, *args, **kwargs):
        if len(args) > len(names):
            raise TypeError(f"{op.name} takes {len(names)} argument(s) after the input")
        given = dict(zip(names, args))
        unknown = sorted(set(kwargs) - set(names))
        if unknown:
            raise TypeError(f"{op.name} takes no argument {unknown[0]!r}: {op.usage}")
        given.update(kwargs)
        return _op(op.name, input, **{name: float(value) for name, value in given.items()})

    function.__name__ = function.__qualname__ = op.name
    function.__doc__ = f"{op.usage}: {op.description}"
    return function


ACTIVATIONS = {op.name: _activation(op) for op in activations()}
globals().update(ACTIVATIONS)


def softmax(input, dim=-1) -> Tensor:
    """exp(x) / Σ exp(x) along `dim`."""
    return _op("softmax", input, axis=int(dim))


def log_softmax(input, dim=-1) -> Tensor:
    """log(softmax(x)) along `dim`, computed stably."""
    return _op("log_softmax", input, axis=int(dim))


def flatten(input, start_dim=1) -> Tensor:
    """Merge every axis from start_dim on: (N, C, H, W) → (N, C·H·W)."""
    return _op("flatten", input, start_dim=int(start_dim))


# -- losses -------------------------------------------------------------------------------

def cross_entropy(input, target) -> Tensor:
    """Softmax cross-entropy of logits (N, C), mean over the batch; target as class indices
    (N,) or one-hot rows (N, C), never differentiated."""
    return _op("cross_entropy", input, _target(target))


def mse_loss(input, target) -> Tensor:
    """mean((input − target)²) over every element."""
    return _op("mse", input, target)


def _target(target) -> Tensor:
    return target if isinstance(target, Tensor) else _data(target)


__all__ = ["linear", "conv2d", "max_pool2d", "avg_pool2d", "batch_norm", "dropout",
           *ACTIVATIONS, "softmax", "log_softmax", "cross_entropy", "mse_loss", "flatten"]
