"""Registry entries for the losses: mean squared error, softmax cross-entropy, and binary
cross-entropy on logits. Each gives a scalar (the mean over the batch, as PyTorch's default
reduction does), its VJP and JVP directly. Targets are data: no gradient flows to them.
Notation: g is the upstream gradient (a scalar), N the number of terms averaged.
"""

from __future__ import annotations

import math

import numpy as np

from ..core.arrays import float_type
from ..core.registry import Op, register
from .arrays import _sympy_softmax, log_softmax, softmax
from .scalar import _sigmoid


def _mse_vjp(g, inputs, out, needed):
    pred, target = inputs
    diff = np.broadcast_to(pred - target, np.broadcast_shapes(pred.shape, target.shape))
    scaled = g * 2.0 * diff / max(diff.size, 1)
    return (scaled if needed[0] else None), (-scaled if needed[1] else None)


register(Op(
    name="mse", arity=2, usage="mse(pred, target)", pattern="mse({a}, {b})", symbol="mse",
    forward=lambda pred, target: np.mean((pred - target) ** 2), partials=None,
    formulas=("{g} · 2({a} − {b}) / N", "−{g} · 2({a} − {b}) / N"),
    sympy_array_rule=lambda sp, a, b: np.asarray(
        np.sum((a - b) ** 2) / max(np.broadcast(a, b).size, 1), dtype=object),
    vjp_rule=_mse_vjp,
    jvp_rule=lambda tangents, inputs, out: sum(
        np.sum(2.0 * sign * (inputs[0] - inputs[1]) * t) / max(
            np.broadcast(inputs[0], inputs[1]).size, 1)
        for sign, t in zip((1.0, -1.0), tangents) if t is not None),
    callable_by_name=True, description="mean squared error: mean((pred − target)²)",
))


def one_hot_target(logits, target) -> np.ndarray:
    """Class indices (N,) or one-hot rows (N, C) as one-hot rows shaped like the logits."""
    indices = _class_indices(logits, target)
    if indices is None:
        return np.asarray(target).astype(float_type(logits))
    return np.eye(logits.shape[-1], dtype=float_type(logits))[indices]


def _class_indices(logits, target):
    """The target's class indices, checked; None when it is one-hot rows already."""
    target = np.asarray(target)
    if target.shape == logits.shape:
        return None
    indices = target.astype(np.int64)
    if indices.shape != logits.shape[:-1] or np.any(indices != target):
        raise ValueError(f"cross_entropy: the target must be class indices of shape "
                         f"{logits.shape[:-1]} or one-hot rows of shape {logits.shape}, "
                         f"not {target.shape}")
    classes = logits.shape[-1]
    if indices.size and (indices.min() < 0 or indices.max() >= classes):
        raise ValueError(f"cross_entropy: class indices must lie in 0..{classes - 1}")
    return indices


def _minus_target(probs, logits, target):
    """probs − onehot(target), in place: with class indices only one number per row changes,
    so no one-hot rows are built."""
    indices = _class_indices(logits, target)
    if indices is None:
        probs -= np.asarray(target).astype(float_type(logits))
    else:
        rows = probs.reshape(-1, probs.shape[-1])  # probs is fresh, so this is a view
        rows[np.arange(rows.shape[0]), indices.ravel()] -= 1
    return probs


def _batch(logits) -> int:
    return math.prod(logits.shape[:-1])  # 1 for a single row of logits (C,)


def _cross_entropy(logits, target):
    if np.ndim(logits) == 0:
        raise ValueError("cross_entropy needs logits with a class axis (shape (C,) or (N, C))")
    log_p = log_softmax(logits)
    indices = _class_indices(logits, target)
    if indices is None:
        return -np.sum(np.asarray(target).astype(log_p.dtype) * log_p) / _batch(logits)
    # each row's log-probability of its class, picked: no one-hot rows (and no 0·(−∞) = nan
    # where another class's probability underflows)
    rows = log_p.reshape(-1, log_p.shape[-1])
    return -np.sum(rows[np.arange(rows.shape[0]), indices.ravel()]) / _batch(logits)


def _cross_entropy_vjp(g, inputs, out, needed):
    if not needed[0]:
        return None, None
    logits, target = inputs
    grad = _minus_target(softmax(logits), logits, target)
    grad *= g / _batch(logits)  # grad is fresh: scale it in place
    return grad, None


def _cross_entropy_sympy(sp, logits, target):
    target = np.asarray(target, dtype=np.float64)  # targets are data, never differentiated
    log_p = np.frompyfunc(sp.log, 1, 1)(_sympy_softmax(sp, logits))
    rows = one_hot_target(np.zeros(logits.shape), target)
    return np.asarray(-np.sum(rows * log_p) / _batch(logits), dtype=object)


register(Op(
    name="cross_entropy", arity=2, usage="cross_entropy(logits, target)",
    pattern="cross_entropy({a}, {b})", symbol="CE", forward=_cross_entropy, partials=None,
    formulas=("{g} · (softmax({a}) − onehot({b})) / N", "none: targets are data"),
    sympy_array_rule=_cross_entropy_sympy, vjp_rule=_cross_entropy_vjp,
    jvp_rule=lambda tangents, inputs, out: 0.0 if tangents[0] is None else np.sum(
        (softmax(inputs[0]) - one_hot_target(inputs[0], inputs[1])) * tangents[0]
    ) / _batch(inputs[0]),
    differentiable=(True, False), callable_by_name=True,
    description="softmax cross-entropy, mean over the batch; target as class indices or "
                "one-hot rows; grad = (softmax − onehot) / N",
))


# -- binary cross-entropy on logits: one output unit, a sigmoid folded into the loss ---------

def _targets_like(z, y):
    """Targets (data) in the logits' float type: float32 logits keep a float32 loss."""
    return np.asarray(y, dtype=float_type(z))


def _bce_with_logits(z, y):
    # softplus(z) − y·z = −y·log σ(z) − (1 − y)·log(1 − σ(z)), written so exp never overflows
    y = _targets_like(z, y)
    return np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z))))


def _bce_with_logits_vjp(g, inputs, out, needed):
    z, y = inputs[0], _targets_like(*inputs)
    grad = (_sigmoid(z) - y) * (g / max(np.broadcast(z, y).size, 1))
    return (grad if needed[0] else None), None


def _bce_with_logits_jvp(tangents, inputs, out):
    z, y = inputs[0], _targets_like(*inputs)
    if tangents[0] is None:
        return np.zeros((), dtype=float_type(out))
    return np.sum((_sigmoid(z) - y) * tangents[0]) / max(np.broadcast(z, y).size, 1)


def _bce_with_logits_sympy(sp, z, y):
    y = np.asarray(y, dtype=np.float64)  # targets are data
    terms = np.frompyfunc(lambda a, t: sp.log(1 + sp.exp(a)) - a * t, 2, 1)(z, y)
    return np.asarray(np.sum(terms) / max(np.broadcast(z, y).size, 1), dtype=object)


register(Op(
    name="binary_cross_entropy_with_logits", arity=2,
    usage="binary_cross_entropy_with_logits(z, target)",
    pattern="binary_cross_entropy_with_logits({a}, {b})", symbol="BCE",
    forward=_bce_with_logits, formulas=("{g} · (σ({a}) − {b}) / N", "none: targets are data"),
    sympy_array_rule=_bce_with_logits_sympy, vjp_rule=_bce_with_logits_vjp,
    jvp_rule=_bce_with_logits_jvp, differentiable=(True, False), callable_by_name=True,
    composite=lambda F, z, y: F.mean(F.softplus(z) - z * y),
    description="binary cross-entropy of logits z (a sigmoid folded in) against targets in "
                "[0, 1], mean over the elements: mean(softplus(z) − y·z); grad = (σ(z) − y) / N",
))
