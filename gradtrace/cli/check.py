"""`gradtrace check`: the three-way gradient comparison at many random points."""

from typing import Annotated, Optional

import typer

from ..core.i18n import _
from .common import EXIT_PROBLEM, Format, command_app, error_boundary, progress_bar, show
from .options import (AtOption, ExpressionArgument, FuseOption, PrecisionOption, SeedOption,
                      WrtOption, format_option)

app = command_app()

EXAMPLES = """
\b
Examples:
  gradtrace check "1/(1+exp(-(w*x+b)))" --samples 100 --seed 1
  gradtrace check "log(x)*y" --low 0.1 --high 3
  gradtrace check "(y-sigmoid(w*a))**2/2" --claim "w=(y-sigmoid(w*a))*sigmoid(w*a)*(1-sigmoid(w*a))*a"  # exits 1: the sign slip
"""


@app.command(epilog=EXAMPLES)
@error_boundary
def check(
    expression: ExpressionArgument,
    samples: Annotated[int, typer.Option(
        "--samples", "-n", min=1, max=100_000, metavar="N",
        help="How many random points. Example: --samples 200")] = 20,
    seed: SeedOption = 0,
    low: Annotated[float, typer.Option(
        "--low", metavar="X", help="Inputs are drawn uniformly from [low, high]. Example: --low 0.1")] = -2.0,
    high: Annotated[float, typer.Option("--high", metavar="X", help="See --low. Example: --high 5")] = 2.0,
    at: AtOption = None,
    wrt: WrtOption = None,
    claim: Annotated[Optional[list[str]], typer.Option(
        "--claim", metavar="NAME=FORMULA",
        help="A hand-derived gradient to test against the traced one at every point, "
             "NAME=FORMULA; repeatable. Example: --claim 'x=2*x'", show_default=False)] = None,
    fuse: FuseOption = False,
    output_format: format_option("per input, how often the three ways agreed, and each "
                                 "claim's verdict (schema gradtrace.check/1).") = Format.rich,
    precision: PrecisionOption = 2,
) -> None:
    """Compare traced, symbolic and finite-difference gradients at random points.

    Each input is drawn uniformly from [--low, --high] (inputs given with --at stay fixed); at
    every point each gradient is traced, differentiated by SymPy and estimated by central
    differences. Points where the function is not differentiable (relu at 0, a max tie) are
    counted apart, not as failures, as are points where no other way could give a value
    ("not checked"). Exit code 1 if any point disagrees or a --claim is wrong.
    """
    from ..expr.pipeline import check_at_random_points
    from ..expr.point import parse_assignments
    from ..narrate.random_points import check_sections
    from ..render.json_reports import check_json

    fixed = parse_assignments(at or [], seed)
    with progress_bar(samples, _("checking points"), minimum=50, unit=_("points"),
                      parameter="samples") as advance:
        report = check_at_random_points(expression, samples, seed, low, high, fixed, wrt,
                                        claim or (), fuse, progress=advance)
    show(output_format, lambda: check_sections(report, precision), lambda: check_json(report))
    if not report.ok:
        raise typer.Exit(EXIT_PROBLEM)
