"""Hypothesis strategies for the layer ops (linear, conv2d, pooling, batch norm...): valid
inputs and hyper-parameters built by construction — kernels that fit, batch statistics over at
least two numbers, max-pool windows without ties, activations away from their kink at 0.

Shared by test_ops.py (the registry-wide oracles read LAYER_CASES) and test_layers.py.
Shapes stay small: every case is checked element by element with finite differences and SymPy.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

moderate = st.floats(-3.0, 3.0)
away_from_zero = st.builds(lambda size, sign: size * sign, st.floats(0.2, 3.0),
                           st.sampled_from([-1.0, 1.0]))
jitter = st.floats(-0.1, 0.1)
small_shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3)


class LayerCase(NamedTuple):
    """A valid point for one op: its input arrays and its attributes."""
    inputs: tuple[np.ndarray, ...]
    attrs: dict


def float_arrays(shape, elements=moderate):
    return hnp.arrays(np.float64, shape, elements=elements)


@st.composite
def distinct_arrays(draw, shape):
    """Elements at least 0.3 apart, in a drawn order: no max tie within a finite-difference
    step, and a batch's variance well away from 0."""
    size = int(np.prod(shape, dtype=np.int64))
    order = np.array(draw(st.permutations(range(size))), dtype=np.float64)
    shift = draw(float_arrays((size,), jitter))
    return ((order - size / 2) * 0.5 + shift).reshape(shape)


def one_or_pair(values):
    """2 or (2, 3): a hyper-parameter written once for both axes, or per axis."""
    return values | st.tuples(values, values)


def both(value) -> tuple[int, int]:
    return value if isinstance(value, tuple) else (value, value)


@st.composite
def maybe(draw, name: str, values) -> dict:
    """{name: value}, or {} to use the op's default."""
    if draw(st.booleans()):
        return {}
    return {name: draw(values)}


@st.composite
def linear_cases(draw) -> LayerCase:
    """x (in,), (N, in) or (B, N, in); W (out, in); b (out,)."""
    batch = draw(st.sampled_from([(), (2,), (3,), (2, 2)]))
    n_in, n_out = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    return LayerCase((draw(float_arrays(batch + (n_in,))), draw(float_arrays((n_out, n_in))),
                      draw(float_arrays((n_out,)))), {})


@st.composite
def activation_cases(draw, attr: str, values) -> LayerCase:
    a = draw(float_arrays(draw(small_shapes), away_from_zero))
    return LayerCase((a,), draw(maybe(attr, values)))


@st.composite
def window_geometry(draw, max_padding: int = 1):
    """(image shape (N, C, H, W), kernel, stride, padding) such that the kernel fits."""
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    height, width = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    padding = draw(one_or_pair(st.integers(0, max_padding)))
    ph, pw = both(padding)
    kernel = (draw(st.integers(1, min(3, height + 2 * ph))),
              draw(st.integers(1, min(3, width + 2 * pw))))
    if kernel[0] == kernel[1] and draw(st.booleans()):
        kernel = kernel[0]
    stride = draw(one_or_pair(st.integers(1, 2)))
    return (n, c, height, width), kernel, stride, padding


@st.composite
def conv2d_cases(draw) -> LayerCase:
    (n, c, h, w), kernel, stride, padding = draw(window_geometry())
    kh, kw = both(kernel)
    filters = draw(st.integers(1, 2))
    attrs = {"stride": stride, "padding": padding}
    for name, default in (("stride", 1), ("padding", 0)):
        if attrs[name] == default and draw(st.booleans()):
            del attrs[name]  # the op's default
    return LayerCase((draw(float_arrays((n, c, h, w))), draw(float_arrays((filters, c, kh, kw))),
                      draw(float_arrays((filters,)))), attrs)


@st.composite
def im2col_cases(draw) -> LayerCase:
    shape, kernel, stride, padding = draw(window_geometry())
    return LayerCase((draw(float_arrays(shape)),),
                     {"kernel": kernel, "stride": stride, "padding": padding})


@st.composite
def pool_geometry(draw):
    """(image shape, attrs): kernel 1..3 (one number or a pair), stride the kernel's (None or
    left out) or 1..3; the image at least one window large."""
    kernel = draw(one_or_pair(st.integers(1, 3)))
    kh, kw = both(kernel)
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 2)),
             kh + draw(st.integers(0, 2)), kw + draw(st.integers(0, 2)))
    stride = draw(st.none() | one_or_pair(st.integers(1, 3)))
    attrs = {"kernel": kernel} if stride is None and draw(st.booleans()) else {
        "kernel": kernel, "stride": stride}
    return shape, attrs


@st.composite
def max_pool2d_cases(draw) -> LayerCase:
    shape, attrs = draw(pool_geometry())
    return LayerCase((draw(distinct_arrays(shape)),), attrs)


@st.composite
def avg_pool2d_cases(draw) -> LayerCase:
    shape, attrs = draw(pool_geometry())
    return LayerCase((draw(float_arrays(shape)),), attrs)


@st.composite
def normalised_shapes(draw):
    """(N, C) with N ≥ 2, or (N, C, H, W) with N·H·W ≥ 2: statistics over ≥ 2 numbers."""
    if draw(st.booleans()):
        return draw(st.integers(2, 4)), draw(st.integers(1, 3))
    n, h, w = draw(st.integers(1, 2)), draw(st.integers(1, 2)), draw(st.integers(1, 2))
    if n * h * w == 1:
        n = 2
    return n, draw(st.integers(1, 2)), h, w


eps_values = st.sampled_from([1e-5, 1e-3, 0.1])


@st.composite
def batch_norm_cases(draw) -> LayerCase:
    shape = draw(normalised_shapes())
    c = shape[1]
    return LayerCase((draw(distinct_arrays(shape)), draw(float_arrays((c,))),
                      draw(float_arrays((c,)))), draw(maybe("eps", eps_values)))


@st.composite
def batch_norm_eval_cases(draw) -> LayerCase:
    shape = draw(normalised_shapes())
    c = shape[1]
    x, gamma, beta, mean = (draw(float_arrays(s)) for s in (shape, (c,), (c,), (c,)))
    var = draw(float_arrays((c,), st.floats(0.1, 3.0)))
    return LayerCase((x, gamma, beta, mean, var), draw(maybe("eps", eps_values)))


@st.composite
def dropout_cases(draw) -> LayerCase:
    shape = draw(small_shapes)
    mask = draw(hnp.arrays(np.float64, shape, elements=st.sampled_from([0.0, 1.0])))
    return LayerCase((draw(float_arrays(shape)), mask),
                     draw(maybe("p", st.sampled_from([0.0, 0.2, 0.5, 0.9]))))


@st.composite
def flatten_cases(draw) -> LayerCase:
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=3))
    start = draw(st.integers(-len(shape), len(shape) - 1))
    attrs = {} if start == 1 and draw(st.booleans()) else {"start_dim": start}
    return LayerCase((draw(float_arrays(shape)),), attrs)


LAYER_CASES = {
    "linear": linear_cases(),
    "leaky_relu": activation_cases("negative_slope", st.sampled_from([0.0, 0.01, 0.2, 1.5])),
    "elu": activation_cases("alpha", st.sampled_from([0.5, 1.0, 2.0])),
    "conv2d": conv2d_cases(),
    "im2col": im2col_cases(),
    "max_pool2d": max_pool2d_cases(),
    "avg_pool2d": avg_pool2d_cases(),
    "batch_norm": batch_norm_cases(),
    "batch_norm_eval": batch_norm_eval_cases(),
    "dropout": dropout_cases(),
    "flatten": flatten_cases(),
}
