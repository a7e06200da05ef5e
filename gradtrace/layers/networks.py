"""The networks `gradtrace mlp` and `gradtrace cnn` trace, as lists of LayerSpecs, with their
initial weights and one seeded batch of data.

Every random number comes from the one numpy Generator passed in, in a fixed order (weights
layer by layer, then the data, then the targets), so a seed gives the same step everywhere.

The loss follows the number of outputs: with K ≥ 2 outputs, --loss ce is softmax cross-entropy
against random class indices and mse compares with their one-hot rows; with one output the net
is a binary classifier, so ce is binary cross-entropy on the logit (a sigmoid folded into the
loss) and both losses compare with random 0/1 targets, one column. (Softmax over one class is
always 1: its cross-entropy is 0 whatever the weights, and there is nothing to learn.)
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from ..core.budget import over_budget, over_whole_budget
from ..core.errors import UsageError
from ..core.i18n import _
from ..core.tensor import tensor
from ..nn.init import initialise
from ..ops.im2col import geometry, pair
from .step import LayerSpec

CONSTANT = 0.5  # every weight under --init constant
LOSSES = {"ce": "cross_entropy", "mse": "mse"}  # with two or more outputs
BINARY_LOSSES = {"ce": "binary_cross_entropy_with_logits", "mse": "mse"}  # with one output


MAX_LAYERS = 1_000  # linear and conv layers in one traced step (its story: ~21 lines each)
# the arrays of a step, per array sized: its value, its gradient, its update and the
# temporaries of their products; measured: `mlp --layers 3000,3000,3000 --batch 1000` peaks at
# 1.33 GB above the interpreter for 33 million numbers in those arrays, five float64 copies
COPIES = 5


def check_layers(layers: int, parameter: str | None) -> None:
    """Refuse more than MAX_LAYERS weighted layers, before anything is built."""
    if layers > MAX_LAYERS:
        raise UsageError(_("{layers} layers, more than the {limit} one traced step narrates (its story "
                           "has about 21 lines per layer); vanishing and exploding gradients "
                           "already show at --depth 10 to 100", layers=f"{layers:,}",
                           limit=f"{MAX_LAYERS:,}"), parameter)


def check_size(arrays: list[tuple[str, tuple[int, ...]]], parameter: str | None,
               batch_parameter: str | None = None) -> None:
    """Refuse a network too big to trace before any of it is allocated: one array over the
    element budget, or all of them over the whole-work budget (gradtrace.core.budget).
    `arrays` are (what, shape) pairs: weights, activations, im2col blocks. An array of the
    batch (the input, a layer's outputs) that is too large blames `batch_parameter` when given
    (--batch), the others `parameter`."""
    total = 0
    batch_arrays = {_("the input batch")} | {what for what, _shape in arrays
                                            if what[:1] in ("z", "a")}
    for what, shape in arrays:
        elements = math.prod(shape)
        why = over_budget(elements)
        if why:
            blamed = batch_parameter if batch_parameter and what in batch_arrays else parameter
            raise UsageError(_("{what} of shape {shape} would make {why}", what=what,
                               shape="×".join(map(str, shape)), why=why),
                             blamed)
        total += COPIES * elements
    why = over_whole_budget(total)
    if why:
        raise UsageError(_("the step's arrays would make {why}", why=why), parameter)


def mlp_arrays(sizes: list[int], batch_size: int) -> list[tuple[str, tuple[int, ...]]]:
    """The arrays one step of an MLP makes: each W⁽ˡ⁾ and each layer's z⁽ˡ⁾ (and a⁽ˡ⁾)."""
    arrays = [(_("the input batch"), (batch_size, sizes[0]))]
    for level, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        arrays += [(f"W{level}", (fan_out, fan_in)), (f"z{level}", (batch_size, fan_out)),
                   (f"a{level}", (batch_size, fan_out))]
    return arrays


def loss_op(loss: str, outputs: int) -> str:
    """The registry op computing --loss for a last layer of `outputs` units."""
    return (BINARY_LOSSES if outputs == 1 else LOSSES)[loss]


def initial_weights(scheme: str, shape: tuple[int, ...], rng: np.random.Generator,
                    gain: float = 1.0) -> np.ndarray:
    """Weights by gradtrace.nn.init (xavier: N(0, 2/(fan_in + fan_out)); he: N(0, 2/fan_in);
    normal: N(0, 1); zeros; constant: every weight CONSTANT), scaled by `gain`."""
    weights = tensor(np.zeros(shape))
    initialise(weights, scheme, rng, value=CONSTANT)
    return gain * weights.value


class Batch(NamedTuple):
    data: np.ndarray
    target: np.ndarray  # class indices (ce) or one-hot rows (mse); 0/1 as (N, 1) for one output


def batch(shape: tuple[int, ...], classes: int, loss: str, rng) -> Batch:
    """Inputs drawn from N(0, 1) and random classes (one-hot rows when the loss is mse); for one
    output, random 0/1 targets as a column (N, 1), which both losses compare with the logit."""
    data = rng.normal(0.0, 1.0, shape)
    if classes == 1:
        labels = rng.integers(0, 2, shape[0])
        return Batch(data, labels.astype(np.float64).reshape(-1, 1))
    labels = rng.integers(0, classes, shape[0])
    target = np.eye(classes)[labels] if loss == "mse" else labels
    return Batch(data, target)


def _linear(level: int, fan_in: int, fan_out: int, init: str, rng, gain: float) -> LayerSpec:
    weights = initial_weights(init, (fan_out, fan_in), rng, gain)
    params = ((f"W{level}", weights), (f"b{level}", np.zeros(fan_out)))
    return LayerSpec(f"fc{level}", "linear", params, (), "z", level)


def _activation(act: str, level: int) -> LayerSpec:
    return LayerSpec(f"{act}{level}", act, (), (), "a", level)


def _loss(loss: str, outputs: int) -> LayerSpec:
    return LayerSpec("loss", loss_op(loss, outputs), (), (), "L")


def mlp_specs(sizes: list[int], act: str, init: str, loss: str, rng,
              gain: float = 1.0) -> list[LayerSpec]:
    """Linear layers between consecutive sizes, the activation after each but the last (the
    loss reads the last layer's z: softmax, or the sigmoid for one output, is inside the
    cross-entropy)."""
    specs: list[LayerSpec] = []
    depth = len(sizes) - 1
    for level in range(1, depth + 1):
        specs.append(_linear(level, sizes[level - 1], sizes[level], init, rng, gain))
        if level < depth:
            specs.append(_activation(act, level))
    return specs + [_loss(loss, sizes[-1])]


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


def cnn_arrays(input_shape: tuple[int, int, int], convs: list[ConvSpec], pool: int,
               classes: int, batch_size: int) -> list[tuple[str, tuple[int, ...]]]:
    """The arrays one step of the CNN makes: the batch, per conv its filters, im2col block and
    feature maps, then the last linear layer's weights and outputs."""
    channels, height, width = input_shape
    arrays = [(_("the input batch"), (batch_size, channels, height, width))]
    for level, conv in enumerate(convs, start=1):
        kh, kw = conv.kernel
        height = (height + 2 * conv.padding - kh) // conv.stride + 1
        width = (width + 2 * conv.padding - kw) // conv.stride + 1
        arrays += [(f"W{level}", (conv.filters, channels, kh, kw)),
                   (_("conv{level}'s im2col block", level=level),
                    (batch_size * height * width, channels * kh * kw)),
                   (f"z{level}", (batch_size, conv.filters, height, width))]
        channels = conv.filters
        if pool > 1:
            height, width = height // pool, width // pool
    level = len(convs) + 1
    features = channels * height * width
    return arrays + [(f"W{level}", (classes, features)), (f"z{level}", (batch_size, classes))]


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
    return specs + [_loss(loss, classes)]
