"""`gradtrace explain`: the whole story of one expression."""

import enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from .common import EXIT_PROBLEM, Format, command_app, error_boundary, print_output, wants_colour
from .options import ExpressionArgument, AtOption, FuseOption, PrecisionOption, SeedOption, WrtOption

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
    output_format: Annotated[Format, typer.Option(
        "--format", "-f", metavar="rich|text|markdown|json",
        help="rich: coloured tables in a terminal (plain text when piped or NO_COLOR is set); "
             "text: plain text; markdown: tables to paste into notes; json: the whole trace "
             "(schema gradtrace.trace/1). Example: --format markdown")] = Format.rich,
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
    from ..tracer.explain import explain as run_explain
    from ..tracer.values import parse_assignments

    point = parse_assignments(at or [], seed)
    if mode is Mode.forward:
        ok = _explain_forward(expression, point, wrt, seed, fuse, output_format, precision)
    else:
        trace = run_explain(expression, point, wrt, seed=seed, fuse=fuse, check=check)
        views = None
        if jacobians:
            from ..tracer.jacobian import jacobian_views

            views = jacobian_views(trace)
        print_output(render(trace, output_format, precision, views))
        ok = trace.ok
    if svg is not None:
        if mode is Mode.forward:  # the drawing needs the values and gradients only
            trace = run_explain(expression, point, wrt, seed=seed, fuse=fuse, check=False)
        from ..render.image import write_graph

        written = write_graph(trace, svg, precision)
        typer.echo(f"wrote {written}", err=True)
    if not ok:
        raise typer.Exit(EXIT_PROBLEM)


def _explain_forward(expression, at, wrt, seed, fuse, output_format, precision) -> bool:
    """Forward mode narrated; True when every value and derivative is finite."""
    from ..render import forward_mode, sections
    from ..tracer.forward_mode import explain_forward

    report = explain_forward(expression, at, wrt, seed=seed, fuse=fuse)
    if output_format is Format.json:
        print_output(forward_mode.render_forward_json(report))
        return forward_mode.forward_ok(report)
    story = forward_mode.forward_sections(report, precision)
    if output_format is Format.markdown:
        print_output(sections.render_markdown(story))
    elif wants_colour(output_format):
        from rich.console import Console

        sections.render_rich(story, Console(highlight=False))
    else:
        print_output(sections.render_plain(story))
    return forward_mode.forward_ok(report)


def render(trace, output_format: Format, precision: int, jacobians=None) -> str:
    """The trace in the asked format; the rich one goes straight to the terminal.
    `jacobians`: JacobianViews to show (None: no Jacobian section)."""
    if output_format is Format.json:
        from ..render.json import render_json

        return render_json(trace, jacobians)
    if output_format is Format.markdown:
        from ..render.markdown import render_markdown

        return render_markdown(trace, precision=precision, jacobians=jacobians)
    if wants_colour(output_format):
        from rich.console import Console

        from ..render.text import render_rich

        render_rich(trace, Console(highlight=False), precision=precision, jacobians=jacobians)
        return ""
    from ..render.text import render_plain

    return render_plain(trace, precision=precision, jacobians=jacobians)
