"""The annotated computation graph as Graphviz DOT source, drawn as the course figures and
micrograd's `draw_dot` draw it: left to right, each op a small circle with its symbol feeding a
box for the value it makes.

Every value (input, constant, op output) is a box holding three lines: its name, its forward
value in green, and its gradient d output / d node in red (no gradient line where none flows:
constants, inputs left out by --wrt). The output has a bold border; a node whose value first
stopped being finite has an orange border and says why.

The source is written by hand from the trace, in trace order, so the same trace always gives
the same bytes (the tests snapshot it). Node names are quoted DOT strings: a value box is named
by its node id ("w0", "h3"), the op circle that makes it by the id and " op" ("h3 op"), a
constant's box by the op using it and the input's letter ("h3 b"); node ids never contain
spaces, so these cannot collide. Labels are HTML-like and escaped.

Arrays: when the trace holds any, each box gives its node's shape after the name and every
edge into an op is labelled with the shape it carries. Few entries (fmt_array's limit) are
all shown, a matrix one row per line; more are summarised by min, max and norm. An op with
attributes (axis, shape, index) writes them under its symbol.
"""

from __future__ import annotations

import html

import numpy as np

from ..core.registry import REGISTRY, attribute_texts
from ..core.trace import NodeRecord, Trace
from ..narrate.numbers import fmt_array, is_listed, shape_text

VALUE_COLOUR = "#1a7f37"  # green
GRADIENT_COLOUR = "#cf222e"  # red
PROBLEM_COLOUR = "#e8590c"  # orange
CONSTANT_FILL = "#f0f2f4"  # light grey: a constant is not something we differentiate by
FONT = "Helvetica"
EDGE_LABEL = f'fontname="{FONT}", fontsize=9, fontcolor="#57606a"'
MAX_TITLE_LENGTH = 120


def render_dot(trace: Trace, precision: int = 2) -> str:
    """The trace's graph as DOT source; `precision` decimals for every number."""
    problems = {step.node: step.problem for step in trace.forward if step.problem}
    records = trace.by_id
    arrays = any(np.ndim(record.value) for record in trace.nodes)

    def box(record: NodeRecord, dot_name: str) -> str:
        return _value_box(record, dot_name, record.id == trace.output,
                          problems.get(record.id), precision, arrays)

    lines = _header(trace)
    for record in trace.nodes:
        if record.kind == "op":
            attrs = trace.graph.by_id[record.id].attrs
            lines += _op_circle(record, records, box, attrs, arrays)
        if record.kind != "const" or record.id == trace.output:
            lines.append(box(record, _quote(record.id)))
    lines.append("}")
    return "\n".join(lines) + "\n"


def _header(trace: Trace) -> list[str]:
    title = _escape(_shorten(trace.expression))
    legend = (f'each box: name, <font color="{VALUE_COLOUR}">value</font>, '
              f'<font color="{GRADIENT_COLOUR}">gradient d{_escape(trace.output)}/d(name)</font>')
    return [
        "digraph gradtrace {",
        f'  graph [rankdir=LR, labelloc=t, nodesep=0.2, ranksep=0.3, fontname="{FONT}", '
        f'label=<<b>{title}</b><br/><font point-size="10">{legend}</font>>];',
        f'  node [shape=box, style=rounded, fontname="{FONT}", fontsize=11, '
        f'margin="0.1,0.04"];',
        '  edge [arrowsize=0.6, color="#57606a"];',
    ]


def _op_circle(record: NodeRecord, records: dict[str, NodeRecord], box, attrs=(),
               arrays: bool = False) -> list[str]:
    """The op's circle, its constants' boxes, the edges from its inputs into it, and its edge
    out to its value box.

    Each use of a constant gets a box of its own, named by the op and the input's letter
    ("h7 a"), as micrograd draws them: one shared "1" box would pull long edges across the
    whole picture, and many such edges make the layout very slow."""
    circle = _quote(f"{record.id} op")
    symbol = _escape(REGISTRY[record.op].symbol) + _attribute_line(attrs)
    # ordering=in keeps the first input (a) above the second (b): a - b, a / b, a ** b read
    # top to bottom.
    lines = [f"  {circle} [shape=circle, style=solid, ordering=in, fontsize=12, width=0.3, "
             f"margin=0.02, label=<{symbol}>];"]
    for letter, source in zip("abcde", record.inputs):
        if records[source].kind == "const":
            source_name = _quote(f"{record.id} {letter}")
            lines.append(box(records[source], source_name))
        else:
            source_name = _quote(source)
        label = f" [label={_quote(shape_text(np.shape(records[source].value)))}, {EDGE_LABEL}]"
        lines.append(f"  {source_name} -> {circle}{label if arrays else ''};")
    lines.append(f"  {circle} -> {_quote(record.id)};")
    return lines


def _attribute_line(attrs) -> str:
    """axis=0, the shape of a reshape or the index, small, under the op's symbol."""
    if not attrs:
        return ""
    texts = attribute_texts(attrs)
    text = texts["attrs"].removeprefix(", ") or texts["shape"] or f"[{texts['key']}]"
    return f'<br/><font point-size="8">{_escape(text)}</font>'


def _value_box(record: NodeRecord, dot_name: str, is_output: bool, problem: str | None,
               precision: int, arrays: bool = False) -> str:
    """A box with the node's name (and shape), its value (green) and its gradient (red, if
    any)."""
    name = "const" if record.kind == "const" and record.id.startswith("#") else record.id
    title = f"<b>{_escape(name)}</b>"
    if arrays:
        title += f' <font point-size="9">{_escape(shape_text(np.shape(record.value)))}</font>'
    rows = [title, _coloured(record.value, VALUE_COLOUR, precision, arrays)]
    if record.grad is not None:
        rows.append(_coloured(record.grad, GRADIENT_COLOUR, precision, arrays))
    attributes = []
    if record.kind == "const":
        attributes.append(f'style="rounded,filled", fillcolor="{CONSTANT_FILL}"')
    if problem:
        attributes.append(f'color="{PROBLEM_COLOUR}"')
        rows.append(f'<font color="{PROBLEM_COLOUR}" point-size="9">{_escape(problem)}</font>')
    if problem or is_output:
        attributes.append("penwidth=2.5")
    attributes.append(f"label=<{'<br/>'.join(rows)}>")
    return f"  {dot_name} [{', '.join(attributes)}];"


def _coloured(value, colour: str, precision: int, arrays: bool = False) -> str:
    lines = _numbers(value, precision, with_shape=not arrays)
    return "<br/>".join(f'<font color="{colour}">{_escape(line)}</font>' for line in lines)


def _numbers(value, precision: int, with_shape: bool) -> list[str]:
    """The value's lines: a small matrix one row per line, else fmt_array's one line."""
    array = np.asarray(value)
    if array.ndim == 2 and is_listed(array) and array.shape[0] > 1:
        return [fmt_array(row, precision) for row in array]
    return [fmt_array(array, precision, with_shape=with_shape)]


def _shorten(text: str) -> str:
    return text if len(text) <= MAX_TITLE_LENGTH else text[: MAX_TITLE_LENGTH - 3] + "..."


def _quote(name: str) -> str:
    """A DOT quoted string; a backslash is doubled so it cannot escape the closing quote."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _escape(text: str) -> str:
    """Text for inside an HTML-like label."""
    return html.escape(text, quote=False)
