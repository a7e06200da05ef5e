"""The symbolic leg of the checks: SymPy builds the graph's expression through each op's
SymPy rule (never from the user's text), differentiates it and evaluates the derivative.

Arrays are handled element by element: an input of shape (2, 3) becomes six symbols W[0,0],
..., every node an object array of SymPy expressions, and the output (summed, since backprop
seeds every output element with 1) is differentiated by each element symbol.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from ..core.composite import Ops
from ..core.graph import Graph
from ..core.trace import Trace
from ..ops import REGISTRY

SYMBOLIC_OP_LIMIT = 200  # SymPy's derivatives grow fast with depth; beyond this, skip it
SYMBOLIC_ELEMENT_LIMIT = 16  # per input, for arrays
SIMPLIFY_OP_LIMIT = 8  # simplify is cheap on small expressions and blows up on nested sigmoids
MAX_SHOWN_TEXT = 400
NAMED_CONSTANTS_IN_SYMPY = {"e": "E", "pi": "pi", "π": "pi"}  # core.graph.NAMED_CONSTANTS


def symbolic_skip_reason(trace: Trace) -> str:
    """Why SymPy is not asked (empty when it is)."""
    largest = max((np.size(trace.by_id[name].value) for name in trace.inputs), default=0)
    if largest > SYMBOLIC_ELEMENT_LIMIT:
        return (f"symbolic check skipped: an input has {largest} elements "
                f"(limit {SYMBOLIC_ELEMENT_LIMIT})")
    if len(trace.graph.ops) > SYMBOLIC_OP_LIMIT:
        return (f"symbolic check skipped: {len(trace.graph.ops)} operations "
                f"(limit {SYMBOLIC_OP_LIMIT})")
    return ""


def symbolic_derivatives(trace: Trace) -> dict[str, tuple[str, np.ndarray]]:
    """{input: (d output / d input as text, an object array of SymPy derivatives shaped like
    the input)}."""
    import sympy as sp

    graph = trace.graph
    symbols = {name: _symbols(name, np.shape(trace.by_id[name].value), sp)
               for name in graph.inputs}
    output = _in_sympy_graph(graph, trace, symbols, sp)
    total = sp.Add(*np.ravel(output)) if np.ndim(output) else output.item()
    result = {}
    for name in trace.wrt:
        derivative = np.frompyfunc(lambda s: sp.diff(total, s), 1, 1)(symbols[name])
        derivative = np.asarray(derivative, dtype=object)
        result[name] = (_text(name, derivative, sp), derivative)
    return result


def evaluate_derivative(derivative: np.ndarray, at: dict) -> np.ndarray:
    """The derivatives' values at the point, to 30 digits, as a float64 array."""
    import sympy as sp

    point = {}
    for name, value in at.items():
        value = np.asarray(value, dtype=np.float64)
        for index, symbol in zip(np.ndindex(value.shape), np.ravel(_symbols(name, value.shape, sp))):
            point[symbol] = sp.Float(float(value[index]), 30)
    evaluate = np.frompyfunc(lambda expr: _number_at(expr, point, sp), 1, 1)
    with np.errstate(over="ignore"):  # a derivative beyond float64 is inf, as it should be
        return np.asarray(evaluate(np.asarray(derivative, dtype=object)), dtype=np.float64)


def _number_at(expr, point, sp) -> float:
    try:
        value = expr.xreplace(point).evalf(30)
        if value.is_real is False or value.has(sp.zoo, sp.nan):
            return np.nan
        if value in (sp.oo, -sp.oo):
            return np.inf if value == sp.oo else -np.inf
        return float(value)
    except (TypeError, ValueError, ZeroDivisionError, OverflowError):
        return np.nan


def _symbols(name: str, shape, sp) -> np.ndarray:
    """One real symbol per element: x for a scalar, W[0,1] for an element of a matrix."""
    if not shape:
        return np.asarray(sp.Symbol(name, real=True), dtype=object)
    symbols = np.empty(shape, dtype=object)
    for index in np.ndindex(shape):
        symbols[index] = sp.Symbol(f"{name}[{','.join(map(str, index))}]", real=True)
    return symbols


def _text(name: str, derivative: np.ndarray, sp) -> str:
    if derivative.ndim == 0:
        return sp.sstr(_readable(derivative.item(), sp))
    parts = [f"[{','.join(map(str, index))}]: {sp.sstr(_readable(derivative[index], sp))}"
             for index in np.ndindex(derivative.shape)]
    text = "; ".join(parts)
    if len(text) > MAX_SHOWN_TEXT:
        return f"{derivative.size} element derivatives (too long to print; values compared)"
    return text


def _readable(derivative, sp):
    """The derivative to print: simplified when it is small enough for that to be cheap and
    the result is shorter; as differentiated otherwise."""
    size = sp.count_ops(derivative)
    if size == 0 or size > SIMPLIFY_OP_LIMIT:
        return derivative
    simpler = sp.simplify(derivative)
    return simpler if sp.count_ops(simpler) < size else derivative


def _in_sympy_graph(graph: Graph, trace: Trace, symbols, sp) -> np.ndarray:
    """Every node as an object array of SymPy expressions. A node fed only by constants
    becomes its float64 value, so SymPy never computes something like 10**10**10 exactly;
    inputs an op does not differentiate (class indices) stay numbers."""
    exprs, constant = {}, set()
    for node in graph.nodes:
        if node.kind == "input":
            exprs[node.id] = symbols[node.id]
        elif node.kind == "const":
            named = NAMED_CONSTANTS_IN_SYMPY.get(node.id)
            exprs[node.id] = (np.asarray(getattr(sp, named), dtype=object) if named else
                              _numbers(node.value, sp, exact=not node.id.startswith("#")))
            constant.add(node.id)
        elif all(source in constant for source in node.inputs):
            exprs[node.id] = _numbers(trace.by_id[node.id].value, sp, exact=False)
            constant.add(node.id)
        else:
            exprs[node.id] = _node_in_sympy(node, graph, trace, exprs, sp)
    return exprs[graph.output]


def _node_in_sympy(node, graph, trace, exprs, sp) -> np.ndarray:
    """One op node in SymPy: its per-element rule, its whole-array rule, or its composite run
    on SymPy expressions."""
    op = REGISTRY[node.op]
    args = [exprs[source] if op.takes_gradient(i) else trace.by_id[source].value
            for i, source in enumerate(node.inputs)]
    return sympy_of_op(op, args, dict(node.attrs), sp)


def sympy_of_op(op, args, attrs, sp) -> np.ndarray:
    """The op applied to object arrays of SymPy expressions, as an object array."""
    if op.sympy_rule is not None:
        written = np.frompyfunc(lambda *xs: op.sympy_rule(sp, *xs), op.arity, 1)(*args)
    elif op.sympy_array_rule is not None:
        written = op.sympy_array_rule(sp, *args, **attrs)
    else:
        written = op.composite(_sympy_ops(sp), *args, **attrs)
    return np.asarray(written, dtype=object)


def _sympy_ops(sp) -> Ops:
    """F for a composite run on object arrays of SymPy expressions."""
    return Ops(lambda op, args, attrs: sympy_of_op(
        op, [np.asarray(arg, dtype=object) for arg in args], attrs, sp))


def _numbers(value, sp, exact=True) -> np.ndarray:
    return np.asarray(np.frompyfunc(lambda x: _number(x, sp, exact), 1, 1)(
        np.asarray(value, dtype=np.float64)), dtype=object)


def _number(value, sp, exact=True):
    number = float(value)
    if np.isnan(number):
        return sp.nan
    if np.isinf(number):
        return sp.oo if number > 0 else -sp.oo
    if exact:  # keep the number as the user wrote it: 0.1 is 1/10, 2 is 2
        fraction = Fraction(repr(number))
        return sp.Rational(fraction.numerator, fraction.denominator)
    return sp.Float(number)
