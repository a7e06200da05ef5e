"""When PyTorch's reshape is a view, decided for gradtrace's arrays.

PyTorch's reshape and view share memory when the tensor's strides allow it, and copy
otherwise; numpy's reshape follows the same rule on the array's own strides. The two agree
except where gradtrace keeps memory column-major that PyTorch keeps row-major: nn.Linear's
weight (x·Wᵀ is BLAS's fastest case then) and its gradient, whose tensors say so (Tensor's
`_transposed` slot; ops turn what they make from them row-major, as PyTorch's would be). For a
view of such memory (`flipped`, the column-major array), strides are read as the same view of
the row-major array would have them. Tensor.reshape then copies where numpy would share memory
but PyTorch copies (`weight.t().flatten()`), and marks the copies numpy makes where PyTorch
would share memory (`weight.view(-1)`): writing into those raises.

May import: numpy only.
"""

from __future__ import annotations

import math

import numpy as np


def _multi_index(offset: int, shape: tuple) -> list[int] | None:
    """The index of the element `offset` elements into a column-major block of `shape`."""
    if offset < 0:
        return None
    index = []
    for length in shape:
        offset, place = divmod(offset, length)
        index.append(place)
    return index if offset == 0 else None


def pytorch_strides(array: np.ndarray, flipped: np.ndarray | None = None
                    ) -> tuple[int, ...] | None:
    """The strides, in elements, of `array`'s tensor as PyTorch would lay it out, `array`
    being a view of `flipped` (column-major memory PyTorch keeps row-major) or, when that is
    None, laid out as PyTorch would; None when no such strides exist (a numpy view across the
    columns of column-major memory)."""
    itemsize = array.itemsize
    owner = flipped
    if owner is None:
        return tuple(stride // itemsize for stride in array.strides)
    row_major = [math.prod(owner.shape[axis + 1:]) for axis in range(owner.ndim)]
    start_offset = (array.__array_interface__["data"][0]
                    - owner.__array_interface__["data"][0]) // itemsize
    start = _multi_index(start_offset, owner.shape)
    if start is None:
        return None
    strides = []
    for length, stride in zip(array.shape, array.strides):
        if length == 1:
            strides.append(0)
            continue
        step = _multi_index(start_offset + stride // itemsize, owner.shape)
        last = _multi_index(start_offset + (length - 1) * (stride // itemsize), owner.shape)
        if step is None or last is None:
            return None
        delta = [b - a for a, b in zip(start, step)]
        # one stride of the row-major array only if the walk never wraps round a column
        if any(s + (length - 1) * d != e for s, d, e in zip(start, delta, last)):
            return None
        strides.append(sum(d * r for d, r in zip(delta, row_major)))
    return tuple(strides)


def is_flipped(array: np.ndarray) -> bool:
    """Whether `array` is column-major only, of two axes or more: the layout gradtrace gives
    memory PyTorch keeps row-major."""
    return array.ndim > 1 and array.flags.f_contiguous and not array.flags.c_contiguous


def _viewable(shape: tuple, strides: tuple, new_shape: tuple) -> bool:
    """PyTorch's rule (computeStride): can a tensor of `shape` and `strides` be viewed as
    `new_shape` without copying? Axes are taken in chunks that are contiguous among
    themselves; each chunk must map onto whole axes of the new shape."""
    if math.prod(shape) == 0 or not shape:
        return True
    view_axis = len(new_shape) - 1
    chunk_stride = strides[-1]
    tensor_size = view_size = 1
    for axis in range(len(shape) - 1, -1, -1):
        tensor_size *= shape[axis]
        if axis == 0 or (shape[axis - 1] != 1
                         and strides[axis - 1] != tensor_size * chunk_stride):
            while view_axis >= 0 and (view_size < tensor_size or new_shape[view_axis] == 1):
                view_size *= new_shape[view_axis]
                view_axis -= 1
            if view_size != tensor_size:
                return False
            if axis > 0:
                chunk_stride = strides[axis - 1]
                tensor_size = view_size = 1
    return view_axis == -1


def pytorch_views(array: np.ndarray, new_shape: tuple, flipped=None) -> bool:
    """Whether PyTorch's reshape of `array`'s tensor to `new_shape` shares its memory."""
    strides = pytorch_strides(array, flipped)
    return strides is not None and _viewable(array.shape, strides, tuple(new_shape))


def pytorch_contiguous(array: np.ndarray, flipped=None) -> bool:
    """Whether PyTorch would call `array`'s tensor contiguous (row-major, no gaps)."""
    strides = pytorch_strides(array, flipped)
    if strides is None:
        return False
    expected = 1
    for length, stride in zip(reversed(array.shape), reversed(strides)):
        if length != 1 and stride != expected:
            return False
        expected *= length
    return True
