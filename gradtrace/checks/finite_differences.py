"""Central finite differences: the numeric leg of every gradient check.

    ∂f/∂x[i] ≈ (f(x + h·eᵢ) − f(x − h·eᵢ)) / (2h)

Two step rules, one routine. `RELATIVE` (the three-way check of `explain` and `check`) takes
h = ε^(1/3)·max(1, |x[i]|), which balances truncation (order h²) against rounding (order
ε·|f|/h), and divides by the distance between the two points actually evaluated (x ± h
rounds), so only the method's own error is left. `textbook(h)` is the formula as the CS231n
notes' eval_numerical_gradient writes it, a fixed h and 2h below the line (`gradtrace
gradcheck`, h = 1e-6).
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np

CUBE_ROOT_EPS = np.finfo(np.float64).eps ** (1 / 3)


class Step(NamedTuple):
    size: Callable[[float], float]  # h for an element of value x[i]
    by_distance_taken: bool  # divide by (x + h) − (x − h) as evaluated, else by 2h


RELATIVE = Step(lambda value: CUBE_ROOT_EPS * max(1.0, abs(value)), True)


def textbook(h: float) -> Step:
    """A fixed h and (f(x + h) − f(x − h)) / 2h, as the course notes write it."""
    return Step(lambda value: h, False)


def central_differences(f: Callable[[np.ndarray], float], x, step: Step = RELATIVE,
                        elements=None) -> np.ndarray:
    """∂f/∂x for a scalar function f of the array x, one element at a time: every element, or
    only those at the flat indices `elements` (the others are left nan)."""
    base = np.array(x, dtype=np.float64)
    moved = base.copy()
    flat = moved.reshape(-1)  # a view: writing it moves the point f sees
    gradient = np.full(base.size, np.nan) if elements is not None else np.empty(base.size)
    for i in (range(base.size) if elements is None else elements):
        kept = flat[i]
        h = step.size(float(kept))
        flat[i] = kept + h
        above, up = flat[i], f(moved)
        flat[i] = kept - h
        below, down = flat[i], f(moved)
        flat[i] = kept
        gradient[i] = (up - down) / ((above - below) if step.by_distance_taken else 2 * h)
    return gradient.reshape(base.shape)
