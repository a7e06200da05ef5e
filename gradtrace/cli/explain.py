"""`gradtrace explain`: the whole story of one expression."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from .common import EXIT_PROBLEM, Format, error_boundary, print_output, wants_colour
from .options import ExpressionArgument, AtOption, FuseOption, PrecisionOption, SeedOption, WrtOption

app = typer.Typer()

EXAMPLES = """
\b
Examples:
  gradtrace explain "1/(1+exp(-(w*x+b)))" --at w=2,x=-1,b=-3 --svg sigmoid.svg
  gradtrace explain "(w*x+b-y)**2/2" --at x=1.5,w=0.8,b=0.2,y=0.8 --format markdown
  gradtrace explain "1/(1+exp(-(w*x+b)))" --fuse        # one sigmoid gate, σ(1−σ)
  gradtrace explain "max(x, y) * z" --wrt x,z --format json
"""


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
) -> None:
    """Trace EXPRESSION forward and backward and explain every step.

    Prints the computation graph (each node at most two inputs), every forward value, every
    backward step as upstream × local = downstream, the chain rule path by path, and each
    gradient checked three ways. Exit code 0 when all is well, 1 when a value is not finite or
    a check disagrees, 2 for a usage or parse error.
    """
    from ..tracer.explain import explain as run_explain
    from ..tracer.values import parse_assignments

    trace = run_explain(expression, parse_assignments(at or []), wrt, seed=seed, fuse=fuse,
                        check=check)
    print_output(render(trace, output_format, precision))
    if svg is not None:
        from ..render.image import write_graph

        written = write_graph(trace, svg, precision)
        typer.echo(f"wrote {written}", err=True)
    if not trace.ok:
        raise typer.Exit(EXIT_PROBLEM)


def render(trace, output_format: Format, precision: int) -> str:
    """The trace in the asked format; the rich one goes straight to the terminal."""
    if output_format is Format.json:
        from ..render.json import render_json

        return render_json(trace)
    if output_format is Format.markdown:
        from ..render.markdown import render_markdown

        return render_markdown(trace, precision=precision)
    if wants_colour(output_format):
        from rich.console import Console

        from ..render.text import render_rich

        render_rich(trace, Console(highlight=False), precision=precision)
        return ""
    from ..render.text import render_plain

    return render_plain(trace, precision=precision)
