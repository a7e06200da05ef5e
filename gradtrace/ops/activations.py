"""Registry entries for the activations beyond the scalar gates: leaky_relu and elu (each with
a parameter), softplus and gelu. Each has its own fast rules and its composite (in composites.py;
gelu's here, with erf), which the tests check them against.
"""

from __future__ import annotations

import math

import numpy as np

from ..core import workspace
from ..core.i18n import N_
from ..core.registry import Activation, Op, register
from . import composites
from .scalar import _elementwise, _sigmoid, normal_cdf, normal_pdf
from .sympy_forms import exact_float, on_each


def _leaky_relu(a, negative_slope=0.01):
    return np.where(a > 0, a, a * negative_slope)


def _leaky_relu_slope(a, out, negative_slope=0.01):
    return np.where(a > 0, 1.0, negative_slope)


def _leaky_relu_vjp(g, inputs, out, needed, negative_slope=0.01):
    return (np.where(inputs[0] > 0, g, g * negative_slope) if needed[0] else None,)


def _leaky_relu_jvp(tangents, inputs, out, negative_slope=0.01):
    if tangents[0] is None:
        return np.zeros_like(out)
    return np.where(inputs[0] > 0, tangents[0], tangents[0] * negative_slope)


def _leaky_relu_sympy(sp, a, negative_slope=0.01):
    return on_each(lambda v: sp.Max(v, 0) + exact_float(sp, negative_slope) * sp.Min(v, 0))(a)


register(Op(
    name="leaky_relu", arity=1, usage="leaky_relu(a, negative_slope=0.01)",
    pattern="leaky_relu({a}{attrs})", symbol="leaky relu", forward=_leaky_relu,
    partials=(_leaky_relu_slope,), formulas=("[{a} > 0] + {negative_slope}·[{a} ≤ 0]",),
    sympy_array_rule=_leaky_relu_sympy, composite=composites.leaky_relu,
    vjp_rule=_leaky_relu_vjp, jvp_rule=_leaky_relu_jvp,
    attrs={"negative_slope": 0.01}, callable_by_name=True, gate=N_("switch (leaky)"),
    kink=lambda a, negative_slope=0.01: a == 0,
    kink_rule=N_("leaky_relu'(0) = negative_slope (the left side)"),
    activation=Activation(module="LeakyReLU", init="he"),
    description=N_("a for a > 0, negative_slope·a otherwise: negative inputs still pass a "
                   "little gradient"),
))


def _elu(a, alpha=1.0):
    return np.where(a > 0, a, alpha * np.expm1(np.minimum(a, 0)))  # no overflow for a > 0


def _elu_slope(a, out, alpha=1.0):
    return np.where(a > 0, 1.0, out + alpha)


def _elu_vjp(g, inputs, out, needed, alpha=1.0):
    return (np.where(inputs[0] > 0, g, g * (out + alpha)) if needed[0] else None,)


def _elu_jvp(tangents, inputs, out, alpha=1.0):
    if tangents[0] is None:
        return np.zeros_like(out)
    return np.where(inputs[0] > 0, tangents[0], tangents[0] * (out + alpha))


def _elu_sympy(sp, a, alpha=1.0):
    return on_each(lambda v: sp.Piecewise(
        (v, v > 0), (exact_float(sp, alpha) * (sp.exp(v) - 1), True)))(a)


register(Op(
    name="elu", arity=1, usage="elu(a, alpha=1.0)", pattern="elu({a}{attrs})", symbol="elu",
    forward=_elu, partials=(_elu_slope,), formulas=("[{a} > 0] + ({out} + {alpha})·[{a} ≤ 0]",),
    sympy_array_rule=_elu_sympy, composite=composites.elu, vjp_rule=_elu_vjp,
    jvp_rule=_elu_jvp, attrs={"alpha": 1.0}, callable_by_name=True,
    kink=lambda a, alpha=1.0: a == 0,  # with alpha = 1 the slope is continuous, not the curvature
    kink_rule=N_("elu'(0) = alpha (the left side)"),
    activation=Activation(module="ELU", init="he"),
    description=N_("a for a > 0, alpha·(exp(a) − 1) otherwise; its slope there is out + alpha"),
))

register(Op(
    name="silu", arity=1, usage="silu(a)", pattern="silu({a})", symbol="silu",
    composite=lambda F, a: a * F.sigmoid(a), elementwise=True, callable_by_name=True,
    activation=Activation(module="SiLU", init="he"),
    description=N_("a·σ(a), the sigmoid-weighted linear unit (swish): smooth, and negative "
                   "inputs pass a little gradient"),
))

register(Op(
    name="softplus", arity=1, usage="softplus(a)", pattern="softplus({a})", symbol="softplus",
    forward=_elementwise(lambda a: np.logaddexp(0, a)),  # log(1 + exp(a)) without overflow
    partials=(lambda a, out: _sigmoid(a),), formulas=("σ({a})",),
    sympy_rule=lambda sp, a: sp.log(1 + sp.exp(a)), composite=composites.softplus,
    callable_by_name=True, activation=Activation(module="Softplus", init="he"),
    description=N_("log(1 + exp(a)), a smooth relu; its derivative is the sigmoid"),
))


SQRT2 = math.sqrt(2.0)


def _gelu(a):
    return a * normal_cdf(a)


def _gelu_keeping(a):
    """(a·Φ(a), Φ(a)): the VJP reuses Φ, the costly half of the slope (erf in float64)."""
    cdf = normal_cdf(a)
    return a * cdf, cdf


def _gelu_slope(a, out, cdf=None):
    """Φ(a) + a·φ(a), by the product rule."""
    if cdf is None:
        cdf = normal_cdf(a)
    if np.ndim(a) == 0:
        return cdf + a * normal_pdf(a)
    slope = normal_pdf(a)  # a fresh array: a·φ(a) + Φ(a) worked in it
    slope *= a
    slope += cdf
    return slope


def _gelu_vjp(g, inputs, out, needed, kept=None):
    if not needed[0]:
        return (None,)
    slope = _gelu_slope(inputs[0], out, kept)
    return (workspace.ufunc_result(np.multiply, slope, g),)


def _gelu_composite(F, a):
    return 0.5 * a * (1.0 + F.erf(a / SQRT2))  # a·Φ(a), Φ(a) = ½(1 + erf(a/√2))


register(Op(
    name="gelu", arity=1, usage="gelu(a)", pattern="gelu({a})", symbol="gelu",
    forward=_elementwise(_gelu), partials=(_gelu_slope,), formulas=("Φ({a}) + {a}·φ({a})",),
    forward_keeping=_gelu_keeping, vjp_rule=_gelu_vjp,
    sympy_rule=lambda sp, a: a * (1 + sp.erf(a / sp.sqrt(2))) / 2, composite=_gelu_composite,
    callable_by_name=True, activation=Activation(module="GELU", init="he"),
    description=N_("a·Φ(a), Φ the standard normal distribution function ½(1 + erf(a/√2)): the "
                   "Gaussian error linear unit, PyTorch's exact (default) form; φ is the normal "
                   "density"),
))
