"""A table too wide for the page, laid out by rich, which wraps its cells (plain.py writes
every other part of a story itself, and tables that fit).

Numbers never break; a list of numbers may wrap between its entries. Colours follow the course
figures: values green, gradients red.
"""

from __future__ import annotations

from rich import box
from rich.table import Table as RichTable
from rich.text import Text

from ..narrate.blocks import Table
from .fonts import has_wide
from .plain import NUMERIC, matrix_lines

STYLES = {"value": "green", "grad": "red", "name": "bold", "number": "", "": ""}


def rich_table(table: Table) -> RichTable:
    result = RichTable(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False,
                       header_style="bold")
    for position, (column, kind) in enumerate(zip(table.columns, table.kinds)):
        lists = any(", " in row[position] for row in table.rows)
        # Chinese runs have no spaces to wrap at: fold them rather than cut them off
        wide = any(has_wide(row[position]) for row in table.rows)
        result.add_column(Text(column), justify="right" if kind in NUMERIC else "left",
                          no_wrap=kind in NUMERIC and not lists,
                          overflow="fold" if wide else "ellipsis")
    for row in table.rows:
        result.add_row(*(Text(matrix_lines(cell), style=STYLES[kind])
                         for cell, kind in zip(row, table.kinds)))
    return result
