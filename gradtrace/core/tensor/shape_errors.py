"""Shapes an op cannot combine, said in PyTorch's words.

numpy refuses (3, 4) * (5,) with "operands could not be broadcast together with shapes (3,4)
(5,)" and a product with a gufunc signature; PyTorch says "The size of tensor a (4) must match
the size of tensor b (5) at non-singleton dimension 1" and "mat1 and mat2 shapes cannot be
multiplied (3x4 and 5x2)", the sentences course notes and forums quote. `pytorch_shape_error`
writes PyTorch's sentence for the op and shapes that failed, or gives None where it has none
(numpy's own message then stands).

May import: numpy, gradtrace.core.tensor.errors.
"""

from __future__ import annotations

import math
import re

import numpy as np

from .errors import PyTorchError


class PyTorchShapeError(PyTorchError, ValueError):
    """Shapes an op cannot combine: a RuntimeError, as PyTorch raises, and a ValueError, as
    numpy raises (code written for either catches it)."""


_PRODUCTS = ("matmul", "linear")
_BROADCAST_FAILED = re.compile(r"could not be broadcast|cannot be broadcast")


class DimensionOutOfRange(IndexError, ValueError):
    """An axis the array does not have: PyTorch's IndexError, and a ValueError as numpy's
    AxisError is."""


def pytorch_shape_error(op, inputs: tuple, error: Exception) -> Exception | None:
    """PyTorch's error for registry op `op` refusing arrays of these shapes (numpy said
    `error`), or None."""
    if isinstance(error, np.exceptions.AxisError) and error.ndim is not None:
        size = max(error.ndim, 1)
        return DimensionOutOfRange(f"Dimension out of range (expected to be in range of "
                                   f"[{-size}, {size - 1}], but got {error.axis})")
    shapes = [np.shape(x) for x in inputs]
    if op.name in _PRODUCTS and len(shapes) >= 2:
        found = _product_error(op.name, shapes)
        if found is not None:
            return PyTorchShapeError(found)
    if op.name == "linear" and len(shapes) == 3:
        return _bias_error(shapes)
    # elementwise ops, and ops such as mse that broadcast their inputs against each other;
    # others (cat, reshape, cross_entropy) combine shapes by rules of their own
    if not (op.elementwise or _BROADCAST_FAILED.search(str(error))):
        return None
    for first in range(len(shapes)):
        for second in range(first + 1, len(shapes)):
            found = _broadcast_error(shapes[first], shapes[second])
            if found is not None:
                return PyTorchShapeError(found)
    return None


def _product_error(op_name: str, shapes) -> str | None:
    a, b = shapes[0], shapes[1]
    if op_name == "linear":  # input (..., in) with weight (out, in): input · weightᵀ
        if len(b) != 2 or not a:
            return None
        b = (b[1], b[0])
    if not a or not b:
        return None
    if len(a) == 1 and len(b) == 1:
        if a[0] == b[0]:
            return None
        return (f"inconsistent tensor size, expected tensor [{a[0]}] and src [{b[0]}] to have "
                f"the same number of elements, but got {a[0]} and {b[0]} elements respectively")
    if len(b) == 1:
        if a[-1] == b[0]:
            return None
        return f"size mismatch, got input ({a[0]}), mat ({a[0]}x{a[-1]}), vec ({b[0]})"
    if a[-1] == b[-2]:
        return None
    if len(b) == 2:
        rows = math.prod(a[:-1]) if len(a) > 1 else 1
        return (f"mat1 and mat2 shapes cannot be multiplied ({rows}x{a[-1]} and "
                f"{b[0]}x{b[1]})")
    try:
        batch = math.prod(np.broadcast_shapes(a[:-2], b[:-2]))
    except ValueError:
        return None
    return (f"Expected size for first two dimensions of batch2 tensor to be: [{batch}, {a[-1]}] "
            f"but got: [{batch}, {b[-2]}].")


def _bias_error(shapes) -> PyTorchShapeError | None:
    x, W, b = shapes
    if len(W) != 2 or not x or x[-1] != W[1]:
        return None
    out = (*x[:-1], W[0])
    try:
        if np.broadcast_shapes(out, b) == out:
            return None
    except ValueError:
        pass
    mismatch = _first_mismatch(out, b)
    if mismatch is None:
        return None
    dimension, target, existing = mismatch
    return PyTorchShapeError(
        f"The expanded size of the tensor ({target}) must match the existing size ({existing}) "
        f"at non-singleton dimension {dimension}.  Target sizes: {list(out)}.  Tensor sizes: "
        f"{list(b)}")


def _broadcast_error(a, b) -> str | None:
    mismatch = _first_mismatch(a, b)
    if mismatch is None:
        return None
    dimension, size_a, size_b = mismatch
    return (f"The size of tensor a ({size_a}) must match the size of tensor b ({size_b}) at "
            f"non-singleton dimension {dimension}")


def _first_mismatch(a, b):
    """(dimension, size in a, size in b) of the last axis, aligned from the right, where two
    sizes differ and neither is 1 (PyTorch's order of looking); None when they broadcast."""
    ndim = max(len(a), len(b))
    for offset in range(1, ndim + 1):
        size_a = a[-offset] if offset <= len(a) else 1
        size_b = b[-offset] if offset <= len(b) else 1
        if size_a != size_b and size_a != 1 and size_b != 1:
            return ndim - offset, size_a, size_b
    return None
