"""`gradtrace graph`: draw the annotated computation graph to a file."""

from pathlib import Path
from typing import Annotated

import typer

from ..core.i18n import _
from .common import command_app, error_boundary
from .options import (AtOption, ExpressionArgument, FuseOption, GradOutputOption,
                      PrecisionOption, SeedOption, check_pictures)

app = command_app()

EXAMPLES = """
\b
Examples:
  gradtrace graph "1/(1+exp(-(w*x+b)))" --at w=2,x=-1,b=-3 -o sigmoid.svg
  gradtrace graph "1/(1+exp(-(w*x+b)))" --fuse -o fused.png
  gradtrace graph "(w*x+b-y)**2/2" -o regression.dot     # Graphviz source only
"""


@app.command(epilog=EXAMPLES)
@error_boundary
def graph(
    expression: ExpressionArgument,
    output: Annotated[Path, typer.Option(
        "--output", "-o", metavar="PATH",
        help="File to write; the format comes from the extension: .svg, .png or .dot (Graphviz "
             "source). Example: -o sigmoid.svg",
        show_default=False)],
    at: AtOption = None,
    seed: SeedOption = 0,
    fuse: FuseOption = False,
    precision: PrecisionOption = 2,
    grad_output: GradOutputOption = None,
) -> None:
    """Draw EXPRESSION's computation graph, left to right: op nodes as circles, value nodes
    with their name, forward value (green) and gradient (red), as in the course figures.

    SVG and PNG need a Graphviz layout engine: the system `dot` if installed, otherwise the
    `graphviz-pure` program that `pip install gradtrace` brings along. The file is written
    atomically: a failure never leaves a partial file.
    """
    from ..expr.pipeline import explain as run_explain
    from ..expr.point import parse_assignments
    from ..render.image import write_picture

    check_pictures(output, svg_parameter="output")
    trace = run_explain(expression, parse_assignments(at or [], seed), seed=seed, fuse=fuse,
                        check=False, grad_output=grad_output)
    written = write_picture(trace, output, precision)
    if written.note:
        typer.echo(_("note: {note}", note=written.note), err=True)
    typer.echo(_("wrote {path}", path=written.path), err=True)
