"""The one number formatter every renderer uses, so text, Markdown, DOT and SVG agree."""

from __future__ import annotations

import math

import numpy as np


def fmt(value, precision: int = 2, compact: bool = False) -> str:
    """A number for people: fixed `precision` decimals (2, as the notes write them), scientific
    when that would hide it (|x| >= 1e6, or non-zero but below the last decimal), and inf/nan by
    name. `compact` writes whole numbers without decimals (1 × -0.25 × 1 = ...), as the notes'
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
    if compact and number == int(number) and abs(number) < 1e6:
        return str(int(number))
    magnitude = abs(number)
    if magnitude >= 1e6 or magnitude < 0.5 * 10.0 ** (-precision):
        return f"{number:.{max(precision, 1)}e}"
    text = f"{number:.{precision}f}"
    return text
