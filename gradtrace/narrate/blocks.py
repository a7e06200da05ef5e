"""The pieces a story is told in: sections holding prose (str), tables, pictures and narrated
lines (a tuple of Line). text.py and markdown.py know how to lay out each kind."""

from __future__ import annotations

from typing import NamedTuple


class Table(NamedTuple):
    columns: tuple[str, ...]
    kinds: tuple[str, ...]  # segment kind of each column ("value", "grad", "number", "name", "")
    rows: tuple[tuple[str, ...], ...]
    indent: int = 0  # spaces before the table in the terminal (a table inside a step's story)


class Picture(NamedTuple):
    """Rows of characters shown as they are, in a fixed-width font (a sparsity pattern)."""

    rows: tuple[str, ...]
    indent: int = 4
    # Optional shade of each cell, 0 (white) to 1 (darkest), for a heatmap where the layout
    # can draw one (HTML); same size as `rows`.
    shades: tuple[tuple[float, ...], ...] | None = None


class Section(NamedTuple):
    title: str
    blocks: tuple  # each a str (prose), a Table, a Picture, or a tuple of Lines
    key: str = ""  # what the section is, in any language ("graph", "forward"): for layouts
