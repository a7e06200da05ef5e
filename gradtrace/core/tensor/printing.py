"""How a tensor prints: as PyTorch prints it, near enough to compare by eye.

    tensor([0.1000, 2.0000], requires_grad=True)
    tensor([1., 2.], dtype=gradtrace.float64)
    tensor(0.7311, grad_fn=<SigmoidBackward0>)

Floats get four decimals (whole numbers a trailing point), scientific notation when the
numbers span more than a thousandfold or leave [1e-4, 1e8); the dtype is shown when it is not
the default one (int64 for integers); a name given with `name=` is shown too.
"""

from __future__ import annotations

import numpy as np

from . import dtypes


def _element_format(values: np.ndarray):
    finite = np.abs(values[np.isfinite(values)]) if values.dtype.kind == "f" else None
    if values.dtype.kind == "b":
        return lambda v: str(bool(v))
    if values.dtype.kind in "iu":
        return lambda v: str(int(v))
    if finite is None or finite.size == 0:
        return lambda v: f"{float(v):.4f}"
    if np.all(finite == np.round(finite)) and finite.max() < 1e8:
        return lambda v: f"{float(v):.0f}." if np.isfinite(v) else _special(v)
    nonzero = finite[finite != 0]
    big, small = finite.max(), (nonzero.min() if nonzero.size else 0.0)
    if big >= 1e8 or (small and small < 1e-4) or (small and big / small > 1000):
        return lambda v: f"{float(v):.4e}" if np.isfinite(v) else _special(v)
    return lambda v: f"{float(v):.4f}" if np.isfinite(v) else _special(v)


def _special(value) -> str:
    return "nan" if np.isnan(value) else ("inf" if value > 0 else "-inf")


def array_text(values: np.ndarray, indent: int = 7) -> str:
    form = _element_format(values)
    if values.ndim == 0:
        return form(values)
    texts = np.vectorize(form, otypes=[object])(values) if values.size else values.astype(str)
    width = max((len(t) for t in texts.ravel()), default=0)
    return _nested(texts, width, indent)


def _nested(texts: np.ndarray, width: int, indent: int) -> str:
    if texts.ndim == 1:
        return "[" + ", ".join(t.rjust(width) for t in texts) + "]"
    rows = [_nested(row, width, indent + 1) for row in texts]
    separator = "," + "\n" * (texts.ndim - 1) + " " * (indent + 1)
    return "[" + separator.join(rows) + "]"


def tensor_text(tensor_) -> str:
    value = tensor_._value
    extras = []
    default = dtypes.get_default_dtype() if value.dtype.kind == "f" else (
        dtypes.int64 if value.dtype.kind in "iu" else dtypes.bool_)
    if value.dtype != default or value.size == 0:
        extras.append(f"dtype={dtypes.name_of(value.dtype)}")
    if tensor_.name:
        extras.append(f"name={tensor_.name!r}")
    if tensor_._op is not None:
        extras.append(f"grad_fn={tensor_.grad_fn!r}")
    elif tensor_.requires_grad:
        extras.append("requires_grad=True")
    return "tensor(" + array_text(value) + "".join(f", {e}" for e in extras) + ")"
