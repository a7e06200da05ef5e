"""The one number formatter every renderer uses, so text, Markdown, DOT and SVG agree."""

from __future__ import annotations

import math

import numpy as np

from ..core.i18n import _


SCIENTIFIC_ABOVE = 1e6  # from here on, scientific notation: 1.23e+06
EXTRA_DECIMALS = 3  # a small number gets up to this many decimals more before going scientific


def fmt(value, precision: int = 2, compact: bool = False) -> str:
    """A number for people: `precision` decimals (2, as the notes write them), but never fewer
    than two significant digits for a number that is not zero, so a small gradient is never
    shown as 0.00 or rounded to one digit (0.0067, 0.013; scientific, 6.69e-05, when that would
    take more than EXTRA_DECIMALS extra decimals); scientific from 1e6 on; inf and nan by name.
    `compact` writes whole numbers without decimals (1 × -0.25 × 1 = ...), as the notes'
    chain-rule products do. Negative zero prints as 0."""
    array = np.asarray(value)
    if array.ndim > 0:
        if array.size == 1:
            array = array.reshape(())
        else:
            return "[" + ", ".join(fmt(x, precision, compact) for x in array.ravel()) + "]"
    number = float(array)
    if math.isnan(number):
        return "nan"
    if math.isinf(number):
        return "inf" if number > 0 else "-inf"
    if number == 0:
        return "0" if compact else f"{0:.{precision}f}"
    if compact and number == int(number) and abs(number) < SCIENTIFIC_ABOVE:
        return str(int(number))
    magnitude = abs(number)
    if magnitude >= SCIENTIFIC_ABOVE:
        return f"{number:.{max(precision, 1)}e}"
    decimals = precision if magnitude >= 1 else max(precision, significant_decimals(magnitude))
    if decimals > precision + EXTRA_DECIMALS:
        return f"{number:.{max(precision, 1)}e}"
    return f"{number:.{decimals}f}"


def significant_decimals(magnitude: float) -> int:
    """The decimals that show two significant digits of a number below 1: 2 for 0.13, 4 for
    0.0066 (rounding may carry: 0.0996 shows as 0.100)."""
    return 1 - math.floor(math.log10(magnitude))


MAX_LISTED = 16  # arrays up to this many entries are printed entry by entry


def is_listed(value) -> bool:
    """True when `fmt_array` prints every entry (scalars included)."""
    return np.size(value) <= MAX_LISTED


def fmt_array(value, precision: int = 2, with_shape: bool = True) -> str:
    """A scalar, or an array for people: every entry as a nested list when it has at most
    MAX_LISTED ([[1.00, -2.00], [3.00, 4.00]]), else a summary: "(256, 784) array: min -0.12,
    max 0.13, ‖·‖ 3.20" (`with_shape=False` leaves out the shape where a column shows it)."""
    array = np.asarray(value, dtype=np.float64)
    if array.ndim == 0:
        return fmt(array, precision)
    if is_listed(array):
        return _nested(array, precision)
    with np.errstate(all="ignore"):  # the norm of huge entries is inf, said as such
        summary = (f"min {fmt(array.min(), precision)}, max {fmt(array.max(), precision)}, "
                   f"‖·‖ {fmt(np.linalg.norm(array.ravel()), precision)}")
    return _("{shape} array: {summary}", shape=shape_text(array.shape), summary=summary) \
        if with_shape else summary


def _nested(array: np.ndarray, precision: int) -> str:
    if array.ndim == 1:
        return "[" + ", ".join(fmt(x, precision) for x in array) + "]"
    return "[" + ", ".join(_nested(row, precision) for row in array) + "]"


def shape_text(shape) -> str:
    """(2, 3), (2,) as Python writes them; a 0-d shape is "scalar"."""
    shape = tuple(shape)
    if not shape:
        return _("scalar")
    return "(" + ", ".join(str(n) for n in shape) + ("," if len(shape) == 1 else "") + ")"
