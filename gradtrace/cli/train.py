"""`gradtrace train`: train a small MLP on XOR, two moons or spirals; loss and accuracy per
epoch, and the loss curve and decision boundary as pictures."""

import enum
from typing import Annotated, NamedTuple, Optional

import typer

from ..core.i18n import _
from .common import EXIT_PROBLEM, Format, command_app, error_boundary, progress_bar, show, picture_words
from .mlp import ActOption, Activation
from .options import SeedOption, format_option, widths

app = command_app()

EXAMPLES = """
\b
Examples:
  gradtrace train --data xor --layers 2,4,1 --act tanh --opt adam --lr 0.05 --epochs 2000
  gradtrace train --data moons --layers 2,16,16,1 --act relu --epochs 500 --out pictures
  gradtrace train --data spirals --layers 2,64,64,3 --act relu --lr 0.01 --epochs 3000 --out .
"""


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
    act: ActOption = Activation["tanh"],
    opt: Annotated[str, typer.Option(
        "--opt", metavar="NAME",
        help="sgd, momentum, nesterov, adagrad, rmsprop, adam or adamw. Example: --opt sgd")] = "adam",
    lr: Annotated[float, typer.Option("--lr", metavar="RATE",
                                      help="Learning rate. Example: --lr 0.01")] = 0.05,
    epochs: Annotated[int, typer.Option(
        "--epochs", min=1, metavar="N",
        help="Full-batch steps. Work predicted to take longer than the time budget (120 s; "
             "--max-seconds) is refused after the first half second. Example: --epochs 500")
    ] = 2000,
    seed: SeedOption = 0,
    every: Annotated[Optional[int], typer.Option(
        "--every", min=1, metavar="K",
        help="Show every K-th epoch in the table (default: about 10 rows).",
        show_default=False)] = None,
    out: Annotated[Optional[str], typer.Option(
        "--out", metavar="DIR", help="Folder for loss.png and boundary.png (or .svg); none "
                                     "drawn without it. Example: --out pictures",
        show_default=False)] = None,
    image: ImageOption = ImageFormat.png,
    output_format: format_option("{final_loss, final_accuracy, epochs: [{epoch, loss, "
                                 "accuracy}]} for the rows shown (schema "
                                 "gradtrace.train/1).") = Format.rich,
) -> None:
    """Train an MLP with gradtrace's layers and optimisers on a small 2-D dataset, full batch,
    and show loss and accuracy every K epochs. A progress bar runs on stderr when it is a
    terminal. With --out, draw the loss curve and the decision boundary.
    """
    import numpy as np

    from ..layers import datasets, networks, training
    from ..narrate.training import train_sections
    from ..render.json_reports import train_json

    check_folder(out)
    X, y = datasets.load(data, seed)
    sizes = widths(layers)
    training.check_sizes(sizes, X, y)
    networks.check_layers(len(sizes) - 1, "layers")
    networks.check_size(networks.mlp_arrays(sizes, len(X)), "layers")
    rng = np.random.default_rng(seed)
    model = training.build_mlp(sizes, act.value, rng)
    optimiser = training.make_optimiser(opt, model.parameters(), lr)
    every = every or max(1, epochs // 10)
    with progress_bar(epochs, _("training"), fields={"loss": "…"}, unit=_("epochs"),
                      parameter="epochs") as advance:
        history = training.fit(model, optimiser, X, y, epochs,
                               lambda epoch, loss, accuracy: advance(epoch, loss=f"{loss:.4g}"))
    done = len(history.losses)  # fewer than asked when the loss stopped being finite
    run = TrainingRun(data, sizes, history, sorted({1, *range(every, done + 1, every), done}), lr)
    show(output_format, lambda: train_sections(run), lambda: train_json(run))
    if out is not None:
        title = f"{data}, {layers} {act.value}, {opt} lr {lr:g}"
        _draw(model, X, y, history, out, image.value, title)
    if history.diverged_at is not None:
        raise typer.Exit(EXIT_PROBLEM)  # training diverged: say so in the exit code


class TrainingRun(NamedTuple):
    """What the output of `gradtrace train` reads: the run and the epochs shown."""

    data: str
    sizes: list[int]
    history: object
    shown: list[int]
    lr: float | None = None


def check_folder(folder: Optional[str]) -> None:
    """Make the --out folder (and its parents) before the work, so a name that cannot be a
    folder fails at once, not after training."""
    from pathlib import Path

    from ..core.errors import UsageError

    if folder is None:
        return
    from .options import can_plot

    can_plot("out")  # before the folder is made and the work done
    path = Path(folder)
    if path.exists() and not path.is_dir():
        raise UsageError(_("{folder} is a file, not a folder", folder=folder), "out")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(_("cannot make the folder {folder}: {why}", folder=folder,
                           why=error.strerror or error),
                         "out") from None
    from ..render.image import WriteError, check_folder_writable

    try:
        check_folder_writable(path)
    except WriteError as error:
        raise UsageError(str(error), "out") from None


def _draw(model, X, y, history, folder: str, suffix: str, title: str) -> None:
    from pathlib import Path

    from ..layers.training import predict
    from ..render import plots

    with picture_words():
        curve = plots.loss_curve(history.losses, history.accuracies,
                                 Path(folder) / f"loss.{suffix}", title=title)
        xx, yy, grid = plots.grid_around(X)
        boundary = plots.decision_boundary(X, y, xx, yy, predict(model, grid),
                                           Path(folder) / f"boundary.{suffix}", title=title)
    typer.echo(_("wrote {path}", path=curve) + "\n" + _("wrote {path}", path=boundary), err=True)
