"""The three-way check does not fail correct work: near a domain's edge, next to an overflow,
and where the function bends on a scale far from 1, the finite differences still find the
derivative (written by hand in each case below), and a check that cannot be done says
"not checked, because ..." and does not fail the command."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import numpy as np
import pytest
from typer.testing import CliRunner

from gradtrace.checks import gradients as checks
from gradtrace.checks import symbolic
from gradtrace.checks.gradients import central_difference, check_gradients
from gradtrace.cli import app
from gradtrace.core.backprop import trace_graph
from gradtrace.expr.to_graph import graph_from_text as from_text

runner = CliRunner()

T = [0, 0, 1, 0, 0, 0, 0, 0, 0, 0]
Y = [0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0]  # 《深度学习入门》's y: zeros in it


def checked(text: str, **at):
    trace = trace_graph(from_text(text), {k: np.asarray(v, dtype=np.float64)
                                          for k, v in at.items()})
    return trace, {check.input: check for check in check_gradients(trace)}


def run(*args):
    return runner.invoke(app, list(args), env={"NO_COLOR": "1"})


def test_cross_entropy_of_the_book_with_zeros_in_y_agrees():
    trace, by_input = checked("-sum(t*log(y+1e-7))", t=T, y=Y)
    assert {name: check.status for name, check in by_input.items()} == {"t": "agree",
                                                                       "y": "agree"}
    y, t = np.array(Y), np.array(T, dtype=float)
    np.testing.assert_allclose(by_input["y"].numeric, -t / (y + 1e-7), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(by_input["t"].numeric, -np.log(y + 1e-7), rtol=1e-5)
    assert float(trace.value) == pytest.approx(-math.log(0.6 + 1e-7))
    assert trace.with_checks(by_input.values()).ok


def test_the_books_example_exits_0_from_the_command_line():
    result = run("explain", "--at", f"t={T}".replace(" ", ""), "--at",
                 f"y={Y}".replace(" ", ""), "--format", "json", "--", "-sum(t*log(y+1e-7))")
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["value"] == pytest.approx(0.5108254, rel=1e-6)


@pytest.mark.parametrize("text, x, slope", [
    ("log(x)", 1e-8, lambda x: 1 / x),
    ("log(x)", 1e-30, lambda x: 1 / x),
    ("sqrt(x)", 1e-12, lambda x: 0.5 / math.sqrt(x)),
    ("sqrt(1 - x**2)", 1 - 1e-9, lambda x: -x / math.sqrt(1 - x * x)),
    ("x**1.5", 1e-7, lambda x: 1.5 * math.sqrt(x)),
    ("x**0.5 + log(x)", 2e-9, lambda x: 0.5 / math.sqrt(x) + 1 / x),
    ("1/(x - 1)", 1 + 1e-8, lambda x: -1 / (x - 1) ** 2),  # a pole nearer than the first step
    ("log(x) / x", 3e-9, lambda x: (1 - math.log(x)) / x ** 2),
    ("log(x) + log(1 - x)", 1 - 1e-9, lambda x: 1 / x - 1 / (1 - x)),
])
def test_domain_edges_agree(text, x, slope):
    _, by_input = checked(text, x=x)
    check = by_input["x"]
    assert check.status == "agree", check.note
    assert float(check.numeric) == pytest.approx(slope(x), rel=1e-5, abs=1e-6)


@pytest.mark.parametrize("text, x, slope", [
    ("exp(x)", 709.78, lambda x: math.exp(x)),
    ("exp(2*x)/4", 354.89, lambda x: math.exp(2 * x) / 2),
    ("exp(x - 1)", 710.7, lambda x: math.exp(x - 1)),
    ("exp(x) + x", 709.5, lambda x: math.exp(x) + 1),
])
def test_overflow_edges_agree(text, x, slope):
    trace, by_input = checked(text, x=x)
    check = by_input["x"]
    assert check.status == "agree", check.note
    assert float(check.numeric) == pytest.approx(slope(x), rel=1e-5)
    assert trace.with_checks(by_input.values()).ok


@pytest.mark.parametrize("text, x, slope", [
    ("tanh(x*1e10)", 1e-10, lambda x: 1e10 / math.cosh(1e10 * x) ** 2),
    ("sin(1e8*x)", 1e-8, lambda x: 1e8 * math.cos(1e8 * x)),
    ("sigmoid(1e9*x)", 2e-9, lambda x: 1e9 * math.exp(-1e9 * x) / (1 + math.exp(-1e9 * x)) ** 2),
    ("tanh(1e6*(x - 3))", 3 + 1e-6, lambda x: 1e6 / math.cosh(1e6 * (x - 3)) ** 2),
    ("exp(-x*x*1e12)", 1e-6, lambda x: -2e12 * x * math.exp(-1e12 * x * x)),
])
def test_badly_scaled_functions_agree(text, x, slope):
    _, by_input = checked(text, x=x)
    check = by_input["x"]
    assert check.status == "agree", check.note
    assert float(check.numeric) == pytest.approx(slope(x), rel=1e-5)


def test_a_wrong_gradient_is_still_caught_where_the_step_had_to_adapt():
    for text, x in (("tanh(x*1e10)", 1e-10), ("log(x)", 1e-30), ("exp(x)", 709.78)):
        trace = trace_graph(from_text(text), {"x": np.asarray(x)})
        wrong = trace.node_grads["x"] * (1 + 1e-3)
        (check,) = check_gradients(replace(trace, node_grads={**trace.node_grads, "x": wrong}))
        assert check.status == "disagree", (text, check)


def test_central_difference_is_inside_the_domain():
    graph = from_text("log(y + 1e-7)")
    assert float(central_difference(graph, {"y": np.asarray(0.0)}, "y")) == pytest.approx(
        1e7, rel=1e-5)


# -- "not checked": a status of its own, never a failure -------------------------------------

def test_nothing_to_compare_is_not_checked_and_not_a_failure(monkeypatch):
    # No time left for the small steps tanh(x*1e10) needs, and none for SymPy either: no leg
    # can give a value, so the check says why instead of failing
    monkeypatch.setattr(checks, "_extra_evaluations", lambda trace, plan: 0)
    monkeypatch.setattr(symbolic, "SYMBOLIC_WORK_LIMIT", 1)
    trace, by_input = checked("tanh(x*1e10)", x=1e-10)
    check = by_input["x"]
    assert check.status == "not checked"
    assert check.note.startswith("because the finite differences had not settled")
    assert "symbolic check skipped: SymPy would take longer than 2 s" in check.note
    assert trace.with_checks(by_input.values()).ok


def test_a_leg_that_cannot_be_done_is_named_and_the_other_decides(monkeypatch):
    monkeypatch.setattr(checks, "_extra_evaluations", lambda trace, plan: 0)
    _, by_input = checked("tanh(x*1e10)", x=1e-10)
    check = by_input["x"]
    assert check.status == "agree"  # SymPy's value agrees
    assert float(check.symbolic) == pytest.approx(1e10 / math.cosh(1.0) ** 2, rel=1e-12)
    assert check.note.startswith("numeric not checked, because")


def test_not_checked_is_shown_with_its_reason(monkeypatch):
    from gradtrace.narrate.story import gradients_section

    monkeypatch.setattr(checks, "_extra_evaluations", lambda trace, plan: 0)
    monkeypatch.setattr(symbolic, "SYMBOLIC_WORK_LIMIT", 1)
    trace, by_input = checked("tanh(x*1e10)", x=1e-10)
    section = gradients_section(trace.with_checks(by_input.values()), 2)
    (row,) = section.blocks[0].rows
    assert row[-1].startswith("not checked, because the finite differences had not settled")


def test_some_elements_not_checked_are_listed(monkeypatch):
    # elements 0 and 2 need the small steps there is no time for; 1 and 3 do not
    monkeypatch.setattr(checks, "_extra_evaluations", lambda trace, plan: 0)
    _, by_input = checked("sum(tanh(x*1e10))", x=[1e-10, 1.0, 2e-10, 5.0])
    check = by_input["x"]
    assert check.status == "agree"  # SymPy agrees everywhere, finite differences at [1], [3]
    assert "numeric not checked for 2 of 4 elements ([0], [2]), because" in check.note
    assert np.isnan(check.numeric[[0, 2]]).all() and (check.numeric[[1, 3]] == 0).all()
    monkeypatch.setattr(symbolic, "SYMBOLIC_ELEMENT_LIMIT", 0)  # now without SymPy, too
    _, by_input = checked("sum(tanh(x*1e10))", x=[1e-10, 1.0, 2e-10, 5.0])
    assert by_input["x"].status == "agree"  # what could be compared agrees


def test_check_at_random_points_counts_not_checked_apart(monkeypatch):
    from gradtrace.checks.random_points import check_graph_at_random_points
    from gradtrace.narrate.random_points import check_sections

    graph = from_text("tanh(x*1e10)")
    report = check_graph_at_random_points(graph, 4, low=-2e-10, high=2e-10)
    assert report.inputs[0].counts["agree"] == 4 and report.ok
    (section,) = check_sections(report)
    assert "not checked" not in section.blocks[0].columns  # no such point: no such column
    monkeypatch.setattr(checks, "_extra_evaluations", lambda trace, plan: 0)
    monkeypatch.setattr(symbolic, "SYMBOLIC_WORK_LIMIT", 1)
    report = check_graph_at_random_points(graph, 4, low=-2e-10, high=2e-10)
    assert report.inputs[0].counts["not checked"] == 4 and report.ok
    (section,) = check_sections(report)
    table = section.blocks[0]
    assert table.rows[0][table.columns.index("not checked")] == "4"
