"""The interactive page and the exercises, as the commands offer them: the options --html,
--quiz and --answers (declared once here for explain, mlp, cnn and quiz), checking them
before any work is done, and writing the page and the teacher's key."""

import enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..core.i18n import _
from ..core.errors import UsageError
from .options import writable

PAGE_SUFFIXES = (".html", ".htm")


class QuizKind(str, enum.Enum):
    grads = "grads"
    locals = "locals"
    values = "values"
    all = "all"


HtmlOption = Annotated[Optional[Path], typer.Option(
    "--html", metavar="PATH",
    help="Also write an interactive page to step through the passes in a browser: the graph "
         "beside the narration, ← → Home End and space to play, a node's details on a click. "
         "One self-contained file, works offline. Example: --html sigmoid.html",
    show_default=False)]
LayersHtmlOption = Annotated[Optional[Path], typer.Option(
    "--html", metavar="PATH",
    help="Also write an interactive page that steps through the layers, forward then "
         "backward, with δ⁽ˡ⁾ and the gradient norms at each; a layer's box opens into its "
         "ops. Example: --html mlp.html", show_default=False)]
QuizOption = Annotated[Optional[QuizKind], typer.Option(
    "--quiz", metavar="grads|locals|values|all",
    help="Make the --html page an exercise: these quantities are left blank, typed answers "
         "are graded with a tolerance and a wrong one is told the first wrong step and why "
         "(sign, missing upstream factor, forgotten path). --seed gives each student a point "
         "of their own; `gradtrace quiz` asks in the terminal. Example: --quiz grads",
    show_default=False)]
AnswersOption = Annotated[Optional[Path], typer.Option(
    "--answers", metavar="PATH",
    help="Also write the teacher's key: every blank with its answer and the range graded "
         "right (.json, .tex and .md get those formats, any other name plain text). "
         "Example: --answers key.txt", show_default=False)]


def check_pages(html: Optional[Path] = None, quiz: Optional[QuizKind] = None,
                answers: Optional[Path] = None, page_option: str = "html",
                quiz_alone: bool = False) -> None:
    """The names and folders of the files to write, and the options that go together (a quiz
    goes into a page or a key, unless `quiz_alone`: `gradtrace quiz` asks in the terminal): a
    bad name stops the command before it does any work."""
    if html is not None and html.suffix.lower() not in PAGE_SUFFIXES:
        raise UsageError(_("{path}: a page's name ends in .html", path=html), page_option)
    for path, parameter in ((html, page_option), (answers, "answers")):
        if path is not None:
            writable(path, parameter)
    if answers is not None and quiz is None:
        raise UsageError(_("a key needs a quiz: give --quiz grads (or locals, values, all) too"),
                         "answers")
    if quiz is not None and html is None and answers is None and not quiz_alone:
        raise UsageError(_("a quiz is written into a page: give --html PATH (and --answers PATH "
                         "for the key), or ask it in the terminal with `gradtrace quiz`"), "quiz")


def write_trace_pages(trace, html: Optional[Path], quiz: Optional[QuizKind],
                      answers: Optional[Path], precision: int) -> None:
    """The trace's page (an exercise with --quiz) and the key; nothing when neither is asked."""
    if html is None and answers is None:
        return
    made = None
    if quiz is not None:
        from ..narrate.quiz import make_quiz

        made = make_quiz(trace, quiz.value, precision)
    write_quiz_files(trace, made, html, answers, precision)


def write_quiz_files(trace, made, html: Optional[Path], answers: Optional[Path],
                     precision: int) -> None:
    """The page (a quiz page when `made` is a quiz) and the teacher's key, each atomically."""
    if html is not None:
        from ..render.html import trace_page, write_page

        write_page(trace_page(trace, precision, made), html)
        typer.echo(_("wrote {path}", path=html), err=True)
    if answers is not None and made is not None:
        from ..render.image import write_atomic
        from ..render.quiz import key_text

        write_atomic(answers, key_text(made, answers).encode("utf-8"))
        typer.echo(_("wrote {path}", path=answers), err=True)


def write_layers_page(result, title: str, precision: int, network: dict,
                      html: Optional[Path]) -> None:
    """mlp's and cnn's page of one training step, when --html names one."""
    if html is None:
        return
    from ..render.html import write_page
    from ..render.page_layers import layers_page

    write_page(layers_page(result, title, precision, network), html)
    typer.echo(_("wrote {path}", path=html), err=True)
