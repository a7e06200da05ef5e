"""Laying out a list of sections that is not a Trace's story: rich, plain text, Markdown.

`gradtrace jacobian` and `explain --mode forward` tell their stories in the same blocks as
`explain` (blocks.py: prose, tables, pictures, narrated lines) and lay each section out with the
very functions text.py and markdown.py use, so every command looks the same in every format.
"""

from __future__ import annotations

import io

from .blocks import Section
from .lines import Line
from .numbers import fmt_array


def render_rich(sections: list[Section], console) -> None:
    from rich.text import Text

    from .text import section_renderables

    renderables: list = []
    for section in sections:
        renderables += section_renderables(section)
    for renderable in renderables[:-1]:  # no blank line after the last section
        console.print(renderable, soft_wrap=isinstance(renderable, Text))


def render_plain(sections: list[Section]) -> str:
    """No colour, fixed width: byte-stable whatever the terminal."""
    from rich.console import Console

    from .text import PLAIN_WIDTH

    buffer = io.StringIO()
    console = Console(file=buffer, width=PLAIN_WIDTH, color_system=None, force_terminal=False,
                      force_jupyter=False, legacy_windows=False, no_color=True, emoji=False,
                      highlight=False)
    render_rich(sections, console)
    return "\n".join(line.rstrip() for line in buffer.getvalue().splitlines()) + "\n"


def render_markdown(sections: list[Section]) -> str:
    """`##` for the first title (in a code span: it holds the expression), `###` after."""
    from .markdown import markdown_block

    parts: list[str] = []
    for position, section in enumerate(sections):
        title = f"`{section.title}`" if position == 0 else section.title
        parts.append(f"{'##' if position == 0 else '###'} {title}")
        parts += [markdown_block(block) for block in section.blocks]
    return "\n\n".join(parts) + "\n"


def point_section(expression: str, graph, values: dict, defaults, precision: int) -> Section:
    """The inputs' values (and the output's), with a hint where a default was used."""
    lines = []
    for name in graph.inputs:
        note = f"default; set it with --at {name}=..." if name in defaults else ""
        lines.append(Line(((name, "name"), (" = ", ""),
                           (fmt_array(values[name], precision), "value")), note))
    output = fmt_array(values[graph.output], precision)
    lines.append(Line((("f", "name"), (" = ", ""), (output, "value"))))
    return Section(f"f = {expression}", ("At the point:", tuple(lines)))
