"""Element types, PyTorch's names for them, the default float type and type promotion.

A dtype is a numpy dtype (`gradtrace.float32 == np.float32`), named as PyTorch names it:
float32 (float), float64 (double), float16 (half), int64 (long), int32 (int), int16, int8,
uint8 and bool. Only float tensors can require a gradient.

The default float type is float32, as in PyTorch: `tensor([1.0])`, `randn(3)`, `zeros(2)` and
the layers of gradtrace.nn use it unless told otherwise; `set_default_dtype(float64)` changes
it for everything made afterwards, as PyTorch's does (put it at the top of a script to
compare with PyTorch to float64 rounding). gradtrace's own style keeps float64: a tensor given
a `name` ("w") holds float64, as the expressions of `gradtrace explain` do.

Promotion follows PyTorch's three categories, bool < integer < float: an operand of a higher
category decides the category; within one, tensors with dimensions decide before 0-d tensors,
and those before Python numbers (so float32 × 2.5 stays float32, int64 × 2.5 is the default
float type, int64 + 1 stays int64).
"""

from __future__ import annotations

import builtins

import numpy as np

from ..i18n import _

float16 = half = np.dtype(np.float16)
float32 = np.dtype(np.float32)
float64 = double = np.dtype(np.float64)
int8 = np.dtype(np.int8)
int16 = short = np.dtype(np.int16)
int32 = np.dtype(np.int32)
int64 = long = np.dtype(np.int64)
uint8 = np.dtype(np.uint8)
bool_ = np.dtype(np.bool_)

# The names PyTorch gives them, as attributes of the package root (torch.float, torch.int...)
NAMES = {"float16": float16, "half": half, "float32": float32, "float": float32,
         "float64": float64, "double": double, "int8": int8, "int16": int16, "short": short,
         "int32": int32, "int": int32, "int64": int64, "long": long, "uint8": uint8,
         "bool": bool_}

_default_float = [float32]  # one element, changed by set_default_dtype


def get_default_dtype() -> np.dtype:
    """The float type of new tensors made from Python numbers (float32 unless changed)."""
    return _default_float[0]


def set_default_dtype(dtype) -> None:
    """Make `dtype` (float32 or float64) the default float type, as torch.set_default_dtype."""
    chosen = as_dtype(dtype)
    if chosen not in (float32, float64):
        raise TypeError(_("set_default_dtype: only float32 and float64 can be the default, "
                          "not {dtype}", dtype=chosen))
    _default_float[0] = chosen


def as_dtype(dtype) -> np.dtype | None:
    """A dtype from a gradtrace/numpy dtype, a name ("float32") or a Python type (float is
    float64 and int is int64, as PyTorch reads them)."""
    if dtype is None:
        return None
    if dtype is builtins.float:
        return float64
    if dtype is builtins.int:
        return int64
    if dtype is builtins.bool:
        return bool_
    if isinstance(dtype, str):
        name = dtype.removeprefix("torch.")
        if name in NAMES:
            return NAMES[name]
    return np.dtype(dtype)


def category(dtype: np.dtype) -> int:
    """0 for bool, 1 for integers, 2 for floats."""
    return {"b": 0, "i": 1, "u": 1, "f": 2}.get(dtype.kind, 3)


def _ragged(data) -> str | None:
    """Where nested lists stop having one length per level, as PyTorch says it: "expected
    sequence of length 2 at dim 1 (got 1)"; None when they do not."""
    level, dim = [data], 0
    while True:
        sequences = [item for item in level if isinstance(item, (list, tuple))]
        if not sequences or len(sequences) != len(level):
            return None
        expected = len(sequences[0])
        for sequence in sequences:
            if len(sequence) != expected:
                return (f"expected sequence of length {expected} at dim {dim} "
                        f"(got {len(sequence)})")
        level, dim = [item for sequence in sequences for item in sequence], dim + 1


def name_of(dtype: np.dtype) -> str:
    """How PyTorch prints it: torch.float32 is written gradtrace.float32."""
    return f"gradtrace.{'bool' if dtype == bool_ else dtype.name}"


def inferred(data, dtype=None, named: bool = False) -> np.ndarray:
    """The array a new tensor holds, as torch.tensor(data) makes it: numpy arrays keep their
    type; Python floats take the default float type (float64 for a named tensor); ints are
    int64 and bools bool."""
    wanted = as_dtype(dtype)
    if isinstance(data, (np.ndarray, np.generic)):
        array = np.array(data)  # a copy, as torch.tensor copies (keeping the layout)
        if array.dtype.kind not in "biuf":
            raise TypeError(_("tensor: cannot hold elements of type {dtype}",
                              dtype=array.dtype))
        return array if wanted is None else array.astype(wanted)
    try:
        array = np.array(data)
    except ValueError:  # nested lists of unequal lengths: PyTorch's words for where
        ragged = _ragged(data)
        if ragged is None:
            raise
        raise ValueError(ragged) from None
    if (array.dtype.kind in "uO" or (array.dtype.kind == "f" and array.size and np.nanmax(
            np.abs(array)) >= 2.0**63)) and _long_int_in(data):
        # numpy would make 2**63 a uint64 (then -2**63 as int64), or a float, or an object
        from .errors import PyTorchError

        raise PyTorchError("Overflow when unpacking long")
    if array.dtype.kind not in "biuf":
        raise TypeError(_("tensor: cannot make a tensor of {kind} (numbers, nested lists of "
                          "numbers or arrays)", kind=type(data).__name__))
    if wanted is not None:
        return array.astype(wanted)
    if array.dtype.kind == "f" and not _from_arrays(data):
        with np.errstate(over="ignore"):  # 1e300 in float32 is inf, as in PyTorch
            return array.astype(float64 if named else get_default_dtype())
    if array.dtype.kind in "iu":
        return array.astype(int64)
    return array


def _long_int_in(data) -> bool:
    """Whether nested lists of ints (no floats, which make a float tensor, as in PyTorch)
    hold one outside int64; walked on an explicit stack."""
    stack, long = [data], False
    while stack:
        item = stack.pop()
        if isinstance(item, (list, tuple)):
            stack.extend(item)
        elif isinstance(item, (float, np.floating)):
            return False
        elif isinstance(item, int) and not isinstance(item, bool) and not (
                -2**63 <= item < 2**63):
            long = True
    return long


def _from_arrays(data) -> bool:
    """True when a list holds arrays or tensors whose own float type should be kept."""
    return isinstance(data, (list, tuple)) and any(
        hasattr(item, "dtype") and getattr(item, "ndim", 0) >= 0 and not isinstance(
            item, (builtins.float, builtins.int)) for item in data)


def promoted(values: tuple[np.ndarray, ...], weak: tuple[bool, ...]) -> np.dtype:
    """PyTorch's result type of an op on these arrays; `weak` marks Python numbers."""
    result = None
    for group in ([v.dtype for v, w in zip(values, weak) if not w and v.ndim > 0],
                  [v.dtype for v, w in zip(values, weak) if not w and v.ndim == 0]):
        if group:
            top = max(map(category, group))  # float32 with int64 stays float32, as in PyTorch
            found = np.result_type(*[d for d in group if category(d) == top])
            if result is None or category(found) > category(result):
                result = found
    numbers = [category(v.dtype) for v, w in zip(values, weak) if w]
    if numbers and (result is None or max(numbers) > category(result)):
        result = (bool_, int64, get_default_dtype())[max(numbers)]
    return result
