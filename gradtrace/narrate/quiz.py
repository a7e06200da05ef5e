"""Exercises: the forward and backward lines of a trace with chosen quantities left blank, the
answers, and the grading of typed answers with a hint that says what went wrong.

A quiz blanks one kind of quantity, or all of them (KINDS):

- values: every op's forward value (h3 = h1 + h2 = ▢);
- locals: every backward step's local derivative (∂h6/∂h5 = ▢, beside the forward line that
  made h6);
- grads: every gradient sent along an edge, upstream × local, and every sum where gradients
  from several paths meet (x: ∂f/∂x = ... + ... = ▢);
- all: the three together.

Whatever would give a blank away is left out of the lines too: with grads blanked, the
upstream gradient is written ∂f/∂h6, not as its number; with locals blanked, the formula of
the local derivative and the gradients (whose ratio it is) are left out; with values blanked,
the backward lines name the values instead of giving them.

A quiz is about numbers a student can work out by hand, so it takes scalar traces only. Each
blank carries its answer, the tolerance it is graded with (answers worked from numbers rounded
to the shown decimals are right) and the typical wrong answers, each with why it is wrong: a
flipped sign, the local derivative without its upstream factor, a gradient that forgot the
other paths into a node, and a few more. `grade` reads typed answers and names the first wrong
step; the interactive page (gradtrace.render.html) grades with the same numbers in the browser.
"""

from __future__ import annotations

import math
import re
from typing import NamedTuple

import numpy as np

from ..core.errors import UsageError
from ..core.i18n import _, ngettext
from ..core.registry import REGISTRY
from ..core.trace import BackwardStep, Trace
from .lines import (Line, as_number, fill_pattern, fill_segments, forward_line,
                    parenthesised, paths_add, seed_line)
from .blocks import Section, Table
from .numbers import fmt

KINDS = ("grads", "locals", "values", "all")
ASKED = {"grads": ("grad",), "locals": ("local",), "values": ("value",),
         "all": ("value", "local", "grad")}
RTOL = 0.04  # answers worked out from rounded numbers drift by a few per cent: still right
BLANK = "blank"  # the segment kind of a blank; its text is the blank's number


class Mistake(NamedTuple):
    """A typical wrong answer to one blank and what it says about the working."""

    value: float
    code: str  # "sign", "upstream", "paths", "local", "added", "swapped", "times-upstream"
    why: str


class Blank(NamedTuple):
    number: int  # 1, 2, ... in the order asked (the order of the steps)
    kind: str  # "value", "local", "grad" or "sum" (gradients from several paths added)
    phase: str  # "forward" or "backward"
    line: int  # the line of its phase it sits on (0 = the first forward line, or the seed)
    where: str  # "backward step 4, h4 ← h5": the step, as a hint names it
    asks: str  # what the blank stands for: "∂f/∂h4", "∂h6/∂h5", "h3"
    answer: float
    tolerance: float
    mistakes: tuple[Mistake, ...]

    @property
    def shown(self) -> str:
        return fmt(self.answer, 4)


class Quiz(NamedTuple):
    kind: str
    expression: str
    point: tuple[tuple[str, float], ...]  # the inputs and their values, in input order
    forward: tuple[Line, ...]  # one line per forward step, blanks as BLANK segments
    backward: tuple[Line, ...]  # the seed line, then one per step (and per sum); () for values
    blanks: tuple[Blank, ...]
    hidden_values: tuple[str, ...]  # nodes whose value the page must not show
    hidden_grads: tuple[str, ...]  # nodes whose gradient the page must not show
    precision: int


class Verdict(NamedTuple):
    number: int
    status: str  # "right", "wrong", "empty", "unreadable"
    why: str = ""  # for a wrong answer: the mistake it looks like, or what was expected


class Grade(NamedTuple):
    verdicts: tuple[Verdict, ...]
    first_wrong: Blank | None
    hint: str  # the first wrong step and why; "" when every answer is right

    @property
    def right(self) -> int:
        return sum(verdict.status == "right" for verdict in self.verdicts)

    @property
    def summary(self) -> str:
        total = len(self.verdicts)
        if self.hint:
            return _("{right} of {total} right. {hint}", right=self.right, total=total,
                     hint=self.hint)
        return _("{right} of {total} right.", right=self.right, total=total)


# -- making a quiz --------------------------------------------------------------------------

def make_quiz(trace: Trace, kind: str = "grads", precision: int = 2) -> Quiz:
    """The quiz of `kind` (one of KINDS) on a scalar trace."""
    if kind not in ASKED:
        raise UsageError(_("{kind}: a quiz blanks one of {kinds}", kind=kind,
                           kinds=", ".join(KINDS)), "quiz")
    _check_scalar(trace)
    asked = ASKED[kind]
    maker = _Maker(trace, asked, precision)
    forward = tuple(maker.forward_line(index, step) for index, step in enumerate(trace.forward))
    backward = maker.backward_lines() if asked != ("value",) else ()
    if not maker.blanks:
        raise UsageError(_("there is nothing to ask: the expression has no op with an input "
                           "that is not a constant"), "expression")
    ops = [node.id for node in trace.graph.nodes if node.kind == "op"]
    hidden_values = tuple(ops) if "value" in asked else ()
    hidden_grads = tuple(record.id for record in trace.nodes if record.grad is not None
                         and record.id != trace.output) if {"grad", "local"} & set(asked) else ()
    point = tuple((name, float(trace.by_id[name].value)) for name in trace.inputs)
    return Quiz(kind, trace.expression, point, forward, backward, tuple(maker.blanks),
                hidden_values, hidden_grads, precision)


def _check_scalar(trace: Trace) -> None:
    arrays = [record.id for record in trace.nodes if np.ndim(record.value)]
    if arrays:
        raise UsageError(_("a quiz asks for numbers worked out by hand, and {name} is an array "
                           "of shape {shape}: quiz an expression of numbers", name=arrays[0],
                           shape=np.shape(trace.by_id[arrays[0]].value)), "expression")
    if trace.grad_output is not None:
        raise UsageError(_("a quiz starts backprop from 1: leave out the output gradient"),
                         "grad_output")


class _Maker:
    """Builds the lines and the blanks in the order a student meets them."""

    def __init__(self, trace: Trace, asked: tuple[str, ...], precision: int):
        self.trace, self.asked, self.precision = trace, asked, precision
        self.blanks: list[Blank] = []
        self.senders: dict[str, list[str]] = {}  # node → the nodes whose gradient reached it
        for step in trace.backward:
            self.senders.setdefault(step.input, []).append(step.node)

    def blank(self, kind: str, phase: str, line: int, where: str, asks: str, answer: float,
              mistakes: list[Mistake]) -> tuple[str, str]:
        number = len(self.blanks) + 1
        tolerance = tolerance_of(answer, self.precision)
        kept, seen = [], []
        for mistake in mistakes:  # a mistake that grades as right, or twice, is no help
            if not math.isfinite(mistake.value) or abs(mistake.value - answer) <= 2 * tolerance:
                continue
            if any(abs(mistake.value - other) <= tolerance for other in seen):
                continue
            seen.append(mistake.value)
            kept.append(mistake)
        self.blanks.append(Blank(number, kind, phase, line, where, asks, float(answer),
                                 tolerance, tuple(kept)))
        return (str(number), BLANK)

    # -- forward ---------------------------------------------------------------------------
    def forward_line(self, index: int, step) -> Line:
        if "value" not in self.asked:
            return forward_line(self.trace, step, self.precision)
        pattern = REGISTRY[step.op].pattern
        names = dict(zip("abcde", step.inputs))
        parts = [(step.node, "name"), (" = ", "")] + fill_pattern(pattern, names, "", step.attrs)
        where = _("forward step {number}, {node}", number=index + 1, node=step.node)
        value = float(step.value)
        mistakes = [Mistake(-value, "sign", _("the sign is wrong: the size is right, so look "
                                              "again at the signs of the inputs"))]
        parts += [(" = ", ""), self.blank("value", "forward", index, where, step.node, value,
                                          mistakes)]
        return Line(tuple(parts))

    # -- backward --------------------------------------------------------------------------
    def backward_lines(self) -> tuple[Line, ...]:
        lines = [seed_line(self.trace, self.precision)]
        before: dict[str, float] = {}  # each node's gradient so far
        for number, step in enumerate(self.trace.backward, start=1):
            where = _("backward step {number}, {input} ← {node}", number=number,
                      input=step.input, node=step.node)
            lines.append(self.backward_line(step, len(lines), where, before))
            if step.arrival > 1:
                lines.append(self.sum_line(step, len(lines), where, before[step.input]))
            before[step.input] = float(step.total)
        return tuple(lines)

    def upstream_text(self, step: BackwardStep) -> tuple[str, str]:
        if step.node == self.trace.output or "grad" not in self.asked and "local" not in \
                self.asked:
            return (fmt(step.upstream, self.precision), "grad")
        return (f"∂f/∂{step.node}", "")

    def backward_line(self, step: BackwardStep, line: int, where: str,
                      before: dict[str, float]) -> Line:
        head = [(f"{step.input} ← {step.node}", "name"), (": ", "")]
        if self.asked == ("local",):
            parts = head + [(f"∂{step.node}/∂{step.input} = ", ""),
                            self.local_blank(step, line, where)]
            return Line(tuple(parts), self.context(step))
        upstream = self.upstream_text(step)
        several = len(self.senders[step.input]) > 1  # then this is one path's share only
        parts = head + ([] if several else [(f"∂f/∂{step.input} = ", "")]) + [upstream,
                                                                            (" × ", "")]
        if "local" in self.asked:
            parts += [(f"∂{step.node}/∂{step.input}", ""), (" = ", ""), upstream, (" × ", ""),
                      self.local_blank(step, line, where)]
        else:
            parts += self.local_parts(step, upstream)
        parts += [(" = ", "")]
        if "grad" in self.asked:
            parts.append(self.grad_blank(step, line, where, before))
        else:
            parts.append((fmt(step.downstream, self.precision), "grad"))
        note = self.context(step) if "value" in self.asked else ""
        return Line(tuple(parts), note)

    def local_parts(self, step: BackwardStep, upstream) -> list:
        """The local derivative given: its formula, where it is taken, and its number (only
        the formula when values are blanks: its number would give them away)."""
        formula = step.formula
        number = as_number(formula)
        if number is not None:
            text = formula.strip("()")
            return [(f"({text})" if text.startswith("-") else text, "")]
        parts = [(parenthesised(formula), "")]
        if "value" in self.asked:
            return parts
        bound: list = []
        for position, (name, value) in enumerate(step.bindings):
            bound += [(", ", "")] * (position > 0) + [(f"{name} = ", ""),
                                                     (fmt(value, self.precision), "value")]
        if bound:  # " at h7 = 1.37": where the local derivative is taken
            parts += fill_segments(" (at {bindings})", bindings=bound)
        parts += [(" = ", ""), upstream, (" × ", ""), (fmt(step.local, self.precision), "")]
        return parts

    def context(self, step: BackwardStep) -> str:
        """The forward line that made the node, for a local derivative asked without its
        formula: h6 = exp(h5) = exp(-1.00) = 0.37 (only names when values are blanks)."""
        forward = next(s for s in self.trace.forward if s.node == step.node)
        if "value" in self.asked:
            pattern = REGISTRY[forward.op].pattern
            names = dict(zip("abcde", forward.inputs))
            written = "".join(text for text, _kind in fill_pattern(pattern, names, "",
                                                                   forward.attrs))
            return f"{forward.node} = {written}"
        return forward_line(self.trace, forward, self.precision).text

    def local_blank(self, step: BackwardStep, line: int, where: str) -> tuple[str, str]:
        local, upstream = float(step.local), float(step.upstream)
        own = _own_value(self.trace, step)
        names = dict(node=step.node, input=step.input, op=step.op)
        mistakes = [Mistake(-local, "sign", _("the sign is wrong: the size is right, so look "
                                              "again at the sign of ∂{node}/∂{input}", **names))]
        if step.gate == "swapper" and own is not None:
            mistakes.append(Mistake(own, "swapped", _("a {op} gate swaps its inputs: "
                                                      "∂{node}/∂{input} is the other input's "
                                                      "value, not {input}'s own", **names)))
        if abs(upstream) != 1:
            mistakes.append(Mistake(local * upstream, "times-upstream",
                                    _("that is already multiplied by the upstream gradient "
                                      "∂f/∂{node}: the local derivative is ∂{node}/∂{input} "
                                      "alone", **names)))
        return self.blank("local", "backward", line, where, f"∂{step.node}/∂{step.input}",
                          local, mistakes)

    def grad_blank(self, step: BackwardStep, line: int, where: str,
                   before: dict[str, float]) -> tuple[str, str]:
        local, upstream = float(step.local), float(step.upstream)
        answer = float(step.downstream)
        names = dict(node=step.node, input=step.input)
        mistakes = [Mistake(-answer, "sign", _("the sign is wrong: the size is right, so check "
                                               "the signs of ∂f/∂{node} and of the local "
                                               "derivative ∂{node}/∂{input}", **names))]
        if abs(upstream) != 1:
            mistakes.append(Mistake(local, "upstream", _("missing upstream factor: that is the "
                                                         "local derivative ∂{node}/∂{input} "
                                                         "alone; the chain rule multiplies it "
                                                         "by ∂f/∂{node}, the gradient arriving "
                                                         "from above", **names)))
        senders = self.senders.get(step.node, [])
        if len(senders) > 1:
            partial = self._partials(step.node)
            for total in partial[:-1]:
                mistakes.append(Mistake(total * local, "paths", _paths_why(step.node, senders)))
        own = _own_value(self.trace, step)
        if step.gate == "swapper" and own is not None:  # upstream × the input's own value
            mistakes.append(Mistake(upstream * own, "swapped", _(
                "a {op} gate swaps its inputs: ∂{node}/∂{input} is the other input's value, not "
                "{input}'s own", op=step.op, **names)))
        if abs(local) != 1:
            mistakes.append(Mistake(upstream, "local", _("missing local factor: that is "
                                                         "∂f/∂{node} passed on unchanged; "
                                                         "multiply it by the local derivative "
                                                         "∂{node}/∂{input}", **names)))
        mistakes.append(Mistake(upstream + local, "added", _("added instead of multiplied: the "
                                                             "chain rule multiplies upstream × "
                                                             "local")))
        asks = f"∂f/∂{step.input}" if len(self.senders[step.input]) == 1 else \
            _("the gradient {input} gets from {node}", **names)
        return self.blank("grad", "backward", line, where, asks, answer, mistakes)

    def _partials(self, node: str) -> list[float]:
        """The running totals of `node`'s gradient, one per arrival."""
        return [float(step.total) for step in self.trace.backward if step.input == node]

    def sum_line(self, step: BackwardStep, line: int, where: str, so_far: float) -> Line:
        senders = self.senders[step.input]
        note = paths_add(step.arrival)
        head = [(step.input, "name"), (": ", ""), (f"∂f/∂{step.input} = ", "")]
        if "grad" not in self.asked:
            return Line(tuple(head + fill_segments(
                "the sum of the gradients from {nodes}",
                nodes=[(", ".join(senders[:step.arrival]), "name")])), note)
        earlier = _("the sum so far") if step.arrival > 2 else \
            _("the gradient from {node}", node=senders[0])
        total, downstream = float(step.total), float(step.downstream)
        why = _paths_why(step.input, senders[:step.arrival])
        mistakes = [Mistake(downstream, "paths", why), Mistake(so_far, "paths", why),
                    Mistake(-total, "sign", _("the sign is wrong: the size is right, so check "
                                              "the signs of the gradients you add")),
                    Mistake(so_far - downstream, "added", _("subtracted: gradients from "
                                                            "several paths add up"))]
        blank = self.blank("sum", "backward", line, _("{where} (the sum)", where=where),
                           f"∂f/∂{step.input}", total, mistakes)
        parts = head + [(earlier, ""), (" + ", ""),
                        (_("the gradient from {node}", node=step.node), ""), (" = ", ""), blank]
        return Line(tuple(parts), note)


def _paths_why(node: str, senders: list[str]) -> str:
    return _("forgot to add a second path: {node} gets gradients from {count} paths ({listed}), "
             "and ∂f/∂{node} is their sum", node=node, count=len(senders),
             listed=", ".join(senders))


def _own_value(trace: Trace, step: BackwardStep) -> float | None:
    """The value of the input a step differentiates by (what a swapped local would be)."""
    value = trace.by_id[step.input].value
    return float(value) if np.ndim(value) == 0 else None


def tolerance_of(answer: float, precision: int) -> float:
    """How far a typed answer may be from the exact one: RTOL of it, and never less than one
    unit of the last decimal shown at `precision`."""
    shown = fmt(answer, precision)
    decimals = len(shown.split(".")[1].split("e")[0]) if "." in shown else 0
    unit = 10.0 ** -decimals
    if "e" in shown:  # scientific: the unit of the mantissa's last digit
        unit *= 10.0 ** int(shown.split("e")[1])
    return max(unit, RTOL * abs(answer))


# -- grading ----------------------------------------------------------------------------------

_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def read_answer(text: str) -> float | None:
    """A typed number: 0.53, -.53, −0.53 (a typographic minus), 0,53 (a decimal comma), 1e-3,
    or a fraction 1/3. None when it is none of these (the page reads answers the same way)."""
    text = text.strip().replace("−", "-").replace(" ", "")
    if re.fullmatch(r"[+-]?\d+,\d+", text):
        text = text.replace(",", ".")
    if _NUMBER.fullmatch(text):
        return float(text)
    parts = text.split("/")
    if len(parts) == 2 and all(_NUMBER.fullmatch(part) for part in parts):
        denominator = float(parts[1])
        return float(parts[0]) / denominator if denominator else None
    return None


def judge(blank: Blank, typed: str) -> Verdict:
    """One answer graded: right within the blank's tolerance, else the mistake it matches."""
    if not typed.strip():
        return Verdict(blank.number, "empty", _("not answered"))
    value = read_answer(typed)
    if value is None:
        return Verdict(blank.number, "unreadable", _("“{typed}” is not a number",
                                                     typed=typed.strip()))
    if abs(value - blank.answer) <= blank.tolerance:
        return Verdict(blank.number, "right")
    for mistake in blank.mistakes:
        if abs(value - mistake.value) <= blank.tolerance:
            return Verdict(blank.number, "wrong", mistake.why)
    return Verdict(blank.number, "wrong", expected(blank))


def expected(blank: Blank) -> str:
    """What a wrong answer that matches no typical mistake should have been worked out as."""
    if blank.kind == "value":
        return _("not the value of {asks}: apply its op to its inputs again", asks=blank.asks)
    if blank.kind == "local":
        return _("not {asks}: take the derivative of the op by this input, at the values of the "
                 "forward pass", asks=blank.asks)
    if blank.kind == "grad":
        return _("not upstream × local: multiply the gradient arriving from above by this "
                 "step's local derivative")
    return _("not the sum of the gradients reaching {node}", node=blank.asks[4:])


def grade(quiz: Quiz, answers: dict[int, str]) -> Grade:
    """Every blank graded (an answer missing from `answers` counts as empty); the first wrong
    one, in the order of the steps, is named with why."""
    verdicts = tuple(judge(blank, answers.get(blank.number, "")) for blank in quiz.blanks)
    for blank, verdict in zip(quiz.blanks, verdicts):
        if verdict.status in ("wrong", "unreadable"):
            return Grade(verdicts, blank, _("The first wrong step is {where} ({asks}): {why}.",
                                            where=blank.where, asks=blank.asks,
                                            why=verdict.why))
    return Grade(verdicts, None, "")


def key_rows(quiz: Quiz) -> tuple[tuple[str, ...], ...]:
    """The teacher's key: blank, step, what it asks, the answer and what is accepted."""
    return tuple((str(blank.number), blank.where, blank.asks, blank.shown,
                  _("{low} to {high}", low=fmt(blank.answer - blank.tolerance, 4),
                    high=fmt(blank.answer + blank.tolerance, 4))) for blank in quiz.blanks)


# -- the quiz told as a story -------------------------------------------------------------------

BOX = "▢"  # how a blank is written in text: ▢3


def worksheet(quiz: Quiz) -> list:
    """The quiz as sections (the point, the forward and backward lines with their blanks),
    ready for any renderer; blanks stay BLANK segments (LaTeX draws a line to write on; text
    renderers get `boxed`)."""
    from .story import expression_title

    point = tuple(Line(((name, "name"), (" = ", ""), (fmt(value, quiz.precision), "value")))
                  for name, value in quiz.point)
    asked = {"grads": _("the gradients"), "locals": _("the local derivatives"),
             "values": _("the forward values"),
             "all": _("the values, local derivatives and gradients")}[quiz.kind]
    fill_in = ngettext("Fill in {asked}: {count} blank. Work with the numbers as shown; answers "
                       "within a few per cent are right.",
                       "Fill in {asked}: {count} blanks. Work with the numbers as shown; "
                       "answers within a few per cent are right.", len(quiz.blanks),
                       asked=asked, count=len(quiz.blanks))
    sections = [Section(expression_title(quiz.expression), (_("At the point:"), point, fill_in),
                        "header")]
    sections.append(Section(_("Forward pass"), (quiz.forward,), "forward"))
    if quiz.backward:
        sections.append(Section(_("Backward pass"), (
            _("Each step: input ← node: upstream × local = downstream; where several paths "
              "reach a node, their gradients add."), quiz.backward), "backward"))
    return sections


def boxed(sections: list) -> list:
    """The sections with each blank written ▢3, for text, Markdown and the terminal."""
    def line(value: Line) -> Line:
        return value._replace(parts=tuple((f"{BOX}{text}", "") if kind == BLANK else (text, kind)
                                          for text, kind in value.parts))

    out = []
    for section in sections:
        blocks = tuple(tuple(line(item) for item in block) if isinstance(block, tuple) else block
                       for block in section.blocks)
        out.append(Section(section.title, blocks, section.key))
    return out


def key_section(quiz: Quiz) -> Section:
    """The teacher's key as a table: each blank, its step, what it asks, the answer and the
    range graded right."""
    table = Table((_("blank"), _("step"), _("asks"), _("answer"), _("accepted")),
                  ("number", "", "name", "grad", ""), key_rows(quiz))
    point = ", ".join(f"{name} = {fmt(value, quiz.precision)}" for name, value in quiz.point)
    intro = ngettext("Answer key: {kind}, {count} blank, at {point}.",
                     "Answer key: {kind}, {count} blanks, at {point}.", len(quiz.blanks),
                     kind=quiz.kind, count=len(quiz.blanks), point=point)
    return Section(_("Key: {expression}", expression=quiz.expression), (intro, table), "key")
