"""explain_function: any Python function of tensors, traced and checked like an expression.

    def layer(x, W, b):
        return torch.sigmoid(x @ W.T + b).sum()

    trace = gradtrace.explain_function(layer, x, W, b)
    print(trace.to_text()); trace.to_svg("layer.svg")

Each argument becomes a leaf named after the function's parameter (x, W, b), float64 unless
it is a float32 array or tensor, requiring a gradient (integer arrays, such as class labels,
stay data). The function's output is traced backward from `grad_output` (needed when the
output is not a single number, as backward(gradient=) needs it) and, with `check=True`, every
gradient is checked three ways as `gradtrace explain` checks an expression (finite
differences always; SymPy where every op has a SymPy form).
"""

from __future__ import annotations

import inspect
import reprlib

import numpy as np

from ..checks.gradients import check_gradients
from ..core.errors import clip_runs
from ..core.i18n import _
from ..core.tensor import PyTorchError, Tensor, tensor


def _names(function, count: int) -> list[str]:
    try:
        parameters = [p.name for p in inspect.signature(function).parameters.values()
                      if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        parameters = []
    return [parameters[i] if i < len(parameters) else f"x{i + 1}" for i in range(count)]


def _leaf(value, name: str) -> Tensor:
    try:
        array = np.asarray(value._value if isinstance(value, Tensor) else value)
    except (TypeError, ValueError):  # rows of different lengths
        array = np.asarray(None)
    if array.dtype.kind not in "biuf":
        raise TypeError(_("explain_function: the argument {name} is {given}, not a number, an "
                          "array of numbers or a tensor", name=name,
                          given=clip_runs(reprlib.repr(value))))
    if array.dtype.kind in "biu":
        return Tensor(array, name)  # data: labels, masks, indices
    return tensor(array if array.dtype == np.float32 else array.astype(np.float64), name,
                  requires_grad=True)


def explain_function(function, *inputs, names=None, grad_output=None, check: bool = True):
    """The Trace of function(*inputs)'s backward pass, its gradients checked (check=True)."""
    if not callable(function):
        raise TypeError(_("explain_function takes a function of tensors first, not {given}",
                          given=clip_runs(reprlib.repr(function))))
    names = list(names) if names is not None else _names(function, len(inputs))
    leaves = [_leaf(value, name) for value, name in zip(inputs, names)]
    output = function(*leaves)
    if not isinstance(output, Tensor):
        unnamed = _("the function")
        raise PyTorchError(_("{function} returned {kind}, not a tensor",
                             function=getattr(function, "__name__", unnamed),
                             kind=type(output).__name__))
    trace = output.backward(grad_output)
    return trace.with_checks(check_gradients(trace)) if check else trace
