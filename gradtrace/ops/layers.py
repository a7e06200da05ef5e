"""Registry entries for the layers of an MLP or a CNN: linear, leaky_relu, elu, softplus,
conv2d, im2col, max_pool2d, avg_pool2d, batch_norm, batch_norm_eval, dropout, flatten.

Each is fused (one forward and one VJP that do the whole layer in a few BLAS calls) for speed;
its `composite` (composites.py) writes the same layer with primitive ops for teaching (`--expand`
shows it), and the tests check that both agree. Notation: g is the upstream gradient, shaped like the output; x (N, C, H, W) an
image batch, W (F, C, KH, KW) the filters, b (F,) their biases (see im2col.py); a layer's
parameters follow PyTorch's layout (linear's W is (out, in)).

Rules only compute the gradients asked for (`needed`), and keep the inputs' float type.
"""

from __future__ import annotations

import numpy as np

from ..core.arrays import float_type
from ..core.registry import Activation, Op, register
from . import composites
from .im2col import (col2im, first_max_masks, geometry, im2col, image_batches, pair,
                     route_to_first_max, scatter_windows, window_reduce, windows)
from .scalar import _elementwise, _sigmoid


def _on_each(sp_rule):
    """An elementwise SymPy rule applied to every element of an object array."""
    return lambda *arrays: np.frompyfunc(sp_rule, len(arrays), 1)(*arrays)


def _sp_float(sp, value):
    return sp.Float(float(value), 30)  # the exact binary value numpy computes with


# -- linear: x (..., in) @ W (out, in)ᵀ + b (out,) ------------------------------------------

def _linear(x, W, b):
    if x.ndim == 0 or W.ndim != 2 or x.shape[-1] != W.shape[1]:
        raise ValueError(f"linear needs x (..., in) and W (out, in): got x {np.shape(x)}, "
                         f"W {np.shape(W)}")
    out = x @ W.T
    out += b  # in place: a float64 bias does not widen a float32 layer
    return out


def _linear_vjp(g, inputs, out, needed):
    x, W, b = inputs
    rows = np.reshape(g, (-1, W.shape[0]))  # every sample of the batch as one row
    grad_x = g @ W if needed[0] else None
    grad_W = rows.T @ np.reshape(x, (-1, W.shape[1])) if needed[1] else None
    grad_b = None
    if needed[2]:
        # Σ over the batch as a product with ones (BLAS beats numpy's sum down axis 0); a bias
        # of another shape gets g, which the engine sums back over the broadcast axes
        grad_b = (np.ones(rows.shape[0], dtype=rows.dtype) @ rows
                  if np.shape(b) == (W.shape[0],) else g)
    return grad_x, grad_W, grad_b


def _linear_jvp(tangents, inputs, out):
    (x, W, b), (tx, tW, tb) = inputs, tangents
    total = np.zeros_like(out, dtype=float_type(out))
    if tx is not None:
        total = total + tx @ W.T
    if tW is not None:
        total = total + x @ tW.T
    if tb is not None:
        total = total + tb
    return total


register(Op(
    name="linear", arity=3, usage="linear(x, W, b)", pattern="linear({a}, {b}, {c})",
    symbol="linear", forward=_linear, partials=None,
    formulas=("{g} · {b}", "{g}ᵀ · {a}", "Σ {g} over the batch"),
    sympy_array_rule=lambda sp, x, W, b: np.matmul(x, W.T) + b,
    vjp_rule=_linear_vjp, jvp_rule=_linear_jvp, callable_by_name=True,
    composite=composites.linear,
    description="fully connected layer x·Wᵀ + b, W of shape (out, in) as in PyTorch; "
                "grad_x = g·W, grad_W = gᵀ·x, grad_b = Σ g",
))


# -- activations: leaky_relu and elu (with a parameter), softplus ---------------------------

def _leaky_relu(a, negative_slope=0.01):
    return np.where(a > 0, a, a * negative_slope)


def _leaky_relu_slope(a, out, negative_slope=0.01):
    return np.where(a > 0, 1.0, negative_slope)


def _leaky_relu_vjp(g, inputs, out, needed, negative_slope=0.01):
    return (np.where(inputs[0] > 0, g, g * negative_slope) if needed[0] else None,)


def _leaky_relu_jvp(tangents, inputs, out, negative_slope=0.01):
    if tangents[0] is None:
        return np.zeros_like(out)
    return np.where(inputs[0] > 0, tangents[0], tangents[0] * negative_slope)


def _leaky_relu_sympy(sp, a, negative_slope=0.01):
    return _on_each(lambda v: sp.Max(v, 0) + _sp_float(sp, negative_slope) * sp.Min(v, 0))(a)


register(Op(
    name="leaky_relu", arity=1, usage="leaky_relu(a, negative_slope=0.01)",
    pattern="leaky_relu({a}{attrs})", symbol="leaky relu", forward=_leaky_relu,
    partials=(_leaky_relu_slope,), formulas=("[{a} > 0] + {negative_slope}·[{a} ≤ 0]",),
    sympy_array_rule=_leaky_relu_sympy, composite=composites.leaky_relu,
    vjp_rule=_leaky_relu_vjp, jvp_rule=_leaky_relu_jvp,
    attrs={"negative_slope": 0.01}, callable_by_name=True, gate="switch (leaky)",
    kink=lambda a, negative_slope=0.01: a == 0,
    kink_rule="leaky_relu'(0) = negative_slope (the left side)",
    activation=Activation(module="LeakyReLU", init="he"),
    description="a for a > 0, negative_slope·a otherwise: negative inputs still pass a "
                "little gradient",
))


def _elu(a, alpha=1.0):
    return np.where(a > 0, a, alpha * np.expm1(np.minimum(a, 0)))  # no overflow for a > 0


def _elu_slope(a, out, alpha=1.0):
    return np.where(a > 0, 1.0, out + alpha)


def _elu_vjp(g, inputs, out, needed, alpha=1.0):
    return (np.where(inputs[0] > 0, g, g * (out + alpha)) if needed[0] else None,)


def _elu_jvp(tangents, inputs, out, alpha=1.0):
    if tangents[0] is None:
        return np.zeros_like(out)
    return np.where(inputs[0] > 0, tangents[0], tangents[0] * (out + alpha))


def _elu_sympy(sp, a, alpha=1.0):
    return _on_each(lambda v: sp.Piecewise(
        (v, v > 0), (_sp_float(sp, alpha) * (sp.exp(v) - 1), True)))(a)


register(Op(
    name="elu", arity=1, usage="elu(a, alpha=1.0)", pattern="elu({a}{attrs})", symbol="elu",
    forward=_elu, partials=(_elu_slope,), formulas=("[{a} > 0] + ({out} + {alpha})·[{a} ≤ 0]",),
    sympy_array_rule=_elu_sympy, composite=composites.elu, vjp_rule=_elu_vjp,
    jvp_rule=_elu_jvp, attrs={"alpha": 1.0}, callable_by_name=True,
    kink=lambda a, alpha=1.0: a == 0,  # with alpha = 1 the slope is continuous, not the curvature
    kink_rule="elu'(0) = alpha (the left side)",
    activation=Activation(module="ELU", init="he"),
    description="a for a > 0, alpha·(exp(a) − 1) otherwise; its slope there is out + alpha",
))

register(Op(
    name="softplus", arity=1, usage="softplus(a)", pattern="softplus({a})", symbol="softplus",
    forward=_elementwise(lambda a: np.logaddexp(0, a)),  # log(1 + exp(a)) without overflow
    partials=(lambda a, out: _sigmoid(a),), formulas=("σ({a})",),
    sympy_rule=lambda sp, a: sp.log(1 + sp.exp(a)), composite=composites.softplus,
    callable_by_name=True, activation=Activation(module="Softplus", init="he"),
    description="log(1 + exp(a)), a smooth relu; its derivative is the sigmoid",
))


# -- conv2d and im2col ---------------------------------------------------------------------

def _correlate(x, W, stride, padding):
    """x ⋆ W without bias, as (N, OH, OW, F): im2col and one matmul per batch of images."""
    if np.ndim(W) != 4 or np.ndim(x) != 4 or x.shape[1] != W.shape[1]:
        raise ValueError(f"conv2d needs x (N, C, H, W) and W (F, C, KH, KW) with the same C: "
                         f"got x {np.shape(x)}, W {np.shape(W)}")
    kernel, stride, padding = W.shape[2:], pair(stride), pair(padding)
    oh, ow = geometry(x.shape, kernel, stride, padding)
    filters = W.shape[0]
    weights = W.reshape(filters, -1).T  # (C·KH·KW, F)
    out = np.empty((x.shape[0], oh, ow, filters), dtype=np.result_type(x, W))
    for part in _batches(x, weights.shape[0], oh * ow):
        cols = im2col(x[part], kernel, stride, padding)
        # 2-d operands: a 4-d one would make matmul loop over N·OH small products
        np.matmul(cols.reshape(-1, cols.shape[-1]), weights, out=out[part].reshape(-1, filters))
    return out


def _batches(x, row_length, rows_per_image):
    return image_batches(x.shape[0], row_length * rows_per_image * x.itemsize)


def _add_bias(out, b):
    """out (N, OH, OW, F) += b (F,), in place. Added as one long row of b repeated per image:
    numpy's loop over rows of only F numbers costs four times as much."""
    n, oh, ow, filters = out.shape
    if np.shape(b) == (filters,) and out.flags.c_contiguous:
        images = out.reshape(n, oh * ow * filters)  # a view: the additions land in out
        images += np.tile(b, oh * ow)
    else:
        out += b  # also where b does not fit: numpy's own broadcasting error
    return out


def _conv2d(x, W, b, stride=1, padding=0):
    out = _add_bias(_correlate(x, W, stride, padding), b)
    return out.transpose(0, 3, 1, 2)


def _conv2d_vjp(g, inputs, out, needed, stride=1, padding=0):
    x, W, b = inputs
    filters = W.shape[0]
    rows = np.transpose(g, (0, 2, 3, 1)).reshape(-1, filters)  # (N·OH·OW, F)
    grad_x = grad_W = grad_b = None
    if needed[0]:
        cols = rows @ W.reshape(filters, -1)  # (N·OH·OW, C·KH·KW): each window's share
        grad_x = col2im(cols, x.shape, W.shape[2:], pair(stride), pair(padding))
    if needed[1]:
        grad_W = _filter_gradient(g, x, W, pair(stride), pair(padding))
    if needed[2]:
        # Σ over the rows as a product with ones: BLAS, against numpy's slow sum down axis 0
        grad_b = np.ones(rows.shape[0], dtype=rows.dtype) @ rows
    return grad_x, grad_W, grad_b


def _filter_gradient(g, x, W, stride, padding):
    """grad_W = gᵀ · im2col(x), with g as rows (N·OH·OW, F), summed batch of images by batch
    (see _correlate)."""
    filters, length = W.shape[0], int(np.prod(W.shape[1:]))
    rows = np.transpose(g, (0, 2, 3, 1))  # (N, OH, OW, F)
    total = np.zeros((filters, length), dtype=np.result_type(g, x))
    for part in _batches(x, length, g.shape[2] * g.shape[3]):
        cols = im2col(x[part], W.shape[2:], stride, padding).reshape(-1, length)
        total += rows[part].reshape(-1, filters).T @ cols
    return total.reshape(W.shape)


def _conv2d_jvp(tangents, inputs, out, stride=1, padding=0):
    (x, W, b), (tx, tW, tb) = inputs, tangents
    total = np.zeros(out.shape, dtype=float_type(out)).transpose(0, 2, 3, 1)
    if tx is not None:
        total = total + _correlate(tx, W, stride, padding)
    if tW is not None:
        total = total + _correlate(x, tW, stride, padding)
    if tb is not None:
        total = total + tb
    return total.transpose(0, 3, 1, 2)


register(Op(
    name="conv2d", arity=3, usage="conv2d(x, W, b, stride=1, padding=0)",
    pattern="conv2d({a}, {b}, {c}{attrs})", symbol="conv2d", forward=_conv2d, partials=None,
    formulas=("col2im({g} · {b})", "{g}ᵀ · im2col({a})", "Σ {g} over N, OH, OW"),
    sympy_array_rule=lambda sp, x, W, b, stride=1, padding=0: _conv2d(x, W, b, stride, padding),
    vjp_rule=_conv2d_vjp, jvp_rule=_conv2d_jvp, attrs={"stride": 1, "padding": 0},
    composite=composites.conv2d,
    callable_by_name=True,
    description="2-d convolution (cross-correlation, as in PyTorch) of x (N, C, H, W) with "
                "filters W (F, C, KH, KW) and biases b (F,), via im2col: one matmul forward, "
                "one per gradient back",
))


def _im2col(x, kernel=1, stride=1, padding=0):
    return im2col(x, pair(kernel), pair(stride), pair(padding))


register(Op(
    name="im2col", arity=1, usage="im2col(x, kernel=(2, 2), stride=1, padding=0)",
    pattern="im2col({a}{attrs})", symbol="im2col", forward=_im2col, partials=None,
    formulas=("col2im({g})",), sympy_array_rule=lambda sp, x, **attrs: _im2col(x, **attrs),
    vjp_rule=lambda g, inputs, out, needed, kernel=1, stride=1, padding=0: (col2im(
        g, inputs[0].shape, pair(kernel), pair(stride), pair(padding)),),
    jvp_rule=lambda tangents, inputs, out, **attrs: _im2col(tangents[0], **attrs),
    attrs={"kernel": 1, "stride": 1, "padding": 0}, callable_by_name=True,
    gate="router (copies)",
    description="(N, C, H, W) → (N, OH, OW, C·KH·KW): each output pixel's window as a row; "
                "the gradient is added back where each window came from (col2im)",
))


# -- pooling -------------------------------------------------------------------------------

def _pool_shape(x, kernel, stride):
    k = pair(kernel)
    s = k if stride is None else pair(stride)
    geometry(np.shape(x), k, s, (0, 0))
    return k, s


def _max_pool(x, kernel=2, stride=None):
    k, s = _pool_shape(x, kernel, stride)
    return window_reduce(windows(x, k, s), np.maximum)


def _max_pool_vjp(g, inputs, out, needed, kernel=2, stride=None):
    x = inputs[0]
    k, s = _pool_shape(x, kernel, stride)
    (sh, sw), (oh, ow) = s, out.shape[2:]
    # every array in x's memory order (conv2d's output is channels-last underneath): numpy
    # runs several times faster when its operands' layouts agree
    g = _in_layout_of(out, g)
    if k == s:  # the usual case: windows side by side
        return (route_to_first_max(g, x, out, k),)
    grad = np.zeros_like(x, dtype=float_type(g))
    overlapping = s[0] < k[0] or s[1] < k[1]
    for i, j, winner in first_max_masks(windows(x, k, s), out):
        target = grad[:, :, i:i + sh * oh:sh, j:j + sw * ow:sw]
        if overlapping:
            target += g * winner
        else:  # each element of x is in one window at most: write in place
            np.multiply(g, winner, out=target)
    return (grad,)


def _in_layout_of(like, g):
    """g copied into the memory order of `like` (same shape), unless it already is."""
    if g.strides == like.strides and g.dtype == like.dtype:
        return g
    copy = np.empty_like(like, dtype=float_type(g))
    np.copyto(copy, g)
    return copy


def _max_pool_jvp(tangents, inputs, out, kernel=2, stride=None):
    x, t = inputs[0], tangents[0]
    k, s = _pool_shape(x, kernel, stride)
    moving = windows(t, k, s)
    total = np.zeros(out.shape, dtype=float_type(out))
    for i, j, winner in first_max_masks(windows(x, k, s), out):
        total += moving[..., i, j] * winner
    return total


def _max_pool_sympy(sp, x, kernel=2, stride=None):
    k, s = _pool_shape(x, kernel, stride)
    view = windows(x, k, s)
    flat = view.reshape(view.shape[:4] + (-1,))
    return np.frompyfunc(lambda p, q: sp.Max(p, q), 2, 1).reduce(flat, axis=-1)


def _max_pool_tie(x, kernel=2, stride=None):
    k, s = _pool_shape(x, kernel, stride)
    view = windows(x, k, s)
    top = window_reduce(view, np.maximum)
    count = sum(np.count_nonzero(view[..., i, j] == top)
                for i in range(k[0]) for j in range(k[1]))
    return np.asarray(count > top.size)  # some window holds its largest value twice


register(Op(
    name="max_pool2d", arity=1, usage="max_pool2d(x, kernel=2, stride=None)",
    pattern="max_pool2d({a}{attrs})", symbol="max pool", forward=_max_pool, partials=None,
    formulas=("{g} to the largest element of each window of {a}, 0 elsewhere",),
    sympy_array_rule=_max_pool_sympy, vjp_rule=_max_pool_vjp, jvp_rule=_max_pool_jvp,
    attrs={"kernel": 2, "stride": None}, callable_by_name=True, gate="router",
    kink=_max_pool_tie, composite=composites.max_pool2d,
    kink_rule="at a tie the first largest element of the window gets it all",
    description="largest element of each KH×KW window (stride defaults to the kernel); the "
                "gradient goes to that element",
))


def _avg_pool(x, kernel=2, stride=None):
    k, s = _pool_shape(x, kernel, stride)
    total = window_reduce(windows(x, k, s), np.add)
    total /= k[0] * k[1]
    return total


def _avg_pool_vjp(g, inputs, out, needed, kernel=2, stride=None):
    x = inputs[0]
    k, s = _pool_shape(x, kernel, stride)
    share = g / (k[0] * k[1])
    return (scatter_windows(lambda i, j: share, x.shape, k, s),)


def _avg_pool_sympy(sp, x, kernel=2, stride=None):
    k, s = _pool_shape(x, kernel, stride)
    return windows(x, k, s).sum(axis=(4, 5)) / (k[0] * k[1])


register(Op(
    name="avg_pool2d", arity=1, usage="avg_pool2d(x, kernel=2, stride=None)",
    pattern="avg_pool2d({a}{attrs})", symbol="avg pool", forward=_avg_pool, partials=None,
    formulas=("{g} / (KH·KW) to every element of each window",),
    sympy_array_rule=_avg_pool_sympy, vjp_rule=_avg_pool_vjp,
    jvp_rule=lambda tangents, inputs, out, **attrs: _avg_pool(tangents[0], **attrs),
    attrs={"kernel": 2, "stride": None}, callable_by_name=True,
    gate="distributor (scaled by 1/KH·KW)", composite=composites.avg_pool2d,
    description="mean of each KH×KW window (stride defaults to the kernel)",
))


# -- batch norm ----------------------------------------------------------------------------

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
    inv_std = _on_each(lambda v: 1 / sp.sqrt(v + _sp_float(sp, eps)))(variance)
    return _per_channel(gamma, x.ndim) * centred * inv_std + _per_channel(beta, x.ndim)


register(Op(
    name="batch_norm", arity=3, usage="batch_norm(x, gamma, beta)",
    pattern="batch_norm({a}, {b}, {c}{attrs})", symbol="batch norm", forward=_batch_norm,
    partials=None,
    formulas=("{b}/σ · ({g} − mean({g}) − x̂ · mean({g} · x̂)), per channel",
              "Σ {g} · x̂ per channel", "Σ {g} per channel"),
    sympy_array_rule=_batch_norm_sympy, vjp_rule=_batch_norm_vjp,
    jvp_rule=_batch_norm_jvp, attrs={"eps": 1e-5}, callable_by_name=True,
    composite=composites.batch_norm,
    description="batch normalisation in training mode: x̂ = (x − μ)/sqrt(var + eps) with the "
                "batch's mean and variance per channel, then gamma·x̂ + beta",
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
    inv_std = _on_each(lambda v: 1 / sp.sqrt(_sp_float(sp, v) + _sp_float(sp, eps)))(
        np.asarray(var, dtype=object))
    centred = x - _per_channel(np.asarray(mean, dtype=object), x.ndim)
    return (_per_channel(gamma, x.ndim) * centred * _per_channel(inv_std, x.ndim)
            + _per_channel(beta, x.ndim))


register(Op(
    name="batch_norm_eval", arity=5, usage="batch_norm_eval(x, gamma, beta, mean, var)",
    pattern="batch_norm_eval({a}, {b}, {c}, {d}, {e}{attrs})", symbol="batch norm (eval)",
    forward=_batch_norm_eval, partials=None,
    formulas=("{g} · {b} / sqrt({e} + eps)", "Σ {g} · ({a} − {d}) / sqrt({e} + eps)",
              "Σ {g} per channel", "none: running statistics are data",
              "none: running statistics are data"),
    sympy_array_rule=_batch_norm_eval_sympy, vjp_rule=_batch_norm_eval_vjp,
    jvp_rule=_batch_norm_eval_jvp, attrs={"eps": 1e-5}, callable_by_name=True,
    composite=composites.batch_norm_eval,
    differentiable=(True, True, True, False, False),
    description="batch normalisation in evaluation mode: the running mean and variance kept "
                "during training, passed in as data",
))


# -- dropout and flatten -------------------------------------------------------------------

def _kept(x, mask, p):
    """The mask scaled by 1/(1 − p) (inverted dropout), in x's float type."""
    if not 0 <= p < 1:
        raise ValueError(f"dropout probability p must lie in [0, 1), not {p}")
    return np.asarray(mask, dtype=float_type(x)) * (1.0 / (1.0 - p))


register(Op(
    name="dropout", arity=2, usage="dropout(x, mask, p=0.5)", pattern="dropout({a}, {b}{attrs})",
    symbol="dropout", forward=lambda x, mask, p=0.5: x * _kept(x, mask, p), partials=None,
    formulas=("{g} · {b} / (1 − p)", "none: the mask is data"),
    sympy_array_rule=lambda sp, x, mask, p=0.5: x * (np.asarray(mask, dtype=object)
                                                / (1 - _sp_float(sp, p))),
    vjp_rule=lambda g, inputs, out, needed, p=0.5: (g * _kept(inputs[0], inputs[1], p), None),
    jvp_rule=lambda tangents, inputs, out, p=0.5: tangents[0] * _kept(inputs[0], inputs[1], p),
    attrs={"p": 0.5}, differentiable=(True, False), callable_by_name=True,
    gate="switch (scaled)", composite=composites.dropout,
    description="inverted dropout: x · mask / (1 − p), the 0/1 mask drawn by the caller's "
                "generator; evaluation mode does not call it",
))


def _flatten(x, start_dim=1):
    ndim = max(np.ndim(x), 1)
    if not -ndim <= start_dim < ndim:
        raise ValueError(f"flatten: start_dim {start_dim} is out of range for shape {np.shape(x)}")
    start = start_dim % ndim
    return np.reshape(x, x.shape[:start] + (int(np.prod(x.shape[start:], dtype=np.int64)),))


register(Op(
    name="flatten", arity=1, usage="flatten(x, start_dim=1)", pattern="flatten({a}{attrs})",
    symbol="flatten", forward=_flatten, partials=None,
    formulas=("reshape({g}, shape of {a})",),
    sympy_array_rule=lambda sp, x, start_dim=1: _flatten(x, start_dim),
    vjp_rule=lambda g, inputs, out, needed, start_dim=1: (np.reshape(g, inputs[0].shape),),
    jvp_rule=lambda tangents, inputs, out, start_dim=1: np.reshape(tangents[0], out.shape),
    attrs={"start_dim": 1}, callable_by_name=True, composite=composites.flatten,
    description="every axis from start_dim on merged into one: (N, C, H, W) → (N, C·H·W)",
))
