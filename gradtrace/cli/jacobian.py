"""`gradtrace jacobian`: the whole Jacobian of an output with respect to one input, built in
reverse mode and in forward mode, with the passes each took (and, asked, the time)."""

from typing import Annotated, Optional

import typer

from ..core.i18n import _
from .common import EXIT_PROBLEM, Format, command_app, error_boundary, progress_bar, show
from .options import AtOption, ExpressionArgument, PrecisionOption, SeedOption, format_option

app = command_app()

EXAMPLES = """
\b
Examples:
  gradtrace jacobian "tanh(W@x)" --wrt x --at "W=randn(3,4)" --at "x=randn(4)"
  gradtrace jacobian "softmax(z)" --at "z=[1,2,3]" --format markdown
  gradtrace jacobian "sum(tanh(W@x))" --wrt W --at "W=randn(100,100),x=randn(100)"
"""

AGREEMENT = 1e-9  # the two modes must agree to this, relative to the largest entry


@app.command(epilog=EXAMPLES)
@error_boundary
def jacobian(
    expression: ExpressionArgument,
    wrt: Annotated[Optional[str], typer.Option(
        "--wrt", metavar="NAME",
        help="The input to differentiate with respect to; needed when the expression has "
             "more than one input. Example: --wrt x", show_default=False)] = None,
    at: AtOption = None,
    seed: SeedOption = 0,
    output_format: format_option("{jacobian, shape, passes, ...} (schema "
                                 "gradtrace.jacobian/1).") = Format.rich,
    precision: PrecisionOption = 2,
    times: Annotated[bool, typer.Option(
        "--times", help="Also show how long each mode took (JSON: \"seconds\"). Off by "
                        "default so that the same input gives the same bytes.")] = False,
) -> None:
    """Build the Jacobian ∂f/∂x of EXPRESSION's output f with respect to the input x, twice.

    Reverse mode runs one backward pass (a VJP) per output element and gets J row by row;
    forward mode runs one forward pass (a JVP) per input element and gets it column by column.
    Both are shown with their pass counts (and with --times, how long each took), and compared. Exit code 1 if an entry is
    not finite or the two disagree, 2 for a usage or parse error.
    """
    from ..expr.pipeline import explain_jacobian
    from ..expr.point import parse_assignments
    from ..narrate.full_jacobian import jacobian_sections
    from ..render.json_reports import jacobian_json

    with progress_bar(None, _("building the Jacobian"), unit=_("passes")) as advance:
        report = explain_jacobian(expression, parse_assignments(at or [], seed), wrt, seed=seed,
                                  progress=advance)
    show(output_format, lambda: jacobian_sections(report, precision, times),
         lambda: jacobian_json(report, times))
    if not _agree(report.jacobian):
        raise typer.Exit(EXIT_PROBLEM)


def _agree(result) -> bool:
    import numpy as np

    if not (np.all(np.isfinite(result.reverse)) and np.all(np.isfinite(result.forward))):
        return False
    largest = float(np.max(np.abs(result.reverse))) if result.reverse.size else 0.0
    return result.max_difference <= AGREEMENT * max(1.0, largest)
