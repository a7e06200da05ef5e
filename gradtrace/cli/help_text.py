"""`--help` in the reader's language: the help pages typer builds, said again from a catalog
and wrapped by display width.

Help is written in English where each command is defined (docstrings, `help=` of options). In
another language each piece is looked up, when the page is written, in the catalog of its own
domain (`gradtrace_help`), a paragraph at a time: a command's help and epilog paragraph by
paragraph, an option's help without the `[default: ...]` typer adds, the headings, the usage
prefix and the lines of `gradtrace --help`. A piece the catalog lacks is shown in English.

Chinese characters take two columns in a terminal, so the pages are wrapped by display width,
not by counting characters (click's wrapper would run each line twice past the margin); and in
every language only at spaces and between Chinese characters, never inside an option's name.

help_catalog.py lists every piece, for the catalog and its test.

May import: core.i18n and core.errors (light, no numpy: `gradtrace --help` loads this).
"""

from __future__ import annotations

import gettext
import inspect
import re

from ..core.errors import display_width as width_of
from ..core.i18n import LOCALE_DIR, current

DOMAIN = "gradtrace_help"
# the usage prefix and the headings, as looked up: with their colon and space, which the
# catalog may change ("用法：")
HEADINGS = ("Usage: ", "Options:", "Arguments:", "Commands:")
HELP_OPTION = "Show this message and exit."  # click's words for --help
# what typer adds after an option's help: "  [default: 0; x>=0]", "[required]"
_EXTRAS = re.compile(r"((?:\s*\[[^\[\]]*\])+)$")
EXTRA_WORDS = {"default: ": "Default: ", "required": "Required", "env var: ": "Env var: "}

_catalogs: dict[str, gettext.NullTranslations] = {}


def _catalog(lang: str) -> gettext.NullTranslations:
    if lang not in _catalogs:
        _catalogs[lang] = gettext.translation(DOMAIN, LOCALE_DIR, [lang], fallback=True)
    return _catalogs[lang]


def paragraphs(text: str) -> list[str]:
    """A help text as its paragraphs, each as it is looked up: a paragraph's lines joined by
    spaces (they are wrapped again when shown), except a block marked \\b, kept line by line."""
    found = []
    for block in re.split(r"\n\s*\n", inspect.cleandoc(text).partition("\f")[0]):
        lines = block.splitlines()
        if not lines:
            continue
        if lines[0].strip() == "\b":
            found.append("\n".join(lines))
        else:
            found.append(" ".join(line.strip() for line in lines))
    return found


def say(text: str, lang: str) -> str:
    """`text` (one piece) in `lang`, or as it is when the catalog lacks it."""
    return text if lang == "en" else _catalog(lang).gettext(text)


def say_text(text: str, lang: str) -> str:
    """A help text paragraph by paragraph (blank lines between them)."""
    return "\n\n".join(say(paragraph, lang) for paragraph in paragraphs(text))


def say_row(text: str, lang: str) -> str:
    """An option's or command's help line: its help, then typer's extras in `lang`."""
    if lang == "en":
        return text
    whole = say(text, lang)
    if whole != text:
        return whole
    extras = _EXTRAS.search(text)
    if extras is None:
        return say(" ".join(text.split()), lang)
    main = text[:extras.start()]
    said = extras.group(1)
    for english, piece in EXTRA_WORDS.items():
        said = said.replace(english, say(piece, lang))
    return say(" ".join(main.split()), lang) + "  " + said.strip()


# -- wrapping by display width --------------------------------------------------------------

_WIDE = "\u2e80-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef\u3000-\u303f"
_OPENING, _CLOSING = "（「『《〈【“‘([", "，。；：、）」』》〉】！？”’"
# a short bracketed note ("[默认：2; 0<=x<=12]"), a word, or one wide character, with the
# punctuation that may not start or end a line beside it, and the spaces after it: the places
# a line may break
_PIECE = re.compile(rf"\[[^\[\]\n]{{1,30}}\]\s*|[{_OPENING}]*(?:[^\s{_WIDE}]+|[{_WIDE}])"
                    rf"[{_CLOSING}]*\s*|\s+")


def _pieces(text: str) -> list[str]:
    """`text` cut where a line may break: at a space, or between two Chinese characters, but
    never before a comma or a closing bracket, nor after an opening one."""
    return _PIECE.findall(text)


def wrap(text: str, width: int, first: str = "", rest: str = "") -> list[str]:
    """One paragraph as lines of at most `width` columns (a longer word stands alone)."""
    lines, line = [], first
    limit = max(width, width_of(first) + 10)
    for piece in _pieces(" ".join(text.split())):
        # the line's trailing space stays inside it when the piece joins it
        if width_of(line) + width_of(piece.rstrip()) > limit and line.strip():
            lines.append(line.rstrip())
            line = rest
            piece = piece.lstrip()
        line += piece
    if line.strip():
        lines.append(line.rstrip())
    return lines


def wrap_paragraphs(text: str, width: int, indent: str) -> str:
    """Paragraphs wrapped to `width` columns after `indent`; a \\b block kept line by line."""
    blocks = []
    for paragraph in text.split("\n\n"):
        lines = paragraph.splitlines()
        if lines and lines[0].strip() == "\b":
            blocks.append("\n".join(indent + line for line in lines[1:]))
        else:
            blocks.append("\n".join(wrap(paragraph, width, indent, indent)))
    return "\n\n".join(blocks)


def formatter_for(base: type) -> type:
    """A subclass of click's help formatter `base` that says each piece in the current
    language and wraps by display width, never inside an option's name (click's wrapper
    breaks "--max-seconds" at its hyphen)."""

    class Formatter(base):
        def write_usage(self, prog, args="", prefix=None):
            if prefix is None:
                prefix = say("Usage: ", current())
            super().write_usage(prog, args, prefix)

        def write_heading(self, heading):
            self.write(f"{'':>{self.current_indent}}{say(heading + ':', current())}\n")

        def write_text(self, text):
            said = say_text(text, current())
            self.write(wrap_paragraphs(said, self.width, " " * self.current_indent) + "\n")

        def write_dl(self, rows, col_max=30, col_spacing=2):
            lang = current()
            rows = [(first, say_row(second, lang)) for first, second in rows]
            column = min(max((width_of(first) for first, _ in rows), default=0),
                         col_max) + col_spacing
            margin = " " * (self.current_indent + column)
            for first, second in rows:
                head = " " * self.current_indent + first
                if not second:
                    self.write(head + "\n")
                    continue
                if width_of(first) <= column - col_spacing:
                    start = head + " " * (column - width_of(first))
                else:
                    self.write(head + "\n")
                    start = margin
                text_width = max(self.width - column - 2, 10) + len(margin)
                lines = wrap(second, text_width, start, margin) or [start.rstrip()]
                self.write("\n".join(lines) + "\n")

    return Formatter


def context_for(base: type) -> type:
    """A subclass of click's context class `base` whose help pages use `formatter_for`."""
    return type("HelpContext", (base,), {"formatter_class": formatter_for(base.formatter_class)})


def localise(command) -> None:
    """Make `command`'s help pages (and its subcommands', once loaded) speak the current
    language."""
    command.context_class = context_for(command.context_class)
