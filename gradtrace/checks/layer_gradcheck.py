"""Gradient checking one layer, as the course notes do: the VJP backprop uses against central finite
differences, for every input that takes a gradient (the data and each parameter), in float64.

The layer's output is reduced to a scalar L = Σ R ⊙ out with R drawn once from N(0, 1), so
every output entry counts; then for each input tensor T, analytic ∂L/∂T = VJP(R) and numeric
∂L/∂T[i] ≈ (L(T + h·eᵢ) − L(T − h·eᵢ)) / 2h. The relative error per tensor is
‖analytic − numeric‖ / (‖analytic‖ + ‖numeric‖), 0 when both are 0.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..core.arrays import sum_to
from ..core.errors import UsageError
from ..ops import REGISTRY
from .finite_differences import central_differences, textbook

STEP = 1e-6
TOLERANCE = 1e-6  # relative error below which a tensor passes (float64 central differences)
MAX_ELEMENTS = 20_000  # finite differences take two forward passes per element


class Options(NamedTuple):
    input_shape: tuple[int, ...] | None = None  # None: the layer's default
    out: int = 3  # linear: output features
    filters: int = 2  # conv2d
    kernel: int = 3  # conv2d, pooling (default 2 for pooling)
    stride: int | None = None
    padding: int = 0
    p: float = 0.5  # dropout
    classes: int = 3  # cross_entropy


class TensorCheck(NamedTuple):
    name: str
    shape: tuple[int, ...]
    analytic: np.ndarray
    numeric: np.ndarray
    max_difference: float
    relative_error: float

    @property
    def passed(self) -> bool:
        return bool(np.isfinite(self.relative_error) and self.relative_error < TOLERANCE)


class LayerCheck(NamedTuple):
    layer: str
    attrs: dict
    output_shape: tuple[int, ...]
    tensors: tuple[TensorCheck, ...]
    step: float = STEP
    tolerance: float = TOLERANCE

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.tensors)


DEFAULT_SHAPES = {"linear": (2, 4), "conv2d": (2, 2, 5, 5), "max_pool2d": (2, 2, 4, 4),
                  "avg_pool2d": (2, 2, 4, 4), "batch_norm": (4, 3), "batch_norm_eval": (4, 3),
                  "cross_entropy": (2, 3)}


def layer_inputs(layer: str, options: Options, rng) -> tuple[list, dict]:
    """[(name, value, differentiable)], attrs for `layer`, drawn from `rng`."""
    if layer not in REGISTRY:
        raise UsageError(f"gradcheck: unknown layer {layer!r}; see `gradtrace ops`")
    shape = options.input_shape or DEFAULT_SHAPES.get(layer, (2, 3))
    x = rng.normal(0.0, 1.0, shape)
    inputs, attrs = [("x", x, True)], {}
    channels = shape[1] if len(shape) > 1 else shape[0]
    if layer == "linear":
        inputs += [("W", rng.normal(0, 1, (options.out, shape[-1])), True),
                   ("b", rng.normal(0, 1, (options.out,)), True)]
    elif layer == "conv2d":
        k = options.kernel
        inputs += [("W", rng.normal(0, 1, (options.filters, channels, k, k)), True),
                   ("b", rng.normal(0, 1, (options.filters,)), True)]
        attrs = {"stride": options.stride or 1, "padding": options.padding}
    elif layer in ("max_pool2d", "avg_pool2d"):
        attrs = {"kernel": options.kernel, "stride": options.stride}
    elif layer.startswith("batch_norm"):
        inputs += [("gamma", rng.normal(1, 0.5, (channels,)), True),
                   ("beta", rng.normal(0, 1, (channels,)), True)]
        if layer == "batch_norm_eval":
            inputs += [("mean", rng.normal(0, 1, (channels,)), False),
                       ("var", rng.uniform(0.5, 2.0, (channels,)), False)]
    elif layer == "dropout":
        inputs.append(("mask", (rng.random(shape) >= options.p).astype(float), False))
        attrs = {"p": options.p}
    elif layer == "cross_entropy":
        inputs.append(("target", rng.integers(0, shape[-1], shape[:-1]).astype(float), False))
    elif REGISTRY[layer].arity == 2:
        inputs.append(("y", rng.normal(0, 1, shape), True))
    if len(inputs) != REGISTRY[layer].arity:
        raise UsageError(f"gradcheck does not know how to build the inputs of {layer}")
    return inputs, attrs


def gradcheck(layer: str, options: Options, seed: int = 0) -> LayerCheck:
    rng = np.random.default_rng(seed)
    inputs, attrs = layer_inputs(layer, options, rng)
    if sum(np.size(value) for _, value, wanted in inputs if wanted) > MAX_ELEMENTS:
        raise UsageError(f"gradcheck: more than {MAX_ELEMENTS:,} elements to perturb; use "
                         "smaller shapes (finite differences take two passes per element)")
    op = REGISTRY[layer]
    values = [np.asarray(value, dtype=np.float64) for _, value, _ in inputs]
    try:
        out = op.evaluate(tuple(values), attrs)
    except (ValueError, IndexError, TypeError) as error:
        raise UsageError(f"gradcheck {layer}: these shapes do not fit: {error}") from None
    weights = rng.normal(0.0, 1.0, np.shape(out))
    wanted = tuple(flag and op.takes_gradient(i) for i, (_, _, flag) in enumerate(inputs))
    vjps = op.vjp(weights, tuple(values), out, wanted, attrs)

    def loss(current) -> float:
        return float(np.sum(weights * op.evaluate(tuple(current), attrs)))

    checks = []
    for index, (name, _, _) in enumerate(inputs):
        if not wanted[index]:
            continue
        analytic = sum_to(np.asarray(vjps[index], dtype=np.float64), values[index].shape)
        numeric = _numeric(loss, values, index)
        checks.append(_compare(name, analytic, numeric))
    return LayerCheck(layer, attrs, tuple(np.shape(out)), tuple(checks))


def _numeric(loss, values: list, index: int) -> np.ndarray:
    """Central differences of `loss` along every element of values[index]."""
    def moved(value):
        return loss(values[:index] + [value] + values[index + 1:])

    return central_differences(moved, values[index], textbook(STEP))


def _compare(name: str, analytic: np.ndarray, numeric: np.ndarray) -> TensorCheck:
    difference = float(np.max(np.abs(analytic - numeric))) if analytic.size else 0.0
    scale = np.linalg.norm(analytic) + np.linalg.norm(numeric)
    relative = float(np.linalg.norm(analytic - numeric) / scale) if scale else 0.0
    return TensorCheck(name, analytic.shape, analytic, numeric, difference, relative)
