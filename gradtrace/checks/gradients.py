"""Every traced gradient checked two more ways: symbolically (SymPy differentiates the graph's
expression and evaluates the derivative at the point, see symbolic.py) and numerically
(finite differences, element by element, see finite_differences.py).

Both differentiate what backprop differentiated: the output itself when it is a number, else
Σ grad_output ⊙ output (the trace's `grad_output`; ones when it has none).

Each input's check ends in one status: "agree", "disagree", "kink" (not differentiable at the
point; the traced value follows the op's convention), "not finite" (the output or the traced
gradient is inf or nan) or "not checked" (neither SymPy nor finite differences could give a
value here: the note says why). Only "disagree" and "not finite" fail the command; a leg that
could not be done for some elements is named in the note.

SymPy is imported lazily, only when a check runs.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np

from ..core.backprop import evaluate
from ..core.graph import Graph
from ..core.registry import REGISTRY
from ..core.trace import GradientCheck, Trace
from ..core.i18n import Joined, message
from .finite_differences import (EVALUATIONS_PER_ELEMENT, Differences, Evaluations, Rule,
                                 differences, reasons_said, settled)
from .symbolic import SymbolicSkipped, evaluate_derivative, symbolic_leg

SYMBOLIC_RTOL, SYMBOLIC_ATOL = 1e-9, 1e-12
NUMERIC_RTOL, NUMERIC_ATOL = 1e-5, 1e-6
# The settled step rule stops when two estimates in a row agree within this fraction of the
# numeric tolerance, so the estimate's own error is well inside what the check allows.
SETTLE_FRACTION = 0.1
# Finite differences run the whole graph at least EVALUATIONS_PER_ELEMENT times per element.
# Past this many seconds (estimated from the graph's size before running), only evenly spread
# elements are differenced one by one; all the others are checked together along one random
# direction (as PyTorch's fast gradcheck does): the derivative of f(x + t·v) must equal
# Σ gradient·v. Elements that need smaller steps draw on an extra quarter of the budget; the
# budget counts evaluations, so the verdict does not depend on the machine's speed.
# symbolic.py keeps the SymPy leg to the same budget (SYMBOLIC_SECONDS).
NUMERIC_SECONDS = 2.0
_SECONDS_PER_OP, _SECONDS_PER_NUMBER = 5e-6, 2e-9
_SECONDS_PER_MULTIPLY_ADD = 1e-10  # float64 BLAS on one slow core, with room to spare
NOT_CHECKED = "not checked"


class _Joint(NamedTuple):
    """The random-direction check of the elements not differenced one by one."""

    agree: bool  # (True where there is nothing to compare: see why_not, or a traced inf)
    why_not: str = ""  # why finite differences gave no estimate along the direction


def check_gradients(trace: Trace, derivatives: dict | None = None,
                    symbolic_note: str = "") -> tuple[GradientCheck, ...]:
    """Check every traced gradient of `trace`. `derivatives` (from `symbolic_leg`) and its
    `symbolic_note` may be passed in when the same graph is checked at many points, so SymPy
    differentiates once (an empty dict with a note: SymPy was skipped)."""
    at = {name: trace.by_id[name].value for name in trace.inputs}
    scale = _output_scale(trace)
    if derivatives is None and not symbolic_note:
        derivatives, symbolic_note = symbolic_leg(trace)
    exact_values = {}
    if not symbolic_note:
        try:
            exact_values = {name: evaluate_derivative(derivatives[name][1], at)
                            for name in trace.wrt}
        except SymbolicSkipped as skipped:
            symbolic_note = skipped.note
    kinked = _inputs_below_kinks(trace)
    output_finite = bool(np.all(np.isfinite(trace.by_id[trace.output].value)))
    plan = numeric_plan(trace)
    budget = Evaluations(_extra_evaluations(trace, plan))
    rule = settled(SETTLE_FRACTION * NUMERIC_RTOL, SETTLE_FRACTION * NUMERIC_ATOL * scale)
    weights = trace.grad_output
    joint = _joint_check(trace, at, plan, scale, rule, budget)
    checks = []
    for name in trace.wrt:
        traced = trace.by_id[name].grad
        found = _differences(trace.graph, at, name, plan[name], rule, budget, weights)
        expr = exact = None
        if not symbolic_note:
            expr, exact = derivatives[name][0], exact_values[name]
        checks.append(_verdict(name, traced, expr, exact, found, kinked.get(name),
                               symbolic_note, scale, output_finite, plan[name], joint))
    return tuple(checks)


def numeric_plan(trace: Trace) -> dict[str, np.ndarray | None]:
    """For each traced input, which elements (flat indices) to difference one by one: all of
    them (None), unless that would take longer than NUMERIC_SECONDS; then as many as fit,
    spread evenly over the inputs' elements taken in order (an input may get none)."""
    sizes = {name: int(np.size(trace.by_id[name].value)) for name in trace.wrt}
    total = sum(sizes.values())
    affordable = _affordable_runs(trace) // EVALUATIONS_PER_ELEMENT
    if total <= affordable:
        return dict.fromkeys(sizes)
    picked = np.unique(np.linspace(0, total - 1, max(affordable, 1)).round().astype(np.intp))
    plan, start = {}, 0
    for name, size in sizes.items():
        mine = picked[(picked >= start) & (picked < start + size)] - start
        plan[name] = None if len(mine) == size else mine
        start += size
    return plan


def _affordable_runs(trace: Trace) -> int:
    """How many times the graph can be run in NUMERIC_SECONDS, estimated from its size: its
    ops, the numbers it holds, and the multiply-adds of its products (Op.work: a product of
    two 3000×3000 matrices holds 27 million numbers but does 27 billion multiply-adds)."""
    per_run = (len(trace.graph.ops) * _SECONDS_PER_OP
               + sum(np.size(value) for value in trace.values.values()) * _SECONDS_PER_NUMBER
               + _multiply_adds(trace) * _SECONDS_PER_MULTIPLY_ADD)
    return int(NUMERIC_SECONDS / per_run) if per_run else 1 << 30


def _multiply_adds(trace: Trace) -> int:
    """The multiply-adds of one run of the graph, by the ops that declare them."""
    total = 0
    for node in trace.graph.ops:
        work = REGISTRY[node.op].work
        if work is not None:
            shapes = tuple(np.shape(trace.values[source]) for source in node.inputs)
            total += work(shapes, np.shape(trace.values[node.id]))
    return total


def _extra_evaluations(trace: Trace, plan: dict) -> int:
    """Runs left for smaller steps: what the plan leaves of the budget, and at least a
    quarter of it."""
    runs = _affordable_runs(trace)
    planned = sum(np.size(trace.by_id[name].value) if elements is None else len(elements)
                  for name, elements in plan.items()) * EVALUATIONS_PER_ELEMENT
    return max(runs - planned, runs // 4)


def _joint_check(trace: Trace, at: dict, plan: dict, scale: float, rule: Rule,
                 budget: Evaluations) -> _Joint | None:
    """Every element left out of `plan`, checked at once along one random unit direction v
    (seeded, so the same trace gets the same check): the derivative of f(x + t·v) at t = 0,
    by the same step rule, against Σ gradient·v."""
    left_out = {name: _others(np.size(at[name]), elements)
                for name, elements in plan.items() if elements is not None}
    if not left_out:
        return None
    rng = np.random.default_rng(0)
    direction = {name: rng.standard_normal(len(flat)) for name, flat in left_out.items()}
    norm = np.sqrt(sum(float(v @ v) for v in direction.values()))
    largest = max(float(np.max(np.abs(np.ravel(at[name])[flat]), initial=0.0))
                  for name, flat in left_out.items())
    output = _differentiated(trace.graph, trace.grad_output)

    def move(t: float) -> tuple[float, float]:
        point = dict(at)
        for name, flat in left_out.items():
            value = np.array(at[name], dtype=np.float64)
            value.ravel()[flat] += t * direction[name] / norm
            point[name] = value
        return output(point), t

    estimate = rule(move, output(at), largest, budget)
    traced = sum(float(np.ravel(trace.by_id[name].grad)[flat] @ direction[name])
                 for name, flat in left_out.items()) / norm
    if estimate.why_not:
        return _Joint(True, estimate.why_not)
    if not np.isfinite(traced):  # an input whose gradient is not finite says so itself
        return _Joint(True)
    return _Joint(_close(traced, estimate.value, NUMERIC_RTOL, NUMERIC_ATOL * scale))


def _marked(size: int, elements) -> np.ndarray:
    """A mask of `size` with `elements` set: linear time, where np.setdiff1d sorts (21 s of
    hashing and sorting for a 4000×4000 input)."""
    mask = np.zeros(size, dtype=bool)
    mask[np.asarray(elements, dtype=np.intp)] = True
    return mask


def _others(size: int, elements) -> np.ndarray:
    """The flat indices 0..size-1 not in `elements`, in order."""
    return np.flatnonzero(~_marked(size, elements))


def _verdict(name, traced, expr, exact, found: Differences, kink_rule, skipped_why, scale,
             output_finite=True, elements=None, joint=None):
    atol = NUMERIC_ATOL * scale
    notes = [skipped_why] if skipped_why else []
    size = int(np.size(traced))
    looked = np.arange(size) if elements is None else np.asarray(elements, dtype=np.intp)
    estimated = looked[~_marked(size, np.fromiter(found.why_not, dtype=np.intp))[looked]]
    numeric = found.gradient
    if elements is not None:  # some elements were checked along the random direction instead
        one_by_one = len(elements)
        notes.append(message("numeric: {one_by_one} of {size} elements one by one, the other "
                             "{others} along one random direction (all one by one would take "
                             "too long)", one_by_one=f"{one_by_one:,}", size=f"{size:,}",
                             others=f"{size - one_by_one:,}") if one_by_one else
                     message("numeric: along one random direction, with the inputs not "
                             "differenced one by one (all one by one would take too long)"))
        numeric = None
    joint_note = ""
    if joint is not None and joint.why_not and elements is not None:
        joint_note = message("numeric along the random direction not checked, because {why}",
                             why=reasons_said([joint.why_not]))
    compared = np.ravel(traced)[estimated], np.ravel(found.gradient)[estimated]
    agree_numeric = (_close(*compared, NUMERIC_RTOL, atol)
                     and (elements is None or joint.agree))
    numeric_done = size == 0 or len(estimated) > 0 or (
        elements is not None and not joint.why_not)
    traced_finite = bool(np.all(np.isfinite(traced)))
    agree_symbolic = True
    if exact is not None:
        # SymPy's formula may be undefined where the function is not (x**y·y/x at x = 0):
        # no verdict from it there, rather than a disagreement with a finite traced value
        symbolic, mine = np.asarray(exact, dtype=np.float64), np.asarray(traced, np.float64)
        defined = ~(np.isnan(symbolic) & np.isfinite(mine))
        if not np.all(defined):
            notes.append(message("symbolic not compared where SymPy's formula is undefined "
                                 "here (such as 0/0) and the traced gradient is finite"))
        if not np.any(defined):
            exact = None  # nothing to show in its column either
        else:
            agree_symbolic = _close(mine[defined], symbolic[defined], SYMBOLIC_RTOL,
                                    SYMBOLIC_ATOL)
    if not output_finite:
        status = "not finite"
        notes.append(message("the output itself is not finite here"))
    elif not traced_finite:
        status = "not finite"
    elif not numeric_done and exact is None:
        status = NOT_CHECKED
    elif agree_numeric and agree_symbolic:
        status = "agree"
    elif kink_rule:
        status = "kink"
    else:
        status = "disagree"
    # "not checked, because ...": for a check not made at all, the reason leads
    missing = Joined([_missing_note(found.why_not, np.shape(traced),
                                    leading=status == NOT_CHECKED), joint_note])
    if missing and output_finite:  # (where f itself is not finite, that says it all)
        if status == NOT_CHECKED:
            notes.insert(0, missing)
        else:
            notes.append(missing)
    if kink_rule:
        notes.append(message("not differentiable at this point; traced uses {rule}",
                             rule=message(kink_rule)))
    return GradientCheck(name, traced, expr, exact, numeric, status, Joined(notes),
                         NUMERIC_RTOL, atol)


def _missing_note(why_not: dict[int, str], shape: tuple, leading: bool = False) -> str:
    """'numeric not checked, because ...' for the elements finite differences gave no value
    for: all of them, or which ones; `leading`: the reason alone ("because ..."), for a check
    that is "not checked" as a whole."""
    if not why_not:
        return ""
    because = reasons_said(why_not.values())
    size = int(np.prod(shape))
    if len(why_not) == size:
        if leading:
            return message("because {because}", because=because)
        return message("numeric not checked, because {because}", because=because)
    indices = [np.unravel_index(i, shape) for i in sorted(why_not)]
    shown = ", ".join("[" + ",".join(map(str, index)) + "]" for index in indices[:5])
    more = ", ..." if len(indices) > 5 else ""
    return message("numeric not checked for {count} of {size} elements ({shown}), because "
                   "{because}", count=f"{len(why_not):,}", size=f"{size:,}",
                   shown=shown + more, because=because)


def _close(a, b, rtol, atol) -> bool:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    same_inf = np.isinf(a) & np.isinf(b) & (np.sign(a) == np.sign(b))
    with np.errstate(invalid="ignore"):  # inf - inf: judged by same_inf instead
        near = np.abs(a - b) <= atol + rtol * np.maximum(np.abs(a), np.abs(b))
    return bool(np.all(same_inf | near))


def _output_scale(trace: Trace) -> float:
    """Finite differences lose digits in proportion to |f|; the absolute tolerance follows.
    With a grad_output, f's terms are grad_output ⊙ output."""
    out = np.abs(np.asarray(trace.by_id[trace.output].value, dtype=np.float64))
    if trace.grad_output is not None:
        with np.errstate(invalid="ignore", over="ignore"):
            out = np.abs(np.asarray(trace.grad_output, dtype=np.float64)) * out
    finite = out[np.isfinite(out)] if out.ndim else (out if np.isfinite(out) else 1.0)
    return float(max(1.0, np.max(finite, initial=1.0)))


def _differentiated(graph: Graph, grad_output=None) -> Callable[[dict], float]:
    """The number backprop differentiates, as a function of the point: the output summed
    (backprop seeds every output element with 1), or Σ grad_output ⊙ output. An element
    whose weight is 0 does not count, even where it is not finite."""
    if grad_output is None:
        return lambda point: float(np.sum(evaluate(graph, point)[graph.output]))
    weights = np.asarray(grad_output, dtype=np.float64)
    counted = weights != 0

    def weighted(point) -> float:
        output = np.broadcast_to(evaluate(graph, point)[graph.output], weights.shape)
        return float(np.sum(weights[counted] * output[counted]))

    return weighted


def _differences(graph: Graph, at: dict, name: str, elements, rule: Rule,
                 budget: Evaluations, grad_output=None) -> Differences:
    output = _differentiated(graph, grad_output)
    return differences(lambda value: output({**at, name: value}), at[name], rule, elements,
                       budget)


def central_difference(graph: Graph, at: dict, name: str, elements=None,
                       grad_output=None) -> np.ndarray:
    """d output / d name by finite differences with the settled step (finite_differences.py),
    one element of `name` at a time: every element, or only those at the flat indices
    `elements` (the others are left nan, as are elements with no estimate). A vector output is
    summed, as backprop seeds every output element with 1, or weighted by `grad_output`."""
    value = _differentiated(graph, grad_output)(at)
    scale = max(1.0, abs(value)) if np.isfinite(value) else 1.0
    rule = settled(SETTLE_FRACTION * NUMERIC_RTOL, SETTLE_FRACTION * NUMERIC_ATOL * scale)
    return _differences(graph, at, name, elements, rule, Evaluations(), grad_output).gradient


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
