"""gradtrace.ops.arrays: what the per-op tests (test_per_op_*.py) cannot check by finite
differences — where a tie sends the gradient of max and min, the notes' formulas for softmax
cross-entropy and the Matmul layer, cross-entropy with a class of probability 0 — and max and
min over an empty batch.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import gradtrace
from gradtrace.ops import REGISTRY
from op_strategies import float_arrays

SETTINGS = settings(max_examples=40, deadline=None)


@pytest.mark.parametrize("name, expected", [
    ("amax", [[10.0, 0.0, 0.0], [0.0, 0.0, 20.0]]),  # row 0: 3 twice, the first wins
    ("amin", [[0.0, 10.0, 0.0], [20.0, 0.0, 0.0]]),  # row 1: 1 twice, the first wins
])
def test_max_and_min_reductions_give_a_tie_to_the_first_extreme_element(name, expected):
    op = REGISTRY[name]
    x = np.array([[3.0, 1.0, 3.0], [1.0, 1.0, 2.0]])
    out = op.evaluate((x,), {"axis": 1})
    assert op.at_kink((x,), {"axis": 1})
    (gradient,) = op.vjp(np.array([10.0, 20.0]), (x,), out, (True,), {"axis": 1})
    np.testing.assert_array_equal(gradient, expected)


@pytest.mark.parametrize("name", ["amax", "amin"])
def test_max_and_min_over_an_axis_of_an_empty_batch_give_empty_gradients(name):
    op = REGISTRY[name]
    x = np.zeros((0, 3))
    out = op.evaluate((x,), {"axis": 1})
    assert out.shape == (0,)
    (gradient,) = op.vjp(np.zeros(0), (x,), out, (True,), {"axis": 1})
    assert gradient.shape == (0, 3)
    assert op.jvp((np.ones((0, 3)),), (x,), out, {"axis": 1}).shape == (0,)


# -- the notes' formulas: softmax cross-entropy and the Matmul layer -------------------------


def numpy_softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


@st.composite
def classification_batches(draw):
    """(logits (N, C), class indices (N,)) with N in 1..5 and C in 2..5."""
    n, classes = draw(st.integers(1, 5)), draw(st.integers(2, 5))
    logits = draw(float_arrays((n, classes), st.floats(-10.0, 10.0)))
    labels = draw(hnp.arrays(np.int64, (n,), elements=st.integers(0, classes - 1)))
    return logits, labels


@SETTINGS
@given(batch=classification_batches(), one_hot=st.booleans())
def test_cross_entropy_gradient_is_softmax_minus_one_hot_over_batch(batch, one_hot):
    logits, labels = batch
    n, classes = logits.shape
    rows = np.eye(classes)[labels]
    target = rows if one_hot else labels.astype(np.float64)
    op = REGISTRY["cross_entropy"]
    out = op.evaluate((logits, target), {})
    expected_loss = -np.mean(np.log(numpy_softmax(logits))[np.arange(n), labels])
    np.testing.assert_allclose(out, expected_loss, rtol=1e-12, atol=1e-12)
    grad_logits, grad_target = op.vjp(np.asarray(1.0), (logits, target), out, (True, False))
    assert grad_target is None
    np.testing.assert_allclose(grad_logits, (numpy_softmax(logits) - rows) / n,
                               rtol=1e-12, atol=1e-15)


def test_cross_entropy_is_finite_when_another_class_has_no_chance():
    # log p = −∞ for class 1 must not meet a 0 from the one-hot rows: 0·(−∞) is nan
    z = gradtrace.tensor(np.array([[2.0, -np.inf, 0.0]]), name="z")
    loss = gradtrace.cross_entropy(z, np.array([0]))
    expected = -(2.0 - np.log(np.exp(2.0) + 1.0))
    assert loss.item() == pytest.approx(expected, rel=1e-15)
    loss.backward()
    p = np.exp([2.0, 0.0]) / (np.exp(2.0) + 1.0)
    np.testing.assert_allclose(z.grad, [[p[0] - 1.0, 0.0, p[1]]], rtol=1e-15)


matrix_layers = st.tuples(st.integers(1, 4), st.integers(1, 4), st.integers(1, 4)).flatmap(
    lambda nkm: st.tuples(float_arrays(nkm[:2]), float_arrays(nkm[1:]),
                          float_arrays((nkm[0], nkm[2]))))


@SETTINGS
@given(layer=matrix_layers)
def test_matmul_vjps_are_the_matmul_layer_of_the_notes(layer):
    # the notes' Matmul layer: h = x @ W, grad_W = x.T @ grad_h, grad_x = grad_h @ W.T
    x, w, grad_h = layer
    op = REGISTRY["matmul"]
    h = op.evaluate((x, w), {})
    grad_x, grad_w = op.vjp(grad_h, (x, w), h, (True, True))
    np.testing.assert_allclose(grad_w, x.T @ grad_h, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(grad_x, grad_h @ w.T, rtol=1e-13, atol=1e-13)
