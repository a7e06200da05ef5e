"""The three-way gradient check: statuses, finite differences, default points, stable output."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from gradtrace.core.backprop import trace_graph
from gradtrace.core.steps import all_finite
from gradtrace.checks.gradients import central_difference, check_gradients
from gradtrace.checks.symbolic import SYMBOLIC_OP_LIMIT
from gradtrace.expr.pipeline import explain
from gradtrace.expr.to_graph import graph_from_text as from_text
from gradtrace.expr.point import default_value

SIGMOID = "1/(1+exp(-(w0*x0+w1*x1+w2)))"
WORKED_POINT = {"w0": 2.0, "x0": -1.0, "w1": -3.0, "x1": -2.0, "w2": -3.0}


def statuses(trace) -> dict[str, str]:
    return {check.input: check.status for check in trace.checks}


def test_sigmoid_example_agrees_three_ways():
    trace = explain(SIGMOID, WORKED_POINT)
    assert statuses(trace) == {name: "agree" for name in WORKED_POINT}
    by_input = {check.input: check for check in trace.checks}
    # df/dw0 = σ(1-σ)·x0 = 0.19661193324148185 × (-1)
    assert float(by_input["w0"].symbolic) == pytest.approx(-0.19661193324148185, rel=1e-15)
    assert float(by_input["w0"].numeric) == pytest.approx(-0.19661193324148185, rel=1e-6)
    assert trace.ok


def test_relu_at_zero_is_a_kink_not_a_failure():
    trace = explain("relu(x)", {"x": 0.0})
    assert statuses(trace) == {"x": "kink"}
    assert "relu'(0) = 0" in trace.checks[0].note
    assert trace.gradients == {"x": 0.0}
    assert trace.ok


def test_max_tie_is_a_kink_for_both_inputs():
    trace = explain("max(x, y)", {"x": 1.25, "y": 1.25})
    assert statuses(trace) == {"x": "kink", "y": "kink"}
    assert trace.gradients == {"x": 1.0, "y": 0.0}
    assert trace.ok


def test_kink_below_other_ops_is_still_a_kink():
    trace = explain("3*relu(x*y) + y", {"x": 0.0, "y": 2.0})
    assert statuses(trace)["x"] == "kink"


def test_log_of_negative_number_is_not_finite():
    trace = explain("log(x)", {"x": -1.0})
    assert statuses(trace) == {"x": "not finite"}
    assert not trace.ok


def test_wrong_gradient_is_reported_as_disagree():
    trace = trace_graph(from_text("x*x"), {"x": np.asarray(3.0)})
    tampered = replace(trace, node_grads={**trace.node_grads, "x": np.asarray(7.0)})
    (check,) = check_gradients(tampered)
    assert check.status == "disagree"
    assert float(check.symbolic) == 6.0
    assert float(check.numeric) == pytest.approx(6.0, rel=1e-8)


@pytest.mark.parametrize("text, x, expected", [
    ("x**3", 2.0, 12.0),               # 3x²
    ("sin(x)", 0.5, 0.8775825618903728),  # cos(0.5)
    ("exp(x)*x", 1.0, 5.43656365691809),  # (1+x)e^x = 2e
])
def test_central_difference_matches_hand_derivative(text, x, expected):
    graph = from_text(text)
    assert float(central_difference(graph, {"x": np.asarray(x)}, "x")) == pytest.approx(
        expected, rel=1e-8)


def test_central_difference_works_elementwise_on_arrays():
    graph = from_text("x*x")
    at = {"x": np.array([1.0, -2.0, 0.5])}
    np.testing.assert_allclose(central_difference(graph, at, "x"), [2.0, -4.0, 1.0], rtol=1e-8)


def test_symbolic_check_is_skipped_for_huge_graphs_with_a_note():
    text = "+".join(["sin(x)"] * (SYMBOLIC_OP_LIMIT // 2 + 1))
    trace = explain(text, {"x": 0.3})
    (check,) = trace.checks
    assert check.symbolic is None
    assert "skipped" in check.note
    assert check.status == "agree"


# -- default points and byte-stable output ---------------------------------------------------


def test_default_values_are_deterministic_and_depend_on_name_and_seed():
    assert default_value("x") == default_value("x")
    assert default_value("x", seed=3) == default_value("x", seed=3)
    assert len({default_value(name) for name in ("w", "x", "y", "z", "b")}) == 5
    assert default_value("x", seed=0) != default_value("x", seed=1)
    for name in ("w", "x", "y", "z", "b", "long_name"):
        value = default_value(name)
        assert 0.1 <= abs(value) <= 2.0
        assert round(value, 2) == value


def test_defaults_do_not_move_when_a_variable_is_added():
    alone = explain("x", check=False)
    with_more = explain("x + y*z", check=False)
    assert alone.defaults == ("x",)
    assert with_more.defaults == ("x", "y", "z")
    assert alone.by_id["x"].value == with_more.by_id["x"].value == default_value("x")


def test_json_is_byte_identical_across_calls():
    first = explain(SIGMOID, WORKED_POINT).to_json()
    second = explain(SIGMOID, WORKED_POINT).to_json()
    assert first == second
    assert explain("x*y + relu(z)").to_json() == explain("x*y + relu(z)").to_json()


@pytest.mark.parametrize("array, expected", [
    (np.full(4, 1e308), True),  # the sum overflows, yet every element is finite
    (np.float32([3e38, 3e38]), True),
    (np.array([1.0, np.inf]), False),
    (np.array([np.nan, 1.0]), False),
    (np.array([np.inf, -np.inf]), False),  # the sum is nan
    (np.asarray(-np.inf), False),
])
def test_all_finite_screens_by_the_sum_without_being_fooled_by_overflow(array, expected):
    assert all_finite(array) is expected


def test_past_the_time_budget_the_rest_is_checked_along_a_random_direction(monkeypatch):
    from gradtrace.checks import gradients as checks

    monkeypatch.setattr(checks, "NUMERIC_SECONDS", 2e-4)  # a budget far below 930 elements
    rng = np.random.default_rng(3)
    trace = trace_graph(from_text("sum(tanh(W@x))"),
                        {"W": rng.standard_normal((30, 30)), "x": rng.standard_normal(30)})
    plan = checks.numeric_plan(trace)
    assert plan["W"] is not None and 1 <= len(plan["W"]) < 900 and plan["W"][0] == 0
    assert plan["x"] is not None and plan["x"][-1] == 29  # spread over W's elements, then x's
    wrt_w, wrt_x = check_gradients(trace)
    assert (wrt_w.status, wrt_x.status) == ("agree", "agree") and wrt_w.numeric is None
    assert f"numeric: {len(plan['W'])} of 900 elements one by one, the other " in wrt_w.note
    left_out = next(i for i in range(900) if i not in set(plan["W"]))
    grad = trace.node_grads["W"].copy()
    grad.ravel()[left_out] += 0.1  # wrong only where no one-by-one difference looks
    assert check_gradients(replace(trace, node_grads={**trace.node_grads, "W": grad}))[0].status == \
        "disagree"


def test_the_time_budget_counts_the_multiply_adds_of_products():
    from gradtrace.checks import gradients as checks

    rng = np.random.default_rng(0)
    small = trace_graph(from_text("sum(x @ y)"), {"x": rng.standard_normal((4, 5)),
                                                  "y": rng.standard_normal((5, 6))})
    assert checks._multiply_adds(small) == 4 * 6 * 5
    layer = trace_graph(from_text("sum(linear(x, W, b))"), {
        "x": rng.standard_normal((3, 7)), "W": rng.standard_normal((2, 7)),
        "b": rng.standard_normal(2)})
    assert checks._multiply_adds(layer) == 3 * 2 * 7
    conv = trace_graph(from_text("sum(conv2d(x, W, b))"), {
        "x": rng.standard_normal((1, 1, 5, 5)), "W": rng.standard_normal((2, 1, 3, 3)),
        "b": rng.standard_normal(2)})
    assert checks._multiply_adds(conv) == (2 * 3 * 3) * (1 * 3 * 3)  # outputs × window
    # a 1000×1000 product: 3 million numbers, but a billion multiply-adds a run; counted by
    # its numbers alone it had been given 333 runs (55 s of silence at 3000×3000)
    big = trace_graph(from_text("sum(x @ y)"), {"x": rng.standard_normal((1000, 1000)),
                                                "y": rng.standard_normal((1000, 1000))})
    assert checks._affordable_runs(big) <= 20
    assert checks.numeric_plan(big)["x"] is not None  # not every element one by one


def test_inputs_left_out_entirely_are_still_checked(monkeypatch):
    from gradtrace.checks import gradients as checks

    monkeypatch.setattr(checks, "NUMERIC_SECONDS", 1e-4)
    expression = " + ".join(f"x{i}*y{i}" for i in range(20))
    at = {f"{v}{i}": float(i + 1) * (1 if v == "x" else -0.5) for i in range(20) for v in "xy"}
    trace = trace_graph(from_text(expression), {k: np.asarray(v) for k, v in at.items()})
    plan = checks.numeric_plan(trace)
    skipped = [name for name, elements in plan.items() if elements is not None and not len(elements)]
    assert skipped, plan
    by_input = {check.input: check for check in check_gradients(trace)}
    assert all(check.status == "agree" for check in by_input.values())
    assert "numeric: along one random direction" in by_input[skipped[0]].note
    wrong = replace(trace, node_grads={**trace.node_grads, skipped[0]: trace.node_grads[skipped[0]] + 1.0})
    assert {check.input: check.status for check in check_gradients(wrong)}[skipped[0]] == \
        "disagree"


def test_a_power_tower_skips_the_symbolic_check_instead_of_running_out_of_memory():
    # 3**3**3**3 has trillions of digits: SymPy's exact value of it cannot be held
    trace = explain("x**x**x**x**x", at={"x": 3})
    assert "SymPy ran out of memory on numbers too large to write out" in " ".join(
        trace.to_text().split())
    assert not trace.finite


@pytest.mark.parametrize("at", [{"x": 0.0, "y": 2.0}, {"x": 0.0, "y": 0.0}])
def test_a_symbolic_formula_undefined_where_the_gradient_is_not_gives_no_disagreement(at):
    # SymPy writes d(x**y)/dx as x**y*y/x: 0/0 at x = 0, where the gradient is 0 (as PyTorch,
    # and as the finite differences say); the check must not call that a disagreement
    trace = explain("x**y", at=at)
    assert trace.ok
    x_check = trace.checks[0]
    assert x_check.input == "x" and x_check.status == "agree"
    assert "SymPy's formula is undefined here" in str(x_check.note)
    assert "disagree" not in {check.status for check in trace.checks}


def test_a_symbolic_value_that_differs_is_still_a_disagreement():
    from gradtrace.checks.gradients import _verdict
    from gradtrace.checks.finite_differences import Differences

    found = Differences(np.array(1.0), {})
    check = _verdict("x", np.array(1.0), "2", np.array(2.0), found, None, "", 1.0)
    assert check.status == "disagree"
