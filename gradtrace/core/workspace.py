"""Memory reused from one training step to the next, for the large arrays the ops make.

A step of a network makes the same large arrays every time (im2col blocks, feature maps, their
gradients), and drops them all when the step's tensors and Trace go. In a plain Python process
each freed block of more than 128 KiB goes back to the system, and the next step faults every
page of it in again (zeroed by the kernel): for a small CNN that costs more than the arithmetic.
So the ops ask `empty` for their large results and scratch arrays (elementwise ops and the
engine's products of gradients through `ufunc_result`): it hands back an array of the same
shape and type that nothing refers to any more, or makes a new one and keeps it.

"Nothing refers to it" is read from the reference count: the pool's own list holds one
reference, so an array whose count shows no other holder (no tensor, Trace, view or caller) is
free. Arrays that are still in use are never handed out again, so a Trace kept from an earlier
step keeps its values. The pool keeps at most MAX_BYTES; `release()` empties it.

May import: numpy only.
"""

from __future__ import annotations

import math
import sys

import numpy as np

MIN_BYTES = 64 * 1024  # smaller arrays come from malloc's own free lists, fast already
MAX_BYTES = 128 * 2**20  # memory the pool may keep for later steps
# arrays of one shape and type kept: a deep network of equal layers keeps every layer's input
# and output for backward, then makes as many gradients of the same shape
MAX_PER_SHAPE = 64

_pool: dict[tuple, list[np.ndarray]] = {}
_pooled_bytes = 0
# (shape, dtype) keys found too small to pool, as the ops pass them: most arrays of a small
# network, asked for several times a step; kept up to a bound, since shapes vary without end
_small: set[tuple] = set()
MAX_SMALL_KEYS = 4096


def _references_while_unused() -> int:
    """What sys.getrefcount reads for a pooled array nothing else holds, looked at as `empty`
    looks (the pool's list, the loop variable, getrefcount's own argument: 3 on CPython 3.11
    to 3.13). Measured once rather than assumed, since an interpreter that borrows references
    could read fewer and would then hand out arrays still in use."""
    bucket = [np.empty(1)]
    for array in bucket:
        return sys.getrefcount(array)
    return 0  # not reached


_UNUSED = _references_while_unused()


def empty(shape, dtype) -> np.ndarray:
    """An uninitialised C-contiguous array of `shape` and `dtype`, reused when a free one of
    the same kind is in the pool."""
    global _pooled_bytes
    key = (shape, dtype)  # as the ops pass it: a tuple and a np.dtype
    bucket = _pool.get(key)
    if bucket is not None:
        for array in bucket:  # the first free one: the same few serve step after step, warm
            if sys.getrefcount(array) == _UNUSED:
                return array
    elif key in _small:
        return np.empty(shape, dtype)
    dtype = np.dtype(dtype)
    size = math.prod(shape) * dtype.itemsize
    if size < MIN_BYTES:
        if len(_small) < MAX_SMALL_KEYS:
            _small.add(key)
        return np.empty(shape, dtype)
    shape = tuple(int(length) for length in shape)
    bucket = _pool.setdefault((shape, dtype), [])
    for array in bucket:
        if sys.getrefcount(array) == _UNUSED:
            return array
    array = np.empty(shape, dtype)
    if len(bucket) < MAX_PER_SHAPE and _pooled_bytes + size <= MAX_BYTES:
        bucket.append(array)
        _pooled_bytes += size
    return array


def empty_like(array: np.ndarray, dtype=None) -> np.ndarray:
    """`empty` shaped and laid out in memory like `array` (numpy's order="K": a channels-last
    feature map stays channels-last, so elementwise work between the two runs at full speed),
    in its type unless `dtype` says."""
    if dtype is None:
        dtype = array.dtype
        if array.nbytes < MIN_BYTES:  # not pooled: numpy's own keeps the layout
            return np.empty_like(array)
    else:
        dtype = np.dtype(dtype)
        if array.size * dtype.itemsize < MIN_BYTES:
            return np.empty_like(array, dtype)
    if array.flags.c_contiguous or array.ndim < 2:
        return empty(array.shape, dtype)
    if array.flags.f_contiguous:  # a transposed array (x.T): column-major, no sort needed
        return empty(array.shape[::-1], dtype).T
    order = sorted(range(array.ndim), key=lambda axis: -abs(array.strides[axis]))
    block = empty(tuple(array.shape[axis] for axis in order), dtype)
    return block.transpose(np.argsort(order))


def ufunc_result(ufunc, *inputs):
    """ufunc(*inputs), a large float result written into pooled memory laid out like the input
    of the result's shape (the others broadcast against it): the values and gradients a step
    keeps until its trace goes, which malloc would give back to the system and fault in again
    next step. Anything else (other types, numbers, small arrays) as numpy makes it."""
    like = None
    for x in inputs:
        if type(x) is not np.ndarray:
            return ufunc(*inputs)
        if like is None or x.nbytes > like.nbytes:
            like = x
    dtype = like.dtype
    if like.nbytes < MIN_BYTES or dtype.kind != "f":
        return ufunc(*inputs)
    shape = like.shape
    for x in inputs:
        if x.dtype != dtype or (x.shape != shape and _broadcast(x.shape, shape) != shape):
            return ufunc(*inputs)  # another type, or a result larger than every input
    return ufunc(*inputs, out=empty_like(like))


def _broadcast(first, second):
    try:
        return np.broadcast_shapes(first, second)
    except ValueError:
        return None  # numpy's own call says why


def reshaped(array: np.ndarray, shape) -> np.ndarray:
    """np.reshape(array, shape), copying into pooled memory when a view cannot be made."""
    try:
        return np.reshape(array, shape, copy=False)  # raises where a copy would be needed
    except TypeError:  # numpy before 2.1 has no copy=: its reshape copies where it must
        return np.reshape(array, shape)
    except ValueError:
        if array.dtype.kind not in "biuf":
            return np.reshape(array, shape)
        result = empty(_sized(shape, array.size), array.dtype)
        np.copyto(result.reshape(array.shape), array)
        return result


def _sized(shape, size: int) -> tuple[int, ...]:
    """`shape` with a -1 filled in, as reshape reads it."""
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    if -1 in shape:
        known = math.prod(s for s in shape if s != -1)
        shape = tuple(size // known if s == -1 else s for s in shape)
    return shape


def zeros(shape, dtype) -> np.ndarray:
    array = empty(shape, dtype)
    array.fill(0)
    return array


def release() -> None:
    """Let go of every pooled array (those still in use live on with their users)."""
    global _pooled_bytes
    _pool.clear()
    _small.clear()
    _pooled_bytes = 0


def pooled_bytes() -> int:
    """Memory the pool keeps (free or in use)."""
    return _pooled_bytes
