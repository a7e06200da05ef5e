"""The per-op test table: one row per registry op, and nothing else lists ops for the tests.

Every per-op test (test_per_op_*.py, and the renderers' test in test_render_arrays.py) is
parametrised over `REGISTRY` and reads its row here, and the random expressions of
test_pipeline.py and test_graph.py are built from every row's form; `test_per_op_table.py`
fails when an op has no row. So the recipe for a new op is: its registry entry, and one row
below.

A row (`OpCase`) holds:

- `cases`: a hypothesis strategy of `Case(inputs, attrs)`, valid by construction — inside the
  domain, away from kinks, attributes drawn where the op has them, shapes where the op's
  property bites (op_strategies.py says how);
- `sympy`: the op in SymPy, written here, the independent oracle SymPy differentiates: for an
  elementwise op a function of one element of each input (and its attributes); for the others
  a function of object arrays, in reference_forms.py;
- `form`: the op inside a random expression, `form(draw, child) -> Formula` (formulas.py);
- `example`: an expression using the op, for the renderers, with values for the names it uses
  that are not in `EXAMPLE_POINT`;
- `elements`: for ops that take arrays of any shape (elementwise ops, mse), one element
  strategy per input; `attributes`: the attributes an elementwise op draws;
- `edges`: the edge shapes the op accepts and `cases` draws ("0-d", "size 0");
- `broadcasts`: its inputs broadcast against each other;
- `slow_lowering`: its SymPy-lowering test runs only with `-m slow`;
"""

from __future__ import annotations

import functools
from typing import Callable, NamedTuple

import numpy as np
import sympy as sp
from hypothesis import Phase, find, settings
from hypothesis import strategies as st

import formulas as fm
import reference_forms as rf
from formulas import binary, call, infix, positive, unary
from op_strategies import (SIZE_0, ZERO_D, avg_pool2d_cases, batch_norm_cases,
                           binary_cross_entropy_cases, nll_loss_cases, probability_cases, reductions,
                           batch_norm_eval_cases, conv2d_cases, cross_entropy_cases,
                           dropout_cases, edges_of, elementwise_cases, extreme_cases, flatten_cases,
                           im2col_cases, index_cases, linear_cases, matmul_cases, max_pool2d_cases,
                           maybe, mean_cases, moderate, mse_cases, near_half, near_whole,
                           nonzero, positive as positive_elements, reshape_cases, small_exponent,
                           softmax_cases, sum_cases, transpose_cases, wide)

EVERY_EDGE = frozenset({ZERO_D, SIZE_0})


class Example(NamedTuple):
    text: str
    values: dict = {}


class OpCase(NamedTuple):
    cases: st.SearchStrategy
    sympy: Callable
    form: Callable
    example: Example
    elements: tuple = ()
    attributes: st.SearchStrategy = st.just({})
    edges: frozenset = frozenset()
    broadcasts: bool = False
    slow_lowering: bool = False


def elementwise(elements: tuple, sympy: Callable, form: Callable, example: str,
                attributes=st.just({})) -> OpCase:
    """A row for an elementwise op: any shapes, broadcast together, 0-d and size 0 too."""
    return OpCase(cases=elementwise_cases(elements, attributes), sympy=sympy, form=form,
                  example=Example(example), elements=elements,
                  attributes=attributes, edges=EVERY_EDGE, broadcasts=len(elements) > 1)


# The names the examples use: x, y vectors (y positive), M a 2 × 3 matrix.
EXAMPLE_POINT = dict(x=np.array([0.3, -1.2, 2.0]), y=np.array([0.5, 2.0, 1.5]),
                     M=np.array([[1.0, -2.0, 3.0], [0.5, 4.0, -1.0]]))
IMAGE = np.array([[[[0.5, -1.0, 2.0], [1.5, 0.25, -0.5], [-2.0, 3.0, 1.0]]]])  # (1, 1, 3, 3)


def relu_sympy(a):
    return sp.Piecewise((a, a > 0), (0, True))


def leaky_relu_sympy(a, negative_slope):
    return sp.Piecewise((a, a > 0), (negative_slope * a, True))


def elu_sympy(a, alpha):
    return sp.Piecewise((a, a > 0), (alpha * (sp.exp(a) - 1), True))


def gelu_sympy(a):
    """a·Φ(a), Φ written from the normal density: ½(1 + erf(a/√2))."""
    return a * (1 + sp.erf(a / sp.sqrt(2))) / 2


def leaky_relu_form(draw, child):
    a = child()
    attrs, slope = draw(st.sampled_from([("", sp.Float(0.01)), (", negative_slope=0.2",
                                                                  sp.Float(0.2))]))
    return call("leaky_relu", a, sym=leaky_relu_sympy(a.sym, slope), kink=a.sym, attrs=attrs)


def elu_form(draw, child):
    """alpha = 1: the slope is continuous at 0 but the curvature jumps, which finite
    differences straddling 0 feel; so 0 is a kink here."""
    a = child()
    attrs, alpha = draw(st.sampled_from([("", 1), (", alpha=2", 2)]))
    return call("elu", a, sym=elu_sympy(a.sym, alpha), kink=a.sym, attrs=attrs)


OP_CASES: dict[str, OpCase] = {
    # -- gradtrace.ops.scalar ------------------------------------------------------------------
    "add": elementwise(
        (moderate, moderate), lambda a, b: a + b,
        binary(lambda a, b: infix(a, "+", b, a.sym + b.sym)), "x + y"),
    "sub": elementwise(
        (moderate, moderate), lambda a, b: a - b,
        binary(lambda a, b: infix(a, "-", b, a.sym - b.sym)), "x - y"),
    "mul": elementwise(
        (moderate, moderate), lambda a, b: a * b,
        binary(lambda a, b: infix(a, "*", b, a.sym * b.sym)), "x * y"),
    "div": elementwise(
        (moderate, nonzero), lambda a, b: a / b,
        binary(lambda a, b: infix(a, "/", positive(b), a.sym / (1 + b.sym**2))), "x / y"),
    "reciprocal": elementwise(
        (nonzero,), lambda a: 1 / a,
        unary(lambda a: fm.written(f"1/{positive(a).text}", 1 / (1 + a.sym**2), a)), "1 / x"),
    "pow": elementwise(
        (positive_elements, small_exponent), lambda a, b: sp.exp(b * sp.log(a)),
        binary(lambda a, b: infix(positive(a), "**", fm.bounded(b),
                                  (1 + a.sym**2) ** sp.sin(b.sym))), "x ** 2"),
    "neg": elementwise(
        (moderate,), lambda a: -a,
        unary(lambda a: fm.written(f"-({a.text})", -a.sym, a)), "-x"),
    "exp": elementwise(
        (moderate,), sp.exp, unary(lambda a: call("exp", a, sym=sp.exp(a.sym))), "exp(x)"),
    "log": elementwise(
        (positive_elements,), sp.log,
        unary(lambda a: call("log", positive(a), sym=sp.log(1 + a.sym**2))), "log(y)"),
    "log10": elementwise(
        (positive_elements,), lambda a: sp.log(a) / sp.log(10),
        unary(lambda a: call("log10", positive(a), sym=sp.log(1 + a.sym**2, 10))), "log10(y)"),
    "log2": elementwise(
        (positive_elements,), lambda a: sp.log(a) / sp.log(2),
        unary(lambda a: call("log2", positive(a), sym=sp.log(1 + a.sym**2, 2))), "log2(y)"),
    "sqrt": elementwise(
        (positive_elements,), lambda a: a ** sp.Rational(1, 2),
        unary(lambda a: call("sqrt", positive(a), sym=sp.sqrt(1 + a.sym**2))), "sqrt(y)"),
    "sin": elementwise(
        (moderate,), sp.sin, unary(lambda a: call("sin", a, sym=sp.sin(a.sym))), "sin(x)"),
    "cos": elementwise(
        (moderate,), sp.cos, unary(lambda a: call("cos", a, sym=sp.cos(a.sym))), "cos(x)"),
    "erf": elementwise(
        (wide,), sp.erf, unary(lambda a: call("erf", a, sym=sp.erf(a.sym))), "erf(x)"),
    "tanh": elementwise(
        (moderate,), lambda a: (sp.exp(a) - sp.exp(-a)) / (sp.exp(a) + sp.exp(-a)),
        unary(lambda a: call("tanh", a, sym=sp.tanh(a.sym))), "tanh(x)"),
    "sigmoid": elementwise(
        (wide,), lambda a: 1 / (1 + sp.exp(-a)),
        unary(lambda a: call("sigmoid", a, sym=1 / (1 + sp.exp(-a.sym)))), "sigmoid(x)"),
    "relu": elementwise(
        (nonzero,), relu_sympy,
        unary(lambda a: call("relu", a, sym=relu_sympy(a.sym), kink=a.sym)), "relu(x)"),
    "abs": elementwise(
        (nonzero,), lambda a: sp.Piecewise((a, a > 0), (-a, True)),
        unary(lambda a: call("abs", a, sym=sp.Abs(a.sym), kink=a.sym)), "abs(x)"),
    "max": elementwise(
        (near_whole, near_half), lambda a, b: sp.Piecewise((a, a > b), (b, True)),
        binary(lambda a, b: call("max", a, b, sym=sp.Max(a.sym, b.sym), kink=a.sym - b.sym)),
        "max(x, y)"),
    "min": elementwise(
        (near_half, near_whole), lambda a, b: sp.Piecewise((a, a < b), (b, True)),
        binary(lambda a, b: call("min", a, b, sym=sp.Min(a.sym, b.sym), kink=a.sym - b.sym)),
        "min(x, y)"),

    # -- gradtrace.ops.arrays ------------------------------------------------------------------
    "matmul": OpCase(matmul_cases(), rf.matmul, fm.matmul_form, Example("M @ x"),
                     edges=frozenset({SIZE_0})),
    "transpose": OpCase(transpose_cases(), rf.transpose, fm.transpose_form, Example("M.T"),
                        edges=EVERY_EDGE),
    "reshape": OpCase(reshape_cases(), rf.reshape, fm.reshape_form,
                      Example("reshape(M, 3, 2)"), edges=EVERY_EDGE),
    "index": OpCase(index_cases(), rf.index, fm.index_form, Example("M[1, 0:2]"),
                    edges=frozenset({SIZE_0})),
    "sum": OpCase(sum_cases(), rf.total, fm.sum_form, Example("sum(M, axis=0)"),
                  edges=EVERY_EDGE),
    "mean": OpCase(mean_cases(), rf.mean, fm.mean_form, Example("mean(M, axis=1)"),
                   edges=frozenset({ZERO_D})),
    "amax": OpCase(extreme_cases(), rf.amax, fm.extreme_form("max", sp.Max),
                   Example("max(M, axis=0)"), edges=EVERY_EDGE, slow_lowering=True),
    "amin": OpCase(extreme_cases(), rf.amin, fm.extreme_form("min", sp.Min), Example("min(M)"),
                   edges=EVERY_EDGE),
    "softmax": OpCase(softmax_cases(), rf.softmax, fm.softmax_form(log=False),
                      Example("softmax(M, axis=1)"), edges=frozenset({SIZE_0})),
    "log_softmax": OpCase(softmax_cases(), rf.log_softmax, fm.softmax_form(log=True),
                          Example("log_softmax(M)"), edges=frozenset({SIZE_0})),

    # -- gradtrace.ops.losses ------------------------------------------------------------------
    "mse": OpCase(mse_cases(), rf.mse, fm.mse_form, Example("mse(x, y)"),
                  elements=(moderate, moderate), attributes=maybe("reduction", reductions),
                  edges=frozenset({ZERO_D}), broadcasts=True),
    "cross_entropy": OpCase(cross_entropy_cases(), rf.cross_entropy, fm.cross_entropy_form,
                            Example("cross_entropy(M, t)", {"t": [0.0, 2.0]}),
                            edges=frozenset({ZERO_D})),
    "nll_loss": OpCase(nll_loss_cases(), rf.nll_loss, fm.nll_loss_form,
                       Example("nll_loss(log_softmax(M), t)", {"t": [1.0, 0.0]}),
                       edges=frozenset({ZERO_D})),
    "binary_cross_entropy": OpCase(
        probability_cases(), rf.binary_cross_entropy, fm.binary_cross_entropy_form,
        Example("binary_cross_entropy(sigmoid(x), t)", {"t": [0.0, 1.0, 1.0]}),
        edges=frozenset({ZERO_D})),
    "binary_cross_entropy_with_logits": OpCase(
        binary_cross_entropy_cases(), rf.binary_cross_entropy_with_logits,
        fm.binary_cross_entropy_with_logits_form,
        Example("binary_cross_entropy_with_logits(x, t)", {"t": [0.0, 1.0, 1.0]}),
        edges=frozenset({ZERO_D})),

    # -- gradtrace.ops.layers ------------------------------------------------------------------
    "linear": OpCase(linear_cases(), rf.linear, fm.linear_form,
                     Example("linear(M, V, y[0:2])",
                             {"V": [[1.0, 0.5, -1.0], [2.0, -0.5, 0.25]]}),
                     edges=frozenset({SIZE_0})),
    "dropout": OpCase(dropout_cases(), rf.dropout, fm.dropout_form,
                      Example("dropout(M, m)", {"m": [[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]]}),
                      edges=EVERY_EDGE),
    "flatten": OpCase(flatten_cases(), rf.flatten, fm.flatten_form,
                      Example("flatten(X)", {"X": IMAGE}), edges=frozenset({SIZE_0})),

    # -- gradtrace.ops.activations -------------------------------------------------------------
    "leaky_relu": elementwise(
        (nonzero,), leaky_relu_sympy, leaky_relu_form, "leaky_relu(x)",
        attributes=maybe("negative_slope", st.sampled_from([0.0, 0.01, 0.2, 1.5]))),
    "elu": elementwise(
        (nonzero,), elu_sympy, elu_form, "elu(x)",
        attributes=maybe("alpha", st.sampled_from([0.5, 1.0, 2.0]))),
    "silu": elementwise(
        (wide,), lambda a: a / (1 + sp.exp(-a)),
        unary(lambda a: call("silu", a, sym=a.sym / (1 + sp.exp(-a.sym)))), "silu(x)"),
    "softplus": elementwise(
        (wide,), lambda a: sp.log(1 + sp.exp(a)),
        unary(lambda a: call("softplus", a, sym=sp.log(1 + sp.exp(a.sym)))), "softplus(x)"),
    "gelu": elementwise(
        (wide,), gelu_sympy, unary(lambda a: call("gelu", a, sym=gelu_sympy(a.sym))), "gelu(x)"),

    # -- gradtrace.ops.convolution -------------------------------------------------------------
    "conv2d": OpCase(conv2d_cases(), rf.conv2d, fm.conv2d_form,
                     Example("conv2d(X, K, y[0:2], padding=1)",
                             {"X": IMAGE, "K": np.ones((2, 1, 2, 2))}),
                     edges=frozenset({SIZE_0})),
    "im2col": OpCase(im2col_cases(), rf.im2col, fm.im2col_form,
                     Example("im2col(X, kernel=(2, 2))", {"X": IMAGE}),
                     edges=frozenset({SIZE_0})),
    "max_pool2d": OpCase(max_pool2d_cases(), rf.max_pool2d,
                         fm.pool_form("max_pool2d", lambda xs: sp.Max(*xs), fm.ties),
                         Example("max_pool2d(X, kernel=2, stride=1)", {"X": IMAGE}),
                         edges=frozenset({SIZE_0}), slow_lowering=True),
    "avg_pool2d": OpCase(avg_pool2d_cases(), rf.avg_pool2d,
                         fm.pool_form("avg_pool2d", lambda xs: sum(xs) / len(xs)),
                         Example("avg_pool2d(X, kernel=2, stride=1)", {"X": IMAGE}),
                         edges=frozenset({SIZE_0})),

    # -- gradtrace.ops.normalisation -----------------------------------------------------------
    "batch_norm": OpCase(batch_norm_cases(), rf.batch_norm, fm.batch_norm_form,
                         Example("batch_norm(M, x, y)"), slow_lowering=True),
    "batch_norm_eval": OpCase(batch_norm_eval_cases(), rf.batch_norm_eval,
                              fm.batch_norm_eval_form, Example("batch_norm_eval(M, x, y, x, y)"),
                              edges=frozenset({SIZE_0})),
}


def row_for(name: str) -> OpCase:
    """The row of registry op `name`; a clear failure when the op has none."""
    assert name in OP_CASES, (
        f"op {name!r} has no row in tests/op_cases.py: add one (its input strategy, SymPy form, "
        "random-expression form and example) and every per-op test covers it")
    return OP_CASES[name]


# random expressions over every op's form
random_expressions = fm.expressions([OP_CASES[name].form for name in sorted(OP_CASES)])


def edge_cases_declared() -> list[tuple[str, str]]:
    """(op name, edge shape) for every edge shape a row declares, in name order."""
    return [(name, edge) for name in sorted(OP_CASES) for edge in sorted(OP_CASES[name].edges)]


@functools.lru_cache(maxsize=None)
def edge_case(name: str, edge: str):
    """A case of op `name` with this edge shape ("0-d", "size 0"), found in its row's strategy:
    the first one drawn, the same on every run."""
    return find(row_for(name).cases, lambda case: edge in edges_of(case),
                settings=settings(database=None, derandomize=True, max_examples=2000,
                                  phases=[Phase.generate]))
