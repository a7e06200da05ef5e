"""Registry entries for batch normalisation: in training mode (the batch's own statistics,
which depend on every x of a channel) and in evaluation mode (running statistics, passed in as
data). Statistics are per channel: over the batch for (N, C), over batch and pixels for
(N, C, H, W).
"""

from __future__ import annotations

import numpy as np

from ..core.arrays import float_type
from ..core.i18n import N_
from ..core.registry import Op, register
from . import composites
from .sympy_forms import exact_float, on_each


def _stat_axes(x) -> tuple[int, ...]:
    """Statistics per channel (axis 1): over the batch for (N, C), over batch and pixels for
    (N, C, H, W)."""
    if np.ndim(x) < 2:
        raise ValueError(f"batch norm needs (N, C) or (N, C, H, W), not shape {np.shape(x)}")
    return (0,) + tuple(range(2, np.ndim(x)))


def _per_channel(v, ndim):
    """(C,) → (1, C) or (1, C, 1, 1), to broadcast against x."""
    return np.reshape(v, (1, -1) + (1,) * (ndim - 2))


def _normalised(x, eps):
    """x̂ = (x − μ) / σ with σ = sqrt(var + eps), and 1/σ (both per channel)."""
    axes = _stat_axes(x)
    centred = x - x.mean(axis=axes, keepdims=True)
    inv_std = 1.0 / np.sqrt(np.mean(centred * centred, axis=axes, keepdims=True) + eps)
    return centred * inv_std, inv_std


def _batch_norm(x, gamma, beta, eps=1e-5):
    x_hat, _ = _normalised(x, eps)
    return _per_channel(gamma, x.ndim) * x_hat + _per_channel(beta, x.ndim)


def _batch_norm_vjp(g, inputs, out, needed, eps=1e-5):
    x, gamma, beta = inputs
    axes = _stat_axes(x)
    x_hat, inv_std = _normalised(x, eps)
    grad_x = None
    if needed[0]:  # the mean and the variance depend on every x of the channel too
        d_hat = g * _per_channel(gamma, x.ndim)
        grad_x = inv_std * (d_hat - d_hat.mean(axis=axes, keepdims=True)
                            - x_hat * np.mean(d_hat * x_hat, axis=axes, keepdims=True))
    grad_gamma = np.sum(g * x_hat, axis=axes) if needed[1] else None
    grad_beta = np.sum(g, axis=axes) if needed[2] else None
    return grad_x, grad_gamma, grad_beta


def _batch_norm_jvp(tangents, inputs, out, eps=1e-5):
    (x, gamma, beta), (tx, tg, tb) = inputs, tangents
    axes = _stat_axes(x)
    x_hat, inv_std = _normalised(x, eps)
    total = np.zeros_like(out, dtype=float_type(out))
    if tx is not None:
        d_hat = inv_std * (tx - tx.mean(axis=axes, keepdims=True)
                           - x_hat * np.mean(tx * x_hat, axis=axes, keepdims=True))
        total = total + _per_channel(gamma, x.ndim) * d_hat
    if tg is not None:
        total = total + _per_channel(tg, x.ndim) * x_hat
    if tb is not None:
        total = total + _per_channel(tb, x.ndim)
    return total


def _batch_norm_sympy(sp, x, gamma, beta, eps=1e-5):
    axes = _stat_axes(x)
    count = x.size // x.shape[1]
    centred = x - np.sum(x, axis=axes, keepdims=True) / count
    variance = np.sum(centred * centred, axis=axes, keepdims=True) / count
    inv_std = on_each(lambda v: 1 / sp.sqrt(v + exact_float(sp, eps)))(variance)
    return _per_channel(gamma, x.ndim) * centred * inv_std + _per_channel(beta, x.ndim)


register(Op(
    name="batch_norm", arity=3, usage="batch_norm(x, gamma, beta)",
    pattern="batch_norm({a}, {b}, {c}{attrs})", symbol="batch norm", forward=_batch_norm,
    partials=None,
    formulas=(N_("{b}/σ · ({g} − mean({g}) − x̂ · mean({g} · x̂)), per channel"),
              N_("Σ {g} · x̂ per channel"), N_("Σ {g} per channel")),
    sympy_array_rule=_batch_norm_sympy, vjp_rule=_batch_norm_vjp,
    jvp_rule=_batch_norm_jvp, attrs={"eps": 1e-5}, callable_by_name=True,
    composite=composites.batch_norm,
    description=N_("batch normalisation in training mode: x̂ = (x − μ)/sqrt(var + eps) with the "
                   "batch's mean and variance per channel, then gamma·x̂ + beta"),
))


def _eval_parts(x, mean, var, eps):
    """x̂ and 1/σ from running statistics (data, in x's float type)."""
    dtype = float_type(x)
    inv_std = 1.0 / np.sqrt(_per_channel(np.asarray(var, dtype=dtype), x.ndim) + eps)
    return (x - _per_channel(np.asarray(mean, dtype=dtype), x.ndim)) * inv_std, inv_std


def _batch_norm_eval(x, gamma, beta, mean, var, eps=1e-5):
    _stat_axes(x)
    x_hat, _ = _eval_parts(x, mean, var, eps)
    return _per_channel(gamma, x.ndim) * x_hat + _per_channel(beta, x.ndim)


def _batch_norm_eval_vjp(g, inputs, out, needed, eps=1e-5):
    x, gamma, beta, mean, var = inputs
    axes = _stat_axes(x)
    x_hat, inv_std = _eval_parts(x, mean, var, eps)
    grad_x = g * _per_channel(gamma, x.ndim) * inv_std if needed[0] else None
    grad_gamma = np.sum(g * x_hat, axis=axes) if needed[1] else None
    grad_beta = np.sum(g, axis=axes) if needed[2] else None
    return grad_x, grad_gamma, grad_beta, None, None


def _batch_norm_eval_jvp(tangents, inputs, out, eps=1e-5):
    (x, gamma, beta, mean, var), (tx, tg, tb) = inputs, tangents[:3]
    x_hat, inv_std = _eval_parts(x, mean, var, eps)
    total = np.zeros_like(out, dtype=float_type(out))
    if tx is not None:
        total = total + tx * _per_channel(gamma, x.ndim) * inv_std
    if tg is not None:
        total = total + _per_channel(tg, x.ndim) * x_hat
    if tb is not None:
        total = total + _per_channel(tb, x.ndim)
    return total


def _batch_norm_eval_sympy(sp, x, gamma, beta, mean, var, eps=1e-5):
    inv_std = on_each(lambda v: 1 / sp.sqrt(exact_float(sp, v) + exact_float(sp, eps)))(
        np.asarray(var, dtype=object))
    centred = x - _per_channel(np.asarray(mean, dtype=object), x.ndim)
    return (_per_channel(gamma, x.ndim) * centred * _per_channel(inv_std, x.ndim)
            + _per_channel(beta, x.ndim))


register(Op(
    name="batch_norm_eval", arity=5, usage="batch_norm_eval(x, gamma, beta, mean, var)",
    pattern="batch_norm_eval({a}, {b}, {c}, {d}, {e}{attrs})", symbol="batch norm (eval)",
    forward=_batch_norm_eval, partials=None,
    formulas=("{g} · {b} / sqrt({e} + eps)", "Σ {g} · ({a} − {d}) / sqrt({e} + eps)",
              N_("Σ {g} per channel"), N_("none: running statistics are data"),
              N_("none: running statistics are data")),
    sympy_array_rule=_batch_norm_eval_sympy, vjp_rule=_batch_norm_eval_vjp,
    jvp_rule=_batch_norm_eval_jvp, attrs={"eps": 1e-5}, callable_by_name=True,
    composite=composites.batch_norm_eval,
    differentiable=(True, True, True, False, False),
    description=N_("batch normalisation in evaluation mode: the running mean and variance kept "
                   "during training, passed in as data"),
))
