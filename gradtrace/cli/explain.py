"""`gradtrace explain`: the whole story of one expression."""

import enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from .common import EXIT_PROBLEM, Format, command_app, error_boundary, show
from .options import (AtOption, ExpressionArgument, FuseOption, PrecisionOption, SeedOption,
                      WrtOption, format_option)

app = command_app()

EXAMPLES = """
\b
Examples:
  gradtrace explain "1/(1+exp(-(w*x+b)))" --at w=2,x=-1,b=-3 --svg sigmoid.svg
  gradtrace explain "(w*x+b-y)**2/2" --at x=1.5,w=0.8,b=0.2,y=0.8 --format markdown
  gradtrace explain "1/(1+exp(-(w*x+b)))" --fuse        # one sigmoid gate, σ(1−σ)
  gradtrace explain "max(x, y) * z" --wrt x,z --format json
  gradtrace explain "1/(1+exp(-(w*x+b)))" --mode forward   # tangents flow with the values
"""


class Mode(str, enum.Enum):
    reverse = "reverse"
    forward = "forward"


@app.command(epilog=EXAMPLES, context_settings={"ignore_unknown_options": True})
@error_boundary
def explain(
    expression: ExpressionArgument,
    at: AtOption = None,
    wrt: WrtOption = None,
    seed: SeedOption = 0,
    output_format: format_option("the whole trace (schema gradtrace.trace/1).") = Format.rich,
    precision: PrecisionOption = 2,
    svg: Annotated[Optional[Path], typer.Option(
        "--svg", metavar="PATH", help="Also draw the annotated graph (values green, gradients red) to this "
                      "file; .png works too. Example: --svg sigmoid.svg",
        show_default=False)] = None,
    fuse: FuseOption = False,
    check: Annotated[bool, typer.Option(
        "--check/--no-check",
        help="Check every gradient three ways: traced, symbolic (SymPy) and central finite "
             "differences. --no-check skips the second and third (faster).")] = True,
    jacobians: Annotated[bool, typer.Option(
        "--jacobians",
        help="Also show each backward step's Jacobian: its entries (up to 64) or its shape, "
             "structure and density, its sparsity pattern, and the VJP backprop computes "
             "instead, with the largest difference between the two.")] = False,
    mode: Annotated[Mode, typer.Option(
        "--mode", metavar="reverse|forward",
        help="reverse: backprop, one backward pass gives every gradient; forward: tangents "
             "flow forward with the values, one pass per input (--wrt picks which). Example: "
             "--mode forward")] = Mode.reverse,
) -> None:
    """Trace EXPRESSION forward and backward and explain every step.

    Prints the computation graph (each node at most two inputs), every forward value, every
    backward step as upstream × local = downstream, the chain rule path by path, and each
    gradient checked three ways. Exit code 0 when all is well, 1 when a value is not finite or
    a check disagrees, 2 for a usage or parse error.
    """
    from ..expr.pipeline import explain as run_explain
    from ..expr.point import parse_assignments

    point = parse_assignments(at or [], seed)
    if mode is Mode.forward:
        ok = _explain_forward(expression, point, wrt, seed, fuse, output_format, precision)
    else:
        trace = run_explain(expression, point, wrt, seed=seed, fuse=fuse, check=check)
        _show_trace(trace, output_format, precision, jacobians)
        ok = trace.ok
    if svg is not None:
        if mode is Mode.forward:  # the drawing needs the values and gradients only
            trace = run_explain(expression, point, wrt, seed=seed, fuse=fuse, check=False)
        from ..render.image import write_graph

        written = write_graph(trace, svg, precision)
        typer.echo(f"wrote {written}", err=True)
    if not ok:
        raise typer.Exit(EXIT_PROBLEM)


def _show_trace(trace, output_format: Format, precision: int, jacobians: bool) -> None:
    views = None
    if jacobians:
        from ..jacobians.local import jacobian_views

        views = jacobian_views(trace)

    def sections():
        from ..narrate.story import story

        return story(trace, precision, views)

    def document():
        from ..render.json import render_json

        return render_json(trace, views)

    show(output_format, sections, document)


def _explain_forward(expression, at, wrt, seed, fuse, output_format, precision) -> bool:
    """Forward mode narrated; True when every value and derivative is finite."""
    from ..expr.pipeline import explain_forward
    from ..narrate.forward_mode import forward_sections
    from ..render.json_reports import forward_json

    report = explain_forward(expression, at, wrt, seed=seed, fuse=fuse)
    show(output_format, lambda: forward_sections(report, precision),
         lambda: forward_json(report))
    return report.ok
