"""`gradtrace mlp`: one training step of a multilayer perceptron, layer by layer. The options
and the step itself are shared with `gradtrace cnn`."""

import enum
import math
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..core.i18n import _
from ..core.registry import activations
from ..nn.init import INITS
from .common import EXIT_PROBLEM, Format, command_app, error_boundary, show, picture_words
from .options import PrecisionOption, SeedOption, check_pictures, format_option, widths
from .pages import LayersHtmlOption, check_pages, write_layers_page

app = command_app()

EXAMPLES = """
\b
Examples:
  gradtrace mlp --layers 4,5,3                      # the notes' 4-5-3 network, relu, batch 2
  gradtrace mlp --layers 4,5,3 --act sigmoid --loss mse --format markdown
  gradtrace mlp --layers 4,5,3 --depth 10 --act sigmoid --init normal   # vanishing
  gradtrace mlp --layers 4,5,3 --depth 10 --act relu --init he          # kept
  gradtrace mlp --layers 4,5,3 --depth 10 --act relu --init he --gain 5 # exploding
  gradtrace mlp --layers 4,4,4 --depth 100 --act relu --init he         # dead relus
  gradtrace mlp --layers 4,5,5,3 --init constant    # symmetric hidden units flagged
  gradtrace mlp --layers 2,3,1                      # one output: binary cross-entropy
  gradtrace mlp --layers 100,100,100 --depth 5 --act sigmoid --init normal --batch 1000 --plot a.png
  gradtrace mlp --layers 784,256,10 --batch 64 --format json
  gradtrace mlp --layers 4,5,3 --svg mlp.svg --expand fc1
  gradtrace mlp --layers 4,5,5,3 --act sigmoid --html mlp.html   # step it layer by layer
"""


def _choices(name: str, values) -> type:
    """A str Enum typer can offer, from names the library declares."""
    return enum.Enum(name, {value: value for value in values}, type=str)


# The activations and initialisations the library has (the op registry, gradtrace.nn.init).
Activation = _choices("Activation", [op.name for op in activations()])
Init = _choices("Init", INITS)


class Loss(str, enum.Enum):
    ce = "ce"
    mse = "mse"


ActOption = Annotated[Activation, typer.Option(
    "--act", metavar="|".join(Activation.__members__),
    help="Activation after every hidden layer (the last layer feeds the loss directly). "
         "Example: --act sigmoid")]
InitOption = Annotated[Init, typer.Option(
    "--init", metavar="|".join(Init.__members__),
    help="Initial weights (biases start at 0): xavier N(0, 2/(fan_in+fan_out)), he "
         "N(0, 2/fan_in), normal N(0, 1), zeros, constant (every weight 0.5: shows the "
         "symmetry problem). Example: --init he")]
GainOption = Annotated[float, typer.Option(
    "--gain", metavar="G", help="Multiply every initial weight by G; a large G makes "
                                "gradients explode. Example: --gain 5")]
LossOption = Annotated[Loss, typer.Option(
    "--loss", metavar="ce|mse",
    help="ce: softmax cross-entropy against random class labels; mse: mean squared error "
         "against their one-hot rows. With one output unit the net is a binary classifier: ce "
         "is binary cross-entropy on its logit (a sigmoid inside the loss) and both compare "
         "with random 0/1 targets. Example: --loss mse")]
BatchOption = Annotated[int, typer.Option(
    "--batch", min=1, metavar="N",
    help="Samples in the batch, drawn from N(0, 1). Example: --batch 8")]
LrOption = Annotated[float, typer.Option(
    "--lr", metavar="η",
    help="Learning rate of the SGD step W ← W − η·∂L/∂W. Example: --lr 0.5")]
FormatOption = format_option("{loss, parameters, layers: [{name, output_shape, grad_norm, "
                             "param_grad_norms, parameters, activation, window}], health: "
                             "{verdict, ...}, symmetry} (schema gradtrace.layers/1).")
SvgOption = Annotated[Optional[Path], typer.Option(
    "--svg", metavar="PATH",
    help="Also draw the layer graph (one box per layer with its shapes, gradient norms on the "
         "edges) to this file; .png or .dot work too. Example: --svg net.svg")]
PlotOption = Annotated[Optional[Path], typer.Option(
    "--plot", metavar="PATH",
    help="Also draw a histogram of each activation layer's outputs over the batch, one panel "
         "per layer as 《深度学习入门》 §6.2 draws them (.png or .svg; needs matplotlib). "
         "Example: --plot activations.png")]
ExpandOption = Annotated[Optional[str], typer.Option(
    "--expand", metavar="LAYER",
    help="Show this layer as the primitive ops it is made of (matmul, transpose, add, "
         "im2col...), narrated and drawn. Example: --expand fc1")]


@app.command(epilog=EXAMPLES)
@error_boundary
def mlp(
    layers: Annotated[str, typer.Option(
        "--layers", metavar="N0,N1,...",
        help="Layer widths from input to output, comma-separated. Example: --layers 4,5,3")
    ] = "4,5,3",
    act: ActOption = Activation["relu"],
    batch: BatchOption = 2,
    seed: SeedOption = 0,
    init: InitOption = Init["xavier"],
    gain: GainOption = 1.0,
    loss: LossOption = Loss.ce,
    depth: Annotated[Optional[int], typer.Option(
        "--depth", min=2, metavar="N",
        help="N linear layers instead: every hidden layer as wide as the first hidden width "
             "in --layers. Example: --depth 10", show_default=False)] = None,
    lr: LrOption = 0.1,
    output_format: FormatOption = Format.rich,
    svg: SvgOption = None,
    plot: PlotOption = None,
    expand: ExpandOption = None,
    precision: PrecisionOption = 2,
    html: LayersHtmlOption = None,
) -> None:
    """Trace ONE training step of a multilayer perceptron on a random batch: the forward pass
    layer by layer with shapes (z⁽ˡ⁾ = W⁽ˡ⁾a⁽ˡ⁻¹⁾ + b⁽ˡ⁾), the backward pass (δ⁽ˡ⁾, ∂L/∂W⁽ˡ⁾ =
    δ⁽ˡ⁾a⁽ˡ⁻¹⁾ᵀ, ∂L/∂b⁽ˡ⁾), the SGD update, layer Jacobians, the parameters per layer, and the
    gradient's health over depth (vanishing, exploding, dead or saturated units with the
    activations' statistics, symmetric units). Exit code 1 if a value or gradient is not
    finite, 2 for a usage error.
    """
    import numpy as np

    from ..core.errors import UsageError
    from ..layers import networks

    check_pictures(svg, plot)
    check_pages(html)
    sizes = networks.mlp_sizes(widths(layers), depth)
    if plot is not None and len(sizes) < 3:
        raise UsageError(_("{layers}: with no hidden layer there is no activation to draw; give at "
                           "least three widths, e.g. 4,5,3", layers=layers), "plot")
    blame = "layers" if depth is None else "depth"
    networks.check_layers(len(sizes) - 1, blame)
    networks.check_size(networks.mlp_arrays(sizes, batch), blame, "batch")
    rng = np.random.default_rng(seed)
    specs = networks.mlp_specs(sizes, act.value, init.value, loss.value, rng, gain)
    data = networks.batch((batch, sizes[0]), sizes[-1], loss.value, rng)
    fields = dict(sizes=_widths_text(sizes), act=act.value, init=init.value, gain=f"{gain:g}",
                  batch=batch, loss=loss_name(loss, sizes[-1]))
    title = _("MLP {sizes}, {act}, {init} init ×{gain}, batch {batch}, {loss}: one SGD step",
              **fields) if gain != 1 else \
        _("MLP {sizes}, {act}, {init} init, batch {batch}, {loss}: one SGD step", **fields)
    network = {"kind": "mlp", "sizes": sizes, "act": act.value, "init": init.value,
               "gain": gain, "loss": loss.value, "batch": batch, "seed": seed}
    run_step(specs, data, lr, expand, title, network, output_format, svg, precision, plot, html)


def loss_name(loss: Loss, outputs: int) -> str:
    """The loss as the title names it: binary cross-entropy for one output."""
    if loss is Loss.mse:
        return "mse"
    return _("binary cross-entropy") if outputs == 1 else _("cross-entropy")


def _widths_text(sizes: list[int]) -> str:
    """4-5-5-5-3 written 4-5×3-3 when a width repeats, so a deep net's title stays short."""
    runs: list[list[int]] = []
    for size in sizes:
        if runs and runs[-1][0] == size:
            runs[-1][1] += 1
        else:
            runs.append([size, 1])
    return "-".join(f"{size}×{count}" if count > 2 else "-".join([str(size)] * count)
                    for size, count in runs)


def run_step(specs, data, lr, expand, title, network, output_format, svg, precision,
             plot=None, html=None) -> None:
    """Trace the step, print it in the format asked for, draw it if asked; exit 1 when a value
    or gradient is not finite."""
    from ..layers.step import trace_step
    from ..layers.training import check_learning_rate
    from ..narrate.layers import layer_sections
    from ..render.json_reports import layers_json

    check_learning_rate(lr)
    result = trace_step(specs, data.data, data.target, lr, expand)
    show(output_format, lambda: layer_sections(result, title, precision, network),
         lambda: layers_json(result, network))
    if svg is not None:
        from ..render.image import write_graph
        from ..render.layer_graph import render_layer_dot

        written = write_graph(render_layer_dot(result, title, precision), svg, precision)
        typer.echo(_("wrote {path}", path=written), err=True)
    if plot is not None:
        from ..render.plots import activation_histograms

        with picture_words():
            written = activation_histograms(result, plot, title)
        typer.echo(_("wrote {path}", path=written), err=True)
    write_layers_page(result, title, precision, network, html)
    if not (result.trace.finite and math.isfinite(result.loss_after)):
        raise typer.Exit(EXIT_PROBLEM)  # a value, a gradient or the step itself went non-finite
