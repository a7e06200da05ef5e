"""What every command shares: the error boundary, output through the one format dispatcher,
a progress bar for long work, and writing to stdout."""

import contextlib
import enum
import functools
import os
import sys

import typer

from ..core.errors import GradtraceError, ParseError, UsageError, clip_runs
from ..core.i18n import _


def command_app() -> typer.Typer:
    """The Typer app of one command module, with the settings of the `gradtrace` group (plain
    help, no completion options): `gradtrace` loads each module's app on its own."""
    return typer.Typer(add_completion=False, rich_markup_mode=None)


EXIT_OK, EXIT_PROBLEM, EXIT_USAGE, EXIT_BUG = 0, 1, 2, 3


class Format(str, enum.Enum):
    rich = "rich"
    text = "text"
    markdown = "markdown"
    json = "json"
    latex = "latex"


def wants_colour(output_format: Format) -> bool:
    """Colour only for a real terminal that did not ask for none (NO_COLOR, --format text)."""
    if output_format is not Format.rich:
        return False
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    return sys.stdout.isatty()


def show(output_format: Format, sections, document) -> None:
    """Write a command's output in the asked format (see gradtrace.render.formats): `sections`
    and `document` are functions giving the story and the JSON text."""
    from ..render.formats import present

    import shutil

    colour = wants_colour(output_format)
    # a terminal's own width (colour or not); a pipe or a file gets 120 columns
    width = shutil.get_terminal_size((120, 24)).columns if sys.stdout.isatty() else 120
    with output_errors():
        text = present(output_format.value, sections, document, colour, width)
    print_output(text)


ARGUMENTS = ("expression", "layer")  # parameters given as arguments, not options


def flag(parameter: str) -> str:
    """The command-line option for a parameter of the Python API: wrt → --wrt."""
    return "--" + parameter.replace("_", "-")


def fail(message: str, code: int = EXIT_USAGE):
    """Print an error to stderr and stop with `code` (a huge word the user typed, clipped)."""
    typer.echo(_("error: {message}", message=clip_runs(message)), err=True)
    raise typer.Exit(code)


def error_boundary(command):
    """The one place errors become messages and exit codes: a GradtraceError prints its message
    (a ParseError with a caret under the problem, a UsageError naming the option at fault);
    anything else is a bug, reported in one line (set GRADTRACE_DEBUG=1 for the traceback)."""

    @functools.wraps(command)
    def guarded(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except (typer.Exit, typer.Abort, KeyboardInterrupt):
            raise
        except ParseError as error:
            if error.parameter and error.parameter not in ARGUMENTS:
                heading = _("error: cannot parse {option}", option=flag(error.parameter))
            else:
                heading = _("error: cannot parse the expression")
            typer.echo(heading + "\n" + error.caret(), err=True)
            raise typer.Exit(error.exit_code) from None
        except UsageError as error:
            named = error.parameter and error.parameter not in ARGUMENTS
            fail(_("{option}: {message}", option=flag(error.parameter), message=error.message)
                 if named else error.message, error.exit_code)
        except GradtraceError as error:
            fail(str(error), error.exit_code)
        except RecursionError:
            fail(_("the input is nested too deeply to handle"), EXIT_USAGE)
        except MemoryError:  # the budgets refuse what they can foresee; this is the rest
            fail(_("this input needs more memory than this machine has: ask for less (a "
                   "smaller array, fewer layers), or keep --max-elements at its default "
                   "(10,000,000 numbers an array) so that such sizes are refused up front"),
                 EXIT_USAGE)
        except Exception as error:  # a bug: say so plainly instead of a traceback
            if os.environ.get("GRADTRACE_DEBUG"):
                raise
            fail(_("internal error ({kind}: {error}); this is a bug in gradtrace, please report "
                   "it with the command you ran", kind=type(error).__name__, error=error), EXIT_BUG)

    return guarded


@contextlib.contextmanager
def picture_words():
    """Draw matplotlib pictures in the reader's language, unless its words need a font
    matplotlib does not have here (Chinese with no CJK font): then in English, with a note on
    stderr saying why."""
    from ..core.i18n import language
    from ..render.plots import words_drawable

    missing = words_drawable()
    if not missing:
        yield
        return
    typer.echo(_("note: {note}", note=missing), err=True)
    with language("en"):
        yield


def print_output(text: str):
    """Write text to stdout exactly as given (the renderers end their own lines)."""
    with output_errors():
        sys.stdout.write(text)
        sys.stdout.flush()


class output_errors:
    """Writing to stdout that fails: a closed pipe (`| head`) ends the command quietly; any
    other failure (a full disk, /dev/full) is a clear message and exit 1."""

    def __enter__(self):
        return self

    def __exit__(self, kind, error, traceback):
        if isinstance(error, BrokenPipeError):
            # nothing more can be shown; keep Python from complaining when it flushes at exit
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            raise typer.Exit(EXIT_OK)
        if isinstance(error, OSError):
            typer.echo(_("error: cannot write the output: {why}", why=error.strerror or error),
                       err=True)
            raise typer.Exit(EXIT_PROBLEM)
        return False


class progress_bar:
    """Long work, timed and shown: a context manager giving `advance(done=None, **fields)` to
    call after each repetition (epoch, pass, point). The first half second measures the rate
    (gradtrace.core.budget.Pace): work predicted to take longer than the time budget is refused
    then (TooLong, exit 2); work predicted to take more than ANNOUNCE_SECONDS is announced on
    stderr with its count and expected time; and a progress bar runs on stderr once the work has
    taken a second, when stderr is a terminal (never in a pipe or a test)."""

    ANNOUNCE_SECONDS = 5.0
    BAR_AFTER_SECONDS = 1.0

    def __init__(self, total: int | None, label: str, fields: dict | None = None,
                 minimum: int = 1, unit: str = "steps", parameter: str | None = None):
        self.total, self.label, self.fields, self.minimum = total, label, fields or {}, minimum
        self.unit, self.parameter = unit, parameter
        self.bar = self.task = self.pace = None
        self.count = 0
        self.announced = False

    def __enter__(self):
        """`advance`; a total not known yet (None) is given by the first call's `total=`."""
        if self.total is not None:
            self._start_timing(self.total)
        return self.advance

    def _start_timing(self, total: int) -> None:
        from ..core.budget import Pace

        self.total = total
        self.pace = Pace(total, self.unit, self.parameter)
        self.showing = total >= self.minimum and sys.stderr.isatty()

    def advance(self, done: int | None = None, total: int | None = None, **fields) -> None:
        if self.pace is None:
            self._start_timing(total)
        self.count = self.count + 1 if done is None else done
        if self.pace.estimate is None:
            self.pace.done(self.count)  # raises TooLong when over the budget
            if self.pace.estimate is not None and not self.announced:
                self._announce()
        if self.bar is None and self.showing and (
                self.pace.clock() - self.pace.start >= self.BAR_AFTER_SECONDS):
            self._start_bar()
        if self.bar is not None:
            self.bar.update(self.task, completed=self.count, **fields)

    def _announce(self) -> None:
        from ..core.budget import duration_text

        self.announced = True
        if self.pace.estimate > self.ANNOUNCE_SECONDS:
            typer.echo(_("{label}: {total} {unit}, about {duration} at the measured rate",
                         label=self.label, total=f"{self.total:,}", unit=self.unit,
                         duration=duration_text(self.pace.estimate)), err=True)

    def _start_bar(self) -> None:
        from rich.console import Console
        from rich.progress import Progress

        columns = [*Progress.get_default_columns(),
                   *(f"{name} {{task.fields[{name}]}}" for name in self.fields)]
        self.bar = Progress(*columns, console=Console(stderr=True), transient=True)
        self.bar.start()
        self.task = self.bar.add_task(self.label, total=self.total, completed=self.count,
                                      **self.fields)

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.stop()
        return False
