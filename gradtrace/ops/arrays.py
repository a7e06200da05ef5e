"""Registry entries for the ops that are not elementwise: matmul, transpose, reductions,
reshape, indexing, softmax and log_softmax (the losses are in losses.py).

Their local derivative is a Jacobian that backprop never builds: each gives its VJP (what the
backward pass computes, in the notes' notation grad_W = xᵀ·grad_y) and its JVP (forward mode)
directly. Notation: g is the upstream gradient (same shape as the output), N the batch size.
"""

from __future__ import annotations

import math

import numpy as np

from ..core.arrays import float_type, sum_to
from ..core.i18n import N_
from ..core.registry import Op, register


def _axes(axis, ndim: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    axes = axis if isinstance(axis, tuple) else (axis,)
    return tuple(a % ndim for a in axes) if ndim else ()


def _expand(g, shape, axis):
    """A reduced gradient broadcast back over the axes a reduction removed."""
    g = np.asarray(g)
    for a in sorted(_axes(axis, len(shape))):
        g = np.expand_dims(g, a)
    return np.broadcast_to(g, shape)


# -- matmul: (.., n, k) @ (.., k, m); a 1-d operand is a row (left) or a column (right) -------

def _as_matrices(a, b):
    a2 = a[np.newaxis, :] if a.ndim == 1 else a
    b2 = b[:, np.newaxis] if b.ndim == 1 else b
    return a2, b2


def _matmul_vjp(g, inputs, out, needed):
    a, b = inputs
    a2, b2 = _as_matrices(a, b)
    g2 = np.asarray(g)  # the upstream gradient, with the axes a 1-d operand dropped put back
    if b.ndim == 1:
        g2 = np.expand_dims(g2, -1)
    if a.ndim == 1:
        g2 = np.expand_dims(g2, -2)
    grad_a = grad_b = None
    if needed[0]:
        grad_a = sum_to(np.matmul(g2, np.swapaxes(b2, -1, -2)), a2.shape).reshape(a.shape)
    if needed[1]:
        grad_b = sum_to(np.matmul(np.swapaxes(a2, -1, -2), g2), b2.shape).reshape(b.shape)
    return grad_a, grad_b


def _matmul_jvp(tangents, inputs, out):
    a, b = inputs
    ta, tb = tangents
    total = np.zeros_like(out, dtype=float_type(out))
    if ta is not None:
        total = total + np.matmul(ta, b)
    if tb is not None:
        total = total + np.matmul(a, tb)
    return total


def _matmul_forward(a, b):
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        raise ValueError("@ needs arrays of at least one dimension on both sides "
                         "(use * to multiply by a number)")
    return np.matmul(a, b)


register(Op(
    name="matmul", arity=2, usage="a @ b", pattern="{a} @ {b}", symbol="@",
    forward=_matmul_forward, partials=None, formulas=("{g} · {b}ᵀ", "{a}ᵀ · {g}"),
    sympy_array_rule=lambda sp, a, b: np.matmul(a, b),
    vjp_rule=_matmul_vjp, jvp_rule=_matmul_jvp, gate=N_("swapper (matrix form)"),
    work=lambda shapes, out: math.prod(out) * (shapes[0][-1] if shapes[0] else 1),
    description=N_("matrix product; grad_a = g·bᵀ and grad_b = aᵀ·g"),
))


# -- transpose, reshape, indexing: they only move numbers around -----------------------------

register(Op(
    name="transpose", arity=1, usage="transpose(a) or a.T", pattern="{a}ᵀ", symbol="ᵀ",
    forward=lambda a: np.transpose(a), partials=None, formulas=("{g}ᵀ",),
    sympy_array_rule=lambda sp, a: np.transpose(a),
    vjp_rule=lambda g, inputs, out, needed: (np.transpose(g),),
    jvp_rule=lambda tangents, inputs, out: np.transpose(tangents[0]),
    callable_by_name=True, description=N_("transpose (reverses the axes); the gradient is "
                                          "transposed back"),
))


def _reshape_forward(a, shape=()):
    return np.reshape(a, shape)


register(Op(
    name="reshape", arity=1, usage="reshape(a, 2, 3)", pattern="reshape({a}, {shape})",
    symbol="reshape", forward=_reshape_forward, partials=None,
    formulas=(N_("reshape({g}, shape of {a})"),),
    sympy_array_rule=lambda sp, a, shape=(): np.reshape(a, shape),
    vjp_rule=lambda g, inputs, out, needed, shape=(): (np.reshape(g, inputs[0].shape),),
    jvp_rule=lambda tangents, inputs, out, shape=(): np.reshape(tangents[0], out.shape),
    attrs={"shape": ()}, callable_by_name=True,
    description=N_("the same numbers in another shape; the gradient is reshaped back"),
))


def as_index(key) -> tuple:
    """An index as plain data ((start, stop, step) triples for slices) to a numpy index."""
    return tuple(slice(*part) if isinstance(part, tuple) else part for part in key)


def _index_vjp(g, inputs, out, needed, key=()):
    grad = np.zeros_like(inputs[0], dtype=float_type(g))
    np.add.at(grad, as_index(key), g)  # add.at: a repeated index would collect every part
    return (grad,)


register(Op(
    name="index", arity=1, usage="a[i], a[1:3], a[:, 0]", pattern="{a}[{key}]", symbol="[ ]",
    forward=lambda a, key=(): np.asarray(a[as_index(key)]), partials=None,
    formulas=(N_("{g} placed at [{key}], zeros elsewhere"),),
    sympy_array_rule=lambda sp, a, key=(): np.asarray(a[as_index(key)], dtype=object),
    vjp_rule=_index_vjp,
    jvp_rule=lambda tangents, inputs, out, key=(): tangents[0][as_index(key)],
    attrs={"key": ()}, gate=N_("router (to the selected elements)"),
    description=N_("indexing and slicing; the gradient goes back to the selected elements"),
))


# -- reductions ----------------------------------------------------------------------------

register(Op(
    name="sum", arity=1, usage="sum(a), sum(a, axis=0)", pattern="sum({a}{attrs})",
    symbol="Σ", forward=lambda a, axis=None: np.sum(a, axis=axis), partials=None,
    formulas=(N_("{g} copied to every element summed"),),
    sympy_array_rule=lambda sp, a, axis=None: np.asarray(np.sum(a, axis=axis), dtype=object),
    vjp_rule=lambda g, inputs, out, needed, axis=None: (_expand(g, inputs[0].shape, axis),),
    jvp_rule=lambda tangents, inputs, out, axis=None: np.sum(tangents[0], axis=axis),
    attrs={"axis": None}, callable_by_name=True, gate=N_("distributor"),
    description=N_("sum over all elements or one axis; every element gets the upstream gradient"),
))


def _count(shape, axis) -> int:
    return int(np.prod([shape[a] for a in _axes(axis, len(shape))], dtype=np.int64))


def _mean(a, axis=None):
    """np.mean, but nan for no elements without numpy's "Mean of empty slice" warning (as
    PyTorch: the mean of nothing is nan)."""
    if a.size:
        return np.mean(a, axis=axis)
    with np.errstate(invalid="ignore"):
        return np.divide(np.sum(a, axis=axis), 0)


register(Op(
    name="mean", arity=1, usage="mean(a), mean(a, axis=0)", pattern="mean({a}{attrs})",
    symbol="mean", forward=lambda a, axis=None: _mean(a, axis), partials=None,
    formulas=(N_("{g} / N to every element averaged"),),
    sympy_array_rule=lambda sp, a, axis=None: np.asarray(
        np.sum(a, axis=axis) / (_count(a.shape, axis) or sp.nan), dtype=object),
    vjp_rule=lambda g, inputs, out, needed, axis=None: (
        _expand(g, inputs[0].shape, axis) / _count(inputs[0].shape, axis),),
    jvp_rule=lambda tangents, inputs, out, axis=None: _mean(tangents[0], axis),
    attrs={"axis": None}, callable_by_name=True, gate=N_("distributor (scaled by 1/N)"),
    description=N_("mean over all elements or one axis"),
))


def _first_extreme_mask(a, axis, pick):
    """1 at the first maximum (or minimum) along the reduced axes, 0 elsewhere: ties route the
    whole gradient to the first, as argmax does."""
    axes = _axes(axis, a.ndim)
    kept = [i for i in range(a.ndim) if i not in axes]
    # the reduced axes' size given, not -1: with an empty kept axis -1 cannot be worked out
    reduced = math.prod(a.shape[i] for i in axes)
    moved = np.transpose(a, kept + list(axes)).reshape([a.shape[i] for i in kept] + [reduced])
    winner = pick(moved, axis=-1)
    mask = np.zeros_like(moved, dtype=float_type(a))
    np.put_along_axis(mask, np.expand_dims(winner, -1), 1.0, axis=-1)
    mask = mask.reshape([a.shape[i] for i in kept] + [a.shape[i] for i in axes])
    return np.transpose(mask, np.argsort(kept + list(axes)))


def _extreme_op(name, user_name, reduce, pick, sympy_pair, word):
    def vjp(g, inputs, out, needed, axis=None):
        a = inputs[0]
        return (_expand(g, a.shape, axis) * _first_extreme_mask(a, axis, pick),)

    def jvp(tangents, inputs, out, axis=None):
        a = inputs[0]
        return np.sum(tangents[0] * _first_extreme_mask(a, axis, pick), axis=axis)

    def sympy_array_rule(sp, a, axis=None):
        folded = np.frompyfunc(lambda x, y: sympy_pair(sp, x, y), 2, 1)
        for one in sorted(_axes(axis, a.ndim), reverse=True):  # a frompyfunc ufunc
            a = folded.reduce(a, axis=one)  # reduces over one axis at a time
        return np.asarray(a, dtype=object)

    def tie(a, axis=None):
        extreme = np.expand_dims(reduce(a, axis=axis), _axes(axis, a.ndim)) if a.ndim else a
        return np.sum(a == extreme, axis=axis) > 1

    register(Op(
        name=name, arity=1, usage=f"{user_name}(a), {user_name}(a, axis=0)",
        pattern=f"{user_name}({{a}}{{attrs}})", symbol=user_name,
        forward=lambda a, axis=None: reduce(a, axis=axis), partials=None,
        formulas=(EXTREME_WORDS[word][0],),
        sympy_array_rule=sympy_array_rule, vjp_rule=vjp, jvp_rule=jvp, attrs={"axis": None},
        call_name=user_name, callable_by_name=True, gate=N_("router"),
        kink=tie, kink_rule=EXTREME_WORDS[word][1], description=EXTREME_WORDS[word][2],
    ))


# The words of max and min, whole sentences for the catalog: formula, kink rule, description.
EXTREME_WORDS = {
    "largest": (N_("{g} to the largest element, 0 elsewhere"),
                N_("at a tie the first largest element gets it all"),
                N_("largest over all elements or one axis; that element gets the gradient")),
    "smallest": (N_("{g} to the smallest element, 0 elsewhere"),
                 N_("at a tie the first smallest element gets it all"),
                 N_("smallest over all elements or one axis; that element gets the gradient")),
}


_extreme_op("amax", "max", np.max, np.argmax, lambda sp, x, y: sp.Max(x, y), "largest")
_extreme_op("amin", "min", np.min, np.argmin, lambda sp, x, y: sp.Min(x, y), "smallest")


# -- the softmax family ----------------------------------------------------------------------

# The ufuncs' own reductions and in-place steps on the fresh `shifted`: numpy's np.max/np.sum
# (and the array methods') Python layers cost more than the arithmetic on a batch of logits.

def softmax(a, axis=-1):
    shifted = a - np.maximum.reduce(a, axis=axis, keepdims=True)  # exp never overflows
    np.exp(shifted, out=shifted)
    shifted /= np.add.reduce(shifted, axis=axis, keepdims=True)
    return shifted


def log_softmax(a, axis=-1):
    shifted = a - np.maximum.reduce(a, axis=axis, keepdims=True)
    shifted -= np.log(np.add.reduce(np.exp(shifted), axis=axis, keepdims=True))
    return shifted


def _sympy_softmax(sp, a, axis=-1):
    e = np.frompyfunc(sp.exp, 1, 1)(a)
    return e / np.sum(e, axis=axis, keepdims=True)


def _sympy_log_softmax(sp, a, axis=-1):
    return np.frompyfunc(sp.log, 1, 1)(_sympy_softmax(sp, a, axis))


def _softmax_vjp(g, inputs, out, needed, axis=-1):
    return (out * (g - np.sum(g * out, axis=axis, keepdims=True)),)


def _softmax_jvp(tangents, inputs, out, axis=-1):
    return out * (tangents[0] - np.sum(out * tangents[0], axis=axis, keepdims=True))


def _log_softmax_vjp(g, inputs, out, needed, axis=-1):
    return (g - np.exp(out) * np.sum(g, axis=axis, keepdims=True),)


def _log_softmax_jvp(tangents, inputs, out, axis=-1):
    return tangents[0] - np.sum(np.exp(out) * tangents[0], axis=axis, keepdims=True)


register(Op(
    name="softmax", arity=1, usage="softmax(a, axis=-1)", pattern="softmax({a}{attrs})",
    symbol="softmax", forward=softmax, partials=None,
    formulas=("{out} ⊙ ({g} − Σ({g} ⊙ {out}))",), sympy_array_rule=_sympy_softmax,
    vjp_rule=_softmax_vjp, jvp_rule=_softmax_jvp, attrs={"axis": -1}, callable_by_name=True,
    description=N_("exp(a) / Σ exp(a) along an axis (the last by default)"),
))

register(Op(
    name="log_softmax", arity=1, usage="log_softmax(a, axis=-1)",
    pattern="log_softmax({a}{attrs})", symbol="log softmax", forward=log_softmax,
    partials=None, formulas=("{g} − softmax({a}) · Σ{g}",),
    sympy_array_rule=_sympy_log_softmax, vjp_rule=_log_softmax_vjp,
    jvp_rule=_log_softmax_jvp, attrs={"axis": -1}, callable_by_name=True,
    description=N_("log(softmax(a)), computed stably"),
))
