"""A story as GitHub Markdown (for lecture notes) and as an HTML fragment (for Jupyter's
`_repr_html_`). Same sections and numbers as the terminal text; no rich here.

Markdown: one `##` heading for the expression, `###` per section, pipe tables, and every
narrated line as a list item in a code span, so `*` and `_` in formulas stay literal.
HTML: header, graph and gradients tables, the narration folded into <details>; every piece of
text passes through html.escape.
"""

from __future__ import annotations

import html

from ..narrate.blocks import Picture, Section, Table
from ..narrate.lines import Line

_MARKDOWN_SPECIALS = "\\`*_[]<>|#"
_NUMERIC = ("value", "grad", "number")
_HTML_COLOURS = {"value": "green", "grad": "#c00000"}  # as in the course figures
_HTML_TABLES = ("graph", "gradients", "problems")  # sections shown open: by their keys


# -- Markdown ------------------------------------------------------------------------------

def render_markdown(sections: list[Section]) -> str:
    parts: list[str] = []
    for position, section in enumerate(sections):
        level = "##" if position == 0 else "###"
        parts.append(f"{level} {_heading(section.title, position)}")
        parts += [markdown_block(block) for block in section.blocks]
    return "\n\n".join(parts) + "\n"


def _heading(title: str, position: int) -> str:
    # The first title is the expression: a code span keeps its * and ( ) literal.
    return _code(title) if position == 0 else _escape(title)


def markdown_block(block) -> str:
    if isinstance(block, str):
        return _escape(block)
    if isinstance(block, Table):
        return markdown_table(block)
    if isinstance(block, Picture):
        return "\n".join(["```text", *block.rows, "```"])
    return "\n".join(markdown_line(line) for line in block)


def markdown_table(table: Table) -> str:
    header = "| " + " | ".join(_cell(column) for column in table.columns) + " |"
    rule = "|" + "|".join("---:" if kind in _NUMERIC else "---" for kind in table.kinds) + "|"
    rows = ["| " + " | ".join(_cell(cell) for cell in row) + " |" for row in table.rows]
    return "\n".join([header, rule] + rows)


def markdown_line(line: Line) -> str:
    text = f"- {_code(line.text)}"
    if line.warning:
        text += f" — **⚠ {_escape(line.warning)}**"
    if line.note:
        text += f" — *{_escape(line.note)}*"
    return text


def _cell(text: str) -> str:
    # A pipe inside a cell (|x| is abs) would end the cell; GitHub reads \| as a literal pipe.
    return _escape(text) if text else " "


def _code(text: str) -> str:
    return f"`{text}`"


def _escape(text: str) -> str:
    return "".join(f"\\{char}" if char in _MARKDOWN_SPECIALS else char for char in text)


# -- HTML (Jupyter) --------------------------------------------------------------------------

def render_html(sections: list[Section]) -> str:
    """A self-contained fragment: inline styles only, no scripts, everything escaped."""
    header, rest = sections[0], sections[1:]
    parts = ['<div class="gradtrace">', f"<h4><code>{html.escape(header.title)}</code></h4>"]
    parts += [html_block(block) for block in header.blocks]
    for section in rest:
        if section.key in _HTML_TABLES:
            parts.append(f"<h5>{html.escape(section.title)}</h5>")
            parts += [html_block(block) for block in section.blocks]
        else:
            parts.append(html_details(section))
    parts.append("</div>")
    return "\n".join(parts) + "\n"


def html_details(section: Section) -> str:
    """A narration section folded away, so the tables come first in a notebook."""
    body = "\n".join(html_block(block) for block in section.blocks)
    return f"<details><summary>{html.escape(section.title)}</summary>\n{body}\n</details>"


def html_block(block) -> str:
    if isinstance(block, str):
        return f"<p>{html.escape(block)}</p>"
    if isinstance(block, Table):
        return html_table(block)
    if isinstance(block, Picture):
        return html_picture(block)
    lines = "\n".join(html_line(line) for line in block)
    return f'<pre style="line-height:1.4">{lines}</pre>'


def html_picture(picture: Picture) -> str:
    """A heatmap when the picture has shades (an inline SVG, one square per entry, darker for
    larger |entry|), else its characters in a <pre>."""
    if not picture.shades:
        rows = "\n".join(html.escape(row) for row in picture.rows)
        return f'<pre style="line-height:1">{rows}</pre>'
    cell = max(4, min(16, 256 // max(len(picture.shades), len(picture.shades[0]))))
    width, height = cell * len(picture.shades[0]), cell * len(picture.shades)
    squares = []
    for i, row in enumerate(picture.shades):
        for j, shade in enumerate(row):
            if shade > 0:  # a non-zero entry stays visible however small
                opacity = round(0.2 + 0.8 * shade, 3)
                squares.append(f'<rect x="{j * cell}" y="{i * cell}" width="{cell}" '
                               f'height="{cell}" fill-opacity="{opacity}"/>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'style="border:1px solid #999"><g fill="#24292f">{"".join(squares)}</g></svg>')


def html_table(table: Table) -> str:
    head = "".join(f"<th>{html.escape(column)}</th>" for column in table.columns)
    rows = []
    for row in table.rows:
        cells = "".join(f"<td{_html_style(kind, cell=True)}>{html.escape(text)}</td>"
                        for text, kind in zip(row, table.kinds))
        rows.append(f"<tr>{cells}</tr>")
    body = "\n".join(rows)
    return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody>\n</table>"


def html_line(line: Line) -> str:
    text = "".join(f"<span{_html_style(kind)}>{html.escape(part)}</span>"
                   if kind in _HTML_COLOURS else html.escape(part)
                   for part, kind in line.parts)
    if line.warning:
        text += f'   <b style="color:#b36b00">⚠ {html.escape(line.warning)}</b>'
    if line.note:
        text += f'   <span style="opacity:0.6">{html.escape(line.note)}</span>'
    return text


def _html_style(kind: str, cell: bool = False) -> str:
    styles = []
    if kind in _HTML_COLOURS:
        styles.append(f"color:{_HTML_COLOURS[kind]}")
    if cell and kind in _NUMERIC:
        styles.append("text-align:right")
    return f' style="{";".join(styles)}"' if styles else ""
