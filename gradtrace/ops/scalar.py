"""Registry entries for the elementwise ops: the gates the notes draw (add, sub, mul, div, neg,
pow, exp, log...) and the scalar activations (sigmoid, tanh, relu, abs, max, min).

Each partial is d out / d input as a function of (*inputs, out); the engine multiplies the
upstream gradient by it (or uses `vjp_rule`, a faster way to the same product).
"""

from __future__ import annotations

import numpy as np

from ..core.arrays import float_type
from ..core.registry import Activation, Op, register


def _ones(*args):
    return np.ones_like(args[-1], dtype=float_type(args[-1]))


def _minus_ones(*args):
    return -np.ones_like(args[-1], dtype=float_type(args[-1]))


def _why_division(a, b):
    return "division by zero" if np.any(b == 0) else None


def _why_overflow(*inputs):
    return "overflow: the result is larger than the largest float (1.8e308)"


def _why_log(a):
    if np.any(a < 0):
        return "log of a negative number"
    if np.any(a == 0):
        return "log(0) is -inf"
    return None


def _why_sqrt(a):
    return "square root of a negative number" if np.any(a < 0) else None


def _why_pow(a, b):
    if np.any((a == 0) & (b < 0)):
        return "zero to a negative power (division by zero)"
    if np.any((a < 0) & (np.floor(b) != b)):
        return "a negative number to a fractional power"
    return _why_overflow()


def _sigmoid(a):
    # exp(-|a|) never overflows; the two branches are the same function written two ways.
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _elementwise(fn):
    """Wrap a numpy function so 0-d inputs give 0-d arrays, not numpy scalars. (Inputs are
    float arrays already: the engine makes every value one with as_float.)"""
    return lambda *args: np.asarray(fn(*args))


def _add_vjp(g, inputs, out, needed):
    return (g if needed[0] else None, g if needed[1] else None)


def _sub_vjp(g, inputs, out, needed):
    return (g if needed[0] else None, -g if needed[1] else None)


def _mul_vjp(g, inputs, out, needed):
    return (g * inputs[1] if needed[0] else None, g * inputs[0] if needed[1] else None)


def _pow_by_base(a, b, out):
    return b * np.power(a, b - 1)


def _pow_by_exponent(a, b, out):
    return out * np.log(a)


def _relu_vjp(g, inputs, out, needed):
    return (g * (inputs[0] > 0) if needed[0] else None,)


register(Op(
    name="add", arity=2, usage="a + b", pattern="{a} + {b}", symbol="+",
    forward=_elementwise(np.add), partials=(_ones, _ones), formulas=("1", "1"),
    sympy_rule=lambda sp, a, b: a + b, gate="distributor", commutative=True,
    vjp_rule=_add_vjp,
    description="addition: every input receives the upstream gradient unchanged",
))
register(Op(
    name="sub", arity=2, usage="a - b", pattern="{a} - {b}", symbol="−",
    forward=_elementwise(np.subtract), partials=(_ones, _minus_ones), formulas=("1", "-1"),
    sympy_rule=lambda sp, a, b: a - b, gate="distributor",
    vjp_rule=_sub_vjp,
    description="subtraction: a gets the upstream gradient, b gets it negated",
))
register(Op(
    name="mul", arity=2, usage="a * b", pattern="{a} × {b}", symbol="×",
    forward=_elementwise(np.multiply),
    partials=(lambda a, b, out: b * np.ones_like(a), lambda a, b, out: a * np.ones_like(b)),
    formulas=("{b}", "{a}"), sympy_rule=lambda sp, a, b: a * b, gate="swapper",
    commutative=True,
    vjp_rule=_mul_vjp,
    description="multiplication: each input gets the upstream gradient times the other input",
))
register(Op(
    name="div", arity=2, usage="a / b", pattern="{a} / {b}", symbol="÷",
    forward=_elementwise(np.divide),
    partials=(lambda a, b, out: 1.0 / b * np.ones_like(a), lambda a, b, out: -a / b**2),
    formulas=("1/{b}", "-{a}/{b}²"), sympy_rule=lambda sp, a, b: a / b, trouble=_why_division,
    description="division",
))
register(Op(
    name="reciprocal", arity=1, usage="1 / a", pattern="1 / {a}", symbol="1/x",
    forward=_elementwise(np.reciprocal), partials=(lambda a, out: -1.0 / a**2,),
    formulas=("-1/{a}²",), sympy_rule=lambda sp, a: 1 / a,
    trouble=lambda a: "division by zero" if np.any(a == 0) else None,
    description="reciprocal, written 1/a",
))
register(Op(
    name="pow", arity=2, usage="a ** b", pattern="{a} ** {b}", symbol="**",
    forward=_elementwise(np.power),
    partials=(_pow_by_base, _pow_by_exponent),
    formulas=("{b}·{a}^({b}−1)", "{out}·log({a})"), sympy_rule=lambda sp, a, b: a**b,
    trouble=_why_pow,
    description="power; the exponent may be a number or an expression",
))
register(Op(
    name="neg", arity=1, usage="-a", pattern="-{a}", symbol="−x",
    forward=_elementwise(np.negative), partials=(_minus_ones,), formulas=("-1",),
    sympy_rule=lambda sp, a: -a, gate="sign flip",
    vjp_rule=lambda g, inputs, out, needed: (-g if needed[0] else None,),
    description="negation: the upstream gradient comes back with its sign flipped",
))
register(Op(
    name="exp", arity=1, usage="exp(a)", pattern="exp({a})", symbol="exp",
    forward=_elementwise(np.exp), partials=(lambda a, out: out,), formulas=("exp({a})",),
    sympy_rule=lambda sp, a: sp.exp(a), trouble=_why_overflow, callable_by_name=True,
    description="exponential; its derivative is itself",
))
register(Op(
    name="log", arity=1, usage="log(a)", pattern="log({a})", symbol="log",
    forward=_elementwise(np.log), partials=(lambda a, out: 1.0 / a,), formulas=("1/{a}",),
    sympy_rule=lambda sp, a: sp.log(a), trouble=_why_log, callable_by_name=True,
    description="natural logarithm",
))
register(Op(
    name="sqrt", arity=1, usage="sqrt(a)", pattern="sqrt({a})", symbol="√",
    forward=_elementwise(np.sqrt), partials=(lambda a, out: 0.5 / out,),
    formulas=("1/(2·sqrt({a}))",), sympy_rule=lambda sp, a: sp.sqrt(a), trouble=_why_sqrt,
    callable_by_name=True, description="square root",
))
register(Op(
    name="sin", arity=1, usage="sin(a)", pattern="sin({a})", symbol="sin",
    forward=_elementwise(np.sin), partials=(lambda a, out: np.cos(a),),
    formulas=("cos({a})",), sympy_rule=lambda sp, a: sp.sin(a), callable_by_name=True,
    description="sine",
))
register(Op(
    name="cos", arity=1, usage="cos(a)", pattern="cos({a})", symbol="cos",
    forward=_elementwise(np.cos), partials=(lambda a, out: -np.sin(a),),
    formulas=("-sin({a})",), sympy_rule=lambda sp, a: sp.cos(a), callable_by_name=True,
    description="cosine",
))
register(Op(
    name="tanh", arity=1, usage="tanh(a)", pattern="tanh({a})", symbol="tanh",
    forward=_elementwise(np.tanh), partials=(lambda a, out: 1.0 - out**2,),
    formulas=("1−{out}²",), sympy_rule=lambda sp, a: sp.tanh(a), callable_by_name=True,
    activation=Activation(module="Tanh", init="xavier"),
    description="hyperbolic tangent; local gradient 1 − tanh²",
))
register(Op(
    name="sigmoid", arity=1, usage="sigmoid(a)", pattern="σ({a})", symbol="σ",
    forward=_elementwise(_sigmoid), partials=(lambda a, out: out * (1.0 - out),),
    formulas=("{out}·(1−{out})",), sympy_rule=lambda sp, a: 1 / (1 + sp.exp(-a)),
    composite=lambda F, a: 1 / (1 + F.exp(-a)), callable_by_name=True,
    activation=Activation(module="Sigmoid", init="xavier"),
    description="logistic sigmoid 1/(1+exp(-a)); local gradient σ(1−σ)",
))
register(Op(
    name="relu", arity=1, usage="relu(a)", pattern="relu({a})", symbol="relu",
    forward=_elementwise(lambda a: np.maximum(a, 0.0)),
    partials=(lambda a, out: (a > 0),), formulas=("[{a} > 0]",),
    vjp_rule=_relu_vjp,
    sympy_rule=lambda sp, a: sp.Max(0, a), kink=lambda a: a == 0, kink_rule="relu'(0) = 0",
    gate="switch", callable_by_name=True, activation=Activation(module="ReLU", init="he"),
    description="rectified linear unit max(0, a): passes the gradient where a > 0, blocks it elsewhere",
))
register(Op(
    name="abs", arity=1, usage="abs(a)", pattern="|{a}|", symbol="|x|",
    forward=_elementwise(np.abs), partials=(lambda a, out: np.sign(a),),
    formulas=("sign({a})",), sympy_rule=lambda sp, a: sp.Abs(a), kink=lambda a: a == 0,
    kink_rule="abs'(0) = 0", callable_by_name=True, description="absolute value",
))
register(Op(
    name="max", arity=2, usage="max(a, b)", pattern="max({a}, {b})", symbol="max",
    forward=_elementwise(np.maximum),
    partials=(lambda a, b, out: (a >= b), lambda a, b, out: (a < b)),
    formulas=("[{a} ≥ {b}]", "[{b} > {a}]"), sympy_rule=lambda sp, a, b: sp.Max(a, b),
    gate="router", kink=lambda a, b: a == b, kink_rule="at a tie the first argument gets it all",
    callable_by_name=True, commutative=True,
    description="maximum: the larger input gets the whole upstream gradient, the other 0",
))
register(Op(
    name="min", arity=2, usage="min(a, b)", pattern="min({a}, {b})", symbol="min",
    forward=_elementwise(np.minimum),
    partials=(lambda a, b, out: (a <= b), lambda a, b, out: (a > b)),
    formulas=("[{a} ≤ {b}]", "[{b} < {a}]"), sympy_rule=lambda sp, a, b: sp.Min(a, b),
    gate="router", kink=lambda a, b: a == b, kink_rule="at a tie the first argument gets it all",
    callable_by_name=True, commutative=True,
    description="minimum: the smaller input gets the whole upstream gradient, the other 0",
))
