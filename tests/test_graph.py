"""gradtrace.core.graph's `to_expression`: a graph written back as text parses to the same
graph and the same values — for hand-picked expressions (grouping, signs, powers, arrays,
attributes), for graphs the Python API records, and for random expressions built from every
registry op's form in op_cases.py.
"""

from __future__ import annotations

import math
from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gradtrace
from gradtrace.core.backprop import evaluate, trace_graph
from gradtrace.core import graph as graph_module
from gradtrace.core.graph import to_expression
from gradtrace.expr.to_graph import graph_from_text as from_text
from formulas import VARIABLES
from op_cases import random_expressions

SIGMOID = "1/(1+exp(-(w0*x0+w1*x1+w2)))"

ROUND_TRIP = [
    SIGMOID, "-x**2", "(-x)**2", "x - (y - z)", "(x - y) - z", "x/(y/z)", "(x/y)/z", "x/y/z",
    "x**y**z", "(x**y)**z", "2**-1*x", "x*-y", "-(x*y)", "-x*y", "1/(x*y)", "1/x/y",
    "max(x, y) - min(x, -y)", "x - -3", "(-3)**x", "--x", "-(-x)", "sqrt(log(1 + x*x))",
    "0.1*x + 1e-5 - 2.5e10*y", "relu(x) + abs(y) * sigmoid(z)", "tanh(sin(x)*cos(y))",
    "x**(1/y)", "(x + y)*(y - z)", "exp(-x)**2", "-(x + y)**-z",
    "x + (y + z)", "x*(y*z)", "x*(y/z)", "x*(1/y)", "x - (y + z)",
]


ARRAY_ROUND_TRIP = [
    ("W @ x + b", {"W": [[1.0, -2.0], [3.0, 4.0]], "x": [1.0, 2.0], "b": [0.5, -10.0]}),
    ("sum(relu(W@x+b))", {"W": [[1.0, -2.0], [3.0, 4.0]], "x": [1.0, 2.0], "b": [0.5, -10.0]}),
    ("x @ (y @ z)", {"x": [1.0, 2.0], "y": [[1.0, 2.0], [3.0, 4.0]], "z": [[0.5], [2.0]]}),
    ("(x - y) @ z", {"x": [1.0, 2.0], "y": [3.0, 5.0], "z": [[0.5], [2.0]]}),
    ("x/y @ z", {"x": [1.0, 2.0], "y": [3.0, 5.0], "z": [[0.5], [2.0]]}),
    ("x @ -y", {"x": [1.0, 2.0], "y": [3.0, 5.0]}),
    ("(x @ y).T", {"x": [[1.0, 2.0]], "y": [[3.0], [5.0]]}),
    ("(-x).T + x.T**2", {"x": [[1.0, 2.0, 3.0]]}),
    ("(x + y)[0] * x[1:, 0]", {"x": [[1.0], [2.0], [3.0]], "y": [[4.0], [5.0], [6.0]]}),
    ("(x**2)[::-1, -1]", {"x": [[1.0, 2.0], [3.0, 4.0]]}),
    ("(-3).T", {}),
    ("(2).T * x", {"x": [1.0, 2.0]}),
    ("(1e5).T * x", {"x": [1.0, 2.0]}),
    ("sum(x, axis=(0, 1)) + mean(x, axis=-1) - max(x) * min(x, axis=0)",
     {"x": [[1.0, 2.0], [3.0, 5.0]]}),
    ("reshape(x, 3, -1) @ softmax(y, axis=0)", {"x": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
                                               "y": [[1.0], [-1.0]]}),
    ("cross_entropy(z, t) + mse(log_softmax(z), 0)", {"z": [[1.0, 2.0], [0.5, -1.0]],
                                                      "t": [1.0, 0.0]}),
]


@pytest.mark.parametrize("text, at", ARRAY_ROUND_TRIP)
def test_to_expression_round_trips_array_expressions(text, at):
    graph = from_text(text)
    written = to_expression(graph)
    again = from_text(written)
    assert [(n.op, n.attrs) for n in again.ops] == [(n.op, n.attrs) for n in graph.ops], written
    point = {name: np.asarray(value) for name, value in at.items()}
    np.testing.assert_array_equal(evaluate(again, point)[again.output],
                                  evaluate(graph, point)[graph.output], err_msg=written)


def python_api_graphs():
    x = gradtrace.tensor(np.arange(6.0).reshape(2, 3), name="x")
    return [x.sum(axis=(0,)), x.sum(axis=(0, 1)), x.mean(axis=-1), x.max(axis=0), x.min(),
            x[1:2], x[:, 0], x[::-1, 2], x.T, x.reshape(3, 2), x @ x.T,
            gradtrace.softmax(x, axis=0), gradtrace.log_softmax(x)]


@pytest.mark.parametrize("index", range(len(python_api_graphs())))
def test_expressions_of_python_api_graphs_parse_back(index):
    # the expression a trace built with gradtrace.tensor carries (JSON, titles) is parseable
    output = python_api_graphs()[index]
    trace = output.backward(gradient=gradtrace.ones_like(output))  # PyTorch's rule for arrays
    again = from_text(trace.graph.expression)
    assert [(n.op, n.attrs) for n in again.ops] == [(n.op, n.attrs) for n in trace.graph.ops]


@pytest.mark.parametrize("text", ROUND_TRIP)
def test_to_expression_round_trips(text):
    graph = from_text(text)
    written = to_expression(graph)
    again = from_text(written)
    assert again.inputs == graph.inputs, written
    assert [node.op for node in again.ops] == [node.op for node in graph.ops], written
    # the last point makes grouping visible: (1e16 + -1e16) + 1 is 1, 1e16 + (-1e16 + 1) is 0
    for at in ({"x": 0.7, "y": -1.3, "z": 1.9}, {"x": 2.5, "y": 0.4, "z": -0.6},
               {"x": 1e16, "y": -1e16, "z": 1.0}):
        point = {name: at.get(name, 1.0) for name in graph.inputs}
        np.testing.assert_array_equal(evaluate(again, point)[again.output],
                                      evaluate(graph, point)[graph.output], err_msg=written)


points = st.fixed_dictionaries({name: st.floats(-2.0, 2.0) for name in VARIABLES})


@settings(max_examples=40, deadline=None)
@given(formula=random_expressions, point=points)
def test_to_expression_round_trips_random_expressions(formula, point):
    graph = from_text(formula.text)
    # past MAX_SUBEXPRESSION characters a sub-expression is written as its node's name (a
    # title stays short); with no such limit, everything is written out
    with mock.patch.object(graph_module, "MAX_SUBEXPRESSION", math.inf):
        written = to_expression(graph)
    again = from_text(written)
    assert [node.op for node in again.ops] == [node.op for node in graph.ops], written
    at = {name: np.asarray(point[name]) for name in graph.inputs}
    np.testing.assert_array_equal(trace_graph(again, at).value, trace_graph(graph, at).value)


def test_fractional_hyper_parameters_are_written_in_expressions():
    graph = from_text("sum(leaky_relu(x, negative_slope=0.2) + elu(x, alpha=-1.5)"
                      " + dropout(x, m, p=0.25))")
    assert {node.op: dict(node.attrs) for node in graph.ops if node.attrs} == {
        "leaky_relu": {"negative_slope": 0.2}, "elu": {"alpha": -1.5}, "dropout": {"p": 0.25}}
    assert from_text(to_expression(graph)).ops == graph.ops
