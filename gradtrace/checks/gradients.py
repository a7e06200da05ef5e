"""Every traced gradient checked two more ways: symbolically (SymPy differentiates the graph's
expression and evaluates the derivative at the point, see symbolic.py) and numerically
(central differences, element by element).

SymPy is imported lazily, only when a check runs.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..core.backprop import evaluate
from ..core.graph import Graph
from ..core.trace import GradientCheck, Trace
from .finite_differences import CUBE_ROOT_EPS, central_differences
from .symbolic import evaluate_derivative, symbolic_derivatives, symbolic_skip_reason

SYMBOLIC_RTOL, SYMBOLIC_ATOL = 1e-9, 1e-12
NUMERIC_RTOL, NUMERIC_ATOL = 1e-5, 1e-6
# Central differences run the whole graph twice per element. Past this many seconds (estimated
# from the graph's size before running), only evenly spread elements are differenced one by
# one; all the others are checked together along one random direction (as PyTorch's fast
# gradcheck does): (f(x + h·v) − f(x − h·v)) / 2h must equal Σ gradient·v.
NUMERIC_SECONDS = 2.0
_SECONDS_PER_OP, _SECONDS_PER_NUMBER = 5e-6, 2e-9


class _Joint(NamedTuple):
    """The random-direction check of the elements not differenced one by one."""

    agree: bool
    finite: bool


def check_gradients(trace: Trace, derivatives: dict | None = None) -> tuple[GradientCheck, ...]:
    """Check every traced gradient of `trace`. `derivatives` (from `symbolic_derivatives`) may
    be passed in when the same graph is checked at many points, so SymPy differentiates once."""
    at = {name: trace.by_id[name].value for name in trace.inputs}
    scale = _output_scale(trace)
    skipped_why = symbolic_skip_reason(trace)
    if derivatives is None and not skipped_why:
        derivatives = symbolic_derivatives(trace)
    kinked = _inputs_below_kinks(trace)
    output_finite = bool(np.all(np.isfinite(trace.by_id[trace.output].value)))
    plan = numeric_plan(trace)
    joint = _joint_check(trace, at, plan, scale)
    checks = []
    for name in trace.wrt:
        traced = trace.by_id[name].grad
        numeric = central_difference(trace.graph, at, name, plan[name])
        expr = exact = None
        if not skipped_why:
            expr, derivative = derivatives[name]
            exact = evaluate_derivative(derivative, at)
        checks.append(_verdict(name, traced, expr, exact, numeric, kinked.get(name),
                               skipped_why, scale, output_finite, plan[name], joint))
    return tuple(checks)


def numeric_plan(trace: Trace) -> dict[str, np.ndarray | None]:
    """For each traced input, which elements (flat indices) to difference one by one: all of
    them (None), unless that would take longer than NUMERIC_SECONDS; then as many as fit,
    spread evenly over the inputs' elements taken in order (an input may get none)."""
    per_run = (len(trace.graph.ops) * _SECONDS_PER_OP
               + sum(np.size(value) for value in trace.values.values()) * _SECONDS_PER_NUMBER)
    sizes = {name: int(np.size(trace.by_id[name].value)) for name in trace.wrt}
    total = sum(sizes.values())
    affordable = int(NUMERIC_SECONDS / (2 * per_run))
    if total <= affordable:
        return dict.fromkeys(sizes)
    picked = np.unique(np.linspace(0, total - 1, max(affordable, 1)).round().astype(np.intp))
    plan, start = {}, 0
    for name, size in sizes.items():
        mine = picked[(picked >= start) & (picked < start + size)] - start
        plan[name] = None if len(mine) == size else mine
        start += size
    return plan


def _joint_check(trace: Trace, at: dict, plan: dict, scale: float) -> _Joint | None:
    """Every element left out of `plan`, checked at once along one random unit direction v
    (seeded, so the same trace gets the same check)."""
    left_out = {name: np.setdiff1d(np.arange(np.size(at[name])), elements)
                for name, elements in plan.items() if elements is not None}
    if not left_out:
        return None
    rng = np.random.default_rng(0)
    direction = {name: rng.standard_normal(len(flat)) for name, flat in left_out.items()}
    norm = np.sqrt(sum(float(v @ v) for v in direction.values()))
    largest = max(float(np.max(np.abs(np.ravel(at[name])[flat]), initial=0.0))
                  for name, flat in left_out.items())
    h = CUBE_ROOT_EPS * max(1.0, largest)
    moved = {}
    for sign in (1.0, -1.0):
        point = dict(at)
        for name, flat in left_out.items():
            value = np.array(at[name], dtype=np.float64)
            value.ravel()[flat] += sign * h * direction[name] / norm
            point[name] = value
        moved[sign] = np.sum(evaluate(trace.graph, point)[trace.graph.output])
    numeric = (moved[1.0] - moved[-1.0]) / (2 * h)
    traced = sum(float(np.ravel(trace.by_id[name].grad)[flat] @ direction[name])
                 for name, flat in left_out.items()) / norm
    finite = bool(np.isfinite(numeric) and np.isfinite(traced))
    return _Joint(finite and _close(traced, numeric, NUMERIC_RTOL, NUMERIC_ATOL * scale), finite)


def _verdict(name, traced, expr, exact, numeric, kink_rule, skipped_why, scale,
             output_finite=True, elements=None, joint=None):
    atol = NUMERIC_ATOL * scale
    notes = [skipped_why] if skipped_why else []
    compared, numeric_part = traced, numeric
    if elements is not None:  # some elements were checked along the random direction instead
        size, one_by_one = np.size(traced), len(elements)
        notes.append(f"numeric: {one_by_one:,} of {size:,} elements one by one, the other "
                     f"{size - one_by_one:,} along one random direction (all one by one would "
                     "take too long)" if one_by_one else
                     "numeric: along one random direction, with the inputs not differenced one "
                     "by one (all one by one would take too long)")
        compared, numeric_part = np.ravel(traced)[elements], np.ravel(numeric)[elements]
        numeric = None
    agree_numeric = (_close(compared, numeric_part, NUMERIC_RTOL, atol)
                     and (elements is None or joint.agree))
    numeric_finite = bool(np.all(np.isfinite(numeric_part))) and (
        elements is None or joint.finite)
    agree_symbolic = exact is None or _close(traced, exact, SYMBOLIC_RTOL, SYMBOLIC_ATOL)
    if not output_finite:
        status = "not finite"
        notes.append("the output itself is not finite here")
    elif not np.all(np.isfinite(traced)):
        status = "not finite"
    elif not numeric_finite:
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
    out = np.abs(np.asarray(trace.by_id[trace.output].value, dtype=np.float64))
    finite = out[np.isfinite(out)] if out.ndim else (out if np.isfinite(out) else 1.0)
    return float(max(1.0, np.max(finite, initial=1.0)))


def central_difference(graph: Graph, at: dict, name: str, elements=None) -> np.ndarray:
    """d output / d name by central differences, one element of `name` at a time: every
    element, or only those at the flat indices `elements` (the others are left nan). A vector
    output is summed, as backprop seeds every output element with 1."""
    def output_sum(value):
        return np.sum(evaluate(graph, {**at, name: value})[graph.output])

    return central_differences(output_sum, at[name], elements=elements)


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
