"""What every command shares: the error boundary, output through the one format dispatcher,
a progress bar for long work, and writing to stdout."""

import enum
import functools
import os
import sys

import typer

from ..core.errors import GradtraceError, ParseError, UsageError


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

    console = None
    colour = wants_colour(output_format)
    if colour:
        from rich.console import Console

        console = Console(highlight=False)
    print_output(present(output_format.value, sections, document, colour, console))


ARGUMENTS = ("expression", "layer")  # parameters given as arguments, not options


def flag(parameter: str) -> str:
    """The command-line option for a parameter of the Python API: wrt → --wrt."""
    return "--" + parameter.replace("_", "-")


def fail(message: str, code: int = EXIT_USAGE):
    """Print an error to stderr and stop with `code`."""
    typer.echo(f"error: {message}", err=True)
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
            typer.echo(f"error: cannot parse the expression\n{error.caret()}", err=True)
            raise typer.Exit(error.exit_code) from None
        except UsageError as error:
            named = error.parameter and error.parameter not in ARGUMENTS
            where = f"{flag(error.parameter)}: " if named else ""
            fail(where + error.message, error.exit_code)
        except GradtraceError as error:
            fail(str(error), error.exit_code)
        except RecursionError:
            fail("the input is nested too deeply to handle", EXIT_USAGE)
        except Exception as error:  # a bug: say so plainly instead of a traceback
            if os.environ.get("GRADTRACE_DEBUG"):
                raise
            fail(f"internal error ({type(error).__name__}: {error}); this is a bug in "
                 "gradtrace, please report it with the command you ran", EXIT_BUG)

    return guarded


def print_output(text: str):
    """Write text to stdout exactly as given (the renderers end their own lines)."""
    sys.stdout.write(text)
    sys.stdout.flush()


class progress_bar:
    """A progress bar on stderr for long work in a terminal; silent otherwise (a pipe, a test).
    Used as a context manager giving `advance(done=None, **fields)`, or None when silent."""

    def __init__(self, total: int, label: str, fields: dict | None = None, minimum: int = 1):
        self.total, self.label, self.fields, self.minimum = total, label, fields or {}, minimum
        self.bar = None

    def __enter__(self):
        if self.total < self.minimum or not sys.stderr.isatty():
            return None
        from rich.console import Console
        from rich.progress import Progress

        columns = [*Progress.get_default_columns(),
                   *(f"{name} {{task.fields[{name}]}}" for name in self.fields)]
        self.bar = Progress(*columns, console=Console(stderr=True), transient=True)
        self.bar.start()
        task = self.bar.add_task(self.label, total=self.total, **self.fields)

        def advance(done: int | None = None, **fields) -> None:
            if done is None:
                self.bar.advance(task)
            else:
                fields["completed"] = done
            if fields:
                self.bar.update(task, **fields)

        return advance

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.stop()
        return False
