"""The interactive page of one training step (`gradtrace mlp` / `cnn` --html): the layer graph
(render.layer_graph, one box per layer) beside the story told layer by layer
(narrate.layers), stepped one layer at a time, forward then backward.

Each forward stop is one layer's lines of the story's forward section (its line, any warning,
its value); each backward stop is that layer's lines of the backward section (δ⁽ˡ⁾, the
parameter gradients, what is sent on), with the gradient norms of that layer in its label.
Stepping lights the layer's box and the edge into it, green forward and red backward; the
gradient norms on the boxes and edges (red) show once the backward pass reaches them. A click
on a box opens the layer: its shapes, parameters and their gradient norms, and the primitive
ops it is made of, each with its own forward and backward line. A small chart of ‖δ⁽ˡ⁾‖ and
‖∂L/∂W⁽ˡ⁾‖ over depth (log scale) marks the layer the backward pass is at.
"""

from __future__ import annotations

import html

import numpy as np

from ..core.i18n import _, ngettext
from ..narrate.blocks import Section
from ..narrate.lines import Line, backward_line, forward_line
from ..narrate.numbers import fmt
from .dot import GRADIENT_COLOUR
from .html import Step, assemble, line_html, picture



def layers_page(result, title: str, precision: int = 2, network: dict | None = None) -> str:
    from ..narrate.layers import layer_sections
    from .image import render_image
    from .layer_graph import render_layer_dot
    from .page_svg import page_svg

    sections = layer_sections(result, title, precision, network)
    forward = next(s for s in sections if s.key == "forward")
    backward = next(s for s in sections if s.key == "backward")
    forward_groups = _forward_groups(forward, result)
    backward_groups = _backward_groups(backward, result, precision)
    svg = picture(lambda: page_svg(
        render_image(render_layer_dot(result, title, precision), "svg").decode("utf-8")))
    steps, elements, groups = _stops(result, forward_groups, backward_groups, precision)
    chart = spark_chart(result, precision)
    header = [Section(title, sections[0].blocks)]
    others = [section for section in sections[1:] if section is not forward and
              section is not backward]
    passes = [(forward.title, 1, len(forward_groups), ""),
              (backward.title, 1 + len(forward_groups), len(backward_groups), "")]
    data = {"mode": "layers", "elements": elements,
            "steps": [[step.phase, step.label, list(step.now)] for step in steps],
            "totals": {}, "details": _details(result, precision)}
    page = assemble(title, header, svg, steps, groups, passes, others, data)
    if chart:
        page = page.replace("</header>", chart + "</header>", 1)
    return page


def _is_continuation(line: Line) -> bool:
    return line.parts[0][0].startswith("    ")


def _forward_groups(section: Section, result) -> list[list[Line]]:
    """The forward lines of each layer: its line, then the indented ones that follow it."""
    lines = next(block for block in section.blocks if isinstance(block, tuple))
    groups: list[list[Line]] = []
    for line in lines:
        if groups and _is_continuation(line):
            groups[-1].append(line)
        else:
            groups.append([line])
    if len(groups) != len(result.layers):
        raise ValueError("the forward lines do not pair with the layers")  # a bug
    return groups


def _backward_groups(section: Section, result, precision: int) -> list[list[Line]]:
    """The backward lines of each layer, last layer first: the story's lines, split where
    each layer's own lines end (as narrate.layers writes them, layer by layer)."""
    from ..narrate.layers import _backward_lines, _names

    lines = next(block for block in section.blocks if isinstance(block, tuple))
    records, names = result.trace.by_id, _names(result)
    groups = [_backward_lines(layer, result, records, names, precision)
              for layer in reversed(result.layers)]
    if [line for group in groups for line in group] != list(lines):
        raise ValueError("the backward lines do not pair with the layers")  # a bug
    return groups


def _layer_keys(layer, result) -> list[str]:
    """The layer's box and the edge into it; an expanded layer's op boxes and their edges."""
    if result.expanded == layer.name:
        own = set(layer.nodes) | {name for name, _ in layer.spec.params} | {layer.input}
        records = result.trace.by_id
        keys = list(layer.nodes)
        for node in layer.nodes:
            keys += [f"{source}->{node}" for source in records[node].inputs if source in own]
        return keys
    return [f"{layer.input}->{layer.output}", layer.output]


def _stops(result, forward_groups, backward_groups, precision: int):
    steps = [Step("start", _("The batch and the network, before the step"), ())]
    groups: list = [[(None, None)]]
    shown_at: dict[str, int] = {"a0": 0}
    grad_at: dict[str, int] = {}
    count = len(result.layers)
    for number, (layer, lines) in enumerate(zip(result.layers, forward_groups), start=1):
        keys = _layer_keys(layer, result)
        for key in keys:
            shown_at.setdefault(key, len(steps))
        steps.append(Step("f", _("Forward, layer {number} of {count}: {layer} ({op})",
                                 number=number, count=count, layer=layer.name,
                                 op=layer.spec.op), tuple(keys)))
        groups.append([(line, None) for line in lines])
    summaries = {summary.name: summary for summary in result.summaries}
    for number, (layer, lines) in enumerate(zip(reversed(result.layers), backward_groups),
                                            start=1):
        keys = _layer_keys(layer, result)
        for key in keys:
            grad_at.setdefault(key, len(steps))
        norms = _norms_text(summaries[layer.name], precision)
        spark = [f"spark {layer.output}"] if layer.spec.params else []
        steps.append(Step("b", _("Backward, layer {number} of {count}: {layer} — {norms}",
                                 number=number, count=count, layer=layer.name, norms=norms),
                          tuple(keys + spark)))
        groups.append([(line, None) for line in lines])
    grad_at.setdefault("a0", grad_at.get(f"a0->{result.layers[0].output}", len(steps) - 1))
    keys = list(dict.fromkeys([*shown_at, *grad_at]))
    elements = [[key, shown_at.get(key), grad_at.get(key)] for key in keys]
    return steps, elements, groups


def _norms_text(summary, precision: int) -> str:
    parts = []
    if summary.output_grad_norm is not None:
        parts.append(f"‖∂L/∂output‖ = {fmt(summary.output_grad_norm, precision + 1)}")
    parts += [f"‖∂L/∂{name}‖ = {fmt(norm, precision + 1)}"
              for name, norm in summary.param_grad_norms.items()]
    if summary.grad_norm is not None:
        parts.append(f"‖∂L/∂input‖ = {fmt(summary.grad_norm, precision + 1)}")
    return ", ".join(parts)


def _details(result, precision: int) -> dict:
    """What a click on a layer's box shows: shapes, parameters, norms, and its ops."""
    summaries = {summary.name: summary for summary in result.summaries}
    trace = result.trace
    details = {}
    for layer in result.layers:
        summary = summaries[layer.name]
        own = set(layer.nodes)
        rows = [f"<h3>{html.escape(layer.name)} <small>{html.escape(layer.spec.op)}</small></h3>",
                "<p>" + html.escape(_("input {input} → output {output}",
                                      input=_shape(summary.input_shape),
                                      output=_shape(summary.output_shape))) + "</p>"]
        for name, value in layer.spec.params:
            norm = summary.param_grad_norms.get(name)
            rows.append(f"<p>{html.escape(name)} {html.escape(_shape(np.shape(value)))}: "
                        f'<span class="g">‖∂L/∂{html.escape(name)}‖ = '
                        f"{html.escape(fmt(norm, precision + 1))}</span></p>")
        rows.append(f"<p>{html.escape(_norms_text(summary, precision))}</p>")
        forward = [forward_line(trace, step, precision) for step in trace.forward
                   if step.node in own]
        backward = [backward_line(trace, step, precision) for step in trace.backward
                    if step.node in own]
        ops = len(layer.nodes)
        summary_text = ngettext("its {count} op, forward then backward",
                                "its {count} ops, forward then backward", ops, count=ops)
        rows.append(f"<details open><summary>{html.escape(summary_text)}</summary>"
                    "<ul class=\"plain\">"
                    + "".join(f"<li>{line_html(line)}</li>" for line in forward + backward)
                    + "</ul></details>")
        details[layer.output] = "".join(rows)
        for node in layer.nodes:
            details.setdefault(node, details[layer.output])
    return details


def _shape(shape) -> str:
    shape = tuple(shape)
    return "(" + ", ".join(str(n) for n in shape) + ("," if len(shape) == 1 else "") + ")" \
        if shape else _("scalar")


CHART_WIDTH, CHART_HEIGHT, CHART_PAD = 260, 70, 8


def spark_chart(result, precision: int) -> str:
    """‖δ⁽ˡ⁾‖ (solid) and ‖∂L/∂W⁽ˡ⁾‖ (dashed) over depth, log scale, input side first, one
    point per linear or conv layer named so the page can mark the one being stepped."""
    from ..layers.diagnosis import diagnose

    health = diagnose(result).health
    if health is None or len(health.levels) < 2:
        return ""
    weighted = [layer for layer in result.layers if layer.spec.params]
    series = [np.asarray(health.delta_norms, dtype=float),
              np.asarray(health.weight_grad_norms, dtype=float)]
    usable = np.concatenate(series)
    usable = usable[np.isfinite(usable) & (usable > 0)]
    if not usable.size:
        return ""
    low, high = np.log10(usable.min()), np.log10(usable.max())
    span = high - low or 1.0
    count = len(health.levels)

    def point(index: int, value: float) -> tuple[float, float] | None:
        if not (np.isfinite(value) and value > 0):
            return None
        x = CHART_PAD + index * (CHART_WIDTH - 2 * CHART_PAD) / (count - 1)
        y = CHART_HEIGHT - CHART_PAD - (np.log10(value) - low) / span * (CHART_HEIGHT - 2 * CHART_PAD)
        return round(float(x), 1), round(float(y), 1)

    parts = []
    for values, dashes in zip(series, ("", ' stroke-dasharray="4 3"')):
        points = [p for p in (point(i, v) for i, v in enumerate(values)) if p]
        parts.append(f'<polyline fill="none" stroke="{GRADIENT_COLOUR}" stroke-width="1.5"'
                     f'{dashes} points="{" ".join(f"{x},{y}" for x, y in points)}"/>')
    for index, (layer, value) in enumerate(zip(weighted, series[0])):
        found = point(index, value)
        if found:
            parts.append(f'<circle data-k="spark {html.escape(layer.output, quote=True)}" '
                         f'cx="{found[0]}" cy="{found[1]}" r="2.5" fill="{GRADIENT_COLOUR}">'
                         f"<title>{html.escape(layer.name)}: ‖δ‖ = {fmt(value, precision + 1)}"
                         "</title></circle>")
    caption = _("‖δ⁽ˡ⁾‖ (solid) and ‖∂L/∂W⁽ˡ⁾‖ (dashed) over depth l = 1..{count}, log scale, "
                "from {low} to {high}", count=count, low=fmt(10 ** low, precision),
                high=fmt(10 ** high, precision))
    return (f'<figure class="chart"><svg class="spark" role="img" aria-label="{html.escape(caption, quote=True)}" '
            f'width="{CHART_WIDTH}" height="{CHART_HEIGHT}" viewBox="0 0 {CHART_WIDTH} {CHART_HEIGHT}">'
            f'<rect x="0.5" y="0.5" width="{CHART_WIDTH - 1}" height="{CHART_HEIGHT - 1}" '
            f'fill="none" stroke="#d0d7de"/>{"".join(parts)}</svg>'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>")
