"""The whole story of a Trace as plain data: sections of prose, tables and narrated lines.

text.py (rich / plain text) and markdown.py (Markdown / HTML) only lay this out, so every
format tells the same story, in the same order, with the same numbers. Nothing here imports rich.
"""

from __future__ import annotations

import numpy as np

from ..core.graph import NAMED_CONSTANTS
from ..core.i18n import N_, _, again
from ..core.registry import REGISTRY
from ..core.trace import Trace
from .paths import path_index
from .blocks import Picture, Section, Table
from .jacobians import jacobian_section
from .lines import (Line, accumulation_line, backward_line, chain_lines, fill_pattern,
                    forward_line, loss_readings, output_gradient, scalar_paths, seed_line)
from .numbers import fmt, fmt_array, shape_text

__all__ = ["Line", "Picture", "Section", "Table", "story"]


def story(trace: Trace, precision: int = 2, jacobians=None) -> list[Section]:
    """The sections, in the order the story is told; `jacobians` (JacobianViews, one per
    backward step) adds the Jacobian of every step after the backward pass."""
    sections = [
        header_section(trace, precision),
        graph_section(trace, precision),
        forward_section(trace, precision),
        loss_section(trace, precision),
        backward_section(trace, precision),
        None if jacobians is None else jacobian_section(trace, jacobians, precision),
        chain_section(trace, precision),
        gradients_section(trace, precision),
        problems_section(trace, precision),
    ]
    return [section for section in sections if section is not None]


# -- 1. header ---------------------------------------------------------------------------

def header_section(trace: Trace, precision: int) -> Section:
    records = trace.by_id
    lines = []
    for name in trace.inputs:
        value = records[name].value
        lines.append(Line(((name, "name"), (" = ", ""), (fmt_array(value, precision), "value")),
                          _default_note(trace, name, value, precision)))
    output = records[trace.output].value
    named = () if trace.output == "f" else ((trace.output, "name"), (" = ", ""))
    lines.append(Line((("f", "name"), (" = ", ""), *named,
                       (fmt_array(output, precision), "value"))))
    if trace.grad_output is not None or np.ndim(output):
        lines.append(Line((("grad_f", "name"), (" = ", ""),
                           (fmt_array(output_gradient(trace), precision), "grad")),
                          _grad_f_note(trace)))
    blocks: list = [_("At the point:"), tuple(lines)]
    if trace.fused:
        blocks.append(_("Recognised composites (such as sigmoid) are shown as single gates."))
    return Section(expression_title(trace.expression), tuple(blocks), "header")


def _grad_f_note(trace: Trace) -> str:
    """Where the output's gradient came from, for an output that is not a number (or one
    given a gradient of its own)."""
    if trace.grad_output is None:
        return _("the output's gradient: none was given, so ones, the gradient of sum(f)")
    if np.ndim(trace.by_id[trace.output].value) == 0:
        return _("the output's gradient, as given: backprop differentiates grad_f · f")
    return _("the output's gradient, as given: backprop differentiates Σ grad_f ⊙ f")


def expression_title(expression: str) -> str:
    """f = 1/(1+exp(-x)); a program that names its steps (q = x + y; f = q*z) as written."""
    return expression if "=" in expression else f"f = {expression}"


def _default_note(trace: Trace, name: str, value, precision: int) -> str:
    if name in NAMED_CONSTANTS and name not in trace.defaults:
        return _("a variable here, given a value; without one, {name} is the constant {value}",
                 name=name, value=fmt(NAMED_CONSTANTS[name], 4))
    if name not in trace.defaults:
        return ""
    if np.ndim(value):
        return _("default (seeded by --seed)")
    return _("default; set it with --at {name}={value}", name=name, value=fmt(value, precision))


def has_arrays(trace: Trace) -> bool:
    """True when some value in the trace is not a scalar: tables then get a shape column."""
    return any(np.ndim(record.value) for record in trace.nodes)


# -- 2. graph ----------------------------------------------------------------------------

def graph_section(trace: Trace, precision: int) -> Section:
    arrays = has_arrays(trace)
    rows = []
    for record in trace.nodes:
        if record.kind == "op":
            names = dict(zip("abcde", record.inputs))
            attrs = trace.graph.by_id[record.id].attrs
            pattern = REGISTRY[record.op].pattern
            op = "".join(text for text, _ in fill_pattern(pattern, names, "", attrs))
        else:
            op = _("input") if record.kind == "input" else _("constant")
        value = fmt_array(record.value, precision, with_shape=not arrays)
        grad = "" if record.grad is None else fmt_array(record.grad, precision,
                                                        with_shape=not arrays)
        shape = (shape_text(np.shape(record.value)),) if arrays else ()
        rows.append((record.id, op, ", ".join(record.inputs)) + shape + (value, grad))
    columns = (_("node"), _("op"), _("inputs")) + (_("shape"),) * arrays + (_("value"),
                                                                          _("gradient"))
    kinds = ("name", "", "") + ("",) * arrays + ("value", "grad")
    return Section(_("Graph"), (Table(columns, kinds, tuple(rows)),), "graph")


# -- 3. forward --------------------------------------------------------------------------

def forward_section(trace: Trace, precision: int) -> Section:
    if not trace.forward:
        return Section(_("Forward pass"), (_("Nothing to compute: the output is an input."),),
                       "forward")
    lines = tuple(forward_line(trace, step, precision) for step in trace.forward)
    return Section(_("Forward pass"), (lines,), "forward")


# -- 3b. loss conventions ------------------------------------------------------------------

def loss_section(trace: Trace, precision: int) -> Section | None:
    """Each loss said in words: which convention (PyTorch's, with its reduction), the notes'
    form beside it where the numbers differ, and a warning where the input looks meant for
    another loss (probabilities given to cross_entropy, which takes logits)."""
    readings = loss_readings(trace, precision)
    if not readings:
        return None
    intro = _("Losses follow PyTorch's conventions; the course notes often write them another "
              "way, so both numbers are shown.")
    return Section(_("Loss conventions"), (intro, tuple(reading.line for reading in readings)),
                   "losses")


# -- 4. backward -------------------------------------------------------------------------

def backward_section(trace: Trace, precision: int) -> Section:
    lines = [seed_line(trace, precision)]
    totals: dict[str, np.ndarray] = {}  # running gradient of each input, as printed so far
    for step in trace.backward:
        lines.append(backward_line(trace, step, precision))
        if step.arrival > 1:
            lines.append(accumulation_line(step, totals[step.input], precision))
        totals[step.input] = step.total
    return Section(_("Backward pass"), (_backward_intro(trace), tuple(lines)), "backward")


def _backward_intro(trace: Trace) -> str:
    arrays = has_arrays(trace)
    jacobians = any(step.local is None for step in trace.backward)
    if arrays and jacobians:
        return _("Each step: input ← node: upstream × local = downstream. With arrays, ⊙ "
                 "multiplies entry by entry. Where the local derivative is a Jacobian, the step "
                 "is the vector–Jacobian product backprop computes: grad_input = ... (the "
                 "Jacobian is never built).")
    if jacobians:
        return _("Each step: input ← node: upstream × local = downstream. Where the local "
                 "derivative is a Jacobian, the step is the vector–Jacobian product backprop "
                 "computes: grad_input = ... (the Jacobian is never built).")
    if arrays:
        return _("Each step: input ← node: upstream × local = downstream. With arrays, ⊙ "
                 "multiplies entry by entry.")
    return _("Each step: input ← node: upstream × local = downstream.")


# -- 5. chain rule per path --------------------------------------------------------------

CHAIN_OP_LIMIT = 500  # beyond this many ops, paths are long and many: a summary instead


def chain_section(trace: Trace, precision: int) -> Section | None:
    title = _("Chain rule, path by path")
    if not trace.wrt:
        return None
    if not scalar_paths(trace):
        return Section(title, (_("Paths are written out for scalar graphs only (where every "
                                 "local derivative is a number, not a Jacobian)."),), "chain")
    ops = len(trace.graph.ops)
    if ops > CHAIN_OP_LIMIT:
        return Section(title, (_("Paths are written out for graphs of up to {limit} ops; this "
                                 "one has {ops}. The backward steps above already add up every "
                                 "path's share.", limit=CHAIN_OP_LIMIT, ops=ops),), "chain")
    intro = _("∂f/∂input = the sum, over each path from f down to the input, of the product of "
              "the local derivatives on it (the leading 1 is ∂f/∂f).")
    lines: list[Line] = []
    index = path_index(trace)
    for name in trace.wrt:
        lines += chain_lines(trace, name, precision, index)
    return Section(title, (intro, tuple(lines)), "chain")


# -- 6. gradients and checks ---------------------------------------------------------------

def gradients_section(trace: Trace, precision: int) -> Section:
    records = trace.by_id
    checks = {check.input: check for check in trace.checks or ()}
    arrays = has_arrays(trace)
    columns = (_("input"),) + (_("shape"),) * arrays + (_("value"), _("gradient"))
    kinds = ("name",) + ("",) * arrays + ("value", "grad")
    if trace.checks is not None:
        columns += (_("symbolic"), _("numeric"), _("check"))
        kinds += ("grad", "grad", "")
    rows = []
    for name in trace.inputs:
        value, grad = records[name].value, records[name].grad
        row = (name,) + (shape_text(np.shape(value)),) * arrays
        row += (fmt_array(value, precision, with_shape=not arrays),
                _("not traced") if grad is None else fmt_array(grad, precision,
                                                            with_shape=not arrays))
        if trace.checks is not None:
            row += _check_cells(checks.get(name), precision, arrays)
        rows.append(row)
    blocks: list = [Table(columns, kinds, tuple(rows))]
    if trace.checks is None:
        blocks.append(_("Not checked: the checks against SymPy and finite differences were "
                        "turned off."))
    else:
        blocks += _check_details(trace, precision)
    return Section(_("Gradients"), tuple(blocks), "gradients")


def _check_cells(check, precision: int, arrays: bool) -> tuple[str, str, str]:
    if check is None:
        return ("", "", _("not checked"))
    symbolic = "—" if check.symbolic is None else fmt_array(check.symbolic, precision,
                                                             with_shape=not arrays)
    numeric = "—" if check.numeric is None else fmt_array(check.numeric, precision,
                                                           with_shape=not arrays)
    return (symbolic, numeric, check_status(check.status, again(check.note)))


def check_status(status: str, note: str) -> str:
    """A check's status for people, with its note: "agree", "kink (relu'(0) = 0)"; a check
    that could not be made says why ("not checked, because ...")."""
    shown = _(STATUS_WORDS.get(status, status))
    if not note:
        return shown
    if status == "not checked":
        return _("not checked, {why}", why=note)
    return _("{status} ({note})", status=shown, note=note)


# the statuses of gradtrace.checks (data, in English in JSON) as a reader is told them
STATUS_WORDS = {"agree": N_("agree"), "disagree": N_("disagree"), "kink": N_("kink"),
                "not finite": N_("not finite"), "not checked": N_("not checked")}


def _check_details(trace: Trace, precision: int) -> list:
    lines = tuple(Line(((f"∂f/∂{check.input}", "name"), (" = ", ""), (again(check.symbolic_expr), "")))
                  for check in trace.checks if check.symbolic_expr)
    tolerances: list[str] = []
    for check in trace.checks:
        pair = f"rtol = {fmt(check.rtol, precision)}, atol = {fmt(check.atol, precision)}"
        if pair not in tolerances:
            tolerances.append(pair)
    blocks: list = []
    if lines:
        blocks += [_("Symbolic derivatives (SymPy):"), lines]
    if tolerances:
        blocks.append(_("Traced, symbolic and numeric gradients compared with {tolerances}.",
                        tolerances="; ".join(tolerances)))
    return blocks


# -- 7. problems ---------------------------------------------------------------------------

def problems_section(trace: Trace, precision: int) -> Section | None:
    forward = [step for step in trace.forward if step.problem]
    backward = [step for step in trace.backward if step.problem]
    if not trace.problems:
        return None
    given = [(node, why) for node, why in trace.problems[:len(trace.problems) - len(forward)
                                                        - len(backward)]]
    lines = [Line(((node, "name"), (" = ", ""), (fmt_array(trace.by_id[node].value, precision),
                                                  "value")), "", again(why))
             for node, why in given]
    lines += [Line(forward_line(trace, step, precision).parts, "", again(step.problem))
              for step in forward]
    lines += [Line(((f"{step.input} ← {step.node}", "name"), (": ", ""),
                    (_("gradient {value}", value=fmt_array(step.downstream, precision)), "grad")),
                   "", again(step.problem))
              for step in backward]
    first, why = trace.problems[0]
    if given or forward:
        intro = _("The first non-finite value appeared at {node} — {why}.", node=first,
                  why=again(why))
    else:
        intro = _("The first non-finite gradient appeared at {node} — {why}.", node=first,
                  why=again(why))
    return Section(_("Problems"), (intro, tuple(lines)), "problems")


# -- the point, for stories told about an expression other than its trace ------------------

def point_section(expression: str, graph, values: dict, defaults, precision: int) -> Section:
    """The inputs' values (and the output's), with a hint where a default was used."""
    lines = []
    for name in graph.inputs:
        note = _("default; set it with --at {name}=...", name=name) if name in defaults else ""
        lines.append(Line(((name, "name"), (" = ", ""),
                           (fmt_array(values[name], precision), "value")), note))
    output = fmt_array(values[graph.output], precision)
    lines.append(Line((("f", "name"), (" = ", ""), (output, "value"))))
    return Section(expression_title(expression), (_("At the point:"), tuple(lines)), "header")
