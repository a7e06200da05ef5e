"""The interactive page: one self-contained HTML file to step through backprop in a browser.

    gradtrace explain "1/(1+exp(-x))" --html page.html     or     trace.to_html("page.html")

The page holds everything inline (CSS, script, the graph as SVG, the data as JSON) and loads
nothing: it works offline, from file://, and its Content-Security-Policy forbids any request.
Beside the annotated graph (values green, gradients red) it lists the story's forward and
backward lines; stepping lights up, for each line, what it speaks of: a forward step the op
and its value box, a backward step the edge its gradient flows along and the gradient arriving
on the input, a sum of paths the node it adds up on (its gradient on the graph growing from
one partial sum to the next). Buttons, the keyboard (← → Home End, space to play), a slider and
the URL's #step=N move through the steps; clicking a node shows its op, value, gradient, local
derivatives and its chain-rule paths, highlighted.

The steps are the story's own lines (gradtrace.narrate.story), so the page shows the same
lines as `--format text`, in the same order, with the same numbers; `page_steps` pairs each
line with the trace's step it narrates. What a step lights is worked out here, as names of the
SVG's elements (gradtrace.render.page_svg), so the script (page/stepper.js) only toggles
classes. A quiz page (gradtrace.narrate.quiz) has the quiz's lines instead, with a box to type
each blank in, and grades answers in the page with the quiz's numbers. `layers_page`
(gradtrace.render.page_layers) makes the same page for one training step of `mlp` and `cnn`.
The same trace always gives the same bytes.
"""

from __future__ import annotations

import html
import json
from importlib import resources
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ..core.errors import GradtraceError, UsageError
from ..core.i18n import N_, _, current, data as said, ngettext
from ..core.registry import REGISTRY
from ..narrate.blocks import Picture, Section, Table
from ..narrate.lines import Line, fill_pattern
from ..narrate.numbers import fmt, fmt_array, shape_text
from ..narrate.quiz import BLANK, Quiz
from .dot import GRADIENT_COLOUR, VALUE_COLOUR

FORWARD, BACKWARD = "forward", "backward"  # the story's keys of the sections of the two passes
LETTERS = "abcde"
DETAIL_NODES = 300  # up to this many nodes, array values and Jacobians go into the page
TABLE_ENTRIES = 64  # an array up to this size is a table; larger, a heat map
HEAT_SIDE = 32
SUFFIXES = (".html", ".htm")
CSP = ("default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
       "img-src data:; base-uri 'none'; form-action 'none'")
PHASES = {"start": "Start", "f": "Forward", "s": "Backward", "b": "Backward", "a": "Backward"}
# The words the page's script writes (stepper.js reads them from the page's data, so the page
# speaks the reader's language): {name} fields are filled in by the script.
SCRIPT_WORDS = {
    "close": N_("Close the details"),
    "node": N_("node {name}"),
    "scalar": N_("scalar"),
    "op": N_("op {op}"),
    "op_about": N_("op {op}: {about}"),
    "input": N_("an input"),
    "constant": N_("a constant"),
    "value": N_("value {value}"),
    "gradient": N_(", gradient ∂f/∂{node} = {grad}"),
    "no_gradient": N_(", no gradient flows to it"),
    "computed_in": N_("computed in {step}"),
    "step": N_("step {number}"),
    "locals": N_("Local derivatives (sent back to its inputs)"),
    "reaching_several": N_("Gradients reaching it, added up"),
    "reaching_one": N_("Its gradient comes from"),
    "from": N_("from {node} {step}"),
    "paths_none": N_("0 chain-rule paths lead from the output down to {node}."),
    "paths_one": N_("1 chain-rule path leads from the output down to {node} (highlighted)."),
    "paths_many": N_("{count} chain-rule paths lead from the output down to {node} "
                     "(highlighted): its gradient is the sum over them of the products of the "
                     "local derivatives on each."),
    "not_answered": N_("not answered"),
    "not_a_number": N_("“{typed}” is not a number"),
    "right": N_("right"),
    "expected_value": N_("not the value of {asks}: apply its op to its inputs again"),
    "expected_local": N_("not {asks}: take the derivative of the op by this input, at the "
                         "values of the forward pass"),
    "expected_sum": N_("not the sum of the gradients reaching {node}"),
    "expected_grad": N_("not upstream × local: multiply the gradient arriving from above by "
                        "this step's local derivative"),
    "score": N_("{right} of {total} right."),
    "first_wrong": N_(" The first wrong step is {where} ({asks}): {why}."),
    "play": N_("Play (space)"),
    "pause": N_("Pause (space)"),
}


def script_words() -> dict[str, str]:
    """SCRIPT_WORDS in the current language, for the page's data."""
    return {key: said(text) for key, text in SCRIPT_WORDS.items()}


class Step(NamedTuple):
    """One stop of the stepper: a narrated line (or a layer's lines) and what it lights."""

    phase: str  # "start", "f" (forward), "s" (the seed), "b" (backward), "a" (a sum of paths)
    label: str  # "Forward step 3 of 8: h3"
    now: tuple[str, ...]  # SVG element names lit as the current step


# -- the trace's page -----------------------------------------------------------------------

def trace_page(trace, precision: int = 2, quiz: Quiz | None = None) -> str:
    """The page of a trace; with `quiz`, the quiz's lines with their blanks to type in."""
    from ..narrate.story import story
    from .image import render_image
    from .page_svg import page_svg

    arrays = any(np.ndim(record.value) for record in trace.nodes)
    views = _jacobian_views(trace) if arrays and len(trace.nodes) <= DETAIL_NODES else None
    sections = story(trace, precision, views)
    forward, backward = _section(sections, FORWARD), _section(sections, BACKWARD)
    forward_lines, backward_lines = _lines(forward), _lines(backward)
    if quiz is not None:
        forward_lines, backward_lines = quiz.forward, quiz.backward
    steps, elements, totals = page_steps(trace, len(forward_lines), len(backward_lines),
                                         precision)
    pass_titles = forward.title, backward.title
    hidden_values = quiz.hidden_values if quiz else ()
    hidden_grads = quiz.hidden_grads if quiz else ()
    svg = picture(lambda: page_svg(render_image(_dot(trace, precision), "svg").decode("utf-8"),
                                   hidden_values, hidden_grads))
    header = sections[0]  # the point
    if quiz is not None:
        header = _quiz_header(header, quiz)
        totals = {}
    groups = [[(None, None)]] + [[(line, None)] for line in forward_lines + backward_lines]
    intro = next((block for block in backward.blocks if isinstance(block, str)), "")
    passes = [(pass_titles[0], 1, len(forward_lines), ""),
              (pass_titles[1], 1 + len(forward_lines), len(backward_lines), intro)]
    others = [] if quiz else [section for section in sections[1:]
                              if section.key not in (FORWARD, BACKWARD)]
    nodes, about = _node_data(trace, steps, views, precision, hidden_values, hidden_grads)
    data = {
        "mode": "trace",
        "elements": elements,
        "steps": [[step.phase, step.label, list(step.now)] for step in steps],
        "totals": totals,
        "nodes": nodes,
        "ops": about,
        "quiz": None if quiz is None else quiz_data(quiz, len(forward_lines)),
    }
    return assemble(header.title, [header], svg, steps, groups, passes, others, data, quiz)


def picture(draw) -> str:
    """The graph's SVG for the page; without a layout engine, a note saying how to get one
    (the page still steps through the story's lines)."""
    from .image import RenderError

    try:
        return draw()
    except RenderError as error:
        return ('<p class="no-graph">'
                + html.escape(_("The graph is not drawn: {why}", why=str(error))) + "</p>")


def _jacobian_views(trace):
    from ..jacobians.local import jacobian_views

    return jacobian_views(trace)


def _dot(trace, precision: int) -> str:
    from .dot import render_dot

    return render_dot(trace, precision=precision)


def _section(sections: list[Section], key: str) -> Section:
    for section in sections:
        if section.key == key:
            return section
    raise LookupError(f"the story has no {key!r} section")  # a bug: the story changed


def _lines(section: Section) -> tuple[Line, ...]:
    return next((block for block in section.blocks if isinstance(block, tuple)), ())


def page_steps(trace, forward_count: int, backward_count: int, precision: int = 2):
    """(steps, elements, totals): the stepper's stops in the story's order, the first stop
    at which each SVG element shows its value (or is passed forward) and its gradient (or is
    passed backward), and the running sums shown on a node reached by several paths.

    Stop 0 is the point; then one stop per forward line, the seed, and one per backward line
    (a step, and after a step that reaches a node again, the sum). `forward_count` and
    `backward_count` are the lines the page shows, which must pair with the trace's steps."""
    sums = sum(step.arrival > 1 for step in trace.backward)
    backward = backward_count > 0  # a quiz of values stops after the forward pass
    if forward_count != len(trace.forward) or \
            backward and backward_count != 1 + len(trace.backward) + sums:
        raise ValueError("the story's lines do not pair with the trace's steps")  # a bug
    records, graph = trace.by_id, trace.graph
    shown_at: dict[str, int] = {}  # element → stop where its value shows / it carries forward
    grad_at: dict[str, int] = {}  # element → stop where its gradient shows / it carries back
    totals: dict[str, list] = {}
    for record in trace.nodes:
        if record.kind == "input":
            shown_at[record.id] = 0
    steps = [Step("start", _("The point: the inputs' values"), ())]
    count = len(trace.forward)
    for number, step in enumerate(trace.forward, start=1):
        keys = _forward_keys(graph.by_id[step.node], records)
        for key in keys:
            shown_at.setdefault(key, number)
        steps.append(Step("f", _("Forward step {number} of {count}: {node}", number=number,
                                 count=count, node=step.node), tuple(keys)))
    if not backward:
        return steps, [[key, stop, None] for key, stop in shown_at.items()], {}
    seed = len(steps)
    grad_at[trace.output] = seed
    steps.append(Step("s", _("Backward: the output's gradient, ∂{output}/∂{output}",
                             output=trace.output), (trace.output,)))
    count = len(trace.backward)
    arrivals: dict[str, int] = {}
    for number, step in enumerate(trace.backward, start=1):
        node = graph.by_id[step.node]
        source = _source_key(node, step.index, records)
        edge, out = f"{source}->{step.node} op", f"{step.node} op->{step.node}"
        keys = (out, f"{step.node} op", edge, source)
        stop = len(steps)
        for key in keys:
            grad_at.setdefault(key, stop)
        steps.append(Step("b", _("Backward step {number} of {count}: {input} ← {node}",
                                 number=number, count=count, input=step.input, node=step.node),
                          keys))
        arrivals[step.input] = step.arrival
        if step.arrival > 1:
            steps.append(Step("a", _("Backward: the paths into {input} add up",
                                     input=step.input), (step.input,)))
        if _gradient_drawn_on_one_line(trace, step.input):
            totals.setdefault(step.input, []).append([stop + (step.arrival > 1),
                                                      fmt_array(step.total, precision)])
    totals = {key: value for key, value in totals.items() if arrivals.get(key, 1) > 1}
    keys = list(dict.fromkeys([*shown_at, *grad_at]))
    infinity = None
    elements = [[key, shown_at.get(key, infinity), grad_at.get(key, infinity)] for key in keys]
    return steps, elements, totals


def _gradient_drawn_on_one_line(trace, name: str) -> bool:
    return np.ndim(trace.by_id[name].value) == 0


def _forward_keys(node, records) -> list[str]:
    """A forward step lights the op's circle, the edges into it, its constants' boxes, the
    edge out and the value box (named as render.dot names them)."""
    keys = [f"{node.id} op"]
    for index, source in enumerate(node.inputs):
        source_key = _source_key(node, index, records)
        if records[source].kind == "const":
            keys.append(source_key)
        keys.append(f"{source_key}->{node.id} op")
    keys += [f"{node.id} op->{node.id}", node.id]
    return keys


def _source_key(node, index: int, records) -> str:
    """The box an op's input is drawn in: the input's own, or the constant's box of this use."""
    source = node.inputs[index]
    return f"{node.id} {LETTERS[index]}" if records[source].kind == "const" else source


def _node_data(trace, steps, views, precision: int, hidden_values, hidden_grads) -> dict:
    """What a click on a node shows, by the names of its elements: its op and formula, value,
    gradient, the backward steps leaving and reaching it, how many chain-rule paths lead to
    it, the elements on those paths; for arrays, tables or heat maps and local Jacobians."""
    from ..narrate.paths import path_index

    counts = path_index(trace).counts
    stops = {step.now[0]: index for index, step in enumerate(steps) if step.phase == "f"}
    back_stops = [index for index, step in enumerate(steps) if step.phase == "b"]
    leaving: dict[str, list] = {}
    reaching: dict[str, list] = {}
    for stop, step in zip(back_stops, trace.backward):
        rule = (f"grad_{step.input} = {step.formula}" if step.local is None
                else f"∂{step.node}/∂{step.input} = {step.formula}")
        leaving.setdefault(step.node, []).append([stop, step.input, rule])
        reaching.setdefault(step.input, []).append([stop, step.node])
    view_of = {(view.node, view.input): view for view in views or ()}
    nodes: dict = {}
    about: dict[str, str] = {}  # each op's description, once
    hidden_values, hidden_grads = set(hidden_values), set(hidden_grads)
    for record in trace.nodes:
        node = trace.graph.by_id[record.id]
        entry = {"id": record.id, "kind": record.kind,
                 "value": "?" if record.id in hidden_values else fmt_array(record.value, precision),
                 "grad": None if record.grad is None else (
                     "?" if record.id in hidden_grads else fmt_array(record.grad, precision)),
                 "paths": counts.get(record.id, 0),
                 "in": [_source_key(node, i, trace.by_id) for i in range(len(node.inputs))],
                 "leaving": leaving.get(record.id, []), "reaching": reaching.get(record.id, [])}
        if np.ndim(record.value):
            entry["shape"] = shape_text(np.shape(record.value))
        if record.kind == "op":
            op = REGISTRY[record.op]
            names = dict(zip(LETTERS, record.inputs))
            written = "".join(t for t, _ in fill_pattern(op.pattern, names, "", node.attrs))
            entry.update(op=op.name, formula=f"{record.id} = {written}",
                         step=stops.get(f"{record.id} op"))
            about.setdefault(op.name, said(op.description) or "")
        extra = "" if record.id in hidden_values or record.id in hidden_grads else \
            _array_details(record, trace, view_of, precision)
        if extra:
            entry["extra"] = extra
        nodes[record.id] = entry
        if record.kind == "op":
            nodes[f"{record.id} op"] = record.id  # the op's circle opens the same node
    for record in trace.nodes:  # each constant's boxes, one per use
        if record.kind == "op":
            for index, source in enumerate(record.inputs):
                if trace.by_id[source].kind == "const":
                    nodes[f"{record.id} {LETTERS[index]}"] = source
    return nodes, about


def _array_details(record, trace, view_of, precision: int) -> str:
    """An array node's value and gradient as tables or heat maps, and the structure of the
    local Jacobians of the steps leaving it (a small trace only: the page stays small)."""
    if not np.ndim(record.value) or len(trace.nodes) > DETAIL_NODES:
        return ""
    parts = ["<h4>" + html.escape(_("value {shape}", shape=shape_text(np.shape(record.value))))
             + "</h4>", array_html(record.value, "v", precision)]
    if record.grad is not None:
        parts += ["<h4>" + html.escape(_("gradient")) + "</h4>",
                  array_html(record.grad, "g", precision)]
    for (node, source), view in view_of.items():
        if node != record.id:
            continue
        rows, cols = view.shape
        parts.append("<h4>" + html.escape(_(
            "Jacobian ∂{node}/∂{input}: {rows} × {columns}, {structure}, {density} non-zero",
            node=node, input=source, rows=rows, columns=cols, structure=said(view.structure),
            density=f"{view.density:.0%}")) + "</h4>")
        if view.description:
            parts.append(f"<p>{html.escape(view.description)}</p>")
        if view.matrix is not None and view.matrix.size:
            from ..narrate.pictures import sparsity_picture

            rows_text = sparsity_picture(view.matrix, HEAT_SIDE)
            parts.append('<pre class="sparsity">' + html.escape("\n".join(rows_text)) + "</pre>")
    return "".join(parts)


def array_html(value, kind: str, precision: int) -> str:
    """A small array as a table of its entries (a matrix row by row); a larger one as a heat
    map of |entry|, at most HEAT_SIDE × HEAT_SIDE cells, darker for larger."""
    array = np.asarray(value, dtype=np.float64)
    matrix = array.reshape(-1, array.shape[-1]) if array.ndim > 1 else array.reshape(1, -1)
    if array.size <= TABLE_ENTRIES:
        rows = "".join("<tr>" + "".join(f'<td class="{kind}">{html.escape(fmt(x, precision))}</td>'
                                        for x in row) + "</tr>" for row in matrix)
        return f'<table class="array">{rows}</table>'
    magnitude = np.abs(np.nan_to_num(matrix, nan=0.0, posinf=0.0, neginf=0.0))
    for axis in (0, 1):
        length = magnitude.shape[axis]
        if length > HEAT_SIDE:
            starts = (np.arange(HEAT_SIDE) * length) // HEAT_SIDE
            magnitude = np.maximum.reduceat(magnitude, starts, axis=axis)
    top = magnitude.max() or 1.0
    colour = VALUE_COLOUR if kind == "v" else GRADIENT_COLOUR
    cell = max(3, min(12, 240 // max(magnitude.shape)))
    squares = "".join(f'<rect x="{j * cell}" y="{i * cell}" width="{cell}" height="{cell}" '
                      f'fill-opacity="{round(float(x / top), 3)}"/>'
                      for i, row in enumerate(magnitude) for j, x in enumerate(row) if x > 0)
    width, height = cell * magnitude.shape[1], cell * magnitude.shape[0]
    label = html.escape(_("heat map of |entries|"), quote=True)
    return (f'<svg class="heat" role="img" aria-label="{label}" width="{width}" '
            f'height="{height}" viewBox="0 0 {width} {height}"><g fill="{colour}">{squares}</g>'
            "</svg>")


# -- a quiz in the page ---------------------------------------------------------------------

def _quiz_header(header: Section, quiz: Quiz) -> Section:
    """The point only: the output's value is a blank of its own in a quiz of values."""
    lines = tuple(Line(((name, "name"), (" = ", ""), (fmt(value, quiz.precision), "value")))
                  for name, value in quiz.point)
    text = _(EXERCISES[quiz.kind])
    return Section(header.title, (_("At the point:"), lines, text), "header")


# what the page asks of a student, by the kind of quiz
EXERCISES = {
    "grads": N_("Exercise: fill in the gradients. Answers within a few per cent are right (work "
                "with the numbers as shown); Check answers grades them and points at the first "
                "wrong step."),
    "locals": N_("Exercise: fill in the local derivatives. Answers within a few per cent are "
                 "right (work with the numbers as shown); Check answers grades them and points "
                 "at the first wrong step."),
    "values": N_("Exercise: fill in the forward values. Answers within a few per cent are right "
                 "(work with the numbers as shown); Check answers grades them and points at the "
                 "first wrong step."),
    "all": N_("Exercise: fill in the values, local derivatives and gradients. Answers within a "
              "few per cent are right (work with the numbers as shown); Check answers grades "
              "them and points at the first wrong step."),
}


def quiz_data(quiz: Quiz, forward_count: int) -> dict:
    """The blanks as the page's script grades them: the stop each sits on, its answer and
    tolerance, and the typical mistakes with why (the same numbers as quiz.grade)."""
    blanks = []
    for blank in quiz.blanks:
        stop = 1 + blank.line + (forward_count if blank.phase == "backward" else 0)
        blanks.append({"n": blank.number, "kind": blank.kind, "stop": stop, "where": blank.where,
                       "asks": blank.asks, "answer": blank.answer, "tol": blank.tolerance,
                       "mistakes": [[m.value, m.why] for m in blank.mistakes]})
    return {"kind": quiz.kind, "blanks": blanks}


# -- laying out the page --------------------------------------------------------------------

def assemble(title: str, header: list[Section], svg: str, steps: list[Step], groups,
             passes, others: list[Section], data: dict, quiz: Quiz | None = None) -> str:
    """The whole page. `groups` holds, per stop, its lines (each a (Line, note) pair);
    `passes` the lists to show them in: (title, first stop, how many stops, intro)."""
    css = _asset("stepper.css")
    script = _asset("stepper.js")
    last = len(steps) - 1
    data = {**data, "words": script_words()}
    legend = _("values {green}, gradients {red}; click a node for its details")
    legend = html.escape(legend).replace("{green}", '<span class="v">' + html.escape(_("green"))
                                         + "</span>").replace(
        "{red}", '<span class="g">' + html.escape(_("red")) + "</span>")
    body = [f'<header><h1><code>{html.escape(title)}</code></h1>',
            f'<p class="legend">{legend}</p>']
    for section in header:
        body += [block_html(block, inline=True) for block in section.blocks]
    body.append("</header>")
    body.append(_controls(last))
    graph_label = html.escape(_("the computation graph"), quote=True)
    body.append('<main><div id="left"><div id="now" aria-live="polite"></div>'
                f'<figure id="graph" aria-label="{graph_label}">{svg}</figure>'
                '<aside id="detail" aria-live="polite" hidden></aside></div>'
                '<div id="story">')
    if quiz is not None:
        body.append('<div id="quiz"><button type="button" id="check">'
                    + html.escape(_("Check answers")) + '</button>'
                    '<button type="button" id="clear">' + html.escape(_("Clear")) + '</button>'
                    '<p id="grade" role="status" aria-live="polite"></p></div>')
    for name, first, count, intro in passes:
        if not count:
            continue
        body.append(f"<h2>{html.escape(name)}</h2>")
        if intro:
            body.append(f"<p>{html.escape(intro)}</p>")
        body.append('<ol class="lines">')
        for stop in range(first, first + count):
            body.append(_stop_html(stop, groups[stop], quiz))
        body.append("</ol>")
    for section in others:
        content = "".join(block_html(block) for block in section.blocks)
        body.append(f"<details><summary>{html.escape(section.title)}</summary>{content}"
                    "</details>")
    body.append("</div></main>")
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    payload = payload.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return (f"<!DOCTYPE html>\n<html lang=\"{current()}\">\n<head>\n<meta charset=\"utf-8\">\n"
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
            f"<title>gradtrace: {html.escape(title)}</title>\n<style>\n{css}</style>\n"
            "<noscript><style>#graph svg { display: block; }</style></noscript>\n</head>\n"
            "<body>\n" + "\n".join(body) + "\n"
            f'<script type="application/json" id="gt-data">{payload}</script>\n'
            f"<script>\n{script}</script>\n</body>\n</html>\n")


def _asset(name: str) -> str:
    return resources.files("gradtrace.render").joinpath("page", name).read_text("utf-8")


_ICONS = {  # drawn, not taken from a font: every browser and printer has them
    "first": "M3 2h2v12H3zM14 2v12L6 8z", "prev": "M12 2v12L4 8z", "play": "M4 2v12l10-6z",
    "pause": "M3 2h4v12H3zM9 2h4v12H9z", "next": "M4 2v12l8-6z", "last": "M11 2h2v12h-2zM2 2v12l8-6z",
}


def icon(name: str) -> str:
    return (f'<svg class="icon" viewBox="0 0 16 16" width="14" height="14" aria-hidden="true" '
            f'focusable="false"><path d="{_ICONS[name]}"/></svg>')


def _button(name: str, label: str, extra: str = "") -> str:
    label = html.escape(label, quote=True)
    return (f'<button type="button" id="{name}" aria-label="{label}" title="{label}"{extra}>'
            f"{icon(name)}</button>")


def _controls(last: int) -> str:
    words = {key: html.escape(text, quote=True) for key, text in (
        ("nav", _("Step through the passes")), ("speed", _("speed")),
        ("half", _("½ step/s")), ("one", _("1 step/s")), ("two", _("2 steps/s")),
        ("four", _("4 steps/s")), ("step", _("Step")), ("zoom", _("Zoom the graph")),
        ("out", _("Zoom out")), ("fit", _("Fit the graph to its box")), ("fit_word", _("fit")),
        ("in", _("Zoom in")))}
    return (
        f'<nav id="controls" aria-label="{words["nav"]}">'
        + _button("first", _("First step (Home)")) + _button("prev", _("Previous step (←)"))
        + _button("play", _("Play (space)"), ' aria-pressed="false"')
        + _button("next", _("Next step (→)")) + _button("last", _("Last step (End)"))
        + f'<label for="speed">{words["speed"]}</label><select id="speed">'
        f'<option value="0.5">{words["half"]}</option>'
        f'<option value="1" selected>{words["one"]}</option>'
        f'<option value="2">{words["two"]}</option>'
        f'<option value="4">{words["four"]}</option></select>'
        f'<input type="range" id="slider" min="0" max="{last}" value="0" step="1" '
        f'aria-label="{words["step"]}">'
        f'<output id="counter" for="slider">0 / {last}</output>'
        f'<span class="zoom" role="group" aria-label="{words["zoom"]}">'
        f'<button type="button" id="zoom-out" aria-label="{words["out"]}" '
        f'title="{words["out"]}">−</button>'
        f'<button type="button" id="zoom-fit" aria-label="{words["fit"]}" '
        f'title="{words["fit"]}">{words["fit_word"]}</button>'
        f'<button type="button" id="zoom-in" aria-label="{words["in"]}" '
        f'title="{words["in"]}">+</button>'
        "</span></nav>")


def _stop_html(stop: int, lines, quiz: Quiz | None) -> str:
    content = "<br>".join(line_html(line, quiz) for line, _ in lines if line is not None)
    return f'<li id="s{stop}">{content}</li>'


_CLASSES = {"value": "v", "grad": "g", "name": "n", "number": ""}


def line_html(line: Line, quiz: Quiz | None = None) -> str:
    """A narrated line: values green, gradients red, names bold; a blank as a box to type in."""
    parts = []
    for text, kind in line.parts:
        if kind == BLANK:
            blank = quiz.blanks[int(text) - 1] if quiz else None
            label = _("blank {number}: {asks}", number=text, asks=blank.asks) if blank else \
                _("blank {number}", number=text)
            parts.append(f'<input class="blank" data-b="{text}" type="text" inputmode="decimal" '
                         f'size="7" autocomplete="off" spellcheck="false" placeholder="{text}" '
                         f'aria-label="{html.escape(label, quote=True)}">')
        elif _CLASSES.get(kind):
            parts.append(f'<span class="{_CLASSES[kind]}">{html.escape(text)}</span>')
        else:
            parts.append(html.escape(text))
    out = f'<span class="line">{"".join(parts)}</span>'
    if line.warning:
        out += f' <span class="warning">⚠ {html.escape(line.warning)}</span>'
    if line.note:
        out += f' <span class="note">{html.escape(line.note)}</span>'
    return out


def block_html(block, inline: bool = False) -> str:
    """A story's block: prose, a table, a picture (a heat map where it has shades) or lines
    (`inline`: side by side, as the point's values are shown)."""
    if isinstance(block, str):
        return f"<p>{html.escape(block)}</p>"
    if isinstance(block, Table):
        head = "".join(f"<th>{html.escape(column)}</th>" for column in block.columns)
        rows = "".join("<tr>" + "".join(
            f'<td class="{_CLASSES.get(kind, "")}">{html.escape(cell)}</td>'
            for cell, kind in zip(row, block.kinds)) + "</tr>" for row in block.rows)
        return f'<table class="story"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>'
    if isinstance(block, Picture):
        from .markdown import html_picture

        return html_picture(block)
    kind = "inline" if inline else "plain"
    return f'<ul class="{kind}">' + "".join(f"<li>{line_html(line)}</li>" for line in block) + "</ul>"


# -- files and notebooks --------------------------------------------------------------------

def write_page(page: str, path) -> Path:
    """Write a page atomically; the name must end in .html (or .htm)."""
    from .image import write_atomic

    path = Path(path)
    if path.suffix.lower() not in SUFFIXES:
        raise UsageError(_("{path}: a page's name ends in .html", path=path), "path")
    write_atomic(path, page.encode("utf-8"))
    return path


def trace_html_file(trace, path=None, precision: int = 2, quiz: str | None = None) -> str:
    """Trace.to_html: the page as text, written to `path` when one is given; `quiz` (grads,
    locals, values or all) makes it an exercise."""
    made = None
    if quiz is not None:
        from ..narrate.quiz import make_quiz

        made = make_quiz(trace, quiz, precision)
    page = trace_page(trace, precision, made)
    if path is not None:
        write_page(page, path)
    return page


NOTEBOOK_HEIGHT = 640  # pixels: the page inside a notebook's output, scrolling within


def notebook_view(trace, precision: int = 2) -> str:
    """Jupyter's rich display: the interactive page in an iframe (srcdoc), so its script,
    styles and keys stay its own and nothing needs installing; the static SVG stays available
    (Trace._repr_svg_, trace.to_svg())."""
    try:
        page = trace_page(trace, precision)
    except GradtraceError:  # a trace the page cannot show: the tables, as before
        from ..narrate.story import story
        from .markdown import render_html

        return render_html(story(trace, precision))
    return (f'<iframe srcdoc="{html.escape(page, quote=True)}" title="gradtrace: '
            f'{html.escape(trace.expression, quote=True)}" style="width:100%;'
            f'height:{NOTEBOOK_HEIGHT}px;border:1px solid #d0d7de;border-radius:6px" '
            'loading="lazy"></iframe>')
