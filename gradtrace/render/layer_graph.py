"""The layer-level graph as DOT: one box per layer (its op, output shape and parameters with
their gradient norms), left to right from the input to the loss; each edge carries the norm of
the gradient flowing back along it, ‖∂L/∂(the value on the edge)‖.

An expanded layer (--expand) is drawn as a cluster of its primitive ops. Pictures past
MAX_DRAWN_NODES boxes are collapsed: the first and last KEPT layers are drawn and the ones
between become one box, since Graphviz takes minutes on thousands of nodes and nobody can read
them anyway. DOT source is written by hand in layer order, so it is byte-stable.
"""

from __future__ import annotations

import html

import numpy as np

from ..core.i18n import _
from .fonts import runs_label
from ..narrate.layers import notes_label
from ..narrate.numbers import fmt, shape_text
from ..ops import REGISTRY

MAX_DRAWN_NODES = 300
KEPT = 10  # layers kept at each end of a collapsed picture
FONT = "Helvetica"
GRADIENT_COLOUR = "#cf222e"


def render_layer_dot(result, title: str, precision: int = 2) -> str:
    records = result.trace.by_id
    layers = list(result.layers)
    expanded = _expanded_layer(result)
    if expanded is not None and len(expanded.nodes) > MAX_DRAWN_NODES:
        title = _("{title} ({layer} has {count} primitive ops: drawn fused)", title=title,
                  layer=expanded.name, count=len(expanded.nodes))
        expanded = None
    lines = _header(title, result.loss, precision)
    heading = _escape(_("input {name}", name="a⁽⁰⁾"))
    lines.append(f'  "a0" [label=<<b>{heading}</b><br/>{_shape(records["a0"].value)}>];')
    collapsed = len(layers) + 1 > MAX_DRAWN_NODES
    shown = layers[:KEPT] + layers[-KEPT:] if collapsed else layers
    for position, layer in enumerate(shown):
        if collapsed and position == KEPT:
            lines += _collapsed_box(layers[KEPT:-KEPT], shown[position - 1], layer, records,
                                    precision)
            continue
        if layer is expanded:
            lines += _cluster(layer, records, precision)
        else:
            lines.append(_layer_box(layer, records, precision))
            lines.append(_edge(layer.input, layer.output, records, precision))
    lines.append("}")
    return "\n".join(lines) + "\n"


def _expanded_layer(result):
    return next((layer for layer in result.layers if layer.name == result.expanded), None)


def _header(title: str, loss: float, precision: int) -> list[str]:
    red = _("red")
    legend = runs_label(_("one box per layer; on each edge, in {red}, ‖∂L/∂·‖ of the value it "
                          "carries; L = {loss}", loss=fmt(loss, precision + 2), red="{red}"),
                        _escape, red=(f'<font color="{GRADIENT_COLOUR}">{_escape(red)}</font>',
                                      red))
    return [
        "digraph layers {",
        f'  graph [rankdir=LR, labelloc=t, nodesep=0.25, ranksep=0.35, fontname="{FONT}", '
        f'label=<<b>{_escape(title)}</b><br/><font point-size="10">{legend}</font>>];',
        f'  node [shape=box, style=rounded, fontname="{FONT}", fontsize=11];',
        f'  edge [arrowsize=0.6, color="#57606a", fontname="{FONT}", fontsize=9, '
        f'fontcolor="{GRADIENT_COLOUR}"];',
    ]


def _shape(value) -> str:
    return _escape(shape_text(np.shape(value)))


def _layer_box(layer, records, precision: int) -> str:
    spec = layer.spec
    rows = [f"<b>{_escape(spec.name)}</b> {_escape(spec.op)}",
            f"{_escape(notes_label(spec.symbol, spec.level))} {_shape(records[layer.output].value)}"]
    for name, value in spec.params:
        norm = _norm(records[name].grad)
        rows.append(f'{_escape(name)} {_shape(value)} <font color="{GRADIENT_COLOUR}">'
                    f"‖∂L/∂{_escape(name)}‖ {fmt(norm, precision)}</font>")
    style = ', style="rounded,bold"' if spec.op in ("cross_entropy", "mse") else ""
    return f'  "{layer.output}" [label=<{"<br/>".join(rows)}>{style}];'


def _edge(source: str, target: str, records, precision: int) -> str:
    grad = records[source].grad
    label = "" if grad is None else f' [label="{fmt(_norm(grad), precision)}"]'
    return f'  "{source}" -> "{target}"{label};'


def _norm(array) -> float:
    with np.errstate(all="ignore"):
        return float(np.linalg.norm(np.ravel(np.asarray(array, dtype=np.float64))))


def _cluster(layer, records, precision: int) -> list[str]:
    """The layer's primitive ops in a box of their own; its parameters drawn inside it."""
    lines = [f'  subgraph "cluster_{layer.name}" {{',
             "    label=<" + _escape(_("{layer} ({op}) expanded", layer="{layer}",
                                  op=layer.spec.op)).replace(
                 "{layer}", f"<b>{_escape(layer.name)}</b>") + ">;",
             '    style="rounded,dashed";']
    params = {name for name, _ in layer.spec.params}
    for name in sorted(params, key=[n for n, _ in layer.spec.params].index):
        lines.append(f'    "{name}" [label=<{_escape(name)}<br/>{_shape(records[name].value)}>, '
                     'shape=ellipse];')
    for node_id in layer.nodes:
        record = records[node_id]
        symbol = REGISTRY[record.op].symbol
        lines.append(f'    "{node_id}" [label=<<b>{_escape(symbol)}</b><br/>'
                     f'{_shape(record.value)}>];')
    lines.append("  }")
    own = set(layer.nodes) | params | {layer.input}
    for node_id in layer.nodes:
        for source in records[node_id].inputs:
            if source in own:
                lines.append(_edge(source, node_id, records, precision))
    return lines


def _collapsed_box(hidden, before, after, records, precision: int) -> list[str]:
    """One box standing for `hidden` layers, with the range of their gradient norms."""
    norms = [_norm(records[layer.input].grad) for layer in hidden
             if records[layer.input].grad is not None]
    ops = sorted({layer.spec.op for layer in hidden})
    span = (_("‖∂L/∂input‖ from {low} to {high}", low=fmt(min(norms), precision),
              high=fmt(max(norms), precision)) if norms else _("no gradient"))
    name = f"collapsed {hidden[0].name}..{hidden[-1].name}"
    count = _escape(_("… {count} layers …", count=len(hidden)))
    label = (f"<b>{count}</b><br/>{_escape(', '.join(ops))}<br/>"
             f'<font color="{GRADIENT_COLOUR}">{_escape(span)}</font>')
    return [f'  "{before.output}" -> "{name}";',
            f'  "{name}" [label=<{label}>, style="rounded,dashed"];',
            f'  "{name}" -> "{after.output}"'
            f' [label="{fmt(_norm(records[after.input].grad), precision)}"];',
            _layer_box(after, records, precision)]


def _escape(text: str) -> str:
    return html.escape(str(text), quote=True)
