"""Narrated lines: one step of the forward pass, the backward pass or the chain rule each.

A line is a tuple of segments (text, kind); kind says what the text is so a renderer can colour
it: "value" (forward values, green), "grad" (gradients, red), "name" (node names), "" (the
rest). Every number goes through `fmt`. Nothing here imports rich.
"""

from __future__ import annotations

import string
from typing import NamedTuple

import numpy as np

from ..core.i18n import N_, _, again, data, ngettext
from ..core.registry import REGISTRY, attribute_texts, with_defaults
from ..core.trace import BackwardStep, ForwardStep, Trace
from ..ops.losses import CONVENTIONS
from .paths import chain_paths
from .as_printed import (Precision, line_precision, printed, product_holds, same_when_printed,
                         scalar, sum_holds)
from .numbers import fmt, fmt_array, is_listed, shape_text

Segment = tuple[str, str]
_FORMATTER = string.Formatter()
_OPERATORS = set("+-−×*/·^²<>≤≥")
# the notes call these "<op> gate: ..."
_NAMED_GATES = ("distributor", "distributor, sign flipped", "swapper", "scaler", "router")


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
    note = _("kink: {rule}", rule=data(step.kink)) if step.kink else ""
    return Line(tuple(parts), note, not_finite(step.problem))


def not_finite(problem) -> str:
    """A step's problem as its line's warning ("" when there is none)."""
    return _("not finite: {why}", why=again(problem)) if problem else ""


def fill_segments(template: str, **fields) -> list[Segment]:
    """A translated template as segments: its words plain, each field in its place (a field
    is a list of segments, or text), so the catalog decides the word order."""
    parts: list[Segment] = []
    for literal, field, _spec, _conversion in _FORMATTER.parse(_(template)):
        if literal:
            parts.append((literal, ""))
        if field:
            value = fields[field]
            parts += [(value, "")] if isinstance(value, str) else list(value)
    return parts


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


# -- where backprop starts -------------------------------------------------------------------

def output_gradient(trace: Trace) -> np.ndarray:
    """The gradient backprop started from: the one given, else ones shaped like the output."""
    if trace.grad_output is not None:
        return np.asarray(trace.grad_output, dtype=np.float64)
    return np.ones(np.shape(trace.by_id[trace.output].value))


def seed_line(trace: Trace, precision: int) -> Line:
    """∂h8/∂h8 = 1.00, the first backward line, and where that gradient came from: 1 for a
    number, the output gradient given for an array (Σ grad_f ⊙ f is what is differentiated),
    or ones when none was given (sum(f))."""
    parts = ((f"∂{trace.output}/∂{trace.output}", "name"), (" = ", ""),
             (fmt_array(output_gradient(trace), precision), "grad"))
    return Line(parts, seed_note(trace))


def seed_note(trace: Trace) -> str:
    array = np.ndim(trace.by_id[trace.output].value) > 0
    if trace.grad_output is not None:
        differentiated = "Σ grad_f ⊙ f" if array else "grad_f · f"
        return _("the output's gradient starts at the given grad_f: every gradient below is one "
                 "of {differentiated}", differentiated=differentiated)
    if array:
        return _("no output gradient was given, so it starts at ones: every gradient below is "
                 "one of sum(f)")
    return _("the output's gradient starts at 1")


# -- loss conventions -------------------------------------------------------------------------

class LossReading(NamedTuple):
    """A loss step said in words: its convention (PyTorch's), the notes' form beside it, and a
    warning where its input looks meant for another loss."""

    node: str
    op: str
    reduction: str
    count: int  # the terms the loss is made of (elements, or rows of classes)
    notes: str  # the notes' form, with the inputs' names
    notes_value: float
    line: Line  # the convention, with the notes' form as its note and the warning


def loss_readings(trace: Trace, precision: int) -> list[LossReading]:
    """One reading per loss step of the forward pass, in order."""
    return [loss_reading(trace, step, precision) for step in trace.forward
            if step.op in CONVENTIONS]


def loss_reading(trace: Trace, step: ForwardStep, precision: int) -> LossReading:
    """h1 = mse(y, t): PyTorch's mean squared error; reduction=mean, the mean of (y − t)² over
    its N = 10 elements = 0.0195 — the notes' ½Σ(y − t)² is 0.0975 here; mse is the mean, 0.0195.
    Losses are shown with two decimals more than the rest: their conventions differ by
    factors such as ½ and 1/N, which two decimals can hide."""
    convention, op = CONVENTIONS[step.op], REGISTRY[step.op]
    attrs = with_defaults(op, step.attrs)
    reduction = attrs["reduction"]
    names = dict(zip("abcde", step.inputs))
    with np.errstate(all="ignore"):
        terms = op.evaluate(step.input_values, {**attrs, "reduction": "none"})
        notes_value = convention.notes_factor * float(np.sum(terms))
    count = int(np.size(terms))
    rows = convention.term_rows is not None and \
        np.shape(step.input_values[1]) == np.shape(step.input_values[0])
    term = (convention.term_rows if rows else convention.term).format(**names)
    one, many = REDUCED[(reduction, convention.over)]  # two templates, each whole
    how = _(one if count == 1 else many, takes=data(convention.takes), term=term, count=count)
    shown = precision + 2
    written = "".join(text for text, _kind in fill_pattern(op.pattern, names, "", step.attrs))
    parts = ((step.node, "name"), (" = ", ""), (written, ""), (how, ""),
             (fmt_array(step.value, shown), "value"))
    notes = convention.notes.format(**names)
    line = Line(parts, _notes_note(step, reduction, notes, notes_value, count, shown),
                _misuse_warning(convention, step, attrs, names, shown))
    return LossReading(step.node, step.op, reduction, count, notes, notes_value, line)


# How a loss reduces its terms, by (reduction, what a term is computed for): the words between
# "h1 = mse(y, t)" and its value, for one term and for several.
REDUCED = {
    ("mean", "element"): (N_(": {takes}; reduction=mean, the mean of {term} over its N = {count} "
                             "element = "),
                          N_(": {takes}; reduction=mean, the mean of {term} over its N = {count} "
                             "elements = ")),
    ("mean", "row"): (N_(": {takes}; reduction=mean, the mean of {term} over its N = {count} "
                         "row = "),
                      N_(": {takes}; reduction=mean, the mean of {term} over its N = {count} "
                         "rows = ")),
    ("sum", "element"): (N_(": {takes}; reduction=sum, the sum of {term} over its {count} "
                            "element (N = 1 in its gradient) = "),
                         N_(": {takes}; reduction=sum, the sum of {term} over its {count} "
                            "elements (N = 1 in its gradient) = ")),
    ("sum", "row"): (N_(": {takes}; reduction=sum, the sum of {term} over its {count} row (N = 1 "
                        "in its gradient) = "),
                     N_(": {takes}; reduction=sum, the sum of {term} over its {count} rows (N = "
                        "1 in its gradient) = ")),
    ("none", "element"): (N_(": {takes}; reduction=none, {term} for each of its {count} element, "
                             "kept apart (N = 1 in its gradient) = "),
                          N_(": {takes}; reduction=none, {term} for each of its {count} "
                             "elements, kept apart (N = 1 in its gradient) = ")),
    ("none", "row"): (N_(": {takes}; reduction=none, {term} for each of its {count} row, kept "
                         "apart (N = 1 in its gradient) = "),
                      N_(": {takes}; reduction=none, {term} for each of its {count} rows, kept "
                         "apart (N = 1 in its gradient) = ")),
}


def _notes_note(step: ForwardStep, reduction: str, notes: str, notes_value: float, count: int,
                precision: int) -> str:
    """The notes' form beside the loss: the same number, or both numbers."""
    written = fmt(notes_value, precision)
    if not np.isfinite(notes_value) or not np.all(np.isfinite(step.value)):
        return _("the notes write it {notes}", notes=notes)
    if reduction == "none":
        return ngettext("the notes' {notes} is {value} here; reduction=none keeps the {count} "
                        "term apart",
                        "the notes' {notes} is {value} here; reduction=none keeps the {count} "
                        "terms apart", count, notes=notes, value=written, count=count)
    if fmt(step.value, precision) == written:
        return _("the same number as the notes' {notes} here", notes=notes)
    if reduction == "mean":
        return _("the notes' {notes} is {value} here; {op} is the mean, {loss}", notes=notes,
                 value=written, op=REGISTRY[step.op].user_name, loss=fmt(step.value, precision))
    return _("the notes' {notes} is {value} here; {op} is the sum, {loss}", notes=notes,
             value=written, op=REGISTRY[step.op].user_name, loss=fmt(step.value, precision))


def _misuse_warning(convention, step: ForwardStep, attrs: dict, names: dict,
                    precision: int) -> str:
    if convention.misuse is None:
        return ""
    with np.errstate(all="ignore"):
        misuse = convention.misuse(step.input_values, attrs)
    if misuse is None:
        return ""
    fields = {key: value.format(**names) if isinstance(value, str)
              else fmt_array(value, precision) for key, value in misuse.fields.items()}
    return _(misuse.why, **names, **fields)


def backward_line(trace: Trace, step: BackwardStep, precision: int) -> Line:
    """h7 ← h8: 1.00 × (-1/h7²) (at h7 = 1.37) = 1.00 × -0.53 = -0.53, shortened when the
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
    if as_number(formula) is not None:
        number = formula.strip("()")
        parts += [(" × ", ""), (f"({number})" if number.startswith("-") else number, "")]
    elif np.ndim(step.upstream) == 0 and len(step.bindings) == 1 and \
            formula == step.bindings[0][0]:
        parts += [(times, ""), (formula, "")] + _bindings(step, precision)
    else:
        parts += [(times, ""), (parenthesised(formula), "")]
        parts += _bindings(step, precision)
        parts += [(" = ", ""), upstream, (times, ""), (fmt_array(step.local, precision), "")]
    parts += [(" = ", ""), (fmt_array(step.downstream, shown.result), "grad")]
    notes = [gate_label(step.op, step.gate), _broadcast_note(step)]
    return Line(tuple(parts), notes_joined(notes), not_finite(step.problem))


def notes_joined(notes) -> str:
    """A line's remarks, the empty ones left out, one after another: "a; b" ("a；b")."""
    return _("; ").join(note for note in notes if note)


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
    notes = [gate_label(step.op, step.gate),
             "" if shapes or summed else _("shapes {flow}", flow=flow), summed]
    return Line(tuple(parts), notes_joined(notes), not_finite(step.problem))


def _vjp_formula(step: BackwardStep) -> str:
    """The engine's VJP formula; for an elementwise op, upstream ⊙ its local derivative."""
    if step.local is None:
        return step.formula
    if as_number(step.formula) is not None:
        return f"grad_{step.node} × {step.formula}"
    times = "⊙" if np.ndim(step.upstream) else "×"
    return f"grad_{step.node} {times} {parenthesised(step.formula)}"


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
    return Line(parts, paths_add(step.arrival))


def paths_add(count: int) -> str:
    return ngettext("gradients from {count} path add", "gradients from {count} paths add",
                    count, count=count)


def _broadcast_note(step: BackwardStep) -> str:
    """Say so where the engine summed the gradient back over broadcast axes (sum_to)."""
    product_shape = np.broadcast_shapes(np.shape(step.upstream), np.shape(step.local))
    shape = np.shape(step.downstream)
    return "" if shape == product_shape else _("summed back to shape {shape}", shape=shape)


def gate_label(op: str, gate: str | None) -> str:
    """'add gate: distributor' as the notes name the patterns; other ops 'neg: sign flip'."""
    if gate is None:
        return ""
    if gate in _NAMED_GATES:
        name = data(GATE_NAMES[op]) if op in GATE_NAMES else _("{op} gate", op=op)
        return _("{gate}: {pattern}", gate=name, pattern=data(gate))
    return _("{op}: {pattern}", op=op, pattern=data(gate))


# The gates the course notes name, by op (the notes' 加法门, 乘法门, 最大门); any other op with a
# named pattern is "<op> gate".
GATE_NAMES = {"add": N_("add gate"), "sub": N_("sub gate"), "mul": N_("mul gate"),
              "max": N_("max gate"), "min": N_("min gate")}


def _bindings(step: BackwardStep, precision: int) -> list[Segment]:
    parts: list[Segment] = []
    bound: list[Segment] = []
    for position, (name, value) in enumerate(step.bindings):
        bound += [("" if position == 0 else ", ", ""), (f"{name} = ", ""),
                  (fmt_array(value, precision), "value")]
    if not bound:
        return parts
    # " (at h7 = 1.37)": where the local derivative was evaluated (in parentheses: "at h7 =
    # 1.37 = 1.00 × -0.53" would read as one chain of equalities)
    return fill_segments(" (at {bindings})", bindings=[part for part in bound if part[0]])


def as_number(text: str) -> float | None:
    """A formula that is just a number ((-1), 2), as a float; None for any other formula."""
    try:
        return float(text.strip("()"))
    except ValueError:
        return None


def parenthesised(formula: str) -> str:
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
    # the leading factor: ∂f/∂f = 1, or the output gradient given (a number, here: paths are
    # written for a scalar output only)
    seed = 1.0 if trace.grad_output is None else float(np.asarray(trace.grad_output))
    if name == trace.output:
        return [Line((label, (" = ", ""), (fmt(seed, precision, compact=True), "grad")),
                     _("{name} is the output", name=name))]
    paths, count = chain_paths(trace, name, index=index)
    if count == 0:
        return [Line((label, (" = ", ""), ("0", "grad")),
                     _("no path leads from f to {name}", name=name))]
    lines = []
    for number, path in enumerate(paths, start=1):
        locals_ = [step.local for step in path.edges]
        factors_ = locals_ if seed == 1.0 else [seed] + locals_
        product = seed * path.product
        shown = Precision(precision, precision)
        if len(locals_) <= PATH_SHOWN and scalar(product, *locals_):
            shown = line_precision(precision, lambda a, r: product_holds(
                factors_, product, a, r, compact=True))
        factors = " × ".join([fmt(seed, shown.operands, compact=True)] + _ends(
            path.edges, lambda step: fmt(step.local, shown.operands, compact=True)))
        head = [label, (" = " if count == 1 else _(" (path {number}) = ", number=number), "")]
        lines.append(Line(tuple(head + [(factors, ""), (" = ", ""),
                                        (fmt(product, shown.result), "grad")]),
                          " → ".join(_ends(path.nodes, str))))
    if count == 1:
        return lines
    if count > len(paths):
        lines.append(Line(((ngettext("… and {count} more path", "… and {count} more paths",
                                     count - len(paths), count=count - len(paths)), ""),)))
        terms = _("the sum over all {count} paths", count=count)
        shown = Precision(precision, precision)
    else:
        products = [seed * path.product for path in paths]
        shown = Precision(precision, precision)
        if scalar(gradient, *products):
            shown = line_precision(precision, lambda a, r: sum_holds(products, gradient, a, r))
        terms = " + ".join(fmt(product, shown.operands) for product in products)
    lines.append(Line((label, (" = ", ""), (terms, ""), (" = ", ""),
                       (fmt(gradient, shown.result), "grad")), paths_add(count)))
    return lines


PATH_SHOWN = 20  # a path with more factors (or nodes) shows PATH_ENDS at each end, "…" between
PATH_ENDS = 8


def _ends(items, write) -> list[str]:
    """Each item written, or for a long path only those at its two ends with "…" between: the
    line stays readable, and a graph of thousands of ops is not written out quadratically."""
    if len(items) <= PATH_SHOWN:
        return [write(item) for item in items]
    return ([write(item) for item in items[:PATH_ENDS]]
            + [_("… {count} more …", count=len(items) - 2 * PATH_ENDS)]
            + [write(item) for item in items[-PATH_ENDS:]])


def scalar_paths(trace: Trace) -> bool:
    """Path products need numbers: a 0-d output and 0-d local derivatives throughout."""
    if np.ndim(trace.by_id[trace.output].value) != 0:
        return False
    return all(step.local is not None and np.ndim(step.local) == 0 for step in trace.backward)
