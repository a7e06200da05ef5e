"""One family of errors. The CLI catches `GradtraceError` at its boundary and turns it into an
exit code; the library raises, never prints."""

import re

class GradtraceError(Exception):
    """Base of every error gradtrace raises on purpose. `exit_code` is what the CLI returns."""

    exit_code = 2


class ParseError(GradtraceError, ValueError):
    """The expression text was rejected. `position` is the 0-based character offset of the
    problem in `text`, so a caller can draw a caret under it."""

    def __init__(self, message: str, text: str, position: int, parameter: str | None = None):
        super().__init__(message)
        self.message = message
        self.text = text
        self.position = max(0, min(position, len(text)))
        self.parameter = parameter  # the argument the text came from; None: the expression

    def caret(self) -> str:
        """The text, a caret under the problem, and the message, ready for a terminal. The
        caret's column counts display width: a tab is shown as one space, a full-width
        character (Chinese, ｘ) takes two columns, a combining accent none."""
        line, column = _line_of(self.text, self.position)
        line = line.replace("\t", " ")
        return f"{line}\n{' ' * display_width(line[:column])}^\n{clip_runs(self.message)}"


class UsageError(GradtraceError, ValueError):
    """An argument that cannot be used (an unknown name in `at`, a value that cannot be read...).

    `parameter` names the argument at fault as the Python API spells it ("wrt", "at"); the
    message itself does not, so the CLI can name the option instead (--wrt, --at) and a Python
    user reads the parameter's name."""

    def __init__(self, message: str, parameter: str | None = None):
        super().__init__(message)
        self.message = message
        self.parameter = parameter

    def __str__(self) -> str:
        return f"{self.parameter}: {self.message}" if self.parameter else self.message


LONGEST_RUN = 120  # characters of one word a message repeats before it elides the middle
_RUN = re.compile(r"\S{%d,}" % (LONGEST_RUN + 1))


def clip_runs(text: str) -> str:
    """`text` with each word longer than LONGEST_RUN (a name, a value or a path a user typed,
    repeated by a message) cut to its ends around "…": a 100,000-character typo gets a
    one-line message, not 100 KB of it."""
    from .i18n import ngettext

    def clip(found: re.Match) -> str:
        word = found.group(0)
        return ngettext("{start}…{end} ({count} character)", "{start}…{end} ({count} characters)",
                        len(word), start=word[:80], end=word[-30:], count=f"{len(word):,}")

    return _RUN.sub(clip, text)


def display_width(text: str) -> int:
    """Columns `text` takes in a terminal: East Asian wide and full-width characters two,
    combining marks none, everything else one."""
    import unicodedata

    width = 0
    for char in text:
        if unicodedata.combining(char):
            continue
        width += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return width


def _line_of(text: str, position: int) -> tuple[str, int]:
    """The line holding `position` and the column in it; long lines are windowed around it."""
    start = text.rfind("\n", 0, position) + 1
    end = text.find("\n", position)
    line = text[start : len(text) if end < 0 else end]
    column = position - start
    window = 70
    if len(line) > 2 * window:
        lo = max(0, column - window)
        hi = min(len(line), column + window)
        prefix = "…" if lo > 0 else ""
        suffix = "…" if hi < len(line) else ""
        return prefix + line[lo:hi] + suffix, column - lo + len(prefix)
    return line, column
