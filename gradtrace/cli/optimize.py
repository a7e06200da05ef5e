"""`gradtrace optimize`: several optimisers walk down the same function of two variables; their
final points in a table and their paths drawn on the contour plot."""

import math
from typing import Annotated, Optional

import typer

from ..core.i18n import _
from .common import (EXIT_PROBLEM, Format, command_app, error_boundary, picture_words,
                     progress_bar, show)
from .options import format_option
from .train import ImageFormat, ImageOption, check_folder

app = command_app()

EXAMPLES = """
\b
Examples:
  gradtrace optimize "x**2/20 + y**2" --opt sgd,momentum,adagrad,adam --start -7,2 --steps 30
  gradtrace optimize "x**2/20 + y**2" --opt sgd,adam --lr 0.1 --out pictures --image svg
  gradtrace optimize "(1-x)**2 + 100*(y-x**2)**2" --opt adam --lr adam=0.02 --start -1,1 --steps 500
"""


@app.command(epilog=EXAMPLES)
@error_boundary
def optimize(
    expression: Annotated[str, typer.Argument(
        metavar="EXPRESSION", show_default=False,
        help="A function of two variables, quoted. Example: \"x**2/20 + y**2\"")],
    opt: Annotated[str, typer.Option(
        "--opt", metavar="NAMES",
        help="Optimisers, comma-separated: sgd, momentum, nesterov, adagrad, rmsprop, adam, "
             "adamw. "
             "Example: --opt sgd,adam")] = "sgd,momentum,adagrad,adam",
    start: Annotated[str, typer.Option(
        "--start", metavar="X,Y", help="Where every optimiser starts. Example: --start -7,2")
    ] = "-7,2",
    steps: Annotated[int, typer.Option("--steps", min=1, max=100_000, metavar="N",
                                       help="Updates per optimiser. Example: --steps 30")] = 30,
    lr: Annotated[Optional[str], typer.Option(
        "--lr", metavar="RATE|NAME=RATE,...",
        help="Learning rate for all, or per optimiser. Default: the notes' source (Saito §6.1): "
             "sgd 0.95, momentum 0.1, adagrad 1.5, adam 0.3 (nesterov 0.1, rmsprop 0.1, adamw "
             "0.3). "
             "Example: --lr adam=0.1,sgd=0.5", show_default=False)] = None,
    out: Annotated[Optional[str], typer.Option(
        "--out", metavar="DIR", help="Folder for the picture paths.png (or .svg); none drawn "
                                     "without it. Example: --out pictures", show_default=False)
    ] = None,
    image: ImageOption = ImageFormat.png,
    output_format: format_option("{optimisers: [{name, lr, final, value, turns, path}]} "
                                 "(schema gradtrace.optimize/1).") = Format.rich,
) -> None:
    """Run each optimiser from the same start on EXPRESSION, a function f of two variables
    (gradients by gradtrace's own reverse pass), and show where each ended: the final point,
    f there, and how often it turned back along each axis (its zig-zags). With --out, draw
    every path on the contour plot of f.
    """

    import numpy as np

    from ..core.errors import UsageError
    from ..expr.pipeline import surface as make_surface
    from ..layers.descent import descend
    from ..narrate.training import optimize_sections
    from ..render.json_reports import optimize_json

    check_folder(out)
    surface = make_surface(expression)
    names = [name.strip().lower() for name in opt.split(",") if name.strip()]
    if not names:
        raise UsageError(_("needs at least one optimiser"), "opt")
    rates = _learning_rates(lr, names)
    point = _pair(start, "start")
    with np.errstate(all="ignore"):
        at_start = float(surface.value(np.float64(point[0]), np.float64(point[1])))
    if not math.isfinite(at_start):
        raise UsageError(_("f is {value} at ({x}, {y}): start where f is a finite number",
                           value=at_start, x=f"{point[0]:g}", y=f"{point[1]:g}"), "start")
    with progress_bar(steps * len(names), _("descending"), unit=_("updates"),
                      parameter="steps") as advance:
        done = 0

        def progress(count: int) -> None:
            nonlocal done
            done += count
            advance(done)

        paths = [descend(surface, name, rates[name], point, steps, progress) for name in names]
    show(output_format, lambda: optimize_sections(surface, paths),
         lambda: optimize_json(surface, paths))
    if out is not None:
        _draw(surface, paths, out, image.value, expression)
    if any(p.diverged_at is not None for p in paths):
        raise typer.Exit(EXIT_PROBLEM)  # an optimiser diverged: say so in the exit code


def _pair(text: str, parameter: str) -> tuple[float, float]:
    from ..core.errors import UsageError

    try:
        parts = tuple(float(part) for part in text.split(","))
    except ValueError:
        parts = ()
    if len(parts) != 2:
        raise UsageError(_("needs two numbers, X,Y (got {text!r})", text=text), parameter)
    if not all(math.isfinite(part) for part in parts):  # 1e400 would start the path at inf
        raise UsageError(_("needs two finite numbers, X,Y (got {text!r})", text=text),
                         parameter)
    return parts


def _learning_rates(text: Optional[str], names: list[str]) -> dict[str, float]:
    from ..core.errors import UsageError
    from ..layers.descent import DEFAULT_LR
    from ..layers.training import optimisers

    unknown = [name for name in names if name not in optimisers()]
    if unknown:
        raise UsageError(_("unknown optimiser {name!r}; choose from {listed}", name=unknown[0],
                           listed=", ".join(optimisers())), "opt")
    rates = {name: DEFAULT_LR[name] for name in names}
    if not text:
        return rates
    try:
        if "=" not in text:
            rates = {name: float(text) for name in names}
        else:
            pairs = [item.split("=") for item in text.split(",")]
            pairs = [(name.strip().lower(), float(value)) for name, value in pairs]
    except ValueError:
        raise UsageError(_("takes a rate or name=rate pairs (got {text!r})",
                           text=text), "lr") from None
    if "=" in text:
        named = [name for name, _rate in pairs]
        twice = sorted({name for name in named if named.count(name) > 1})
        if twice:
            raise UsageError(_("gives {name!r} two rates (got {text!r})", name=twice[0],
                               text=text), "lr")
        rates.update(pairs)
    extra = sorted(set(rates) - set(names))
    if extra:
        raise UsageError(_("names {name!r}, which is not one of the optimisers run",
                           name=extra[0]), "lr")
    from ..layers.training import check_learning_rate

    for rate in rates.values():
        check_learning_rate(rate)
    return rates


def _draw(surface, paths, folder: str, suffix: str, expression: str) -> None:
    from pathlib import Path

    import numpy as np

    from ..render import plots

    # a path that ran away is drawn up to the step before (its next points may be inf, and
    # would stretch the picture until the contour lines vanish); its panel says so
    shown = {}
    for p in paths:
        label = f"{p.optimiser} (lr {p.lr:g})"
        if p.diverged_at is None:
            shown[label] = p.points
        else:
            stop = max(p.diverged_at, 1)
            shown[label + "\n" + _("diverged at step {step}: drawn to step {last}",
                                    step=p.diverged_at, last=stop - 1)] = p.points[:stop]
    points = np.concatenate(list(shown.values()))
    low, high = points.min(axis=0), points.max(axis=0)
    margin = np.maximum((high - low) * 0.15, 0.5)
    xx, yy = np.meshgrid(np.linspace(low[0] - margin[0], high[0] + margin[0], 200),
                         np.linspace(low[1] - margin[1], high[1] + margin[1], 200))
    with np.errstate(all="ignore"):
        zz = np.ma.masked_invalid(surface.value(xx, yy))  # f may overflow at the edges
    with picture_words():
        drawn = plots.optimiser_paths(xx, yy, zz, shown, Path(folder) / f"paths.{suffix}",
                                      title=f"f = {expression}")
    typer.echo(_("wrote {path}", path=drawn), err=True)
