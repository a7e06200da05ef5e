"""The Jacobian view of the backward pass, as a story section.

For each backward step y → x the local derivative is the Jacobian J = ∂y/∂x, a
(y.size × x.size) matrix: row i holds the derivatives of y's entry i, column j those with
respect to x's entry j (entries of arrays counted in row-major order, as numpy ravels them).
Backprop never builds J; it computes the vector–Jacobian product Jᵀ·upstream directly. The
views (gradtrace.jacobians.local.JacobianView) are computed elsewhere; this module only lays
them out: the entries when there are at most 64, else shape, structure and density; the
sparsity pattern; and the VJP beside it with the largest difference between the two.
"""

from __future__ import annotations

import numpy as np

from ..core.i18n import N_, _, data
from ..core.trace import Trace
from .blocks import Picture, Section, Table
from .lines import Line
from .numbers import fmt
from .pictures import sparsity_picture

MAX_TABLE_ENTRIES = 64  # up to this many entries, J is printed entry by entry
MAX_TABLE_COLUMNS = 12  # a wider J is printed transposed, so it fits a terminal
INTRO = N_("Each backward step multiplies by a Jacobian J = ∂node/∂input, one row per entry of "
           "the node, one column per entry of the input. Backprop never builds it: it computes "
           "the vector–Jacobian product Jᵀ·upstream directly. Here J is built to compare.")


def jacobian_section(trace: Trace, views, precision: int) -> Section:
    if not views:
        return Section(_("Jacobians"), (_("No gradient flows back: there is no Jacobian to "
                                          "show."),), "jacobians")
    blocks: list = [_(INTRO)]
    for view in views:
        blocks += view_blocks(trace, view, precision)
    return Section(_("Jacobians"), tuple(blocks), "jacobians")


def view_blocks(trace: Trace, view, precision: int) -> list:
    """The heading, what the structure means, the entries (none when J is large), the
    sparsity pattern, and the VJP with its difference from Jᵀ·upstream."""
    rows, columns = view.shape
    blocks: list = [_("{input} ← {node} ({op}): J = ∂{node}/∂{input} is {rows} × {columns}, "
                      "{structure}, density {density}", input=view.input, node=view.node,
                      op=view.op, rows=rows, columns=columns, structure=data(view.structure),
                      density=fmt(view.density, precision))]
    description = getattr(view, "description", "")  # the structure in words, when given
    if description:
        blocks.append((Line(((description, ""),)),))
    if view.matrix is not None and rows * columns <= MAX_TABLE_ENTRIES:
        blocks += entry_blocks(trace, view, precision)
    pattern = () if view.matrix is None else sparsity_picture(view.matrix)
    if pattern:
        blocks += [(Line(((pattern_caption(view, pattern), ""),)),),
                   Picture(pattern, shades=heat(view, pattern))]
    blocks.append(tuple(vjp_lines(view, precision)))
    return blocks


def pattern_caption(view, pattern) -> str:
    shown = (len(pattern), len(pattern[0]))
    if shown != tuple(view.shape):
        return _("sparsity pattern (█ non-zero, · zero), {rows} × {columns} shrunk to {shown_rows} "
                 "× {shown_columns} cells:", rows=view.shape[0], columns=view.shape[1],
                 shown_rows=shown[0], shown_columns=shown[1])
    return _("sparsity pattern (█ non-zero, · zero):")


def heat(view, pattern) -> tuple | None:
    """|J| scaled to 0..1 for a heatmap, when J was built and its pattern is not shrunk."""
    if view.matrix is None or tuple(view.shape) != (len(pattern), len(pattern[0])):
        return None
    size = np.abs(np.asarray(view.matrix, dtype=np.float64)).reshape(view.shape)
    size = np.where(np.isfinite(size), size, 0.0)
    top = size.max() if size.size else 0.0
    scaled = size / top if top > 0 else size
    return tuple(tuple(round(float(x), 3) for x in row) for row in scaled)


def entry_blocks(trace: Trace, view, precision: int) -> list:
    """J as a labelled table: rows ∂y[i], columns x[j] (transposed when J is wide)."""
    matrix = np.asarray(view.matrix, dtype=np.float64).reshape(view.shape)
    row_labels = [f"∂{view.node}{label}" for label in entry_labels(trace, view.node, len(matrix))]
    column_labels = entry_labels(trace, view.input, matrix.shape[1])
    column_labels = [f"{view.input}{label}" for label in column_labels]
    note = []
    if matrix.shape[1] > MAX_TABLE_COLUMNS:  # one row per input entry instead
        matrix, row_labels, column_labels = matrix.T, column_labels, row_labels
        note = [(Line(((_("Jᵀ shown (J is {rows} × {columns}): one row per entry of {input}",
                          rows=view.shape[0], columns=view.shape[1], input=view.input), ""),)),)]
    cells = tuple((label,) + tuple(fmt(entry, precision) for entry in row)
                  for label, row in zip(row_labels, matrix))
    table = Table(("",) + tuple(column_labels), ("name",) + ("number",) * len(column_labels),
                  cells, indent=2)
    return note + [table]


def entry_labels(trace: Trace, name: str, count: int) -> list[str]:
    """[0], [1], ... for a vector; [1,0] for a matrix entry; nothing for a scalar. Flat
    indices when the node's shape does not match the count."""
    shape = np.shape(trace.by_id[name].value) if name in trace.by_id else ()
    if int(np.prod(shape, dtype=np.int64)) != count:
        shape = (count,)
    if not shape:
        return [""]
    return ["[" + ",".join(str(i) for i in np.unravel_index(k, shape)) + "]"
            for k in range(count)]


def vjp_lines(view, precision: int) -> list[Line]:
    formula = view.vjp_formula
    if not formula.startswith("grad_"):
        formula = f"grad_{view.input} = {formula}"
    lines = [Line(((_("backprop computes instead: "), ""), (formula, "")))]
    if view.max_difference is None:
        lines.append(Line(((_("J was not built (too large), so there is nothing to compare"),
                            ""),)))
    else:
        lines.append(Line(((f"max |Jᵀ·grad_{view.node} − VJP| = ", ""),
                           (fmt(view.max_difference, precision), ""))))
    return lines
