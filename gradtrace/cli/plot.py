"""`gradtrace plot`: a function of one input and its derivative over a range, drawn."""

from pathlib import Path
from typing import Annotated, Optional

import typer

from ..core.i18n import _, ngettext
from .common import EXIT_PROBLEM, command_app, error_boundary, picture_words
from .options import AtOption, ExpressionArgument, SeedOption, can_plot, check_picture

app = command_app()

EXAMPLES = """
\b
Examples:
  gradtrace plot "relu(x)" -o relu.png                   # x from -8 to 8
  gradtrace plot "sigmoid(x)" --at "x=arange(-8,8,0.1)" -o sigmoid.svg
  gradtrace plot "tanh(a*x)" --at a=2 --wrt x -o tanh.png
"""


@app.command(epilog=EXAMPLES)
@error_boundary
def plot(
    expression: ExpressionArgument,
    output: Annotated[Path, typer.Option(
        "--output", "-o", metavar="PATH",
        help="Picture to write, .png or .svg. Example: -o relu.png", show_default=False)],
    at: AtOption = None,
    wrt: Annotated[Optional[str], typer.Option(
        "--wrt", metavar="NAME",
        help="The input on the horizontal axis; needed when the expression has more than one "
             "(the others take their --at values). Example: --wrt x", show_default=False)] = None,
    seed: SeedOption = 0,
) -> None:
    """Draw EXPRESSION and its derivative over a range of one input, as the course figures
    draw an activation beside its gradient. The input takes its --at values (a list such as
    arange(-8,8,0.1) or linspace(-8,8,321)); -8 to 8 when none is given. The expression must
    be elementwise in that input.
    """
    import numpy as np

    from ..expr.pipeline import curve
    from ..expr.point import parse_assignments
    from ..core.errors import UsageError
    from ..narrate.numbers import fmt
    from ..render.plots import DRAWABLE, curve_lines, function_and_derivative

    check_picture(output, "output")
    can_plot("output")
    result = curve(expression, parse_assignments(at or [], seed), wrt, seed=seed)
    if not np.all(np.isfinite(result.x)):
        held = [word for word, found in (("nan", np.isnan(result.x)), ("inf", np.isinf(result.x)))
                if np.any(found)]
        raise UsageError(_("{name} holds {values} (written so, or made by a range so wide it "
                           "overflows): give finite numbers within about ±{limit}",
                           name=result.input, values=_(" and ").join(held),
                           limit=fmt(DRAWABLE)), "at")
    widest = np.max(np.abs(result.x)) if result.x.size else 0.0
    if widest > DRAWABLE:
        raise UsageError(_("{name} reaches {value}: a picture's axis holds numbers up to about "
                           "{limit}; give a range within that", name=result.input,
                           value=fmt(widest), limit=fmt(DRAWABLE)), "at")
    lines = curve_lines(result)
    with picture_words():
        written = function_and_derivative(result, output, lines)
    typer.echo(_("wrote {path}", path=written), err=True)
    labels = (f"f = {result.expression}", f"df/d{result.input}")
    for what, jumps in zip(labels, (lines.value_breaks, lines.slope_breaks)):
        if len(jumps):
            places = _(", ").join(f"{fmt(result.x[i])} … {fmt(result.x[i + 1])}"
                                  for i in jumps[:3])
            typer.echo(ngettext(
                "{what} leaves the picture at one edge and comes back at the other between "
                "{name} = {places} (a pole between two samples?): the line is broken there",
                "{what} leaves the picture at one edge and comes back at the other several "
                "times, first between {name} = {places} (poles between samples?): the line "
                "is broken at each", len(jumps), what=what, name=result.input,
                places=places), err=True)
    if lines.window is not None:
        low, high = lines.window
        typer.echo(_("the y-axis shows {low} to {high}: a few values of f or df/d{name} lie "
                     "far outside and would flatten the rest of the curve (give a narrower "
                     "--at range to see them)", low=f"{low:.3g}", high=f"{high:.3g}",
                     name=result.input), err=True)
    # the slope is not looked at where f itself is undefined
    series = tuple(zip(labels, (result.value,
                                np.where(np.isnan(result.value), 0.0, result.derivative))))
    gaps = [_gap(what, values, result) for what, values in series]
    gaps += [_too_large(what, values, result, DRAWABLE) for what, values in series]
    gaps = [gap for gap in gaps if gap]
    if gaps:
        for gap in gaps:
            typer.echo(gap, err=True)
        raise typer.Exit(EXIT_PROBLEM)  # drawn, with gaps: said, and exit 1 as explain does


def _gap(what: str, values, result) -> str:
    """Where `values` are not finite, in a line (the picture leaves a gap there), or ""."""
    import numpy as np

    count, low, high = _span(result, ~np.isfinite(values))
    if not count:
        return ""
    if low == high:
        return _("{what} is not finite at {name} = {at}; the picture leaves a gap there",
                 what=what, name=result.input, at=low)
    return _("{what} is not finite at {count} of {total} points ({name} from {low} to {high}); "
             "the picture leaves a gap there", what=what, count=count,
             total=values.size, name=result.input, low=low, high=high)


def _too_large(what: str, values, result, limit: float) -> str:
    """Where finite `values` are too large to draw, in a line (a gap in the picture), or ""."""
    import numpy as np

    from ..narrate.numbers import fmt

    with np.errstate(invalid="ignore"):
        count, low, high = _span(result, np.isfinite(values) & (np.abs(values) > limit))
    if not count:
        return ""
    return _("{what} is beyond ±{limit} at {count} of {total} points ({name} from {low} to "
             "{high}); the picture leaves a gap there", what=what, limit=fmt(limit),
             count=count, total=values.size, name=result.input, low=low, high=high)


def _span(result, where) -> tuple[int, str, str]:
    """How many points `where` marks, and the first and last of them along the input."""
    from ..narrate.numbers import fmt

    count = int(where.sum())
    if not count:
        return 0, "", ""
    marked = result.x[where]
    return count, fmt(marked.min()), fmt(marked.max())
