"""Making tensors, with PyTorch's names and arguments: tensor, zeros, ones, full, eye, arange,
linspace, the random ones (rand, randn, randint, randperm, normal, bernoulli) and their
`_like` forms.

Each takes `dtype=` (the default float type when not given, see dtypes.py) and
`requires_grad=`; the random ones take `generator=` (random.py: PyTorch's stream, from the
default generator when not given). `device=` is accepted for "cpu" only.
"""

from __future__ import annotations

import math

import numpy as np

from . import dtypes
from ..budget import over_budget
from ..i18n import _
from .methods import _check_device, _sizes
from .random import chosen
from .ranges import arange_values, linspace_values
from .base import Tensor
from .errors import PyTorchError


def _leaf(array: np.ndarray, requires_grad: bool, name: str | None = None) -> Tensor:
    made = Tensor(array, name)
    if requires_grad:
        made.requires_grad_(True)
    return made


def _float(dtype) -> np.dtype:
    return dtypes.as_dtype(dtype) or dtypes.get_default_dtype()


def tensor(data, name: str | None = None, requires_grad: bool | None = None, *, dtype=None,
           device=None) -> Tensor:
    """A leaf holding a copy of `data` (numbers, nested lists, arrays), as torch.tensor: Python
    floats take the default float type, ints int64, numpy arrays keep their type.

    Given a `name` (how it appears in the narration), it is gradtrace's variable: float64 for
    Python numbers and requires_grad=True unless told otherwise."""
    if device is not None:
        _check_device(device)
    if requires_grad is not None and not isinstance(requires_grad, (bool, np.bool_)):
        raise TypeError(f"tensor(): argument 'requires_grad' must be bool, not "
                        f"{type(requires_grad).__name__}")
    named = name is not None
    array = dtypes.inferred(getattr(data, "_value", data), dtype, named=named)
    wants = named if requires_grad is None else bool(requires_grad)
    if wants and array.dtype.kind != "f":
        array = array.astype(np.float64) if named and dtype is None else array
    return _leaf(array, wants, name)


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """A tensor as it is (converted when dtype differs); anything else as `tensor(data)`."""
    if isinstance(data, Tensor):
        return data if dtype is None else data.to(dtype)
    if isinstance(data, np.ndarray) and (dtype is None or np.dtype(dtype) == data.dtype):
        return Tensor(data)  # shares the array, as torch.as_tensor does
    return tensor(data, dtype=dtype, device=device)


def from_numpy(array: np.ndarray) -> Tensor:
    """The array itself as a tensor (changes show in both), as torch.from_numpy."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(array).__name__})")
    return Tensor(array)


def _check_number(function: str, name: str, value) -> None:
    """PyTorch's refusal of an argument that is not a number ("3" and None would be read by
    float() or numpy); numpy numbers and 0-d tensors are numbers."""
    held = getattr(value, "_value", value)
    if isinstance(held, (bool, int, float, np.number, np.bool_)) or (
            isinstance(held, np.ndarray) and held.ndim == 0 and held.dtype.kind in "biuf"):
        return
    raise TypeError(f"{function}(): argument '{name}' must be Number, not "
                    f"{type(value).__name__}")


def _plain(number):
    """A 0-d tensor or numpy number as the Python number it holds (an integer one an int, as
    PyTorch counts it); a Python number as it is."""
    held = getattr(number, "_value", number)
    return held.item() if isinstance(held, (np.ndarray, np.generic)) else held


def _new_sizes(shape) -> tuple[int, ...]:
    """The sizes of a new tensor, checked before anything is allocated: whole numbers ≥ 0
    whose product fits the element budget (gradtrace.core.budget)."""
    for given in (shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list))
                  else shape):
        if isinstance(given, bool) or not isinstance(given, (int, np.integer)) or given < 0:
            raise ValueError(_("a size must be a whole number ≥ 0, not {given}",
                               given=repr(given)))
    sizes = _sizes(shape)
    _check_count(math.prod(sizes), sizes)
    return sizes


def _check_count(elements: int, sizes) -> None:
    why = over_budget(elements)
    if why:
        raise ValueError(_("a tensor of size {sizes} would make {why}", sizes=tuple(sizes),
                           why=why))


def _filled(shape, value, dtype, requires_grad) -> Tensor:
    return _leaf(np.full(_new_sizes(shape), value, dtype=dtype), requires_grad)


def _size(sizes: tuple, size) -> tuple:
    """zeros(2, 3), zeros((2, 3)) and zeros(size=(2, 3)) alike."""
    return sizes if size is None else (tuple(size) if isinstance(size, (tuple, list)) else (size,),)


def zeros(*sizes, size=None, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    return _filled(_size(sizes, size), 0, _float(dtype), requires_grad)


def ones(*sizes, size=None, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    return _filled(_size(sizes, size), 1, _float(dtype), requires_grad)


empty = zeros  # gradtrace has no uninitialised memory: empty() is zeros


def full(size, fill_value, *, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    _check_number("full", "fill_value", fill_value)
    if dtype is None:
        dtype = (dtypes.bool_ if isinstance(fill_value, bool) else dtypes.int64
                 if isinstance(fill_value, int) else dtypes.get_default_dtype())
    return _filled((size,) if isinstance(size, int) else size, fill_value,
                   dtypes.as_dtype(dtype), requires_grad)


def eye(n: int, m: int | None = None, *, dtype=None, requires_grad: bool = False,
        device=None) -> Tensor:
    rows, columns = _new_sizes((n, n if m is None else m))
    return _leaf(np.eye(rows, columns, dtype=_float(dtype)), requires_grad)


def _like(function, other, dtype, requires_grad, **kwargs) -> Tensor:
    return function(*other.shape, dtype=dtype or other.dtype, requires_grad=requires_grad,
                    **kwargs)


def zeros_like(input, *, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    return _like(zeros, input, dtype, requires_grad)


def ones_like(input, *, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    return _like(ones, input, dtype, requires_grad)


empty_like = zeros_like


def full_like(input, fill_value, *, dtype=None, requires_grad: bool = False,
              device=None) -> Tensor:
    return full(input.shape, fill_value, dtype=dtype or input.dtype, requires_grad=requires_grad)


def arange(start=None, end=None, step=1, *, dtype=None, requires_grad: bool = False,
           device=None) -> Tensor:
    """start, start + step, ... below end; int64 when every bound is an int, as in PyTorch:
    arange(end), arange(start, end, step), or by name (arange(end=5))."""
    if start is None and end is None:
        raise TypeError('arange() missing 1 required positional arguments: "end"')
    if end is None:
        start, end = 0, start
    elif start is None:
        start = 0
    for name, bound in zip(("start", "end", "step"), (start, end, step)):
        _check_number("arange", name, bound)
    start, end, step = bounds = (_plain(start), _plain(end), _plain(step))
    if dtype is None:
        dtype = dtypes.int64 if all(isinstance(b, int) for b in bounds) else (
            dtypes.get_default_dtype())
    dtype = dtypes.as_dtype(dtype)
    if not all(np.isfinite(float(b)) for b in bounds) or float(step) == 0:
        raise ValueError(_("arange({start}, {end}, {step}): the bounds must be finite and the "
                           "step not 0", start=start, end=end, step=step))
    if (float(end) - float(start)) * float(step) < 0:
        raise PyTorchError("upper bound and lower bound inconsistent with step sign")
    count = int(np.ceil((float(end) - float(start)) / float(step)))
    _check_count(max(count, 0), (max(count, 0),))
    if dtype in (dtypes.float32, dtypes.float64):  # rounded as PyTorch rounds them (ranges.py)
        values = arange_values(float(start), float(step), max(count, 0), dtype)
    elif dtype.kind == "f":
        values = float(start) + np.arange(max(count, 0), dtype=np.float64) * float(step)
    else:
        values = np.arange(start, end, step)
    return _leaf(values.astype(dtype), requires_grad)


def linspace(start, end, steps: int, *, dtype=None, requires_grad: bool = False,
             device=None) -> Tensor:
    """`steps` evenly spaced numbers from start to end, both included (each rounded as
    PyTorch rounds it, see ranges.py)."""
    (steps,) = _new_sizes((steps,))
    dtype = _float(dtype)
    if dtype in (dtypes.float32, dtypes.float64) and steps > 0:
        values = linspace_values(float(start), float(end), steps, dtype)
    else:
        values = np.linspace(float(start), float(end), steps)
    return _leaf(values.astype(dtype), requires_grad)


# -- random: PyTorch's CPU stream (random.py) -------------------------------------------

def rand(*sizes, size=None, generator=None, dtype=None, requires_grad: bool = False,
         device=None) -> Tensor:
    """U(0, 1) numbers of the given size."""
    dtype = _float(dtype)
    return _leaf(chosen(generator).uniform(_new_sizes(_size(sizes, size)), 0.0, 1.0, dtype),
                 requires_grad)


def randn(*sizes, size=None, generator=None, dtype=None, requires_grad: bool = False,
          device=None) -> Tensor:
    """N(0, 1) numbers of the given size."""
    dtype = _float(dtype)
    return _leaf(chosen(generator).normal(_new_sizes(_size(sizes, size)), 0.0, 1.0, dtype),
                 requires_grad)


def normal(mean=0.0, std=1.0, size=None, *, generator=None, dtype=None,
           requires_grad: bool = False, device=None) -> Tensor:
    """N(mean, std²): numbers mean and std with a `size` (torch.normal(0, 0.01, (2, 1))), or
    tensors of means and standard deviations, one number drawn per element."""
    source = chosen(generator)
    if size is not None:
        sizes = _new_sizes((size,) if isinstance(size, int) else tuple(size))
        return _leaf(source.normal(sizes, float(mean), float(std), _float(dtype)), requires_grad)
    means = np.asarray(getattr(mean, "_value", mean))
    stds = np.asarray(getattr(std, "_value", std))
    shape = np.broadcast_shapes(means.shape, stds.shape)
    dtype = next((a.dtype for a in (means, stds) if a.ndim and a.dtype.kind == "f"),
                 _float(dtype))
    draws = source.normal(shape, 0.0, 1.0, dtype)
    return _leaf((draws * stds + means).astype(dtype), requires_grad)


def randint(low, high=None, size=None, *, generator=None, dtype=None,
            requires_grad: bool = False, device=None) -> Tensor:
    """Integers in [low, high) (randint(high, size) draws from [0, high)), int64."""
    if size is None:
        low, high, size = 0, low, high
    sizes = _new_sizes((size,) if isinstance(size, int) else tuple(size))
    draws = chosen(generator).integers(sizes, int(low), int(high))
    return _leaf(draws.astype(dtypes.as_dtype(dtype) or dtypes.int64), requires_grad)


def randperm(n: int, *, generator=None, dtype=None, requires_grad: bool = False,
             device=None) -> Tensor:
    """0..n−1 in a random order, int64."""
    (n,) = _new_sizes((n,))  # a whole number ≥ 0 within the budget
    return _leaf(chosen(generator).permutation(n).astype(
        dtypes.as_dtype(dtype) or dtypes.int64), requires_grad)


def bernoulli(input, p=None, *, generator=None) -> Tensor:
    """1 with probability input[i] (or p), else 0, in input's float type."""
    probabilities = np.asarray(getattr(input, "_value", input))
    source = chosen(generator)
    draws = source.bernoulli(probabilities.shape, float(p)) if p is not None else (
        source.bernoulli_each(probabilities))
    return Tensor(draws.astype(probabilities.dtype))


def rand_like(input, *, generator=None, dtype=None, requires_grad: bool = False) -> Tensor:
    return rand(*input.shape, generator=generator, dtype=dtype or input.dtype,
                requires_grad=requires_grad)


def randn_like(input, *, generator=None, dtype=None, requires_grad: bool = False) -> Tensor:
    return randn(*input.shape, generator=generator, dtype=dtype or input.dtype,
                 requires_grad=requires_grad)


def randint_like(input, low, high=None, *, generator=None, dtype=None) -> Tensor:
    if high is None:
        low, high = 0, low
    return randint(low, high, input.shape, generator=generator, dtype=dtype or input.dtype)
