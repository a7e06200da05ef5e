"""gradtrace.ops.convolution and gradtrace.ops.im2col: conv2d and max_pool2d against direct
loop implementations written here, forward and backward (ties in max pooling too); col2im the
adjoint of im2col; the shapes and parameters they refuse; and max pooling of an empty batch.
Points come from the ops' rows in op_cases.py.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from gradtrace.checks.symbolic import sympy_of_op
from gradtrace.core.composite import composite_vjp
from gradtrace.ops import REGISTRY
from gradtrace.ops.im2col import col2im, im2col
from op_cases import row_for
from op_strategies import both, float_arrays

SETTINGS = settings(max_examples=25, deadline=None)


def loop_conv2d(x, W, b, stride, padding):
    """out[n, f, i, j] = b[f] + Σ_c,p,q xpad[n, c, i·SH + p, j·SW + q] · W[f, c, p, q]."""
    (sh, sw), (ph, pw) = both(stride), both(padding)
    xpad = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    n, c, hp, wp = xpad.shape
    filters, _, kh, kw = W.shape
    oh, ow = (hp - kh) // sh + 1, (wp - kw) // sw + 1
    out = np.zeros((n, filters, oh, ow))
    for i_n in range(n):
        for f in range(filters):
            for i in range(oh):
                for j in range(ow):
                    window = xpad[i_n, :, i * sh:i * sh + kh, j * sw:j * sw + kw]
                    out[i_n, f, i, j] = b[f] + np.sum(window * W[f])
    return out


def loop_conv2d_grads(x, W, g, stride, padding):
    """The same loops backwards: each product xpad·W sends g to both factors."""
    (sh, sw), (ph, pw) = both(stride), both(padding)
    xpad = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    grad_xpad, grad_W = np.zeros_like(xpad), np.zeros_like(W)
    _, _, kh, kw = W.shape
    n, filters, oh, ow = g.shape
    for i_n in range(n):
        for f in range(filters):
            for i in range(oh):
                for j in range(ow):
                    rows, cols = slice(i * sh, i * sh + kh), slice(j * sw, j * sw + kw)
                    grad_W[f] += g[i_n, f, i, j] * xpad[i_n, :, rows, cols]
                    grad_xpad[i_n, :, rows, cols] += g[i_n, f, i, j] * W[f]
    height, width = x.shape[2:]
    return grad_xpad[:, :, ph:ph + height, pw:pw + width], grad_W, g.sum(axis=(0, 2, 3))


@SETTINGS
@given(data=st.data())
def test_conv2d_matches_a_loop_implementation(data):
    (x, W, b), attrs = data.draw(row_for("conv2d").cases, label="case")
    stride, padding = attrs.get("stride", 1), attrs.get("padding", 0)
    op = REGISTRY["conv2d"]
    out = op.evaluate((x, W, b), attrs)
    np.testing.assert_allclose(out, loop_conv2d(x, W, b, stride, padding), rtol=1e-12, atol=1e-12)
    g = data.draw(float_arrays(out.shape), label="upstream")
    for fused, looped in zip(op.vjp(g, (x, W, b), out, (True, True, True), attrs),
                             loop_conv2d_grads(x, W, g, stride, padding)):
        np.testing.assert_allclose(fused, looped, rtol=1e-12, atol=1e-12)


def loop_max_pool(x, kernel, stride, g):
    """Each window's first largest element (strict >, so a tie keeps the first), the pooled
    values, and the gradient sent back to it."""
    (kh, kw) = both(kernel)
    (sh, sw) = (kh, kw) if stride is None else both(stride)
    n, c, height, width = x.shape
    oh, ow = (height - kh) // sh + 1, (width - kw) // sw + 1
    out, grad = np.zeros((n, c, oh, ow)), np.zeros_like(x)
    for i_n in range(n):
        for i_c in range(c):
            for i in range(oh):
                for j in range(ow):
                    best = (i * sh, j * sw)
                    for p in range(kh):
                        for q in range(kw):
                            if x[i_n, i_c, i * sh + p, j * sw + q] > x[(i_n, i_c) + best]:
                                best = (i * sh + p, j * sw + q)
                    out[i_n, i_c, i, j] = x[(i_n, i_c) + best]
                    grad[(i_n, i_c) + best] += g[i_n, i_c, i, j]
    return out, grad


# whole numbers 0..3: ties in most windows, to check where their gradient goes
tied_values = st.integers(0, 3).map(float)


@SETTINGS
@given(data=st.data(), with_ties=st.booleans())
def test_max_pool2d_matches_a_loop_implementation(data, with_ties):
    (x,), attrs = data.draw(row_for("max_pool2d").cases, label="case")
    if with_ties:
        x = data.draw(float_arrays(x.shape, tied_values), label="tied x")
    op = REGISTRY["max_pool2d"]
    out = op.evaluate((x,), attrs)
    g = data.draw(float_arrays(out.shape), label="upstream")
    expected_out, expected_grad = loop_max_pool(x, attrs["kernel"], attrs.get("stride"), g)
    np.testing.assert_array_equal(out, expected_out)
    (grad,) = op.vjp(g, (x,), out, (True,), attrs)
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-12, atol=1e-12)


def test_max_pool2d_tie_goes_to_the_first_element_and_is_flagged():
    op = REGISTRY["max_pool2d"]
    x = np.array([[[[1.0, 1.0], [0.0, 1.0]]]])
    assert op.at_kink((x,), {})
    (grad,) = op.vjp(np.array([[[[5.0]]]]), (x,), op.evaluate((x,), {}), (True,), {})
    np.testing.assert_array_equal(grad, [[[[5.0, 0.0], [0.0, 0.0]]]])


@SETTINGS
@given(data=st.data())
def test_col2im_is_the_adjoint_of_im2col(data):
    (x,), attrs = data.draw(row_for("im2col").cases, label="case")
    kernel, stride, padding = (both(attrs[k]) for k in ("kernel", "stride", "padding"))
    cols = im2col(x, kernel, stride, padding)
    y = data.draw(float_arrays(cols.shape), label="y")
    back = col2im(y, x.shape, kernel, stride, padding)
    assert np.isclose(np.sum(cols * y), np.sum(x * back), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name, inputs, attrs", [
    ("conv2d", (np.zeros((1, 2, 4, 4)), np.zeros((3, 1, 3, 3)), np.zeros(3)), {}),
    ("conv2d", (np.zeros((1, 1, 2, 2)), np.zeros((1, 1, 3, 3)), np.zeros(1)), {}),
    ("max_pool2d", (np.zeros((1, 1, 1, 1)),), {"kernel": 2}),
])
def test_convolution_refuses_shapes_and_parameters_that_do_not_fit(name, inputs, attrs):
    with pytest.raises(ValueError):
        REGISTRY[name].evaluate(inputs, attrs)


# -- max pooling over an empty batch (a reshape with -1 once failed there) ---------------------

EMPTY_BATCH = np.zeros((0, 1, 2, 2))


def test_max_pool2d_lowering_of_an_empty_batch_is_empty():
    lowered = sympy_of_op(REGISTRY["max_pool2d"], [np.empty((0, 1, 2, 2), dtype=object)],
                          {}, sympy)
    assert lowered.shape == (0, 1, 1, 1)


def test_max_pool2d_composite_of_an_empty_batch_gives_an_empty_gradient():
    op = REGISTRY["max_pool2d"]
    (grad,) = composite_vjp(op, np.zeros((0, 1, 1, 1)), (EMPTY_BATCH,), (True,), {})
    assert grad.shape == EMPTY_BATCH.shape
