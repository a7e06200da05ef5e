"""Jacobians: what backprop never builds, built here on purpose to show it.

For a backward step from node y = op(..., x, ...) to its input x, the local derivative is the
Jacobian J = ∂y/∂x, an (y.size × x.size) matrix. `jacobian_view` builds it column by column
from the op's JVP (when small enough), describes its structure, and checks that Jᵀ·upstream
equals the VJP backprop computed without it. `full_jacobian` builds d output / d input for a
whole graph in reverse mode (one VJP per output element) and forward mode (one JVP per input
element), timing both: the textbook reason reverse mode wins for a scalar loss.
"""

from __future__ import annotations

import time
from typing import NamedTuple

import numpy as np

from ..errors import UsageError
from .backprop import evaluate
from .graph import Graph
from .ops import REGISTRY
# The lean whole-graph passes live in passes.py and forward_mode.py; they are found here too.
from .forward_mode import ForwardModeTrace, TangentStep, forward_mode_trace  # noqa: F401,E402
from .passes import jvp_pass, vjp_pass
from .structure import classify, infer, sparsity_picture

MAX_BUILT_ENTRIES = 1_000_000  # beyond this J is described, not built
MAX_SHOWN_ENTRIES = 64  # up to this many entries the view prints every one
MAX_PATTERN_SIDE = 64  # sparsity pictures up to 64 × 64


class JacobianView(NamedTuple):
    node: str  # y, the op node
    input: str  # x, the input the gradient flows to
    op: str
    shape: tuple[int, int]  # (y.size, x.size)
    matrix: np.ndarray | None  # the Jacobian itself when it has <= MAX_BUILT_ENTRIES entries
    structure: str  # "diagonal", "block diagonal", "dense", "sparse", "zero", ... (see structure.py)
    density: float  # fraction of non-zero entries (estimated from the structure if not built)
    pattern: tuple[str, ...] | None  # sparsity picture in unicode blocks, rows top to bottom
    vjp_formula: str  # what backprop computes instead, in the notes' notation (grad_W = ...)
    max_difference: float | None  # max |Jᵀ·upstream − VJP|, None when J was not built
    description: str = ""  # the structure in a sentence; says "not built" when it was not


class FullJacobian(NamedTuple):
    expression: str
    wrt: str
    output_shape: tuple[int, ...]
    input_shape: tuple[int, ...]
    reverse: np.ndarray  # (output size × input size), built one VJP per output element
    forward: np.ndarray  # the same matrix, built one JVP per input element
    reverse_passes: int
    forward_passes: int
    reverse_seconds: float
    forward_seconds: float
    max_difference: float  # max |reverse − forward|
    structure: str = ""  # the full Jacobian's structure, as for a JacobianView
    description: str = ""  # what that structure means, in a sentence
    density: float = 0.0  # fraction of non-zero entries


MAX_FULL_ENTRIES = 4_000_000  # gradtrace jacobian refuses larger Jacobians
MAX_JVP_WORK = 200_000_000  # building J one JVP per column: columns × elements touched per JVP


# -- the local Jacobian of one backward step -------------------------------------------------

def jacobian_views(trace) -> tuple[JacobianView, ...]:
    """One view per backward step, in the order backprop took them."""
    records = trace.node
    return tuple(_view(trace.graph, records, step) for step in trace.backward)


def jacobian_view(trace, step) -> JacobianView:
    """J = ∂node/∂input for one backward step: built from the op's JVP (one unit tangent per
    input element) when small enough, its structure, and max |Jᵀ·upstream − VJP|."""
    return _view(trace.graph, trace.node, step)


def _view(graph, records, step) -> JacobianView:
    node = graph.by_id[step.node]
    op = REGISTRY[step.op]
    attrs = dict(node.attrs)
    inputs = tuple(np.asarray(records[source].value) for source in node.inputs)
    out = np.asarray(records[step.node].value)
    x = inputs[step.index]
    shape = (int(out.size), int(x.size))
    formula = vjp_formula(step, op, np.shape(out) != np.shape(x))
    hint = _matmul_hint(node, inputs, step.index) if op.name == "matmul" else ""
    reason = _too_large(op, inputs, out, x)
    if reason:
        structure, density, text = infer(op, inputs, out, step.index, attrs)
        description = _join(f"not built ({reason}); from the op: {text}", hint)
        return JacobianView(step.node, step.input, step.op, shape, None, structure, density,
                            None, formula, None, description)
    with np.errstate(all="ignore"):
        matrix = local_jacobian(op, inputs, out, step.index, attrs)
        upstream = np.broadcast_to(step.upstream, np.shape(out)).ravel()
        difference = _max_abs(matrix.T @ upstream - np.ravel(step.downstream))
    structure, text = classify(matrix)
    density = float(np.count_nonzero(matrix) / matrix.size) if matrix.size else 0.0
    return JacobianView(step.node, step.input, step.op, shape, matrix, structure, density,
                        sparsity_picture(matrix, MAX_PATTERN_SIDE), formula, difference,
                        _join(text, hint))


def local_jacobian(op, inputs: tuple, out: np.ndarray, index: int, attrs: dict) -> np.ndarray:
    """∂out/∂inputs[index] as an (out.size × x.size) matrix, column j = JVP of unit tangent
    e_j shaped like x (so a broadcast x is differentiated through its own elements)."""
    x = inputs[index]
    n = x.size
    if op.elementwise:  # one batched JVP: the unit tangents along a leading axis
        padding = (1,) * (np.ndim(out) - x.ndim)
        units = np.eye(n).reshape((n,) + padding + x.shape)
        columns = op.jvp(_only(index, units, op.arity), inputs, out, attrs)
        columns = np.broadcast_to(columns, (n,) + np.shape(out))
    else:
        columns = np.empty((n,) + np.shape(out))
        unit = np.zeros(n)
        for j in range(n):
            unit[j] = 1.0
            columns[j] = op.jvp(_only(index, unit.reshape(x.shape), op.arity), inputs, out,
                                attrs)
            unit[j] = 0.0
    return np.asarray(columns).reshape(n, out.size).T


def _only(index: int, tangent, arity: int) -> tuple:
    return tuple(tangent if i == index else None for i in range(arity))


def _too_large(op, inputs, out, x) -> str:
    """Why J is not built here ('' when it is): too many entries, or too many JVPs."""
    entries = out.size * x.size
    if entries > MAX_BUILT_ENTRIES:
        return f"{out.size:,} × {x.size:,} = {entries:,} entries"
    touched = sum(np.size(value) for value in inputs) + out.size
    if not op.elementwise and x.size * touched > MAX_JVP_WORK:
        return f"it would take {x.size:,} JVPs of {touched:,} elements each"
    return ""


def vjp_formula(step, op, broadcast: bool = False) -> str:
    """What backprop computes instead of Jᵀ·upstream, in the notes' notation."""
    if not op.elementwise:
        return f"grad_{step.input} = {step.formula}"
    times = "⊙" if np.ndim(step.upstream) else "×"
    local = step.formula
    summed = ", summed back to its shape" if broadcast and np.ndim(step.downstream) else ""
    if local in ("1", "-1"):  # add and sub pass the gradient on (negated for sub's b)
        sign = "-" if local == "-1" else ""
        return f"grad_{step.input} = {sign}grad_{step.node}{summed}"
    if any(char in local for char in "+-−×*/·^²") and not local.startswith(("(", "[")):
        local = f"({local})"
    return f"grad_{step.input} = grad_{step.node} {times} {local}{summed}"


def _matmul_hint(node, inputs, index) -> str:
    """J of a matrix product a @ b by name, for the 1-d and 2-d cases the notes draw: I ⊗ bᵀ
    for a (bᵀ repeated along the diagonal), a ⊗ I for b."""
    a, b = inputs
    name_a, name_b = node.inputs
    if max(a.ndim, b.ndim) > 2:
        return ""
    if index == 0:
        return f"J = {name_b}ᵀ" if a.ndim == 1 else f"B = {name_b}ᵀ"
    return f"J = {name_a}" if b.ndim == 1 else f"A = {name_a}"


def _join(*texts: str) -> str:
    return "; ".join(text for text in texts if text)


def _max_abs(difference: np.ndarray) -> float:
    return float(np.max(np.abs(difference))) if np.size(difference) else 0.0


# -- the whole graph's Jacobian, both ways ---------------------------------------------------

def full_jacobian(graph: Graph, values: dict, wrt: str, expression: str | None = None
                  ) -> FullJacobian:
    """d output / d wrt as an (output size × input size) matrix, built twice and timed:
    reverse mode, one VJP per output element (seed e_i), and forward mode, one JVP per input
    element (tangent e_j). `values` holds every node's forward value (or just the inputs')."""
    if wrt not in graph.inputs:
        raise UsageError(f"--wrt {wrt}: the expression's inputs are {', '.join(graph.inputs)}")
    if graph.output not in values:
        values = evaluate(graph, values)
    output_shape, input_shape = np.shape(values[graph.output]), np.shape(values[wrt])
    m, n = int(np.prod(output_shape, dtype=np.int64)), int(np.prod(input_shape, dtype=np.int64))
    if m * n > MAX_FULL_ENTRIES:
        raise UsageError(f"the Jacobian would have {m:,} × {n:,} = {m * n:,} entries, more "
                         f"than {MAX_FULL_ENTRIES:,}: pick a smaller input or output")
    start = time.perf_counter()
    reverse = _reverse_rows(graph, values, wrt, output_shape, n)
    middle = time.perf_counter()
    forward = _forward_columns(graph, values, wrt, input_shape, m)
    end = time.perf_counter()
    with np.errstate(invalid="ignore"):
        difference = _max_abs(reverse - forward)
    structure, text = classify(reverse)
    density = float(np.count_nonzero(reverse) / reverse.size) if reverse.size else 0.0
    return FullJacobian(expression or graph.expression, wrt, output_shape, input_shape, reverse,
                        forward, m, n, middle - start, end - middle, difference, structure,
                        text, density)


def _reverse_rows(graph, values, wrt, output_shape, n) -> np.ndarray:
    m = int(np.prod(output_shape, dtype=np.int64))
    rows = np.empty((m, n))
    seed = np.zeros(m)
    for i in range(m):
        seed[i] = 1.0
        rows[i] = vjp_pass(graph, values, seed.reshape(output_shape), (wrt,))[wrt].ravel()
        seed[i] = 0.0
    return rows


def _forward_columns(graph, values, wrt, input_shape, m) -> np.ndarray:
    n = int(np.prod(input_shape, dtype=np.int64))
    columns = np.empty((m, n))
    tangent = np.zeros(n)
    for j in range(n):
        tangent[j] = 1.0
        columns[:, j] = jvp_pass(graph, values, {wrt: tangent.reshape(input_shape)}).ravel()
        tangent[j] = 0.0
    return columns


class JacobianReport(NamedTuple):
    jacobian: FullJacobian
    graph: Graph
    values: dict  # every node's forward value
    defaults: tuple[str, ...]  # inputs that got a seeded default value


def explain_jacobian(expression: str, at: dict | None = None, wrt: str | None = None, *,
                     seed: int = 0) -> JacobianReport:
    """The pipeline of `gradtrace jacobian`: text → graph → point → both Jacobians. `wrt` may
    be left out only when the expression has a single input."""
    from .explain import build_graph
    from .values import resolve_point

    graph = build_graph(expression)
    values, defaults = resolve_point(graph, dict(at or {}), seed)
    wrt = _one_input(graph, wrt)
    values = evaluate(graph, values)
    return JacobianReport(full_jacobian(graph, values, wrt), graph, values, defaults)


def _one_input(graph: Graph, wrt: str | None) -> str:
    inputs = ", ".join(graph.inputs)
    if not graph.inputs:
        raise UsageError("the expression has no inputs: there is nothing to differentiate")
    if wrt is None:
        if len(graph.inputs) > 1:
            raise UsageError(f"--wrt is needed: the expression has several inputs ({inputs}); "
                             f"for example --wrt {graph.inputs[-1]}")
        return graph.inputs[0]
    wrt = wrt.strip()
    if wrt not in graph.inputs:
        raise UsageError(f"--wrt {wrt}: not an input; the expression's inputs are {inputs}")
    return wrt
