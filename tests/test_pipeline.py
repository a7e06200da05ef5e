"""gradtrace.expr.pipeline: text → graph → trace → checks, end to end. The issue's worked
examples against numbers computed by hand or by numpy code written here; and random
expressions — built from every registry op's form in op_cases.py, their text and their SymPy
expression written side by side by the tests — whose traced gradients and three-way checks
agree with SymPy's derivatives and finite differences.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import gradtrace
from gradtrace.checks.gradients import check_gradients
from gradtrace.core.backprop import trace_graph
from gradtrace.expr.pipeline import explain
from gradtrace.expr.to_graph import graph_from_text as from_text
from formulas import SYMBOLS, VARIABLES
from op_cases import random_expressions

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


# -- softmax cross-entropy, end to end -------------------------------------------------------


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


# -- random expressions: traced gradient = SymPy = finite differences ------------------------

MODERATE = 1e3  # larger values or gradients make finite differences unreliable: skipped
KINK_MARGIN = 1e-3  # closer than this to a kink, finite differences straddle it: skipped

points = st.fixed_dictionaries({name: st.floats(-2.0, 2.0) for name in VARIABLES})


def exact(expression, at: dict) -> float:
    replacements = {SYMBOLS[name]: sympy.Float(value, 30) for name, value in at.items()}
    value = sympy.sympify(expression).xreplace(replacements).evalf(30)
    return float(value) if value.is_real else math.nan


def moderate(value) -> bool:
    return bool(np.all(np.isfinite(value)) and np.all(np.abs(value) < MODERATE))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(formula=random_expressions, point=points)
def test_random_expression_gradients_match_sympy_and_finite_differences(formula, point):
    graph = from_text(formula.text)
    assert graph.inputs == formula.names
    at = {name: point[name] for name in graph.inputs}
    assume(all(abs(exact(k, at)) > KINK_MARGIN for k in formula.kink_distances))

    trace = trace_graph(graph, {name: np.asarray(v) for name, v in at.items()})
    assume(not trace.kinks)
    assume(all(moderate(record.value) for record in trace.nodes))
    assume(all(moderate(gradient) for gradient in trace.gradients.values()))

    assert trace.value == pytest.approx(exact(formula.sym, at), rel=1e-9, abs=1e-12)
    for name in graph.inputs:
        oracle = exact(sympy.diff(formula.sym, SYMBOLS[name]), at)
        assert trace.gradients[name] == pytest.approx(oracle, rel=1e-7, abs=1e-9), name

    for check in check_gradients(trace):
        assert check.status == "agree", (check.input, check)
        oracle = exact(sympy.diff(formula.sym, SYMBOLS[check.input]), at)
        assert float(check.numeric) == pytest.approx(oracle, rel=1e-5, abs=1e-6)
        assert float(check.symbolic) == pytest.approx(oracle, rel=1e-9, abs=1e-12)
