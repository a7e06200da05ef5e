"""Array rules every op shares: which float type a result keeps, and summing a gradient back
over the axes numpy broadcast (DeZero's `sum_to`), so no op rule has to think about either."""

from __future__ import annotations

import functools

import numpy as np


# -- floating-point warnings off: `token = quiet_start()` ... `quiet_end(token)` ---------------
# What `with np.errstate(all="ignore")` does, for the code that runs once per recorded op: on
# numpy 2 the error state is a context variable, and setting it directly costs a quarter of
# np.errstate's Python layers. Older numpy (and a numpy that moves it) gets np.errstate.
def _errstate_start():
    state = np.errstate(all="ignore")
    state.__enter__()
    return state


def _errstate_end(state) -> None:
    state.__exit__(None, None, None)


try:
    from numpy._core._ufunc_config import _extobj_contextvar, _make_extobj

    quiet_start = functools.partial(_extobj_contextvar.set, _make_extobj(all="ignore"))
    quiet_end = _extobj_contextvar.reset
except (ImportError, AttributeError, TypeError):
    quiet_start, quiet_end = _errstate_start, _errstate_end


def float_type(array) -> np.dtype:
    """The float type a result keeps: float32 stays float32 end to end; integers and booleans
    compute in float64."""
    dtype = np.asarray(array).dtype
    return dtype if dtype.kind == "f" else np.dtype(np.float64)


def as_float(value) -> np.ndarray:
    value = np.asarray(value)
    return value if value.dtype.kind == "f" else value.astype(np.float64)


def same_width(inputs: tuple) -> tuple:
    """A number written in an expression (a 0-d float64 constant) takes the float type of
    the arrays it meets, so float32 stays float32 (numpy would widen it to float64)."""
    if len(inputs) < 2:
        return inputs
    first = inputs[0].dtype
    for x in inputs:  # a loop, not all(...): this runs for every op of a scalar network
        if x.dtype != first:
            break
    else:
        return inputs  # one type throughout: nothing to match
    widths = [x.dtype for x in inputs if x.ndim > 0] or [
        x.dtype for x in inputs if x.dtype != np.float64]  # all 0-d: the narrower one wins
    target = np.result_type(*widths)
    return tuple(x.astype(target) if x.ndim == 0 and x.dtype != target else x for x in inputs)


def sum_to(gradient, shape: tuple[int, ...]) -> np.ndarray:
    """Sum a gradient back to `shape`, undoing numpy broadcasting (leading axes, then size-1
    axes), so every op's rule can ignore broadcasting."""
    gradient = np.asarray(gradient)
    if gradient.shape == tuple(shape):
        return gradient
    extra = gradient.ndim - len(shape)
    if extra > 0:
        gradient = gradient.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, size in enumerate(shape) if size == 1 and gradient.shape[i] != 1)
    if stretched:
        gradient = gradient.sum(axis=stretched, keepdims=True)
    return gradient.reshape(shape)
