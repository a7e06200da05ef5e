"""The layer ops (issue 4, first acceptance point), each checked against numbers it did not
compute itself, on hypothesis-drawn shapes and hyper-parameters (stride, padding, kernel,
batch — see layer_cases.py):

- every layer's VJP and JVP match central finite differences in float64;
- conv2d and max_pool2d match direct loop implementations written here, forward and backward;
- every fused layer matches its composite of primitives (values and gradients);
- float32 stays float32; im2col and col2im are adjoint; ties in max pooling go to the first.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from gradtrace.core.backprop import sum_to, trace_graph
from gradtrace.expr.to_graph import graph_from_text as from_text
from gradtrace.core.graph import to_expression
from gradtrace.ops import REGISTRY
from gradtrace.core.tensor import tensor, tensor_ops
from gradtrace.ops.im2col import col2im, im2col
from layer_cases import (LAYER_CASES, LayerCase, away_from_zero, both, distinct_arrays,
                         float_arrays, moderate)

batches = st.tuples(st.integers(1, 3), st.integers(1, 4))  # (N, features)


def unary(elements=moderate):
    return batches.flatmap(lambda shape: float_arrays(shape, elements)).map(
        lambda a: LayerCase((a,), {}))


@st.composite
def classification_cases(draw) -> LayerCase:
    n, classes = draw(batches)
    logits = draw(float_arrays((n, classes)))
    labels = draw(hnp.arrays(np.int64, (n,), elements=st.integers(0, classes - 1)))
    return LayerCase((logits, labels.astype(np.float64)), {})


# the layers the notes list that issue 3 already declared (test_ops.py checks them too)
EARLIER_LAYERS = {
    "relu": unary(away_from_zero), "sigmoid": unary(), "tanh": unary(), "softplus": unary(),
    "softmax": unary(), "log_softmax": unary(), "cross_entropy": classification_cases(),
    "mse": batches.flatmap(lambda shape: st.tuples(float_arrays(shape), float_arrays(shape)))
    .map(lambda pair: LayerCase(pair, {})),
}
CASES = {**LAYER_CASES, **EARLIER_LAYERS}
LAYERS = sorted(CASES)
SETTINGS = settings(max_examples=25, deadline=None)
STEP = np.finfo(np.float64).eps ** (1 / 3)


def differentiable(op) -> list[int]:
    return [i for i in range(op.arity) if op.takes_gradient(i)]


def all_needed(op) -> tuple[bool, ...]:
    return tuple(op.takes_gradient(i) for i in range(op.arity))


def numeric_gradient(f, x: np.ndarray) -> np.ndarray:
    """d f / d x for a scalar function f of one array, by central differences."""
    gradient = np.zeros_like(x)
    for element in np.ndindex(x.shape):
        h = STEP * max(1.0, abs(float(x[element])))
        plus, minus = x.copy(), x.copy()
        plus[element] += h
        minus[element] -= h
        gradient[element] = (f(plus) - f(minus)) / (plus[element] - minus[element])
    return gradient


def replaced(inputs: tuple, index: int, value) -> tuple:
    return inputs[:index] + (value,) + inputs[index + 1:]


# -- (1) VJP and JVP against finite differences ------------------------------------------


@pytest.mark.parametrize("name", LAYERS)
@SETTINGS
@given(data=st.data())
def test_layer_vjp_and_jvp_match_finite_differences(name, data):
    op = REGISTRY[name]
    inputs, attrs = data.draw(CASES[name], label="case")
    out = op.evaluate(inputs, attrs)
    upstream = data.draw(float_arrays(out.shape), label="upstream")
    gradients = op.vjp(upstream, inputs, out, all_needed(op), attrs)
    tangents = [None] * op.arity
    expected_jvp = 0.0
    for i in differentiable(op):
        def loss(x, i=i):
            return float(np.sum(upstream * op.evaluate(replaced(inputs, i, x), attrs)))
        numeric = numeric_gradient(loss, inputs[i])
        tolerance = 1e-7 * (1.0 + float(np.sum(np.abs(upstream))))
        np.testing.assert_allclose(sum_to(gradients[i], inputs[i].shape), numeric,
                                   rtol=1e-6, atol=tolerance)
        tangents[i] = data.draw(float_arrays(inputs[i].shape), label=f"tangent {i}")
    for i, t in enumerate(tangents):  # the JVP: the directional derivative along all tangents
        if t is not None:
            expected_jvp = expected_jvp + numeric_directional(op, inputs, attrs, i, t)
    jvp = op.jvp(tuple(tangents), inputs, out, attrs)
    assert np.shape(jvp) == out.shape
    np.testing.assert_allclose(jvp, np.broadcast_to(expected_jvp, out.shape), rtol=1e-6,
                               atol=1e-7 * (1.0 + sum(float(np.sum(np.abs(t)))
                                                      for t in tangents if t is not None)))


def numeric_directional(op, inputs, attrs, index, tangent) -> np.ndarray:
    """(f(x + h·t) − f(x − h·t)) / 2h for input `index` moved along `tangent`."""
    h = STEP * max(1.0, float(np.max(np.abs(inputs[index]), initial=0.0)))
    plus = op.evaluate(replaced(inputs, index, inputs[index] + h * tangent), attrs)
    minus = op.evaluate(replaced(inputs, index, inputs[index] - h * tangent), attrs)
    return (plus - minus) / (2 * h)


# -- (2) conv2d and max_pool2d against loops written out ---------------------------------


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
    (x, W, b), attrs = data.draw(CASES["conv2d"], label="case")
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
    (x,), attrs = data.draw(CASES["max_pool2d"], label="case")
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


# -- (3) fused layers against their composites -------------------------------------------


COMPOSITES = {op.name: op.composite for op in REGISTRY.values() if op.composite}


@pytest.mark.parametrize("name", sorted(set(COMPOSITES) & set(LAYER_CASES)))
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_fused_layer_matches_its_composite(name, data):
    op = REGISTRY[name]
    inputs, attrs = data.draw(CASES[name], label="case")
    composite = COMPOSITES[name](tensor_ops(), *[tensor(x, f"i{i}", requires_grad=op.takes_gradient(i))
                                   for i, x in enumerate(inputs)], **attrs)
    out = op.evaluate(inputs, attrs)
    np.testing.assert_allclose(composite.value, out, rtol=1e-10, atol=1e-12)
    upstream = data.draw(float_arrays(out.shape), label="upstream")
    trace = (composite * upstream).sum().backward()
    fused = op.vjp(upstream, inputs, out, all_needed(op), attrs)
    for i in differentiable(op):
        np.testing.assert_allclose(trace.by_id[f"i{i}"].grad, sum_to(fused[i], inputs[i].shape),
                                   rtol=1e-9, atol=1e-10)


def test_fractional_hyper_parameters_are_written_in_expressions():
    graph = from_text("sum(leaky_relu(x, negative_slope=0.2) + elu(x, alpha=-1.5)"
                      " + dropout(x, m, p=0.25))")
    assert {node.op: dict(node.attrs) for node in graph.ops if node.attrs} == {
        "leaky_relu": {"negative_slope": 0.2}, "elu": {"alpha": -1.5}, "dropout": {"p": 0.25}}
    assert from_text(to_expression(graph)).ops == graph.ops


def test_every_new_layer_has_a_composite():
    assert set(LAYER_CASES) - set(COMPOSITES) == {"im2col"}  # im2col is itself a primitive


# -- (4) float32 stays float32 -----------------------------------------------------------


@pytest.mark.parametrize("name", LAYERS)
@settings(max_examples=5, deadline=None)
@given(data=st.data())
def test_float32_layers_stay_float32(name, data):
    op = REGISTRY[name]
    inputs, attrs = data.draw(CASES[name], label="case")
    narrow = tuple(x.astype(np.float32) if op.takes_gradient(i) else x  # data may stay wide
                   for i, x in enumerate(inputs))
    out = op.evaluate(narrow, attrs)
    assert out.dtype == np.float32
    upstream = np.ones_like(out)
    for i, gradient in enumerate(op.vjp(upstream, narrow, out, all_needed(op), attrs)):
        if gradient is not None:
            assert np.asarray(gradient).dtype == np.float32, f"gradient {i}"
    tangents = tuple(np.ones_like(x) if op.takes_gradient(i) else None
                     for i, x in enumerate(narrow))
    assert np.asarray(op.jvp(tangents, narrow, out, attrs)).dtype == np.float32


# -- (5) the pieces: im2col/col2im, batch statistics, errors, a traced expression --------


@SETTINGS
@given(data=st.data())
def test_col2im_is_the_adjoint_of_im2col(data):
    (x,), attrs = data.draw(CASES["im2col"], label="case")
    kernel, stride, padding = (both(attrs[k]) for k in ("kernel", "stride", "padding"))
    cols = im2col(x, kernel, stride, padding)
    y = data.draw(float_arrays(cols.shape), label="y")
    back = col2im(y, x.shape, kernel, stride, padding)
    assert np.isclose(np.sum(cols * y), np.sum(x * back), rtol=1e-12, atol=1e-12)


@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_batch_norm_output_has_zero_mean_and_unit_variance_per_channel(data):
    shape = data.draw(st.sampled_from([(5, 3), (3, 2, 2, 2)]))
    x = data.draw(distinct_arrays(shape))
    c = shape[1]
    out = REGISTRY["batch_norm"].evaluate((x, np.ones(c), np.zeros(c)), {"eps": 0.0})
    axes = (0,) + tuple(range(2, len(shape)))
    np.testing.assert_allclose(out.mean(axis=axes), 0.0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=axes), 1.0, rtol=1e-12)


def test_dropout_scales_the_kept_units_and_its_mask_takes_no_gradient():
    op = REGISTRY["dropout"]
    x, mask = np.array([1.0, 2.0, 3.0, 4.0]), np.array([1.0, 0.0, 1.0, 0.0])
    out = op.evaluate((x, mask), {"p": 0.5})
    np.testing.assert_array_equal(out, [2.0, 0.0, 6.0, 0.0])
    assert op.vjp(np.ones(4), (x, mask), out, (True, False), {"p": 0.5})[1] is None


@pytest.mark.parametrize("name, inputs, attrs", [
    ("conv2d", (np.zeros((1, 2, 4, 4)), np.zeros((3, 1, 3, 3)), np.zeros(3)), {}),
    ("conv2d", (np.zeros((1, 1, 2, 2)), np.zeros((1, 1, 3, 3)), np.zeros(1)), {}),
    ("linear", (np.zeros((2, 3)), np.zeros((4, 2)), np.zeros(4)), {}),
    ("max_pool2d", (np.zeros((1, 1, 1, 1)),), {"kernel": 2}),
    ("batch_norm", (np.zeros(3), np.ones(3), np.zeros(3)), {}),
    ("dropout", (np.zeros(3), np.ones(3)), {"p": 1.0}),
])
def test_layers_refuse_shapes_and_parameters_that_do_not_fit(name, inputs, attrs):
    with pytest.raises(ValueError):
        REGISTRY[name].evaluate(inputs, attrs)


def test_a_conv_net_expression_traces_to_the_fused_gradients():
    rng = np.random.default_rng(0)
    at = {"x": rng.normal(size=(2, 1, 4, 4)), "W": rng.normal(size=(2, 1, 3, 3)),
          "b": rng.normal(size=2), "V": rng.normal(size=(3, 8))}
    graph = from_text("sum(flatten(max_pool2d(relu(conv2d(x, W, b, padding=1)))) @ V.T)")
    trace = trace_graph(graph, at)
    conv = REGISTRY["conv2d"]
    h = conv.evaluate((at["x"], at["W"], at["b"]), {"padding": 1})
    pooled_grad = np.broadcast_to(at["V"].sum(axis=0), (2, 8)).reshape(2, 2, 2, 2)
    relu_out = np.maximum(h, 0)
    pool = REGISTRY["max_pool2d"]
    (relu_grad,) = pool.vjp(pooled_grad, (relu_out,), pool.evaluate((relu_out,), {}), (True,), {})
    expected = conv.vjp(relu_grad * (h > 0), (at["x"], at["W"], at["b"]), h, (True, True, True),
                        {"padding": 1})
    for name, gradient in zip(("x", "W", "b"), expected):
        np.testing.assert_allclose(trace.by_id[name].grad, gradient, rtol=1e-12, atol=1e-12)
