"""`gradtrace jacobian`: the whole Jacobian of an output with respect to one input, built in
reverse mode and in forward mode, with the passes and the time each took."""

from typing import Annotated, Optional

import typer

from .common import EXIT_PROBLEM, Format, command_app, error_boundary, print_output, render_sections
from .options import AtOption, ExpressionArgument, PrecisionOption, SeedOption

app = command_app()

EXAMPLES = """
\b
Examples:
  gradtrace jacobian "tanh(W@x)" --wrt x --at "W=randn(3,4)" --at "x=randn(4)"
  gradtrace jacobian "softmax(z)" --at "z=[1,2,3]" --format markdown
  gradtrace jacobian "sum(tanh(W@x))" --wrt W --at "W=randn(100,100),x=randn(100)"
"""

AGREEMENT = 1e-9  # the two modes must agree to this, relative to the largest entry


@app.command(epilog=EXAMPLES, context_settings={"ignore_unknown_options": True})
@error_boundary
def jacobian(
    expression: ExpressionArgument,
    wrt: Annotated[Optional[str], typer.Option(
        "--wrt", metavar="NAME",
        help="The input to differentiate with respect to; needed when the expression has "
             "more than one input. Example: --wrt x", show_default=False)] = None,
    at: AtOption = None,
    seed: SeedOption = 0,
    output_format: Annotated[Format, typer.Option(
        "--format", "-f", metavar="rich|text|markdown|json",
        help="rich or text: the Jacobian as a table (its sparsity picture when large); "
             "markdown: the same to paste into notes; json: {jacobian, shape, passes, "
             "seconds, ...} (schema gradtrace.jacobian/1). Example: --format json")
    ] = Format.rich,
    precision: PrecisionOption = 2,
) -> None:
    """Build the Jacobian ∂f/∂x of EXPRESSION's output f with respect to the input x, twice.

    Reverse mode runs one backward pass (a VJP) per output element and gets J row by row;
    forward mode runs one forward pass (a JVP) per input element and gets it column by column.
    Both are shown with their pass counts and times, and compared. Exit code 1 if an entry is
    not finite or the two disagree, 2 for a usage or parse error.
    """
    from ..tracer.jacobian import explain_jacobian
    from ..tracer.values import parse_assignments

    report = explain_jacobian(expression, parse_assignments(at or [], seed), wrt, seed=seed)
    print_output(_render(report, output_format, precision))
    if not _agree(report.jacobian):
        raise typer.Exit(EXIT_PROBLEM)


def _agree(result) -> bool:
    import numpy as np

    if not (np.all(np.isfinite(result.reverse)) and np.all(np.isfinite(result.forward))):
        return False
    largest = float(np.max(np.abs(result.reverse))) if result.reverse.size else 0.0
    return result.max_difference <= AGREEMENT * max(1.0, largest)


def _render(report, output_format: Format, precision: int) -> str:
    from ..render import full_jacobian

    if output_format is Format.json:
        return full_jacobian.render_jacobian_json(report)
    story = full_jacobian.jacobian_sections(report, precision)
    return render_sections(story, output_format)
