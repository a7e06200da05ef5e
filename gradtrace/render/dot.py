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

from ..core.i18n import _, ngettext
from .fonts import runs_label
from ..core.registry import REGISTRY, attribute_texts
from ..core.trace import NodeRecord, Trace
from ..narrate.numbers import fmt, fmt_array, is_listed, shape_text

VALUE_COLOUR = "#1a7f37"  # green
GRADIENT_COLOUR = "#cf222e"  # red
PROBLEM_COLOUR = "#e8590c"  # orange
CONSTANT_FILL = "#f0f2f4"  # light grey: a constant is not something we differentiate by
FONT = "Helvetica"
EDGE_LABEL = f'fontname="{FONT}", fontsize=9, fontcolor="#57606a"'
MAX_TITLE_LENGTH = 120


MAX_DRAWN_NODES = 1000  # past this many nodes a graph is drawn collapsed: see render_dot
KEPT_OPS = 120  # ops drawn next to the output in a collapsed graph
CLUSTER_OPS = 100  # a module that makes more ops than this itself is drawn as one box
# Layout work: Graphviz's `dot` threads a long edge through every rank it crosses, as one
# hidden node per rank, and its time grows faster than their number. graphviz-pure 0.2.2,
# measured: x read by all 2n ops of s = s*1.0001 + x, n=60: 7,200 hidden nodes, 0.26 s;
# n=120: 29,000, 3.4 s; n=250: 125,000, 51 s (0.41 s with a box per far read).
LAYOUT_BUDGET = 4000  # hidden nodes; past it, far reads get a box of their own
NEAR = 4  # ranks (two ops) an edge may cross before a read counts as far


def render_dot(trace: Trace, precision: int = 2) -> str:
    """The trace's graph as DOT source; `precision` decimals for every number.

    A graph of more than MAX_DRAWN_NODES nodes is drawn collapsed, whatever draws it (a file,
    Trace.to_svg, Jupyter): the KEPT_OPS ops nearest the output with the values they read, and
    one dashed box standing for everything before them, with how many nodes and ops it holds
    and the range of the gradients it sends on. Graphviz takes minutes on thousands of nodes,
    and nobody can read such a picture anyway.

    A graph recorded by the Python API inside modules (or `scope` blocks) is drawn grouped:
    one box (a cluster) per module around the ops it made, labelled with its path, its class
    and the norm of the gradient of its parameters (θ) and of what it sends out. A module
    that makes more than CLUSTER_OPS ops itself, and every module when the graph has more than
    MAX_DRAWN_NODES nodes (the innermost first, as many levels as needed), is drawn as one
    dashed box instead, its edges out labelled with the norm of the gradient they carry.

    A value read far from where it is made, in a graph whose long edges would cost the layout
    more than LAYOUT_BUDGET, gets a box of its own (dashed) next to each far read, as each use
    of a constant has."""
    return drawing(trace, precision)[0]


def drawing(trace: Trace, precision: int = 2, max_nodes: int = MAX_DRAWN_NODES,
            kept_ops: int = KEPT_OPS) -> tuple[str, str | None]:
    """(DOT source, what was left out as a phrase, or None): render_dot with a node cap of
    `max_nodes` and `kept_ops` ops kept when the graph has to be collapsed op by op."""
    if any(node.scope for node in trace.graph.nodes):
        clusters = _cluster_plan(trace, max_nodes)
        if clusters is not None:
            return _Grouped(trace, precision, clusters).source()
    shown = _shown_nodes(trace, max_nodes, kept_ops)
    summary = None
    if shown is not None:
        summary = _("the {kept} ops nearest the output and one box for the other {hidden} nodes",
                    kept=min(kept_ops, len(trace.graph.ops)),
                    hidden=f"{len(trace.nodes) - len(shown):,}")
    return _flat(trace, precision, shown, kept_ops), summary


def _flat(trace: Trace, precision: int, shown, kept_ops: int) -> str:
    problems = {step.node: step.problem for step in trace.forward if step.problem}
    records = trace.by_id
    arrays = any(np.ndim(record.value) for record in trace.nodes)

    def box(record: NodeRecord, dot_name: str, copy: bool = False) -> str:
        return _value_box(record, dot_name, record.id == trace.output,
                          problems.get(record.id), precision, arrays, copy)

    drawn_ops = [node for node in trace.graph.ops if shown is None or shown.get(node.id)]
    far = _far_reads([(node.id, node.inputs) for node in drawn_ops], records)
    lines = _header(trace, collapsed=shown is not None, kept_ops=kept_ops)
    for record in trace.nodes:
        if shown is not None and record.id not in shown:
            continue
        if record.kind == "op" and (shown is None or shown[record.id]):
            attrs = trace.graph.by_id[record.id].attrs
            lines += [line for _, line in _op_circle(record, records, box, attrs, arrays, far)]
        if record.kind != "const" or record.id == trace.output:
            lines.append(box(record, _quote(record.id)))
    if shown is not None:
        lines += _collapsed_box(trace, shown, precision)
    lines.append("}")
    return "\n".join(lines) + "\n"


def _shown_nodes(trace: Trace, max_nodes: int = MAX_DRAWN_NODES,
                 kept_ops: int = KEPT_OPS) -> dict[str, bool] | None:
    """For a graph too big to draw whole, the nodes drawn, each with whether its op circle is
    drawn too (False: a value on the boundary, made by ops not drawn); None to draw it all."""
    if len(trace.nodes) <= max_nodes:
        return None
    kept = trace.graph.ops[-kept_ops:] if kept_ops > 0 else ()
    shown = {node.id: True for node in kept}
    for node in kept:
        for source in node.inputs:
            shown.setdefault(source, False)
    shown.setdefault(trace.output, trace.graph.by_id[trace.output].kind == "op")
    return shown


def _far_reads(drawn_ops, records) -> frozenset:
    """The reads (op id, input index) whose source gets a box of its own next to the op: none
    while the long edges cost the layout less than LAYOUT_BUDGET hidden nodes; past it, every
    read more than NEAR ranks from its source but the nearest read of each source.

    Ranks as Graphviz would roughly give them: each op two ranks (its circle, its value) after
    its latest input, then every value moved as late as its earliest reader allows.
    `drawn_ops` is [(op id, ids of its inputs)] in forward order; an id not in `records` (a
    box standing for many nodes) and a constant (drawn once per read) are never copied."""
    rank: dict[str, int] = {}
    for op_id, inputs in drawn_ops:
        rank[op_id] = 2 + max((rank.get(source, 0) for source in inputs), default=0)
    late: dict[str, int] = {}
    for op_id, inputs in reversed(drawn_ops):  # readers first: an op's late rank is known
        late.setdefault(op_id, rank[op_id])  # read by nothing drawn: where its inputs put it
        before = late[op_id] - 2
        for source in inputs:
            late[source] = min(late.get(source, before), before)
    reads: dict[str, list[tuple[int, str, int]]] = {}
    hidden = 0
    for op_id, inputs in drawn_ops:
        for index, source in enumerate(inputs):
            record = records.get(source)
            if record is None or record.kind == "const":
                continue
            span = late[op_id] - 2 - late[source]
            hidden += span
            reads.setdefault(source, []).append((span, op_id, index))
    if hidden <= LAYOUT_BUDGET:
        return frozenset()
    far = set()
    for spans in reads.values():
        nearest = min(spans)
        far.update((op_id, index) for span, op_id, index in spans
                   if span > NEAR and (span, op_id, index) != nearest)
    return frozenset(far)


def _collapsed_box(trace: Trace, shown: dict[str, bool], precision: int) -> list[str]:
    """One dashed box for every node not drawn, with edges to the boundary values it made."""
    hidden_ops = [node for node in trace.graph.ops if node.id not in shown]
    hidden = len(trace.nodes) - len(shown)
    ops = _op_counts(hidden_ops)
    boundary = [name for name, drawn in shown.items()
                if not drawn and trace.by_id[name].kind == "op"]
    norms = [float(np.linalg.norm(np.ravel(trace.by_id[name].grad))) for name in boundary
             if trace.by_id[name].grad is not None]
    span = ("<br/>" + _escape(_("‖gradient‖ sent on: {low} to {high}",
                                low=fmt(min(norms), precision), high=fmt(max(norms), precision)))
            if norms else "")
    not_drawn = _escape(_("… {count} nodes not drawn …", count=f"{hidden:,}"))
    label = (f"<b>{not_drawn}</b><br/>{_escape(ops)}"
             f'<font color="{GRADIENT_COLOUR}">{span}</font>')
    lines = [f'  "… collapsed" [shape=box, style="rounded,dashed", label=<{label}>];']
    lines += [f'  "… collapsed" -> {_quote(name)} [style=dashed];' for name in boundary]
    return lines


def _op_counts(nodes) -> str:
    """The four most frequent ops: "mul ×1,000, add ×999"."""
    counts: dict[str, int] = {}
    for node in nodes:
        counts[node.op] = counts.get(node.op, 0) + 1
    return ", ".join(f"{op} ×{count:,}" for op, count in sorted(counts.items(),
                                                               key=lambda item: -item[1])[:4])


# -- graphs grouped by module --------------------------------------------------------------

def _cluster_plan(trace: Trace, max_nodes: int):
    """The modules drawn as one box each: a set of scopes, none inside another, chosen so the
    drawing has at most `max_nodes` boxes. None when that would take boxing whole outermost
    modules that hold others (a network as one box says nothing): the graph is then collapsed
    op by op, ungrouped."""
    graph = trace.graph
    own: dict[tuple, int] = {}  # ops each scope makes itself
    for node in graph.ops:
        own[node.scope] = own.get(node.scope, 0) + 1
    scopes = {node.scope[:depth] for node in graph.nodes for depth in range(1, len(node.scope) + 1)}
    busy = {scope for scope in scopes if own.get(scope, 0) > CLUSTER_OPS}
    deepest = max(map(len, scopes), default=0)
    lowest = 1 if deepest == 1 else 2
    for level in range(deepest + 1, lowest - 1, -1):  # deepest + 1: only the busy ones boxed
        chosen = _outermost({scope for scope in scopes if len(scope) == level} | busy)
        if _boxes(graph, chosen, trace.output) <= max_nodes:
            return chosen
    return None


def _outermost(scopes: set) -> frozenset:
    return frozenset(scope for scope in scopes
                     if not any(scope[:depth] in scopes for depth in range(1, len(scope))))


def _collapsed_in(scope: tuple, collapsed) -> tuple | None:
    """The collapsed scope that holds a node of `scope`, or None."""
    for depth in range(1, len(scope) + 1):
        if scope[:depth] in collapsed:
            return scope[:depth]
    return None


def _boxes(graph, collapsed, output: str) -> int:
    """Nodes drawn when the `collapsed` scopes are one box each."""
    if not collapsed:
        return len(graph.nodes)
    inside = sum(1 for node in graph.nodes
                 if node.id != output and _collapsed_in(node.scope, collapsed) is not None)
    return len(graph.nodes) - inside + len(collapsed)


class _Grouped:
    """The DOT source of a graph grouped by module: each node inside the clusters of its
    scope, each collapsed module one box; the edges written last, at the top level (an edge
    inside a cluster would pull a node not yet declared into it)."""

    def __init__(self, trace: Trace, precision: int, collapsed: frozenset):
        self.trace, self.precision, self.collapsed = trace, precision, collapsed
        self.records = trace.by_id
        self.arrays = any(np.ndim(record.value) for record in trace.nodes)
        self.problems = {step.node: step.problem for step in trace.forward if step.problem}
        self.hidden: dict[str, tuple] = {}  # node id -> the collapsed scope that stands for it
        self.members: dict[tuple, list] = {}  # scope -> the nodes drawn directly in it
        self.inside: dict[tuple, list] = {}  # scope -> every node made in it, at any depth
        self.children: dict[tuple, list] = {}  # scope -> the scopes directly in it
        self.names: dict[tuple, str] = {}  # scope -> its cluster's (or box's) DOT name
        # clusters numbered in the order their ops run (the inputs all come first)
        ordered = [*trace.graph.ops, *(node for node in trace.graph.nodes if node.kind != "op")]
        for node in ordered:
            for depth in range(1, len(node.scope) + 1):
                scope = node.scope[:depth]
                if scope not in self.names:
                    self.names[scope] = f"cluster {len(self.names) + 1}"
                    self.children.setdefault(scope[:-1], []).append(scope)
                self.inside.setdefault(scope, []).append(node)
            holder = _collapsed_in(node.scope, collapsed)
            if holder is None:
                self.members.setdefault(node.scope, []).append(node)
            elif node.id == trace.output:  # drawn beside the module that made it
                self.members.setdefault(holder[:-1], []).append(node)
            else:
                self.hidden[node.id] = holder

    def source(self) -> tuple[str, str | None]:
        count = len(self.collapsed)
        note = None
        if count == 1:
            path, kind = next(iter(self.collapsed))[-1]
            summary = _("the module {module} as one box", module=path or kind)
            note = _("the module {module} drawn as one box", module=path or kind)
        elif count:
            summary = _("{count} modules as one box each", count=f"{count:,}")
            note = _("{count} modules drawn as one box each", count=f"{count:,}")
        else:
            summary = None
        lines = _header(self.trace, note=note)
        drawn_ops = [(node.id, tuple(self._end(source) for source in node.inputs))
                     for node in self.trace.graph.ops if node.id not in self.hidden]
        self.far = _far_reads(drawn_ops, self.records)
        edges: list[str] = []
        lines += self._block((), edges, "  ")
        lines += self._module_edges()
        lines += edges
        lines.append("}")
        return "\n".join(lines) + "\n", summary

    def _end(self, node_id: str) -> str:
        """The DOT node an edge from `node_id` starts at: its own box, or its module's."""
        holder = self.hidden.get(node_id)
        return node_id if holder is None else self.names[holder]

    def _box(self, record: NodeRecord, dot_name: str, copy: bool = False) -> str:
        return _value_box(record, dot_name, record.id == self.trace.output,
                          self.problems.get(record.id), self.precision, self.arrays, copy)

    def _block(self, scope: tuple, edges: list[str], indent: str) -> list[str]:
        """The nodes drawn directly in `scope`, then each module in it: a cluster, or a box."""
        lines: list[str] = []
        for node in self.members.get(scope, ()):
            record = self.records[node.id]
            if record.kind == "op":
                parts = _op_circle(record, self.records, self._box, node.attrs, self.arrays,
                                   self.far, skip=self.hidden)
                lines += [indent + line.lstrip() for is_edge, line in parts if not is_edge]
                edges += [line for is_edge, line in parts if is_edge]
            if record.kind != "const" or record.id == self.trace.output:
                lines.append(indent + self._box(record, _quote(record.id)).lstrip())
        for inner in self.children.get(scope, ()):
            if inner in self.collapsed:
                lines.append(indent + self._collapsed_module(inner))
                continue
            lines.append(f"{indent}subgraph {_quote(self.names[inner])} {{")
            lines.append(f'{indent}  label=<{self._module_label(inner)}>; style="rounded"; '
                         'color="#8c959f"; labeljust=l;')
            lines += self._block(inner, edges, indent + "  ")
            lines.append(f"{indent}}}")
        return lines

    def _norms(self, scope: tuple) -> tuple[float | None, float | None]:
        """‖∂out/∂θ‖ over the module's parameters; ‖∂out/∂·‖ over the values it sends out."""
        inside = self.inside[scope]
        ids = {node.id for node in inside}
        readers = self.trace.graph.consumers
        parameters = [self.records[node.id].grad for node in inside if node.kind == "input"]
        sent = [self.records[node.id].grad for node in inside if node.kind == "op" and (
            node.id == self.trace.output or any(op not in ids for op in readers[node.id]))]
        return _joint_norm(parameters), _joint_norm(sent)

    def _module_label(self, scope: tuple, detail: str = "") -> str:
        """path (Kind), and in red the gradient norms of its parameters and of its output."""
        path, kind = scope[-1]
        if path and kind:
            title = f"<b>{_escape(path)}</b> ({_escape(kind)})"
        else:
            title = f"<b>{_escape(path or kind)}</b>"
        output = _escape(self.trace.output)
        theta, sent = self._norms(scope)
        norms = []
        if theta is not None:
            norms.append(f"‖∂{output}/∂θ‖ = {fmt(theta, self.precision)}")
        if sent is not None:
            norms.append(f"‖∂{output}/∂out‖ = {fmt(sent, self.precision)}")
        if norms:
            title += (f'<br/><font color="{GRADIENT_COLOUR}" point-size="10">'
                      f'{", ".join(norms)}</font>')
        return title + detail

    def _collapsed_module(self, scope: tuple) -> str:
        """One dashed box for a module: its label, its ops, modules and parameters counted."""
        inside = self.inside[scope]
        ops = [node for node in inside if node.kind == "op"]
        parameters = sum(1 for node in inside if node.kind == "input")
        modules = sum(1 for inner in self.names if inner[:len(scope)] == scope) - 1
        facts = [_("{count} ops: {ops}", count=f"{len(ops):,}", ops=_op_counts(ops))]
        if modules:
            facts.append(_("{count} modules inside", count=f"{modules:,}"))
        if parameters:
            facts.append(ngettext("{count} parameter", "{count} parameters", parameters,
                                  count=f"{parameters:,}"))
        detail = f'<br/><font point-size="9">{_escape(_("; ").join(facts))}</font>'
        return (f'{_quote(self.names[scope])} [shape=box, style="rounded,dashed", '
                f"label=<{self._module_label(scope, detail)}>];")

    def _module_edges(self) -> list[str]:
        """The edges into and out of collapsed modules (the others are _op_circle's): once per
        pair of drawn nodes; those leaving a module labelled with the norm of the gradient of
        what they carry."""
        carried: dict[tuple[str, str], list[str]] = {}
        for node in self.trace.graph.ops:
            holder = self.hidden.get(node.id)
            target = self.names[holder] if holder is not None else f"{node.id} op"
            for source in node.inputs:
                start = self._end(source)
                if source not in self.hidden and holder is None:
                    continue  # between two open nodes: drawn by _op_circle
                if start == target or self.records[source].kind == "const":
                    continue
                carried.setdefault((start, target), []).append(source)
        lines = []
        for (start, target), sources in carried.items():
            label = ""
            if sources[0] in self.hidden:
                norm = _joint_norm([self.records[source].grad for source in dict.fromkeys(sources)])
                if norm is not None:
                    label = f' [label="{fmt(norm, self.precision)}", {EDGE_LABEL_RED}]'
            lines.append(f"  {_quote(start)} -> {_quote(target)}{label};")
        return lines


EDGE_LABEL_RED = f'fontname="{FONT}", fontsize=9, fontcolor="{GRADIENT_COLOUR}"'


def _joint_norm(gradients) -> float | None:
    """√(Σ ‖g‖²) over the gradients that exist; None when none does."""
    present = [np.asarray(gradient, dtype=np.float64) for gradient in gradients
               if gradient is not None]
    if not present:
        return None
    with np.errstate(all="ignore"):
        return float(np.sqrt(sum(float(np.sum(np.square(g))) for g in present)))


def _header(trace: Trace, collapsed: bool = False, kept_ops: int = KEPT_OPS,
            note: str | None = None) -> list[str]:
    title = _escape(_shorten(trace.expression))
    if collapsed:
        title += "<br/>" + _escape(_("(collapsed: the {kept} ops nearest the output of {ops})",
                                     kept=min(kept_ops, len(trace.graph.ops)),
                                     ops=f"{len(trace.graph.ops):,}"))
    if note:
        title += f"<br/>({_escape(note)})"
    # the legend's words in the reader's language, coloured as what they name
    value, gradient = _("value"), _("gradient d{output}/d(name)", output=trace.output)
    legend = runs_label(_("each box: name, {value}, {gradient}"), _escape,
                        value=(f'<font color="{VALUE_COLOUR}">{_escape(value)}</font>', value),
                        gradient=(f'<font color="{GRADIENT_COLOUR}">{_escape(gradient)}</font>',
                                  gradient))
    return [
        "digraph gradtrace {",
        f'  graph [rankdir=LR, labelloc=t, nodesep=0.2, ranksep=0.3, fontname="{FONT}", '
        f'label=<<b>{title}</b><br/><font point-size="10">{legend}</font>>];',
        f'  node [shape=box, style=rounded, fontname="{FONT}", fontsize=11, '
        f'margin="0.1,0.04"];',
        '  edge [arrowsize=0.6, color="#57606a"];',
    ]


def _op_circle(record: NodeRecord, records: dict[str, NodeRecord], box, attrs=(),
               arrays: bool = False, far=frozenset(), skip=()) -> list[tuple[bool, str]]:
    """The op's circle, its constants' boxes, the edges from its inputs into it, and its edge
    out to its value box, in that order, each line as (is an edge, line).

    Each use of a constant gets a box of its own, named by the op and the input's letter
    ("h7 a"), as micrograd draws them: one shared "1" box would pull long edges across the
    whole picture, and many such edges make the layout very slow. So does a value read in
    `far` (op id, input index): it is drawn again there, dashed, under the same name. Edges
    from a source in `skip` are drawn by the caller."""
    circle = _quote(f"{record.id} op")
    symbol = _escape(REGISTRY[record.op].symbol) + _attribute_line(attrs)
    # ordering=in keeps the first input (a) above the second (b): a - b, a / b, a ** b read
    # top to bottom.
    lines = [(False, f"  {circle} [shape=circle, style=solid, ordering=in, fontsize=12, "
                     f"width=0.3, margin=0.02, label=<{symbol}>];")]
    for index, (letter, source) in enumerate(zip("abcde", record.inputs)):
        if source in skip:
            continue
        if records[source].kind == "const":
            source_name = _quote(f"{record.id} {letter}")
            lines.append((False, box(records[source], source_name)))
        elif (record.id, index) in far:
            source_name = _quote(f"{record.id} {letter}")
            lines.append((False, box(records[source], source_name, copy=True)))
        else:
            source_name = _quote(source)
        label = f" [label={_quote(shape_text(np.shape(records[source].value)))}, {EDGE_LABEL}]"
        lines.append((True, f"  {source_name} -> {circle}{label if arrays else ''};"))
    lines.append((True, f"  {circle} -> {_quote(record.id)};"))
    return lines


def _attribute_line(attrs) -> str:
    """axis=0, the shape of a reshape or the index, small, under the op's symbol."""
    if not attrs:
        return ""
    texts = attribute_texts(attrs)
    text = texts["attrs"].removeprefix(", ") or texts["shape"] or f"[{texts['key']}]"
    return f'<br/><font point-size="8">{_escape(text)}</font>'


def _value_box(record: NodeRecord, dot_name: str, is_output: bool, problem: str | None,
               precision: int, arrays: bool = False, copy: bool = False) -> str:
    """A box with the node's name (and shape), its value (green) and its gradient (red, if
    any); dashed when it is a `copy`, drawn again beside a far read of the value."""
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
    elif copy:
        attributes.append('style="rounded,dashed"')
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
