"""A story as terminal text, written directly: plain (a pipe, NO_COLOR, --format text) or
coloured with ANSI codes (a terminal: values green, gradients red, as the course figures).

The layout is rich's SIMPLE_HEAD table without its edge (columns three spaces apart, numbers
right-aligned, a rule under the header as wide as the table); titles, prose and narrated lines
as they are, a narrated line's note in a second column. Laying out a big trace with rich costs
seconds; this costs what writing the characters does. Only a table wider than the page is
left to rich, which wraps its cells (render/text.py).
"""

from __future__ import annotations

from ..core.errors import display_width
from ..narrate.blocks import Picture, Section, Table
from ..narrate.lines import Line

PLAIN_WIDTH = 120  # the page of plain text: tables wider than this wrap
NUMERIC = {"value", "grad", "number"}  # right-aligned table columns
NOTE_COLUMN_LIMIT = 72  # notes of lines longer than this are not aligned with the others
GAP = "   "


def matrix_lines(cell: str) -> str:
    """A matrix cell one row per line, as numpy prints it; the lines padded to one width so a
    right-aligned column keeps them aligned on the left too."""
    if "], [" not in cell:
        return cell
    lines = cell.replace("], [", "],\n [").split("\n")
    width = max(len(line) for line in lines)  # numbers: one column each
    return "\n".join(line.ljust(width) for line in lines)


def line_segments(lines: tuple[Line, ...]) -> list[list[tuple[str, str]]]:
    """Each narrated line as (text, kind) segments, indented, with its warning and note
    starting in one column so they read as a second column; kind is a segment kind of the
    line, "warning" or "note"."""
    # columns on a terminal: a Chinese character takes two
    widths = [display_width(line.text) for line in lines]
    note_column = max((width for width in widths if width <= NOTE_COLUMN_LIMIT), default=0)
    laid_out = []
    for line, width in zip(lines, widths):
        segments = [("  ", "")] + list(line.parts)
        padding = " " * max(note_column - width, 0)
        if line.warning:
            segments.append((f"{padding}   ⚠ {line.warning}", "warning"))
            padding = ""
        if line.note:
            segments.append((f"{padding}   {line.note}", "note"))
        laid_out.append(segments)
    return laid_out


# ANSI codes of the segment kinds (render/text.py's STYLES, as a terminal reads them)
ANSI = {"value": "32", "grad": "31", "name": "1", "header": "1", "title": "1", "note": "2",
        "warning": "1;33"}


def render_plain(sections: list[Section], width: int = PLAIN_WIDTH, colour: bool = False) -> str:
    """The story as text for a page `width` columns wide (PLAIN_WIDTH: the same bytes
    whatever the terminal), trailing spaces removed; with `colour`, ANSI codes around values,
    gradients, names and notes."""
    lines: list[list[tuple[str, str]]] = []
    for section in sections:
        lines.append([(section.title, "title")])
        for block in section.blocks:
            if isinstance(block, str):
                lines.append([(block, "")])
            elif isinstance(block, Table):
                lines += table_segments(block, width) or _rich_table_lines(block, width, colour)
            elif isinstance(block, Picture):
                lines += [[(" " * block.indent + row, "")] for row in block.rows]
            else:
                lines += line_segments(block)
        lines.append([])
    write = _coloured if colour else _plain
    return "\n".join(write(segments) for segments in lines[:-1]) + "\n"


def _plain(segments) -> str:
    return "".join(text for text, _ in segments).rstrip()


def _coloured(segments) -> str:
    while segments and not segments[-1][0].strip():
        segments = segments[:-1]  # no trailing spaces, coloured or not
    parts = []
    for text, kind in segments:
        code = ANSI.get(kind)
        parts.append(f"\x1b[{code}m{text}\x1b[0m" if code and text.strip() else text)
    return "".join(parts).rstrip(" ")


def table_segments(table: Table, width: int = PLAIN_WIDTH) -> list[list[tuple[str, str]]] | None:
    """The table laid out as rich's SIMPLE_HEAD draws it, each line as (text, kind) segments:
    a cell has its column's kind, the header "header", padding and the rule "". None when the
    table is wider than `width`."""
    columns = len(table.columns)
    cells = [[matrix_lines(cell).split("\n") for cell in row] for row in table.rows]
    widths = [display_width(title) for title in table.columns]
    for row in cells:
        for position, cell in enumerate(row):
            widths[position] = max(widths[position], *(display_width(line) for line in cell))
    total = sum(widths) + len(GAP) * (columns - 1)
    if total + table.indent > width:
        return None
    right = [kind in NUMERIC for kind in table.kinds]
    indent = [(" " * table.indent, "")] if table.indent else []
    header = [[title] for title in table.columns]
    lines = [indent + _joined(header, widths, right, 0, ("header",) * columns),
             indent + [("─" * total, "")]]
    for row in cells:
        for index in range(max(len(cell) for cell in row)):
            lines.append(indent + _joined(row, widths, right, index, table.kinds))
    return lines


def _joined(row, widths, right, index: int, kinds) -> list[tuple[str, str]]:
    segments: list[tuple[str, str]] = []
    for position, (cell, width, to_right, kind) in enumerate(zip(row, widths, right, kinds)):
        text = cell[index] if index < len(cell) else ""
        pad = " " * (width - display_width(text))
        if position:
            segments.append((GAP, ""))
        segments += [(pad, ""), (text, kind)] if to_right else [(text, kind), (pad, "")]
    return segments


def _rich_table_lines(table: Table, width: int, colour: bool) -> list[list[tuple[str, str]]]:
    """A table too wide for the page, laid out by rich (which wraps its cells), as lines of
    text already coloured when asked (kind "raw")."""
    import io

    from rich.console import Console
    from rich.padding import Padding

    from .text import rich_table

    buffer = io.StringIO()
    console = Console(file=buffer, width=width, color_system="standard" if colour else None,
                      force_terminal=colour, force_jupyter=False, legacy_windows=False,
                      no_color=not colour, emoji=False, highlight=False)
    layout = rich_table(table)
    console.print(Padding(layout, (0, 0, 0, table.indent)) if table.indent else layout)
    return [[(line, "")] for line in buffer.getvalue().splitlines()]
