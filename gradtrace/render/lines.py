"""Narrated lines: one step of the forward pass, the backward pass or the chain rule each.

A line is a tuple of segments (text, kind); kind says what the text is so a renderer can colour
it: "value" (forward values, green), "grad" (gradients, red), "name" (node names), "" (the
rest). Every number goes through `fmt`. Nothing here imports rich.
"""

from __future__ import annotations

import string
from typing import NamedTuple

import numpy as np

from ..tracer.ops import REGISTRY
from ..tracer.paths import chain_paths
from ..tracer.trace import BackwardStep, ForwardStep, Trace
from .numbers import fmt

Segment = tuple[str, str]
_FORMATTER = string.Formatter()
_OPERATORS = set("+-−×*/·^²<>≤≥")
_NAMED_GATES = ("distributor", "swapper", "router")  # the notes call these "<op> gate: ..."


class Line(NamedTuple):
    parts: tuple[Segment, ...]
    note: str = ""  # a remark after the line: gate pattern, kink, path taken
    warning: str = ""  # a problem on this line (non-finite value or gradient)

    @property
    def text(self) -> str:
        return "".join(text for text, _ in self.parts)


def forward_line(trace: Trace, step: ForwardStep, precision: int) -> Line:
    """h1 = w0 × x0 = 2.00 × -1.00 = -2.00: the pattern once with names, once with values."""
    pattern = REGISTRY[step.op].pattern
    names, values = {}, {}
    for key, source, value in zip("ab", step.inputs, step.input_values):
        names[key] = source
        values[key] = _value_text(trace, source, value, precision, _parens_rule(pattern, key))
    parts = [(step.node, "name"), (" = ", "")] + fill_pattern(pattern, names, "")
    if any(not is_constant(trace, source) for source in step.inputs):  # else: said once
        parts += [(" = ", "")] + fill_pattern(pattern, values, "value")
    parts += [(" = ", ""), (fmt(step.value, precision), "value")]
    note = f"kink: {step.kink}" if step.kink else ""
    warning = f"not finite: {step.problem}" if step.problem else ""
    return Line(tuple(parts), note, warning)


def _value_text(trace, source, value, precision, parens: str) -> str:
    """A constant is written as itself (1, -3, 0.5); anything else as its formatted value."""
    text = source if is_constant(trace, source) else fmt(value, precision)
    wrap = parens == "always" or (parens == "negative" and text.startswith("-"))
    return f"({text})" if wrap else text


def is_constant(trace: Trace, source: str) -> bool:
    return trace.graph.by_id[source].kind == "const" and not source.startswith("#")


def _parens_rule(pattern: str, key: str) -> str:
    """A negation always wraps its operand, -(1.00), so it never reads as the number -1.00;
    a negative number under a power is wrapped too: (-2.00) ** 2."""
    if f"-{{{key}}}" in pattern:
        return "always"
    return "negative" if f"{{{key}}} **" in pattern else "never"


def fill_pattern(pattern: str, mapping: dict[str, str], kind: str) -> list[Segment]:
    parts: list[Segment] = []
    for literal, field, _, _ in _FORMATTER.parse(pattern):
        if literal:
            parts.append((literal, ""))
        if field:
            parts.append((mapping[field], kind))
    return parts


def backward_line(step: BackwardStep, precision: int) -> Line:
    """h7 ← h8: 1.00 × (-1/h7²) at h7 = 1.37 = 1.00 × -0.53 = -0.53, shortened when the
    local derivative is a plain number or a single name."""
    upstream = (fmt(step.upstream, precision), "grad")
    parts: list[Segment] = [(f"{step.input} ← {step.node}", "name"), (": ", ""), upstream,
                            (" × ", "")]
    formula = step.formula
    if _as_number(formula) is not None:
        number = formula.strip("()")
        parts.append((f"({number})" if number.startswith("-") else number, ""))
    elif np.ndim(step.upstream) == 0 and len(step.bindings) == 1 and \
            formula == step.bindings[0][0]:
        parts += [(formula, "")] + _bindings(step, precision)
    else:
        parts.append((_parenthesised(formula), ""))
        parts += _bindings(step, precision)
        parts += [(" = ", ""), upstream, (" × ", ""), (fmt(step.local, precision), "")]
    parts += [(" = ", ""), (fmt(step.downstream, precision), "grad")]
    warning = f"not finite: {step.problem}" if step.problem else ""
    notes = [gate_label(step.op, step.gate), _broadcast_note(step)]
    return Line(tuple(parts), "; ".join(note for note in notes if note), warning)


def accumulation_line(step: BackwardStep, before, precision: int) -> Line:
    """x: 0.39 + -0.20 = 0.20: a gradient arriving along another path adds to the total."""
    parts = ((step.input, "name"), (": ", ""), (fmt(before, precision), "grad"), (" + ", ""),
             (fmt(step.downstream, precision), "grad"), (" = ", ""),
             (fmt(step.total, precision), "grad"))
    return Line(parts, f"gradients from {step.arrival} paths add")


def _broadcast_note(step: BackwardStep) -> str:
    """Say so where the engine summed the gradient back over broadcast axes (sum_to)."""
    product_shape = np.broadcast_shapes(np.shape(step.upstream), np.shape(step.local))
    shape = np.shape(step.downstream)
    return "" if shape == product_shape else f"summed back to shape {shape}"


def gate_label(op: str, gate: str | None) -> str:
    if gate is None:
        return ""
    if gate in _NAMED_GATES:
        return f"{op} gate: {gate}"
    if gate.startswith("gate"):
        return f"{op} {gate}"
    return f"{op}: {gate}"


def _bindings(step: BackwardStep, precision: int) -> list[Segment]:
    parts: list[Segment] = []
    for position, (name, value) in enumerate(step.bindings):
        parts += [(" at " if position == 0 else ", ", ""), (f"{name} = ", ""),
                  (fmt(value, precision), "value")]
    return parts


def _as_number(text: str) -> float | None:
    try:
        return float(text.strip("()"))
    except ValueError:
        return None


def _parenthesised(formula: str) -> str:
    """Parentheses only where the formula has an operator and is not already bracketed."""
    if not any(char in _OPERATORS for char in formula) or _bracketed(formula):
        return formula
    return f"({formula})"


def _bracketed(text: str) -> bool:
    """True when the first bracket closes at the very end: (...) or [...]."""
    if not text or text[0] not in "([":
        return False
    depth = 0
    for position, char in enumerate(text):
        if char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        if depth == 0:
            return position == len(text) - 1
    return False


def chain_lines(trace: Trace, name: str, precision: int) -> list[Line]:
    gradient = trace.node[name].grad
    label = (f"∂f/∂{name}", "name")
    if name == trace.output:
        return [Line((label, (" = ", ""), ("1", "grad")), f"{name} is the output")]
    paths, count = chain_paths(trace, name)
    if count == 0:
        return [Line((label, (" = ", ""), ("0", "grad")), f"no path leads from f to {name}")]
    lines = []
    for number, path in enumerate(paths, start=1):
        factors = " × ".join(["1"] + [fmt(step.local, precision, compact=True)
                                      for step in path.edges])
        head = [label, (" = " if count == 1 else f" (path {number}) = ", "")]
        lines.append(Line(tuple(head + [(factors, ""), (" = ", ""),
                                        (fmt(path.product, precision), "grad")]),
                          " → ".join(path.nodes)))
    if count == 1:
        return lines
    if count > len(paths):
        lines.append(Line(((f"… and {count - len(paths)} more paths", ""),)))
        terms = f"the sum over all {count} paths"
    else:
        terms = " + ".join(fmt(path.product, precision) for path in paths)
    lines.append(Line((label, (" = ", ""), (terms, ""), (" = ", ""),
                       (fmt(gradient, precision), "grad")), f"gradients from {count} paths add"))
    return lines


def scalar_paths(trace: Trace) -> bool:
    """Path products need numbers: a 0-d output and 0-d local derivatives throughout."""
    if np.ndim(trace.node[trace.output].value) != 0:
        return False
    return all(np.ndim(step.local) == 0 for step in trace.backward)
