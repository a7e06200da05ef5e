"""`gradtrace cnn`: one training step of a small convolutional network, conv → act → pool per
--conv, then flatten → linear → loss."""

import enum
from typing import Annotated, Optional

import typer

from ..core.i18n import _, ngettext
from ..core.errors import UsageError
from .common import Format, command_app, error_boundary
from .mlp import (ActOption, Activation, BatchOption, ExpandOption, FormatOption, GainOption,
                  Init, InitOption, Loss, LossOption, LrOption, PlotOption, SvgOption,
                  loss_name, run_step)
from .options import PrecisionOption, SeedOption, check_pictures, dims
from .pages import LayersHtmlOption, check_pages

app = command_app()

EXAMPLES = """
\b
Shapes are written with x: --input CxHxW (channels, height, width), --conv FxKHxKW (F filters
of KH×KW, over all input channels). The network, for every --conv given (in order):
  conv2d(F filters, --stride, --padding) → --act → --pool-kind pool of --pool×--pool
then flatten → linear to --classes → loss.
\b
Examples:
  gradtrace cnn --input 1x8x8 --conv 4x3x3 --pool 2 --classes 3 --batch 2
  gradtrace cnn --input 3x16x16 --conv 8x3x3 --conv 16x3x3 --padding 1 --classes 10
  gradtrace cnn --input 1x6x6 --conv 2x3x3 --pool 1 --format markdown   # no pooling
  gradtrace cnn --input 1x8x8 --conv 4x3x3 --pool-kind avg --svg cnn.svg --expand conv1
  gradtrace cnn --input 1x28x28 --conv 16x3x3 --padding 1 --batch 64 --format json
  gradtrace cnn --input 1x7x7 --conv 1x3x3 --stride 3   # row 6 and column 6 are never read
  gradtrace cnn --input 1x8x8 --conv 4x3x3 --classes 1 --plot conv.svg   # binary, histograms
"""


class PoolKind(str, enum.Enum):
    max = "max"
    avg = "avg"


@app.command(epilog=EXAMPLES)
@error_boundary
def cnn(
    input_shape: Annotated[str, typer.Option(
        "--input", metavar="CxHxW", help="One sample's shape: channels x height x width. "
                                         "Example: --input 1x8x8")] = "1x8x8",
    conv: Annotated[Optional[list[str]], typer.Option(
        "--conv", metavar="FxKHxKW",
        help="A convolution layer: F filters of KH×KW; repeat for more layers (4x3x3 when "
             "none is given). Example: --conv 4x3x3 --conv 8x3x3", show_default=False)] = None,
    stride: Annotated[int, typer.Option(
        "--stride", min=1, metavar="S",
        help="Stride of every convolution. Example: --stride 2")] = 1,
    padding: Annotated[int, typer.Option(
        "--padding", min=0, metavar="P",
        help="Zeros added around every convolution's input. Example: --padding 1")] = 0,
    pool: Annotated[int, typer.Option(
        "--pool", min=1, metavar="K",
        help="Pool K×K windows with stride K after each convolution; 1 for no pooling. "
             "Example: --pool 2")] = 2,
    pool_kind: Annotated[PoolKind, typer.Option(
        "--pool-kind", metavar="max|avg",
        help="max: each window's gradient goes to its largest entry; avg: shared equally. "
             "Example: --pool-kind avg")] = PoolKind.max,
    classes: Annotated[int, typer.Option(
        "--classes", min=1, metavar="N",
        help="Outputs of the final linear layer; 1 makes a binary classifier (binary "
             "cross-entropy on its logit). Example: --classes 10")] = 3,
    act: ActOption = Activation["relu"],
    batch: BatchOption = 2,
    seed: SeedOption = 0,
    init: InitOption = Init["he"],
    gain: GainOption = 1.0,
    loss: LossOption = Loss.ce,
    lr: LrOption = 0.1,
    output_format: FormatOption = Format.rich,
    svg: SvgOption = None,
    plot: PlotOption = None,
    expand: ExpandOption = None,
    precision: PrecisionOption = 2,
    html: LayersHtmlOption = None,
) -> None:
    """Trace ONE training step of a convolutional network on a random batch: each layer's
    forward shapes (and the input rows and columns a window that does not fit never reads),
    the parameters per layer, δ⁽ˡ⁾ and parameter gradients on the way back, the SGD update,
    the conv Jacobians' sparsity (local connectivity, weight sharing) and the gradient's health
    with the activations' statistics. Exit code 1 if a value or gradient is not finite, 2 for a
    usage error.
    """
    import numpy as np

    from ..layers import networks

    check_pictures(svg, plot)
    check_pages(html)
    sample = dims(input_shape, "input", 3, "1x8x8")
    convs = [_conv(text, stride, padding) for text in (conv or ["4x3x3"])]
    _check_fits(sample, convs, pool)
    networks.check_layers(len(convs) + 1, "conv")
    networks.check_size(networks.cnn_arrays(sample, convs, pool, classes, batch), None)
    rng = np.random.default_rng(seed)
    specs = networks.cnn_specs(sample, convs, (pool_kind.value, pool), classes, act.value,
                               init.value, loss.value, rng, gain)
    data = networks.batch((batch,) + sample, classes, loss.value, rng)
    layout = " → ".join(_("conv {filters}×{kh}×{kw}", filters=c.filters, kh=c.kernel[0],
                          kw=c.kernel[1]) for c in convs)
    title = ngettext("CNN {input} → {layout} → {classes} class, {act}, {pool_kind} pool {pool}, "
                     "batch {batch}, {loss}: one SGD step",
                     "CNN {input} → {layout} → {classes} classes, {act}, {pool_kind} pool {pool}, "
                     "batch {batch}, {loss}: one SGD step", classes,
                     input="x".join(map(str, sample)), layout=layout, classes=classes,
                     act=act.value, pool_kind=pool_kind.value, pool=pool, batch=batch,
                     loss=loss_name(loss, classes))
    network = {"kind": "cnn", "input": list(sample), "convs": [list(c[:2]) for c in convs],
               "stride": stride, "padding": padding, "pool": pool, "pool_kind": pool_kind.value,
               "classes": classes, "act": act.value, "init": init.value, "gain": gain,
               "loss": loss.value, "batch": batch, "seed": seed}
    run_step(specs, data, lr, expand, title, network, output_format, svg, precision, plot, html)


def _conv(text: str, stride: int, padding: int):
    from ..layers.networks import ConvSpec

    filters, kh, kw = dims(text, "conv", 3, "4x3x3")
    return ConvSpec(filters, (kh, kw), stride, padding)


def _check_fits(sample, convs, pool: int) -> None:
    """Every convolution and pooling window must fit in what reaches it."""
    height, width = sample[1:]
    for conv in convs:
        height = (height + 2 * conv.padding - conv.kernel[0]) // conv.stride + 1
        width = (width + 2 * conv.padding - conv.kernel[1]) // conv.stride + 1
        if height < 1 or width < 1:
            raise UsageError(_("{filters}x{kh}x{kw} does not fit the {height}x{width} input after the layers "
                               "before it", filters=conv.filters, kh=conv.kernel[0],
                               kw=conv.kernel[1], height=sample[1], width=sample[2]), "conv")
        height, width = height // pool, width // pool
        if height < 1 or width < 1:
            raise UsageError(_("{pool} is larger than the feature map it pools", pool=pool), "pool")
