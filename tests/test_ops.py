"""Every registry op, checked against numbers it did not compute itself.

Each test is parametrised over `REGISTRY`, so a new op is tested as soon as it is declared. Points
are drawn with hypothesis, by construction away from kinks and domain edges (see `INPUTS`); an op
with no entry there gets positive inputs in [0.2, 3].

Oracles: central finite differences of `op.forward` (written here, not the engine's), an explicit
Jacobian built from them, and SymPy differentiating `op.lower`.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from gradtrace.errors import ParseError
from gradtrace.tracer.graph import from_text
from gradtrace.tracer.ops import REGISTRY, functions

OP_NAMES = sorted(REGISTRY)
SETTINGS = settings(max_examples=40, deadline=None)

# Finite differences: step balancing truncation against rounding; tolerances to match.
STEP = np.finfo(np.float64).eps ** (1 / 3)
FD_RTOL, FD_ATOL = 1e-6, 1e-8

# -- inputs by construction ------------------------------------------------------------------

moderate = st.floats(-3.0, 3.0)
positive = st.floats(0.2, 3.0)
nonzero = st.builds(lambda size, sign: size * sign, positive, st.sampled_from([-1.0, 1.0]))
small_exponent = st.floats(-2.5, 2.5)
wide = st.floats(-8.0, 8.0)


@st.composite
def separated_pair(draw):
    """(a, b) at least 0.2 apart, in either order: no max/min tie within a finite-difference
    step."""
    a = draw(moderate)
    gap = draw(st.floats(0.2, 2.0))
    sign = draw(st.sampled_from([-1.0, 1.0]))
    return a, a + sign * gap


INPUTS = {
    "add": st.tuples(moderate, moderate),
    "sub": st.tuples(moderate, moderate),
    "mul": st.tuples(moderate, moderate),
    "div": st.tuples(moderate, nonzero),
    "reciprocal": st.tuples(nonzero),
    "pow": st.tuples(positive, small_exponent),
    "neg": st.tuples(moderate),
    "exp": st.tuples(moderate),
    "log": st.tuples(positive),
    "sqrt": st.tuples(positive),
    "sin": st.tuples(moderate),
    "cos": st.tuples(moderate),
    "tanh": st.tuples(moderate),
    "sigmoid": st.tuples(wide),
    "relu": st.tuples(nonzero),
    "abs": st.tuples(nonzero),
    "max": separated_pair(),
    "min": separated_pair(),
}


def inputs_for(name: str):
    """A strategy for one valid point of op `name`: a tuple of floats, one per input."""
    op = REGISTRY[name]
    return INPUTS.get(name, st.tuples(*[positive] * op.arity))


# -- helpers ---------------------------------------------------------------------------------


def as_arrays(point) -> tuple[np.ndarray, ...]:
    return tuple(np.asarray(x, dtype=np.float64) for x in point)


def finite_difference(op, point, index: int) -> float:
    """d forward / d input[index] at `point`, by a central difference."""
    x = float(point[index])
    h = STEP * max(1.0, abs(x))
    plus, minus = list(point), list(point)
    plus[index], minus[index] = x + h, x - h
    f_plus = float(op.forward(*as_arrays(plus)))
    f_minus = float(op.forward(*as_arrays(minus)))
    return (f_plus - f_minus) / ((x + h) - (x - h))


def assert_close(actual, expected, rtol=FD_RTOL, atol=FD_ATOL):
    np.testing.assert_allclose(np.asarray(actual, dtype=np.float64), expected,
                               rtol=rtol, atol=atol)


@functools.lru_cache(maxsize=None)
def sympy_form(name: str):
    """(symbols, the op's SymPy lowering, its derivative by each symbol)."""
    op = REGISTRY[name]
    symbols = sympy.symbols("a b", real=True)[: op.arity]
    expression = op.lower(sympy, *symbols)
    derivatives = tuple(sympy.diff(expression, symbol) for symbol in symbols)
    return symbols, expression, derivatives


def sympy_value(expression, symbols, point) -> float:
    replacements = {s: sympy.Float(float(x), 30) for s, x in zip(symbols, point)}
    return float(expression.xreplace(replacements).evalf(30))


# -- (a) local derivatives against finite differences ------------------------------------


@pytest.mark.parametrize("name", OP_NAMES)
@SETTINGS
@given(data=st.data())
def test_local_derivative_matches_finite_difference(name, data):
    op = REGISTRY[name]
    point = data.draw(inputs_for(name), label="point")
    inputs = as_arrays(point)
    out = op.forward(*inputs)
    assert not op.at_kink(inputs)
    for index in range(op.arity):
        assert_close(op.local(index, inputs, out), finite_difference(op, point, index))


# -- (b) VJP = upstream × derivative, None where no gradient is needed -----------------------


@pytest.mark.parametrize("name", OP_NAMES)
@SETTINGS
@given(data=st.data())
def test_vjp_is_upstream_times_finite_difference(name, data):
    op = REGISTRY[name]
    point = data.draw(inputs_for(name), label="point")
    upstream = data.draw(moderate, label="upstream")
    needed = data.draw(st.tuples(*[st.booleans()] * op.arity), label="needed")
    inputs = as_arrays(point)
    gradients = op.vjp(np.asarray(upstream), inputs, op.forward(*inputs), needed)
    assert len(gradients) == op.arity
    for index, gradient in enumerate(gradients):
        if not needed[index]:
            assert gradient is None
            continue
        expected = upstream * finite_difference(op, point, index)
        assert_close(gradient, expected, atol=FD_ATOL * max(1.0, abs(upstream)))


# -- (c) JVP = sum of derivative × tangent ---------------------------------------------------


@pytest.mark.parametrize("name", OP_NAMES)
@SETTINGS
@given(data=st.data())
def test_jvp_is_sum_of_finite_difference_times_tangent(name, data):
    op = REGISTRY[name]
    point = data.draw(inputs_for(name), label="point")
    tangents = data.draw(st.tuples(*[st.none() | moderate] * op.arity), label="tangents")
    inputs = as_arrays(point)
    wrapped = tuple(None if t is None else np.asarray(t) for t in tangents)
    expected = sum(finite_difference(op, point, i) * t
                   for i, t in enumerate(tangents) if t is not None)
    assert_close(op.jvp(wrapped, inputs, op.forward(*inputs)), expected)


# -- (g) VJP = Jᵀ·upstream with J built explicitly, on vectors -------------------------------


@pytest.mark.parametrize("name", OP_NAMES)
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_vjp_equals_explicit_jacobian_transpose_times_upstream(name, data):
    op = REGISTRY[name]
    points = data.draw(st.lists(inputs_for(name), min_size=3, max_size=3), label="points")
    upstream = np.array(data.draw(st.lists(moderate, min_size=3, max_size=3), label="upstream"))
    inputs = tuple(np.array(column) for column in zip(*points))  # one (3,) array per input
    out = op.forward(*inputs)
    gradients = op.vjp(upstream, inputs, out, (True,) * op.arity)
    for index in range(op.arity):
        jacobian = explicit_jacobian(op, inputs, index)
        # elementwise: output j depends on input element j only
        assert_close(jacobian - np.diag(np.diag(jacobian)), np.zeros((3, 3)), atol=0)
        assert_close(gradients[index], jacobian.T @ upstream, atol=FD_ATOL * 10)


def explicit_jacobian(op, inputs, index) -> np.ndarray:
    """d out[j] / d inputs[index][k], column k by a central difference in element k."""
    x = inputs[index]
    columns = []
    for k in range(x.size):
        h = STEP * max(1.0, abs(float(x[k])))
        plus, minus = x.copy(), x.copy()
        plus[k] += h
        minus[k] -= h
        f_plus = op.forward(*inputs[:index], plus, *inputs[index + 1:])
        f_minus = op.forward(*inputs[:index], minus, *inputs[index + 1:])
        columns.append((f_plus - f_minus) / (plus[k] - minus[k]))
    return np.stack(columns, axis=1)


# -- (d) SymPy: the lowering computes the forward value; its derivative is `local` -----------


@pytest.mark.parametrize("name", OP_NAMES)
@settings(max_examples=20, deadline=None)
@given(data=st.data())
def test_sympy_lowering_agrees_with_forward_and_local(name, data):
    op = REGISTRY[name]
    symbols, expression, derivatives = sympy_form(name)
    point = data.draw(inputs_for(name), label="point")
    inputs = as_arrays(point)
    out = op.forward(*inputs)
    assert_close(out, sympy_value(expression, symbols, point), rtol=1e-12, atol=1e-14)
    for index, derivative in enumerate(derivatives):
        assert_close(op.local(index, inputs, out), sympy_value(derivative, symbols, point),
                     rtol=1e-10, atol=1e-13)


# -- (e) shapes: elementwise on arrays, numpy broadcasting, 0-d and size-0 -------------------


@pytest.mark.parametrize("name", OP_NAMES)
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_forward_and_local_are_elementwise_on_vectors(name, data):
    op = REGISTRY[name]
    points = data.draw(st.lists(inputs_for(name), min_size=3, max_size=3), label="points")
    inputs = tuple(np.array(column) for column in zip(*points))
    out = op.forward(*inputs)
    assert out.shape == (3,)
    one_by_one = [op.forward(*as_arrays(point)) for point in points]
    assert_close(out, np.array(one_by_one), rtol=1e-14, atol=0)
    for index in range(op.arity):
        local = np.broadcast_to(op.local(index, inputs, out), out.shape)
        expected = [op.local(index, as_arrays(p), op.forward(*as_arrays(p))) for p in points]
        assert_close(local, np.array(expected), rtol=1e-14, atol=0)


@pytest.mark.parametrize("name", [n for n in OP_NAMES if REGISTRY[n].arity == 2])
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_binary_forward_broadcasts_vector_with_scalar(name, data):
    op = REGISTRY[name]
    points = data.draw(st.lists(inputs_for(name), min_size=4, max_size=4), label="points")
    firsts = np.array([p[0] for p in points[:3]])
    seconds = np.array([p[1] for p in points[:3]])
    a_scalar, b_scalar = points[3]
    vector_with_scalar = op.forward(firsts, np.asarray(b_scalar))
    scalar_with_vector = op.forward(np.asarray(a_scalar), seconds)
    assert vector_with_scalar.shape == scalar_with_vector.shape == (3,)
    assert_close(vector_with_scalar,
                 [op.forward(*as_arrays((a, b_scalar))) for a in firsts], rtol=1e-14, atol=0)
    assert_close(scalar_with_vector,
                 [op.forward(*as_arrays((a_scalar, b))) for b in seconds], rtol=1e-14, atol=0)


@pytest.mark.parametrize("name", OP_NAMES)
def test_forward_keeps_zero_d_and_size_zero_shapes(name):
    op = REGISTRY[name]
    scalar_out = op.forward(*[np.asarray(1.5)] * op.arity)
    assert isinstance(scalar_out, np.ndarray) and scalar_out.shape == ()
    empty_out = op.forward(*[np.zeros((0,))] * op.arity)
    assert isinstance(empty_out, np.ndarray) and empty_out.shape == (0,)


# -- (f) conventions at kinks ----------------------------------------------------------------


def local_at(name: str, *point: float) -> list[float]:
    op = REGISTRY[name]
    inputs = as_arrays(point)
    out = op.forward(*inputs)
    return [float(op.local(i, inputs, out)) for i in range(op.arity)]


def test_relu_derivative_at_zero_is_zero():
    assert local_at("relu", 0.0) == [0.0]
    assert REGISTRY["relu"].at_kink(as_arrays((0.0,)))


def test_abs_derivative_at_zero_is_zero():
    assert local_at("abs", 0.0) == [0.0]
    assert REGISTRY["abs"].at_kink(as_arrays((0.0,)))


@pytest.mark.parametrize("name", ["max", "min"])
@pytest.mark.parametrize("tie", [-1.5, 0.0, 2.0])
def test_max_and_min_tie_give_everything_to_the_first_argument(name, tie):
    assert local_at(name, tie, tie) == [1.0, 0.0]
    assert REGISTRY[name].at_kink(as_arrays((tie, tie)))


def test_max_and_min_route_to_the_winner_away_from_a_tie():
    assert local_at("max", 1.0, 2.0) == [0.0, 1.0]
    assert local_at("max", 2.0, 1.0) == [1.0, 0.0]
    assert local_at("min", 1.0, 2.0) == [1.0, 0.0]
    assert local_at("min", 2.0, 1.0) == [0.0, 1.0]


# -- the registry as seen by the parser and the narration ------------------------------------


def call_text(name: str) -> str:
    arguments = ", ".join(["x", "y"][: REGISTRY[name].arity])
    return f"{name}({arguments})"


@pytest.mark.parametrize("name", sorted(functions()))
def test_parser_accepts_every_callable_op_as_a_function(name):
    graph = from_text(call_text(name))
    assert [(node.op, node.inputs) for node in graph.ops] == [
        (name, ("x", "y")[: REGISTRY[name].arity])]


@pytest.mark.parametrize("name", [n for n in OP_NAMES if not REGISTRY[n].callable_by_name])
def test_parser_refuses_operator_ops_written_as_calls(name):
    with pytest.raises(ParseError):
        from_text(call_text(name))


@pytest.mark.parametrize("name", OP_NAMES)
def test_formulas_use_only_the_op_inputs_and_output(name):
    op = REGISTRY[name]
    names = dict(zip("ab", ["A", "B"][: op.arity]), out="OUT")
    for formula in op.formulas:
        formula.format(**names)  # a KeyError here is a placeholder the narration cannot fill
