"""Narrated lines: one step of the forward pass, the backward pass or the chain rule each.

A line is a tuple of segments (text, kind); kind says what the text is so a renderer can colour
it: "value" (forward values, green), "grad" (gradients, red), "name" (node names), "" (the
rest). Every number goes through `fmt`. Nothing here imports rich.
"""

from __future__ import annotations

import string
from typing import NamedTuple

import numpy as np

from ..core.registry import REGISTRY, attribute_texts
from ..core.trace import BackwardStep, ForwardStep, Trace
from .paths import chain_paths
from .as_printed import (Precision, line_precision, printed, product_holds, same_when_printed,
                         scalar, sum_holds)
from .numbers import fmt, fmt_array, is_listed, shape_text

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
    """h1 = w0 × x0 = 2.00 × -1.00 = -2.00: the pattern once with names, once with values;
    h1 = W @ x = (2, 2) @ (2,) → (2,) = [-3.00, 11.00]: shapes where values would not help."""
    pattern = REGISTRY[step.op].pattern
    names = dict(zip("abcde", step.inputs))
    shown = Precision(precision, precision)
    if scalar(step.value, *step.input_values):
        shown = line_precision(precision, lambda a, r: _forward_holds(trace, step, a, r))
    parts = [(step.node, "name"), (" = ", "")] + fill_pattern(pattern, names, "", step.attrs)
    if any(not is_constant(trace, source) for source in step.inputs):  # else: said once
        parts += [(" = ", "")]
        if _narrated_with_values(step):
            values = {key: _value_text(trace, source, value, shown.operands,
                                       _parens_rule(pattern, key))
                      for key, source, value in zip("abcde", step.inputs, step.input_values)}
            parts += fill_pattern(pattern, values, "value", step.attrs)
        else:
            shapes = {key: source if is_constant(trace, source) else shape_text(np.shape(value))
                      for key, source, value in zip("abcde", step.inputs, step.input_values)}
            parts += fill_pattern(pattern, shapes, "", step.attrs)
            parts += [(f" → {shape_text(np.shape(step.value))}", "")]
    parts += [(" = ", ""), (fmt_array(step.value, shown.result), "value")]
    note = f"kink: {step.kink}" if step.kink else ""
    warning = f"not finite: {step.problem}" if step.problem else ""
    return Line(tuple(parts), note, warning)


def _forward_holds(trace: Trace, step: ForwardStep, operands: int, precision: int) -> bool:
    """The op redone on its inputs as printed (constants as written) prints its value."""
    inputs = tuple(np.asarray(value if is_constant(trace, source) else printed(value, operands))
                   for source, value in zip(step.inputs, step.input_values))
    with np.errstate(all="ignore"):
        redone = REGISTRY[step.op].evaluate(inputs, dict(step.attrs))
    return same_when_printed(redone, step.value, precision)


def _narrated_with_values(step: ForwardStep) -> bool:
    """Values are written in for elementwise ops on few numbers (and any op on scalars); a
    matmul, a reduction or a big array is written with its shapes instead."""
    if not all(is_listed(value) for value in step.input_values):
        return False
    if REGISTRY[step.op].elementwise:
        return True
    return all(np.ndim(value) == 0 for value in step.input_values + (step.value,))


def _value_text(trace, source, value, precision, parens: str) -> str:
    """A constant is written as itself (1, -3, 0.5); anything else as its formatted value."""
    text = source if is_constant(trace, source) else fmt_array(value, precision)
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


def fill_pattern(pattern: str, mapping: dict[str, str], kind: str, attrs=()) -> list[Segment]:
    """The pattern's pieces with `mapping` (of a, b) in the fields, as segments of `kind`;
    the op's attributes ({attrs}, {shape}, {key}) are written in as plain text."""
    texts = attribute_texts(attrs)
    parts: list[Segment] = []
    for literal, field, _, _ in _FORMATTER.parse(pattern):
        if literal:
            parts.append((literal, ""))
        if field in texts:
            if texts[field]:
                parts.append((texts[field], ""))
        elif field:
            parts.append((mapping[field], kind))
    return parts


def backward_line(trace: Trace, step: BackwardStep, precision: int) -> Line:
    """h7 ← h8: 1.00 × (-1/h7²) at h7 = 1.37 = 1.00 × -0.53 = -0.53, shortened when the
    local derivative is a plain number or a single name; for arrays × becomes ⊙ (entry by
    entry). Where the local derivative is a Jacobian, or arrays too big to list, the VJP is
    written instead."""
    if step.local is None or not (is_listed(step.upstream) and is_listed(step.local)):
        return vjp_line(trace, step, precision)
    shown = Precision(precision, precision)
    if scalar(step.upstream, step.local, step.downstream):
        shown = line_precision(precision, lambda a, r: _backward_holds(trace, step, a, r))
    precision = shown.operands
    upstream = (fmt_array(step.upstream, precision), "grad")
    times = " ⊙ " if np.ndim(step.upstream) else " × "
    parts: list[Segment] = [(f"{step.input} ← {step.node}", "name"), (": ", ""), upstream]
    formula = step.formula
    if _as_number(formula) is not None:
        number = formula.strip("()")
        parts += [(" × ", ""), (f"({number})" if number.startswith("-") else number, "")]
    elif np.ndim(step.upstream) == 0 and len(step.bindings) == 1 and \
            formula == step.bindings[0][0]:
        parts += [(times, ""), (formula, "")] + _bindings(step, precision)
    else:
        parts += [(times, ""), (_parenthesised(formula), "")]
        parts += _bindings(step, precision)
        parts += [(" = ", ""), upstream, (times, ""), (fmt_array(step.local, precision), "")]
    parts += [(" = ", ""), (fmt_array(step.downstream, shown.result), "grad")]
    warning = f"not finite: {step.problem}" if step.problem else ""
    notes = [gate_label(step.op, step.gate), _broadcast_note(step)]
    return Line(tuple(parts), "; ".join(note for note in notes if note), warning)


def _backward_holds(trace: Trace, step: BackwardStep, operands: int, precision: int) -> bool:
    """upstream × local, as printed, prints the downstream; and the local derivative redone
    from its printed bindings prints as the local derivative does."""
    if not product_holds((step.upstream, step.local), step.downstream, operands, precision):
        return False
    precision = operands  # bindings and the local derivative are operands
    if not step.bindings:
        return True
    node = trace.graph.by_id[step.node]
    op = REGISTRY[step.op]
    bound = dict(step.bindings)
    values = [printed(bound[source], precision) if source in bound
              else trace.by_id[source].value for source in node.inputs]
    out = bound.get(node.id, trace.by_id[node.id].value)
    inputs = tuple(np.asarray(value) for value in values)
    with np.errstate(all="ignore"):
        redone = op.local(step.index, inputs, np.asarray(printed(out, precision)),
                          dict(node.attrs))
    return same_when_printed(redone, step.local, precision)


def vjp_line(trace: Trace, step: BackwardStep, precision: int) -> Line:
    """x ← h1: grad_x = Wᵀ · grad_h1 = (2, 2)ᵀ · (2,) → (2,) = [3.00, 4.00]: the vector–
    Jacobian product backprop computes, in the notes' notation, with its shapes; for an
    elementwise op, grad_h1 = grad_h2 ⊙ (1−h2²)."""
    elementwise = step.local is not None
    shapes = "" if elementwise else _vjp_shapes(trace, step)
    parts: list[Segment] = [(f"{step.input} ← {step.node}", "name"), (": ", ""),
                            (f"grad_{step.input} = {_vjp_formula(step)}", "")]
    if shapes:
        parts += [(" = ", ""), (shapes, "")]
    parts += [(" = ", ""), (fmt_array(step.downstream, precision), "grad")]
    flow = f"{shape_text(np.shape(step.upstream))} → {shape_text(np.shape(step.downstream))}"
    summed = _broadcast_note(step) if elementwise else ""
    notes = [gate_label(step.op, step.gate), "" if shapes or summed else f"shapes {flow}", summed]
    warning = f"not finite: {step.problem}" if step.problem else ""
    return Line(tuple(parts), "; ".join(note for note in notes if note), warning)


def _vjp_formula(step: BackwardStep) -> str:
    """The engine's VJP formula; for an elementwise op, upstream ⊙ its local derivative."""
    if step.local is None:
        return step.formula
    if _as_number(step.formula) is not None:
        return f"grad_{step.node} × {step.formula}"
    times = "⊙" if np.ndim(step.upstream) else "×"
    return f"grad_{step.node} {times} {_parenthesised(step.formula)}"


_ALGEBRA = set(" ·ᵀ⊙()−+-×@")


def _vjp_shapes(trace: Trace, step: BackwardStep) -> str:
    """The VJP formula with shapes for names, ending in the gradient's shape, when the formula
    is plain algebra on at most two arrays (g · bᵀ, gᵀ); "" otherwise."""
    template = REGISTRY[step.op].formulas[step.index]
    fields = [field for _, field, _, _ in _FORMATTER.parse(template) if field]
    literals = "".join(literal for literal, _, _, _ in _FORMATTER.parse(template))
    if len(fields) > 2 or not set(literals) <= _ALGEBRA:
        return ""
    node = trace.graph.by_id[step.node]
    records = trace.by_id
    shapes = {key: shape_text(np.shape(records[source].value))
              for key, source in zip("abcde", node.inputs)}
    shapes["out"] = shape_text(np.shape(records[step.node].value))
    shapes["g"] = shape_text(np.shape(step.upstream))
    filled = template.format(**shapes, **attribute_texts(node.attrs))
    return f"{filled} → {shape_text(np.shape(step.downstream))}"


def accumulation_line(step: BackwardStep, before, precision: int) -> Line:
    """x: 0.39 + -0.20 = 0.20: a gradient arriving along another path adds to the total."""
    shown = Precision(precision, precision)
    if scalar(before, step.downstream, step.total):
        shown = line_precision(
            precision, lambda a, r: sum_holds((before, step.downstream), step.total, a, r))
    parts = ((step.input, "name"), (": ", ""), (fmt_array(before, shown.operands), "grad"),
             (" + ", ""), (fmt_array(step.downstream, shown.operands), "grad"), (" = ", ""),
             (fmt_array(step.total, shown.result), "grad"))
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
                  (fmt_array(value, precision), "value")]
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


def chain_lines(trace: Trace, name: str, precision: int, index=None) -> list[Line]:
    gradient = trace.by_id[name].grad
    label = (f"∂f/∂{name}", "name")
    if name == trace.output:
        return [Line((label, (" = ", ""), ("1", "grad")), f"{name} is the output")]
    paths, count = chain_paths(trace, name, index=index)
    if count == 0:
        return [Line((label, (" = ", ""), ("0", "grad")), f"no path leads from f to {name}")]
    lines = []
    for number, path in enumerate(paths, start=1):
        locals_ = [step.local for step in path.edges]
        shown = Precision(precision, precision)
        if len(locals_) <= PATH_SHOWN and scalar(path.product, *locals_):
            shown = line_precision(precision, lambda a, r: product_holds(
                locals_, path.product, a, r, compact=True))
        factors = " × ".join(["1"] + _ends(path.edges, lambda step: fmt(
            step.local, shown.operands, compact=True)))
        head = [label, (" = " if count == 1 else f" (path {number}) = ", "")]
        lines.append(Line(tuple(head + [(factors, ""), (" = ", ""),
                                        (fmt(path.product, shown.result), "grad")]),
                          " → ".join(_ends(path.nodes, str))))
    if count == 1:
        return lines
    if count > len(paths):
        lines.append(Line(((f"… and {count - len(paths)} more paths", ""),)))
        terms, shown = f"the sum over all {count} paths", Precision(precision, precision)
    else:
        products = [path.product for path in paths]
        shown = Precision(precision, precision)
        if scalar(gradient, *products):
            shown = line_precision(precision, lambda a, r: sum_holds(products, gradient, a, r))
        terms = " + ".join(fmt(product, shown.operands) for product in products)
    lines.append(Line((label, (" = ", ""), (terms, ""), (" = ", ""),
                       (fmt(gradient, shown.result), "grad")), f"gradients from {count} paths add"))
    return lines


PATH_SHOWN = 20  # a path with more factors (or nodes) shows PATH_ENDS at each end, "…" between
PATH_ENDS = 8


def _ends(items, write) -> list[str]:
    """Each item written, or for a long path only those at its two ends with "…" between: the
    line stays readable, and a graph of thousands of ops is not written out quadratically."""
    if len(items) <= PATH_SHOWN:
        return [write(item) for item in items]
    return ([write(item) for item in items[:PATH_ENDS]] + [f"… {len(items) - 2 * PATH_ENDS} more …"]
            + [write(item) for item in items[-PATH_ENDS:]])


def scalar_paths(trace: Trace) -> bool:
    """Path products need numbers: a 0-d output and 0-d local derivatives throughout."""
    if np.ndim(trace.by_id[trace.output].value) != 0:
        return False
    return all(step.local is not None and np.ndim(step.local) == 0 for step in trace.backward)
