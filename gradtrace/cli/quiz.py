"""`gradtrace quiz`: backprop as an exercise, in the terminal, on paper or in a page (the
page and the key are written as `explain --quiz` writes them: gradtrace.cli.pages)."""

import enum
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..core.i18n import _
from .common import EXIT_PROBLEM, command_app, error_boundary, print_output
from .options import AtOption, ExpressionArgument, FuseOption, PrecisionOption, SeedOption
from .pages import AnswersOption, QuizKind, check_pages, write_quiz_files

app = command_app()

EXAMPLES = """
\b
Examples:
  gradtrace quiz "1/(1+exp(-(w0*x0+w1*x1+w2)))" --at w0=2,x0=-1,w1=-3,x1=-2,w2=-3
  gradtrace quiz "x*y + x*sigmoid(x)" --blank all --seed 7     # a point of its own per seed
  gradtrace quiz "(w*x+b-y)**2/2" --blank locals --format latex > exam.tex
  gradtrace quiz "tanh(w*x+b)" --seed 3 --html quiz.html --answers key.txt
"""


class SheetFormat(str, enum.Enum):
    ask = "ask"
    text = "text"
    markdown = "markdown"
    latex = "latex"
    json = "json"


BlankOption = Annotated[QuizKind, typer.Option(
    "--blank", metavar="grads|locals|values|all",
    help="What to leave blank: grads (each upstream × local, and each sum where paths meet), "
         "locals (each local derivative), values (each forward value) or all. Example: "
         "--blank locals")]


@app.command(epilog=EXAMPLES)
@error_boundary
def quiz(
    expression: ExpressionArgument,
    at: AtOption = None,
    seed: SeedOption = 0,
    blank: BlankOption = QuizKind.grads,
    output_format: Annotated[SheetFormat, typer.Option(
        "--format", "-f", metavar="ask|text|markdown|latex|json",
        help="ask: ask each blank in turn and grade it (a wrong answer gets a hint and a "
             "second try); text, markdown, latex: print the worksheet (latex: an exam sheet "
             "that compiles as is); json: the whole quiz, answers included. Example: "
             "--format latex")] = SheetFormat.ask,
    precision: PrecisionOption = 2,
    fuse: FuseOption = False,
    answers: AnswersOption = None,
    html: Annotated[Optional[Path], typer.Option(
        "--html", metavar="PATH",
        help="Also write the exercise as an interactive page that grades typed answers and "
             "points at the first wrong step. Example: --html quiz.html",
        show_default=False)] = None,
) -> None:
    """Backprop as an exercise: the forward and backward steps of EXPRESSION with the
    gradients (or local derivatives, or values) left blank, to fill in.

    Inputs not given with --at get values from --seed, so each student can have a point of
    their own. Answers are graded with a tolerance (work with the numbers as shown); a wrong
    one is told what it looks like: a flipped sign, a missing upstream factor, a forgotten
    second path. Exit code 1 when an answer asked in the terminal stayed wrong.
    """
    check_pages(html, blank, answers, quiz_alone=True)
    trace, made = make_quiz(expression, at, seed, blank.value, precision, fuse)
    write_quiz_files(trace, made, html, answers, precision)
    if output_format is not SheetFormat.ask:
        from ..render.quiz import sheet

        print_output(sheet(made, output_format.value))
        return
    if not ask(made):
        raise typer.Exit(EXIT_PROBLEM)


def make_quiz(expression: str, at, seed: int, kind: str, precision: int, fuse: bool = False):
    """(trace, quiz): the quiz of `kind` on EXPRESSION at the point (--at, else --seed's
    values), and the trace it is made from."""
    from ..expr.pipeline import explain
    from ..expr.point import parse_assignments
    from ..narrate.quiz import make_quiz as quiz_of

    point = parse_assignments(at or [], seed)
    trace = explain(expression, point, seed=seed, fuse=fuse, check=False)
    return trace, quiz_of(trace, kind, precision)


SKIPPED = -1  # _ask_one's outcome for an empty line: not answered, so not wrong


def ask(made) -> bool:
    """Ask every blank in the terminal, line by line; False when an answer stayed wrong
    (blanks skipped, or not reached because the input ended, are not wrong answers).

    A wrong answer gets its hint and one more try; after a second wrong one the answer is
    given, so the steps after it start from the right number. An empty line skips a blank;
    the end of the input (Ctrl-D) stops, with the score so far."""
    from ..narrate.quiz import BLANK, BOX, judge, worksheet
    from ..render.plain import render_plain

    sections = worksheet(made)
    header, passes = sections[0], sections[1:]
    print_output(render_plain([header]) + "\n" + _("Type a number and Enter (1/3 and -0.5 "
                                                    "work); an empty line skips a blank, Ctrl-D "
                                                    "stops.") + "\n")
    first_time = second_time = wrong = 0
    asked = 0
    for section in passes:
        print_output(f"\n{section.title}\n")
        for block in section.blocks:
            if not isinstance(block, tuple):
                continue
            for line in block:
                print_output("  " + boxed_text(line, BOX) + "\n")
                for text, kind in line.parts:
                    if kind != BLANK:
                        continue
                    blank = made.blanks[int(text) - 1]
                    asked += 1
                    outcome = _ask_one(blank, judge)
                    if outcome is None:
                        return _score(first_time, second_time, asked - 1, len(made.blanks),
                                      wrong)
                    first_time += outcome == 1
                    second_time += outcome == 2
                    wrong += outcome == 0
    return _score(first_time, second_time, asked, len(made.blanks), wrong)


def boxed_text(line, box: str) -> str:
    from ..narrate.quiz import BLANK

    text = "".join(f"{box}{part}" if kind == BLANK else part for part, kind in line.parts)
    return text + (f"    {line.note}" if line.note else "")


def _read(prompt: str) -> str | None:
    print_output(prompt)
    line = sys.stdin.readline()
    if not line:
        print_output("\n")
        return None
    return line.rstrip("\n")


def _ask_one(blank, judge) -> int | None:
    """1: right the first time, 2: the second, 0: not right, SKIPPED; None: the input
    ended."""
    from ..narrate.numbers import fmt

    for attempt in (1, 2):
        typed = _read(f"    ▢{blank.number} = {blank.asks}? ")
        if typed is None:
            return None
        verdict = judge(blank, typed)
        if verdict.status == "right":
            print_output("    " + _("✓ right") + "\n")
            return attempt
        if verdict.status == "empty":
            print_output("    " + _("skipped: the answer is {answer}",
                                      answer=fmt(blank.answer, 4)) + "\n")
            return SKIPPED
        if attempt == 1:
            print_output("    " + _("✗ {why}. Try once more.", why=verdict.why) + "\n")
        else:
            print_output("    " + _("✗ {why}. The answer is {answer}; carry on with it.",
                                      why=verdict.why, answer=fmt(blank.answer, 4)) + "\n")
    return 0


def _score(first: int, second: int, asked: int, total: int, wrong: int) -> bool:
    fields = dict(first=first, total=total, both=first + second, asked=asked)
    if asked == total:
        score = _("Score: {first} of {total} right the first time, {both} with a second try.",
                  **fields)
    else:
        score = _("Score: {first} of {total} right the first time, {both} with a second try "
                  "(stopped after {asked} of {total}).", **fields)
    print_output("\n" + score + "\n")
    return wrong == 0
