"""Small pictures made of characters, for any text renderer: a Jacobian's sparsity pattern in
blocks, a sparkline of gradient norms over depth, superscript layer numbers (z⁽¹⁾)."""

from __future__ import annotations

import numpy as np


PATTERN_SIDE = 64  # sparsity pictures up to 64 × 64 cells


def sparsity_picture(matrix: np.ndarray, side: int = PATTERN_SIDE) -> tuple[str, ...]:
    """Rows of '█' (non-zero) and '·' (zero), top to bottom; a matrix larger than `side` in
    either direction is shrunk into side × side cells, a cell '█' if any entry in it is."""
    nonzero = np.asarray(matrix) != 0
    if nonzero.size == 0:
        return ()
    for axis in (0, 1):
        length = nonzero.shape[axis]
        if length > side:
            starts = (np.arange(side) * length) // side
            nonzero = np.logical_or.reduceat(nonzero, starts, axis=axis)
    return tuple("".join("█" if cell else "·" for cell in row) for row in nonzero)


SPARK = "▁▂▃▄▅▆▇█"


def sparkline(values) -> str:
    """One character per value, heights on a log scale between the smallest and the largest
    (gradient norms span orders of magnitude); a zero or non-finite value is drawn as '·'."""
    values = np.asarray(values, dtype=np.float64)
    usable = np.isfinite(values) & (values > 0)
    if not usable.any():
        return "·" * len(values)
    logs = np.log10(np.where(usable, values, 1.0))
    low, high = logs[usable].min(), logs[usable].max()
    span = high - low if high > low else 1.0
    steps = np.round((logs - low) / span * (len(SPARK) - 1)).astype(int)
    return "".join(SPARK[s] if ok else "·" for s, ok in zip(steps, usable))


_SUPERSCRIPTS = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def sup(number: int) -> str:
    return str(number).translate(_SUPERSCRIPTS)
