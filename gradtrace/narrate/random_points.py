"""The story of `gradtrace check`: per input, how the three ways compared over the points, and
whether each hand-derived claim held."""

from __future__ import annotations

from .blocks import Section, Table
from .lines import Line
from .numbers import fmt

HEADERS = ("input", "agree", "at a kink", "disagree", "not finite", "max |traced − symbolic|",
           "max |traced − numeric|")


def check_sections(report, precision: int = 2) -> list[Section]:
    rows = tuple(_row(summary, precision) for summary in report.inputs)
    table = Table(HEADERS, ("name",) + ("number",) * (len(HEADERS) - 1), rows)
    blocks: list = [table]
    lines = tuple(Line(((text, ""),), warning=warning)
                  for text, warning in _lines_after(report, precision))
    if lines:
        blocks.append(lines)
    return [Section(_title(report), tuple(blocks))]


def _row(summary, precision: int) -> tuple[str, ...]:
    counts = summary.counts
    return (summary.name, str(counts["agree"]), str(counts["kink"]), str(counts["disagree"]),
            str(counts["not finite"]), fmt(summary.max_symbolic_error, precision + 2),
            fmt(summary.max_numeric_error, precision + 2))


def _lines_after(report, precision: int) -> list[tuple[str, str]]:
    """(text, warning) pairs: the symbolic derivatives, where a check first disagreed, and
    each claim's verdict."""
    lines = []
    if report.symbolic_note:
        lines.append((report.symbolic_note, ""))
    for summary in report.inputs:
        if summary.symbolic_expr:
            lines.append((f"∂f/∂{summary.name} = {summary.symbolic_expr}", ""))
        if summary.first_disagreement:
            at = ",".join(f"{k}={v!r}" for k, v in summary.first_disagreement.items())
            lines.append((f"{summary.name}: first disagreement at --at {at}", "disagrees"))
    for claim in report.claims:
        holds = claim.disagree == 0 and claim.agree
        verdict = "holds" if holds else "is WRONG"
        lines.append((f"claim ∂f/∂{claim.name} = {claim.formula} {verdict}: agrees at "
                      f"{claim.agree}, disagrees at {claim.disagree}, not finite at "
                      f"{claim.not_finite} of {report.samples} points", "" if holds else "wrong"))
        if claim.first_disagreement:
            where = claim.first_disagreement
            at = ", ".join(f"{k} = {fmt(v, precision)}" for k, v in where["at"].items())
            lines.append((f"  at {at}: traced {fmt(where['traced'], precision + 2)}, "
                          f"claimed {fmt(where['claimed'], precision + 2)}", ""))
    return lines


def _title(report) -> str:
    fixed = "".join(f", {k} = {v!r}" for k, v in report.fixed.items())
    return (f"{report.expression} at {report.samples} random points (seed {report.seed}, inputs "
            f"uniform in [{report.low!r}, {report.high!r}]{fixed})")
