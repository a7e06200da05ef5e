"""`gradtrace train`: train a small MLP on XOR, two moons or spirals; loss and accuracy per
epoch, and the loss curve and decision boundary as pictures."""

import enum
from typing import Annotated, Optional

import typer

from .common import EXIT_PROBLEM, Format, command_app, error_boundary, print_output

app = command_app()

EXAMPLES = """
\b
Examples:
  gradtrace train --data xor --layers 2,4,1 --act tanh --opt adam --lr 0.05 --epochs 2000
  gradtrace train --data moons --layers 2,16,16,1 --act relu --epochs 500 --out pictures
  gradtrace train --data spirals --layers 2,64,64,3 --act relu --lr 0.01 --epochs 3000 --out .
"""
SCHEMA = "gradtrace.train/1"


class ImageFormat(str, enum.Enum):
    png = "png"
    svg = "svg"


ImageOption = Annotated[ImageFormat, typer.Option(
    "--image", metavar="png|svg", help="Picture format for --out. Example: --image svg")]


@app.command(epilog=EXAMPLES)
@error_boundary
def train(
    data: Annotated[str, typer.Option("--data", metavar="xor|moons|spirals",
                                      help="Dataset, generated from --seed. Example: --data moons")
                    ] = "xor",
    layers: Annotated[str, typer.Option(
        "--layers", metavar="SIZES",
        help="Layer sizes from input to output; output 1 = binary classifier (a logit), "
             "K = softmax over K classes. Example: --layers 2,16,16,1")] = "2,4,1",
    act: Annotated[str, typer.Option("--act", metavar="tanh|relu|sigmoid",
                                     help="Hidden activation (tanh/sigmoid get Xavier init, relu "
                                          "gets He). Example: --act relu")] = "tanh",
    opt: Annotated[str, typer.Option(
        "--opt", metavar="NAME",
        help="sgd, momentum, nesterov, adagrad, rmsprop or adam. Example: --opt sgd")] = "adam",
    lr: Annotated[float, typer.Option("--lr", metavar="RATE",
                                      help="Learning rate. Example: --lr 0.01")] = 0.05,
    epochs: Annotated[int, typer.Option("--epochs", min=1, max=1_000_000, metavar="N",
                                        help="Full-batch steps. Example: --epochs 500")] = 2000,
    seed: Annotated[int, typer.Option("--seed", metavar="N",
                                      help="Seeds the data and the initial weights.")] = 0,
    every: Annotated[Optional[int], typer.Option(
        "--every", min=1, metavar="K",
        help="Show every K-th epoch in the table (default: about 10 rows).",
        show_default=False)] = None,
    out: Annotated[Optional[str], typer.Option(
        "--out", metavar="DIR", help="Folder for loss.png and boundary.png (or .svg); none "
                                     "drawn without it. Example: --out pictures",
        show_default=False)] = None,
    image: ImageOption = ImageFormat.png,
    output_format: Annotated[Format, typer.Option(
        "--format", "-f", metavar="rich|text|markdown|json",
        help="json: {final_loss, final_accuracy, epochs: [{epoch, loss, accuracy}]} for the "
             "rows shown (schema gradtrace.train/1). Example: --format json")] = Format.rich,
) -> None:
    """Train an MLP with gradtrace's layers and optimisers on a small 2-D dataset, full batch,
    and show loss and accuracy every K epochs. A progress bar runs on stderr when it is a
    terminal. With --out, draw the loss curve and the decision boundary.
    """
    import numpy as np

    from .. import data as datasets
    from .. import training

    check_folder(out)
    X, y = datasets.load(data, seed)
    sizes = _sizes(layers)
    training.check_sizes(sizes, X, y)
    rng = np.random.default_rng(seed)
    model = training.build_mlp(sizes, act, rng)
    optimiser = training.make_optimiser(opt, model.parameters(), lr)
    every = every or max(1, epochs // 10)
    with _progress(epochs) as advance:
        history = training.fit(model, optimiser, X, y, epochs, advance)
    shown = sorted({1, *range(every, epochs + 1, every), epochs})
    print_output(_render(history, shown, output_format, data, layers))
    if out is not None:
        title = f"{data}, {layers} {act}, {opt} lr {lr:g}"
        _draw(model, X, y, history, out, image.value, title)
    if not np.isfinite(history.losses[-1]):
        raise typer.Exit(EXIT_PROBLEM)  # training diverged: say so in the exit code


def check_folder(folder: Optional[str]) -> None:
    """Fail before the work, not after it, when --out names no folder."""
    from pathlib import Path

    from ..errors import UsageError

    if folder is not None and not Path(folder).is_dir():
        raise UsageError(f"--out {folder}: no such folder")


def _sizes(text: str) -> list[int]:
    from ..errors import UsageError

    try:
        sizes = [int(part) for part in text.split(",")]
    except ValueError:
        sizes = []
    if len(sizes) < 2 or min(sizes) < 1:
        raise UsageError(f"--layers needs positive sizes, comma-separated, e.g. 2,4,1 "
                         f"(got {text!r})")
    return sizes


class _progress:
    """A rich progress bar on stderr when stderr is a terminal; nothing otherwise. Used as a
    context manager giving the per-epoch callback."""

    def __init__(self, epochs: int):
        self.epochs = epochs
        self.bar = None

    def __enter__(self):
        import sys

        if not sys.stderr.isatty():
            return None
        from rich.console import Console
        from rich.progress import Progress

        self.bar = Progress(*Progress.get_default_columns(), "loss {task.fields[loss]}",
                            console=Console(stderr=True), transient=True)
        self.bar.start()
        task = self.bar.add_task("training", total=self.epochs, loss="…")

        def advance(epoch: int, loss: float, accuracy: float) -> None:
            self.bar.update(task, completed=epoch, loss=f"{loss:.4g}")

        return advance

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.stop()
        return False


def _render(history, shown: list[int], output_format: Format, data: str, layers: str) -> str:
    rows = [(epoch, history.losses[epoch - 1], history.accuracies[epoch - 1]) for epoch in shown]
    if output_format is Format.json:
        import json

        from ..render.json import _number  # inf and nan as strings, as in every JSON output

        return json.dumps({
            "schema": SCHEMA, "data": data, "layers": [int(n) for n in layers.split(",")],
            "final_loss": _number(history.losses[-1]), "final_accuracy": history.accuracies[-1],
            "epochs": [{"epoch": e, "loss": _number(loss), "accuracy": acc}
                       for e, loss, acc in rows],
        }, sort_keys=True, indent=2) + "\n"
    if output_format is Format.markdown:
        lines = ["| epoch | loss | accuracy |", "|---:|---:|---:|"]
        lines += [f"| {e} | {loss:.4g} | {acc:.1%} |" for e, loss, acc in rows]
    else:
        width = len(str(shown[-1]))
        lines = [f"{'epoch':>{max(width, 5)}}  {'loss':>10}  accuracy"]
        lines += [f"{e:>{max(width, 5)}}  {loss:>10.4g}  {acc:>8.1%}" for e, loss, acc in rows]
    return "\n".join(lines) + "\n"


def _draw(model, X, y, history, folder: str, suffix: str, title: str) -> None:
    from pathlib import Path

    from ..render import plots
    from ..training import predict

    curve = plots.loss_curve(history.losses, history.accuracies,
                             Path(folder) / f"loss.{suffix}", title=title)
    xx, yy, grid = plots.grid_around(X)
    boundary = plots.decision_boundary(X, y, xx, yy, predict(model, grid),
                                       Path(folder) / f"boundary.{suffix}", title=title)
    typer.echo(f"wrote {curve}\nwrote {boundary}", err=True)
