"""The gradient's health after one training step, told layer by layer: gradient norms over
depth (a sparkline), what the activations did (saturated, off, dead units), the verdict with
the layer at fault and advice that fits the settings in use, and units a symmetric start made
identical."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..core.i18n import N_, _, join_list, ngettext
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
    table = Table((_("layer"), _("output shape"), _("‖∂L/∂output‖"), _("‖∂L/∂params‖"),
                   _("‖∂L/∂input‖")), ("name", "", "grad", "grad", "grad"), tuple(rows))
    blocks: list = [table]
    if health is not None:
        picked, every = _spread(len(health.levels))
        deltas = sparkline(np.take(health.delta_norms, picked))
        if every > 1:
            blocks.append(_("‖δ⁽ˡ⁾‖ over depth l = 1..{depth}:  {sparkline}   (log scale, input "
                            "side first, one layer in {every})", depth=len(health.levels),
                            sparkline=deltas, every=every))
        else:
            blocks.append(_("‖δ⁽ˡ⁾‖ over depth l = 1..{depth}:  {sparkline}   (log scale, input "
                            "side first)", depth=len(health.levels), sparkline=deltas))
        # the two sparklines start in one column when the depth has two digits
        blocks.append(_("‖∂L/∂W⁽ˡ⁾‖ over depth:        {sparkline}",
                        sparkline=sparkline(np.take(health.weight_grad_norms, picked))))
    if diagnosis.activity:
        blocks += activity_blocks(diagnosis, precision)
    blocks.append(verdict_text(diagnosis, result, precision, network))
    return Section(_("Gradient health"), tuple(blocks), "health")


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
                  _("{dead} of {units}", dead=len(a.dead_units), units=a.units),
                  fmt(a.mean, precision), fmt(a.std, precision)) for a in diagnosis.activity)
    table = Table((_("activation"), _("units"), _("saturated"), _("off"), _("dead units"),
                   _("mean"), _("std")),
                  ("name", "number", "number", "number", "number", "value", "value"), rows)
    samples = diagnosis.activity[0].samples
    blocks: list = [table, _(
        "Over the batch of {samples}: saturated = share of entries (sample, unit) where |f′(z)| < "
        "{slope} while f(z) ≠ 0, so less than {share} of the gradient gets through; off = share "
        "where f(z) = 0 and f′(z) = 0; a dead unit is off for every sample. mean and std are "
        "those of the layer's outputs (the histograms of 《深度学习入门》 §6.2; --plot draws "
        "them).", samples=samples, slope=f"{SATURATED:g}", share=f"{SATURATED:.0%}")]
    unsure = [a for a in diagnosis.dead if not batch_tells_dead(a.samples)]
    if unsure and diagnosis.verdict != "dead":
        blocks.append(ngettext(
            "Units off for the whole batch: {listed}. With only {samples} sample a live unit, on "
            "for about half its inputs, is off for all of them by chance 1 time in {chance}: a "
            "larger --batch tells dead units from chance.",
            "Units off for the whole batch: {listed}. With only {samples} samples a live unit, "
            "on for about half its inputs, is off for all of them by chance 1 time in {chance}: "
            "a larger --batch tells dead units from chance.", samples,
            listed=_dead_listed(unsure), samples=samples, chance=2 ** samples))
    sure = [a for a in diagnosis.dead if batch_tells_dead(a.samples)]
    if sure and diagnosis.verdict != "dead":
        if _conv_units(sure):
            blocks.append(_("Dead units (off for all {samples} samples): {listed}. They pass no "
                            "gradient back (a unit here is one channel at one position; its "
                            "filter still learns from the positions that are on).",
                            samples=samples, listed=_dead_listed(sure)))
        else:
            blocks.append(_("Dead units (off for all {samples} samples): {listed}. They pass no "
                            "gradient back, so nothing moves their weights and they stay dead.",
                            samples=samples, listed=_dead_listed(sure)))
    return blocks


def _dead_listed(layers) -> str:
    """'relu1 3 of 5, relu2 1 of 5': the dead units of each layer."""
    return _(", ").join(_("{layer} {dead} of {units}", layer=a.layer, dead=len(a.dead_units),
                          units=a.units) for a in layers)


def _conv_units(layers) -> bool:
    """True when a unit is one channel at one position: a conv unit shares its filter with the
    other positions, so its weights still learn; a unit of a linear layer owns its row of W,
    which then never moves."""
    return any(len(a.unit_shape) > 1 for a in layers)


def verdict_text(diagnosis, result: StepResult, precision: int,
                 network: dict | None = None) -> str:
    """The verdict in a sentence or two, with advice that fits the network as it is: never
    what is already in use."""
    health, verdict = diagnosis.health, diagnosis.verdict
    if verdict == "nothing_to_learn":
        return _("Nothing to learn: the loss is 0 on this batch, so every gradient is 0 and the "
                 "step changes nothing. There is no gradient whose health could be judged.")
    if verdict == "no_gradient":
        return _("No gradient: the loss is {loss}, yet its gradient at the last layer is 0 "
                 "everywhere, so nothing flows back and the step changes nothing. There is no "
                 "gradient whose health could be judged.", loss=fmt(diagnosis.loss, precision + 2))
    setting = _setting(diagnosis, result, network)
    ratio = f"‖δ⁽¹⁾‖ / ‖δ⁽ᴸ⁾‖ = {fmt(health.ratio, precision + 1)}"
    if verdict in CAUSED and symmetric_units(result):
        headline = _causes(diagnosis, setting, ratio, precision)[0]
        return headline + _(" Here the cause is the symmetric start (see Symmetry below): equal "
                            "units send back gradients that are equal, or cancel, whatever the "
                            "activation.") + _try([_init_tip(setting, "random")])
    headline, more, tips = _causes(diagnosis, setting, ratio, precision)
    return headline + more + _try(tips)


def _causes(diagnosis, setting, ratio: str, precision: int) -> tuple[str, str, list[str]]:
    """The verdict's first sentence, the sentences that follow it (each with the space that
    leads into it), and the advice that fits."""
    verdict, health = diagnosis.verdict, diagnosis.health
    if verdict == "dead":
        return _dead_text(diagnosis, setting, ratio)
    if verdict == "saturated":
        return _saturated_text(diagnosis, setting, ratio, precision)
    if verdict == "vanishing":
        slope = _peak(setting.traits.peak_slope)
        headline = _("Vanishing: {ratio}.", ratio=ratio)
        more = _(" On the way back each layer multiplies the gradient by Wᵀ and by {act}′ (at "
                 "most {slope}), so it shrinks layer after layer and the first layers barely "
                 "learn.", act=setting.act, slope=slope)
        tips = [_init_tip(setting, "larger")]
        if setting.traits.flat_for_large:
            tips.append(_act_list(setting, lambda t: not t.flat_for_large,
                                  _("an activation with slope 1 for z > 0")))
        tips += _structure_tips(setting)
        return headline, more, tips
    if verdict == "exploding":
        headline = _("Exploding: {ratio}.", ratio=ratio) if np.isfinite(health.ratio) else \
            _("Exploding: {ratio} (the numbers overflowed).", ratio=ratio)
        more = _(" The weights are too large: the gradient grows by about ‖W‖ per layer on the "
                 "way back.")
        tips = [_init_tip(setting, "smaller"), *_structure_tips(setting), _smaller_lr(setting)]
        return headline, more, tips
    return _("Kept: {ratio} (within 10⁻³..10³ of the last layer's).", ratio=ratio), "", []


def _smaller_lr(setting) -> str:
    return _("a smaller --lr than {lr} when training", lr=f"{setting.lr:g}")


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


def _samples(count: int) -> str:
    if count == 1:
        return _("the one sample")
    if count == 2:
        return _("both samples")
    return _("all {count} samples", count=count)


def _dead_text(diagnosis, setting: _Setting, ratio: str) -> tuple[str, str, list[str]]:
    c = diagnosis.culprit
    samples = _samples(c.samples)
    more = ""
    if c.all_dead:
        headline = _("Dead: every unit of {layer} ({units} of {units}) is off for {samples}: "
                     "{op}(z) = 0 and {op}′(z) = 0 there, so no gradient passes below it and the "
                     "layers under it get none.", layer=c.layer, units=c.units, samples=samples,
                     op=c.op)
        if len(diagnosis.all_dead) > 1:
            more += _(" {dead} of {layers} activation layers are wholly dead, from {first} to "
                      "{last}.", dead=len(diagnosis.all_dead), layers=len(diagnosis.activity),
                      first=diagnosis.all_dead[0].layer, last=diagnosis.all_dead[-1].layer)
    else:
        fields = dict(share=percent(c.dead), layer=c.layer, dead=len(c.dead_units),
                      units=c.units, samples=samples, op=c.op)
        if _conv_units([c]):
            headline = _("Dead: {share} of the units of {layer} ({dead} of {units}) are off for "
                         "{samples} ({op}(z) = 0 and {op}′(z) = 0): they pass no gradient back "
                         "(a unit here is one channel at one position; its filter still learns "
                         "from the positions that are on).", **fields)
        else:
            headline = _("Dead: {share} of the units of {layer} ({dead} of {units}) are off for "
                         "{samples} ({op}(z) = 0 and {op}′(z) = 0): they pass no gradient back, "
                         "so nothing moves their weights and they stay dead.", **fields)
    more += _(" The gradient norms alone would say {verdict}: {ratio}.",
              verdict=_(GRADIENT_VERDICTS.get(diagnosis.health.verdict,
                                              diagnosis.health.verdict)), ratio=ratio)
    tips = [_init_tip(setting, "suited")]
    if not setting.traits.slope_below_zero:
        tips.insert(0, _act_list(setting, lambda t: t.slope_below_zero and not t.flat_for_large,
                                 _("an activation with a slope for z < 0")))
    if c.all_dead and c.units < WIDE:
        tips.append(_("wider layers ({units} units are all off for a sample about 1 time in "
                      "{chance} when each is on half the time, and the chances add up over many "
                      "layers and samples)", units=c.units, chance=2 ** c.units))
    tips += _structure_tips(setting)
    tips.append(_("a smaller --lr than {lr} when training (one large step can push a unit's z "
                  "below 0 for every input, for good)", lr=f"{setting.lr:g}"))
    return headline, more, tips


WIDE = 16  # narrower than this, a whole layer can die by chance: suggest wider layers
# what the gradient norms alone say (gradtrace.layers.step), as a reader is told it
GRADIENT_VERDICTS = {"vanishing": N_("vanishing"), "exploding": N_("exploding"),
                     "kept": N_("kept")}


def _saturated_text(diagnosis, setting: _Setting, ratio: str,
                    precision: int) -> tuple[str, str, list[str]]:
    c = diagnosis.culprit
    ends = " or ".join(f"{round(end, 1) + 0.0:g}" for end in c.ends)  # + 0.0: no -0
    fields = dict(share=percent(c.saturated), op=c.op, layer=c.layer, level=c.level,
                  slope=f"{SATURATED:g}", passed=f"{SATURATED:.0%}")
    if ends:
        headline = _("Saturated: {share} of the {op} outputs of {layer} (layer {level}) are "
                     "near {ends}, where {op}′ < {slope}: each passes back less than {passed} of "
                     "its gradient, so those units and the weights into them barely learn "
                     "(《深度学习入门》 §6.2.1 shows it for sigmoids under weights of std 1).",
                     ends=join_list(f"{round(end, 1) + 0.0:g}" for end in c.ends), **fields)
    else:
        headline = _("Saturated: {share} of the {op} outputs of {layer} (layer {level}) are "
                     "where {op}′ < {slope}: each passes back less than {passed} of its "
                     "gradient, so those units and the weights into them barely learn "
                     "(《深度学习入门》 §6.2.1 shows it for sigmoids under weights of std 1).",
                     **fields)
    more = _(" The gradient norms alone would say {verdict}: {ratio}.",
             verdict=_(GRADIENT_VERDICTS.get(diagnosis.health.verdict, diagnosis.health.verdict)),
             ratio=ratio)
    others = len(diagnosis.saturated) - 1
    if others:
        more += ngettext(" {count} other activation layer is saturated too.",
                         " {count} other activation layers are saturated too.", others,
                         count=others)
    tips = [_init_tip(setting, "smaller")]
    if setting.traits.flat_for_large:
        tips.append(_act_list(setting, lambda t: not t.flat_for_large,
                              _("an activation that does not flatten for large z")))
    tips.append(_batch_norm_tip(setting))
    return headline, more, tips


def _init_tip(setting: _Setting, direction: str) -> str:
    """The registry's initialisation for this activation, when it is not already in use."""
    suited = setting.traits.init
    if not suited or (setting.init == suited and setting.gain == 1):
        return ""
    formula = INIT_FORMULAS.get(suited, "")
    if setting.init is None:
        return _(INITIAL_WEIGHTS[direction], init=suited, formula=formula)
    if setting.init == suited:
        return _("--gain 1 (the {init} scale, {formula})", init=suited, formula=formula)
    if setting.gain != 1:
        return _("--init {init} and --gain 1 ({formula}, suited to {act})", init=suited,
                 formula=formula, act=setting.act)
    return _("--init {init} ({formula}, suited to {act})", init=suited, formula=formula,
             act=setting.act)


INIT_FORMULAS = {"he": "N(0, 2/fan_in)", "xavier": "N(0, 2/(fan_in + fan_out))"}
# "larger initial weights (he: N(0, 2/fan_in))", by the way the weights should go
INITIAL_WEIGHTS = {"larger": N_("larger initial weights ({init}: {formula})"),
                   "smaller": N_("smaller initial weights ({init}: {formula})"),
                   "suited": N_("suited initial weights ({init}: {formula})"),
                   "random": N_("random initial weights ({init}: {formula})")}


def _act_list(setting: _Setting, wanted, what: str) -> str:
    """'what: --act a, b or c (with --init he)', from the registry's activations, never the
    one in use."""
    found = [traits(op.name) for op in activations()]
    chosen = [t for t in found if wanted(t) and t.name != setting.act]
    if not chosen:
        return ""
    listed = join_list(t.name for t in chosen)
    inits = sorted({t.init for t in chosen if t.init})
    if len(inits) == 1 and setting.init != inits[0]:
        return _("{what}: --act {listed} with --init {init}", what=what, listed=listed,
                 init=inits[0])
    return _("{what}: --act {listed}", what=what, listed=listed)


DEEP = 4  # from this many weight layers on, fewer layers and batch norm are worth a try


def _structure_tips(setting: _Setting) -> list[str]:
    if setting.depth < DEEP:
        return []
    return [_("fewer layers"), _batch_norm_tip(setting)]


def _batch_norm_tip(setting: _Setting) -> str:
    module = "BatchNorm2d" if setting.image else "BatchNorm1d"
    return _("batch normalization before each activation (nn.{module} in the Python API), which "
             "re-centres and rescales each unit's z over the batch", module=module)


def _try(tips: list[str]) -> str:
    """' Try a; or b.' for the tips that are not empty."""
    tips = [tip for tip in tips if tip]
    if not tips:
        return ""
    return _(" Try {tips}.", tips=_("; or ").join(tips))


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
            lines.append(Line(((_("{layer}: units {units} of {count} have identical gradients "
                                  "(equal rows of ∂L/∂{parameter})", layer=item.layer,
                                  units=units, count=item.count, parameter=item.parameter), ""),),
                              warning=_("symmetry")))
    advice = _("Units that start with equal weights get equal gradients, so every update keeps "
               "them equal: the layer acts as one unit however wide it is. Random initial weights "
               "(--init xavier or he) break the symmetry.")
    return Section(_("Symmetry"), (tuple(lines), advice), "symmetry")
