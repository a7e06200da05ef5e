"""Finite differences: the numeric leg of every gradient check.

For one element x of the input and a step h (f at a moved point written f(x + h)):

    central                ∂f/∂x ≈ (f(x + h) − f(x − h)) / 2h
    one-sided, from above  ∂f/∂x ≈ (−3·f(x) + 4·f(x + h) − f(x + 2h)) / 2h
    one-sided, from below  the same with −h

Both are exact for a parabola (their error is of order h²). Each divides by the distances
between the points actually evaluated (x ± h rounds), so only the method's own error is left.

Two step rules, one routine.

`settled(rtol, atol)`, the three-way check of `explain` and `check`, chooses h for each element:

1. It starts at h = ε^(1/3)·max(1, |x|). That balances truncation (order h²) against rounding
   (order ε·|f|/h) for a function that bends on the scale of x, or of 1.
2. It makes h ten times smaller, up to SHRINKS times, until two estimates in a row agree
   within (rtol, atol): a tenth of the tolerance the check then applies. Then h is below the
   scale on which f bends (where tanh(x·1e10) saturates, the estimate is about 1/h and never
   settles until h is near 1e-10) and still above the scale on which rounding shows (there,
   successive estimates scatter). The estimate at the larger step of that pair is kept.
   Where 0 < |x| is smaller still, steps on the scale of x follow: ε^(1/3)·|x| and
   tenfold smaller ones (log(x) at x = 1e-30 bends on the scale of 1e-30).
3. At each h, where f is not finite at x + h or x − h (the step left f's domain: the log of a
   negative number, exp past 709.78), the one-sided formula from the side where f is finite;
   where neither side is, the next smaller h.
4. If no two estimates in a row agree, there is no estimate, and `Estimate.why_not` says why:
   the check then says "not checked, because ...", which is not a failure.

`textbook(h)`, `gradtrace gradcheck`, is the formula as the CS231n notes' eval_numerical_gradient
writes it: a fixed h = 1e-6 and 2h below the line. Where f is not finite at x ± h, that
element falls back to the settled rule.

A shared `Evaluations` budget bounds the extra evaluations that shrinking takes, so a graph
whose every element needs small steps cannot run past the time the check allows; the budget
counts evaluations, not seconds, so the result is the same on every machine.
"""

from __future__ import annotations

import math
from typing import Callable, NamedTuple

import numpy as np

from ..core.i18n import N_, Joined, message

CUBE_ROOT_EPS = np.finfo(np.float64).eps ** (1 / 3)
SHRINK = 10.0  # each step is this many times smaller than the one before
SHRINKS = 12  # from ε^(1/3)·max(1, |x|) down to a millionth of a millionth of it
SMALL_X_STEPS = 5  # steps on the scale of a small x: ε^(1/3)·|x| and four tenfold smaller
EVALUATIONS_PER_ELEMENT = 4  # the settled rule's least: f(x ± h) at two steps

# A function of the offset t: (f at the point moved by t, the offset actually taken).
Move = Callable[[float], tuple[float, float]]


class Estimate(NamedTuple):
    value: float  # nan when there is no estimate
    why_not: str = ""  # then, why: "f is not finite on either side of this point"


class Differences(NamedTuple):
    """∂f/∂x for the elements asked for (nan elsewhere, and where there is no estimate), and
    why there is none, by flat index."""

    gradient: np.ndarray
    why_not: dict[int, str]


class Evaluations:
    """How many more evaluations of f the settled rule may spend beyond EVALUATIONS_PER_ELEMENT
    per element (None: no bound)."""

    def __init__(self, extra: int | None = None):
        self.left = extra

    def spend(self, count: int) -> bool:
        if self.left is None:
            return True
        if self.left < count:
            return False
        self.left -= count
        return True


Rule = Callable[[Move, float, float, Evaluations], Estimate]

# Why no estimate: templates for the catalog, said in words where a check's note is written
# (gradtrace.checks.gradients, layer_gradcheck) with i18n.message.
NOT_FINITE = N_("f is not finite on either side of this point, at any step tried")
UNSETTLED = N_("the finite differences did not settle as the step shrank (the derivative may be "
               "infinite here, or f may change faster than float64 resolves)")
NOT_FINITE_AT_H = N_("f is not finite at x + h or x − h")
TOO_LARGE = N_("the differences are larger than the largest float here")
OUT_OF_BUDGET = N_("the finite differences had not settled when the time for them ran out")


def reasons_said(reasons) -> Joined:
    """The reasons (NOT_FINITE, UNSETTLED...) each once, joined with "and", as a reader is
    told them in the current language (and again in a later one)."""
    return Joined([message(reason) for reason in dict.fromkeys(reasons)], " and ")


def settled(rtol: float, atol: float) -> Rule:
    """The rule that shrinks h until two estimates in a row agree within rtol, atol."""
    def rule(move: Move, f0: float, x: float, budget: Evaluations) -> Estimate:
        previous, evaluated, overflowed = None, 0, False
        for h in steps(x):
            if evaluated >= EVALUATIONS_PER_ELEMENT and not budget.spend(3):
                return Estimate(math.nan, OUT_OF_BUDGET)
            estimate, used = at_step(move, f0, h)
            evaluated += used
            if estimate is None or not math.isfinite(estimate):
                overflowed = overflowed or estimate is not None
                continue
            if previous is not None and _agree(previous, estimate, rtol, atol):
                return Estimate(previous)
            previous = estimate
        if previous is not None:
            return Estimate(math.nan, UNSETTLED)
        return Estimate(math.nan, TOO_LARGE if overflowed else NOT_FINITE)

    return rule


def textbook(h: float, fallback: Rule | None = None) -> Rule:
    """A fixed h and (f(x + h) − f(x − h)) / 2h, as the course notes write it; where f is not
    finite on a side, `fallback` (or no estimate)."""
    def rule(move: Move, f0: float, x: float, budget: Evaluations) -> Estimate:
        up, _ = move(h)
        down, _ = move(-h)
        if math.isfinite(up) and math.isfinite(down):
            return Estimate((up - down) / (2 * h))
        if fallback is None:
            return Estimate(math.nan, NOT_FINITE_AT_H)
        return fallback(move, f0, x, budget)

    return rule


def steps(x: float) -> list[float]:
    """The steps the settled rule tries, largest first (see the module docstring)."""
    first = CUBE_ROOT_EPS * max(1.0, abs(x))
    tried = [first / SHRINK**k for k in range(SHRINKS + 1)]
    small = CUBE_ROOT_EPS * abs(x)
    if 0 < small < tried[-1]:
        tried += [small / SHRINK**k for k in range(SMALL_X_STEPS)]
    return tried


def at_step(move: Move, f0: float, h: float) -> tuple[float | None, int]:
    """The estimate at step h (None where f is not finite on either side, or the step is lost
    to rounding; inf or nan where the differences overflow) and how many evaluations it took:
    central where f is finite on both sides, else one-sided from the side where it is."""
    up, above = move(h)
    down, below = move(-h)
    used = 2
    if above == below:  # the step is lost to rounding
        return None, used
    if math.isfinite(up) and math.isfinite(down):
        return _central(up, down, above - below), used
    for near, offset in ((up, above), (down, below)):
        if math.isfinite(near) and offset != 0.0:
            far, far_offset = move(2 * offset)
            used += 1
            if math.isfinite(far) and far_offset not in (0.0, offset):
                return _one_sided(f0, near, far, offset, far_offset), used
    return None, used


def _central(up: float, down: float, distance: float) -> float:
    with np.errstate(over="ignore", invalid="ignore"):
        value = (up - down) / distance
        if math.isfinite(value):
            return value
        scale = max(abs(up), abs(down))  # f near the largest float: difference the scaled values
        return float(np.float64(scale) * ((up / scale - down / scale) / distance))


def _one_sided(f0: float, f1: float, f2: float, t1: float, t2: float) -> float:
    """The slope at 0 of the parabola through (0, f0), (t1, f1), (t2, f2), written with the
    changes f1 − f0 and f2 − f0 (so a constant f gives exactly 0); near the largest float the
    values are scaled first, so nothing overflows in between."""
    c1 = t2 / (t1 * (t2 - t1))
    c2 = -t1 / (t2 * (t2 - t1))
    with np.errstate(over="ignore", invalid="ignore"):
        value = c1 * (f1 - f0) + c2 * (f2 - f0)
        if math.isfinite(value):
            return value
        scale = max(abs(f0), abs(f1), abs(f2))
        return float(np.float64(scale) * (c1 * (f1 / scale - f0 / scale)
                                          + c2 * (f2 / scale - f0 / scale)))


def _agree(a: float, b: float, rtol: float, atol: float) -> bool:
    return abs(a - b) <= atol + rtol * max(abs(a), abs(b))


def differences(f: Callable[[np.ndarray], float], x, rule: Rule, elements=None,
                budget: Evaluations | None = None) -> Differences:
    """∂f/∂x for a scalar function f of the array x, one element at a time: every element, or
    only those at the flat indices `elements` (the others are left nan)."""
    base = np.array(x, dtype=np.float64)
    moved = base.copy()
    flat = moved.reshape(-1)  # a view: writing it moves the point f sees
    budget = budget or Evaluations()
    gradient = np.full(base.size, np.nan)
    why_not: dict[int, str] = {}
    chosen = range(base.size) if elements is None else elements
    if len(chosen) == 0:  # nothing to difference: not even f(x) is needed
        return Differences(gradient.reshape(base.shape), why_not)
    with np.errstate(all="ignore"):  # at inf or nan, moved points are nan: the rule says so
        f0 = float(f(moved))
        for i in chosen:
            kept = flat[i]

            def move(offset, i=i, kept=kept):
                flat[i] = kept + offset
                taken, value = float(flat[i] - kept), float(f(moved))
                flat[i] = kept
                return value, taken

            estimate = rule(move, f0, float(kept), budget)
            gradient[i] = estimate.value
            if estimate.why_not:
                why_not[int(i)] = estimate.why_not
    return Differences(gradient.reshape(base.shape), why_not)


def central_differences(f: Callable[[np.ndarray], float], x, rule: Rule | None = None,
                        elements=None) -> np.ndarray:
    """∂f/∂x as an array (nan where there is no estimate); `rule` defaults to the settled
    rule with the three-way check's tolerances."""
    return differences(f, x, rule or settled(1e-6, 1e-7), elements).gradient
