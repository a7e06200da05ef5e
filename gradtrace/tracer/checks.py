"""Every traced gradient checked two more ways: symbolically (SymPy differentiates the graph's
expression and evaluates the derivative at the point) and numerically (central differences).

SymPy is imported here, lazily, only when a check runs. The expression SymPy sees is built from
the graph through each op's `lower` rule, never from the user's text.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from .backprop import evaluate
from .graph import Graph
from .ops import REGISTRY
from .trace import GradientCheck, Trace

SYMBOLIC_OP_LIMIT = 200  # SymPy's derivatives grow fast with depth; beyond this, skip it
SYMBOLIC_RTOL, SYMBOLIC_ATOL = 1e-9, 1e-12
NUMERIC_RTOL, NUMERIC_ATOL = 1e-5, 1e-6
_STEP = np.finfo(np.float64).eps ** (1 / 3)  # balances truncation against rounding error


def check_gradients(trace: Trace, derivatives: dict | None = None) -> tuple[GradientCheck, ...]:
    """Check every traced gradient of `trace`. `derivatives` (from `symbolic_derivatives`) may
    be passed in when the same graph is checked at many points, so SymPy differentiates once."""
    at = {name: trace.node[name].value for name in trace.inputs}
    scale = _output_scale(trace)
    skipped_why = symbolic_skip_reason(trace)
    if derivatives is None and not skipped_why:
        derivatives = symbolic_derivatives(trace)
    kinked = _inputs_below_kinks(trace)
    output_finite = bool(np.all(np.isfinite(trace.node[trace.output].value)))
    checks = []
    for name in trace.wrt:
        traced = trace.node[name].grad
        numeric = central_difference(trace.graph, at, name)
        expr = exact = None
        if not skipped_why:
            expr, derivative = derivatives[name]
            exact = evaluate_derivative(derivative, at)
        checks.append(_verdict(name, traced, expr, exact, numeric, kinked.get(name),
                               skipped_why, scale, output_finite))
    return tuple(checks)


def _verdict(name, traced, expr, exact, numeric, kink_rule, skipped_why, scale,
             output_finite=True):
    atol = NUMERIC_ATOL * scale
    agree_numeric = _close(traced, numeric, NUMERIC_RTOL, atol)
    agree_symbolic = exact is None or _close(traced, exact, SYMBOLIC_RTOL, SYMBOLIC_ATOL)
    notes = [skipped_why] if skipped_why else []
    if not output_finite:
        status = "not finite"
        notes.append("the output itself is not finite here")
    elif not np.all(np.isfinite(traced)):
        status = "not finite"
    elif not np.all(np.isfinite(numeric)):
        status = "not finite"
        notes.append("the finite difference steps outside the domain here")
    elif agree_numeric and agree_symbolic:
        status = "agree"
    elif kink_rule:
        status = "kink"
    else:
        status = "disagree"
    if kink_rule:
        notes.append(f"not differentiable at this point; traced uses {kink_rule}")
    return GradientCheck(name, traced, expr, exact, numeric, status, "; ".join(notes),
                         NUMERIC_RTOL, atol)


def _close(a, b, rtol, atol) -> bool:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    same_inf = np.isinf(a) & np.isinf(b) & (np.sign(a) == np.sign(b))
    with np.errstate(invalid="ignore"):  # inf - inf: judged by same_inf instead
        near = np.abs(a - b) <= atol + rtol * np.maximum(np.abs(a), np.abs(b))
    return bool(np.all(same_inf | near))


def _output_scale(trace: Trace) -> float:
    """Finite differences lose digits in proportion to |f|; the absolute tolerance follows."""
    out = np.abs(np.asarray(trace.node[trace.output].value, dtype=np.float64))
    finite = out[np.isfinite(out)] if out.ndim else (out if np.isfinite(out) else 1.0)
    return float(max(1.0, np.max(finite, initial=1.0)))


def central_difference(graph: Graph, at: dict, name: str) -> np.ndarray:
    """d output / d name by (f(x + h) - f(x - h)) / 2h, one element of `name` at a time."""
    base = np.asarray(at[name], dtype=np.float64)
    gradient = np.zeros_like(base)
    for index in np.ndindex(base.shape):
        h = _STEP * max(1.0, abs(float(base[index])))
        plus, minus = base.copy(), base.copy()
        plus[index] += h
        minus[index] -= h
        f_plus = np.sum(evaluate(graph, {**at, name: plus})[graph.output])
        f_minus = np.sum(evaluate(graph, {**at, name: minus})[graph.output])
        gradient[index] = (f_plus - f_minus) / (plus[index] - minus[index])
    return gradient


def _inputs_below_kinks(trace: Trace) -> dict[str, str]:
    """Each input from which a path leads through an op sitting on a kink, with the rule used."""
    found: dict[str, str] = {}
    graph = trace.graph
    for node_id, rule in trace.kinks:
        stack, seen = [node_id], set()
        while stack:
            current = stack.pop()
            if current in seen:
                continue
            seen.add(current)
            node = graph.by_id[current]
            if node.kind == "input":
                found.setdefault(current, rule)
            stack.extend(node.inputs)
    return found


def symbolic_skip_reason(trace: Trace) -> str:
    """Why SymPy is not asked (empty when it is)."""
    values = [record.value for record in trace.nodes]
    if any(np.ndim(value) for value in values):
        return "symbolic check is for scalar expressions"
    if len(trace.graph.ops) > SYMBOLIC_OP_LIMIT:
        return (f"symbolic check skipped: {len(trace.graph.ops)} operations "
                f"(limit {SYMBOLIC_OP_LIMIT})")
    return ""


def symbolic_derivatives(trace: Trace) -> dict[str, tuple[str, object]]:
    """{input: (d output / d input as text, as a SymPy expression)}."""
    import sympy as sp

    graph = trace.graph
    symbols = {name: sp.Symbol(name, real=True) for name in graph.inputs}
    expr = _lower(graph, trace, symbols, sp)
    result = {}
    for name in trace.wrt:
        derivative = sp.diff(expr, symbols[name])
        result[name] = (sp.sstr(_readable(derivative, sp)), derivative)
    return result


SIMPLIFY_OP_LIMIT = 8  # simplify is cheap on small expressions and blows up on nested sigmoids


def _readable(derivative, sp):
    """The derivative to print: simplified when it is small enough for that to be cheap and
    the result is shorter; as differentiated otherwise."""
    size = sp.count_ops(derivative)
    if size == 0 or size > SIMPLIFY_OP_LIMIT:
        return derivative
    simpler = sp.simplify(derivative)
    return simpler if sp.count_ops(simpler) < size else derivative


def evaluate_derivative(derivative, at: dict) -> np.ndarray:
    """A SymPy derivative's value at the point, to 30 digits, as float64."""
    import sympy as sp

    point = {sp.Symbol(name, real=True): sp.Float(float(value), 30)
             for name, value in at.items()}
    try:
        value = derivative.xreplace(point).evalf(30)
        if value.is_real is False or value.has(sp.zoo, sp.nan):
            return np.asarray(np.nan)
        if value in (sp.oo, -sp.oo):
            return np.asarray(np.inf if value == sp.oo else -np.inf)
        return np.asarray(float(value))
    except (TypeError, ValueError, ZeroDivisionError, OverflowError):
        return np.asarray(np.nan)


def _lower(graph: Graph, trace: Trace, symbols, sp):
    """The graph as one SymPy expression. A node fed only by constants becomes its float64
    value, so SymPy never computes something like 10**10**10 exactly."""
    exprs, constant = {}, set()
    for node in graph.nodes:
        if node.kind == "input":
            exprs[node.id] = symbols[node.id]
        elif node.kind == "const":
            exprs[node.id] = _number(node.value, sp)
            constant.add(node.id)
        elif all(source in constant for source in node.inputs):
            exprs[node.id] = _number(trace.node[node.id].value, sp, exact=False)
            constant.add(node.id)
        else:
            args = [exprs[source] for source in node.inputs]
            exprs[node.id] = REGISTRY[node.op].lower(sp, *args)
    return exprs[graph.output]


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
