"""The report of `gradtrace check`: per input, how the three ways compared over the points."""

from __future__ import annotations

import dataclasses
import io
import json

from .numbers import fmt


def report_json(report) -> str:
    document = {"schema": "gradtrace.check/1", **dataclasses.asdict(report), "ok": report.ok}
    return json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def _rows(report, precision):
    for summary in report.inputs:
        counts = summary.counts
        yield (summary.name, str(counts["agree"]), str(counts["kink"]), str(counts["disagree"]),
               str(counts["not finite"]), fmt(summary.max_symbolic_error, precision + 2),
               fmt(summary.max_numeric_error, precision + 2))


_HEADERS = ("input", "agree", "at a kink", "disagree", "not finite", "max |traced − symbolic|",
            "max |traced − numeric|")


def _lines_after(report, precision) -> list[str]:
    lines = []
    if report.symbolic_note:
        lines.append(report.symbolic_note)
    for summary in report.inputs:
        if summary.symbolic_expr:
            lines.append(f"∂f/∂{summary.name} = {summary.symbolic_expr}")
        if summary.first_disagreement:
            at = ",".join(f"{k}={v!r}" for k, v in summary.first_disagreement.items())
            lines.append(f"{summary.name}: first disagreement at --at {at}")
    for claim in report.claims:
        verdict = "holds" if claim.disagree == 0 and claim.agree else "is WRONG"
        lines.append(f"claim ∂f/∂{claim.name} = {claim.formula} {verdict}: agrees at "
                     f"{claim.agree}, disagrees at {claim.disagree}, not finite at "
                     f"{claim.not_finite} of {report.samples} points")
        if claim.first_disagreement:
            where = claim.first_disagreement
            at = ", ".join(f"{k} = {fmt(v, precision)}" for k, v in where["at"].items())
            lines.append(f"  at {at}: traced {fmt(where['traced'], precision + 2)}, "
                         f"claimed {fmt(where['claimed'], precision + 2)}")
    return lines


def _title(report) -> str:
    fixed = "".join(f", {k} = {v!r}" for k, v in report.fixed.items())
    return (f"{report.expression} at {report.samples} random points (seed {report.seed}, inputs "
            f"uniform in [{report.low!r}, {report.high!r}]{fixed})")


def report_markdown(report, precision: int = 2) -> str:
    out = [f"## Gradient check: `{report.expression}`", "", _title(report), "",
           "| " + " | ".join(_HEADERS) + " |", "|" + "---|" * len(_HEADERS)]
    out += ["| " + " | ".join(row) + " |" for row in _rows(report, precision)]
    out += [""] + [f"- {line}" for line in _lines_after(report, precision)]
    return "\n".join(out) + "\n"


def report_rich(report, console, precision: int = 2) -> None:
    from rich import box
    from rich.table import Table

    console.print(_title(report), style="bold")
    table = Table(box=box.SIMPLE_HEAD)
    for header in _HEADERS:
        table.add_column(header, justify="left" if header == "input" else "right")
    for row in _rows(report, precision):
        styled = list(row)
        if row[3] != "0":
            styled[3] = f"[bold red]{row[3]}[/]"
        table.add_row(*styled)
    console.print(table)
    for line in _lines_after(report, precision):
        console.print(line, markup=False, soft_wrap=True)


def report_plain(report, precision: int = 2) -> str:
    from rich.console import Console

    buffer = io.StringIO()
    console = Console(file=buffer, width=120, color_system=None, force_terminal=False,
                      highlight=False)
    report_rich(report, console, precision)
    return buffer.getvalue()
