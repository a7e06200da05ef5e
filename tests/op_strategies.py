"""Named hypothesis strategies behind the per-op table (op_cases.py): element ranges, shapes,
and one case builder per kind of op.

Every point is valid by construction, never filtered after the fact: inside the op's domain,
away from its kinks (max/min pairs 0.3 apart, pooling windows without ties), and drawn where the
property bites — a reduction, softmax axis or pooling window meets at least two numbers, a
class axis has at least two classes, a batch norm statistic at least three distinct numbers (of
two, x̂ = ±1 whatever they are), a dropout mask keeps at least one unit. The edge shapes an op
accepts (0-d inputs, size 0) are drawn one time in ten, on purpose.

Shapes stay small: every case is checked element by element with finite differences and SymPy.
"""

from __future__ import annotations

import itertools
import math
from typing import NamedTuple

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

ZERO_D, SIZE_0 = "0-d", "size 0"  # the edge shapes a row may declare


class Case(NamedTuple):
    """A valid point for one op: its input arrays and its attributes (those left out take the
    op's default)."""
    inputs: tuple[np.ndarray, ...]
    attrs: dict


def edges_of(case: Case) -> set[str]:
    """Which edge shapes a case has: a 0-d input, an input of size 0."""
    found = set()
    if any(np.ndim(x) == 0 for x in case.inputs):
        found.add(ZERO_D)
    if any(np.size(x) == 0 for x in case.inputs):
        found.add(SIZE_0)
    return found


# -- elements --------------------------------------------------------------------------------

moderate = st.floats(-3.0, 3.0)
positive = st.floats(0.2, 3.0)
nonzero = st.builds(lambda size, sign: size * sign, positive, st.sampled_from([-1.0, 1.0]))
small_exponent = st.floats(-2.5, 2.5)
wide = st.floats(-8.0, 8.0)
logit_values = st.floats(-5.0, 5.0)
variances = st.floats(0.1, 3.0)
jitter = st.floats(-0.1, 0.1)
# max/min: one input near whole numbers, the other near halves, so every pair an elementwise
# max compares (after broadcasting too) is at least 0.3 apart, won by either side.
near_whole = st.builds(lambda k, d: k + d, st.integers(-3, 3), jitter)
near_half = st.builds(lambda k, d: k + 0.5 + d, st.integers(-3, 2), jitter)


def float_arrays(shape, elements=moderate):
    return hnp.arrays(np.float64, shape, elements=elements)


@st.composite
def distinct_arrays(draw, shape):
    """Elements at least 0.3 apart, in a drawn order: no max/min tie within a finite-difference
    step, and a batch's variance well away from 0."""
    size = math.prod(shape)
    order = np.array(draw(st.permutations(range(size))), dtype=np.float64)
    shift = draw(float_arrays((size,), jitter))
    return ((order - size / 2) * 0.5 + shift).reshape(shape)


# -- shapes ----------------------------------------------------------------------------------

one_in_ten = st.integers(0, 9).map(lambda roll: roll == 0)
nonempty_shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3)
# size 0 by construction: a 0 inserted into a shape, not a filter
empty_shapes = st.builds(lambda shape, where: shape[:where] + (0,) + shape[where:],
                         hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=3),
                         st.integers(0, 2))
shapes = one_in_ten.flatmap(lambda empty: empty_shapes if empty else nonempty_shapes)
broadcast_pairs = hnp.mutually_broadcastable_shapes(
    num_shapes=2, min_dims=0, max_dims=3, max_side=3).map(lambda b: b.input_shapes)
empty_pairs = empty_shapes.flatmap(lambda s: st.sampled_from([(s, s), (s, ()), ((), s)]))
binary_shapes = one_in_ten.flatmap(lambda empty: empty_pairs if empty else broadcast_pairs)
matrix_sides = st.integers(0, 18).map(lambda i: (i + 5) // 6)  # 0 one time in 19, else 1..3
batch_shapes = hnp.mutually_broadcastable_shapes(
    num_shapes=2, min_dims=0, max_dims=2, max_side=3).map(lambda b: b.input_shapes)
batch_sizes = st.integers(0, 9).map(lambda i: min(i, 2))  # an empty batch one time in ten
mixing_sides = st.integers(2, 3)  # an axis an op mixes over: at least two numbers


def edge_or_none(edges):
    """One of `edges` one time in ten, else None (the ordinary case)."""
    if not edges:
        return st.none()
    return one_in_ten.flatmap(lambda edge: st.sampled_from(sorted(edges)) if edge else st.none())


@st.composite
def broadcast_shapes(draw, arity: int):
    """`arity` shapes that broadcast together and do not all agree: a full shape, and each
    other input the same with leading axes dropped or sides set to 1 (at least one changed)."""
    full = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=2, max_side=3))
    smaller = []
    for _ in range(arity - 1):
        dropped = draw(st.integers(0, len(full)))
        kept = list(full[dropped:])
        for axis in range(len(kept)):
            if draw(st.booleans()):
                kept[axis] = 1
        smaller.append(tuple(kept))
    if smaller and all(s == full for s in smaller):
        smaller[0] = ()  # a scalar broadcasts against anything
    order = draw(st.permutations(range(arity)))
    every = [full] + smaller
    return tuple(every[i] for i in order)


# -- elementwise ops ---------------------------------------------------------------------------


@st.composite
def elementwise_cases(draw, elements: tuple, attributes) -> Case:
    """Any shape for a unary op, 0-d and size 0 too; broadcastable shapes for the others."""
    if len(elements) == 1:
        input_shapes = (draw(shapes),)
    elif len(elements) == 2:
        input_shapes = draw(binary_shapes)
    else:
        input_shapes = draw(hnp.mutually_broadcastable_shapes(
            num_shapes=len(elements), min_dims=0, max_dims=3, max_side=3)).input_shapes
    inputs = tuple(draw(float_arrays(s, e)) for s, e in zip(input_shapes, elements))
    return Case(inputs, draw(attributes))


@st.composite
def broadcast_cases(draw, elements: tuple, attributes=st.just({})) -> Case:
    """Inputs whose shapes differ and broadcast together."""
    input_shapes = draw(broadcast_shapes(len(elements)))
    inputs = tuple(draw(float_arrays(s, e)) for s, e in zip(input_shapes, elements))
    return Case(inputs, draw(attributes))


@st.composite
def maybe(draw, name: str, values) -> dict:
    """{name: value}, or {} to use the op's default."""
    if draw(st.booleans()):
        return {}
    return {name: draw(values)}


# -- arrays: matmul, transpose, reshape, index -----------------------------------------------


@st.composite
def matmul_cases(draw) -> Case:
    """(.., n, k) @ (.., k, m) with broadcast batch axes; either side may be a vector (k,):
    (n,) @ (n, m), (k, n) @ (n,), (n,) @ (n,), batched and broadcast batches; sides of 0 one
    time in nineteen."""
    n, k, m = draw(matrix_sides), draw(matrix_sides), draw(matrix_sides)
    left_batch, right_batch = draw(batch_shapes)
    left = (k,) if draw(st.booleans()) else left_batch + (n, k)
    right = (k,) if draw(st.booleans()) else right_batch + (k, m)
    return Case((draw(float_arrays(left)), draw(float_arrays(right))), {})


@st.composite
def transpose_cases(draw) -> Case:
    return Case((draw(float_arrays(draw(shapes))),), {})


def _grouped(draw, factors: list[int]) -> tuple[int, ...]:
    """The factors in a drawn order, multiplied together in consecutive groups, with 1s
    inserted here and there: a shape of the same size."""
    order = draw(st.permutations(factors))
    shape: list[int] = []
    for i, factor in enumerate(order):
        if shape and i and draw(st.booleans()):
            shape[-1] *= factor
        else:
            shape.append(factor)
    for where in draw(st.lists(st.integers(0, len(shape)), max_size=2)):
        shape.insert(where, 1)
    return tuple(shape)


@st.composite
def reshape_cases(draw) -> Case:
    factors = draw(st.lists(matrix_sides, max_size=4))
    before, after = _grouped(draw, factors), _grouped(draw, factors)
    if after and 0 not in factors and draw(st.booleans()):
        where = draw(st.integers(0, len(after) - 1))
        after = after[:where] + (-1,) + after[where + 1:]  # numpy infers this one
    return Case((draw(float_arrays(before)),), {"shape": after})


def index_parts(side: int):
    """An integer (negative too) or a (start, stop, step) slice for an axis of this size; a
    slice only for an axis of size 0."""
    bound = st.none() | st.integers(-side - 1, side + 1)
    step = st.sampled_from([None, 1, 2, -1, -2])
    ranges = st.tuples(bound, bound, step)
    return ranges if side == 0 else st.integers(-side, side - 1) | ranges


@st.composite
def index_cases(draw) -> Case:
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    if draw(one_in_ten):  # an empty axis, sliced
        where = draw(st.integers(0, len(shape) - 1))
        shape = shape[:where] + (0,) + shape[where + 1:]
    count = draw(st.integers(1, len(shape)))
    key = tuple(draw(index_parts(side)) for side in shape[:count])
    return Case((draw(float_arrays(shape)),), {"key": key})


# -- reductions and the softmax family -------------------------------------------------------


@st.composite
def axes(draw, ndim: int):
    """None, an axis (negative too), or a tuple of distinct axes; {} for the default."""
    if ndim == 0:
        return draw(st.sampled_from([{}, {"axis": None}]))
    one = st.integers(-ndim, ndim - 1)
    several = st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True).flatmap(
        lambda chosen: st.tuples(*[st.sampled_from([a, a - ndim]) for a in chosen]))
    axis = draw(st.none() | one | several)
    return draw(st.sampled_from([{"axis": axis}, {}])) if axis is None else {"axis": axis}


def reduced_axes(attrs: dict, ndim: int) -> set[int]:
    axis = attrs.get("axis")
    if axis is None:
        return set(range(ndim))
    return {a % ndim for a in (axis if isinstance(axis, tuple) else (axis,))}


@st.composite
def reduction_shapes(draw, edges=()) -> tuple[tuple[int, ...], dict]:
    """(shape, attrs) for a reduction: every reduced axis 2 or 3 long, so each output element
    meets at least two numbers (over one, a sum or max is a copy); the kept axes 1..3 long.
    One time in ten, an edge the op accepts: a 0-d input, or a size-0 one."""
    edge = draw(edge_or_none(edges))
    if edge == ZERO_D:
        return (), draw(axes(0))
    if edge == SIZE_0:
        shape = draw(empty_shapes)
        return shape, draw(axes(len(shape)))
    ndim = draw(st.integers(1, 3))
    attrs = draw(axes(ndim))
    reduced = reduced_axes(attrs, ndim)
    shape = tuple(draw(mixing_sides if axis in reduced else st.integers(1, 3))
                  for axis in range(ndim))
    return shape, attrs


@st.composite
def sum_cases(draw) -> Case:
    shape, attrs = draw(reduction_shapes(edges=(ZERO_D, SIZE_0)))
    return Case((draw(float_arrays(shape)),), attrs)


@st.composite
def mean_cases(draw) -> Case:
    shape, attrs = draw(reduction_shapes(edges=(ZERO_D,)))
    return Case((draw(float_arrays(shape)),), attrs)


@st.composite
def extreme_cases(draw) -> Case:
    """max or min over distinct numbers: no tie. One time in ten an empty batch: a kept axis
    of size 0 (an empty reduced axis has no maximum, and numpy refuses it)."""
    if draw(one_in_ten):
        axis = draw(st.sampled_from([0, 1, -1, -2]))
        shape = [0, 0]
        shape[axis] = draw(st.integers(2, 3))
        return Case((np.zeros(tuple(shape)),), {"axis": axis})
    shape, attrs = draw(reduction_shapes(edges=(ZERO_D,)))
    return Case((draw(distinct_arrays(shape)),), attrs)


@st.composite
def softmax_cases(draw) -> Case:
    """The softmax axis 2..4 long (over one class, softmax is 1 whatever the input); the other
    axes 1..3, or one of them 0 one time in ten."""
    ndim = draw(st.integers(1, 3))
    axis = draw(st.none() | st.integers(-ndim, ndim - 1))
    along = ndim - 1 if axis is None else axis % ndim
    shape = [draw(st.integers(2, 4)) if i == along else draw(st.integers(1, 3))
             for i in range(ndim)]
    others = [i for i in range(ndim) if i != along]
    if others and draw(one_in_ten):
        shape[draw(st.sampled_from(others))] = 0
    x = draw(float_arrays(tuple(shape), logit_values))
    return Case((x,), {} if axis is None else {"axis": axis})


reductions = st.sampled_from(["mean", "sum", "none"])  # every loss's reduction=, PyTorch's


@st.composite
def mse_cases(draw) -> Case:
    """pred and target of broadcastable shapes (a scalar target, a row of targets...), any
    reduction."""
    pred_shape, target_shape = draw(broadcast_pairs)
    return Case((draw(float_arrays(pred_shape)), draw(float_arrays(target_shape))),
                draw(maybe("reduction", reductions)))


@st.composite
def binary_cross_entropy_cases(draw) -> Case:
    """Logits of any shape (0-d too) and targets in [0, 1] of the same shape, any reduction."""
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=3))
    logits = draw(float_arrays(shape, logit_values))
    target = draw(float_arrays(shape, st.floats(0.0, 1.0)))
    return Case((logits, target), draw(maybe("reduction", reductions)))


@st.composite
def probability_cases(draw) -> Case:
    """Probabilities in [0.05, 0.95], away from 0 and 1 where the loss's logs are floored at
    −100, and targets in [0, 1] of the same shape, any reduction."""
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=3))
    p = draw(float_arrays(shape, st.floats(0.05, 0.95)))
    target = draw(float_arrays(shape, st.floats(0.0, 1.0)))
    return Case((p, target), draw(maybe("reduction", reductions)))


@st.composite
def class_targets(draw, batch: tuple, classes: int):
    """Class indices (..) stored as floats, as the engine stores every value, or one-hot rows
    (.., C)."""
    indices = draw(hnp.arrays(np.int64, batch, elements=st.integers(0, classes - 1)))
    one_hot = draw(st.booleans())
    return np.eye(classes)[indices] if one_hot else indices.astype(np.float64)


@st.composite
def cross_entropy_cases(draw) -> Case:
    """Logits (.., C) with C ≥ 2 classes (over one class the loss is 0 whatever the logits):
    (C,), (N, C) or (B, N, C); targets as class indices or one-hot rows; any reduction."""
    classes = draw(st.integers(2, 4))
    batch = draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=3))
    logits = draw(float_arrays(batch + (classes,), logit_values))
    target = draw(class_targets(batch, classes))
    return Case((logits, target), draw(maybe("reduction", reductions)))


@st.composite
def nll_loss_cases(draw) -> Case:
    """Log-probabilities (.., C), each row a log_softmax of logits (C ≥ 2), with class indices
    or one-hot rows; any reduction."""
    classes = draw(st.integers(2, 4))
    batch = draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=3))
    logits = draw(float_arrays(batch + (classes,), logit_values))
    log_p = logits - np.log(np.sum(np.exp(logits), axis=-1, keepdims=True))
    return Case((log_p, draw(class_targets(batch, classes))),
                draw(maybe("reduction", reductions)))


# -- layers ----------------------------------------------------------------------------------


def one_or_pair(values):
    """2 or (2, 3): a hyper-parameter written once for both axes, or per axis."""
    return values | st.tuples(values, values)


def both(value) -> tuple[int, int]:
    return value if isinstance(value, tuple) else (value, value)


@st.composite
def linear_cases(draw) -> Case:
    """x (in,), (N, in) or (B, N, in), an empty batch (0, in) one time in ten and no input
    features (in = 0) one time in ten; W (out, in); b (out,)."""
    batch = draw(st.sampled_from([(), (2,), (3,), (2, 2)]))
    if batch and draw(one_in_ten):
        batch = (0,)
    n_in, n_out = draw(st.integers(0, 9).map(lambda i: min(i, 3))), draw(st.integers(1, 3))
    return Case((draw(float_arrays(batch + (n_in,))), draw(float_arrays((n_out, n_in))),
                 draw(float_arrays((n_out,)))), {})


@st.composite
def window_geometry(draw, max_padding: int = 1):
    """(image shape (N, C, H, W), kernel, stride, padding) such that the kernel fits; N = 0
    (an empty batch) one time in ten."""
    n, c = draw(batch_sizes), draw(st.integers(1, 2))
    height, width = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    padding = draw(one_or_pair(st.integers(0, max_padding)))
    ph, pw = both(padding)
    kernel = (draw(st.integers(1, min(3, height + 2 * ph))),
              draw(st.integers(1, min(3, width + 2 * pw))))
    if kernel[0] == kernel[1] and draw(st.booleans()):
        kernel = kernel[0]
    stride = draw(one_or_pair(st.integers(1, 2)))
    return (n, c, height, width), kernel, stride, padding


@st.composite
def conv2d_cases(draw) -> Case:
    (n, c, h, w), kernel, stride, padding = draw(window_geometry())
    kh, kw = both(kernel)
    filters = draw(st.integers(1, 2))
    attrs = {"stride": stride, "padding": padding}
    for name, default in (("stride", 1), ("padding", 0)):
        if attrs[name] == default and draw(st.booleans()):
            del attrs[name]  # the op's default
    return Case((draw(float_arrays((n, c, h, w))), draw(float_arrays((filters, c, kh, kw))),
                 draw(float_arrays((filters,)))), attrs)


@st.composite
def im2col_cases(draw) -> Case:
    shape, kernel, stride, padding = draw(window_geometry())
    return Case((draw(float_arrays(shape)),),
                {"kernel": kernel, "stride": stride, "padding": padding})


@st.composite
def pooling_kernels(draw):
    """A window of at least two pixels (a 1×1 window is a copy): 2 or (KH, KW) in 1..3 with
    KH·KW ≥ 2."""
    kh = draw(st.integers(1, 3))
    kw = draw(st.integers(2, 3) if kh == 1 else st.integers(1, 3))
    if kh == kw and draw(st.booleans()):
        return kh
    return kh, kw


@st.composite
def pool_geometry(draw):
    """(image shape, attrs): the stride the kernel's (None or left out) or 1..3; the image at
    least one window large; an empty batch one time in ten."""
    kernel = draw(pooling_kernels())
    kh, kw = both(kernel)
    shape = (draw(batch_sizes), draw(st.integers(1, 2)),
             kh + draw(st.integers(0, 2)), kw + draw(st.integers(0, 2)))
    stride = draw(st.none() | one_or_pair(st.integers(1, 3)))
    attrs = {"kernel": kernel} if stride is None and draw(st.booleans()) else {
        "kernel": kernel, "stride": stride}
    return shape, attrs


@st.composite
def max_pool2d_cases(draw) -> Case:
    shape, attrs = draw(pool_geometry())
    return Case((draw(distinct_arrays(shape)),), attrs)


@st.composite
def avg_pool2d_cases(draw) -> Case:
    shape, attrs = draw(pool_geometry())
    return Case((draw(float_arrays(shape)),), attrs)


# (N, H, W) with 3 ≤ N·H·W ≤ 4, listed once: the numbers each channel's statistics see
# (few, as SymPy differentiates every output by every input of its channel)
_IMAGE_BATCHES = [nhw for nhw in itertools.product((1, 2, 3), (1, 2), (1, 2))
                  if 3 <= math.prod(nhw) <= 4]


@st.composite
def normalised_shapes(draw):
    """(N, C) with N ≥ 3, or (N, C, H, W) with N·H·W ≥ 3: each channel's statistics over at
    least three numbers (over one, x̂ = 0; over two, x̂ = ±1 whatever they are)."""
    if draw(st.booleans()):
        return draw(st.integers(3, 4)), draw(st.integers(1, 3))
    n, h, w = draw(st.sampled_from(_IMAGE_BATCHES))
    return n, draw(st.integers(1, 2)), h, w


eps_values = st.sampled_from([1e-5, 1e-3, 0.1])


@st.composite
def batch_norm_cases(draw) -> Case:
    shape = draw(normalised_shapes())
    c = shape[1]
    return Case((draw(distinct_arrays(shape)), draw(float_arrays((c,))),
                 draw(float_arrays((c,)))), draw(maybe("eps", eps_values)))


@st.composite
def batch_norm_eval_cases(draw) -> Case:
    """Running statistics given, so an empty batch is fine (one time in ten)."""
    n, *rest = draw(normalised_shapes())
    shape = (0 if draw(one_in_ten) else n, *rest)
    c = shape[1]
    x, gamma, beta, mean = (draw(float_arrays(s)) for s in (shape, (c,), (c,), (c,)))
    var = draw(float_arrays((c,), variances))
    return Case((x, gamma, beta, mean, var), draw(maybe("eps", eps_values)))


@st.composite
def dropout_cases(draw) -> Case:
    """A 0/1 mask that keeps at least one unit (keeping none, the output is 0 whatever x is)."""
    shape = draw(shapes)
    mask = draw(hnp.arrays(np.float64, shape, elements=st.sampled_from([0.0, 1.0])))
    if mask.size:
        mask.flat[draw(st.integers(0, mask.size - 1))] = 1.0
    return Case((draw(float_arrays(shape)), mask),
                draw(maybe("p", st.sampled_from([0.0, 0.2, 0.5, 0.9]))))


@st.composite
def flatten_cases(draw) -> Case:
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=3))
    if draw(one_in_ten):
        where = draw(st.integers(0, len(shape) - 1))
        shape = shape[:where] + (0,) + shape[where + 1:]
    start = draw(st.integers(-len(shape), len(shape) - 1))
    attrs = {} if start == 1 and draw(st.booleans()) else {"start_dim": start}
    return Case((draw(float_arrays(shape)),), attrs)
