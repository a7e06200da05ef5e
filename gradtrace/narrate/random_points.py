"""The story of `gradtrace check`: per input, how the three ways compared over the points, and
whether each hand-derived claim held."""

from __future__ import annotations

import numpy as np

from ..core.i18n import N_, _, again
from .blocks import Section, Table
from .lines import Line
from .numbers import fmt, fmt_array, shape_text

HEADERS = (N_("input"), N_("agree"), N_("at a kink"), N_("disagree"), N_("not finite"),
           N_("not checked"), N_("max |traced − symbolic|"), N_("max |traced − numeric|"))
UNCHECKED = HEADERS.index("not checked")


def check_sections(report, precision: int = 2) -> list[Section]:
    """The table has a "not checked" column only when some point could not be checked."""
    unchecked = any(summary.counts.get("not checked", 0) for summary in report.inputs)
    keep = [i for i in range(len(HEADERS)) if unchecked or i != UNCHECKED]
    rows = tuple(tuple(row[i] for i in keep)
                 for row in (_row(summary, precision) for summary in report.inputs))
    headers = tuple(_(HEADERS[i]) for i in keep)
    table = Table(headers, ("name",) + ("number",) * (len(headers) - 1), rows)
    blocks: list = [table]
    lines = tuple(Line(((text, ""),), warning=warning)
                  for text, warning in _lines_after(report, precision))
    if lines:
        blocks.append(lines)
    return [Section(_title(report), tuple(blocks))]


def _row(summary, precision: int) -> tuple[str, ...]:
    counts = summary.counts
    return (summary.name, str(counts["agree"]), str(counts["kink"]), str(counts["disagree"]),
            str(counts["not finite"]), str(counts.get("not checked", 0)),
            fmt(summary.max_symbolic_error, precision + 2),
            fmt(summary.max_numeric_error, precision + 2))


def _lines_after(report, precision: int) -> list[tuple[str, str]]:
    """(text, warning) pairs: the symbolic derivatives, where a check first disagreed, and
    each claim's verdict."""
    lines = []
    if report.symbolic_note:
        lines.append((again(report.symbolic_note), ""))
    for summary in report.inputs:
        if summary.symbolic_expr:
            lines.append((f"∂f/∂{summary.name} = {again(summary.symbolic_expr)}", ""))
        if summary.first_disagreement:
            at = ",".join(f"{k}={_as_given(v)}" for k, v in summary.first_disagreement.items())
            lines.append((_("{name}: first disagreement at --at {at}", name=summary.name, at=at),
                          _("disagrees")))
    for claim in report.claims:
        holds = claim.holds
        fields = dict(name=claim.name, formula=claim.formula, agree=claim.agree,
                      disagree=claim.disagree, not_finite=claim.not_finite,
                      samples=report.samples)
        if holds:
            lines.append((_("claim ∂f/∂{name} = {formula} holds: agrees at {agree}, disagrees at "
                            "{disagree}, not finite at {not_finite} of {samples} points",
                            **fields), ""))
        else:
            lines.append((_("claim ∂f/∂{name} = {formula} is WRONG: agrees at {agree}, disagrees "
                            "at {disagree}, not finite at {not_finite} of {samples} points",
                            **fields), _("wrong")))
        if claim.first_disagreement:
            where = claim.first_disagreement
            at = ", ".join(f"{k} = {fmt_array(v, precision, with_shape=False)}"
                           for k, v in where["at"].items())
            lines.append((_("  at {at}: traced {traced}, claimed {claimed}", at=at,
                            traced=fmt_array(where["traced"], precision + 2, with_shape=False),
                            claimed=fmt_array(where["claimed"], precision + 2,
                                              with_shape=False)), ""))
    return lines


def _title(report) -> str:
    fixed = "".join(f", {k} = {_short(v)}" for k, v in report.fixed.items())
    return _("{expression} at {samples} random points (seed {seed}, inputs uniform in [{low}, "
             "{high}]{fixed})", expression=report.expression, samples=report.samples,
             seed=report.seed, low=repr(report.low), high=repr(report.high), fixed=fixed)


def _as_given(value) -> str:
    """A value as --at reads it back exactly: repr of each float, lists without spaces."""
    if isinstance(value, list):
        return "[" + ",".join(_as_given(item) for item in value) + "]"
    return repr(value)


def _short(value) -> str:
    """A fixed value in the title: a number as given, an array by its shape."""
    if isinstance(value, list):
        shape = np.shape(value)
        return _("an array of shape {shape}", shape=shape_text(shape)) if np.size(value) > 4 \
            else _as_given(value)
    return repr(value)
