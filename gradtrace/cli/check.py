"""`gradtrace check`: the three-way gradient comparison at many random points."""

import sys
from typing import Annotated, Optional

import typer

from .common import EXIT_PROBLEM, Format, command_app, error_boundary, print_output, wants_colour
from .options import ExpressionArgument, AtOption, FuseOption, PrecisionOption, WrtOption

app = command_app()

EXAMPLES = """
\b
Examples:
  gradtrace check "1/(1+exp(-(w*x+b)))" --samples 100 --seed 1
  gradtrace check "log(x)*y" --low 0.1 --high 3
  gradtrace check "(y-sigmoid(w*a))**2/2" --claim "w=(y-sigmoid(w*a))*sigmoid(w*a)*(1-sigmoid(w*a))*a"
"""


@app.command(epilog=EXAMPLES, context_settings={"ignore_unknown_options": True})
@error_boundary
def check(
    expression: ExpressionArgument,
    samples: Annotated[int, typer.Option(
        "--samples", "-n", min=1, max=100_000, metavar="N",
        help="How many random points. Example: --samples 200")] = 20,
    seed: Annotated[int, typer.Option(
        "--seed", metavar="N", help="Seed of the random points; same seed, same points. Example: --seed 3")
    ] = 0,
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
    output_format: Annotated[Format, typer.Option(
        "--format", "-f", metavar="rich|text|markdown|json", help="rich, text, markdown or json. Example: --format json")
    ] = Format.rich,
    precision: PrecisionOption = 2,
) -> None:
    """Compare traced, symbolic and finite-difference gradients at random points.

    Each input is drawn uniformly from [--low, --high] (inputs given with --at stay fixed); at
    every point each gradient is traced, differentiated by SymPy and estimated by central
    differences. Points where the function is not differentiable (relu at 0, a max tie) are
    counted apart, not as failures. Exit code 1 if any point disagrees or a --claim is wrong.
    """
    from ..tracer.sampling import check_samples
    from ..tracer.values import parse_assignments

    fixed = parse_assignments(at or [], seed)
    with _progress_bar(samples) as advance:
        report = check_samples(expression, samples, seed, low, high, fixed, wrt,
                               claim or (), fuse, progress=advance)
    print_output(_render(report, output_format, precision))
    if not report.ok:
        raise typer.Exit(EXIT_PROBLEM)


def _render(report, output_format: Format, precision: int) -> str:
    from ..render import sampling

    if output_format is Format.json:
        return sampling.report_json(report)
    if output_format is Format.markdown:
        return sampling.report_markdown(report, precision)
    if wants_colour(output_format):
        from rich.console import Console

        sampling.report_rich(report, Console(highlight=False), precision)
        return ""
    return sampling.report_plain(report, precision)


class _progress_bar:
    """A progress bar on stderr for long runs in a terminal; silent otherwise."""

    def __init__(self, total: int):
        self.total = total
        self.progress = None

    def __enter__(self):
        if self.total < 50 or not sys.stderr.isatty():
            return None
        from rich.console import Console
        from rich.progress import Progress

        self.progress = Progress(console=Console(stderr=True), transient=True)
        self.progress.start()
        task = self.progress.add_task("checking points", total=self.total)
        return lambda: self.progress.advance(task)

    def __exit__(self, *exc):
        if self.progress is not None:
            self.progress.stop()
        return False
