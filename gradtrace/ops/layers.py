"""Registry entries for the fully connected layer, dropout and flatten.

Each is fused (one forward and one VJP that do the whole layer in a few BLAS calls) for speed;
its `composite` (composites.py) writes the same layer with primitive ops for teaching (`--expand`
shows it), and the tests check that both agree. Notation: g is the upstream gradient, shaped
like the output; a layer's parameters follow PyTorch's layout (linear's W is (out, in)).

Rules only compute the gradients asked for (`needed`), and keep the inputs' float type.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from ..core import workspace
from ..core.arrays import float_type
from ..core.i18n import N_
from ..core.registry import Op, register
from . import composites
from .sympy_forms import exact_float


# -- linear: x (..., in) @ W (out, in)ᵀ + b (out,) ------------------------------------------

def _linear(x, W, b):
    if x.ndim == 0 or W.ndim != 2 or x.shape[-1] != W.shape[1]:
        raise ValueError(f"linear needs x (..., in) and W (out, in): got x {np.shape(x)}, "
                         f"W {np.shape(W)}")
    # x · Wᵀ, whose result is row-major like x. (W · xᵀ)ᵀ is 5–10% faster in BLAS, but its
    # column-major result would meet row-major arrays in the ops after it (a residual sum, a
    # target), and numpy's elementwise loops over two layouts run ten times slower. A
    # column-major W (12% faster here) would make PyTorch's views of the weight numpy copies.
    out = _product(x, W.T)
    out += b  # in place: a float64 bias does not widen a float32 layer
    return out


def _product(a, b):
    """a @ b into pooled memory (a large batch's gradient is made anew every step)."""
    dtype = a.dtype
    if (a.ndim != 2 or b.ndim != 2 or dtype != b.dtype or dtype.kind != "f"
            or a.shape[0] * b.shape[1] * dtype.itemsize < workspace.MIN_BYTES):
        return a @ b
    return np.matmul(a, b, out=workspace.empty((a.shape[0], b.shape[1]), dtype))


@functools.lru_cache(maxsize=16)
def _ones(length: int, dtype) -> np.ndarray:
    """A read-only vector of ones, made once per batch size rather than every step."""
    ones = np.ones(length, dtype=dtype)
    ones.flags.writeable = False
    return ones


def _linear_vjp(g, inputs, out, needed):
    x, W, b = inputs
    samples = math.prod(x.shape[:-1])  # not -1 in reshape: an empty axis has no size
    # every sample of the batch as one row
    rows = g if g.ndim == 2 else g.reshape(samples, W.shape[0])
    grad_x = _product(g, W) if needed[0] else None
    if needed[1]:
        flat_x = x if x.ndim == 2 else x.reshape(samples, W.shape[1])
        if W.flags.f_contiguous and not W.flags.c_contiguous:
            # a column-major W (a transposed array of the user's): its gradient laid out as
            # W, so that the optimiser's W -= lr·grad_W runs over one layout
            grad_W = _product(flat_x.T, rows).T
        else:
            grad_W = _product(rows.T, flat_x)
    else:
        grad_W = None
    grad_b = None
    if needed[2]:
        # Σ over the batch as a product with ones (BLAS beats numpy's sum down axis 0); a bias
        # of another shape gets g, which the engine sums back over the broadcast axes
        grad_b = _ones(rows.shape[0], rows.dtype) @ rows if np.shape(b) == (W.shape[0],) else g
    return grad_x, grad_W, grad_b


def _linear_jvp(tangents, inputs, out):
    (x, W, b), (tx, tW, tb) = inputs, tangents
    total = np.zeros_like(out, dtype=float_type(out))
    if tx is not None:
        total = total + tx @ W.T
    if tW is not None:
        total = total + x @ tW.T
    if tb is not None:
        total = total + tb
    return total


register(Op(
    name="linear", arity=3, usage="linear(x, W, b)", pattern="linear({a}, {b}, {c})",
    symbol="linear", forward=_linear, partials=None,
    formulas=("{g} · {b}", "{g}ᵀ · {a}", N_("Σ {g} over the batch")),
    sympy_array_rule=lambda sp, x, W, b: np.matmul(x, W.T) + b,
    vjp_rule=_linear_vjp, jvp_rule=_linear_jvp, callable_by_name=True,
    composite=composites.linear, work=lambda shapes, out: math.prod(out) * shapes[1][-1],
    description=N_("fully connected layer x·Wᵀ + b, W of shape (out, in) as in PyTorch; "
                   "grad_x = g·W, grad_W = gᵀ·x, grad_b = Σ g"),
))


# -- dropout and flatten -------------------------------------------------------------------

def _kept(x, mask, p):
    """The mask scaled by 1/(1 − p) (inverted dropout), in x's float type."""
    if not 0 <= p < 1:
        raise ValueError(f"dropout probability p must lie in [0, 1), not {p}")
    return np.asarray(mask, dtype=float_type(x)) * (1.0 / (1.0 - p))


register(Op(
    name="dropout", arity=2, usage="dropout(x, mask, p=0.5)", pattern="dropout({a}, {b}{attrs})",
    symbol="dropout", forward=lambda x, mask, p=0.5: x * _kept(x, mask, p), partials=None,
    formulas=("{g} · {b} / (1 − p)", N_("none: the mask is data")),
    sympy_array_rule=lambda sp, x, mask, p=0.5: x * (np.asarray(mask, dtype=object)
                                                / (1 - exact_float(sp, p))),
    vjp_rule=lambda g, inputs, out, needed, p=0.5: (g * _kept(inputs[0], inputs[1], p), None),
    jvp_rule=lambda tangents, inputs, out, p=0.5: tangents[0] * _kept(inputs[0], inputs[1], p),
    attrs={"p": 0.5}, differentiable=(True, False), callable_by_name=True,
    gate=N_("switch (scaled)"), composite=composites.dropout,
    description=N_("inverted dropout: x · mask / (1 − p), the 0/1 mask drawn by the caller's "
                   "generator; evaluation mode does not call it"),
))


def _flatten(x, start_dim=1):
    ndim = max(np.ndim(x), 1)
    if not -ndim <= start_dim < ndim:
        raise ValueError(f"flatten: start_dim {start_dim} is out of range for shape {np.shape(x)}")
    start = start_dim % ndim
    return workspace.reshaped(x, x.shape[:start] + (int(np.prod(x.shape[start:],
                                                                dtype=np.int64)),))


register(Op(
    name="flatten", arity=1, usage="flatten(x, start_dim=1)", pattern="flatten({a}{attrs})",
    symbol="flatten", forward=_flatten, partials=None,
    formulas=(N_("reshape({g}, shape of {a})"),),
    sympy_array_rule=lambda sp, x, start_dim=1: _flatten(x, start_dim),
    vjp_rule=lambda g, inputs, out, needed, start_dim=1: (np.reshape(g, inputs[0].shape),),
    jvp_rule=lambda tangents, inputs, out, start_dim=1: np.reshape(tangents[0], out.shape),
    attrs={"start_dim": 1}, callable_by_name=True, composite=composites.flatten,
    description=N_("every axis from start_dim on merged into one: (N, C, H, W) → (N, C·H·W)"),
))
