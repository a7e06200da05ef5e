"""Numbers the ops did not compute themselves: central finite differences of an op's forward
value, an explicit Jacobian built from them column by column, and SymPy's derivatives of a form
written in the tests (op_cases.py), evaluated to 30 digits.
"""

from __future__ import annotations

import numpy as np
import sympy

from gradtrace.core.registry import with_defaults

# Finite differences: step balancing truncation against rounding; tolerances to match.
STEP = np.finfo(np.float64).eps ** (1 / 3)
FD_RTOL, FD_ATOL = 1e-6, 1e-8


def assert_close(actual, expected, rtol=FD_RTOL, atol=FD_ATOL):
    np.testing.assert_allclose(np.asarray(actual, dtype=np.float64), expected,
                               rtol=rtol, atol=atol)


def tolerance(*vectors) -> float:
    """Absolute tolerance for a sum of finite differences weighted by these arrays."""
    return FD_ATOL * (1.0 + sum(float(np.sum(np.abs(v))) for v in vectors))


def differentiable(op) -> list[int]:
    return [i for i in range(op.arity) if op.takes_gradient(i)]


def all_needed(op) -> tuple[bool, ...]:
    return tuple(op.takes_gradient(i) for i in range(op.arity))


# -- finite differences ----------------------------------------------------------------------


def replaced(inputs: tuple, index: int, value) -> tuple:
    return inputs[:index] + (value,) + inputs[index + 1:]


def forward_at(op, case, index: int, x: np.ndarray) -> np.ndarray:
    """The op's output with input `index` replaced by `x`."""
    with np.errstate(all="ignore"):
        return np.asarray(op.evaluate(replaced(case.inputs, index, x), case.attrs),
                          dtype=np.float64)


def nudged(x: np.ndarray, element) -> tuple[np.ndarray, np.ndarray, float]:
    """x with one element moved up and down by a step, and the exact distance between them."""
    h = STEP * max(1.0, abs(float(x[element])))
    plus, minus = x.copy(), x.copy()
    plus[element] += h
    minus[element] -= h
    return plus, minus, float(plus[element] - minus[element])


def numeric_vjp(op, case, index: int, upstream: np.ndarray) -> np.ndarray:
    """d sum(upstream × f) / d input[index], element by element, by central differences."""
    x = case.inputs[index]
    gradient = np.zeros_like(x)
    for element in np.ndindex(x.shape):
        plus, minus, width = nudged(x, element)
        f_plus = np.sum(upstream * forward_at(op, case, index, plus))
        f_minus = np.sum(upstream * forward_at(op, case, index, minus))
        gradient[element] = (f_plus - f_minus) / width
    return gradient


def explicit_jacobian(op, case, index: int) -> np.ndarray:
    """d out[j] / d input[index][k] as an (output size × input size) matrix, column k by a
    central difference in element k (row-major order on both sides)."""
    x = case.inputs[index]
    out_size = forward_at(op, case, index, x).size
    jacobian = np.zeros((out_size, x.size))
    for k, element in enumerate(np.ndindex(x.shape)):
        plus, minus, width = nudged(x, element)
        difference = forward_at(op, case, index, plus) - forward_at(op, case, index, minus)
        jacobian[:, k] = difference.ravel() / width
    return jacobian


def directional_difference(op, case, tangents) -> np.ndarray:
    """(f(x + h·t) − f(x − h·t)) / 2h, every input with a tangent moved along it at once."""
    moving = [x for x, t in zip(case.inputs, tangents) if t is not None]
    h = STEP * max([1.0] + [float(np.max(np.abs(x), initial=0.0)) for x in moving])

    def moved(sign):
        inputs = tuple(x if t is None else x + sign * h * t
                       for x, t in zip(case.inputs, tangents))
        with np.errstate(all="ignore"):
            return np.asarray(op.evaluate(inputs, case.attrs), dtype=np.float64)

    return (moved(1.0) - moved(-1.0)) / (2 * h)


def finite_difference(op, point, index: int, attrs=None) -> float:
    """d forward / d input[index] at a scalar `point` (a tuple of floats)."""
    x = float(point[index])
    h = STEP * max(1.0, abs(x))
    plus, minus = list(point), list(point)
    plus[index], minus[index] = x + h, x - h
    f_plus = float(op.evaluate(as_arrays(plus), attrs or {}))
    f_minus = float(op.evaluate(as_arrays(minus), attrs or {}))
    return (f_plus - f_minus) / ((x + h) - (x - h))


def as_arrays(point) -> tuple[np.ndarray, ...]:
    return tuple(np.asarray(x, dtype=np.float64) for x in point)


# -- SymPy -----------------------------------------------------------------------------------


def symbol_array(prefix: str, shape) -> np.ndarray:
    flat = np.empty(int(np.prod(shape, dtype=np.int64)), dtype=object)
    flat[:] = [sympy.Symbol(f"{prefix}{'_'.join(map(str, element))}", real=True)
               for element in np.ndindex(shape)]
    return flat.reshape(shape)


def symbolic_inputs(op, inputs) -> tuple:
    """The inputs as SymPy symbols (a, b, c... element by element), but those the op does not
    differentiate (class indices, masks, running statistics), which stay numbers."""
    return tuple(symbol_array("abcde"[i], x.shape) if op.takes_gradient(i) else x
                 for i, x in enumerate(inputs))


def point_of(op, symbols, inputs) -> dict:
    """Each symbol's value, as a 30-digit SymPy number."""
    return {s: sympy.Float(float(v), 30)
            for i, x in enumerate(inputs) if op.takes_gradient(i)
            for s, v in zip(np.ravel(symbols[i]), np.ravel(x))}


def reference_form(op, row, symbols, attrs) -> np.ndarray:
    """The row's SymPy form of the op on these symbols: elementwise forms applied element by
    element (broadcasting), array forms to the arrays; every attribute given."""
    attrs = with_defaults(op, attrs)
    if op.elementwise:
        applied = np.frompyfunc(lambda *xs: row.sympy(*xs, **attrs), op.arity, 1)(*symbols)
        return np.asarray(applied, dtype=object)
    return np.asarray(row.sympy(*symbols, **attrs), dtype=object)


def exact_values(expressions, point: dict) -> np.ndarray:
    evaluate = np.frompyfunc(lambda e: float(sympy.sympify(e).xreplace(point).evalf(30)), 1, 1)
    return np.asarray(evaluate(np.asarray(expressions, dtype=object)), dtype=np.float64)


def weighted_terms(expressions: np.ndarray, weights: np.ndarray) -> list:
    """The terms weight·expression of Σ weight·expression, what a VJP with these upstream
    weights differentiates."""
    return [sympy.Float(float(w), 30) * sympy.sympify(e)
            for w, e in zip(np.ravel(weights), np.ravel(expressions))]


def gradient_at(terms: list, symbols: np.ndarray, point: dict) -> np.ndarray:
    """d (Σ terms) / d s at the point, for every symbol s in `symbols`, by SymPy's diff.

    Only the terms that contain s count, and every other symbol is set to its value first, so
    SymPy differentiates a small expression in one variable: the same derivative at this
    point, and fast where the whole symbolic derivative is not (the derivative of a Max of n
    symbols builds n Max of n − 1)."""
    symbols = np.asarray(symbols, dtype=object)
    free = [term.free_symbols for term in terms]
    gradient = np.zeros(symbols.shape)
    for element in np.ndindex(symbols.shape):
        s = symbols[element]
        others = {k: v for k, v in point.items() if k != s}
        moving = sympy.Add(*[term for term, names in zip(terms, free) if s in names])
        derivative = sympy.diff(moving.xreplace(others), s).xreplace({s: point[s]})
        gradient[element] = float(sympy.sympify(derivative).evalf(30))
    return gradient
