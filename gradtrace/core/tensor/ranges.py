"""arange and linspace rounded as PyTorch's CPU kernels round them, element for element.

Why it matters: d2l plots the derivative of relu on `torch.arange(-8.0, 8.0, 0.1)`. The 81st
number is −8 + 80 × 0.1: PyTorch computes it as 4.4e-16, numpy's arange as exactly 0, and relu's
gradient there is 1 in one library and 0 in the other. The numbers differ only in the last
bit, but a kink turns the last bit into a different gradient.

What PyTorch computes (aten/src/ATen/native/cpu/RangeFactoriesKernel.cpp, AVX2 build; the
compiler fuses each `a + b * c` into one fused multiply-add, rounded once):

- arange, in double (float32 included: its accumulation type is double): elements come in
  groups of one AVX2 register (4 doubles or 8 floats), two groups at a time; a group starting
  at index g holds base = start + step·g (rounded to the element type) and base + j·step for
  j = 0, 1, ...; the last elements that do not fill two registers are start + step·i each.
- linspace, in the element type, one element at a time: start + step·i in the first half,
  end − step·(steps − 1 − i) in the second, step = (end − start)/(steps − 1).

A fused multiply-add is emulated with error-free transformations (Dekker's product, Knuth's
sum): exact but for values within 2⁻¹⁰⁶ of a rounding midpoint. A long arange PyTorch splits
over threads (over 32,768 elements) may differ from it in the last bit.
"""

from __future__ import annotations

import numpy as np

_SPLITTER = 134217729.0  # 2²⁷ + 1, Dekker's split of a double into two 26-bit halves


def _two_sum(a, b):
    """(s, e) with s = fl(a + b) and s + e = a + b exactly."""
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def _split(a):
    c = _SPLITTER * a
    high = c - (c - a)
    return high, a - high


def _two_product(a, b):
    """(p, e) with p = fl(a·b) and p + e = a·b exactly."""
    p = a * b
    a_high, a_low = _split(a)
    b_high, b_low = _split(b)
    return p, ((a_high * b_high - p) + a_high * b_low + a_low * b_high) + a_low * b_low


def fused_multiply_add(a, b, c) -> np.ndarray:
    """a·b + c rounded once, in float64 (C's fma)."""
    a, b, c = (np.asarray(x, dtype=np.float64) for x in (a, b, c))
    product, product_error = _two_product(a, b)
    total, total_error = _two_sum(product, c)
    return total + (total_error + product_error)


def _float32_fma(a, b, c) -> np.ndarray:
    """a·b + c of float32 numbers rounded once to float32 (C's fmaf): the product is exact in
    float64; the sum is rounded to float64 and then to float32, which differs from one rounding
    only when the float64 sum lands exactly on a float32 midpoint: the sum's error decides."""
    product = np.asarray(a, np.float64) * np.asarray(b, np.float64)
    total, error = _two_sum(product, np.asarray(c, np.float64))
    rounded = total.astype(np.float32)
    back = rounded.astype(np.float64)
    toward = np.where(total > back, np.inf, -np.inf).astype(np.float32)
    other = np.nextafter(rounded, toward)
    on_midpoint = (total != back) & (total == (back + other.astype(np.float64)) / 2)
    past = on_midpoint & (np.sign(error) == np.sign(total - back))
    return np.where(past, other, rounded)


def _lanes(dtype: np.dtype) -> int:
    """Elements in one AVX2 register: 4 doubles, 8 floats."""
    return 32 // dtype.itemsize


def arange_values(start: float, step: float, count: int, dtype: np.dtype) -> np.ndarray:
    """start, start + step, ... (count of them) in float32 or float64, as PyTorch rounds them."""
    index = np.arange(count, dtype=np.float64)
    lanes = _lanes(dtype)
    paired = (count // (2 * lanes)) * (2 * lanes)  # filled by two registers at a time
    offset = index % lanes
    base = fused_multiply_add(step, index - offset, start)
    if dtype == np.float32:
        base = base.astype(np.float32).astype(np.float64)
    in_registers = fused_multiply_add(offset, step, base)
    one_by_one = fused_multiply_add(step, index, start)
    return np.where(index < paired, in_registers, one_by_one).astype(dtype)


def linspace_values(start: float, end: float, steps: int, dtype: np.dtype) -> np.ndarray:
    """`steps` numbers from start to end in float32 or float64, as PyTorch rounds them."""
    first, last = dtype.type(start), dtype.type(end)
    if steps == 1:
        return np.array([first], dtype=dtype)
    step = (last - first) / dtype.type(steps - 1)
    index = np.arange(steps)
    from_start = index < steps // 2
    before_end = (steps - 1 - index).astype(dtype)
    if dtype == np.float32:
        up = _float32_fma(step, index.astype(np.float32), first)
        down = _float32_fma(-step, before_end, last)
    else:
        up = fused_multiply_add(step, index, first)
        down = fused_multiply_add(-step, before_end, last)
    return np.where(from_start, up, down).astype(dtype)
