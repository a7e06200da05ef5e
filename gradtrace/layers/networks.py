"""The networks `gradtrace mlp` and `gradtrace cnn` trace, as lists of LayerSpecs, with their
initial weights and one seeded batch of data.

Every random number comes from the one numpy Generator passed in, in a fixed order (weights
layer by layer, then the data, then the targets), so a seed gives the same step everywhere.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..core.tensor import tensor
from ..nn.init import initialise
from ..ops.im2col import geometry, pair
from .step import LayerSpec

CONSTANT = 0.5  # every weight under --init constant
LOSSES = {"ce": "cross_entropy", "mse": "mse"}


def initial_weights(scheme: str, shape: tuple[int, ...], rng: np.random.Generator,
                    gain: float = 1.0) -> np.ndarray:
    """Weights by gradtrace.nn.init (xavier: N(0, 2/(fan_in + fan_out)); he: N(0, 2/fan_in);
    normal: N(0, 1); zeros; constant: every weight CONSTANT), scaled by `gain`."""
    weights = tensor(np.zeros(shape))
    initialise(weights, scheme, rng, value=CONSTANT)
    return gain * weights.value


class Batch(NamedTuple):
    data: np.ndarray
    target: np.ndarray  # class indices for cross-entropy, one-hot rows for mse


def batch(shape: tuple[int, ...], classes: int, loss: str, rng) -> Batch:
    """Inputs drawn from N(0, 1) and random classes (one-hot rows when the loss is mse)."""
    data = rng.normal(0.0, 1.0, shape)
    labels = rng.integers(0, classes, shape[0])
    target = np.eye(classes)[labels] if loss == "mse" else labels
    return Batch(data, target)


def _linear(level: int, fan_in: int, fan_out: int, init: str, rng, gain: float) -> LayerSpec:
    weights = initial_weights(init, (fan_out, fan_in), rng, gain)
    params = ((f"W{level}", weights), (f"b{level}", np.zeros(fan_out)))
    return LayerSpec(f"fc{level}", "linear", params, (), "z", level)


def _activation(act: str, level: int) -> LayerSpec:
    return LayerSpec(f"{act}{level}", act, (), (), "a", level)


def _loss(loss: str) -> LayerSpec:
    return LayerSpec("loss", LOSSES[loss], (), (), "L")


def mlp_specs(sizes: list[int], act: str, init: str, loss: str, rng,
              gain: float = 1.0) -> list[LayerSpec]:
    """Linear layers between consecutive sizes, the activation after each but the last (the
    loss reads the last layer's z: softmax is inside cross-entropy)."""
    specs: list[LayerSpec] = []
    depth = len(sizes) - 1
    for level in range(1, depth + 1):
        specs.append(_linear(level, sizes[level - 1], sizes[level], init, rng, gain))
        if level < depth:
            specs.append(_activation(act, level))
    return specs + [_loss(loss)]


def mlp_sizes(layers: list[int], depth: int | None) -> list[int]:
    """--layers as given, or with --depth N: N linear layers, every hidden one as wide as the
    first hidden layer of --layers."""
    if depth is None:
        return layers
    return [layers[0]] + [layers[1]] * (depth - 1) + [layers[-1]]


class ConvSpec(NamedTuple):
    filters: int
    kernel: tuple[int, int]
    stride: int = 1
    padding: int = 0


def cnn_specs(input_shape: tuple[int, int, int], convs: list[ConvSpec], pool: tuple[str, int],
              classes: int, act: str, init: str, loss: str, rng,
              gain: float = 1.0) -> list[LayerSpec]:
    """[conv → act → pool] per --conv, then flatten → linear to the classes → loss."""
    channels, height, width = input_shape
    specs: list[LayerSpec] = []
    for level, conv in enumerate(convs, start=1):
        kh, kw = conv.kernel
        shape = (conv.filters, channels, kh, kw)
        weights = initial_weights(init, shape, rng, gain)
        params = ((f"W{level}", weights), (f"b{level}", np.zeros(conv.filters)))
        attrs = (("padding", conv.padding), ("stride", conv.stride))
        specs.append(LayerSpec(f"conv{level}", "conv2d", params, attrs, "z", level))
        specs.append(_activation(act, level))
        height, width = geometry((1, channels, height, width), (kh, kw), pair(conv.stride),
                                 pair(conv.padding))
        channels = conv.filters
        kind, size = pool
        if size > 1:
            attrs = (("kernel", size),)
            specs.append(LayerSpec(f"pool{level}", f"{kind}_pool2d", (), attrs, "p", level))
            height, width = height // size, width // size
    specs.append(LayerSpec("flatten", "flatten", (), (("start_dim", 1),), "f"))
    level = len(convs) + 1
    specs.append(_linear(level, channels * height * width, classes, init, rng, gain))
    return specs + [_loss(loss)]
