"""The fused layers and activations written with primitive ops only (matmul, transpose, reshape,
add, mul, im2col, max, mean, sqrt, relu, exp...): each is the `composite` of its registry entry.
`--expand LAYER` shows these steps, and the tests compare each fused op with its composite
(DeZero keeps `conv2d_simple` beside `Conv2d` for the same reason).

Each takes `F`, the ops by the names users call them (F.relu, F.im2col, F.max...), then the same
inputs and attributes as the fused op; `+ - * / @`, `.T`, `.reshape` and `.shape` are used as on
numpy arrays. Slower than the fused ops on purpose: every step is a node of its own, with its
own narration.
"""

from __future__ import annotations

import numpy as np

from .im2col import geometry, pair


def linear(F, x, W, b):
    return x @ W.T + b  # z = x·Wᵀ + b, one row per sample


def leaky_relu(F, a, negative_slope=0.01):
    return F.relu(a) - negative_slope * F.relu(-a)


def elu(F, a, alpha=1.0):
    return F.relu(a) + alpha * (F.exp(F.min(a, 0.0)) - 1.0)


def softplus(F, a):
    return F.log(1.0 + F.exp(a))


def channels_first(t, n: int, oh: int, ow: int, c: int):
    """(N, OH, OW, C) → (N, C, OH, OW) with the primitives' full transpose and reshape: as a
    matrix (C·OH·OW, N) the reversed (C, OH·OW, N) is the transpose of what we want."""
    reversed_axes = t.reshape(n, oh * ow, c).T  # (C, OH·OW, N)
    return reversed_axes.reshape(c * oh * ow, n).T.reshape(n, c, oh, ow)


def conv2d(F, x, W, b, stride=1, padding=0):
    """im2col, then one matmul with the filters as rows: z = cols·Wᵀ + b per output pixel."""
    n = x.shape[0]
    f, c, kh, kw = W.shape
    oh, ow = geometry(x.shape, (kh, kw), pair(stride), pair(padding))
    cols = F.im2col(x, kernel=(kh, kw), stride=stride, padding=padding)  # (N, OH, OW, C·KH·KW)
    z = cols @ W.reshape(f, c * kh * kw).T + b  # (N, OH, OW, F)
    return channels_first(z, n, oh, ow, f)


def _pool(F, x, kernel, stride, reduce):
    n, c = x.shape[:2]
    k = pair(kernel)
    s = k if stride is None else pair(stride)
    oh, ow = geometry(x.shape, k, s, (0, 0))
    cols = F.im2col(x, kernel=k, stride=s)  # (N, OH, OW, C·KH·KW)
    per_channel = cols.reshape(n, oh, ow, c, k[0] * k[1])
    return channels_first(reduce(per_channel, axis=4), n, oh, ow, c)


def max_pool2d(F, x, kernel=2, stride=None):
    return _pool(F, x, kernel, stride, F.max)


def avg_pool2d(F, x, kernel=2, stride=None):
    return _pool(F, x, kernel, stride, F.mean)


def _channel_shape(x) -> tuple[int, ...]:
    """(C,) for (N, C); (C, 1, 1) for (N, C, H, W): a per-channel vector that broadcasts."""
    return (x.shape[1],) + (1,) * (len(x.shape) - 2)


def batch_norm(F, x, gamma, beta, eps=1e-5):
    axes = (0,) + tuple(range(2, len(x.shape)))
    shape = _channel_shape(x)
    mu = F.mean(x, axis=axes).reshape(shape)
    centred = x - mu
    variance = F.mean(centred * centred, axis=axes).reshape(shape)
    x_hat = centred / F.sqrt(variance + eps)
    return gamma.reshape(shape) * x_hat + beta.reshape(shape)


def batch_norm_eval(F, x, gamma, beta, mean, var, eps=1e-5):
    shape = _channel_shape(x)
    x_hat = (x - mean.reshape(shape)) / F.sqrt(var.reshape(shape) + eps)
    return gamma.reshape(shape) * x_hat + beta.reshape(shape)


def dropout(F, x, mask, p=0.5):
    return x * mask * (1.0 / (1.0 - p))


def flatten(F, x, start_dim=1):
    start = start_dim % max(len(x.shape), 1)
    return x.reshape(x.shape[:start] + (int(np.prod(x.shape[start:], dtype=np.int64)),))
