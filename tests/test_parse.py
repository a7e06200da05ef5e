"""gradtrace.expr.parse and gradtrace.expr.to_graph: the safe parser and the graph it lowers
to, random text that gives a graph or a ParseError and nothing else, and every registry op
written by name. (Graphs written back as text: test_graph.py.)

Expected graphs are written by hand from /work/shared/reference/worked-examples.md; expected
values from the math module on hand-written formulas.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gradtrace.core.backprop import evaluate, trace_graph
from gradtrace.core.errors import GradtraceError, ParseError, UsageError
from gradtrace.core.graph import Graph
from gradtrace.expr.parse import WRITTEN_AS
from gradtrace.expr.to_graph import graph_from_text as from_text
from gradtrace.ops import REGISTRY

SIGMOID = "1/(1+exp(-(w0*x0+w1*x1+w2)))"
WORKED_POINT = {"w0": 2.0, "x0": -1.0, "w1": -3.0, "x1": -2.0, "w2": -3.0}


def output_value(graph, at) -> float:
    return float(evaluate(graph, at)[graph.output])


def ops_of(graph) -> list[tuple[str, str, tuple[str, ...]]]:
    return [(node.id, node.op, node.inputs) for node in graph.ops]


def parse_error(text: str) -> ParseError:
    """The ParseError `text` raises (any other exception fails the test)."""
    with pytest.raises(ParseError) as caught:
        from_text(text)
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


def test_tower_of_powers_is_inf_not_a_huge_integer():
    graph = from_text("10**10**10")
    value = output_value(graph, {})
    assert value == math.inf
    assert all(isinstance(node.value, float) for node in graph.nodes if node.kind == "const")


# -- arrays: @, .T, indexing, reductions and keyword attributes ------------------------------


@pytest.mark.parametrize("text, expected", [
    ("W @ x", [("h1", "matmul", ("W", "x"), ())]),
    ("a + b @ c", [("h1", "matmul", ("b", "c"), ()), ("h2", "add", ("a", "h1"), ())]),
    ("a * b @ c", [("h1", "mul", ("a", "b"), ()), ("h2", "matmul", ("h1", "c"), ())]),
    ("a @ b * c", [("h1", "matmul", ("a", "b"), ()), ("h2", "mul", ("h1", "c"), ())]),
    ("x @ y @ z", [("h1", "matmul", ("x", "y"), ()), ("h2", "matmul", ("h1", "z"), ())]),
    ("x.T", [("h1", "transpose", ("x",), ())]),
    ("transpose(x)", [("h1", "transpose", ("x",), ())]),
    ("-x.T", [("h1", "transpose", ("x",), ()), ("h2", "neg", ("h1",), ())]),
    ("x.T**2", [("h1", "transpose", ("x",), ()), ("h2", "pow", ("h1", "2"), ())]),
    ("2**x[0]", [("h1", "index", ("x",), (("key", (0,)),)), ("h2", "pow", ("2", "h1"), ())]),
    ("x[1:3, 0]", [("h1", "index", ("x",), (("key", ((1, 3, None), 0)),))]),
    ("x[:, -1]", [("h1", "index", ("x",), (("key", ((None, None, None), -1)),))]),
    ("x[::-2]", [("h1", "index", ("x",), (("key", ((None, None, -2),)),))]),
    ("x[0][1]", [("h1", "index", ("x",), (("key", (0,)),)),
                 ("h2", "index", ("h1",), (("key", (1,)),))]),
    ("sum(x)", [("h1", "sum", ("x",), ())]),
    ("sum(x, axis=0)", [("h1", "sum", ("x",), (("axis", 0),))]),
    ("mean(x, axis=-1)", [("h1", "mean", ("x",), (("axis", -1),))]),
    ("sum(x, axis=(0, 1))", [("h1", "sum", ("x",), (("axis", (0, 1)),))]),
    ("sum(x, axis=None)", [("h1", "sum", ("x",), (("axis", None),))]),
    ("max(x)", [("h1", "amax", ("x",), ())]),
    ("max(x, y)", [("h1", "max", ("x", "y"), ())]),
    ("max(x, axis=0)", [("h1", "amax", ("x",), (("axis", 0),))]),
    ("min(x, axis=-1)", [("h1", "amin", ("x",), (("axis", -1),))]),
    ("reshape(x, 2, 3)", [("h1", "reshape", ("x",), (("shape", (2, 3)),))]),
    ("reshape(x, 2, -1)", [("h1", "reshape", ("x",), (("shape", (2, -1)),))]),
    ("softmax(z, axis=-1)", [("h1", "softmax", ("z",), (("axis", -1),))]),
    ("log_softmax(z)", [("h1", "log_softmax", ("z",), ())]),
    ("cross_entropy(z, t)", [("h1", "cross_entropy", ("z", "t"), ())]),
    ("mse(p, y)", [("h1", "mse", ("p", "y"), ())]),
])
def test_array_syntax_becomes_the_expected_nodes(text, expected):
    assert [(n.id, n.op, n.inputs, n.attrs) for n in from_text(text).ops] == expected


def test_shapes_that_do_not_fit_raise_a_shape_error_naming_the_node():
    graph = from_text("W @ x + b")
    with pytest.raises(UsageError) as caught:
        evaluate(graph, {"W": np.ones((2, 3)), "x": np.ones(2), "b": np.ones(2)})
    message = str(caught.value)
    assert message.startswith("h1 = ") and "cannot be computed" in message
    assert "W: (2, 3), x: (2,)" in message


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
    ("max(x,y,z)", {7, 8}, "max takes 1 or 2 arguments"),
    ("max()", {4}, "max takes 1 or 2 arguments"),
    ("mse(a, b, c)", {8}, "mse takes 2 arguments"),
    ("cross_entropy(z)", {15}, "2 arguments"),
    ("x.real", {1}, "x.T"),
    ("x..T", {1}, "x.T"),
    ("x[]", {2}, "slice such as 1:3"),
    ("x[1.5]", {2}, "whole numbers"),
    ("x[None]", {2}, "slice such as 1:3"),
    ("x[--1]", {3}, "whole number after '-'"),
    ("x[1", {3}, "expected ']'"),
    ("x @", {3}, "operand is missing"),
    ("@ x", {0}, "found '@'"),
    ("sum(x, axis=1.5)", {12}, "whole numbers"),
    ("sum(x, axis=)", {12}, "whole number"),
    ("sum(x, axis=0, axis=1)", {15}, "given twice"),
    ("sum(x, shape=2)", {7}, "sum takes axis="),
    ("exp(x, axis=0)", {7}, "exp takes no keyword arguments"),
    ("max(x, y, axis=0)", {10}, "max takes no keyword arguments"),
    ("transpose(x, axis=0)", {13}, "no keyword arguments"),
    ("reshape(x, y)", {9}, "reshape(a, 2, 3)"),
])
def test_mistakes_are_refused_with_a_helpful_message(text, positions, hint):
    error = parse_error(text)
    assert error.position in positions, error.message
    assert hint in error.message


def test_an_unclosed_bracket_is_named_as_a_bracket():
    # the '[' opened at position 2 (1-based), not a '('
    assert "'[' at position 2" in parse_error("x[1").message
    assert "'[' at position 2" in parse_error("x[1:2:3:4]").message


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


# -- random text: a Graph or a ParseError, nothing else --------------------------------------

expression_characters = "xyzT0123456789.e+-*/(), " + "^[]{}'\"=!@#$%&|<>;:_\\`~\t\n"
character_soup = st.text(alphabet=expression_characters, max_size=40)
tokens = st.sampled_from(["x", "y", "1", "2.5", "1e999", ".5", "+", "-", "*", "/", "**", "(",
                          ")", ",", " ", "exp", "max", "log", "sqrt", "relu", "h1", "_", "^",
                          "lambda", "if", ".", "'", "0", "@", ".T", "[", "]", ":", "-1", "=",
                          "axis", "None", "sum", "mean", "min", "reshape", "softmax",
                          "log_softmax", "mse", "cross_entropy", "transpose"])
token_soup = st.lists(tokens, max_size=25).map("".join)
any_text = st.text(max_size=60)
# every input gets this shape; 1.0, 2.0, ... in order, so no two elements tie
input_shapes = st.sampled_from([(), (3,), (2, 3)])


def parses_or_refuses(text: str, shape=()):
    """Parsing gives a Graph or a ParseError; evaluating it, values or a GradtraceError (a
    ShapeError for 0@0, an index out of range...); the backward pass then never raises."""
    try:
        graph = from_text(text)
    except ParseError as error:
        assert 0 <= error.position <= len(text)
        return
    assert isinstance(graph, Graph)
    size = int(np.prod(shape, dtype=np.int64))
    at = {name: np.arange(1.0, size + 1.0).reshape(shape) for name in graph.inputs}
    try:
        values = evaluate(graph, at)
    except GradtraceError:
        return
    trace_graph(graph, at, values=values)


@settings(max_examples=300, deadline=None)
@given(text=character_soup, shape=input_shapes)
def test_random_characters_give_a_graph_or_a_parse_error(text, shape):
    parses_or_refuses(text, shape)


@settings(max_examples=300, deadline=None)
@given(text=token_soup, shape=input_shapes)
def test_random_tokens_give_a_graph_or_a_parse_error(text, shape):
    parses_or_refuses(text, shape)


@settings(max_examples=200, deadline=None)
@given(text=any_text)
def test_arbitrary_text_gives_a_graph_or_a_parse_error(text):
    parses_or_refuses(text)


# -- every op of the registry, by name ----------------------------------------------------------


OP_NAMES = sorted(REGISTRY)
ARGUMENTS = ("x", "y", "z", "u", "v")  # enough for the op with most inputs (batch_norm_eval)


def call_text(name: str) -> str:
    op = REGISTRY[name]
    arguments = ", ".join(ARGUMENTS[: op.arity])
    return f"{op.user_name}({arguments})"


@pytest.mark.parametrize("name", [n for n in OP_NAMES if REGISTRY[n].callable_by_name])
def test_parser_accepts_every_callable_op_as_a_function(name):
    graph = from_text(call_text(name))
    assert [(node.op, node.inputs) for node in graph.ops] == [
        (name, ARGUMENTS[: REGISTRY[name].arity])]


@pytest.mark.parametrize("name", [n for n in OP_NAMES if not REGISTRY[n].callable_by_name])
def test_parser_refuses_operator_ops_written_as_calls(name):
    with pytest.raises(ParseError):
        from_text(call_text(name))


@pytest.mark.parametrize("written, lost_to", [("1e400", "inf"), ("-2.5e309", "inf"),
                                              ("1e-400", "0"), ("0.5e-330", "0")])
def test_a_number_float64_cannot_hold_is_refused_not_silently_changed(written, lost_to):
    from gradtrace.expr.point import parse_assignments

    if lost_to == "0":  # in an expression, 1e999 is how infinity is written (shown as ∞)
        with pytest.raises(ParseError) as caught:
            from_text(f"x*{written.lstrip('-')}")
        assert f"would be {lost_to}" in str(caught.value)
    with pytest.raises(UsageError) as caught:
        parse_assignments([f"x={written}"])
    assert f"would be {lost_to}" in str(caught.value) and caught.value.parameter == "at"


@pytest.mark.parametrize("written, value", [("0e5", 0.0), ("0.000", 0.0), ("1e308", 1e308),
                                            ("5e-324", 5e-324), ("inf", float("inf"))])
def test_numbers_float64_holds_are_read_as_written(written, value):
    from gradtrace.expr.point import parse_assignments

    assert float(parse_assignments([f"x={written}"])["x"]) == value


@pytest.mark.parametrize("written, advice", [
    ("x×y", "write * for a product"), ("x·y", "write * for a product"),
    ("x÷y", "write / for a division"), ("−x", "the keyboard's minus"),
    ("exp（x）", "not the full-width"), ("max(x，y)", "a comma without full width"),
    ("mse(a, b, reduction='sum')", "reduction=sum"),
])
def test_characters_copied_from_notes_get_the_spelling_to_type(written, advice):
    with pytest.raises(ParseError) as caught:
        from_text(written)
    assert advice in str(caught.value)
    assert written[caught.value.position] in "×·÷−（，'"


@pytest.mark.parametrize("written, plain", [
    ("1_000*x", "write 1000"), ("x + 2_500.5", "write 2500.5"), ("1.5e1_0*x", "write 1.5e10"),
    ("0.000_1*x", "write 0.0001"),
])
def test_digits_grouped_with_underscores_get_the_number_to_write(written, plain):
    with pytest.raises(ParseError) as caught:
        from_text(written)
    assert plain in str(caught.value) and "missing operator" not in str(caught.value)
    assert written[caught.value.position] == "_"


def test_a_name_with_an_underscore_after_a_digit_is_still_a_name():
    assert "x_1" in from_text("x_1 + 1").inputs


@pytest.mark.parametrize("written, advice, at", [
    ("１２*x", "write 1, not the full-width １", "１"),   # was read as 12 without a word
    ("x＋1", "write +, not the full-width ＋", "＋"),
    ("x＊2", "write *, not the full-width ＊", "＊"),
    ("2⋅x", "write * for a product", "⋅"),
    ("√x", "write sqrt(x) for √x", "√"),
    ("1__000*x", "write 1000", "_"),
    ("1_*x", "write 1", "_"),
])
def test_full_width_forms_and_math_symbols_get_the_spelling_to_type(written, advice, at):
    with pytest.raises(ParseError) as caught:
        from_text(written)
    assert advice in str(caught.value)
    assert written[caught.value.position] == at


@pytest.mark.parametrize("written, advice", [
    ("w＝2", "write =, not the full-width ＝"),
    ("w2", "for example w=2,x=-1"),  # no = at all: the general advice
])
def test_an_at_value_typed_with_a_full_width_sign_gets_the_spelling_to_type(written, advice):
    from gradtrace.expr.point import parse_assignments

    with pytest.raises(UsageError, match=re.escape(advice)):
        parse_assignments([written])


@pytest.mark.parametrize("written, says", [
    ("tan(x)", "gradtrace has no 'tan'; write sin(x)/cos(x)"),   # was: did you mean 'tanh'?
    ("sinh(x)", "write (exp(x) - exp(-x))/2"),                   # was: did you mean 'sin'?
    ("cosh(x)", "write (exp(x) + exp(-x))/2"),
    ("swish(x)", "write silu(x)"),
    ("atan(x)", "no inverse trigonometric functions"),           # was: did you mean 'tanh'?
])
def test_functions_gradtrace_lacks_are_not_mistaken_for_a_near_name(written, says):
    with pytest.raises(ParseError) as caught:
        from_text(written)
    assert says in str(caught.value) and "did you mean" not in str(caught.value)


@pytest.mark.parametrize("form", sorted(set(WRITTEN_AS.values())))
def test_every_form_offered_instead_parses(form):
    assert from_text(form.split(" (")[0]).inputs == ("x",)
