"""`gradtrace gradcheck LAYER`: a layer's backprop gradients against finite differences."""

from typing import Annotated, Optional

import typer

from .common import (EXIT_PROBLEM, Format, command_app, error_boundary, fail, print_output,
                     render_sections)

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
        help="A layer or op from `gradtrace ops`: linear, conv2d, max_pool2d, avg_pool2d, "
             "batch_norm, batch_norm_eval, dropout, flatten, relu, sigmoid, tanh, "
             "leaky_relu, elu, softplus, softmax, cross_entropy, mse... Example: conv2d")],
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
    seed: Annotated[int, typer.Option(
        "--seed", metavar="N", help="Seed for the input, the parameters and the random "
                                    "weights R of the check. Example: --seed 7")] = 0,
    output_format: Annotated[Format, typer.Option(
        "--format", "-f", metavar="rich|text|markdown|json",
        help="rich or text: one row per tensor; markdown: the same table; json: {layer, "
             "tensors: [{name, shape, relative_error, max_difference, passed}], passed} "
             "(schema gradtrace.gradcheck/1). Example: --format json")] = Format.rich,
) -> None:
    """Check LAYER's gradients numerically, as seed 003 §5.2.4 does: backprop's VJP for the
    input and every parameter against central differences (h = 1e-6) of L = Σ R ⊙ output,
    R random, in float64. Each tensor passes when ‖analytic − numeric‖ / (‖analytic‖ +
    ‖numeric‖) < 1e-6. Exit code 1 if a tensor fails, 2 for a usage error.
    """
    from ..tracer.gradcheck import Options, gradcheck as run_check

    shape = None
    if input_shape is not None:
        try:
            shape = tuple(int(part) for part in input_shape.lower().split("x"))
        except ValueError:
            fail(f"--input {input_shape}: write whole numbers joined by x, e.g. 2x3x6x6")
    if kernel is None:
        kernel = 2 if layer.endswith("pool2d") else 3
    options = Options(shape, out, filters, kernel, stride, padding, p)
    result = run_check(layer, options, seed)
    print_output(_render(result, output_format))
    if not result.passed:
        raise typer.Exit(EXIT_PROBLEM)


def _render(result, output_format: Format) -> str:
    from ..render.blocks import Section, Table
    from ..render.numbers import fmt, shape_text

    if output_format is Format.json:
        return _json(result)
    rows = tuple((check.name, shape_text(check.shape), fmt(check.max_difference, 2),
                  fmt(check.relative_error, 2), "pass" if check.passed else "FAIL")
                 for check in result.tensors)
    table = Table(("tensor", "shape", "max |analytic − numeric|", "relative error", ""),
                  ("name", "", "number", "number", ""), rows)
    attrs = ", ".join(f"{k}={v}" for k, v in sorted(result.attrs.items()))
    verdict = ("Every gradient agrees with finite differences." if result.passed else
               "A gradient disagrees with finite differences: the VJP rule is wrong.")
    story = [Section(f"gradcheck {result.layer}" + (f" ({attrs})" if attrs else ""),
                     (f"Output shape {shape_text(result.output_shape)}; float64, h = "
                      f"{result.step:g}, pass below relative error {result.tolerance:g}.",
                      table, verdict))]
    return render_sections(story, output_format)


def _json(result) -> str:
    import json

    document = {
        "schema": "gradtrace.gradcheck/1", "layer": result.layer, "attrs": result.attrs,
        "output_shape": list(result.output_shape), "step": result.step,
        "tolerance": result.tolerance, "passed": result.passed,
        "tensors": [{"name": c.name, "shape": list(c.shape), "passed": c.passed,
                     "max_difference": _finite(c.max_difference),
                     "relative_error": _finite(c.relative_error)}
                    for c in result.tensors],
    }
    return json.dumps(document, sort_keys=True, indent=2) + "\n"


def _finite(value: float):
    import math

    return value if math.isfinite(value) else None  # JSON has no inf or nan
