"""Arithmetic that holds as printed: a narrated line such as `0.20 × -2.00 = -0.39` must not
contradict itself once its numbers are rounded for people.

Each line is checked by redoing its arithmetic on the numbers exactly as they are printed; when
the result would not print the same, the line's operands get more decimals (at most EXTRA
more), then, if that is not enough, its result too, so a student who multiplies the printed
numbers by hand gets the printed answer: `0.1966 × -2.0000 = -0.39`... `= -0.3932`. Only
scalar lines are checked; arrays are shown entry by entry and their products are elementwise.
"""

from __future__ import annotations

import math
from typing import Callable, NamedTuple

import numpy as np

from .numbers import fmt

EXTRA = 4  # decimals a line may add so that its arithmetic holds as printed
SCIENTIFIC_DIGITS = 16  # mantissa decimals past which a float has nothing more to show


def printed(value, precision: int, compact: bool = False) -> float:
    """The number a reader sees: `value` rounded as fmt prints it."""
    return float(fmt(value, precision, compact))


def same_when_printed(a, b, precision: int) -> bool:
    return fmt(a, precision) == fmt(b, precision)


class Precision(NamedTuple):
    """Decimals for a line's operands and for its result."""

    operands: int
    result: int


def line_precision(precision: int, holds: Callable[[int, int], bool]) -> Precision:
    """The fewest decimals, from `precision` up to precision + EXTRA, for the line's operands
    and then its result, at which `holds(operands, result)`: the line's arithmetic redone on
    its printed operands gives its printed result; past those, for operands shown in
    scientific notation, more mantissa digits. When none does (cancellation, numbers beyond
    float range), the asked precision for both."""
    try:
        for result in range(precision, precision + EXTRA + 1):
            for operands in range(result, precision + EXTRA + 1):
                if holds(operands, result):
                    return Precision(operands, result)
        # an operand of a million or more prints in scientific notation, a few digits only
        # (1.23e+06): give the operands the digits a float has, the result as asked
        for operands in range(precision + EXTRA + 1, SCIENTIFIC_DIGITS + 1):
            if holds(operands, precision):
                return Precision(operands, precision)
    except (ValueError, OverflowError, ZeroDivisionError):
        pass
    return Precision(precision, precision)


def scalar(*values) -> bool:
    """True when every value is a finite number (0-d), the only lines checked."""
    return all(value is not None and np.ndim(value) == 0 and math.isfinite(float(value))
               for value in values)


def product_holds(factors, result, operands: int, precision: int,
                  compact: bool = False) -> bool:
    """The factors printed with `operands` decimals multiply to the result as printed with
    `precision`."""
    product = 1.0
    for factor in factors:
        product *= printed(factor, operands, compact)
    return same_when_printed(product, result, precision)


def sum_holds(terms, result, operands: int, precision: int) -> bool:
    """The terms printed with `operands` decimals add up to the result as printed."""
    return same_when_printed(sum(printed(term, operands) for term in terms), result, precision)
