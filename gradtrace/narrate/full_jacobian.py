"""`gradtrace jacobian`: the whole Jacobian ∂f/∂x built two ways, as text, Markdown or JSON.

Notation: f is the expression's output (m elements), x the input chosen with --wrt (n
elements); J is m × n, row i the gradient of f[i], column j the tangent of f along x[j].
Reverse mode builds J one row per backward pass (m passes), forward mode one column per forward
pass (n passes).
"""

from __future__ import annotations


import numpy as np

from ..jacobians.full import JacobianReport
from .blocks import Picture, Section, Table
from .lines import Line
from .numbers import fmt, shape_text
from .pictures import PATTERN_SIDE, sparsity_picture
from .story import point_section

MAX_SHOWN_ENTRIES = 64  # a Jacobian with up to this many entries is printed in full
MAX_TABLE_COLUMNS = 8  # a wider Jacobian (at most 64 entries, so at most 8 rows) is transposed
WHY_REVERSE = ("Reverse mode needs one pass per output element, forward mode one pass per "
               "input element. A loss is one number that "
               "depends on many parameters, so one backward pass gives its whole gradient, where "
               "forward mode would need one pass per parameter.")


def element_labels(name: str, shape: tuple[int, ...]) -> list[str]:
    """x, or x[0], x[1]..., or W[0,1]...: one label per element, in row-major (ravel) order."""
    if not shape:
        return [name]
    return [f"{name}[{','.join(map(str, index))}]" for index in np.ndindex(*shape)]


def jacobian_sections(report: JacobianReport, precision: int = 2) -> list[Section]:
    result = report.jacobian
    header = point_section(result.expression, report.graph, report.values, report.defaults,
                           precision)
    return [header, _matrix_section(result, precision),
            _modes_section(result, precision), Section("Forward or reverse?", (WHY_REVERSE,))]


def _matrix_section(result, precision: int) -> Section:
    m, n = result.reverse.shape
    title = f"Jacobian ∂f/∂{result.wrt}: {m} × {n}"
    structure = (f"Structure: {result.structure} (density {result.density:.2f})"
                 + (f": {result.description}" if result.description else ""))
    if m * n == 0:
        return Section(title, ("No entries: the output or the input is empty.",))
    if m * n <= MAX_SHOWN_ENTRIES and n > MAX_TABLE_COLUMNS:  # too wide: one row per x[j]
        note = f"Shown transposed (Jᵀ): one row per element of {result.wrt}, one column per f[i]."
        return Section(title, (note, _table(result, precision, transposed=True), structure))
    if m * n <= MAX_SHOWN_ENTRIES:
        return Section(title, (_table(result, precision), structure))
    picture = Picture(sparsity_picture(result.reverse, PATTERN_SIDE))
    shrunk = (f", shrunk to {len(picture.rows)} × {len(picture.rows[0])} cells"
              if max(m, n) > PATTERN_SIDE else "")
    shapes = (f"f {_shape_text(result.output_shape)} and {result.wrt} "
              f"{_shape_text(result.input_shape)}: {m * n:,} entries, too many to print. Where "
              f"they are non-zero (█) and zero (·){shrunk}:")
    return Section(title, (shapes, picture, structure))


def _shape_text(shape) -> str:
    return "is a scalar" if not tuple(shape) else f"has shape {shape_text(shape)}"


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


def _modes_section(result, precision: int) -> Section:
    lines = (
        Line((("reverse mode: ", ""), (_passes(result.reverse_passes), "name"),
              (f", one VJP per output element (seed e_i, a row of J), "
               f"{_milliseconds(result.reverse_seconds)}", ""),)),
        Line((("forward mode: ", ""), (_passes(result.forward_passes), "name"),
              (f", one JVP per input element (tangent e_j, a column of J), "
               f"{_milliseconds(result.forward_seconds)}", ""),)),
        Line((("max |reverse − forward| = ", ""),
              (fmt(result.max_difference, max(precision, 2), compact=True), "grad"))),
    )
    return Section("Two ways to build it", (lines,))


def _passes(count: int) -> str:
    return f"{count:,} pass" + ("" if count == 1 else "es")


def _milliseconds(seconds: float) -> str:
    return f"{seconds * 1e3:.3f} ms"
