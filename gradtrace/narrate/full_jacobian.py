"""`gradtrace jacobian`: the whole Jacobian ∂f/∂x built two ways, as text, Markdown or JSON.

Notation: f is the expression's output (m elements), x the input chosen with --wrt (n
elements); J is m × n, row i the gradient of f[i], column j the tangent of f along x[j].
Reverse mode builds J one row per backward pass (m passes), forward mode one column per forward
pass (n passes).
"""

from __future__ import annotations


import numpy as np

from ..core.i18n import N_, _, data, ngettext
from ..jacobians.full import JacobianReport
from .blocks import Picture, Section, Table
from .lines import Line, fill_segments
from .numbers import fmt, shape_text
from .pictures import PATTERN_SIDE, sparsity_picture
from .story import point_section

MAX_SHOWN_ENTRIES = 64  # a Jacobian with up to this many entries is printed in full
MAX_TABLE_COLUMNS = 8  # a wider Jacobian (at most 64 entries, so at most 8 rows) is transposed
WHY_REVERSE = N_("Reverse mode needs one pass per output element, forward mode one pass per "
                 "input element. A loss is one number that depends on many parameters, so one "
                 "backward pass gives its whole gradient, where forward mode would need one pass "
                 "per parameter.")


def element_labels(name: str, shape: tuple[int, ...]) -> list[str]:
    """x, or x[0], x[1]..., or W[0,1]...: one label per element, in row-major (ravel) order."""
    if not shape:
        return [name]
    return [f"{name}[{','.join(map(str, index))}]" for index in np.ndindex(*shape)]


def jacobian_sections(report: JacobianReport, precision: int = 2,
                      times: bool = False) -> list[Section]:
    """The point, J with its structure, the two modes' pass counts (and, with times, how long
    each took), and why backprop is reverse mode."""
    result = report.jacobian
    header = point_section(result.expression, report.graph, report.values, report.defaults,
                           precision)
    return [header, _matrix_section(result, precision),
            _modes_section(result, precision, times),
            Section(_("Forward or reverse?"), (_(WHY_REVERSE),), "modes")]


def _matrix_section(result, precision: int) -> Section:
    m, n = result.reverse.shape
    title = _("Jacobian ∂f/∂{wrt}: {m} × {n}", wrt=result.wrt, m=m, n=n)
    fields = dict(structure=data(result.structure), density=f"{result.density:.2f}",
                  description=result.description)
    structure = _("Structure: {structure} (density {density}): {description}", **fields) \
        if result.description else _("Structure: {structure} (density {density})", **fields)
    if m * n == 0:
        return Section(title, (_("No entries: the output or the input is empty."),), "matrix")
    if m * n <= MAX_SHOWN_ENTRIES and n > MAX_TABLE_COLUMNS:  # too wide: one row per x[j]
        note = _("Shown transposed (Jᵀ): one row per element of {wrt}, one column per f[i].",
                 wrt=result.wrt)
        return Section(title, (note, _table(result, precision, transposed=True), structure),
                       "matrix")
    if m * n <= MAX_SHOWN_ENTRIES:
        return Section(title, (_table(result, precision), structure), "matrix")
    picture = Picture(sparsity_picture(result.reverse, PATTERN_SIDE))
    fields = dict(output=_shape_text("f", result.output_shape),
                  input=_shape_text(result.wrt, result.input_shape), count=f"{m * n:,}")
    if max(m, n) > PATTERN_SIDE:
        shapes = _("{output} and {input}: {count} entries, too many to print. Where they are "
                   "non-zero (█) and zero (·), shrunk to {rows} × {columns} cells:",
                   rows=len(picture.rows), columns=len(picture.rows[0]), **fields)
    else:
        shapes = _("{output} and {input}: {count} entries, too many to print. Where they are "
                   "non-zero (█) and zero (·):", **fields)
    return Section(title, (shapes, picture, structure), "matrix")


def _shape_text(name: str, shape) -> str:
    if not tuple(shape):
        return _("{name} is a scalar", name=name)
    return _("{name} has shape {shape}", name=name, shape=shape_text(shape))


def _table(result, precision: int, transposed: bool = False) -> Table:
    """J with its rows labelled f[i] and its columns x[j] (the other way round, transposed)."""
    row_labels = element_labels("f", tuple(result.output_shape))
    column_labels = element_labels(result.wrt, tuple(result.input_shape))
    matrix = result.reverse
    if transposed:
        row_labels, column_labels, matrix = column_labels, row_labels, matrix.T
    rows = tuple((label, *(fmt(entry, precision) for entry in row))
                 for label, row in zip(row_labels, matrix))
    return Table(("", *column_labels), ("name",) + ("grad",) * len(column_labels), rows)


def _modes_section(result, precision: int, times: bool) -> Section:
    lines = [
        Line(tuple(fill_segments(
            "reverse mode: {passes}, one VJP per output element (seed e_i, a row of J)",
            passes=[(_passes(result.reverse_passes), "name")]))),
        Line(tuple(fill_segments(
            "forward mode: {passes}, one JVP per input element (tangent e_j, a column of J)",
            passes=[(_passes(result.forward_passes), "name")]))),
        Line(((_("max |reverse − forward| = "), ""),
              (fmt(result.max_difference, max(precision, 2), compact=True), "grad"))),
    ]
    if times:  # only when asked: times differ from run to run, the rest of the output does not
        lines.append(Line(((_("time taken: reverse mode {reverse}, forward mode {forward} "
                              "(it varies from run to run)",
                              reverse=_milliseconds(result.reverse_seconds),
                              forward=_milliseconds(result.forward_seconds)), ""),)))
    return Section(_("Two ways to build it"), (tuple(lines),), "modes")


def _passes(count: int) -> str:
    return ngettext("{count} pass", "{count} passes", count, count=f"{count:,}")


def _milliseconds(seconds: float) -> str:
    return f"{seconds * 1e3:.3f} ms"
