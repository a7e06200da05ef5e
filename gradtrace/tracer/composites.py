"""The layers written with primitive ops only (matmul, transpose, reshape, add, mul, im2col,
amax, mean, sqrt, relu, exp...): what `--expand LAYER` shows, and what the tests compare each
fused layer with (DeZero keeps `conv2d_simple` beside `Conv2d` for the same reason).

COMPOSITES maps a layer's registry name to a function (*tensors, **attrs) -> Tensor taking the
same inputs and attributes as the fused op. Slower than the fused ops on purpose: every step is
a node of its own, with its own narration.
"""

from __future__ import annotations

import numpy as np

from . import functional as F
from .tensor import Tensor
from .windows import geometry, pair


def linear(x: Tensor, W: Tensor, b: Tensor) -> Tensor:
    return x @ W.T + b  # z = x·Wᵀ + b, one row per sample


def leaky_relu(a: Tensor, negative_slope=0.01) -> Tensor:
    return F.relu(a) - negative_slope * F.relu(-a)


def elu(a: Tensor, alpha=1.0) -> Tensor:
    return F.relu(a) + alpha * (F.exp(F.min(a, 0.0)) - 1.0)


def softplus(a: Tensor) -> Tensor:
    return F.log(1.0 + F.exp(a))


def channels_first(t: Tensor, n: int, oh: int, ow: int, c: int) -> Tensor:
    """(N, OH, OW, C) → (N, C, OH, OW) with the primitives' full transpose and reshape: as a
    matrix (C·OH·OW, N) the reversed (C, OH·OW, N) is the transpose of what we want."""
    reversed_axes = t.reshape(n, oh * ow, c).T  # (C, OH·OW, N)
    return reversed_axes.reshape(c * oh * ow, n).T.reshape(n, c, oh, ow)


def conv2d(x: Tensor, W: Tensor, b: Tensor, stride=1, padding=0) -> Tensor:
    """im2col, then one matmul with the filters as rows: z = cols·Wᵀ + b per output pixel."""
    n = x.shape[0]
    f, c, kh, kw = W.shape
    oh, ow = geometry(x.shape, (kh, kw), pair(stride), pair(padding))
    cols = F.im2col(x, kernel=(kh, kw), stride=stride, padding=padding)  # (N, OH, OW, C·KH·KW)
    z = cols @ W.reshape(f, c * kh * kw).T + b  # (N, OH, OW, F)
    return channels_first(z, n, oh, ow, f)


def _pool(x: Tensor, kernel, stride, reduce) -> Tensor:
    n, c = x.shape[:2]
    k = pair(kernel)
    s = k if stride is None else pair(stride)
    oh, ow = geometry(x.shape, k, s, (0, 0))
    cols = F.im2col(x, kernel=k, stride=s)  # (N, OH, OW, C·KH·KW)
    per_channel = cols.reshape(n, oh, ow, c, k[0] * k[1])
    return channels_first(reduce(per_channel, axis=4), n, oh, ow, c)


def max_pool2d(x: Tensor, kernel=2, stride=None) -> Tensor:
    return _pool(x, kernel, stride, F.max)


def avg_pool2d(x: Tensor, kernel=2, stride=None) -> Tensor:
    return _pool(x, kernel, stride, F.mean)


def _channel_shape(x: Tensor) -> tuple[int, ...]:
    """(C,) for (N, C); (C, 1, 1) for (N, C, H, W): a per-channel vector that broadcasts."""
    return (x.shape[1],) + (1,) * (len(x.shape) - 2)


def batch_norm(x: Tensor, gamma: Tensor, beta: Tensor, eps=1e-5) -> Tensor:
    axes = (0,) + tuple(range(2, len(x.shape)))
    shape = _channel_shape(x)
    mu = F.mean(x, axis=axes).reshape(shape)
    centred = x - mu
    variance = F.mean(centred * centred, axis=axes).reshape(shape)
    x_hat = centred / F.sqrt(variance + eps)
    return gamma.reshape(shape) * x_hat + beta.reshape(shape)


def batch_norm_eval(x: Tensor, gamma: Tensor, beta: Tensor, mean: Tensor, var: Tensor,
                    eps=1e-5) -> Tensor:
    shape = _channel_shape(x)
    x_hat = (x - mean.reshape(shape)) / F.sqrt(var.reshape(shape) + eps)
    return gamma.reshape(shape) * x_hat + beta.reshape(shape)


def dropout(x: Tensor, mask: Tensor, p=0.5) -> Tensor:
    return x * mask * (1.0 / (1.0 - p))


def flatten(x: Tensor, start_dim=1) -> Tensor:
    start = start_dim % max(len(x.shape), 1)
    return x.reshape(x.shape[:start] + (int(np.prod(x.shape[start:], dtype=np.int64)),))


COMPOSITES = {
    "linear": linear, "leaky_relu": leaky_relu, "elu": elu, "softplus": softplus,
    "conv2d": conv2d, "max_pool2d": max_pool2d, "avg_pool2d": avg_pool2d,
    "batch_norm": batch_norm, "batch_norm_eval": batch_norm_eval, "dropout": dropout,
    "flatten": flatten,
}
