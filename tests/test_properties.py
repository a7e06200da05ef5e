"""Property tests: random expressions through parser + engine, checked against SymPy.

A random expression is built as a `Formula`: its text (fed to the parser) and its SymPy
expression (the oracle) are written side by side from the same tree, by the code in this file,
never by gradtrace's own `lower` rules. Arguments are made valid by construction (log(1 + a**2),
a / (1 + b**2), positive bases with exponents in [-1, 1]), so most examples are usable; the rest
are skipped with `assume`. Array ops appear on one-element arrays (reshape(a, 1) @ reshape(b, 1)
is a·b), so every expression stays a scalar SymPy can check.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pytest
import sympy
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import gradtrace
from gradtrace.core.errors import GradtraceError, ParseError
from gradtrace.core.backprop import evaluate, trace_graph
from gradtrace.checks.gradients import check_gradients
from gradtrace.expr.pipeline import explain
from gradtrace.core.graph import Graph, to_expression
from gradtrace.expr.to_graph import graph_from_text as from_text
from gradtrace.ops import REGISTRY

VARIABLES = ("x", "y", "z")
SYMBOLS = {name: sympy.Symbol(name, real=True) for name in VARIABLES}
MODERATE = 1e3  # larger values or gradients make finite differences unreliable: skipped
KINK_MARGIN = 1e-3  # closer than this to a kink, finite differences straddle it: skipped

SIGMOID = "1/(1+exp(-(w0*x0+w1*x1+w2)))"
WORKED_POINT = {"w0": 2.0, "x0": -1.0, "w1": -3.0, "x1": -2.0, "w2": -3.0}
WORKED_GRADIENTS = {"w0": -0.19661193324148185, "x0": 0.3932238664829637,
                    "w1": -0.3932238664829637, "x1": -0.5898357997244456,
                    "w2": 0.19661193324148185}
WORKED_VALUE = 0.7310585786300049


# -- formulas: text and SymPy built together -------------------------------------------------


@dataclass(frozen=True)
class Formula:
    text: str  # fully parenthesised, for the parser
    sym: object  # the same expression in SymPy, for the oracle
    names: tuple[str, ...]  # variables in order of first appearance in `text`
    kink_distances: tuple = ()  # SymPy expressions that are 0 exactly at a kink

    def __repr__(self) -> str:
        return f"Formula({self.text!r})"


def _merge(*formulas: Formula) -> dict:
    names: list[str] = []
    for formula in formulas:
        names += [name for name in formula.names if name not in names]
    kinks = tuple(k for formula in formulas for k in formula.kink_distances)
    return {"names": tuple(names), "kink_distances": kinks}


def call(name: str, *args: Formula, sym, kink=None) -> Formula:
    merged = _merge(*args)
    if kink is not None:
        merged["kink_distances"] += (kink,)
    return Formula(f"{name}({', '.join(a.text for a in args)})", sym, **merged)


def infix(a: Formula, symbol: str, b: Formula, sym) -> Formula:
    return Formula(f"({a.text}) {symbol} ({b.text})", sym, **_merge(a, b))


def positive(a: Formula) -> Formula:
    """1 + a**2: at least 1, smooth everywhere."""
    return Formula(f"(1 + ({a.text})**2)", 1 + a.sym**2, **_merge(a))


def bounded(a: Formula) -> Formula:
    """sin(a): in [-1, 1], for exponents."""
    return call("sin", a, sym=sympy.sin(a.sym))


# One entry per registry op: how to write it, safely, in text and in SymPy.
FORMS = {
    "add": lambda a, b: infix(a, "+", b, a.sym + b.sym),
    "sub": lambda a, b: infix(a, "-", b, a.sym - b.sym),
    "mul": lambda a, b: infix(a, "*", b, a.sym * b.sym),
    "div": lambda a, b: infix(a, "/", positive(b), a.sym / (1 + b.sym**2)),
    "reciprocal": lambda a: Formula(f"1/{positive(a).text}", 1 / (1 + a.sym**2), **_merge(a)),
    "pow": lambda a, b: infix(positive(a), "**", bounded(b), (1 + a.sym**2) ** sympy.sin(b.sym)),
    "neg": lambda a: Formula(f"-({a.text})", -a.sym, **_merge(a)),
    "exp": lambda a: call("exp", a, sym=sympy.exp(a.sym)),
    "log": lambda a: call("log", positive(a), sym=sympy.log(1 + a.sym**2)),
    "sqrt": lambda a: call("sqrt", positive(a), sym=sympy.sqrt(1 + a.sym**2)),
    "sin": lambda a: call("sin", a, sym=sympy.sin(a.sym)),
    "cos": lambda a: call("cos", a, sym=sympy.cos(a.sym)),
    "tanh": lambda a: call("tanh", a, sym=sympy.tanh(a.sym)),
    "sigmoid": lambda a: call("sigmoid", a, sym=1 / (1 + sympy.exp(-a.sym))),
    "relu": lambda a: call("relu", a, sym=sympy.Piecewise((a.sym, a.sym > 0), (0, True)),
                           kink=a.sym),
    "abs": lambda a: call("abs", a, sym=sympy.Abs(a.sym), kink=a.sym),
    "max": lambda a, b: call("max", a, b, sym=sympy.Max(a.sym, b.sym), kink=a.sym - b.sym),
    "min": lambda a, b: call("min", a, b, sym=sympy.Min(a.sym, b.sym), kink=a.sym - b.sym),
    # array ops, on one-element arrays
    "matmul": lambda a, b: Formula(f"reshape({a.text}, 1) @ reshape({b.text}, 1)",
                                   a.sym * b.sym, **_merge(a, b)),
    "transpose": lambda a: Formula(f"({a.text}).T", a.sym, **_merge(a)),
    "reshape": lambda a: Formula(f"reshape({a.text}, 1, 1)[0, 0]", a.sym, **_merge(a)),
    "index": lambda a: Formula(f"reshape({a.text}, 1)[-1]", a.sym, **_merge(a)),
    "sum": lambda a: Formula(f"sum(reshape({a.text}, 1, 1), axis=(0, 1))", a.sym, **_merge(a)),
    "mean": lambda a: Formula(f"mean(reshape({a.text}, 1), axis=-1)", a.sym, **_merge(a)),
    "amax": lambda a: call("max", a, sym=a.sym),  # one argument: the reduction
    "amin": lambda a: Formula(f"min(reshape({a.text}, 1, 1), axis=None)", a.sym, **_merge(a)),
    # softmax of one element is 1 whatever it is: the gradient through it is 0
    "softmax": lambda a: Formula(f"softmax(reshape({a.text}, 1), axis=0)[0]", sympy.Integer(1),
                                 **_merge(a)),
    "log_softmax": lambda a: Formula(f"log_softmax(reshape({a.text}, 1))[0]", sympy.Integer(0),
                                     **_merge(a)),
    "mse": lambda a, b: call("mse", a, b, sym=(a.sym - b.sym) ** 2),
    "cross_entropy": lambda a: Formula(f"cross_entropy(reshape({a.text}, 1), 0)",
                                       sympy.Integer(0), **_merge(a)),
    # layers, on one-element arrays too
    "linear": lambda a, b, c: Formula(
        f"linear(reshape({a.text}, 1), reshape({b.text}, 1, 1), reshape({c.text}, 1))[0]",
        a.sym * b.sym + c.sym, **_merge(a, b, c)),
    "leaky_relu": lambda a: call("leaky_relu", a, sym=sympy.Piecewise(
        (a.sym, a.sym > 0), (sympy.Rational(1, 100) * a.sym, True)), kink=a.sym),
    # alpha = 1: the slope is continuous at 0 but the curvature jumps, which finite
    # differences straddling 0 feel
    "elu": lambda a: call("elu", a, sym=sympy.Piecewise(
        (a.sym, a.sym > 0), (sympy.exp(a.sym) - 1, True)), kink=a.sym),
    "softplus": lambda a: call("softplus", a, sym=sympy.log(1 + sympy.exp(a.sym))),
    "conv2d": lambda a, b, c: Formula(
        f"conv2d(reshape({a.text}, 1, 1, 1, 1), reshape({b.text}, 1, 1, 1, 1), "
        f"reshape({c.text}, 1), padding=1)[0, 0, 1, 1]", a.sym * b.sym + c.sym,
        **_merge(a, b, c)),
    "im2col": lambda a: Formula(f"im2col(reshape({a.text}, 1, 1, 1, 1), kernel=(1, 1))[0, 0, 0, 0]",
                                a.sym, **_merge(a)),
    "max_pool2d": lambda a: Formula(
        f"max_pool2d(reshape({a.text}, 1, 1, 1, 1), kernel=1)[0, 0, 0, 0]", a.sym, **_merge(a)),
    "avg_pool2d": lambda a: Formula(
        f"avg_pool2d(reshape({a.text}, 1, 1, 1, 1), kernel=1)[0, 0, 0, 0]", a.sym, **_merge(a)),
    # a batch of one: x̂ = 0 whatever x is, so the output is beta
    "batch_norm": lambda a, b, c: Formula(
        f"batch_norm(reshape({a.text}, 1, 1), reshape({b.text}, 1), reshape({c.text}, 1))[0, 0]",
        c.sym, **_merge(a, b, c)),
    "batch_norm_eval": lambda a, b, c: Formula(
        f"batch_norm_eval(reshape({a.text}, 1, 1), reshape({b.text}, 1), reshape({c.text}, 1), "
        f"reshape(0.5, 1), reshape(2, 1))[0, 0]",
        b.sym * (a.sym - sympy.Rational(1, 2)) / sympy.sqrt(2 + sympy.Float(1e-5, 30)) + c.sym,
        **_merge(a, b, c)),
    "dropout": lambda a: Formula(f"dropout({a.text}, 1)", 2 * a.sym, **_merge(a)),
    "flatten": lambda a: Formula(f"flatten(reshape({a.text}, 1, 1))[0]", a.sym, **_merge(a)),
}


def test_every_registry_op_has_a_form_here():
    assert sorted(FORMS) == sorted(REGISTRY)


# forms whose data inputs (targets, masks, running statistics) are constants
DATA_INPUTS = {"cross_entropy": 1, "dropout": 1, "batch_norm_eval": 2}


def arity(name: str) -> int:
    """How many random sub-expressions a form takes (data inputs are constants)."""
    return REGISTRY[name].arity - DATA_INPUTS.get(name, 0)


# -- strategies ------------------------------------------------------------------------------

variables = st.sampled_from(VARIABLES).map(lambda name: Formula(name, SYMBOLS[name], (name,)))
constants = st.sampled_from(["0.5", "1", "2", "3"]).map(
    lambda text: Formula(text, sympy.Rational(text), ()))
leaves = variables | variables | constants


def _apply(name: str):
    count = arity(name)
    return lambda children: st.tuples(*[children] * count).map(lambda args: FORMS[name](*args))


def extend(children):
    return st.one_of([_apply(name)(children) for name in sorted(FORMS)])


formulas = st.recursive(leaves, extend, max_leaves=6)
points = st.fixed_dictionaries({name: st.floats(-2.0, 2.0) for name in VARIABLES})

expression_characters = "xyzT0123456789.e+-*/(), " + "^[]{}'\"=!@#$%&|<>;:_\\`~\t\n"
character_soup = st.text(alphabet=expression_characters, max_size=40)
tokens = st.sampled_from(["x", "y", "1", "2.5", "1e999", ".5", "+", "-", "*", "/", "**", "(",
                          ")", ",", " ", "exp", "max", "log", "sqrt", "relu", "h1", "_", "^",
                          "lambda", "if", ".", "'", "0", "@", ".T", "[", "]", ":", "-1", "=",
                          "axis", "None", "sum", "mean", "min", "reshape", "softmax",
                          "log_softmax", "mse", "cross_entropy", "transpose"])
token_soup = st.lists(tokens, max_size=25).map("".join)
any_text = st.text(max_size=60)


# -- the oracle ------------------------------------------------------------------------------


def exact(expression, at: dict) -> float:
    replacements = {SYMBOLS[name]: sympy.Float(value, 30) for name, value in at.items()}
    value = sympy.sympify(expression).xreplace(replacements).evalf(30)
    return float(value) if value.is_real else math.nan


def moderate(value) -> bool:
    return bool(np.all(np.isfinite(value)) and np.all(np.abs(value) < MODERATE))


# -- random expressions: traced gradient = SymPy = finite differences ------------------------


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(formula=formulas, point=points)
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


@settings(max_examples=40, deadline=None)
@given(formula=formulas, point=points)
def test_to_expression_round_trips_random_expressions(formula, point):
    graph = from_text(formula.text)
    written = to_expression(graph)
    again = from_text(written)
    assert [node.op for node in again.ops] == [node.op for node in graph.ops], written
    at = {name: np.asarray(point[name]) for name in graph.inputs}
    np.testing.assert_array_equal(trace_graph(again, at).value, trace_graph(graph, at).value)


# -- random text: a Graph or a ParseError, nothing else --------------------------------------

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


# -- fan-out and long chains -----------------------------------------------------------------


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


# -- the Python API and --fuse on the worked example -----------------------------------------


def test_python_api_reproduces_the_worked_example():
    leaves = {name: gradtrace.tensor(value, name=name) for name, value in WORKED_POINT.items()}
    w0, x0, w1, x1, w2 = (leaves[name] for name in ("w0", "x0", "w1", "x1", "w2"))
    y = 1 / (1 + gradtrace.exp(-(w0 * x0 + w1 * x1 + w2)))
    trace = y.backward()
    assert trace.value == pytest.approx(WORKED_VALUE, rel=1e-15)
    for name, expected in WORKED_GRADIENTS.items():
        assert float(leaves[name].grad) == pytest.approx(expected, rel=1e-12), name
        assert trace.gradients[name] == pytest.approx(expected, rel=1e-12), name
    parsed = from_text(SIGMOID)
    assert [node.op for node in trace.graph.ops] == [node.op for node in parsed.ops]


def test_fuse_gives_one_sigmoid_gate_with_the_same_gradients():
    unfused = explain(SIGMOID, WORKED_POINT, check=False)
    fused = explain(SIGMOID, WORKED_POINT, fuse=True, check=False)
    sigmoid_nodes = [node for node in fused.graph.ops if node.op == "sigmoid"]
    assert len(sigmoid_nodes) == 1
    assert [node.op for node in fused.graph.ops] == ["mul", "mul", "add", "add", "sigmoid"]
    (step,) = [s for s in fused.backward if s.node == sigmoid_nodes[0].id]
    assert float(step.local) == pytest.approx(0.19661193324148185, rel=1e-15)
    assert fused.value == unfused.value
    for name, gradient in unfused.gradients.items():
        # the same numbers up to rounding: the chains of products differ in order
        assert fused.gradients[name] == pytest.approx(gradient, rel=1e-12), name
        assert fused.gradients[name] == pytest.approx(WORKED_GRADIENTS[name], rel=1e-12), name
