"""`gradtrace gradcheck LAYER`: a layer's backprop gradients against finite differences."""

from typing import Annotated, Optional

import typer

from .common import EXIT_PROBLEM, Format, command_app, error_boundary, show
from .options import SeedOption, dims, format_option

app = command_app()

EXAMPLES = """
\b
Examples:
  gradtrace gradcheck linear                          # x (2,4), W (3,4), b (3,)
  gradtrace gradcheck linear --input 5x10 --out 7
  gradtrace gradcheck conv2d --input 2x3x6x6 --filters 4 --kernel 3 --stride 2 --padding 1
  gradtrace gradcheck max_pool2d --input 1x2x6x6 --kernel 3
  gradtrace gradcheck batch_norm --input 8x4 --format json
  gradtrace gradcheck sigmoid --input 3x3
"""


@app.command(epilog=EXAMPLES)
@error_boundary
def gradcheck(
    layer: Annotated[str, typer.Argument(
        metavar="LAYER", show_default=False,
        help="Any layer or op that `gradtrace ops` lists, by its name there (the layers of "
             "an MLP or a CNN, activations, losses...). Example: conv2d")],
    input_shape: Annotated[Optional[str], typer.Option(
        "--input", metavar="AxBx...",
        help="Shape of the layer's input x, joined by x (N×features for linear, N×C×H×W for "
             "conv2d and pooling; each layer has a small default). Example: --input 2x3x6x6",
        show_default=False)] = None,
    out: Annotated[int, typer.Option(
        "--out", min=1, metavar="N", help="linear: output features (W is N × in). "
                                          "Example: --out 7")] = 3,
    filters: Annotated[int, typer.Option(
        "--filters", min=1, metavar="F",
        help="conv2d: number of filters. Example: --filters 4")] = 2,
    kernel: Annotated[Optional[int], typer.Option(
        "--kernel", min=1, metavar="K",
        help="conv2d: K×K filters (default 3); pooling: K×K windows (default 2). "
             "Example: --kernel 3", show_default=False)] = None,
    stride: Annotated[Optional[int], typer.Option(
        "--stride", min=1, metavar="S",
        help="conv2d: stride (default 1); pooling: stride (default the window). "
             "Example: --stride 2",
        show_default=False)] = None,
    padding: Annotated[int, typer.Option(
        "--padding", min=0, metavar="P",
        help="conv2d: zeros around the input. Example: --padding 1")] = 0,
    p: Annotated[float, typer.Option(
        "--p", min=0.0, max=0.99, metavar="P",
        help="dropout: the drop probability. Example: --p 0.2")] = 0.5,
    seed: SeedOption = 0,
    output_format: format_option("{layer, tensors: [{name, shape, relative_error, "
                                 "max_difference, passed}], passed} (schema "
                                 "gradtrace.gradcheck/1).") = Format.rich,
) -> None:
    """Check LAYER's gradients numerically, as the course notes do: backprop's VJP for the
    input and every parameter against central differences (h = 1e-6) of L = Σ R ⊙ output,
    R random, in float64. Each tensor passes when ‖analytic − numeric‖ / (‖analytic‖ +
    ‖numeric‖) < 1e-6. The inputs are drawn inside the op's domain (positive for log and
    sqrt, a positive base for pow...), and the report says so. Exit code 1 if a tensor fails,
    2 for a usage error; a tensor that cannot be checked is said so and is not a failure.
    """
    from ..checks.layer_gradcheck import Options, gradcheck as run_check
    from ..narrate.gradcheck import gradcheck_sections
    from ..render.json_reports import gradcheck_json

    shape = None if input_shape is None else dims(input_shape, "input", example="2x3x6x6")
    if kernel is None:
        kernel = 2 if layer.endswith("pool2d") else 3
    options = Options(shape, out, filters, kernel, stride, padding, p)
    result = run_check(layer, options, seed)
    show(output_format, lambda: gradcheck_sections(result), lambda: gradcheck_json(result))
    if not result.passed:
        raise typer.Exit(EXIT_PROBLEM)
