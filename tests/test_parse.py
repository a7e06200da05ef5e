"""The safe parser and the graph it lowers to.

Expected graphs are written by hand from /work/shared/reference/worked-examples.md; expected
values from the math module on hand-written formulas.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

from gradtrace.errors import ParseError
from gradtrace.tracer.backprop import evaluate, trace_graph
from gradtrace.tracer.graph import from_text, to_expression

SIGMOID = "1/(1+exp(-(w0*x0+w1*x1+w2)))"
WORKED_POINT = {"w0": 2.0, "x0": -1.0, "w1": -3.0, "x1": -2.0, "w2": -3.0}
QUICK = 1.0  # seconds of CPU time: "well under a second" with room for a loaded machine


def output_value(graph, at) -> float:
    return float(evaluate(graph, at)[graph.output])


def ops_of(graph) -> list[tuple[str, str, tuple[str, ...]]]:
    return [(node.id, node.op, node.inputs) for node in graph.ops]


def parse_error(text: str) -> ParseError:
    """The ParseError `text` raises (any other exception fails the test), timed."""
    start = time.process_time()
    with pytest.raises(ParseError) as caught:
        from_text(text)
    assert time.process_time() - start < QUICK, "refusing took too long"
    return caught.value


# -- the worked example ----------------------------------------------------------------------


def test_sigmoid_example_lowers_to_the_worked_example_graph():
    graph = from_text(SIGMOID)
    assert graph.inputs == ("w0", "x0", "w1", "x1", "w2")
    assert [(node_id, op) for node_id, op, _ in ops_of(graph)] == [
        ("h1", "mul"), ("h2", "mul"), ("h3", "add"), ("h4", "add"),
        ("h5", "neg"), ("h6", "exp"), ("h7", "add"), ("h8", "reciprocal"),
    ]
    wiring = {node_id: inputs for node_id, _, inputs in ops_of(graph)}
    assert wiring["h1"] == ("w0", "x0")
    assert wiring["h2"] == ("w1", "x1")
    assert wiring["h3"] == ("h1", "h2")
    assert wiring["h4"] == ("h3", "w2")
    assert wiring["h5"] == ("h4",)
    assert wiring["h6"] == ("h5",)
    assert sorted(wiring["h7"]) == ["1", "h6"]
    assert graph.by_id["1"].kind == "const" and graph.by_id["1"].value == 1.0
    assert wiring["h8"] == ("h7",)
    assert graph.output == "h8"


def test_sigmoid_example_forward_values_match_the_table():
    values = evaluate(from_text(SIGMOID), WORKED_POINT)
    e = math.exp(-1.0)
    expected = {"h1": -2.0, "h2": 6.0, "h3": 4.0, "h4": 1.0, "h5": -1.0,
                "h6": e, "h7": 1.0 + e, "h8": 1.0 / (1.0 + e)}
    for node_id, value in expected.items():
        assert float(values[node_id]) == pytest.approx(value, rel=1e-15), node_id
    assert float(values["h8"]) == pytest.approx(0.7310585786300049, rel=1e-15)


# -- what becomes which node -----------------------------------------------------------------


@pytest.mark.parametrize("text, expected", [
    ("a - b", [("h1", "sub", ("a", "b"))]),
    ("1/x", [("h1", "reciprocal", ("x",))]),
    ("1.0/x", [("h1", "reciprocal", ("x",))]),
    ("2/x", [("h1", "div", ("2", "x"))]),
    ("-x**2", [("h1", "pow", ("x", "2")), ("h2", "neg", ("h1",))]),
    ("(-x)**2", [("h1", "neg", ("x",)), ("h2", "pow", ("h1", "2"))]),
    ("x**y**z", [("h1", "pow", ("y", "z")), ("h2", "pow", ("x", "h1"))]),
    ("x - y - z", [("h1", "sub", ("x", "y")), ("h2", "sub", ("h1", "z"))]),
])
def test_operators_become_the_expected_nodes(text, expected):
    assert ops_of(from_text(text)) == expected


def test_negative_number_is_a_constant_not_a_negation_gate():
    graph = from_text("-3")
    assert graph.ops == ()
    assert graph.output == "-3"
    assert graph.by_id["-3"].kind == "const" and graph.by_id["-3"].value == -3.0
    assert ops_of(from_text("x*-3")) == [("h1", "mul", ("x", "-3"))]


def test_variable_used_twice_is_one_input_with_two_consumers():
    graph = from_text("sin(x) + cos(x)")
    assert graph.inputs == ("x",)
    assert [node.id for node in graph.nodes if node.id == "x"] == ["x"]
    assert graph.consumers["x"] == ("h1", "h2")


def test_inputs_come_in_order_of_first_use():
    assert from_text("b*a + c - a*b").inputs == ("b", "a", "c")


def test_negative_exponent_parses():
    graph = from_text("2**-1")
    assert ops_of(graph) == [("h1", "pow", ("2", "-1"))]
    assert output_value(graph, {}) == 0.5


def test_tower_of_powers_is_inf_quickly_not_a_huge_integer():
    start = time.process_time()
    graph = from_text("10**10**10")
    value = output_value(graph, {})
    assert time.process_time() - start < QUICK
    assert value == math.inf
    assert all(isinstance(node.value, float) for node in graph.nodes if node.kind == "const")


# -- hostile and mistaken input: ParseError, quickly, pointing at the problem ----------------


@pytest.mark.parametrize("text, positions", [
    ("__import__('os').system('echo x')", {0, 10, 11}),
    ("().__class__.__bases__", {1, 2}),
    ("lambda: 1", {0, 6}),
    ("x.real", {1}),
    ("[x for x in y]", {0}),
    ("x if y else z", {2}),
    ("", {0}),
    ("   ", {0, 1, 2, 3}),
])
def test_hostile_input_is_refused_with_a_position(text, positions):
    error = parse_error(text)
    assert error.position in positions, error.message


def test_deep_nesting_is_refused_inside_the_parentheses():
    text = "(" * 200 + "x" + ")" * 200
    error = parse_error(text)
    assert error.position < 200 and text[error.position] == "("
    assert "nested" in error.message


def test_99_nested_parentheses_parse():
    graph = from_text("(" * 99 + "x" + ")" * 99)
    assert graph.inputs == ("x",) and graph.output == "x"


@pytest.mark.parametrize("text, positions, hint", [
    ("x^2", {1}, "**"),
    ("2x", {0, 1}, "2*x"),
    ("expp(x)", {0}, "did you mean 'exp'"),
    ("exp", {0}, "exp("),
    ("max(x)", {4, 5}, "2 arguments"),
    ("max(x,y,z)", {7, 8}, "2 arguments"),
])
def test_mistakes_are_refused_with_a_helpful_message(text, positions, hint):
    error = parse_error(text)
    assert error.position in positions, error.message
    assert hint in error.message


def test_non_text_is_a_parse_error():
    with pytest.raises(ParseError):
        from_text(123)


def test_caret_points_at_the_problem():
    assert parse_error("x + 2y").caret().splitlines()[:2] == ["x + 2y", "     ^"]


# -- size limits -----------------------------------------------------------------------------


def test_100_kilobyte_expression_is_refused_quickly():
    parse_error("+".join(["x"] * 50000))


def test_long_acceptable_expression_parses_to_a_graph():
    graph = from_text("+".join(["x"] * 2000))
    assert len(graph.ops) == 1999
    assert graph.consumers["x"][:2] == ("h1", "h1")
    assert output_value(graph, {"x": 1.5}) == 3000.0


# -- names -----------------------------------------------------------------------------------


@pytest.mark.parametrize("text, value, d_h1", [
    ("h1*x + 1", 2 * 3 + 1, 3.0),
    ("h1*v2 + 1", 2 * 3 + 1, 3.0),
    ("h1 + v1 + u3*node4 + 1", 2 + 3 + 4 * 5 + 1, 1.0),
])
def test_variables_named_like_op_nodes_do_not_clash(text, value, d_h1):
    graph = from_text(text)
    op_ids = [node.id for node in graph.ops]
    assert len(set(op_ids)) == len(op_ids)
    assert not set(op_ids) & set(graph.inputs)
    at = {name: float(i + 2) for i, name in enumerate(graph.inputs)}  # 2, 3, 4, 5 in order
    assert output_value(graph, at) == value
    assert trace_graph(graph, at).gradients["h1"] == d_h1


def test_variable_named_inf_is_not_the_constant_inf():
    # 1e999 is the float inf; its constant node must not be confused with an input called inf
    graph = from_text("inf * 1e999")
    assert graph.inputs == ("inf",)
    assert output_value(graph, {"inf": 2.0}) == math.inf
    assert trace_graph(graph, {"inf": 2.0}).gradients["inf"] == math.inf


# -- writing a graph back as text ------------------------------------------------------------

ROUND_TRIP = [
    SIGMOID, "-x**2", "(-x)**2", "x - (y - z)", "(x - y) - z", "x/(y/z)", "(x/y)/z", "x/y/z",
    "x**y**z", "(x**y)**z", "2**-1*x", "x*-y", "-(x*y)", "-x*y", "1/(x*y)", "1/x/y",
    "max(x, y) - min(x, -y)", "x - -3", "(-3)**x", "--x", "-(-x)", "sqrt(log(1 + x*x))",
    "0.1*x + 1e-5 - 2.5e10*y", "relu(x) + abs(y) * sigmoid(z)", "tanh(sin(x)*cos(y))",
    "x**(1/y)", "(x + y)*(y - z)", "exp(-x)**2", "-(x + y)**-z",
    "x + (y + z)", "x*(y*z)", "x*(y/z)", "x*(1/y)", "x - (y + z)",
]


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
