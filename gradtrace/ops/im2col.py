"""Sliding windows over images: im2col, col2im and the pooling helpers behind the layer ops.

Notation, as in the notes and DeZero's `im2col`: x is (N, C, H, W) — batch, channels, height,
width; a kernel is KH × KW, moved by a stride (SH, SW) after `padding` (PH, PW) zeros on every
side, so OH = (H + 2·PH − KH) // SH + 1 and likewise OW.

No Python loop runs over pixels: windows are strided views (`sliding_window_view`); im2col
copies them out, and col2im adds them back into place, with one loop over the KH × KW kernel
offsets.
im2col and col2im also work on object arrays of SymPy expressions (the ops' `lower_array`).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..core import workspace


def pair(value) -> tuple[int, int]:
    """2 → (2, 2); (2, 3) stays (2, 3). Kernel sizes, strides and padding are whole numbers."""
    values = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if len(values) != 2 or any(isinstance(v, bool) or int(v) != v for v in values):
        raise ValueError(f"expected a whole number or two (height, width), not {value!r}")
    return int(values[0]), int(values[1])


def geometry(x_shape, kernel, stride, padding) -> tuple[int, int]:
    """(OH, OW) for an image of shape (N, C, H, W); a ValueError when the kernel does not fit."""
    if len(x_shape) != 4:
        raise ValueError(f"expected an image batch (N, C, H, W), not shape {tuple(x_shape)}")
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    if min(kh, kw, sh, sw) < 1 or min(ph, pw) < 0:
        raise ValueError("kernel and stride must be at least 1, padding at least 0")
    height, width = x_shape[2] + 2 * ph, x_shape[3] + 2 * pw
    if kh > height or kw > width:
        raise ValueError(f"a {kh}×{kw} kernel does not fit a padded {height}×{width} image")
    return (height - kh) // sh + 1, (width - kw) // sw + 1


def padded(x: np.ndarray, padding) -> np.ndarray:
    ph, pw = padding
    if ph == pw == 0:
        return x
    n, c, h, w = x.shape
    # zeros and one copy: a third of np.pad's time on small images
    frame = (np.zeros if x.dtype.kind == "O" else workspace.zeros)(
        (n, c, h + 2 * ph, w + 2 * pw), x.dtype)
    frame[:, :, ph:ph + h, pw:pw + w] = x
    return frame


def windows(x: np.ndarray, kernel, stride, padding=(0, 0)) -> np.ndarray:
    """Every window as a view (N, C, OH, OW, KH, KW): nothing is copied unless padding."""
    geometry(x.shape, kernel, stride, padding)
    view = sliding_window_view(padded(x, padding), kernel, axis=(2, 3))
    return view[:, :, ::stride[0], ::stride[1]]


def im2col(x: np.ndarray, kernel, stride, padding) -> np.ndarray:
    """(N, C, H, W) → (N, OH, OW, C·KH·KW): one row per output pixel, the window it sees
    (channel-major, then kernel row, then kernel column: W.reshape(F, -1) lines up with it).

    Built one kernel offset at a time into a (C, KH, KW, N, OH, OW) block and returned as a
    transposed view of it: each offset is then one long copy, where copying the windows view
    directly moves KW numbers at a time (about ten times slower). BLAS takes the transposed
    rows as they are."""
    (kh, kw), (sh, sw) = kernel, stride
    n, c = x.shape[:2]
    oh, ow = geometry(x.shape, kernel, stride, padding)
    source = padded(x, padding)
    block = (np.empty if source.dtype.kind == "O" else workspace.empty)(
        (c, kh, kw, n, oh, ow), source.dtype)
    for i in range(kh):
        for j in range(kw):
            block[:, i, j] = source[:, :, i:i + sh * oh:sh, j:j + sw * ow:sw].transpose(1, 0, 2, 3)
    return block.transpose(3, 4, 5, 0, 1, 2).reshape(n, oh, ow, c * kh * kw)


def image_batches(count: int, bytes_per_image: int, budget: int = 1 << 20):
    """Slices of consecutive images whose scratch (im2col rows) stays under `budget` bytes, at
    least one image each. Working a batch at a time keeps the rows in the cache between the copy
    and the product, and lets the allocator hand the same memory back batch after batch instead
    of touching fresh pages (page faults cost more than the copy itself)."""
    step = max(1, budget // max(bytes_per_image, 1))
    return [slice(start, min(start + step, count)) for start in range(0, count, step)]


def col2im(cols: np.ndarray, x_shape, kernel, stride, padding) -> np.ndarray:
    """The adjoint of im2col: each row's numbers added back where its window came from
    (windows overlap when stride < kernel, so the additions accumulate)."""
    n, c, h, w = x_shape
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    oh, ow = geometry(x_shape, kernel, stride, padding)
    cols = cols.reshape(n, oh, ow, c, kh, kw)
    image = np.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=cols.dtype)
    for i in range(kh):  # a loop over kernel offsets only
        for j in range(kw):
            image[:, :, i:i + sh * oh:sh, j:j + sw * ow:sw] += cols[:, :, :, :, i, j].transpose(
                0, 3, 1, 2)
    return image[:, :, ph:ph + h, pw:pw + w]


def scatter_windows(part, x, kernel, stride) -> np.ndarray:
    """Add part(i, j), an (N, C, OH, OW) array for each kernel offset (i, j), back into an
    image shaped and laid out like x (N, C, H, W): what pooling sends back through its
    windows."""
    (kh, kw), (sh, sw) = kernel, stride
    oh, ow = geometry(x.shape, kernel, stride, (0, 0))
    image = None
    for i in range(kh):
        for j in range(kw):
            values = part(i, j)
            if image is None:
                if values.dtype.kind == "f":
                    image = workspace.empty_like(x, dtype=values.dtype)
                    image.fill(0)
                else:  # SymPy expressions
                    image = np.zeros(x.shape, dtype=values.dtype)
            image[:, :, i:i + sh * oh:sh, j:j + sw * ow:sw] += values
    return image


def spread_to_tiles(g: np.ndarray, x: np.ndarray, kernel) -> np.ndarray:
    """Each number of g (N, C, OH, OW) copied to every element of its window of x, the windows
    tiling x (stride = kernel), zeros where no window reaches: an (N, C, H, W) array laid out
    like x, written once (average pooling's way back, g already divided by the window's size)."""
    (kh, kw), (oh, ow) = kernel, g.shape[2:]
    grad = workspace.empty_like(x, dtype=g.dtype)
    grad[:, :, oh * kh:] = 0  # rows and columns no window covers
    grad[:, :, :, ow * kw:] = 0
    tiles = sliding_window_view(grad, kernel, axis=(2, 3), writeable=True)[:, :, ::kh, ::kw]
    np.copyto(tiles, g[..., None, None])
    return grad


def window_reduce(view: np.ndarray, combine) -> np.ndarray:
    """(N, C, OH, OW): each window of a windows() view folded with a ufunc (np.maximum,
    np.add), one call per kernel offset. No copy of the windows and the input's memory order is
    kept: many times faster than numpy's reduction over two strided axes (13 ms against 0.3 ms
    for a 2×2 max pool of (64, 16, 28, 28) float32 here)."""
    kh, kw = view.shape[4:]
    first = view[..., 0, 0]
    if first.dtype.kind == "O":
        out = first.copy(order="K")
    else:
        out = workspace.empty_like(first)
        np.copyto(out, first)
    for i in range(kh):
        for j in range(kw):
            if i or j:
                combine(out, view[..., i, j], out=out)
    return out


def first_max_masks(view: np.ndarray, top: np.ndarray):
    """For each kernel offset (i, j): (i, j, mask) with mask (N, C, OH, OW) true where the
    window's first largest element sits at (i, j) — ties go to the first, as argmax does."""
    kh, kw = view.shape[4:]
    taken = None
    for i in range(kh):
        for j in range(kw):
            hit = view[..., i, j] == top
            if taken is None:
                taken = hit.copy()
            else:
                hit = np.greater(hit, taken, out=hit)  # hit and not yet taken
                taken |= hit
            yield i, j, hit


def route_to_first_max(g: np.ndarray, x: np.ndarray, top: np.ndarray, kernel) -> np.ndarray:
    """Max pooling's way back when the windows tile x (stride = kernel): each number of g
    (N, C, OH, OW) goes to its window's first largest element of x (the ties rule of
    first_max_masks), zeros elsewhere, in an (N, C, H, W) array laid out like x.

    g and top must share a memory layout. The winner masks are made window-sized and contiguous
    (fast), then one multiplication writes every window of the result: numpy is several times
    slower writing x-sized arrays through strided windows one offset at a time, and a fresh
    x-sized scratch array costs more in page faults than it saves."""
    (kh, kw), (n, c, oh, ow) = kernel, top.shape
    view = windows(x, kernel, kernel)
    winners = _empty_stack((kh, kw), top, bool)
    free = None  # windows whose largest element has not been met yet
    for i in range(kh):
        for j in range(kw):
            hit = np.equal(view[..., i, j], top, out=winners[i, j])
            if free is None:
                free = np.logical_not(hit, out=workspace.empty_like(hit))
            else:
                hit &= free
                free ^= hit  # hit lies inside free now: this clears it
    grad = workspace.empty_like(x, dtype=g.dtype)
    grad[:, :, oh * kh:] = 0  # rows and columns no window covers
    grad[:, :, :, ow * kw:] = 0
    tiles = sliding_window_view(grad, kernel, axis=(2, 3), writeable=True)[:, :, ::kh, ::kw]
    # tiles do not overlap: each element of grad is written once
    np.multiply(winners.transpose(2, 3, 4, 5, 0, 1), g[..., None, None], out=tiles)
    return grad


def _empty_stack(lead, like: np.ndarray, dtype) -> np.ndarray:
    """An empty array of shape lead + like.shape whose every lead[...] slice is contiguous and
    laid out in memory like `like` (so ufuncs between them run at full speed)."""
    order = sorted(range(like.ndim), key=lambda axis: -like.strides[axis])  # outermost first
    block = workspace.empty(tuple(lead) + tuple(like.shape[axis] for axis in order), dtype)
    back = np.argsort(order)
    return block.transpose(tuple(range(len(lead))) + tuple(len(lead) + a for a in back))
