"""Arrays through the whole engine: text or Python API → graph → trace.

The op-by-op checks are in test_ops.py; here the engine's shared work (undoing broadcasting,
fan-out) and the issue's worked examples are checked end to end, against numbers computed by
hand or by numpy code written in this file.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import gradtrace
from gradtrace.core.backprop import trace_graph
from gradtrace.expr.pipeline import explain
from gradtrace.expr.to_graph import graph_from_text as from_text

SETTINGS = settings(max_examples=25, deadline=None)

# -- the acceptance example, by hand ---------------------------------------------------------
#   W @ x = [1·1 − 2·2, 3·1 + 4·2] = [−3, 11];  + b = [−2.5, 1];  relu = [0, 1];  sum = 1
#   grad of the relu output: [1, 1]; through relu: [0, 1] (the first entry is negative)
#   grad_W = [0, 1]ᵀ·xᵀ = [[0, 0], [1, 2]];  grad_x = Wᵀ·[0, 1] = [3, 4];  grad_b = [0, 1]

ACCEPTANCE = "sum(relu(W@x+b))"
ACCEPTANCE_AT = {"W": [[1.0, -2.0], [3.0, 4.0]], "x": [1.0, 2.0], "b": [0.5, -10.0]}
ACCEPTANCE_VALUE = 1.0
ACCEPTANCE_GRADIENTS = {"W": [[0.0, 0.0], [1.0, 2.0]], "x": [3.0, 4.0], "b": [0.0, 1.0]}


def test_acceptance_example_gives_the_hand_computed_value_and_gradients():
    trace = explain(ACCEPTANCE, at={k: np.array(v) for k, v in ACCEPTANCE_AT.items()})
    assert trace.value == ACCEPTANCE_VALUE
    assert set(trace.gradients) == set(ACCEPTANCE_GRADIENTS)
    for name, expected in ACCEPTANCE_GRADIENTS.items():
        np.testing.assert_array_equal(trace.gradients[name], expected, err_msg=name)
    assert [node.op for node in trace.graph.ops] == ["matmul", "add", "relu", "sum"]
    assert {check.input: check.status for check in trace.checks} == {
        "W": "agree", "x": "agree", "b": "agree"}


def test_acceptance_example_through_the_python_api():
    leaves = {name: gradtrace.tensor(np.array(value), name=name)
              for name, value in ACCEPTANCE_AT.items()}
    W, x, b = leaves["W"], leaves["x"], leaves["b"]
    trace = gradtrace.sum(gradtrace.relu(W @ x + b)).backward()
    assert trace.value == ACCEPTANCE_VALUE
    for name, expected in ACCEPTANCE_GRADIENTS.items():
        np.testing.assert_array_equal(leaves[name].grad, expected, err_msg=name)
        np.testing.assert_array_equal(trace.gradients[name], expected, err_msg=name)
    parsed = from_text(ACCEPTANCE)
    assert [node.op for node in trace.graph.ops] == [node.op for node in parsed.ops]


def test_matmul_steps_are_narrated_in_the_notes_notation():
    trace = explain("x @ W", at={"x": np.ones((4, 2)), "W": np.ones((2, 3))}, check=False)
    formulas = {step.input: step.formula for step in trace.backward}
    assert formulas == {"W": "xᵀ · grad_h1", "x": "grad_h1 · Wᵀ"}


# -- broadcasting is undone by the engine, once, for every op --------------------------------


def summed_back(upstream: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """What each element of an input of `shape` broadcast into `upstream`'s shape receives:
    the sum of the upstream entries it was copied to (by counting, not by sum_to)."""
    owner = np.broadcast_to(np.arange(int(np.prod(shape))).reshape(shape), upstream.shape)
    totals = np.bincount(owner.ravel(), weights=upstream.ravel(), minlength=int(np.prod(shape)))
    return totals.reshape(shape)


def test_x_plus_b_sums_b_gradient_over_the_rows():
    x = np.arange(12.0).reshape(3, 4)
    b = np.array([0.5, -1.0, 2.0, 3.0])
    trace = trace_graph(from_text("x + b"), {"x": x, "b": b})
    np.testing.assert_array_equal(trace.gradients["x"], np.ones((3, 4)))
    np.testing.assert_array_equal(trace.gradients["b"], [3.0, 3.0, 3.0, 3.0])  # over axis 0
    (step,) = [s for s in trace.backward if s.input == "b"]
    assert np.shape(step.upstream) == (3, 4) and np.shape(step.downstream) == (4,)


@pytest.mark.parametrize("x_shape, b_shape", [
    ((3, 4), (4,)), ((3, 4), (1, 4)), ((3, 4), (3, 1)), ((3, 4), ()),
    ((3, 1), (4,)), ((2, 1, 4), (3, 1)), ((), (2, 3)),
])
@pytest.mark.parametrize("op", ["+", "-", "*", "/"])
def test_gradients_of_broadcast_inputs_are_summed_back_to_their_shapes(x_shape, b_shape, op):
    rng = np.random.default_rng(3)
    x = rng.uniform(0.5, 2.0, x_shape)
    b = rng.uniform(0.5, 2.0, b_shape)
    u = rng.standard_normal(np.broadcast_shapes(x_shape, b_shape))
    trace = trace_graph(from_text(f"sum(u * (x {op} b))"), {"u": u, "x": x, "b": b})
    local_x, local_b = {"+": (1.0, 1.0), "-": (1.0, -1.0), "*": (b, x),
                        "/": (1.0 / b, -x / b**2)}[op]
    full = np.broadcast_shapes(x_shape, b_shape)
    expected_x = summed_back(u * np.broadcast_to(local_x, full), x_shape)
    expected_b = summed_back(u * np.broadcast_to(local_b, full), b_shape)
    assert np.shape(trace.gradients["x"]) == x_shape
    assert np.shape(trace.gradients["b"]) == b_shape
    np.testing.assert_allclose(trace.gradients["x"], expected_x, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(trace.gradients["b"], expected_b, rtol=1e-12, atol=1e-12)


def test_fan_out_of_an_array_adds_the_gradients_of_every_use():
    x = np.array([[1.0, 2.0], [3.0, -1.0]])
    trace = trace_graph(from_text("sum(x * x.T + x)"), {"x": x})
    # d/dx[i,j] of Σ x[i,j]·x[j,i] + x[i,j] = 2·x[j,i] + 1
    np.testing.assert_array_equal(trace.gradients["x"], 2 * x.T + 1)
    arrivals = [step.arrival for step in trace.backward if step.input == "x"]
    assert arrivals == [1, 2, 3]


# -- softmax cross-entropy and the Matmul layer, end to end ----------------------------------


def numpy_softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


@st.composite
def classification_batches(draw):
    """(logits (N, C), class indices (N,)), N in 1..6, C in 2..5."""
    n, classes = draw(st.integers(1, 6)), draw(st.integers(2, 5))
    logits = draw(hnp.arrays(np.float64, (n, classes), elements=st.floats(-10.0, 10.0)))
    labels = draw(hnp.arrays(np.int64, (n,), elements=st.integers(0, classes - 1)))
    return logits, labels


@SETTINGS
@given(batch=classification_batches(), one_hot=st.booleans())
def test_cross_entropy_gradient_is_softmax_minus_one_hot_over_batch(batch, one_hot):
    logits, labels = batch
    n, classes = logits.shape
    rows = np.eye(classes)[labels]
    target = rows if one_hot else labels.astype(np.float64)
    expected = (numpy_softmax(logits) - rows) / n

    trace = explain("cross_entropy(z, t)", at={"z": logits, "t": target}, check=False)
    assert list(trace.gradients) == ["z"]  # the target is data: no gradient
    np.testing.assert_allclose(trace.gradients["z"], expected, rtol=1e-12, atol=1e-15)
    loss = -np.mean(np.log(numpy_softmax(logits))[np.arange(n), labels])
    np.testing.assert_allclose(trace.value, loss, rtol=1e-12, atol=1e-12)

    z = gradtrace.tensor(logits, name="z")
    gradtrace.cross_entropy(z, target).backward()
    np.testing.assert_allclose(z.grad, expected, rtol=1e-12, atol=1e-15)


def test_cross_entropy_is_finite_when_another_class_has_no_chance():
    # log p = −∞ for class 1 must not meet a 0 from the one-hot rows: 0·(−∞) is nan
    z = gradtrace.tensor(np.array([[2.0, -np.inf, 0.0]]), name="z")
    loss = gradtrace.cross_entropy(z, np.array([0]))
    expected = -(2.0 - np.log(np.exp(2.0) + 1.0))
    assert loss.item() == pytest.approx(expected, rel=1e-15)
    loss.backward()
    p = np.exp([2.0, 0.0]) / (np.exp(2.0) + 1.0)
    np.testing.assert_allclose(z.grad, [[p[0] - 1.0, 0.0, p[1]]], rtol=1e-15)


layers = st.tuples(st.integers(1, 4), st.integers(1, 4), st.integers(1, 4)).flatmap(
    lambda nkm: st.tuples(*[hnp.arrays(np.float64, shape, elements=st.floats(-3.0, 3.0))
                            for shape in ((nkm[0], nkm[1]), (nkm[1], nkm[2]),
                                          (nkm[0], nkm[2]))]))


@SETTINGS
@given(layer=layers)
def test_matmul_layer_gradients_are_x_transpose_g_and_g_w_transpose(layer):
    # seed 002's Matmul layer: h = x @ W, grad_W = x.T @ grad_h, grad_x = grad_h @ W.T
    x_value, w_value, grad_h = layer
    x, w = gradtrace.tensor(x_value, name="x"), gradtrace.tensor(w_value, name="W")
    h = x @ w
    (h * grad_h).sum().backward()  # d/dh of sum(h ⊙ grad_h) is grad_h
    np.testing.assert_allclose(w.grad, x_value.T @ grad_h, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(x.grad, grad_h @ w_value.T, rtol=1e-13, atol=1e-13)
