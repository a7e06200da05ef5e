"""Registry entries for the convolutional layers: conv2d (via im2col), im2col itself, and max and
average pooling.

Notation, as in the notes and DeZero's `im2col`: x (N, C, H, W) an image batch, W (F, C, KH, KW)
the filters, b (F,) their biases, g the upstream gradient shaped like the output (see im2col.py
for OH and OW). Each is fused for speed and tested against its composite (composites.py).
"""

from __future__ import annotations

import math

import numpy as np

from ..core import workspace
from ..core.arrays import float_type
from ..core.i18n import N_
from ..core.registry import Op, register
from . import composites
from .im2col import (col2im, first_max_masks, geometry, im2col, image_batches, pair,
                     route_to_first_max, scatter_windows, spread_to_tiles, window_reduce,
                     windows)


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
    out = workspace.empty((x.shape[0], oh, ow, filters), np.result_type(x, W))
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


# im2col rows of at most this size are kept from the forward for the filter gradient; larger
# ones are made again in the backward pass, a batch of images at a time
KEEP_ROWS_BYTES = 32 * 2**20


def _conv2d_keeping(x, W, b, stride=1, padding=0):
    """(conv2d, the im2col rows (N·OH·OW, C·KH·KW) its product read, or None): the filter
    gradient gᵀ · rows then needs no second im2col. Rows past KEEP_ROWS_BYTES are not kept."""
    stride, padding = pair(stride), pair(padding)
    if (np.ndim(W) != 4 or np.ndim(x) != 4 or x.shape[1] != W.shape[1]
            or x.dtype.kind != "f" or x.dtype != W.dtype):
        return _conv2d(x, W, b, stride, padding), None
    oh, ow = geometry(x.shape, W.shape[2:], stride, padding)
    length = math.prod(W.shape[1:])
    if x.shape[0] * oh * ow * length * x.itemsize > KEEP_ROWS_BYTES:
        return _conv2d(x, W, b, stride, padding), None
    filters = W.shape[0]
    rows = im2col(x, W.shape[2:], stride, padding).reshape(-1, length)
    out = workspace.empty((x.shape[0], oh, ow, filters), x.dtype)
    np.matmul(rows, W.reshape(filters, -1).T, out=out.reshape(-1, filters))
    return _add_bias(out, b).transpose(0, 3, 1, 2), rows


def _conv2d_vjp(g, inputs, out, needed, stride=1, padding=0, kept=None):
    x, W, b = inputs
    filters = W.shape[0]
    rows = np.transpose(g, (0, 2, 3, 1)).reshape(-1, filters)  # (N·OH·OW, F)
    grad_x = grad_W = grad_b = None
    if needed[0]:
        grad_x = _input_gradient(rows, x, W, pair(stride), pair(padding))
    if needed[1]:
        if kept is not None:  # the forward's im2col rows
            grad_W = (rows.T @ kept).reshape(W.shape)
        else:
            grad_W = _filter_gradient(g, x, W, pair(stride), pair(padding))
    if needed[2]:
        # Σ over the rows as a product with ones: BLAS, against numpy's slow sum down axis 0
        grad_b = np.ones(rows.shape[0], dtype=rows.dtype) @ rows
    return grad_x, grad_W, grad_b


def _input_gradient(rows, x, W, stride, padding):
    """grad_x = col2im(g · W): each output pixel's share of its window, added back where the
    window came from. Worked channels-last, the window's shares ordered kernel offset first and
    channel last, so that each offset's addition runs over contiguous channels on both sides
    (col2im's channel-first rows are read C numbers apart). Laid out like x."""
    filters, channels, kh, kw = W.shape
    n, _, h, w = x.shape
    (sh, sw), (ph, pw) = stride, padding
    oh, ow = geometry(x.shape, (kh, kw), stride, padding)
    shares = rows @ W.transpose(0, 2, 3, 1).reshape(filters, -1)  # (N·OH·OW, KH·KW·C)
    shares = shares.reshape(n, oh, ow, kh, kw, channels)
    dtype = shares.dtype
    image = (workspace.zeros if dtype.kind == "f" else np.zeros)(
        (n, h + 2 * ph, w + 2 * pw, channels), dtype)
    for i in range(kh):  # a loop over kernel offsets only
        for j in range(kw):
            image[:, i:i + sh * oh:sh, j:j + sw * ow:sw] += shares[:, :, :, i, j]
    grad = image[:, ph:ph + h, pw:pw + w].transpose(0, 3, 1, 2)
    if x.flags.c_contiguous and dtype.kind == "f":  # x is plain (N, C, H, W): so is its gradient
        plain = workspace.empty(x.shape, dtype)
        np.copyto(plain, grad)
        return plain
    return grad


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
    formulas=("col2im({g} · {b})", "{g}ᵀ · im2col({a})", N_("Σ {g} over N, OH, OW")),
    sympy_array_rule=lambda sp, x, W, b, stride=1, padding=0: _conv2d(x, W, b, stride, padding),
    vjp_rule=_conv2d_vjp, jvp_rule=_conv2d_jvp, attrs={"stride": 1, "padding": 0},
    forward_keeping=_conv2d_keeping,
    work=lambda shapes, out: math.prod(out) * math.prod(shapes[1][1:]),
    composite=composites.conv2d,
    callable_by_name=True,
    description=N_("2-d convolution (cross-correlation, as in PyTorch) of x (N, C, H, W) with "
                   "filters W (F, C, KH, KW) and biases b (F,), via im2col: one matmul forward, "
                   "one per gradient back"),
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
    gate=N_("router (copies)"),
    description=N_("(N, C, H, W) → (N, OH, OW, C·KH·KW): each output pixel's window as a row; "
                   "the gradient is added back where each window came from (col2im)"),
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
    copy = workspace.empty_like(like, dtype=float_type(g))
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
    flat = view.reshape(view.shape[:4] + (k[0] * k[1],))  # not -1: an empty batch has no size
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
    formulas=(N_("{g} to the largest element of each window of {a}, 0 elsewhere"),),
    sympy_array_rule=_max_pool_sympy, vjp_rule=_max_pool_vjp, jvp_rule=_max_pool_jvp,
    attrs={"kernel": 2, "stride": None}, callable_by_name=True, gate=N_("router"),
    kink=_max_pool_tie, composite=composites.max_pool2d,
    kink_rule=N_("at a tie the first largest element of the window gets it all"),
    description=N_("largest element of each KH×KW window (stride defaults to the kernel); the "
                   "gradient goes to that element"),
))


def _avg_pool(x, kernel=2, stride=None):
    k, s = _pool_shape(x, kernel, stride)
    total = window_reduce(windows(x, k, s), np.add)
    total /= k[0] * k[1]
    return total


def _avg_pool_vjp(g, inputs, out, needed, kernel=2, stride=None):
    x = inputs[0]
    k, s = _pool_shape(x, kernel, stride)
    # g's share for each element, in the layout of the pooled maps (conv2d's output is
    # channels-last underneath): the gradient comes back laid out like x
    share = g / (k[0] * k[1])
    if k == s and share.dtype.kind == "f":  # the usual case: windows side by side
        share = _in_layout_of(out, share)
        return (spread_to_tiles(share, x, k),)
    return (scatter_windows(lambda i, j: share, x, k, s),)


def _avg_pool_sympy(sp, x, kernel=2, stride=None):
    k, s = _pool_shape(x, kernel, stride)
    return windows(x, k, s).sum(axis=(4, 5)) / (k[0] * k[1])


register(Op(
    name="avg_pool2d", arity=1, usage="avg_pool2d(x, kernel=2, stride=None)",
    pattern="avg_pool2d({a}{attrs})", symbol="avg pool", forward=_avg_pool, partials=None,
    formulas=(N_("{g} / (KH·KW) to every element of each window"),),
    sympy_array_rule=_avg_pool_sympy, vjp_rule=_avg_pool_vjp,
    jvp_rule=lambda tangents, inputs, out, **attrs: _avg_pool(tangents[0], **attrs),
    attrs={"kernel": 2, "stride": None}, callable_by_name=True,
    gate=N_("distributor (scaled by 1/KH·KW)"), composite=composites.avg_pool2d,
    description=N_("mean of each KH×KW window (stride defaults to the kernel)"),
))
