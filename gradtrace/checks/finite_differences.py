"""Central finite differences: the numeric leg of every gradient check.

    ∂f/∂x[i] ≈ (f(x + h·eᵢ) − f(x − h·eᵢ)) / (2h)

divided by the distance between the two points actually evaluated (x ± h rounds), so the only
error left is the method's own: truncation of order h², rounding of order ε·|f|/h. A step
h = ε^(1/3)·max(1, |x[i]|) balances the two for smooth functions (`relative_step`);
`gradtrace gradcheck` uses the fixed h = 1e-6 of the CS231n notes.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

CUBE_ROOT_EPS = np.finfo(np.float64).eps ** (1 / 3)


def relative_step(value: float) -> float:
    """ε^(1/3) scaled to the value: rounding and truncation error balanced."""
    return CUBE_ROOT_EPS * max(1.0, abs(value))


def fixed_step(h: float) -> Callable[[float], float]:
    return lambda value: h


def central_differences(f: Callable[[np.ndarray], float], x, step=relative_step,
                        elements=None) -> np.ndarray:
    """∂f/∂x for a scalar function f of the array x, one element at a time: every element, or
    only those at the flat indices `elements` (the others are left nan). `step(x[i])` is the
    h used for element i."""
    base = np.array(x, dtype=np.float64)
    moved = base.copy()
    flat = moved.reshape(-1)  # a view: writing it moves the point f sees
    gradient = np.full(base.size, np.nan) if elements is not None else np.empty(base.size)
    for i in (range(base.size) if elements is None else elements):
        kept = flat[i]
        h = step(float(kept))
        flat[i] = kept + h
        above, up = flat[i], f(moved)
        flat[i] = kept - h
        below, down = flat[i], f(moved)
        flat[i] = kept
        gradient[i] = (up - down) / (above - below)
    return gradient.reshape(base.shape)
