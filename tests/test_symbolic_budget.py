"""The SymPy leg keeps to a budget: expressions too deep or too large for SymPy are skipped
with a note (the same note, bytes and all, on every run), never a failure or a crash of the
command, and never a minute-long wait; expressions within the budget are still checked."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest
from typer.testing import CliRunner

from gradtrace.checks import gradients, symbolic
from gradtrace.checks.gradients import check_gradients
from gradtrace.checks.symbolic import (SYMBOLIC_DEPTH_LIMIT, SYMBOLIC_SECONDS,
                                       SYMBOLIC_WORK_LIMIT, symbolic_leg)
from gradtrace.cli import app
from gradtrace.core.backprop import trace_graph
from gradtrace.expr.to_graph import graph_from_text as from_text

runner = CliRunner()
A = np.array([1.0, 2.0, 3.0])


def nested(op: str, inner: str, depth: int) -> str:
    for _ in range(depth):
        inner = f"{op}({inner})"
    return inner


def checked(text: str, **at):
    trace = trace_graph(from_text(text), {k: np.asarray(v, dtype=np.float64)
                                          for k, v in at.items()})
    return {check.input: check for check in check_gradients(trace)}


def run(*args):
    return runner.invoke(app, list(args), env={"NO_COLOR": "1"})


def test_the_symbolic_budget_is_the_numeric_one():
    assert SYMBOLIC_SECONDS == gradients.NUMERIC_SECONDS


@pytest.mark.parametrize("text, at", [
    (nested("sigmoid", "x", 30), {"x": 0.5}),
    (nested("sigmoid", "x", 60), {"x": 0.5}),
    (nested("tanh", "x", 99), {"x": 0.3}),
    (nested("sin", "x", 95), {"x": 0.3}),
    ("x" + "*(1+x" * 95 + ")" * 95, {"x": 0.01}),
])
def test_deep_nesting_is_skipped_with_a_note(text, at):
    (check,) = checked(text, **at).values()
    assert check.symbolic is None and check.symbolic_expr is None
    assert "symbolic check skipped: too deeply nested for SymPy" in check.note
    assert check.status == "agree"  # finite differences still check it


@pytest.mark.parametrize("depth, size", [(5, 3), (6, 3), (6, 4), (4, 6), (8, 3)])
def test_nested_softmax_is_skipped_within_the_time_budget(depth, size):
    started = time.perf_counter()
    (check,) = checked(f"sum({nested('softmax', 'a', depth)})",
                       a=np.arange(1.0, size + 1)).values()
    assert time.perf_counter() - started < 4 * SYMBOLIC_SECONDS
    assert check.symbolic is None
    assert f"symbolic check skipped: SymPy would take longer than {SYMBOLIC_SECONDS:g} s" in \
        check.note
    assert check.status == "agree"


def test_a_large_matrix_chain_is_skipped_within_the_time_budget():
    rng = np.random.default_rng(0)
    started = time.perf_counter()
    by_input = checked("sum(softmax(softmax(softmax(W@x))))", W=rng.standard_normal((4, 4)),
                       x=rng.standard_normal(4))
    assert time.perf_counter() - started < 4 * SYMBOLIC_SECONDS
    assert all("would take longer" in check.note for check in by_input.values())


@pytest.mark.parametrize("text, at", [
    (f"sum({nested('softmax', 'a', 3)})", {"a": A}),
    (nested("sigmoid", "x", 20), {"x": 0.5}),
    ("sum(tanh(W@x))", {"W": np.arange(6.0).reshape(2, 3) / 10, "x": A}),
])
def test_within_the_budget_sympy_still_checks(text, at):
    for check in checked(text, **at).values():
        assert check.symbolic is not None, check.note
        assert "skipped" not in check.note
        assert check.status == "agree"


def test_the_verdict_is_the_same_on_every_run():
    text = f"sum({nested('softmax', 'a', 6)})"
    first = [check.note for check in checked(text, a=A).values()]
    second = [check.note for check in checked(text, a=A).values()]
    assert first == second
    deep = nested("sigmoid", "x", 30)
    assert checked(deep, x=0.5)["x"].note == checked(deep, x=0.5)["x"].note


def test_a_recursion_error_inside_sympy_is_a_note_not_a_crash(monkeypatch):
    # with the depth limit lifted, SymPy's own recursion gives out: the last resort catches it
    monkeypatch.setattr(symbolic, "SYMBOLIC_DEPTH_LIMIT", 10**6)
    (check,) = checked(nested("sigmoid", "x", 90), x=0.5).values()
    assert check.note.startswith("symbolic check skipped: too deeply nested for SymPy")
    assert check.status == "agree"


def test_the_work_estimate_scales_with_the_derivatives(monkeypatch):
    trace = trace_graph(from_text(f"sum({nested('softmax', 'a', 3)})"), {"a": A})
    assert symbolic_leg(trace)[1] == ""
    monkeypatch.setattr(symbolic, "SYMBOLIC_WORK_LIMIT", 1000)  # below three softmaxes' work
    derivatives, note = symbolic_leg(trace)
    assert derivatives == {} and "would take longer" in note


def test_large_numbers_do_not_send_the_printer_into_trigsimp():
    # simplify would expand cos(10⁸·x) as a polynomial of degree 10⁸
    started = time.perf_counter()
    (check,) = checked("sin(1e8*x)", x=1e-8).values()
    assert time.perf_counter() - started < 4 * SYMBOLIC_SECONDS  # (it ran out of memory)
    assert check.symbolic_expr == "100000000*cos(100000000*x)"
    assert check.status == "agree"


def test_limits_are_documented_numbers():
    assert SYMBOLIC_DEPTH_LIMIT * 8 < 1000  # SymPy's ~8 frames per level inside Python's limit
    assert SYMBOLIC_WORK_LIMIT == int(SYMBOLIC_SECONDS * symbolic.NODES_PER_SECOND)


# -- from the command line: exit 0, the note shown, same bytes twice -------------------------

def test_thirty_nested_sigmoids_exit_0_with_the_note():
    result = run("explain", nested("sigmoid", "x", 30), "--at", "x=0.5", "--format", "json")
    assert result.exit_code == 0, result.output
    check = json.loads(result.output)["checks"]["x"]
    assert check["status"] == "agree"
    assert "too deeply nested for SymPy" in check["note"]


def test_six_nested_softmaxes_exit_0_quickly_and_byte_stably():
    args = ("explain", f"sum({nested('softmax', 'a', 6)})", "--at", "a=[1,2,3]", "--format",
            "text")
    started = time.perf_counter()
    first = run(*args)
    assert time.perf_counter() - started < 4 * SYMBOLIC_SECONDS
    assert first.exit_code == 0, first.output
    assert "symbolic check" in first.output and "skipped" in first.output
    assert run(*args).output == first.output


def test_check_at_random_points_with_deep_nesting_exits_0():
    result = run("check", nested("sigmoid", "x", 30), "--samples", "3", "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert "too deeply nested for SymPy" in report["symbolic_note"]
    assert report["inputs"][0]["counts"]["agree"] == 3
