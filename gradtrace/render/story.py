"""The whole story of a Trace as plain data: sections of prose, tables and narrated lines.

text.py (rich / plain text) and markdown.py (Markdown / HTML) only lay this out, so every
format tells the same story, in the same order, with the same numbers. Nothing here imports rich.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..tracer.ops import REGISTRY
from ..tracer.trace import Trace
from .lines import (Line, accumulation_line, backward_line, chain_lines, fill_pattern,
                    forward_line, scalar_paths)
from .numbers import fmt


class Table(NamedTuple):
    columns: tuple[str, ...]
    kinds: tuple[str, ...]  # segment kind of each column ("value", "grad", "name", "")
    rows: tuple[tuple[str, ...], ...]


class Section(NamedTuple):
    title: str
    blocks: tuple  # each a str (prose), a Table, or a tuple of Lines


def story(trace: Trace, precision: int = 2) -> list[Section]:
    """The sections, in the order the story is told."""
    sections = [
        header_section(trace, precision),
        graph_section(trace, precision),
        forward_section(trace, precision),
        backward_section(trace, precision),
        chain_section(trace, precision),
        gradients_section(trace, precision),
        problems_section(trace, precision),
    ]
    return [section for section in sections if section is not None]


# -- 1. header ---------------------------------------------------------------------------

def header_section(trace: Trace, precision: int) -> Section:
    records = trace.node
    lines = []
    for name in trace.inputs:
        value = fmt(records[name].value, precision)
        note = f"default; set it with --at {name}={value}" if name in trace.defaults else ""
        lines.append(Line(((name, "name"), (" = ", ""), (value, "value")), note))
    output = records[trace.output].value
    lines.append(Line((("f", "name"), (" = ", ""), (trace.output, "name"), (" = ", ""),
                       (fmt(output, precision), "value"))))
    blocks: list = ["At the point:", tuple(lines)]
    if trace.fused:
        blocks.append("Recognised composites (such as sigmoid) are shown as single gates.")
    return Section(f"f = {trace.expression}", tuple(blocks))


# -- 2. graph ----------------------------------------------------------------------------

def graph_section(trace: Trace, precision: int) -> Section:
    rows = []
    for record in trace.nodes:
        if record.kind == "op":
            names = {key: source for key, source in zip("ab", record.inputs)}
            pattern = REGISTRY[record.op].pattern
            op = "".join(text for text, _ in fill_pattern(pattern, names, ""))
        else:
            op = "input" if record.kind == "input" else "constant"
        grad = "" if record.grad is None else fmt(record.grad, precision)
        rows.append((record.id, op, ", ".join(record.inputs), fmt(record.value, precision), grad))
    columns = ("node", "op", "inputs", "value", "gradient")
    return Section("Graph", (Table(columns, ("name", "", "", "value", "grad"), tuple(rows)),))


# -- 3. forward --------------------------------------------------------------------------

def forward_section(trace: Trace, precision: int) -> Section:
    if not trace.forward:
        return Section("Forward pass", ("Nothing to compute: the output is an input.",))
    lines = tuple(forward_line(trace, step, precision) for step in trace.forward)
    return Section("Forward pass", (lines,))


# -- 4. backward -------------------------------------------------------------------------

def backward_section(trace: Trace, precision: int) -> Section:
    output = trace.node[trace.output]
    seed = np.ones_like(np.asarray(output.value, dtype=np.float64))
    lines = [Line(((f"∂{trace.output}/∂{trace.output}", "name"), (" = ", ""),
                   (fmt(seed, precision), "grad")), "the output's gradient starts at 1")]
    totals: dict[str, np.ndarray] = {}  # running gradient of each input, as printed so far
    for step in trace.backward:
        lines.append(backward_line(step, precision))
        if step.arrival > 1:
            lines.append(accumulation_line(step, totals[step.input], precision))
        totals[step.input] = step.total
    return Section("Backward pass", ("Each step: input ← node: upstream × local = downstream.",
                                     tuple(lines)))


# -- 5. chain rule per path --------------------------------------------------------------

def chain_section(trace: Trace, precision: int) -> Section | None:
    title = "Chain rule, path by path"
    if not trace.wrt:
        return None
    if not scalar_paths(trace):
        return Section(title, ("Paths are written out for scalar graphs only.",))
    intro = ("∂f/∂input = the sum, over each path from f down to the input, of the product of "
             "the local derivatives on it (the leading 1 is ∂f/∂f).")
    lines: list[Line] = []
    for name in trace.wrt:
        lines += chain_lines(trace, name, precision)
    return Section(title, (intro, tuple(lines)))


# -- 6. gradients and checks ---------------------------------------------------------------

def gradients_section(trace: Trace, precision: int) -> Section:
    records = trace.node
    checks = {check.input: check for check in trace.checks or ()}
    columns, kinds = ("input", "value", "gradient"), ("name", "value", "grad")
    if trace.checks is not None:
        columns += ("symbolic", "numeric", "check")
        kinds += ("grad", "grad", "")
    rows = []
    for name in trace.inputs:
        grad = records[name].grad
        row = (name, fmt(records[name].value, precision),
               "not traced" if grad is None else fmt(grad, precision))
        if trace.checks is not None:
            row += _check_cells(checks.get(name), precision)
        rows.append(row)
    blocks: list = [Table(columns, kinds, tuple(rows))]
    if trace.checks is None:
        blocks.append("Checks were skipped (--no-check).")
    else:
        blocks += _check_details(trace, precision)
    return Section("Gradients", tuple(blocks))


def _check_cells(check, precision: int) -> tuple[str, str, str]:
    if check is None:
        return ("", "", "not checked")
    symbolic = "—" if check.symbolic is None else fmt(check.symbolic, precision)
    numeric = "—" if check.numeric is None else fmt(check.numeric, precision)
    status = f"{check.status} ({check.note})" if check.note else check.status
    return (symbolic, numeric, status)


def _check_details(trace: Trace, precision: int) -> list:
    lines = tuple(Line(((f"∂f/∂{check.input}", "name"), (" = ", ""), (check.symbolic_expr, "")))
                  for check in trace.checks if check.symbolic_expr)
    tolerances: list[str] = []
    for check in trace.checks:
        pair = f"rtol = {fmt(check.rtol, precision)}, atol = {fmt(check.atol, precision)}"
        if pair not in tolerances:
            tolerances.append(pair)
    blocks: list = []
    if lines:
        blocks += ["Symbolic derivatives (SymPy):", lines]
    if tolerances:
        blocks.append("Traced, symbolic and numeric gradients compared with "
                      + "; ".join(tolerances) + ".")
    return blocks


# -- 7. problems ---------------------------------------------------------------------------

def problems_section(trace: Trace, precision: int) -> Section | None:
    forward = [step for step in trace.forward if step.problem]
    backward = [step for step in trace.backward if step.problem]
    if not forward and not backward:
        return None
    lines = [Line(forward_line(trace, step, precision).parts, "", step.problem)
             for step in forward]
    lines += [Line(((f"{step.input} ← {step.node}", "name"), (": gradient ", ""),
                    (fmt(step.downstream, precision), "grad")), "", step.problem)
              for step in backward]
    first, why = trace.problems[0]
    where = "value" if forward else "gradient"
    intro = f"The first non-finite {where} appeared at {first} — {why}."
    return Section("Problems", (intro, tuple(lines)))
