"""Every registry op, checked against numbers it did not compute itself.

Each test is parametrised over `REGISTRY`, so a new op is tested as soon as it is declared.
Points are drawn with hypothesis, by construction away from kinks and domain edges: elementwise
ops read their elements from `ELEMENTS` (an op with no entry there gets positive elements in
[0.2, 3]); every other op needs a strategy in `CASES`, which gives it shapes and attributes.

Oracles: central finite differences of the op's forward rule (written here, not the engine's),
an explicit Jacobian built from them column by column, and SymPy differentiating the op's
lowering.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from gradtrace.core.errors import ParseError
from gradtrace.core.backprop import sum_to
from gradtrace.expr.to_graph import graph_from_text as from_text
from gradtrace.checks.symbolic import sympy_of_op
from gradtrace.core.registry import attribute_texts
from gradtrace.ops import REGISTRY
from layer_cases import LAYER_CASES

OP_NAMES = sorted(REGISTRY)
ELEMENTWISE = [name for name in OP_NAMES if REGISTRY[name].elementwise]
SETTINGS = settings(max_examples=40, deadline=None)

# Finite differences: step balancing truncation against rounding; tolerances to match.
STEP = np.finfo(np.float64).eps ** (1 / 3)
FD_RTOL, FD_ATOL = 1e-6, 1e-8

# -- elements by construction ----------------------------------------------------------------

moderate = st.floats(-3.0, 3.0)
positive = st.floats(0.2, 3.0)
nonzero = st.builds(lambda size, sign: size * sign, positive, st.sampled_from([-1.0, 1.0]))
small_exponent = st.floats(-2.5, 2.5)
wide = st.floats(-8.0, 8.0)
jitter = st.floats(-0.1, 0.1)
# max/min: one input near whole numbers, the other near halves, so every pair an elementwise
# max compares (after broadcasting too) is at least 0.3 apart, won by either side.
near_whole = st.builds(lambda k, d: k + d, st.integers(-3, 3), jitter)
near_half = st.builds(lambda k, d: k + 0.5 + d, st.integers(-3, 2), jitter)

ELEMENTS = {
    "add": (moderate, moderate),
    "sub": (moderate, moderate),
    "mul": (moderate, moderate),
    "div": (moderate, nonzero),
    "reciprocal": (nonzero,),
    "pow": (positive, small_exponent),
    "neg": (moderate,),
    "exp": (moderate,),
    "log": (positive,),
    "sqrt": (positive,),
    "sin": (moderate,),
    "cos": (moderate,),
    "tanh": (moderate,),
    "sigmoid": (wide,),
    "relu": (nonzero,),
    "abs": (nonzero,),
    "max": (near_whole, near_half),
    "min": (near_half, near_whole),
    "softplus": (wide,),
}


def elements_for(name: str) -> tuple:
    """One element strategy per input of elementwise op `name`."""
    return ELEMENTS.get(name, (positive,) * REGISTRY[name].arity)


def inputs_for(name: str):
    """A strategy for one valid scalar point of elementwise op `name`: a tuple of floats."""
    return st.tuples(*elements_for(name))


# -- shapes ----------------------------------------------------------------------------------

one_in_ten = st.integers(0, 9).map(lambda roll: roll == 0)
nonempty_shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3)
# size 0 by construction, one time in ten: a 0 inserted into a shape, not a filter
empty_shapes = st.builds(lambda shape, where: shape[:where] + (0,) + shape[where:],
                         hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=3),
                         st.integers(0, 2))
shapes = one_in_ten.flatmap(lambda empty: empty_shapes if empty else nonempty_shapes)
broadcast_pairs = hnp.mutually_broadcastable_shapes(
    num_shapes=2, min_dims=0, max_dims=3, max_side=3).map(lambda b: b.input_shapes)
empty_pairs = empty_shapes.flatmap(lambda s: st.sampled_from([(s, s), (s, ()), ((), s)]))
binary_shapes = one_in_ten.flatmap(lambda empty: empty_pairs if empty else broadcast_pairs)
matrix_sides = st.integers(0, 18).map(lambda i: (i + 5) // 6)  # 0 one time in 19, else 1..3
batch_shapes = hnp.mutually_broadcastable_shapes(
    num_shapes=2, min_dims=0, max_dims=2, max_side=3).map(lambda b: b.input_shapes)


class Case(NamedTuple):
    """A valid point for one op: its input arrays and its attributes."""
    inputs: tuple[np.ndarray, ...]
    attrs: dict


def float_arrays(shape, elements=moderate):
    return hnp.arrays(np.float64, shape, elements=elements)


@st.composite
def elementwise_cases(draw, name: str) -> Case:
    """Any shapes for a unary op; two broadcastable shapes (0-d and size 0 too) for a binary
    one."""
    elements = elements_for(name)
    input_shapes = (draw(shapes),) if len(elements) == 1 else draw(binary_shapes)
    return Case(tuple(draw(float_arrays(s, e)) for s, e in zip(input_shapes, elements)), {})


@st.composite
def matmul_shapes(draw) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(.., n, k) @ (.., k, m) with broadcast batch axes; either side may be a vector (k,):
    (n,) @ (n, m), (k, n) @ (n,), (n,) @ (n,), batched and broadcast batches."""
    n, k, m = draw(matrix_sides), draw(matrix_sides), draw(matrix_sides)
    left_batch, right_batch = draw(batch_shapes)
    left = (k,) if draw(st.booleans()) else left_batch + (n, k)
    right = (k,) if draw(st.booleans()) else right_batch + (k, m)
    return left, right


@st.composite
def matmul_cases(draw) -> Case:
    left, right = draw(matmul_shapes())
    return Case((draw(float_arrays(left)), draw(float_arrays(right))), {})


@st.composite
def transpose_cases(draw) -> Case:
    return Case((draw(float_arrays(draw(shapes))),), {})


def _grouped(draw, factors: list[int]) -> tuple[int, ...]:
    """The factors in a drawn order, multiplied together in consecutive groups, with 1s
    inserted here and there: a shape of the same size."""
    order = draw(st.permutations(factors))
    shape: list[int] = []
    for i, factor in enumerate(order):
        if shape and i and draw(st.booleans()):
            shape[-1] *= factor
        else:
            shape.append(factor)
    for where in draw(st.lists(st.integers(0, len(shape)), max_size=2)):
        shape.insert(where, 1)
    return tuple(shape)


@st.composite
def reshape_cases(draw) -> Case:
    factors = draw(st.lists(matrix_sides, max_size=4))
    before, after = _grouped(draw, factors), _grouped(draw, factors)
    if after and 0 not in factors and draw(st.booleans()):
        where = draw(st.integers(0, len(after) - 1))
        after = after[:where] + (-1,) + after[where + 1:]  # numpy infers this one
    return Case((draw(float_arrays(before)),), {"shape": after})


def index_parts(side: int):
    """An integer (negative too) or a (start, stop, step) slice for an axis of this size."""
    bound = st.none() | st.integers(-side - 1, side + 1)
    step = st.sampled_from([None, 1, 2, -1, -2])
    return st.integers(-side, side - 1) | st.tuples(bound, bound, step)


@st.composite
def index_cases(draw) -> Case:
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    count = draw(st.integers(1, len(shape)))
    key = tuple(draw(index_parts(side)) for side in shape[:count])
    return Case((draw(float_arrays(shape)),), {"key": key})


@st.composite
def axes(draw, ndim: int):
    """None, an axis (negative too), or a tuple of distinct axes; {} for the default."""
    if ndim == 0:
        return draw(st.sampled_from([{}, {"axis": None}]))
    one = st.integers(-ndim, ndim - 1)
    several = st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True).flatmap(
        lambda chosen: st.tuples(*[st.sampled_from([a, a - ndim]) for a in chosen]))
    axis = draw(st.none() | one | several)
    return draw(st.sampled_from([{"axis": axis}, {}])) if axis is None else {"axis": axis}


@st.composite
def sum_cases(draw) -> Case:
    x = draw(float_arrays(draw(shapes)))
    return Case((x,), draw(axes(x.ndim)))


@st.composite
def mean_cases(draw) -> Case:
    x = draw(float_arrays(draw(nonempty_shapes)))
    return Case((x,), draw(axes(x.ndim)))


@st.composite
def distinct_arrays(draw, shape):
    """Elements at least 0.3 apart, in a drawn order: no max/min tie within a finite-difference
    step."""
    size = int(np.prod(shape, dtype=np.int64))
    order = np.array(draw(st.permutations(range(size))), dtype=np.float64)
    shift = draw(float_arrays((size,), jitter))
    return ((order - size / 2) * 0.5 + shift).reshape(shape)


@st.composite
def extreme_cases(draw) -> Case:
    x = draw(distinct_arrays(draw(nonempty_shapes)))
    return Case((x,), draw(axes(x.ndim)))


@st.composite
def softmax_cases(draw) -> Case:
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3))
    x = draw(float_arrays(shape, st.floats(-5.0, 5.0)))
    axis = draw(st.none() | st.integers(-len(shape), len(shape) - 1))
    return Case((x,), {} if axis is None else {"axis": axis})


@st.composite
def mse_cases(draw) -> Case:
    """pred and target of broadcastable shapes (a scalar target, a row of targets...)."""
    pred_shape, target_shape = draw(broadcast_pairs)
    return Case((draw(float_arrays(pred_shape)), draw(float_arrays(target_shape))), {})


@st.composite
def cross_entropy_cases(draw) -> Case:
    """Logits (.., C): (C,), (N, C) or (B, N, C); targets as class indices (..) stored as
    floats, as the engine stores every value, or as one-hot rows (.., C)."""
    classes = draw(st.integers(1, 4))
    batch = draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=3))
    logits = draw(float_arrays(batch + (classes,), st.floats(-5.0, 5.0)))
    indices = draw(hnp.arrays(np.int64, batch, elements=st.integers(0, classes - 1)))
    one_hot = draw(st.booleans())
    target = np.eye(classes)[indices] if one_hot else indices.astype(np.float64)
    return Case((logits, target), {})


CASES = {
    **{name: elementwise_cases(name) for name in ELEMENTWISE},
    "matmul": matmul_cases(),
    "transpose": transpose_cases(),
    "reshape": reshape_cases(),
    "index": index_cases(),
    "sum": sum_cases(),
    "mean": mean_cases(),
    "amax": extreme_cases(),
    "amin": extreme_cases(),
    "softmax": softmax_cases(),
    "log_softmax": softmax_cases(),
    "mse": mse_cases(),
    "cross_entropy": cross_entropy_cases(),
    **LAYER_CASES,
}


def cases_for(name: str):
    assert name in CASES, f"op {name!r} has no strategy in CASES: add one for its inputs"
    return CASES[name]


# -- oracles ---------------------------------------------------------------------------------


def as_arrays(point) -> tuple[np.ndarray, ...]:
    return tuple(np.asarray(x, dtype=np.float64) for x in point)


def assert_close(actual, expected, rtol=FD_RTOL, atol=FD_ATOL):
    np.testing.assert_allclose(np.asarray(actual, dtype=np.float64), expected,
                               rtol=rtol, atol=atol)


def forward_at(op, case: Case, index: int, x: np.ndarray) -> np.ndarray:
    """The op's output with input `index` replaced by `x`."""
    inputs = case.inputs[:index] + (x,) + case.inputs[index + 1:]
    with np.errstate(all="ignore"):
        return np.asarray(op.forward(*inputs, **case.attrs), dtype=np.float64)


def nudged(x: np.ndarray, element) -> tuple[np.ndarray, np.ndarray, float]:
    """x with one element moved up and down by a step, and the exact distance between them."""
    h = STEP * max(1.0, abs(float(x[element])))
    plus, minus = x.copy(), x.copy()
    plus[element] += h
    minus[element] -= h
    return plus, minus, float(plus[element] - minus[element])


def numeric_vjp(op, case: Case, index: int, upstream: np.ndarray) -> np.ndarray:
    """d sum(upstream × f) / d input[index], element by element, by central differences."""
    x = case.inputs[index]
    gradient = np.zeros_like(x)
    for element in np.ndindex(x.shape):
        plus, minus, width = nudged(x, element)
        f_plus = np.sum(upstream * forward_at(op, case, index, plus))
        f_minus = np.sum(upstream * forward_at(op, case, index, minus))
        gradient[element] = (f_plus - f_minus) / width
    return gradient


def explicit_jacobian(op, case: Case, index: int) -> np.ndarray:
    """d out[j] / d input[index][k] as an (output size × input size) matrix, column k by a
    central difference in element k (row-major order on both sides)."""
    x = case.inputs[index]
    out_size = forward_at(op, case, index, x).size
    jacobian = np.zeros((out_size, x.size))
    for k, element in enumerate(np.ndindex(x.shape)):
        plus, minus, width = nudged(x, element)
        difference = forward_at(op, case, index, plus) - forward_at(op, case, index, minus)
        jacobian[:, k] = difference.ravel() / width
    return jacobian


def some_of(indices: list[int]):
    """A non-empty subset of `indices`."""
    return st.lists(st.sampled_from(indices), min_size=1, unique=True)


def tolerance(vector: np.ndarray) -> float:
    """Absolute tolerance for a sum of finite differences weighted by `vector`."""
    return FD_ATOL * (1.0 + float(np.sum(np.abs(vector))))


# -- the acceptance test: VJP = finite differences = Jᵀ·upstream, JVP = J·tangent -----------


@pytest.mark.parametrize("name", OP_NAMES)
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_vjp_and_jvp_agree_with_finite_differences_and_the_explicit_jacobian(name, data):
    op = REGISTRY[name]
    case = data.draw(cases_for(name), label="case")
    inputs, attrs = case
    out = op.evaluate(inputs, attrs)
    assert not op.at_kink(inputs, attrs)
    differentiable = [i for i in range(op.arity) if op.takes_gradient(i)]
    upstream = data.draw(float_arrays(out.shape), label="upstream")
    jacobians = {i: explicit_jacobian(op, case, i) for i in differentiable}

    # (1) and (2): the VJP, summed back over broadcast axes as the engine does
    wanted = tuple(op.takes_gradient(i) for i in range(op.arity))
    gradients = op.vjp(upstream, inputs, out, wanted, attrs)
    assert len(gradients) == op.arity
    for i in range(op.arity):
        if i not in differentiable:
            assert gradients[i] is None, f"input {i} is data, not differentiated"
            continue
        gradient = sum_to(gradients[i], inputs[i].shape)
        assert gradient.shape == inputs[i].shape
        assert_close(gradient, numeric_vjp(op, case, i, upstream), atol=tolerance(upstream))
        assert_close(gradient.ravel(), jacobians[i].T @ upstream.ravel(),
                     atol=tolerance(upstream))

    # a gradient only for the inputs that need one (callers ask for at least one), the same
    asked = data.draw(some_of(differentiable), label="needed")
    needed = tuple(i in asked for i in range(op.arity))
    for i, gradient in enumerate(op.vjp(upstream, inputs, out, needed, attrs)):
        if not needed[i]:
            assert gradient is None
        else:
            np.testing.assert_array_equal(gradient, gradients[i])

    # (3): the JVP, with the other inputs held still (tangent None; at least one moves, as in
    # the engine's forward mode)
    moving = data.draw(some_of(differentiable), label="moving")
    tangents = tuple(
        data.draw(float_arrays(inputs[i].shape), label=f"tangent {i}") if i in moving else None
        for i in range(op.arity))
    expected = np.zeros(out.size)
    for i, tangent in enumerate(tangents):
        if tangent is not None:
            expected = expected + jacobians[i] @ tangent.ravel()
    jvp = op.jvp(tangents, inputs, out, attrs)
    assert np.shape(jvp) == out.shape
    moved = np.concatenate([t.ravel() for t in tangents if t is not None])
    assert_close(np.ravel(jvp), expected, atol=tolerance(moved))


# -- SymPy: every op's lowering gives its forward value, and its derivative the VJP ----------


def lowered(op, symbols: tuple, attrs: dict) -> np.ndarray:
    """The op in SymPy on object arrays, as the symbolic check writes it."""
    return sympy_of_op(op, [np.asarray(s, dtype=object) for s in symbols], attrs, sympy)


def symbol_array(prefix: str, shape) -> np.ndarray:
    names = [f"{prefix}{'_'.join(map(str, element))}" for element in np.ndindex(shape)]
    flat = np.empty(len(names), dtype=object)
    flat[:] = [sympy.Symbol(name, real=True) for name in names]
    return flat.reshape(shape)


def exact_values(expressions: np.ndarray, point: dict) -> np.ndarray:
    evaluate = np.frompyfunc(lambda e: float(sympy.sympify(e).xreplace(point).evalf(30)), 1, 1)
    return np.asarray(evaluate(expressions), dtype=np.float64)


@pytest.mark.parametrize("name", OP_NAMES)
@settings(max_examples=8, deadline=None)
@given(data=st.data())
def test_sympy_lowering_agrees_with_forward_and_vjp(name, data):
    op = REGISTRY[name]
    case = data.draw(cases_for(name), label="case")
    inputs, attrs = case
    # inputs that are data (class indices) stay numbers; the others become symbols
    symbols = tuple(symbol_array("abcde"[i], x.shape) if op.takes_gradient(i) else x
                    for i, x in enumerate(inputs))
    point = {s: sympy.Float(float(v), 30)
             for i, x in enumerate(inputs) if op.takes_gradient(i)
             for s, v in zip(symbols[i].ravel(), x.ravel())}
    expression = lowered(op, symbols, attrs)
    out = op.evaluate(inputs, attrs)
    assert expression.shape == out.shape
    assert_close(exact_values(expression, point), out, rtol=1e-12, atol=1e-14)

    upstream = data.draw(float_arrays(out.shape), label="upstream")
    total = sympy.Add(*[sympy.Float(float(u), 30) * e
                        for u, e in zip(upstream.ravel(), expression.ravel())])
    gradients = op.vjp(upstream, inputs, out, tuple(op.takes_gradient(i)
                                                    for i in range(op.arity)), attrs)
    for i, x in enumerate(inputs):
        if op.takes_gradient(i):
            derivative = np.frompyfunc(lambda s: sympy.diff(total, s), 1, 1)(symbols[i])
            assert_close(sum_to(gradients[i], x.shape), exact_values(derivative, point),
                         rtol=1e-10, atol=1e-12)


# -- the notes' formulas: softmax cross-entropy and the Matmul layer -------------------------


def numpy_softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


@st.composite
def classification_batches(draw):
    """(logits (N, C), class indices (N,)) with N in 1..5 and C in 2..5."""
    n, classes = draw(st.integers(1, 5)), draw(st.integers(2, 5))
    logits = draw(float_arrays((n, classes), st.floats(-10.0, 10.0)))
    labels = draw(hnp.arrays(np.int64, (n,), elements=st.integers(0, classes - 1)))
    return logits, labels


@SETTINGS
@given(batch=classification_batches(), one_hot=st.booleans())
def test_cross_entropy_gradient_is_softmax_minus_one_hot_over_batch(batch, one_hot):
    logits, labels = batch
    n, classes = logits.shape
    rows = np.eye(classes)[labels]
    target = rows if one_hot else labels.astype(np.float64)
    op = REGISTRY["cross_entropy"]
    out = op.evaluate((logits, target), {})
    expected_loss = -np.mean(np.log(numpy_softmax(logits))[np.arange(n), labels])
    assert_close(out, expected_loss, rtol=1e-12, atol=1e-12)
    grad_logits, grad_target = op.vjp(np.asarray(1.0), (logits, target), out, (True, False))
    assert grad_target is None
    assert_close(grad_logits, (numpy_softmax(logits) - rows) / n, rtol=1e-12, atol=1e-15)


matrix_layers = st.tuples(st.integers(1, 4), st.integers(1, 4), st.integers(1, 4)).flatmap(
    lambda nkm: st.tuples(float_arrays(nkm[:2]), float_arrays(nkm[1:]),
                          float_arrays((nkm[0], nkm[2]))))


@SETTINGS
@given(layer=matrix_layers)
def test_matmul_vjps_are_the_matmul_layer_of_the_notes(layer):
    # seed 002's Matmul layer: h = x @ W, grad_W = x.T @ grad_h, grad_x = grad_h @ W.T
    x, w, grad_h = layer
    op = REGISTRY["matmul"]
    h = op.evaluate((x, w), {})
    grad_x, grad_w = op.vjp(grad_h, (x, w), h, (True, True))
    assert_close(grad_w, x.T @ grad_h, rtol=1e-13, atol=1e-13)
    assert_close(grad_x, grad_h @ w.T, rtol=1e-13, atol=1e-13)


# -- elementwise ops on scalars: local derivatives, VJP, JVP, SymPy --------------------------


def finite_difference(op, point, index: int) -> float:
    """d forward / d input[index] at a scalar `point`, by a central difference."""
    x = float(point[index])
    h = STEP * max(1.0, abs(x))
    plus, minus = list(point), list(point)
    plus[index], minus[index] = x + h, x - h
    f_plus = float(op.forward(*as_arrays(plus)))
    f_minus = float(op.forward(*as_arrays(minus)))
    return (f_plus - f_minus) / ((x + h) - (x - h))


@functools.lru_cache(maxsize=None)
def sympy_form(name: str):
    """(symbols, the op's SymPy lowering, its derivative by each symbol)."""
    op = REGISTRY[name]
    symbols = sympy.symbols("a b", real=True)[: op.arity]
    expression = lowered(op, symbols, {}).item()
    derivatives = tuple(sympy.diff(expression, symbol) for symbol in symbols)
    return symbols, expression, derivatives


def sympy_value(expression, symbols, point) -> float:
    replacements = {s: sympy.Float(float(x), 30) for s, x in zip(symbols, point)}
    return float(expression.xreplace(replacements).evalf(30))


@pytest.mark.parametrize("name", ELEMENTWISE)
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


@pytest.mark.parametrize("name", ELEMENTWISE)
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


@pytest.mark.parametrize("name", ELEMENTWISE)
@SETTINGS
@given(data=st.data())
def test_jvp_is_sum_of_finite_difference_times_tangent(name, data):
    op = REGISTRY[name]
    point = data.draw(inputs_for(name), label="point")
    tangents = data.draw(st.tuples(*[st.none() | moderate] * op.arity), label="tangents")
    inputs = as_arrays(point)
    wrapped = tuple(None if t is None else np.asarray(t) for t in tangents)
    terms = [finite_difference(op, point, i) * t
             for i, t in enumerate(tangents) if t is not None]
    # Each difference is off by rounding in proportion to its own size, and the terms can cancel.
    scale = max(1.0, sum(abs(term) for term in terms))
    assert_close(op.jvp(wrapped, inputs, op.forward(*inputs)), sum(terms), atol=FD_ATOL * scale)


@pytest.mark.parametrize("name", ELEMENTWISE)
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


# -- elementwise ops on arrays: one element at a time, broadcasting, 0-d and size 0 ----------


@pytest.mark.parametrize("name", ELEMENTWISE)
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


@pytest.mark.parametrize("name", ELEMENTWISE)
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_elementwise_jacobian_is_diagonal(name, data):
    op = REGISTRY[name]
    points = data.draw(st.lists(inputs_for(name), min_size=3, max_size=3), label="points")
    case = Case(tuple(np.array(column) for column in zip(*points)), {})  # one (3,) per input
    for index in range(op.arity):
        jacobian = explicit_jacobian(op, case, index)
        # output j depends on input element j only
        np.testing.assert_array_equal(jacobian - np.diag(np.diag(jacobian)), np.zeros((3, 3)))


@pytest.mark.parametrize("name", [n for n in ELEMENTWISE if REGISTRY[n].arity == 2])
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


@pytest.mark.parametrize("name", ELEMENTWISE)
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


@pytest.mark.parametrize("name, expected", [
    ("amax", [[10.0, 0.0, 0.0], [0.0, 0.0, 20.0]]),  # row 0: 3 twice, the first wins
    ("amin", [[0.0, 10.0, 0.0], [20.0, 0.0, 0.0]]),  # row 1: 1 twice, the first wins
])
def test_max_and_min_reductions_give_a_tie_to_the_first_extreme_element(name, expected):
    op = REGISTRY[name]
    x = np.array([[3.0, 1.0, 3.0], [1.0, 1.0, 2.0]])
    out = op.evaluate((x,), {"axis": 1})
    assert op.at_kink((x,), {"axis": 1})
    (gradient,) = op.vjp(np.array([10.0, 20.0]), (x,), out, (True,), {"axis": 1})
    np.testing.assert_array_equal(gradient, expected)


# -- the registry as seen by the parser and the narration ------------------------------------


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


@pytest.mark.parametrize("name", OP_NAMES)
def test_formulas_use_only_the_op_inputs_output_upstream_and_attributes(name):
    op = REGISTRY[name]
    names = dict(zip("abcde", ["A", "B", "C", "D", "E"][: op.arity]), out="OUT", g="G")
    for formula in op.formulas:
        # a KeyError here is a placeholder the narration cannot fill
        formula.format(**names, **attribute_texts(op.attrs))
    op.pattern.format(**names, **attribute_texts(()))
    if op.elementwise:
        assert not any("{g}" in formula for formula in op.formulas), "local derivatives only"
