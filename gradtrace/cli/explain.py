"""`gradtrace explain`: the whole story of one expression."""

import enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..core.i18n import _
from ..core.errors import UsageError
from .common import EXIT_PROBLEM, Format, command_app, error_boundary, progress_bar, show
from .options import (AtOption, ExpressionArgument, FuseOption, GradOutputOption,
                      PrecisionOption, SeedOption, WrtOption, check_pictures, format_option)
from .pages import AnswersOption, HtmlOption, QuizOption, check_pages, write_trace_pages

app = command_app()

EXAMPLES = """
\b
Examples:
  gradtrace explain "1/(1+exp(-(w*x+b)))" --at w=2,x=-1,b=-3 --svg sigmoid.svg
  gradtrace explain "1/(1+exp(-(w*x+b)))" --at w=2,x=-1,b=-3 --html sigmoid.html  # step it
  gradtrace explain "tanh(w*x+b)" --seed 7 --html quiz.html --quiz grads --answers key.txt
  gradtrace explain "1/(1+exp(-(w*x+b)))" --at w=2,x=-1,b=-3 --format latex > sigmoid.tex
  gradtrace explain "(w*x+b-y)**2/2" --at x=1.5,w=0.8,b=0.2,y=0.8 --format markdown
  gradtrace explain "1/(1+exp(-(w*x+b)))" --fuse        # one sigmoid gate, σ(1−σ)
  gradtrace explain "max(x, y) * z" --wrt x,z --format json
  gradtrace explain "1/(1+exp(-(w*x+b)))" --mode forward   # tangents flow with the values
  gradtrace explain "softmax(a)" --at "a=[1,2,3]" --grad-output "[1,0,0]"   # of softmax(a)[0]
"""


class Mode(str, enum.Enum):
    reverse = "reverse"
    forward = "forward"


@app.command(epilog=EXAMPLES)
@error_boundary
def explain(
    expression: ExpressionArgument,
    at: AtOption = None,
    wrt: WrtOption = None,
    seed: SeedOption = 0,
    output_format: format_option("the whole trace (schema gradtrace.trace/1).") = Format.rich,
    precision: PrecisionOption = 2,
    svg: Annotated[Optional[Path], typer.Option(
        "--svg", metavar="PATH",
        help="Also draw the annotated graph (values green, gradients red) to this file; .png "
             "and .dot work too. Example: --svg sigmoid.svg",
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
    grad_output: GradOutputOption = None,
    html: HtmlOption = None,
    quiz: QuizOption = None,
    answers: AnswersOption = None,
) -> None:
    """Trace EXPRESSION forward and backward and explain every step.

    Prints the computation graph (each node at most two inputs), every forward value, every
    backward step as upstream × local = downstream, the chain rule path by path, and each
    gradient checked three ways. Exit code 0 when all is well, 1 when a value is not finite or
    a check disagrees, 2 for a usage or parse error. An output that is not a single number
    needs --grad-output (or sum(...), or an element: f[0]).
    """
    from ..expr.pipeline import explain as run_explain
    from ..expr.point import parse_assignments

    check_pictures(svg)
    check_pages(html, quiz, answers)
    point = parse_assignments(at or [], seed)
    if mode is Mode.forward:
        if jacobians:
            raise UsageError(_("shows the Jacobian of each backward step, and forward mode takes "
                             "none: its steps are JVPs, shown as they are. Use --mode reverse "
                             "with --jacobians, or `gradtrace jacobian` for the whole Jacobian "
                             "built both ways"), "jacobians")
        if grad_output is not None and svg is None and html is None:
            raise UsageError(_("forward mode starts from each input's tangent, not from an output "
                             "gradient (reverse mode does, and --svg draws its gradients)"),
                             "grad_output")
        if svg or html or answers:  # the pictures need the values and gradients only; first, so
            # a usage error (an array output with no gradient) comes before any output
            trace = run_explain(expression, point, wrt, seed=seed, fuse=fuse, check=False,
                                grad_output=grad_output)
        ok = _explain_forward(expression, point, wrt, seed, fuse, output_format, precision)
    else:
        trace = run_explain(expression, point, wrt, seed=seed, fuse=fuse, check=check,
                            grad_output=grad_output)
        _show_trace(trace, output_format, precision, jacobians)
        ok = trace.ok
    if svg is not None:
        from ..render.image import write_picture

        written = write_picture(trace, svg, precision)
        if written.note:
            typer.echo(_("note: {note}", note=written.note), err=True)
        typer.echo(_("wrote {path}", path=written.path), err=True)
    if html is not None or answers is not None:
        write_trace_pages(trace, html, quiz, answers, precision)
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

    with progress_bar(None, _("forward passes"), unit=_("forward passes"),
                      parameter="wrt") as advance:
        report = explain_forward(expression, at, wrt, seed=seed, fuse=fuse, progress=advance)
    show(output_format, lambda: forward_sections(report, precision),
         lambda: forward_json(report))
    return report.ok
