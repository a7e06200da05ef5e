"""The per-op table (op_cases.py) covers the registry, and each row keeps its promises: points
the op accepts, the edge shapes it declares, a random-expression form that uses the op and
moves with each of its sub-expressions, an example that uses the op.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from gradtrace.core.backprop import sum_to
from gradtrace.expr.to_graph import graph_from_text as from_text
from gradtrace.ops import REGISTRY
from formulas import Formula
from op_cases import OP_CASES, edge_case, edge_cases_declared, row_for

OP_NAMES = sorted(REGISTRY)
EDGES = edge_cases_declared()


def test_every_registry_op_has_a_row_and_every_row_an_op():
    assert sorted(OP_CASES) == OP_NAMES, (
        "tests/op_cases.py needs exactly one row per registry op: "
        f"missing {sorted(set(REGISTRY) - set(OP_CASES))}, "
        f"unknown {sorted(set(OP_CASES) - set(REGISTRY))}")


@pytest.mark.parametrize("name", OP_NAMES)
@settings(max_examples=20, deadline=None)
@given(data=st.data())
def test_each_row_draws_points_the_op_accepts_away_from_its_kinks(name, data):
    op, row = REGISTRY[name], row_for(name)
    inputs, attrs = data.draw(row.cases, label="case")
    assert len(inputs) == op.arity
    assert set(attrs) <= set(op.attrs), "attributes the op does not have"
    assert all(isinstance(x, np.ndarray) for x in inputs)
    assert not op.at_kink(inputs, attrs)
    with np.errstate(over="raise", divide="raise", invalid="raise"):  # no inf, no nan
        out = op.evaluate(inputs, attrs)
    assert np.all(np.isfinite(out))
    if op.elementwise:
        assert len(row.elements) == op.arity, "one element strategy per input"
        assert set(data.draw(row.attributes)) <= set(op.attrs)


@pytest.mark.parametrize("name, edge", EDGES)
def test_each_row_draws_the_edge_shapes_it_declares(name, edge):
    case = edge_case(name, edge)
    op = REGISTRY[name]
    out = op.evaluate(case.inputs, case.attrs)
    gradients = op.vjp(np.ones_like(out), case.inputs, out,
                       tuple(op.takes_gradient(i) for i in range(op.arity)), case.attrs)
    for x, gradient in zip(case.inputs, gradients):
        if gradient is not None:
            assert sum_to(gradient, x.shape).shape == x.shape


def fresh_children():
    """child() for a form: a new variable v0, v1... each time, so each can be told apart."""
    made: list[Formula] = []

    def child() -> Formula:
        name = f"v{len(made)}"
        made.append(Formula(name, sympy.Symbol(name, real=True), (name,)))
        return made[-1]

    return child, made


@pytest.mark.parametrize("name", OP_NAMES)
@settings(max_examples=10, deadline=None)
@given(data=st.data())
def test_each_form_uses_its_op_and_moves_with_each_sub_expression(name, data):
    # a form whose value is constant (softmax of one element is 1) proves nothing
    child, made = fresh_children()
    formula = row_for(name).form(data.draw, child)
    graph = from_text(formula.text)
    assert name in [node.op for node in graph.ops]
    assert graph.inputs == formula.names == tuple(v.text for v in made)
    for variable in made:
        assert sympy.diff(formula.sym, variable.sym) != 0, variable.text


@pytest.mark.parametrize("name", OP_NAMES)
def test_each_example_uses_its_op(name):
    graph = from_text(row_for(name).example.text)
    assert name in [node.op for node in graph.ops]
