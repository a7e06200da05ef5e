"""A story (sections of prose, tables, pictures and narrated lines) for the terminal: rich
colours, or the same text with none.

Colours follow the course figures: forward values green, gradients red. `render_plain` renders
the very same renderables on a fixed-width, colourless console, so its output is byte-stable
(independent of the terminal and of COLUMNS) and pastes cleanly into notes.
"""

from __future__ import annotations

import io

from rich import box
from rich.console import Console
from rich.padding import Padding
from rich.table import Table as RichTable
from rich.text import Text

from ..narrate.blocks import Picture, Section, Table
from ..narrate.lines import Line

STYLES = {"value": "green", "grad": "red", "name": "bold", "number": "", "": ""}
NUMERIC = {"value", "grad", "number"}  # right-aligned table columns
NOTE_STYLE = "dim"
WARNING_STYLE = "bold yellow"
PLAIN_WIDTH = 120
NOTE_COLUMN_LIMIT = 72  # notes of lines longer than this are not aligned with the others


def build_renderables(sections: list[Section]) -> list:
    """Headings, tables and narrated lines, in story order, as rich renderables."""
    renderables: list = []
    for section in sections:
        renderables += section_renderables(section)
    return renderables[:-1]  # no blank line after the last section


def render_rich(sections: list[Section], console) -> None:
    for renderable in build_renderables(sections):
        # Narrated lines are never wrapped by rich: the terminal (or the reader) wraps them.
        console.print(renderable, soft_wrap=isinstance(renderable, Text))


def render_plain(sections: list[Section]) -> str:
    """The same story without colour: for pipes, NO_COLOR and --format text."""
    buffer = io.StringIO()
    console = Console(file=buffer, width=PLAIN_WIDTH, color_system=None, force_terminal=False,
                      force_jupyter=False, legacy_windows=False, no_color=True, emoji=False,
                      highlight=False)
    render_rich(sections, console)
    # Tables pad their cells with spaces; trailing spaces only get in the way in notes.
    return "\n".join(line.rstrip() for line in buffer.getvalue().splitlines()) + "\n"


def section_renderables(section: Section) -> list:
    renderables: list = [Text(section.title, style="bold")]
    for block in section.blocks:
        if isinstance(block, str):
            renderables.append(Text(block))
        elif isinstance(block, Table):
            table = rich_table(block)
            renderables.append(Padding(table, (0, 0, 0, block.indent)) if block.indent else table)
        elif isinstance(block, Picture):
            renderables += [Text(" " * block.indent + row) for row in block.rows]
        else:
            renderables += line_texts(block)
    renderables.append(Text(""))
    return renderables


def rich_table(table: Table) -> RichTable:
    result = RichTable(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False,
                       header_style="bold")
    for position, (column, kind) in enumerate(zip(table.columns, table.kinds)):
        # A number never breaks; a list of numbers may wrap between its entries.
        lists = any(", " in row[position] for row in table.rows)
        result.add_column(Text(column), justify="right" if kind in NUMERIC else "left",
                          no_wrap=kind in NUMERIC and not lists)
    for row in table.rows:
        result.add_row(*(Text(matrix_lines(cell), style=STYLES[kind])
                         for cell, kind in zip(row, table.kinds)))
    return result


def matrix_lines(cell: str) -> str:
    """A matrix cell one row per line, as numpy prints it; the lines padded to one width so a
    right-aligned column keeps them aligned on the left too."""
    if "], [" not in cell:
        return cell
    lines = cell.replace("], [", "],\n [").split("\n")
    width = max(len(line) for line in lines)
    return "\n".join(line.ljust(width) for line in lines)


def line_texts(lines: tuple[Line, ...]) -> list[Text]:
    """Indented lines; their notes start in one column so they read as a second column."""
    widths = [len(line.text) for line in lines if len(line.text) <= NOTE_COLUMN_LIMIT]
    note_column = max(widths, default=0)
    return [line_text(line, note_column) for line in lines]


def line_text(line: Line, note_column: int) -> Text:
    text = Text("  ")
    for part, kind in line.parts:
        text.append(part, style=STYLES[kind])
    padding = " " * max(note_column - len(line.text), 0)
    if line.warning:
        text.append(f"{padding}   ⚠ {line.warning}", style=WARNING_STYLE)
        padding = ""
    if line.note:
        text.append(f"{padding}   {line.note}", style=NOTE_STYLE)
    return text
