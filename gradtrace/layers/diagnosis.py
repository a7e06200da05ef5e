"""What one traced step says about a network beyond its gradient norms: how its activation
layers behave over the batch (saturated, dead), which input rows and columns a sliding window
never reads, and the verdict that weighs all of it.

Activation statistics, per activation layer, over every entry (sample, unit) of the batch; a
unit is one output of the layer for one sample (a feature of an MLP layer; a channel at one
position of a conv layer). Each is decided from the values, with the layer's own local
derivative f′(z) from the registry, never from a list of activation names:

- off: f(z) = 0 and f′(z) = 0 (a relu with z ≤ 0): neither a signal forward nor a gradient back;
- dead unit: off for every sample of the batch (nothing it sees turns it on);
- saturated: |f′(z)| < SATURATED (0.01) where the unit is not off: the flat tails of sigmoid
  (at 0 or 1, where σ′ = a(1 − a) < 0.01) and tanh (|a| > 0.995), elu far below 0. Such a unit
  passes back less than a hundredth of the gradient it gets;
- mean and std of the layer's outputs (what 《深度学习入门》 §6.2 draws as histograms).

Verdict, first rule that holds (`diagnose`):

1. nothing_to_learn: the loss is 0 and no gradient flows; no_gradient: the loss is not 0 yet
   its gradient at the last layer is exactly 0. Nothing is diagnosed from a zero gradient.
2. dead: some activation layer has every unit dead (no gradient passes below it), or, with a
   batch large enough to tell (a live unit that is on half the time is off for all N samples
   with chance 2⁻ᴺ; we trust the count when that is below CHANCE, N ≥ 7), at least DEAD_SHARE
   of its units dead.
3. saturated: at least SATURATED_SHARE of the entries of some activation layer are saturated.
4. exploding, vanishing or kept, from the gradient norms (step.gradient_health).

May import what gradtrace.layers may: gradtrace.core, gradtrace.ops.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from ..core.registry import with_defaults
from ..ops import REGISTRY
from ..ops.im2col import pair
from .step import Health, StepResult, gradient_health

SATURATED = 0.01  # |f′| below this: a saturated unit
SATURATED_SHARE = 0.25  # of a layer's entries, to call the layer saturated
DEAD_SHARE = 0.5  # of a layer's units, to call it dying (when the batch can tell)
CHANCE = 0.01  # a count of dead units is trusted when 2⁻ᴺ (chance of a live one) is below this
PROBE = 4.0  # where an activation's slope is read to tell what kind it is (see `traits`)


class Activity(NamedTuple):
    """One activation layer over the batch."""

    layer: str
    op: str
    level: int
    samples: int  # N
    units: int  # outputs per sample
    unit_shape: tuple[int, ...]  # their shape: (F,) after a linear layer, (C, H, W) after a conv
    saturated: float  # share of entries with |f′| < SATURATED, not off
    off: float  # share of entries with f = 0 and f′ = 0
    dead: float  # share of units off for every sample
    dead_units: tuple[int, ...]  # their indices in the flattened sample (0-based)
    mean: float
    std: float
    ends: tuple[float, ...]  # mean output of the saturated entries with z < 0, then z > 0

    @property
    def all_dead(self) -> bool:
        return self.units > 0 and len(self.dead_units) == self.units


def activity(result: StepResult) -> tuple[Activity, ...]:
    """The statistics of every elementwise activation layer, input side first."""
    records, found = result.trace.by_id, []
    for layer in result.layers:
        op = REGISTRY[layer.spec.op]
        if op.activation is None or not op.elementwise:
            continue
        z = np.asarray(records[layer.input].value)
        a = np.asarray(records[layer.output].value)
        samples = z.shape[0] if z.ndim else 1
        with np.errstate(all="ignore"):
            slope = op.local(0, (z,), a, dict(layer.spec.attrs)).reshape(samples, -1)
            values = a.reshape(samples, -1)
            off = (slope == 0) & (values == 0)
            saturated = (np.abs(slope) < SATURATED) & ~off
            mean, std = float(np.mean(values)), float(np.std(values))
            inputs = z.reshape(samples, -1)
            ends = tuple(float(np.mean(values[saturated & side])) for side in
                         (inputs < 0, inputs > 0) if np.any(saturated & side))
        dead = np.flatnonzero(off.all(axis=0))
        units = values.shape[1]
        found.append(Activity(
            layer.name, layer.spec.op, layer.spec.level, samples, units, tuple(a.shape[1:]),
            _share(saturated), _share(off), len(dead) / units if units else 0.0,
            tuple(int(i) for i in dead), mean, std, ends))
    return tuple(found)


def _share(mask: np.ndarray) -> float:
    return float(np.mean(mask)) if mask.size else 0.0


def batch_tells_dead(samples: int) -> bool:
    """Whether N samples are enough to call a unit dead that is off for all of them: a live
    unit, on for about half its inputs, is off for all N with chance 2⁻ᴺ."""
    return 0.5 ** samples < CHANCE


# -- the verdict -----------------------------------------------------------------------------

class Diagnosis(NamedTuple):
    verdict: str  # nothing_to_learn, no_gradient, dead, saturated, exploding, vanishing, kept
    health: Health | None  # the gradient norms and their own verdict
    activity: tuple[Activity, ...]
    culprit: Activity | None  # the layer a dead or saturated verdict names
    dead: tuple[Activity, ...]  # layers with units dead over the batch
    all_dead: tuple[Activity, ...]  # layers whose every unit is dead
    saturated: tuple[Activity, ...]  # layers with at least SATURATED_SHARE saturated
    loss: float


def diagnose(result: StepResult) -> Diagnosis:
    """The verdict on one step (the rules are in the module docstring)."""
    health = gradient_health(result.summaries)
    stats = activity(result)
    dead = tuple(a for a in stats if a.dead_units)
    all_dead = tuple(a for a in dead if a.all_dead)
    dying = tuple(a for a in dead if a.dead >= DEAD_SHARE and batch_tells_dead(a.samples))
    saturated = tuple(a for a in stats if a.saturated >= SATURATED_SHARE)
    culprit = None
    if health is None or health.verdict == "no_gradient":
        verdict = "nothing_to_learn" if result.loss == 0 or health is None else "no_gradient"
    elif all_dead or dying:
        verdict = "dead"
        culprit = all_dead[0] if all_dead else max(dying, key=lambda a: a.dead)
    elif saturated:
        verdict = "saturated"
        culprit = max(saturated, key=lambda a: a.saturated)
    else:
        verdict = health.verdict
    return Diagnosis(verdict, health, stats, culprit, dead, all_dead, saturated, result.loss)


# -- what kind of activation: read from its slope ----------------------------------------------

class Traits(NamedTuple):
    name: str
    init: str  # the initialisation the registry pairs it with
    flat_for_large: bool  # |f′(PROBE)| < 0.5: saturates, as sigmoid and tanh do
    slope_below_zero: bool  # f′(−PROBE) ≠ 0: a unit with z < 0 still passes some gradient
    peak_slope: float  # the largest |f′| over −3·PROBE..3·PROBE: 0.25 for sigmoid
    bounds: tuple[float | None, float | None]  # the output's limits as z → ∓∞ (None: none)


def traits(op_name: str) -> Traits:
    """An activation's kind, read from its local derivative at ±PROBE (4): relu has slope 1
    above and 0 below; leaky_relu, elu, silu and softplus keep some slope below; sigmoid and
    tanh are nearly flat at 4 (σ′(4) ≈ 0.018, tanh′(4) ≈ 0.0013)."""
    op = REGISTRY[op_name]
    z = np.concatenate([[-PROBE, PROBE], np.linspace(-3 * PROBE, 3 * PROBE, 2401)])
    attrs = with_defaults(op, ())
    with np.errstate(all="ignore"):
        slopes = np.abs(op.local(0, (z,), op.evaluate((z,), attrs), attrs))
    init = op.activation.init if op.activation is not None else ""
    return Traits(op_name, init, bool(slopes[1] < 0.5), bool(slopes[0] != 0),
                  float(np.max(slopes)), _bounds(op, attrs))


def _bounds(op, attrs) -> tuple[float | None, float | None]:
    """Where the output levels off as z → −∞ and z → +∞ (0 and 1 for sigmoid, 0 and none for
    relu): the value at ∓50, when it barely moves from ∓25."""
    z = np.array([-50.0, -25.0, 25.0, 50.0])
    with np.errstate(all="ignore"):
        out = op.evaluate((z,), attrs)
    low = round(float(out[0]), 6) + 0.0 if abs(out[0] - out[1]) < 1e-6 else None
    high = round(float(out[3]), 6) + 0.0 if abs(out[3] - out[2]) < 1e-6 else None
    return low, high  # rounded: 1.9e-22 is 0 for a picture


# -- sliding windows that do not fit -----------------------------------------------------------

class Coverage(NamedTuple):
    """Which input rows and columns the windows of a conv or pooling layer read. The output
    size is PyTorch's, OH = ⌊(H + 2P − K)/S⌋ + 1: a window that would run past the (padded)
    input is dropped, so the rows and columns only it would have read are never read."""

    layer: str
    op: str
    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]
    input_size: tuple[int, int]  # H, W
    output_size: tuple[int, int]  # OH, OW
    rows: tuple[int, ...]  # input rows no window reads (0-based)
    columns: tuple[int, ...]

    @property
    def complete(self) -> bool:
        return not self.rows and not self.columns


def coverage(result: StepResult) -> tuple[Coverage, ...]:
    """Every layer that slides a window over an image: conv2d (the kernel is its filters'
    KH × KW) and the pooling ops (their `kernel` attribute; stride defaults to the kernel)."""
    records, found = result.trace.by_id, []
    for layer in result.layers:
        op = REGISTRY[layer.spec.op]
        attrs = with_defaults(op, layer.spec.attrs)
        if "stride" not in attrs:
            continue
        if "kernel" in attrs:
            kernel = pair(attrs["kernel"])
        elif layer.spec.params and np.ndim(layer.spec.params[0][1]) == 4:
            kernel = tuple(int(n) for n in np.shape(layer.spec.params[0][1])[2:])
        else:
            continue
        stride = pair(kernel if attrs["stride"] is None else attrs["stride"])
        padding = pair(attrs.get("padding", 0))
        height, width = np.shape(records[layer.input].value)[2:]
        rows, out_h = _unread(height, kernel[0], stride[0], padding[0])
        columns, out_w = _unread(width, kernel[1], stride[1], padding[1])
        found.append(Coverage(layer.name, layer.spec.op, kernel, stride, padding,
                              (height, width), (out_h, out_w), rows, columns))
    return tuple(found)


def _unread(size: int, kernel: int, stride: int, padding: int) -> tuple[tuple[int, ...], int]:
    """(input indices no window reads, number of windows) along one axis."""
    count = math.floor((size + 2 * padding - kernel) / stride) + 1
    read = np.zeros(size + 2 * padding, dtype=bool)
    for start in range(0, count * stride, stride):
        read[start:start + kernel] = True
    inside = read[padding:padding + size]
    return tuple(int(i) for i in np.flatnonzero(~inside)), count
