"""The one format dispatcher: every command's output goes through `present`.

A command hands over its story (sections of prose, tables, pictures and narrated lines, from
gradtrace.narrate) and its JSON document, both as functions so only the one asked for is made:

- rich: colour tables in a terminal (values green, gradients red), as wide as the terminal;
- text: the same story without colour, byte-stable (what a pipe or NO_COLOR gets);
- markdown: pipe tables and narrated lines, to paste into notes;
- latex: a document for slides and exams (render/latex.py), compilable as it is;
- json: the document, sorted keys, inf and nan as strings.
"""

from __future__ import annotations

from typing import Callable

FORMATS = ("rich", "text", "markdown", "latex", "json")


def present(output_format: str, sections: Callable[[], list], document: Callable[[], str],
            colour: bool = False, width: int = 120) -> str:
    """The output in `output_format`, as text to write; the rich form with `colour` has ANSI
    colours and lays its tables out for a terminal `width` columns wide."""
    if output_format == "json":
        from .json import with_language

        return with_language(document())
    story = sections()
    if output_format == "markdown":
        from .markdown import render_markdown

        return render_markdown(story)
    if output_format == "latex":
        from .latex import render_latex

        return render_latex(story)
    from .plain import render_plain

    if output_format == "rich" and colour:
        return render_plain(story, width, colour=True)
    return render_plain(story)
