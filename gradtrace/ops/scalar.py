"""Registry entries for the elementwise ops: the gates the notes draw (add, sub, mul, div, neg,
pow, exp, log...), log10 and log2 (composites of log), the error function erf, and the scalar
activations (sigmoid, tanh, relu, abs, max, min).

Each partial is d out / d input as a function of (*inputs, out); the engine multiplies the
upstream gradient by it (or uses `vjp_rule`, a faster way to the same product).
"""

from __future__ import annotations

import math

import numpy as np

from ..core import workspace
from ..core.arrays import float_type
from ..core.i18n import N_, message
from ..core.registry import Activation, Op, register


def _ones(*args):
    return np.ones_like(args[-1], dtype=float_type(args[-1]))


def _minus_ones(*args):
    return -np.ones_like(args[-1], dtype=float_type(args[-1]))


def _why_division(a, b):
    return message("division by zero") if np.any(b == 0) else None


def _why_overflow(*inputs):
    return message("overflow: the result is larger than the largest float (1.8e308)")


def _why_log(a):
    if np.any(a < 0):
        return message("log of a negative number")
    if np.any(a == 0):
        return message("log(0) is -inf")
    return None


def _why_sqrt(a):
    return message("square root of a negative number") if np.any(a < 0) else None


def _why_pow(a, b):
    if np.any((a == 0) & (b < 0)):
        return message("zero to a negative power (division by zero)")
    if np.any((a < 0) & (np.floor(b) != b)):
        return message("a negative number to a fractional power")
    return _why_overflow()


def _sigmoid(a):
    # exp(-|a|) never overflows; 1/(1 + e) for a ≥ 0 and e/(1 + e) below are the same
    # function written two ways, and both are exp(min(a, 0)) / (1 + e) (for a < 0 the two
    # exponentials are of the same number). Worked in two pooled arrays, with no mask: numpy
    # picks elements by a mask several times slower than it computes an exponential.
    a = np.asarray(a)
    if a.dtype.kind != "f":
        a = a.astype(np.float64)
    if a.ndim == 0:
        e = np.exp(-np.abs(a))
        return np.asarray(1.0 / (1.0 + e) if a >= 0 else e / (1.0 + e))
    below = workspace.ufunc_result(np.absolute, a)  # 1 + exp(-|a|)
    np.negative(below, out=below)
    np.exp(below, out=below)
    below += 1
    result = workspace.ufunc_result(np.minimum, a, np.zeros((), a.dtype))
    np.exp(result, out=result)
    result /= below
    return result


def _one_minus_square(a, out):
    """tanh's local derivative 1 − out², in one array."""
    local = workspace.ufunc_result(np.multiply, out, out)
    return np.subtract(1.0, local, out=local) if local.ndim else 1.0 - local


def _sigmoid_slope(a, out):
    """σ's local derivative out·(1 − out), in one array."""
    local = workspace.ufunc_result(np.subtract, np.ones((), out.dtype), out)
    return np.multiply(local, out, out=local) if local.ndim else local * out


LN10, LN2 = math.log(10.0), math.log(2.0)
TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)

# -- the error function: numpy has none, so W. J. Cody's rational approximations ------------
# ("Rational Chebyshev approximations for the error function", Math. Comp. 23, 1969; the
# coefficients of netlib's specfun CALERF): erf on |x| ≤ 0.46875, erfc above, each to about
# one unit in the last place of a float64. erfc is computed directly, never as 1 − erf, so
# Φ(x) = ½·erfc(−x/√2) keeps its relative precision far out in the lower tail too.

_ERF_SMALL = 0.46875
_ERF_A = (3.16112374387056560e00, 1.13864154151050156e02, 3.77485237685302021e02,
          3.20937758913846947e03, 1.85777706184603153e-1)
_ERF_B = (2.36012909523441209e01, 2.44024637934444173e02, 1.28261652607737228e03,
          2.84423683343917062e03)
_ERFC_C = (5.64188496988670089e-1, 8.88314979438837594e00, 6.61191906371416295e01,
           2.98635138197400131e02, 8.81952221241769090e02, 1.71204761263407058e03,
           2.05107837782607147e03, 1.23033935479799725e03, 2.15311535474403846e-8)
_ERFC_D = (1.57449261107098347e01, 1.17693950891312499e02, 5.37181101862009858e02,
           1.62138957456669019e03, 3.29079923573345963e03, 4.36261909014324716e03,
           3.43936767414372164e03, 1.23033935480374942e03)
_ERFC_P = (3.05326634961232344e-1, 3.60344899949804439e-1, 1.25781726111229246e-1,
           1.60837851487422766e-2, 6.58749161529837803e-4, 1.63153871373020978e-2)
_ERFC_Q = (2.56852019228982242e00, 1.87295284992346047e00, 5.27905102951428412e-1,
           6.05183413124413191e-2, 2.33520497626869185e-3)
_ONE_OVER_SQRT_PI = 0.56418958354775628695
_ERFC_ZERO_FROM = 26.543  # erfc(x) is below the smallest float64 from here on


def _horner(x, first, top, bottom):
    """Cody's rational function, numerator and denominator: they start from `first`·x and x,
    then each coefficient is added and the sum multiplied by x (Horner's rule). Worked in
    place: the same operations in the same order as written out, in two arrays."""
    numerator, denominator = first * x, np.array(x)
    for p, q in zip(top, bottom):
        numerator += p
        numerator *= x
        denominator += q
        denominator *= x
    return numerator, denominator


# The functions below work on 1-d float64 arrays, in place where the order of operations stays
# as written in their comments (the results are those of the formulas as written). Each range's
# formula is worked on every element and the right one picked at the end: numpy picks
# elements out by a mask several times slower than it computes a formula.

def _erf_small(x):
    """erf(x) for |x| ≤ 0.46875: x·P(x²)/Q(x²), as (x·(N + a₃)) / (D + b₃)."""
    numerator, denominator = _horner(x * x, _ERF_A[4], _ERF_A[:3], _ERF_B[:3])
    numerator += _ERF_A[3]
    numerator *= x
    denominator += _ERF_B[3]
    numerator /= denominator
    return numerator


def _erfc_near(y):
    """R(y) for 0.46875 < y ≤ 4: (N + c₇) / (D + d₇)."""
    numerator, denominator = _horner(y, _ERFC_C[8], _ERFC_C[:7], _ERFC_D[:7])
    numerator += _ERFC_C[7]
    denominator += _ERFC_D[7]
    numerator /= denominator
    return numerator


def _erfc_far(y):
    """R(y) for y ≥ 4: (1/√π − (1/y²)·(N + p₄) / (D + q₄)) / y, N and D in 1/y²."""
    inverse = y * y
    np.divide(1.0, inverse, out=inverse)
    numerator, denominator = _horner(inverse, _ERFC_P[5], _ERFC_P[:4], _ERFC_Q[:4])
    numerator += _ERFC_P[4]
    numerator *= inverse
    denominator += _ERFC_Q[4]
    numerator /= denominator
    np.subtract(_ONE_OVER_SQRT_PI, numerator, out=numerator)
    numerator /= y
    return numerator


def _erfc_positive(y):
    """erfc(y) for y > 0.46875: exp(−y²)·R(y), with R rational in y up to 4 and in 1/y² above;
    exp(−y²) taken as exp(−s²)·exp(−(y − s)(y + s)), s = y rounded down to sixteenths, so the
    rounding of y² is not magnified by the exponential."""
    ratio = _erfc_near(np.minimum(y, 4.0))
    if not np.all(y <= 4.0):  # nan and values past 4 take the far form
        ratio = np.where(y <= 4.0, ratio, _erfc_far(np.maximum(y, 4.0)))
    bounded = np.minimum(y, _ERFC_ZERO_FROM)  # no inf − inf below; erfc is 0 out there
    s = bounded * 16.0
    np.trunc(s, out=s)
    s /= 16.0
    value = s * s  # exp(−s·s)
    np.negative(value, out=value)
    np.exp(value, out=value)
    gap = bounded - s  # exp(−(bounded − s)·(bounded + s))
    np.negative(gap, out=gap)
    bounded += s
    gap *= bounded
    np.exp(gap, out=gap)
    value *= gap
    value *= ratio
    return np.where(y >= _ERFC_ZERO_FROM, 0.0, value)


# erf and erfc work through a large array a block at a time: their formulas make a dozen
# float64 temporaries, which for a whole layer would be fresh memory faulted in by the kernel
# at every call; a block's temporaries fit in the cache and come back from malloc's free
# lists.
_BLOCK = 8192


def _blockwise(formula, x) -> np.ndarray:
    """formula(float64 block) over x, block by block, in x's float type and shape."""
    x = np.asarray(x)
    flat = x.astype(np.float64).reshape(-1)
    if flat.size <= _BLOCK:
        value = formula(flat)
    else:
        value = np.empty_like(flat)
        for start in range(0, flat.size, _BLOCK):
            value[start:start + _BLOCK] = formula(flat[start:start + _BLOCK])
    return np.asarray(value.reshape(x.shape), dtype=float_type(x))


def _erf_formula(wide):
    y = np.abs(wide)
    with np.errstate(all="ignore"):
        small = _erf_small(np.clip(wide, -_ERF_SMALL, _ERF_SMALL))
        large = np.subtract(1.0, _erfc_positive(np.maximum(y, _ERF_SMALL)))
        np.copysign(large, wide, out=large)
        value = np.where(y <= _ERF_SMALL, small, large)
    return np.where(np.isnan(wide), np.nan, value)


def _erfc_formula(wide):
    y = np.abs(wide)
    with np.errstate(all="ignore"):
        small = np.subtract(1.0, _erf_small(np.clip(wide, -_ERF_SMALL, _ERF_SMALL)))
        tail = _erfc_positive(np.maximum(y, _ERF_SMALL))
        value = np.where(y <= _ERF_SMALL, small, np.where(wide > 0, tail, 2.0 - tail))
    return np.where(np.isnan(wide), np.nan, value)


def erf(x) -> np.ndarray:
    """The error function 2/√π ∫₀ˣ exp(−t²) dt, elementwise, to float64 precision (float32
    inputs are computed in float64 and given back as float32)."""
    return _blockwise(_erf_formula, x)


def erfc(x) -> np.ndarray:
    """1 − erf(x), computed directly: no cancellation for large x."""
    return _blockwise(_erfc_formula, x)


def normal_cdf(x) -> np.ndarray:
    """Φ(x), the standard normal distribution function: ½·erfc(−x/√2)."""
    return 0.5 * erfc(-np.asarray(x) * (1.0 / math.sqrt(2.0)))


def normal_pdf(x) -> np.ndarray:
    """φ(x) = exp(−x²/2)/√(2π), the standard normal density; an array's in one pooled array."""
    x = np.asarray(x)
    if x.ndim == 0:
        return np.exp(-0.5 * x * x) * (1.0 / math.sqrt(2.0 * math.pi))
    density = workspace.ufunc_result(np.multiply, x, x)
    density *= -0.5
    np.exp(density, out=density)
    density *= 1.0 / math.sqrt(2.0 * math.pi)
    return density


def _elementwise(fn):
    """Wrap a numpy function so 0-d inputs give 0-d arrays, not numpy scalars. (Inputs are
    float arrays already: the engine makes every value one with as_float.) A ufunc's large
    result goes into pooled memory (core/workspace.py)."""
    if not isinstance(fn, np.ufunc):
        return lambda *args: np.asarray(fn(*args))
    pooled_from = workspace.MIN_BYTES

    def forward(*args):
        # small operands (a network written op by op on numbers) straight to numpy
        try:
            small = args[0].nbytes < pooled_from and (len(args) == 1
                                                      or args[1].nbytes < pooled_from)
        except AttributeError:  # a Python number
            small = True
        if small:
            return np.asarray(fn(*args))
        return np.asarray(workspace.ufunc_result(fn, *args))

    return forward


def _add_vjp(g, inputs, out, needed):
    return (g if needed[0] else None, g if needed[1] else None)


def _sub_vjp(g, inputs, out, needed):
    if type(g) is not np.ndarray or g.nbytes < workspace.MIN_BYTES:  # numbers, small arrays
        return (g if needed[0] else None, -g if needed[1] else None)
    return (g if needed[0] else None,
            workspace.ufunc_result(np.negative, g) if needed[1] else None)


def _mul_vjp(g, inputs, out, needed):
    a, b = inputs
    if type(g) is not np.ndarray or (g.nbytes < workspace.MIN_BYTES and a.nbytes
                                     < workspace.MIN_BYTES and b.nbytes < workspace.MIN_BYTES):
        return (g * b if needed[0] else None, g * a if needed[1] else None)
    return (workspace.ufunc_result(np.multiply, g, b) if needed[0] else None,
            workspace.ufunc_result(np.multiply, g, a) if needed[1] else None)


def _pow_by_base(a, b, out):
    """b·a^(b−1), and 0 where b = 0: a⁰ = 1 is flat even at a = 0, where a^(−1) is inf (as
    PyTorch)."""
    local = b * np.power(a, b - 1)
    flat = b == 0
    return np.where(flat, 0.0, local) if np.any(flat) else local


def _pow_by_exponent(a, b, out):
    """a^b·log a, and 0 where a = 0 and b ≥ 0, where 0^b is 0 (or 1 at b = 0) and log 0 is
    −∞ (as PyTorch)."""
    local = out * np.log(a)
    flat = (a == 0) & (b >= 0)
    return np.where(flat, 0.0, local) if np.any(flat) else local


def _relu(a):
    """max(a, 0), a large float array's result in pooled memory laid out like a."""
    if a.ndim == 0 or a.dtype.kind != "f":
        return np.asarray(np.maximum(a, 0.0))
    return np.maximum(a, 0, out=workspace.empty_like(a))


def _relu_vjp(g, inputs, out, needed):
    if not needed[0]:
        return (None,)
    a = inputs[0]
    if a.ndim == 0 or g.shape != a.shape or g.dtype.kind != "f":
        return (g * (a > 0),)
    passing = np.greater(a, 0, out=workspace.empty_like(a, bool))
    return (np.multiply(g, passing, out=workspace.empty_like(a, g.dtype)),)


register(Op(
    name="add", arity=2, usage="a + b", pattern="{a} + {b}", symbol="+",
    forward=_elementwise(np.add), partials=(_ones, _ones), formulas=("1", "1"),
    sympy_rule=lambda sp, a, b: a + b, gate=N_("distributor"), commutative=True,
    vjp_rule=_add_vjp,
    description=N_("addition: every input receives the upstream gradient unchanged"),
))
register(Op(
    name="sub", arity=2, usage="a - b", pattern="{a} - {b}", symbol="−",
    forward=_elementwise(np.subtract), partials=(_ones, _minus_ones), formulas=("1", "-1"),
    sympy_rule=lambda sp, a, b: a - b, gate=N_("distributor"),
    input_gates=(None, N_("distributor, sign flipped")),
    vjp_rule=_sub_vjp,
    description=N_("subtraction: a gets the upstream gradient, b gets it negated"),
))
register(Op(
    name="mul", arity=2, usage="a * b", pattern="{a} × {b}", symbol="×",
    forward=_elementwise(np.multiply),
    partials=(lambda a, b, out: b * np.ones_like(a), lambda a, b, out: a * np.ones_like(b)),
    formulas=("{b}", "{a}"), sympy_rule=lambda sp, a, b: a * b, gate=N_("swapper"),
    constant_gate=N_("scaler"), commutative=True,
    vjp_rule=_mul_vjp,
    description=N_("multiplication: each input gets the upstream gradient times the other input"),
))
register(Op(
    name="div", arity=2, usage="a / b", pattern="{a} / {b}", symbol="÷",
    forward=_elementwise(np.divide),
    partials=(lambda a, b, out: 1.0 / b * np.ones_like(a), lambda a, b, out: -a / b**2),
    formulas=("1/{b}", "-{a}/{b}²"), sympy_rule=lambda sp, a, b: a / b, trouble=_why_division,
    description=N_("division"),
))
register(Op(
    name="reciprocal", arity=1, usage="1 / a", pattern="1 / {a}", symbol="1/x",
    forward=_elementwise(np.reciprocal), partials=(lambda a, out: -1.0 / a**2,),
    formulas=("-1/{a}²",), sympy_rule=lambda sp, a: 1 / a,
    trouble=lambda a: message("division by zero") if np.any(a == 0) else None,
    description=N_("reciprocal, written 1/a"),
))
register(Op(
    name="pow", arity=2, usage="a ** b", pattern="{a} ** {b}", symbol="**",
    forward=_elementwise(np.power),
    partials=(_pow_by_base, _pow_by_exponent),
    formulas=("{b}·{a}^({b}−1)", "{out}·log({a})"), sympy_rule=lambda sp, a, b: a**b,
    trouble=_why_pow,
    description=N_("power; the exponent may be a number or an expression"),
))
register(Op(
    name="neg", arity=1, usage="-a", pattern="-{a}", symbol="−x",
    forward=_elementwise(np.negative), partials=(_minus_ones,), formulas=("-1",),
    sympy_rule=lambda sp, a: -a, gate=N_("sign flip"),
    vjp_rule=lambda g, inputs, out, needed: (-g if needed[0] else None,),
    description=N_("negation: the upstream gradient comes back with its sign flipped"),
))
register(Op(
    name="exp", arity=1, usage="exp(a)", pattern="exp({a})", symbol="exp",
    forward=_elementwise(np.exp), partials=(lambda a, out: out,), formulas=("exp({a})",),
    sympy_rule=lambda sp, a: sp.exp(a), trouble=_why_overflow, callable_by_name=True,
    description=N_("exponential; its derivative is itself"),
))
register(Op(
    name="log", arity=1, usage="log(a)", pattern="log({a})", symbol="log",
    forward=_elementwise(np.log), partials=(lambda a, out: 1.0 / a,), formulas=("1/{a}",),
    sympy_rule=lambda sp, a: sp.log(a), trouble=_why_log, callable_by_name=True,
    description=N_("natural logarithm"),
))
register(Op(
    name="log10", arity=1, usage="log10(a)", pattern="log10({a})", symbol="log₁₀",
    composite=lambda F, a: F.log(a) / LN10, elementwise=True, formulas=("1/({a}·ln 10)",),
    trouble=_why_log, callable_by_name=True,
    description=N_("base-10 logarithm, log(a) / ln 10"),
))
register(Op(
    name="log2", arity=1, usage="log2(a)", pattern="log2({a})", symbol="log₂",
    composite=lambda F, a: F.log(a) / LN2, elementwise=True, formulas=("1/({a}·ln 2)",),
    trouble=_why_log, callable_by_name=True,
    description=N_("base-2 logarithm, log(a) / ln 2"),
))
register(Op(
    name="sqrt", arity=1, usage="sqrt(a)", pattern="sqrt({a})", symbol="√",
    forward=_elementwise(np.sqrt), partials=(lambda a, out: 0.5 / out,),
    formulas=("1/(2·sqrt({a}))",), sympy_rule=lambda sp, a: sp.sqrt(a), trouble=_why_sqrt,
    callable_by_name=True, description=N_("square root"),
))
register(Op(
    name="sin", arity=1, usage="sin(a)", pattern="sin({a})", symbol="sin",
    forward=_elementwise(np.sin), partials=(lambda a, out: np.cos(a),),
    formulas=("cos({a})",), sympy_rule=lambda sp, a: sp.sin(a), callable_by_name=True,
    description=N_("sine"),
))
register(Op(
    name="cos", arity=1, usage="cos(a)", pattern="cos({a})", symbol="cos",
    forward=_elementwise(np.cos), partials=(lambda a, out: -np.sin(a),),
    formulas=("-sin({a})",), sympy_rule=lambda sp, a: sp.cos(a), callable_by_name=True,
    description=N_("cosine"),
))
register(Op(
    name="erf", arity=1, usage="erf(a)", pattern="erf({a})", symbol="erf",
    forward=_elementwise(erf), partials=(lambda a, out: TWO_OVER_SQRT_PI * np.exp(-a * a),),
    formulas=("2/√π·exp(−{a}²)",), sympy_rule=lambda sp, a: sp.erf(a), callable_by_name=True,
    description=N_("error function 2/√π ∫₀^a exp(−t²) dt; the normal distribution function is "
                   "Φ(x) = ½(1 + erf(x/√2))"),
))
register(Op(
    name="tanh", arity=1, usage="tanh(a)", pattern="tanh({a})", symbol="tanh",
    forward=_elementwise(np.tanh), partials=(_one_minus_square,),
    formulas=("1−{out}²",), sympy_rule=lambda sp, a: sp.tanh(a), callable_by_name=True,
    activation=Activation(module="Tanh", init="xavier"),
    description=N_("hyperbolic tangent; local gradient 1 − tanh²"),
))
register(Op(
    name="sigmoid", arity=1, usage="sigmoid(a)", pattern="σ({a})", symbol="σ",
    forward=_elementwise(_sigmoid), partials=(_sigmoid_slope,),
    formulas=("{out}·(1−{out})",), sympy_rule=lambda sp, a: 1 / (1 + sp.exp(-a)),
    composite=lambda F, a: 1 / (1 + F.exp(-a)), callable_by_name=True,
    activation=Activation(module="Sigmoid", init="xavier"),
    description=N_("logistic sigmoid 1/(1+exp(-a)); local gradient σ(1−σ)"),
))
register(Op(
    name="relu", arity=1, usage="relu(a)", pattern="relu({a})", symbol="relu",
    forward=_relu,
    partials=(lambda a, out: (a > 0),), formulas=("[{a} > 0]",),
    vjp_rule=_relu_vjp,
    sympy_rule=lambda sp, a: sp.Max(0, a), kink=lambda a: a == 0, kink_rule=N_("relu'(0) = 0"),
    gate=N_("switch"), callable_by_name=True, activation=Activation(module="ReLU", init="he"),
    description=N_("rectified linear unit max(0, a): passes the gradient where a > 0, blocks it elsewhere"),
))
register(Op(
    name="abs", arity=1, usage="abs(a)", pattern="|{a}|", symbol="|x|",
    forward=_elementwise(np.abs), partials=(lambda a, out: np.sign(a),),
    formulas=("sign({a})",), sympy_rule=lambda sp, a: sp.Abs(a), kink=lambda a: a == 0,
    kink_rule=N_("abs'(0) = 0"), callable_by_name=True, description=N_("absolute value"),
))
register(Op(
    name="max", arity=2, usage="max(a, b)", pattern="max({a}, {b})", symbol="max",
    forward=_elementwise(np.maximum),
    partials=(lambda a, b, out: (a >= b), lambda a, b, out: (a < b)),
    formulas=("[{a} ≥ {b}]", "[{b} > {a}]"), sympy_rule=lambda sp, a, b: sp.Max(a, b),
    gate=N_("router"), kink=lambda a, b: a == b, kink_rule=N_("at a tie the first argument gets it all"),
    callable_by_name=True, commutative=True,
    description=N_("maximum: the larger input gets the whole upstream gradient, the other 0"),
))
register(Op(
    name="min", arity=2, usage="min(a, b)", pattern="min({a}, {b})", symbol="min",
    forward=_elementwise(np.minimum),
    partials=(lambda a, b, out: (a <= b), lambda a, b, out: (a > b)),
    formulas=("[{a} ≤ {b}]", "[{b} < {a}]"), sympy_rule=lambda sp, a, b: sp.Min(a, b),
    gate=N_("router"), kink=lambda a, b: a == b, kink_rule=N_("at a tie the first argument gets it all"),
    callable_by_name=True, commutative=True,
    description=N_("minimum: the smaller input gets the whole upstream gradient, the other 0"),
))
