"""Every traced gradient checked two more ways: symbolically (SymPy differentiates the graph's
expression and evaluates the derivative at the point, see symbolic.py) and numerically
(central differences, element by element).

SymPy is imported lazily, only when a check runs.
"""

from __future__ import annotations

import numpy as np

from .backprop import evaluate
from .graph import Graph
from .symbolic import evaluate_derivative, symbolic_derivatives, symbolic_skip_reason
from .trace import GradientCheck, Trace

SYMBOLIC_RTOL, SYMBOLIC_ATOL = 1e-9, 1e-12
NUMERIC_RTOL, NUMERIC_ATOL = 1e-5, 1e-6
_STEP = np.finfo(np.float64).eps ** (1 / 3)  # balances truncation against rounding error
# Central differences run the whole graph twice per element. Past this many seconds (estimated
# from the graph's size before running), large arrays are checked at evenly spread elements.
NUMERIC_SECONDS = 2.0
_SECONDS_PER_OP, _SECONDS_PER_NUMBER = 5e-6, 2e-9


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
    plan = numeric_plan(trace)
    checks = []
    for name in trace.wrt:
        traced = trace.node[name].grad
        numeric = central_difference(trace.graph, at, name, plan[name])
        expr = exact = None
        if not skipped_why:
            expr, derivative = derivatives[name]
            exact = evaluate_derivative(derivative, at)
        checks.append(_verdict(name, traced, expr, exact, numeric, kinked.get(name),
                               skipped_why, scale, output_finite, plan[name]))
    return tuple(checks)


def numeric_plan(trace: Trace) -> dict[str, np.ndarray | None]:
    """For each traced input, which elements (flat indices) to difference: all (None), unless
    that would take longer than NUMERIC_SECONDS; then an equal share of evenly spread elements
    for each input too large for it (at least one element each)."""
    per_run = (len(trace.graph.ops) * _SECONDS_PER_OP
               + sum(np.size(record.value) for record in trace.nodes) * _SECONDS_PER_NUMBER)
    sizes = {name: int(np.size(trace.node[name].value)) for name in trace.wrt}
    affordable = int(NUMERIC_SECONDS / (2 * per_run))
    if sum(sizes.values()) <= affordable:
        return dict.fromkeys(sizes)
    share = max(1, affordable // max(len(sizes), 1))
    return {name: None if size <= share else
            np.unique(np.linspace(0, size - 1, share).round().astype(np.intp))
            for name, size in sizes.items()}


def _verdict(name, traced, expr, exact, numeric, kink_rule, skipped_why, scale,
             output_finite=True, elements=None):
    atol = NUMERIC_ATOL * scale
    notes = [skipped_why] if skipped_why else []
    if elements is not None:  # only these elements were differenced: judge by them
        notes.append(f"numeric: {len(elements):,} of {np.size(traced):,} elements, spread "
                     "evenly (all of them would take too long)")
        compared = np.ravel(traced)[elements]
        numeric_part, numeric = np.ravel(numeric)[elements], None
    else:
        compared, numeric_part = traced, numeric
    agree_numeric = _close(compared, numeric_part, NUMERIC_RTOL, atol)
    agree_symbolic = exact is None or _close(traced, exact, SYMBOLIC_RTOL, SYMBOLIC_ATOL)
    if not output_finite:
        status = "not finite"
        notes.append("the output itself is not finite here")
    elif not np.all(np.isfinite(traced)):
        status = "not finite"
    elif not np.all(np.isfinite(numeric_part)):
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


def central_difference(graph: Graph, at: dict, name: str, elements=None) -> np.ndarray:
    """d output / d name by (f(x + h) - f(x - h)) / 2h, one element of `name` at a time: every
    element, or only those at the flat indices `elements` (the others are left nan)."""
    base = np.asarray(at[name], dtype=np.float64)
    if elements is None:
        gradient, indices = np.zeros_like(base), np.ndindex(base.shape)
    else:
        gradient = np.full_like(base, np.nan)
        indices = (np.unravel_index(flat, base.shape) for flat in elements)
    for index in indices:
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
