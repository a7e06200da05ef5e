"""Options several commands share, declared once with their help text."""

from typing import Annotated, Optional

import typer

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
    "--seed", metavar="N", help="Seed for default input values (and random points). Example: --seed 7")]
PrecisionOption = Annotated[int, typer.Option(
    "--precision", "-p", min=0, max=12, metavar="N",
    help="Decimals shown (2, as in the course notes; JSON always keeps full precision). "
         "Example: --precision 4")]
FuseOption = Annotated[bool, typer.Option(
    "--fuse", help="Collapse recognised composites into one gate, e.g. 1/(1+exp(-z)) into a "
                   "sigmoid gate with local gradient σ(1−σ).")]
