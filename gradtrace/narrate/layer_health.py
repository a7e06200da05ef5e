"""The gradient's health after one training step, told layer by layer: gradient norms over
depth (a sparkline), what the activations did (saturated, off, dead units), the verdict with
the layer at fault and advice that fits the settings in use, and units a symmetric start made
identical."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..core.registry import activations
from ..layers.diagnosis import SATURATED, batch_tells_dead, diagnose, traits
from ..layers.step import StepResult, symmetric_units
from .blocks import Section, Table
from .layers import notes_shape
from .lines import Line
from .numbers import fmt
from .pictures import sparkline


def health_section(result: StepResult, precision: int, network: dict | None = None) -> Section:
    diagnosis = diagnose(result)
    health = diagnosis.health
    rows = []
    for s in result.summaries:
        params = s.param_grad_norms
        rows.append((s.name, notes_shape(s.output_shape), _norm(s.output_grad_norm, precision),
                     ", ".join(f"{k} {_norm(v, precision)}" for k, v in params.items()) or "—",
                     _norm(s.grad_norm, precision)))
    table = Table(("layer", "output shape", "‖∂L/∂output‖", "‖∂L/∂params‖", "‖∂L/∂input‖"),
                  ("name", "", "grad", "grad", "grad"), tuple(rows))
    blocks: list = [table]
    if health is not None:
        picked, every = _spread(len(health.levels))
        sampled = f", one layer in {every}" if every > 1 else ""
        blocks.append(f"‖δ⁽ˡ⁾‖ over depth l = 1..{len(health.levels)}:  "
                      f"{sparkline(np.take(health.delta_norms, picked))}   "
                      f"(log scale, input side first{sampled})")
        blocks.append("‖∂L/∂W⁽ˡ⁾‖ over depth:        "
                      f"{sparkline(np.take(health.weight_grad_norms, picked))}")
    if diagnosis.activity:
        blocks += activity_blocks(diagnosis, precision)
    blocks.append(verdict_text(diagnosis, result, precision, network))
    return Section("Gradient health", tuple(blocks))


CAUSED = ("dead", "saturated", "vanishing", "exploding")  # verdicts a symmetric start explains
SPARK_WIDTH = 64  # characters; deeper nets show every k-th layer


def _spread(count: int) -> tuple[np.ndarray, int]:
    """Indices of the layers drawn in a sparkline (all, or every k-th), and k."""
    every = max(1, -(-count // SPARK_WIDTH))
    return np.arange(0, count, every), every


def _norm(value, precision: int) -> str:
    return "—" if value is None else fmt(value, precision + 1)


def percent(share: float) -> str:
    """A share as a percentage for people: 64%, 0.3%, never 0% or 100% unless exactly."""
    if not np.isfinite(share):
        return fmt(share)
    text = f"{share:.0%}"
    if 0 < share < 1 and text in ("0%", "100%"):
        text = f"{share:.1%}"
        if text in ("0.0%", "100.0%"):
            text = "<0.1%" if share < 0.5 else ">99.9%"
    return text


def activity_blocks(diagnosis, precision: int) -> list:
    """The activation statistics table, what its columns mean, and dead units the batch is
    too small to be sure of."""
    rows = tuple((a.layer, str(a.units), percent(a.saturated), percent(a.off),
                  f"{len(a.dead_units)} of {a.units}", fmt(a.mean, precision),
                  fmt(a.std, precision)) for a in diagnosis.activity)
    table = Table(("activation", "units", "saturated", "off", "dead units", "mean", "std"),
                  ("name", "number", "number", "number", "number", "value", "value"), rows)
    samples = diagnosis.activity[0].samples
    blocks: list = [table, (
        f"Over the batch of {samples}: saturated = share of entries (sample, unit) where "
        f"|f′(z)| < {SATURATED:g} while f(z) ≠ 0, so less than {SATURATED:.0%} of the gradient "
        "gets through; off = share where f(z) = 0 and f′(z) = 0; a dead unit is off for every "
        "sample. mean and std are those of the layer's outputs (the histograms of "
        "《深度学习入门》 §6.2; --plot draws them).")]
    unsure = [a for a in diagnosis.dead if not batch_tells_dead(a.samples)]
    if unsure and diagnosis.verdict != "dead":
        listed = ", ".join(f"{a.layer} {len(a.dead_units)} of {a.units}" for a in unsure)
        blocks.append(f"Units off for the whole batch: {listed}. With only {samples} "
                      f"sample{'s' * (samples != 1)} a live unit, on for about half its inputs, "
                      f"is off for all of them by chance 1 time in {2 ** samples}: a larger "
                      "--batch tells dead units from chance.")
    sure = [a for a in diagnosis.dead if batch_tells_dead(a.samples)]
    if sure and diagnosis.verdict != "dead":
        listed = ", ".join(f"{a.layer} {len(a.dead_units)} of {a.units}" for a in sure)
        blocks.append(f"Dead units (off for all {samples} samples): {listed}. They pass no "
                      f"gradient back{_stuck(sure)}.")
    return blocks


def _stuck(layers) -> str:
    """What follows for the weights of dead units: a unit of a linear layer owns its row of W,
    which then never moves; a conv unit (one position of a channel) shares its filter with the
    other positions."""
    if any(len(a.unit_shape) > 1 for a in layers):
        return (" (a unit here is one channel at one position; its filter still learns from "
                "the positions that are on)")
    return ", so nothing moves their weights and they stay dead"


def verdict_text(diagnosis, result: StepResult, precision: int,
                 network: dict | None = None) -> str:
    """The verdict in a sentence or two, with advice that fits the network as it is: never
    what is already in use."""
    health, verdict = diagnosis.health, diagnosis.verdict
    if verdict == "nothing_to_learn":
        return ("Nothing to learn: the loss is 0 on this batch, so every gradient is 0 and the "
                "step changes nothing. There is no gradient whose health could be judged.")
    if verdict == "no_gradient":
        return (f"No gradient: the loss is {fmt(diagnosis.loss, precision + 2)}, yet its "
                "gradient at the last layer is 0 everywhere, so nothing flows back and the step "
                "changes nothing. There is no gradient whose health could be judged.")
    setting = _setting(diagnosis, result, network)
    ratio = f"‖δ⁽¹⁾‖ / ‖δ⁽ᴸ⁾‖ = {fmt(health.ratio, precision + 1)}"
    if verdict in CAUSED and symmetric_units(result):
        first = _causes(diagnosis, setting, ratio, precision).split(". ")[0]
        return (first + ". Here the cause is the symmetric start (see Symmetry below): equal "
                "units send back gradients that are equal, or cancel, whatever the "
                "activation." + _try([_init_tip(setting, "random")]))
    return _causes(diagnosis, setting, ratio, precision)


def _causes(diagnosis, setting, ratio: str, precision: int) -> str:
    """The verdict's sentence and the advice that fits."""
    verdict, health = diagnosis.verdict, diagnosis.health
    if verdict == "dead":
        return _dead_text(diagnosis, setting, ratio)
    if verdict == "saturated":
        return _saturated_text(diagnosis, setting, ratio, precision)
    if verdict == "vanishing":
        slope = _peak(setting.traits.peak_slope)
        why = (f"Vanishing: {ratio}. On the way back each layer multiplies the gradient by Wᵀ "
               f"and by {setting.act}′ (at most {slope}), so it shrinks layer after layer and the "
               "first layers barely learn.")
        tips = [_init_tip(setting, "larger")]
        if setting.traits.flat_for_large:
            tips.append(_act_list(setting, lambda t: not t.flat_for_large,
                                  "an activation with slope 1 for z > 0"))
        tips += _structure_tips(setting)
        return why + _try(tips)
    if verdict == "exploding":
        overflow = "" if np.isfinite(health.ratio) else " (the numbers overflowed)"
        why = (f"Exploding: {ratio}{overflow}. The weights are too large: the gradient grows "
               "by about ‖W‖ per layer on the way back.")
        tips = [_init_tip(setting, "smaller"), *_structure_tips(setting),
                f"a smaller --lr than {setting.lr:g} when training"]
        return why + _try(tips)
    return f"Kept: {ratio} (within 10⁻³..10³ of the last layer's)."


class _Setting(NamedTuple):
    act: str
    traits: object  # diagnosis.Traits of the activation in use
    init: str | None  # None when not known (a step not made by mlp or cnn)
    gain: float
    lr: float
    depth: int  # linear and conv layers
    image: bool  # the activations are images (N, C, H, W): BatchNorm2d rather than 1d


def _setting(diagnosis, result: StepResult, network: dict | None) -> _Setting:
    network = network or {}
    act = network.get("act") or (diagnosis.activity[0].op if diagnosis.activity else "")
    depth = len(diagnosis.health.levels) if diagnosis.health else 0
    image = any(len(s.output_shape) == 4 for s in result.summaries)
    known = act in {op.name for op in activations()}
    return _Setting(act, traits(act) if known else traits("relu"), network.get("init"),
                    float(network.get("gain", 1.0)), result.lr, depth, image)


def _dead_text(diagnosis, setting: _Setting, ratio: str) -> str:
    c = diagnosis.culprit
    samples = {1: "the one sample", 2: "both samples"}.get(c.samples, f"all {c.samples} samples")
    if c.all_dead:
        why = (f"Dead: every unit of {c.layer} ({c.units} of {c.units}) is off for {samples}: "
               f"{c.op}(z) = 0 and {c.op}′(z) = 0 there, so no gradient passes below it and "
               "the layers under it get none.")
        if len(diagnosis.all_dead) > 1:
            why += (f" {len(diagnosis.all_dead)} of {len(diagnosis.activity)} activation layers "
                    f"are wholly dead, from {diagnosis.all_dead[0].layer} to "
                    f"{diagnosis.all_dead[-1].layer}.")
    else:
        why = (f"Dead: {percent(c.dead)} of the units of {c.layer} ({len(c.dead_units)} of "
               f"{c.units}) are off for {samples} ({c.op}(z) = 0 and {c.op}′(z) = 0): they "
               f"pass no gradient back{_stuck([c])}.")
    why += f" The gradient norms alone would say {diagnosis.health.verdict}: {ratio}."
    tips = [_init_tip(setting, "suited")]
    if not setting.traits.slope_below_zero:
        tips.insert(0, _act_list(setting, lambda t: t.slope_below_zero and not t.flat_for_large,
                                 "an activation with a slope for z < 0"))
    if c.all_dead and c.units < WIDE:
        tips.append(f"wider layers ({c.units} units are all off for a sample about 1 time in "
                    f"{2 ** c.units} when each is on half the time, and the chances add up "
                    "over many layers and samples)")
    tips += _structure_tips(setting)
    tips.append(f"a smaller --lr than {setting.lr:g} when training (one large step can push a "
                "unit's z below 0 for every input, for good)")
    return why + _try(tips)


WIDE = 16  # narrower than this, a whole layer can die by chance: suggest wider layers


def _saturated_text(diagnosis, setting: _Setting, ratio: str, precision: int) -> str:
    c = diagnosis.culprit
    ends = " or ".join(f"{round(end, 1) + 0.0:g}" for end in c.ends)  # + 0.0: no -0
    where = f"near {ends}, " if ends else ""
    why = (f"Saturated: {percent(c.saturated)} of the {c.op} outputs of {c.layer} (layer "
           f"{c.level}) are {where}where {c.op}′ < {SATURATED:g}: each passes back less than "
           f"{SATURATED:.0%} of its gradient, so those units and the weights into them barely "
           "learn (《深度学习入门》 §6.2.1 shows it for sigmoids under weights of std 1). The "
           f"gradient norms alone would say {diagnosis.health.verdict}: {ratio}.")
    others = len(diagnosis.saturated) - 1
    if others == 1:
        why += " 1 other activation layer is saturated too."
    elif others:
        why += f" {others} other activation layers are saturated too."
    tips = [_init_tip(setting, "smaller")]
    if setting.traits.flat_for_large:
        tips.append(_act_list(setting, lambda t: not t.flat_for_large,
                              "an activation that does not flatten for large z"))
    tips.append(_batch_norm_tip(setting))
    return why + _try(tips)


def _init_tip(setting: _Setting, direction: str) -> str:
    """The registry's initialisation for this activation, when it is not already in use."""
    suited = setting.traits.init
    if not suited or (setting.init == suited and setting.gain == 1):
        return ""
    formula = INIT_FORMULAS.get(suited, "")
    gain = " and --gain 1" if setting.gain != 1 else ""
    if setting.init is None:
        return f"{direction} initial weights ({suited}: {formula})"
    if setting.init == suited:
        return f"--gain 1 (the {suited} scale, {formula})"
    return f"--init {suited}{gain} ({formula}, suited to {setting.act})"


INIT_FORMULAS = {"he": "N(0, 2/fan_in)", "xavier": "N(0, 2/(fan_in + fan_out))"}


def _act_list(setting: _Setting, wanted, what: str) -> str:
    """'what: --act a, b or c (with --init he)', from the registry's activations, never the
    one in use."""
    found = [traits(op.name) for op in activations()]
    chosen = [t for t in found if wanted(t) and t.name != setting.act]
    if not chosen:
        return ""
    names = [t.name for t in chosen]
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
    inits = sorted({t.init for t in chosen if t.init})
    init = f" with --init {inits[0]}" if len(inits) == 1 and setting.init != inits[0] else ""
    return f"{what}: --act {listed}{init}"


DEEP = 4  # from this many weight layers on, fewer layers and batch norm are worth a try


def _structure_tips(setting: _Setting) -> list[str]:
    if setting.depth < DEEP:
        return []
    return ["fewer layers", _batch_norm_tip(setting)]


def _batch_norm_tip(setting: _Setting) -> str:
    module = "BatchNorm2d" if setting.image else "BatchNorm1d"
    return (f"batch normalization before each activation (nn.{module} in the Python API), "
            "which re-centres and rescales each unit's z over the batch")


def _try(tips: list[str]) -> str:
    """' Try a; or b.' for the tips that are not empty."""
    tips = [tip for tip in tips if tip]
    if not tips:
        return ""
    return " Try " + "; or ".join(tips) + "."


def _peak(slope: float) -> str:
    return fmt(slope, 2)


def symmetry_section(result: StepResult) -> Section | None:
    found = symmetric_units(result)
    if not found:
        return None
    lines = []
    for item in found:
        for group in item.units:
            units = ", ".join(str(u + 1) for u in group)
            lines.append(Line(((f"{item.layer}: units {units} of {item.count} have identical "
                                f"gradients (equal rows of ∂L/∂{item.parameter})", ""),),
                              warning="symmetry"))
    advice = ("Units that start with equal weights get equal gradients, so every update keeps "
              "them equal: the layer acts as one unit however wide it is. Random initial "
              "weights (--init xavier or he) break the symmetry.")
    return Section("Symmetry", (tuple(lines), advice))
