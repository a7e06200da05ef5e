"""For a vector output given an output gradient (Trace.grad_output), backprop differentiates
Σ grad_output ⊙ output; the symbolic and numeric checks differentiate that same number, so the
three ways agree (each expected gradient below is written by hand)."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

from gradtrace.checks.gradients import _output_scale, central_difference, check_gradients
from gradtrace.core.backprop import trace_graph
from gradtrace.expr.to_graph import graph_from_text as from_text


def checked(text: str, grad_output, **at):
    values = {k: np.asarray(v, dtype=np.float64) for k, v in at.items()}
    trace = trace_graph(from_text(text), values, grad_output=np.asarray(grad_output, dtype=float))
    return trace, {check.input: check for check in check_gradients(trace)}


def assert_three_ways(check, expected):
    assert check.status == "agree", check.note
    np.testing.assert_allclose(check.traced, expected, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(check.symbolic, expected, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(check.numeric, expected, rtol=1e-6, atol=1e-8)


def test_elementwise_product_weighted():
    x, y, w = np.array([1.0, 2.0, 3.0]), np.array([-0.5, 4.0, 2.0]), np.array([1.0, -2.0, 0.5])
    _, by_input = checked("x*y", w, x=x, y=y)
    assert_three_ways(by_input["x"], w * y)
    assert_three_ways(by_input["y"], w * x)


def test_softmax_first_element():
    a = np.array([0.5, -1.0, 2.0])
    s = np.exp(a) / np.exp(a).sum()
    _, by_input = checked("softmax(a)", [1.0, 0.0, 0.0], a=a)
    assert_three_ways(by_input["a"], s[0] * ((np.arange(3) == 0) - s))  # ∂s₀/∂a


def test_matrix_vector_product():
    W = np.array([[1.0, -2.0, 0.5], [3.0, 0.25, -1.0]])
    x, w = np.array([0.3, -0.7, 2.0]), np.array([2.0, -1.0])
    _, by_input = checked("W@x", w, W=W, x=x)
    assert_three_ways(by_input["W"], np.outer(w, x))
    assert_three_ways(by_input["x"], W.T @ w)


def test_a_matrix_output_with_a_broadcast_weight():
    W = np.array([[1.0, 2.0], [3.0, 4.0]])
    _, by_input = checked("tanh(W)", 3.0, W=W)
    assert_three_ways(by_input["W"], 3.0 / np.cosh(W) ** 2)


def test_a_wrong_weighted_gradient_is_still_caught():
    from dataclasses import replace

    x, y, w = np.array([1.0, 2.0]), np.array([3.0, 4.0]), np.array([1.0, -1.0])
    trace, _ = checked("x*y", w, x=x, y=y)
    summed = replace(trace, node_grads={**trace.node_grads, "x": y})  # as if w were ones
    assert {c.input: c.status for c in check_gradients(summed)}["x"] == "disagree"


def test_zero_weights_drop_their_elements():
    # element 1 of the output is 1e300²: inf; its weight is 0, so it is not differentiated
    x = np.array([2.0, 1e300])
    trace, by_input = checked("x*x", [1.0, 0.0], x=x)
    check = by_input["x"]
    assert float(check.numeric[0]) == pytest.approx(4.0, rel=1e-6)
    assert float(central_difference(trace.graph, {"x": x}, "x", grad_output=[1.0, 0.0])[0]) \
        == pytest.approx(4.0, rel=1e-6)


def test_the_tolerance_follows_the_weighted_terms():
    trace, _ = checked("x*1e6", [0.0, 1.0], x=[1.0, 2.0])
    assert _output_scale(trace) == 2e6
    trace, _ = checked("x*1e6", [1e-6, 1e-6], x=[1.0, 2.0])
    assert _output_scale(trace) == pytest.approx(2.0)


def test_explain_with_an_output_gradient_agrees_three_ways():
    from gradtrace.expr.pipeline import explain

    if "grad_output" not in inspect.signature(explain).parameters:
        pytest.skip("explain takes no grad_output yet")
    a = np.array([1.0, 2.0, 3.0])
    trace = explain("softmax(a)", {"a": a}, grad_output=[0.0, 1.0, 0.0])
    (check,) = trace.checks
    s = np.exp(a) / np.exp(a).sum()
    assert_three_ways(check, s[1] * ((np.arange(3) == 1) - s))
    assert trace.ok
