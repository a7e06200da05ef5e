"""`gradtrace optimize`: several optimisers walk down the same function of two variables; their
final points in a table and their paths drawn on the contour plot (seed 003 §6.1)."""

from typing import Annotated, Optional

import typer

from .common import EXIT_PROBLEM, Format, command_app, error_boundary, print_output
from .train import ImageFormat, ImageOption, check_folder

app = command_app()

EXAMPLES = """
\b
Examples:
  gradtrace optimize "x**2/20 + y**2" --opt sgd,momentum,adagrad,adam --start -7,2 --steps 30
  gradtrace optimize "x**2/20 + y**2" --opt sgd,adam --lr 0.1 --out pictures --image svg
  gradtrace optimize "(1-x)**2 + 100*(y-x**2)**2" --opt adam --lr adam=0.02 --start -1,1 --steps 500
"""
SCHEMA = "gradtrace.optimize/1"


@app.command(epilog=EXAMPLES, context_settings={"ignore_unknown_options": True})
@error_boundary
def optimize(
    expression: Annotated[str, typer.Argument(
        metavar="EXPRESSION", show_default=False,
        help="A function of two variables, quoted. Example: \"x**2/20 + y**2\"")],
    opt: Annotated[str, typer.Option(
        "--opt", metavar="NAMES",
        help="Optimisers, comma-separated: sgd, momentum, nesterov, adagrad, rmsprop, adam. "
             "Example: --opt sgd,adam")] = "sgd,momentum,adagrad,adam",
    start: Annotated[str, typer.Option(
        "--start", metavar="X,Y", help="Where every optimiser starts. Example: --start -7,2")
    ] = "-7,2",
    steps: Annotated[int, typer.Option("--steps", min=1, max=100_000, metavar="N",
                                       help="Updates per optimiser. Example: --steps 30")] = 30,
    lr: Annotated[Optional[str], typer.Option(
        "--lr", metavar="RATE|NAME=RATE,...",
        help="Learning rate for all, or per optimiser. Default: the notes' source (Saito §6.1): "
             "sgd 0.95, momentum 0.1, adagrad 1.5, adam 0.3 (nesterov 0.1, rmsprop 0.1). "
             "Example: --lr adam=0.1,sgd=0.5", show_default=False)] = None,
    out: Annotated[Optional[str], typer.Option(
        "--out", metavar="DIR", help="Folder for the picture paths.png (or .svg); none drawn "
                                     "without it. Example: --out pictures", show_default=False)
    ] = None,
    image: ImageOption = ImageFormat.png,
    output_format: Annotated[Format, typer.Option(
        "--format", "-f", metavar="rich|text|markdown|json",
        help="json: {optimisers: [{name, lr, final, value, turns, path}]} (schema "
             "gradtrace.optimize/1). Example: --format json")] = Format.rich,
) -> None:
    """Run each optimiser from the same start on EXPRESSION, a function f of two variables
    (gradients by gradtrace's own reverse pass), and show where each ended: the final point,
    f there, and how often it turned back along each axis (its zig-zags). With --out, draw
    every path on the contour plot of f.
    """
    import numpy as np

    from ..descent import Surface, descend
    from ..errors import UsageError

    check_folder(out)
    surface = Surface(expression)
    names = [name.strip().lower() for name in opt.split(",") if name.strip()]
    if not names:
        raise UsageError("--opt needs at least one optimiser")
    rates = _learning_rates(lr, names)
    point = _pair(start, "--start")
    paths = [descend(surface, name, rates[name], point, steps) for name in names]
    print_output(_render(surface, paths, output_format))
    if out is not None:
        _draw(surface, paths, out, image.value, expression)
    if not all(np.all(np.isfinite(p.points)) for p in paths):
        raise typer.Exit(EXIT_PROBLEM)  # an optimiser diverged: say so in the exit code


def _pair(text: str, option: str) -> tuple[float, float]:
    from ..errors import UsageError

    try:
        parts = tuple(float(part) for part in text.split(","))
    except ValueError:
        parts = ()
    if len(parts) != 2:
        raise UsageError(f"{option} needs two numbers, X,Y (got {text!r})")
    return parts


def _learning_rates(text: Optional[str], names: list[str]) -> dict[str, float]:
    from ..descent import DEFAULT_LR
    from ..errors import UsageError
    from ..training import OPTIMISERS

    unknown = [name for name in names if name not in OPTIMISERS]
    if unknown:
        raise UsageError(f"unknown optimiser {unknown[0]!r}; choose from {', '.join(OPTIMISERS)}")
    rates = {name: DEFAULT_LR[name] for name in names}
    if not text:
        return rates
    try:
        if "=" not in text:
            rates = {name: float(text) for name in names}
        else:
            for item in text.split(","):
                name, value = item.split("=")
                rates[name.strip().lower()] = float(value)
    except ValueError:
        raise UsageError(f"--lr takes a rate or name=rate pairs (got {text!r})") from None
    extra = sorted(set(rates) - set(names))
    if extra:
        raise UsageError(f"--lr names {extra[0]!r}, which is not in --opt")
    if not all(rate > 0 for rate in rates.values()):
        raise UsageError(f"learning rates must be positive (got {text!r})")
    return rates


def _render(surface, paths, output_format: Format) -> str:
    if output_format is Format.json:
        return _json(surface, paths)
    u, v = surface.names
    header = ["optimiser", "lr", f"final {u}", f"final {v}", "f(final)",
              f"turns in {u}", f"turns in {v}"]
    rows = [[p.optimiser, f"{p.lr:g}", f"{p.final[0]:.4f}", f"{p.final[1]:.4f}",
             f"{p.values[-1]:.4g}", str(p.reversals(0)), str(p.reversals(1))]
            for p in paths]
    steps = len(paths[0].points) - 1
    title = f"{steps} steps on f({u}, {v}) = {surface.graph.expression} from " \
            f"({paths[0].points[0][0]:g}, {paths[0].points[0][1]:g})\n\n"
    if output_format is Format.markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        return title + "\n".join(lines) + "\n"
    widths = [max(len(row[i]) for row in [header] + rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip()
             for row in [header] + rows]
    return title + "\n".join(lines) + "\n"


def _json(surface, paths) -> str:
    import json

    from ..render.json import _number

    report = {
        "schema": SCHEMA,
        "expression": surface.graph.expression,
        "variables": list(surface.names),
        "optimisers": [{
            "name": p.optimiser, "lr": p.lr, "final": _number(p.final),
            "value": _number(p.values[-1]),
            "turns": [p.reversals(0), p.reversals(1)],
            "path": _number(p.points),
        } for p in paths],
    }
    return json.dumps(report, sort_keys=True, indent=2) + "\n"


def _draw(surface, paths, folder: str, suffix: str, expression: str) -> None:
    from pathlib import Path

    import numpy as np

    from ..render import plots

    points = np.concatenate([p.points for p in paths])
    low, high = points.min(axis=0), points.max(axis=0)
    margin = np.maximum((high - low) * 0.15, 0.5)
    xx, yy = np.meshgrid(np.linspace(low[0] - margin[0], high[0] + margin[0], 200),
                         np.linspace(low[1] - margin[1], high[1] + margin[1], 200))
    zz = surface.value(xx, yy)
    drawn = plots.optimiser_paths(
        xx, yy, zz, {f"{p.optimiser} (lr {p.lr:g})": p.points for p in paths},
        Path(folder) / f"paths.{suffix}", title=f"f = {expression}")
    typer.echo(f"wrote {drawn}", err=True)
