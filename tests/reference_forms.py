"""The array and layer ops written in SymPy by the tests: the independent oracle of the per-op
table (op_cases.py), differentiated by SymPy's own `diff`.

Each form takes the op's inputs — object arrays of SymPy symbols, or float arrays for inputs
that are data (class indices, masks, running statistics) — and every attribute by keyword (the
op's defaults filled in by the caller), and returns an object array. They are written from the
definitions in the notes (sums of products, loops over windows, statistics per channel), never
from gradtrace's own SymPy rules or composites. The elementwise ops' forms are one-liners in
the table itself.
"""

from __future__ import annotations

import math

import numpy as np
import sympy as sp

ZERO = sp.Integer(0)


def objects(value) -> np.ndarray:
    return np.asarray(value, dtype=object)


def elementwise(form, *args, **attrs) -> np.ndarray:
    """A per-element form applied to broadcast arrays."""
    return objects(np.frompyfunc(lambda *xs: form(*xs, **attrs), len(args), 1)(*args))


def filled(shape, value=ZERO) -> np.ndarray:
    out = np.empty(shape, dtype=object)
    out[...] = value
    return out


def _axes(axis, ndim: int) -> list[int]:
    if axis is None:
        return list(range(ndim))
    return sorted({a % ndim for a in (axis if isinstance(axis, tuple) else (axis,))})


def over_axes(a: np.ndarray, axis, combine) -> np.ndarray:
    """combine(list of the numbers each output element reduces over), for every output
    element: the reduced axes removed."""
    a = objects(a)
    reduced = _axes(axis, a.ndim)
    kept = [i for i in range(a.ndim) if i not in reduced]
    kept_shape = tuple(a.shape[i] for i in kept)
    count = math.prod(a.shape[i] for i in reduced)
    moved = np.transpose(a, kept + reduced).reshape(kept_shape + (count,))
    out = filled(kept_shape)
    for index in np.ndindex(kept_shape):
        out[index] = combine(list(moved[index]))
    return out


def add_all(xs):
    return sp.Add(*xs)


# -- arrays ----------------------------------------------------------------------------------


def matmul(a, b):
    """Σ_p a[.., i, p]·b[.., p, j], batch axes broadcast; a vector operand is a row (left) or a
    column (right), dropped again from the result."""
    left = a[np.newaxis, :] if a.ndim == 1 else a
    right = b[:, np.newaxis] if b.ndim == 1 else b
    batch = np.broadcast_shapes(left.shape[:-2], right.shape[:-2])
    (n, k), m = left.shape[-2:], right.shape[-1]
    left = np.broadcast_to(left, batch + (n, k))
    right = np.broadcast_to(right, batch + (k, m))
    out = filled(batch + (n, m))
    for index in np.ndindex(out.shape):
        *outer, i, j = index
        out[index] = sp.Add(*[left[(*outer, i, p)] * right[(*outer, p, j)] for p in range(k)])
    if b.ndim == 1:
        out = out[..., 0]
    if a.ndim == 1:
        out = out[..., 0] if b.ndim == 1 else out[..., 0, :]
    return objects(out)


def transpose(a):
    return objects(a).transpose()  # every axis reversed


def reshape(a, shape):
    return objects(a).reshape(shape)


def index(a, key):
    return objects(a[tuple(slice(*part) if isinstance(part, tuple) else part for part in key)])


def total(a, axis):
    return over_axes(a, axis, add_all)


def mean(a, axis):
    return over_axes(a, axis, lambda xs: sp.Add(*xs) / len(xs))


def amax(a, axis):
    return over_axes(a, axis, lambda xs: sp.Max(*xs))


def amin(a, axis):
    return over_axes(a, axis, lambda xs: sp.Min(*xs))


def _sum_keeping(a, axis):
    return np.expand_dims(over_axes(a, axis, add_all), axis)


def softmax(a, axis):
    e = elementwise(sp.exp, a)
    return objects(e / _sum_keeping(e, axis))


def log_softmax(a, axis):
    """a − log Σ exp(a): the log-sum-exp form, not log of the softmax."""
    return objects(a - elementwise(sp.log, _sum_keeping(elementwise(sp.exp, a), axis)))


def reduced(terms, reduction):
    """PyTorch's reduction of a loss's terms: their mean, their sum, or the terms."""
    terms = objects(terms)
    if reduction == "none":
        return terms
    total = sp.Add(*terms.ravel())
    return objects(total / max(terms.size, 1) if reduction == "mean" else total)


def mse(pred, target, reduction):
    """(1/N) Σ (pred − target)² over the broadcast elements (or the sum, or each term)."""
    return reduced(objects(pred - target) ** 2, reduction)


def binary_cross_entropy_with_logits(logits, target, reduction):
    """−t·log σ(z) − (1 − t)·log(1 − σ(z)) per element, as the notes write binary
    cross-entropy, then reduced."""
    z, t = np.broadcast_arrays(objects(logits), np.asarray(target, dtype=object))
    sigma = elementwise(lambda a: 1 / (1 + sp.exp(-a)), z)
    terms = -t * elementwise(sp.log, sigma) - (1 - t) * elementwise(lambda s: sp.log(1 - s), sigma)
    return reduced(terms, reduction)


def binary_cross_entropy(p, target, reduction):
    """−t·log p − (1 − t)·log(1 − p) per element, then reduced."""
    p, t = np.broadcast_arrays(objects(p), np.asarray(target, dtype=object))
    return reduced(-t * elementwise(sp.log, p) - (1 - t) * elementwise(lambda a: sp.log(1 - a), p),
                   reduction)


def _negative_log_likelihood(log_p, target):
    """−log p[t] for each row, with class indices t (..) or one-hot rows (.., C): −Σ t·log p."""
    batch = log_p.shape[:-1]
    terms = filled(batch)
    for n in np.ndindex(batch):
        if target.shape == log_p.shape:
            terms[n] = -sp.Add(*[t * lp for t, lp in zip(target[n], log_p[n])])
        else:
            terms[n] = -log_p[n + (int(target[n]),)]
    return terms


def cross_entropy(logits, target, reduction):
    """−log softmax(z_n)[t_n] for each row n, then reduced (the mean over the rows by default)."""
    return reduced(_negative_log_likelihood(log_softmax(logits, -1), target), reduction)


def nll_loss(log_p, target, reduction):
    """−x_n[t_n] for each row n of log-probabilities x, then reduced."""
    return reduced(_negative_log_likelihood(objects(log_p), target), reduction)


# -- layers ----------------------------------------------------------------------------------


def linear(x, W, b):
    return objects(matmul(x, W.T) + b)


def _pair(value) -> tuple[int, int]:
    return tuple(value) if isinstance(value, tuple) else (value, value)


def _padded(x, padding):
    ph, pw = _pair(padding)
    n, c, h, w = x.shape
    frame = filled((n, c, h + 2 * ph, w + 2 * pw))
    frame[:, :, ph:ph + h, pw:pw + w] = x
    return frame


def _windows(x, kernel, stride, padding=0):
    """Every window as ((n, c, i, j), the KH×KW numbers it sees), i, j the output pixel."""
    (kh, kw), (sh, sw) = _pair(kernel), _pair(stride)
    frame = _padded(objects(x), padding)
    n, c, height, width = frame.shape
    oh, ow = (height - kh) // sh + 1, (width - kw) // sw + 1
    for index in np.ndindex(n, c, oh, ow):
        _, _, i, j = index
        yield index, frame[index[0], index[1], i * sh:i * sh + kh, j * sw:j * sw + kw]


def conv2d(x, W, b, stride, padding):
    """out[n, f, i, j] = b[f] + Σ_c,p,q xpad[n, c, i·SH + p, j·SW + q] · W[f, c, p, q]."""
    f = W.shape[0]
    (kh, kw), (sh, sw), (ph, pw) = W.shape[2:], _pair(stride), _pair(padding)
    n, c, height, width = x.shape
    oh, ow = (height + 2 * ph - kh) // sh + 1, (width + 2 * pw - kw) // sw + 1
    frame = _padded(objects(x), padding)
    out = filled((n, f, oh, ow))
    for i_n, i_f, i, j in np.ndindex(out.shape):
        window = frame[i_n, :, i * sh:i * sh + kh, j * sw:j * sw + kw]
        out[i_n, i_f, i, j] = b[i_f] + sp.Add(*(window * W[i_f]).ravel())
    return out


def im2col(x, kernel, stride, padding):
    """(N, C, H, W) → (N, OH, OW, C·KH·KW): each output pixel's window, channel by channel,
    each channel's KH×KW numbers row by row."""
    (kh, kw), (sh, sw), (ph, pw) = _pair(kernel), _pair(stride), _pair(padding)
    n, c, height, width = x.shape
    oh, ow = (height + 2 * ph - kh) // sh + 1, (width + 2 * pw - kw) // sw + 1
    out = filled((n, oh, ow, c * kh * kw))
    for (i_n, i_c, i, j), window in _windows(x, kernel, stride, padding):
        out[i_n, i, j, i_c * kh * kw:(i_c + 1) * kh * kw] = window.ravel()
    return out


def _pool(x, kernel, stride, combine):
    stride = kernel if stride is None else stride
    (kh, kw), (sh, sw) = _pair(kernel), _pair(stride)
    n, c, height, width = x.shape
    out = filled((n, c, (height - kh) // sh + 1, (width - kw) // sw + 1))
    for index, window in _windows(x, kernel, stride):
        out[index] = combine(list(window.ravel()))
    return out


def max_pool2d(x, kernel, stride):
    return _pool(x, kernel, stride, lambda xs: sp.Max(*xs))


def avg_pool2d(x, kernel, stride):
    return _pool(x, kernel, stride, lambda xs: sp.Add(*xs) / len(xs))


def _per_channel(x):
    """(channel, the index of every element of x in that channel)."""
    for channel in range(x.shape[1]):
        yield channel, [index for index in np.ndindex(x.shape) if index[1] == channel]


def batch_norm(x, gamma, beta, eps):
    """Per channel c over the batch (and pixels): μ = mean, σ² = mean of (x − μ)², then
    γ_c·(x − μ)/sqrt(σ² + eps) + β_c."""
    out = filled(x.shape)
    for c, indices in _per_channel(x):
        values = [x[i] for i in indices]
        mu = sp.Add(*values) / len(values)
        variance = sp.Add(*[(v - mu) ** 2 for v in values]) / len(values)
        for i in indices:
            out[i] = gamma[c] * (x[i] - mu) / sp.sqrt(variance + eps) + beta[c]
    return out


def batch_norm_eval(x, gamma, beta, mean, var, eps):
    out = filled(x.shape)
    for c, indices in _per_channel(x):
        for i in indices:
            out[i] = gamma[c] * (x[i] - mean[c]) / sp.sqrt(sp.Float(var[c]) + eps) + beta[c]
    return out


def dropout(x, mask, p):
    return objects(x * mask / (1 - sp.Float(p)))


def flatten(x, start_dim):
    start = start_dim % x.ndim
    return objects(x).reshape(x.shape[:start] + (math.prod(x.shape[start:]),))
