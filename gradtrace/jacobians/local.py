"""The local Jacobian of each backward step: what backprop never builds, built here on purpose
to show it.

For a backward step from node y = op(..., x, ...) to its input x, the local derivative is the
Jacobian J = ∂y/∂x, an (y.size × x.size) matrix. `jacobian_view` builds it column by column
from the op's JVP (when small enough), describes its structure, and checks that Jᵀ·upstream
equals the VJP backprop computed without it.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..core.i18n import _
from ..ops import REGISTRY
from .structure import classify, infer

MAX_BUILT_ENTRIES = 1_000_000  # beyond this J is described, not built
MAX_JVP_WORK = 200_000_000  # building J one JVP per column: columns × elements touched per JVP


class JacobianView(NamedTuple):
    node: str  # y, the op node
    input: str  # x, the input the gradient flows to
    op: str
    shape: tuple[int, int]  # (y.size, x.size)
    matrix: np.ndarray | None  # the Jacobian itself when it has <= MAX_BUILT_ENTRIES entries
    structure: str  # "diagonal", "block diagonal", "dense", "sparse", "zero", ... (see structure.py)
    density: float  # fraction of non-zero entries (estimated from the structure if not built)
    vjp_formula: str  # what backprop computes instead, in the notes' notation (grad_W = ...)
    max_difference: float | None  # max |Jᵀ·upstream − VJP|, None when J was not built
    description: str = ""  # the structure in a sentence; says "not built" when it was not


# -- the local Jacobian of one backward step -------------------------------------------------

def jacobian_views(trace) -> tuple[JacobianView, ...]:
    """One view per backward step, in the order backprop took them."""
    records = trace.by_id
    return tuple(_view(trace.graph, records, step) for step in trace.backward)


def jacobian_view(trace, step) -> JacobianView:
    """J = ∂node/∂input for one backward step: built from the op's JVP (one unit tangent per
    input element) when small enough, its structure, and max |Jᵀ·upstream − VJP|."""
    return _view(trace.graph, trace.by_id, step)


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
        description = _join(_("not built ({reason}); from the op: {text}", reason=reason,
                              text=text), hint)
        return JacobianView(step.node, step.input, step.op, shape, None, structure, density,
                            formula, None, description)
    with np.errstate(all="ignore"):
        matrix = local_jacobian(op, inputs, out, step.index, attrs)
        upstream = np.broadcast_to(step.upstream, np.shape(out)).ravel()
        difference = _max_abs(matrix.T @ upstream - np.ravel(step.downstream))
    structure, text = classify(matrix)
    density = float(np.count_nonzero(matrix) / matrix.size) if matrix.size else 0.0
    return JacobianView(step.node, step.input, step.op, shape, matrix, structure, density,
                        formula, difference, _join(text, hint))


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
        return _("{rows} × {columns} = {entries} entries", rows=f"{out.size:,}",
                 columns=f"{x.size:,}", entries=f"{entries:,}")
    touched = sum(np.size(value) for value in inputs) + out.size
    if not op.elementwise and x.size * touched > MAX_JVP_WORK:
        return _("it would take {count} JVPs of {touched} elements each", count=f"{x.size:,}",
                 touched=f"{touched:,}")
    return ""


def vjp_formula(step, op, broadcast: bool = False) -> str:
    """What backprop computes instead of Jᵀ·upstream, in the notes' notation."""
    if not op.elementwise:
        return f"grad_{step.input} = {step.formula}"
    times = "⊙" if np.ndim(step.upstream) else "×"
    local = step.formula
    if local in ("1", "-1"):  # add and sub pass the gradient on (negated for sub's b)
        sign = "-" if local == "-1" else ""
        formula = f"grad_{step.input} = {sign}grad_{step.node}"
    else:
        if any(char in local for char in "+-−×*/·^²") and not local.startswith(("(", "[")):
            local = f"({local})"
        formula = f"grad_{step.input} = grad_{step.node} {times} {local}"
    if broadcast and np.ndim(step.downstream):
        return _("{formula}, summed back to its shape", formula=formula)
    return formula


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
    return _("; ").join(text for text in texts if text)


def _max_abs(difference: np.ndarray) -> float:
    return float(np.max(np.abs(difference))) if np.size(difference) else 0.0
