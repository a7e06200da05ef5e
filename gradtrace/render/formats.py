"""The one format dispatcher: every command's output goes through `present`.

A command hands over its story (sections of prose, tables, pictures and narrated lines, from
gradtrace.narrate) and its JSON document, both as functions so only the one asked for is made:

- rich: colour tables in a terminal (values green, gradients red), printed straight to it;
- text: the same story without colour, byte-stable (what a pipe or NO_COLOR gets);
- markdown: pipe tables and narrated lines, to paste into notes;
- json: the document, sorted keys, inf and nan as strings.
"""

from __future__ import annotations

from typing import Callable

FORMATS = ("rich", "text", "markdown", "json")


def present(output_format: str, sections: Callable[[], list], document: Callable[[], str],
            colour: bool = False, console=None) -> str:
    """The output in `output_format`, as text to write; the rich form with `colour` is printed
    on `console` (a rich Console) instead, and "" returned."""
    if output_format == "json":
        return document()
    story = sections()
    if output_format == "markdown":
        from .markdown import render_markdown

        return render_markdown(story)
    if output_format == "rich" and colour:
        from .text import render_rich

        render_rich(story, console)
        return ""
    from .text import render_plain

    return render_plain(story)
