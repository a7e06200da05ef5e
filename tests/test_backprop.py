"""gradtrace.core.backprop: the engine's shared work — undoing broadcasting once for every op,
adding up fan-out, walking long chains without recursion — its backward steps as the notes
write them, and the lean VJP pass; checked end to end against numbers computed by hand or by
numpy code written here.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gradtrace
from gradtrace.core.backprop import evaluate, trace_graph, vjp_pass
from gradtrace.expr.pipeline import explain
from gradtrace.expr.to_graph import graph_from_text as from_text
from gradtrace.ops import REGISTRY

RNG = np.random.default_rng(3)


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


# -- fan-out and long chains -----------------------------------------------------------------


def test_fan_out_of_an_array_adds_the_gradients_of_every_use():
    x = np.array([[1.0, 2.0], [3.0, -1.0]])
    trace = trace_graph(from_text("sum(x * x.T + x)"), {"x": x})
    # d/dx[i,j] of Σ x[i,j]·x[j,i] + x[i,j] = 2·x[j,i] + 1
    np.testing.assert_array_equal(trace.gradients["x"], 2 * x.T + 1)
    arrivals = [step.arrival for step in trace.backward if step.input == "x"]
    assert arrivals == [1, 2, 3]


@settings(max_examples=30, deadline=None)
@given(x=st.floats(-10.0, 10.0))
def test_fan_out_gradients_add_up(x):
    trace = trace_graph(from_text("x*x*x"), {"x": np.asarray(x)})
    assert trace.gradients["x"] == pytest.approx(3 * x * x, rel=1e-12, abs=1e-300)
    arrivals = [step.arrival for step in trace.backward if step.input == "x"]
    assert arrivals == [1, 2, 3]


def test_ten_thousand_node_chain_backprops_without_recursion_error():
    x = gradtrace.tensor(1.5, name="x")
    z = x
    for _ in range(10_000):
        z = z * 1.0001 + 0
    trace = z.backward()
    assert len(trace.graph.ops) == 20_000
    assert float(x.grad) == pytest.approx(1.0001**10_000, rel=1e-9)
    assert trace.value == pytest.approx(1.5 * 1.0001**10_000, rel=1e-9)


# -- backward steps, the lean VJP pass, a traced conv net -----------------------------------


def test_matmul_steps_are_narrated_in_the_notes_notation():
    trace = explain("x @ W", at={"x": np.ones((4, 2)), "W": np.ones((2, 3))}, check=False,
                    grad_output=np.ones((4, 3)))
    formulas = {step.input: step.formula for step in trace.backward}
    assert formulas == {"W": "xᵀ · grad_h1", "x": "grad_h1 · Wᵀ"}


def test_vjp_pass_gives_the_traced_gradients():
    graph = from_text("sum(tanh(W@x + b))")
    point = {"W": RNG.standard_normal((3, 4)), "x": RNG.standard_normal(4), "b": 0.5}
    trace = trace_graph(graph, point)
    values = evaluate(graph, point)
    grads = vjp_pass(graph, values, 1.0, ("W", "x", "b"))
    for name in ("W", "x", "b"):
        np.testing.assert_allclose(grads[name], trace.gradients[name], rtol=1e-12)


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


@pytest.mark.parametrize("ways", ["numpy's context variable", "np.errstate"])
def test_ops_run_without_floating_point_warnings_and_restore_the_callers_setting(ways):
    from gradtrace.core import arrays

    start, end = ((arrays._errstate_start, arrays._errstate_end) if ways == "np.errstate" else
                  (arrays.quiet_start, arrays.quiet_end))
    before = np.geterr()
    with np.errstate(over="raise", invalid="warn"):
        token = start()
        assert set(np.geterr().values()) == {"ignore"}
        end(token)
        assert np.geterr()["over"] == "raise" and np.geterr()["invalid"] == "warn"
        big = gradtrace.tensor(np.array([1e38, -1.0], dtype=np.float32), requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a warning would fail the test
            squared = big * big  # overflows to inf: raised, were the caller's setting used
            logged = (big * 0.0 - 1.0).log()  # log of negatives: nan
        assert np.isinf(squared.value[0]) and np.isnan(logged.value).all()
    assert np.geterr() == before
