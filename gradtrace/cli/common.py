"""What every command shares: output formats, the error boundary, where output goes."""

import enum
import functools
import os
import sys

import typer

from ..errors import GradtraceError, ParseError


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


def fail(message: str, code: int = EXIT_USAGE):
    """Print an error to stderr and stop with `code`."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def error_boundary(command):
    """The one place errors become messages and exit codes: a GradtraceError prints its message
    (a ParseError with a caret under the problem); anything else is a bug, reported in one line
    (set GRADTRACE_DEBUG=1 for the traceback)."""

    @functools.wraps(command)
    def guarded(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except (typer.Exit, typer.Abort, KeyboardInterrupt):
            raise
        except ParseError as error:
            typer.echo(f"error: cannot parse the expression\n{error.caret()}", err=True)
            raise typer.Exit(error.exit_code) from None
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


def render_sections(story, output_format: "Format") -> str:
    """A story of sections in the asked format; the rich one goes straight to the terminal."""
    from ..render import sections

    if output_format is Format.markdown:
        return sections.render_markdown(story)
    if wants_colour(output_format):
        from rich.console import Console

        sections.render_rich(story, Console(highlight=False))
        return ""
    return sections.render_plain(story)
