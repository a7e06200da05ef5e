"""`explain --mode forward`: tangents flowing forward with the values, as text, Markdown or JSON.

Notation: ẋ is the tangent of x, its derivative along the seeded direction (d/dw0 when w0 is
seeded with 1). Each node's tangent line reads ḣ1 = ẇ0·x0 + ẋ0·w0 = 1.00 × -1.00 + 0 × 2.00 =
-1.00: the inputs' tangents times the op's local derivatives, summed; ops that are not
elementwise show their JVP (∂h/∂a·ȧ, or the op itself applied to the tangent when it is linear).
"""

from __future__ import annotations

import unicodedata

import numpy as np

from ..core.forward_mode import ForwardModeReport, ForwardModeTrace, TangentStep
from ..core.i18n import _, ngettext
from ..core.registry import REGISTRY, fill
from .blocks import Section, Table
from .lines import Line, gate_label, notes_joined, parenthesised
from .numbers import fmt, fmt_array
from .story import point_section

_LINEAR = ("transpose", "reshape", "index", "sum", "mean")  # JVP = the op applied to ȧ


def dotted(name: str) -> str:
    """ẋ for x, ḣ1 for h1: the tangent's name, the dot over the first letter."""
    return unicodedata.normalize("NFC", name[0] + "\u0307" + name[1:])


def forward_sections(report: ForwardModeReport, precision: int = 2) -> list[Section]:
    sections = [point_section(report.expression, report.graph, report.values, report.defaults,
                              precision)]
    sections += [pass_section(report, one, precision) for one in report.passes]
    sections.append(summary_section(report, precision))
    return sections


def pass_section(report: ForwardModeReport, one: ForwardModeTrace, precision: int) -> Section:
    name = one.input
    others = [dotted(n) for n in report.differentiable if n != name]
    lines = [Line(((dotted(name), "name"), (" = ", ""), (_seed_text(one.seed), "grad")),
                  _("seed"))]
    if others:
        lines.append(Line(((", ".join(others), "name"), (" = 0", "")),
                          _("the other inputs stay put")))
    lines += [tangent_line(step, name, precision) for step in one.steps]
    lines.append(_result_line(report, one, precision))
    return Section(_("Forward mode, seeded at {name}", name=name),
                   (_seed_prose(one), tuple(lines)), "pass")


def _seed_text(seed) -> str:
    return "1" if np.ndim(seed) == 0 else f"ones{np.shape(seed)}"


def _seed_prose(one: ForwardModeTrace) -> str:
    name = one.input
    if np.ndim(one.seed) == 0:
        return _("Seed {tangent} = 1, every other input's tangent 0: each node's tangent is then "
                 "its derivative d/d{name}, computed in the same sweep as its value (ḣ = the sum "
                 "over h's inputs a of ∂h/∂a · ȧ).", tangent=dotted(name), name=name)
    return _("Seed {tangent} = all ones, every other input's tangent 0: each tangent is then the "
             "directional derivative along all-ones (the sum over j of d/d{name}[j]), computed "
             "with the values.", tangent=dotted(name), name=name)


def tangent_line(step: TangentStep, seeded: str, precision: int) -> Line:
    value_note = f"{step.node} = {fmt_array(step.value, precision)}"
    if step.tangent is None:
        return Line(((dotted(step.node), "name"), (" = 0", "")),
                    _("{value}; does not depend on {seeded}", value=value_note, seeded=seeded))
    symbolic, numeric = _terms(step, precision)
    parts = [(dotted(step.node), "name"), (" = ", ""), (symbolic, "")]
    if numeric:
        parts += [(" = ", ""), (numeric, "")]
    parts += [(" = ", ""), (fmt_array(step.tangent, precision), "grad")]
    gate = gate_label(step.op, REGISTRY[step.op].gate)
    return Line(tuple(parts), notes_joined((value_note, gate)))


def _terms(step: TangentStep, precision: int) -> tuple[str, str]:
    """ḣ written with names, and (scalar elementwise ops only) with numbers."""
    op = REGISTRY[step.op]
    moving = [i for i, t in enumerate(step.input_tangents) if t is not None]
    if not op.elementwise:
        return _jvp_terms(step, moving), ""
    names = {"out": step.node, **{key: _as_operand(source)
                                  for key, source in zip("abcde", step.inputs)}}
    times = "·" if np.ndim(step.value) == 0 else "⊙"
    symbolic, numeric = [], []
    for i in moving:
        formula = op.formulas[i]
        local = parenthesised(formula.format(**names))
        tangent = step.input_tangents[i]
        symbolic.append(_product(dotted(step.inputs[i]), local, formula, times))
        numeric.append(_product(_number(tangent, precision),
                                _number(step.locals[i], precision), formula, " × "))
    scalar = all(np.size(t) == 1 for t in step.input_tangents if t is not None) and \
        np.size(step.value) == 1
    plain = len(moving) == 1 and op.formulas[moving[0]] in ("1", "-1")
    return " + ".join(symbolic), "" if plain or not scalar else " + ".join(numeric)


def _product(tangent: str, local: str, formula: str, times: str) -> str:
    """ȧ times ∂h/∂a, shortened where the local derivative is 1 or -1 (add, sub, neg)."""
    if formula == "1":
        return tangent
    if formula == "-1":
        return f"-({tangent})" if tangent.startswith("-") else f"-{tangent}"
    return f"{tangent}{times}{local}"


def _jvp_terms(step: TangentStep, moving: list[int]) -> str:
    op = REGISTRY[step.op]
    if step.op in _LINEAR or step.op == "matmul":  # linear in each input: the op on ȧ
        terms = []
        for i in moving:
            names = {key: source for key, source in zip("abcde", step.inputs)}
            names["abcde"[i]] = dotted(step.inputs[i])
            terms.append(fill(op.pattern, names, step.attrs))
        return " + ".join(terms)
    return " + ".join(f"∂{step.node}/∂{step.inputs[i]}·{dotted(step.inputs[i])}"
                      for i in moving)


def _as_operand(source: str) -> str:
    return f"({source})" if source.startswith("-") else source


def _number(value, precision: int) -> str:
    """A zero tangent as 0, so the terms that do not move read as such."""
    return fmt(value, precision, compact=bool(np.all(np.asarray(value) == 0)))


def _result_line(report: ForwardModeReport, one: ForwardModeTrace, precision: int) -> Line:
    output = report.graph.output
    name = one.input
    label = f"∂f/∂{name}" if np.ndim(one.seed) == 0 else f"∂f/∂{name} · ones"
    parts = ((label, "name"), (" = ", ""), (dotted(output), "name"), (" = ", ""),
             (fmt_array(one.derivative, precision), "grad"))
    note = ""
    if one.reverse is not None:
        note = _("backprop gives {value}", value=fmt_array(one.reverse, precision))
    return Line(parts, note)


def summary_section(report: ForwardModeReport, precision: int) -> Section:
    if not report.passes:
        return Section(_("Forward or reverse?"), (_("No input reaches the output: there is "
                                                    "nothing to differentiate."),), "summary")
    rows = tuple((one.input, fmt_array(one.derivative, precision),
                  "" if one.reverse is None else fmt_array(one.reverse, precision))
                 for one in report.passes)
    table = Table((_("input"), _("forward mode"), _("backprop")), ("name", "grad", "grad"), rows)
    return Section(_("Forward or reverse?"), (table, _passes_prose(report)), "summary")


def _passes_prose(report: ForwardModeReport) -> str:
    """n inputs, n forward passes; an array input, one pass per element; backprop, one."""
    count, total = len(report.passes), len(report.differentiable)
    if count == total:
        text = _("One forward pass gives the derivative with respect to one input: {passes} "
                 "here.", passes=_passes(count))
    else:
        text = _("One forward pass gives the derivative with respect to one input: {passes} "
                 "here; all {total} inputs would take {all}.", passes=_passes(count),
                 total=total, all=_passes(total))
    elements = sum(int(np.size(report.values[name])) for name in report.differentiable)
    if elements > total:
        text += _(" Each seeded array gave only its directional derivative along all-ones: its "
                  "whole gradient takes one pass per element ({passes} for all the inputs' "
                  "elements).", passes=_passes(elements))
    return text + _(" One backward pass (--mode reverse, the default) gives every gradient at "
                    "once, which is why backprop trains networks with millions of parameters.")


def _passes(count: int) -> str:
    return ngettext("{count} pass", "{count} passes", count, count=count)
