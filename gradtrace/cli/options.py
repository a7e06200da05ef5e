"""Options several commands share, declared once with their help text, and the readers of the
values several commands take (layer widths, shapes written 2x3x6x6)."""

from pathlib import Path
from typing import Annotated, Optional

import typer

from ..core.i18n import _
from ..core.errors import UsageError
from .common import Format

ExpressionArgument = Annotated[str, typer.Argument(
    metavar="EXPRESSION", show_default=False,
    help="The expression, quoted: numbers, names, + - * / ** and calls such as exp(x), "
         "max(a, b). See `gradtrace ops` for every function. Example: \"1/(1+exp(-x))\"")]
AtOption = Annotated[Optional[list[str]], typer.Option(
    "--at", "-a", metavar="NAME=VALUE,...",
    help="Values of the inputs, name=value, comma-separated; repeatable. Inputs left out get "
         "a seeded default (shown in the output). Example: --at w=2,x=-1,b=-3",
    show_default=False)]
WrtOption = Annotated[Optional[str], typer.Option(
    "--wrt", metavar="NAMES", help="Only these inputs' gradients, comma-separated. Example: --wrt w,b",
    show_default=False)]
SeedOption = Annotated[int, typer.Option(
    "--seed", metavar="N", min=0,
    help="Seed of everything random here (default input values, random points, weights, "
         "data); the same seed gives the same output. Example: --seed 7")]
GradOutputOption = Annotated[Optional[str], typer.Option(
    "--grad-output", metavar="VALUE",
    help="The output's gradient that backprop starts from (PyTorch's backward(gradient=...)), "
         "needed when the output is not a single number: the gradients are then those of "
         "Σ grad_output ⊙ f. Written as an --at value: a list, a generator, or a number for "
         "every element. Example: --grad-output [1,0,0] (the gradients of f[0]) or "
         "--grad-output 'ones(3)' (of sum(f))", show_default=False)]
PrecisionOption = Annotated[int, typer.Option(
    "--precision", "-p", min=0, max=12, metavar="N",
    help="Decimals shown (2, as in the course notes; JSON always keeps full precision). "
         "Example: --precision 4")]
FuseOption = Annotated[bool, typer.Option(
    "--fuse", help="Collapse recognised composites into one gate, e.g. 1/(1+exp(-z)) into a "
                   "sigmoid gate with local gradient σ(1−σ).")]


def format_option(json_help: str):
    """--format, with what this command's JSON holds."""
    return Annotated[Format, typer.Option(
        "--format", "-f", metavar="rich|text|markdown|latex|json",
        help="rich: coloured tables in a terminal (plain text when piped or NO_COLOR is set); "
             "text: plain text; markdown: to paste into notes; latex: a document for slides "
             "and exams (steps as align*, tables as booktabs) that compiles with pdflatex; "
             f"json: {json_help} Example: --format json")]


def widths(text: str, parameter: str = "layers") -> list[int]:
    """'4,5,3' → [4, 5, 3]: layer widths from input to output, at least two, each 1 or more."""
    try:
        sizes = [int(part) for part in text.split(",")]  # an empty width (2,,1) is refused
    except ValueError:
        sizes = []
    if len(sizes) < 2 or min(sizes) < 1:
        raise UsageError(_("{text}: give at least an input and an output width, whole numbers of 1 "
                           "or more separated by commas, e.g. 4,5,3", text=text), parameter)
    return sizes


def dims(text: str, parameter: str, count: int | None = None, example: str = "2x3") -> tuple:
    """'1x8x8' → (1, 8, 8): whole numbers of 1 or more joined by x (exactly `count` of them)."""
    try:
        found = tuple(int(part) for part in text.lower().split("x"))
    except ValueError:
        found = ()
    if not found or min(found) < 1 or (count is not None and len(found) != count):
        if count:
            raise UsageError(_("{text}: write {count} whole numbers of 1 or more joined by x, "
                               "e.g. {example}", text=text, count=count, example=example),
                             parameter)
        raise UsageError(_("{text}: write whole numbers of 1 or more joined by x, e.g. "
                           "{example}", text=text, example=example), parameter)
    return found


def check_pictures(svg: Optional[Path], plot: Optional[Path] = None,
                   svg_parameter: str = "svg") -> None:
    """--svg (any format write_graph knows: .svg, .png, .dot) and --plot (.png or .svg)."""
    if svg is not None:  # the renderers load only when a picture is asked for (start-up)
        from ..render.image import FORMAT_OF_SUFFIX

        check_picture(svg, svg_parameter, tuple(FORMAT_OF_SUFFIX))
    check_picture(plot, "plot")
    if plot is not None:
        can_plot("plot")


def check_picture(path: Optional[Path], parameter: str, suffixes=None) -> None:
    """A picture's name must say its format and its folder must exist: checked before any
    work is done, so a bad name costs nothing."""
    if path is None:
        return
    from ..render.plots import FORMATS

    suffixes = FORMATS if suffixes is None else suffixes
    if path.suffix.lower() not in suffixes:
        raise UsageError(_("{path}: the name must end in {listed}",
                           path=path, listed=_(", ").join(suffixes)), parameter)
    writable(path, parameter)


def can_plot(parameter: str) -> None:
    """matplotlib is there to draw with: checked before the work, naming the option."""
    from ..render.plots import PlottingUnavailable, check_available

    try:
        check_available()
    except PlottingUnavailable as error:
        raise UsageError(str(error), parameter) from None


def writable(path: Path, parameter: str) -> None:
    """The file can be written (its folder exists and takes a new file): checked before any
    work, as a usage error naming the option."""
    from ..render.image import WriteError, check_writable

    try:
        check_writable(path)
    except WriteError as error:
        raise UsageError(str(error), parameter) from None
