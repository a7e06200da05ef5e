"""A quiz (gradtrace.narrate.quiz) laid out: the worksheet as text, Markdown or LaTeX (an exam
sheet with numbered lines to write on), the teacher's key in the format its file name says,
and the whole quiz as JSON (schema gradtrace.quiz/1: every blank with its answer, tolerance
and typical mistakes)."""

from __future__ import annotations

from pathlib import Path

from ..narrate.quiz import Quiz, boxed, key_section, worksheet
from .json import dumps, with_language

SCHEMA = "gradtrace.quiz/1"
SHEET_FORMATS = ("text", "markdown", "latex", "json")


def sheet(quiz: Quiz, output_format: str) -> str:
    """The worksheet (or, for json, the whole quiz) in `output_format`."""
    if output_format == "json":
        return quiz_json(quiz)
    if output_format == "latex":
        from .latex import render_latex

        return render_latex(worksheet(quiz))
    if output_format == "markdown":
        from .markdown import render_markdown

        return render_markdown(boxed(worksheet(quiz)))
    from .plain import render_plain

    return render_plain(boxed(worksheet(quiz)))


def key_text(quiz: Quiz, path) -> str:
    """The teacher's key for a file named `path`: JSON for .json, LaTeX for .tex, Markdown for
    .md, plain text otherwise."""
    suffix = Path(path).suffix.lower()
    if suffix == ".json":
        return quiz_json(quiz)
    if suffix == ".tex":
        from .latex import render_latex

        return render_latex([key_section(quiz)])
    if suffix in (".md", ".markdown"):
        from .markdown import render_markdown

        return render_markdown([key_section(quiz)])
    from .plain import render_plain

    return render_plain([key_section(quiz)])


def quiz_json(quiz: Quiz) -> str:
    return with_language(dumps({
        "schema": SCHEMA,
        "kind": quiz.kind,
        "expression": quiz.expression,
        "point": {name: value for name, value in quiz.point},
        "blanks": [{"number": blank.number, "kind": blank.kind, "where": blank.where,
                    "asks": blank.asks, "answer": blank.answer, "tolerance": blank.tolerance,
                    "mistakes": [{"value": m.value, "code": m.code, "why": m.why}
                                 for m in blank.mistakes]}
                   for blank in quiz.blanks],
    }))
