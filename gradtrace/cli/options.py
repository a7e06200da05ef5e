"""Options several commands share, declared once with their help text, and the readers of the
values several commands take (layer widths, shapes written 2x3x6x6)."""

from typing import Annotated, Optional

import typer

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
        "--format", "-f", metavar="rich|text|markdown|json",
        help="rich: coloured tables in a terminal (plain text when piped or NO_COLOR is set); "
             f"text: plain text; markdown: to paste into notes; json: {json_help} "
             "Example: --format json")]


def widths(text: str, parameter: str = "layers") -> list[int]:
    """'4,5,3' → [4, 5, 3]: layer widths from input to output, at least two, each 1 or more."""
    try:
        sizes = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        sizes = []
    if len(sizes) < 2 or min(sizes) < 1:
        raise UsageError(f"{text}: give at least an input and an output width, whole numbers "
                         "of 1 or more separated by commas, e.g. 4,5,3", parameter)
    return sizes


def dims(text: str, parameter: str, count: int | None = None, example: str = "2x3") -> tuple:
    """'1x8x8' → (1, 8, 8): whole numbers of 1 or more joined by x (exactly `count` of them)."""
    try:
        found = tuple(int(part) for part in text.lower().split("x"))
    except ValueError:
        found = ()
    if not found or min(found) < 1 or (count is not None and len(found) != count):
        many = f"{count} whole numbers" if count else "whole numbers"
        raise UsageError(f"{text}: write {many} of 1 or more joined by x, e.g. {example}",
                         parameter)
    return found
