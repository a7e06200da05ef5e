"""gradcheck: a Python function's gradients against central differences, as PyTorch checks.

For every input that requires a gradient and every element j of it, the numeric column of
the Jacobian is (f(x + eps·eⱼ) − f(x − eps·eⱼ)) / (2·eps) for every output element (the
textbook step of checks.finite_differences, eps = 1e-6), and the analytic row of each output
element i is the gradient that backward sends for the seed eᵢ. They must agree element by
element within PyTorch's tolerance, |analytic − numeric| ≤ atol + rtol·|numeric| (atol =
1e-5, rtol = 1e-3). A failure raises GradcheckError naming the output and the input, as
PyTorch's "Jacobian mismatch for output 0 with respect to input 0", with both Jacobians and
the worst element: where it is, both values and by how much they differ.

As in PyTorch, inputs should be float64: with float32 the differences themselves are
rounding noise, and a warning says so.
"""

from __future__ import annotations

import warnings

import numpy as np

from ..checks.finite_differences import central_differences, textbook
from ..core.i18n import _
from ..core.tensor import PyTorchError, Tensor, no_grad
from .engine import grad


class GradcheckError(PyTorchError):
    """The analytic and numeric Jacobians disagree (PyTorch's GradcheckError)."""


def _outputs(result) -> tuple:
    return result if isinstance(result, (tuple, list)) else (result,)


def gradcheck(func, inputs, *, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              raise_exception: bool = True, nondet_tol: float = 0.0, check_undefined_grad=True,
              check_grad_dtypes=False, check_batched_grad=False, check_batched_forward_grad=False,
              check_forward_ad=False, check_backward_ad=True, fast_mode=False, masked=None) -> bool:
    """True when func's backward agrees with central differences at `inputs` (a tensor or a
    tuple of them; those with requires_grad=True are checked); else GradcheckError (or False
    with raise_exception=False)."""
    if check_forward_ad or fast_mode:
        from ..core.tensor import DiffersFromPyTorch

        raise DiffersFromPyTorch(_("gradcheck checks backward mode element by element: "
                                   "check_forward_ad and fast_mode are not offered"))
    inputs = _outputs(inputs)
    checked = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    for position in checked:
        if inputs[position].dtype != np.float64:
            warnings.warn(f"Input #{position} requires gradient and is not a double precision "
                          "floating point or complex. This check will likely fail if all the "
                          "inputs are not of double precision floating point or complex. ",
                          UserWarning, stacklevel=2)
    outputs = _outputs(func(*inputs))
    for out_index, output in enumerate(outputs):
        if not isinstance(output, Tensor):
            continue
        numeric = _numeric(func, inputs, checked, out_index, eps)
        analytic = _analytic(output, inputs, checked)
        for place, position in enumerate(checked):
            failure = _mismatch(analytic[place], numeric[place], atol, rtol)
            if failure is not None:
                message = (f"Jacobian mismatch for output {out_index} with respect to input "
                           f"{position},\nnumerical:{_text(numeric[place])}\nanalytical:"
                           f"{_text(analytic[place])}\n\n{failure}")
                if raise_exception:
                    raise GradcheckError(message)
                return False
    return True


def gradgradcheck(*args, **kwargs):
    from ..core.tensor import DiffersFromPyTorch

    raise DiffersFromPyTorch(_("gradgradcheck: gradtrace computes first derivatives only"))


def _numeric(func, inputs, checked, out_index: int, eps: float) -> list[np.ndarray]:
    """Each checked input's numeric Jacobian (outputs × input elements), by central
    differences of each output element; the function runs once per moved point."""
    return [_numeric_jacobian(func, inputs, position, out_index, eps) for position in checked]


def _numeric_jacobian(func, inputs, position: int, out_index: int, eps: float) -> np.ndarray:
    base = inputs[position]
    cache: dict = {}

    def outputs_at(moved: np.ndarray) -> np.ndarray:
        key = moved.tobytes()
        if key not in cache:
            args = list(inputs)
            args[position] = Tensor(moved.astype(base.dtype))
            with no_grad():
                found = _outputs(func(*args))[out_index]
            cache[key] = np.asarray(found._value, dtype=np.float64).ravel()
        return cache[key]

    size = np.size(outputs_at(np.array(base._value, dtype=np.float64)))
    rows = [central_differences(lambda moved, i=i: outputs_at(moved)[i], base._value,
                                textbook(eps)).ravel() for i in range(size)]
    return np.array(rows).reshape(size, base._value.size)


def _analytic(output: Tensor, inputs, checked) -> list[np.ndarray]:
    """Each checked input's Jacobian from backward: row i is the gradient for the seed eᵢ."""
    size = output._value.size
    rows = [[] for _ in checked]
    for i in range(size):
        seed = np.zeros(size)
        seed[i] = 1.0
        found = grad(output, [inputs[p] for p in checked], seed.reshape(output.shape),
                     allow_unused=True)
        for place, gradient in enumerate(found):
            width = inputs[checked[place]]._value.size
            rows[place].append(np.zeros(width) if gradient is None else
                               np.asarray(gradient._value, dtype=np.float64).ravel())
    return [np.array(r).reshape(size, inputs[p]._value.size) for r, p in zip(rows, checked)]


def _mismatch(analytic: np.ndarray, numeric: np.ndarray, atol: float, rtol: float):
    """None when every element is within tolerance; else where the worst one is and why."""
    excess = np.abs(analytic - numeric) - (atol + rtol * np.abs(numeric))
    bad = ~(excess <= 0)  # nan counts as a mismatch
    if not np.any(bad):
        return None
    worst = np.unravel_index(np.nanargmax(np.where(bad, np.nan_to_num(excess, nan=np.inf),
                                                   -np.inf)), excess.shape)
    a, n = analytic[worst], numeric[worst]
    return _("worst element: output element {output}, input element {input}: analytical "
             "{analytical:.10g}, numerical {numerical:.10g}, |difference| {difference:.3g} > "
             "atol + rtol·|numerical| = {tolerance:.3g} ({outside} of {size} elements outside "
             "the tolerance)", output=worst[0], input=worst[1], analytical=a, numerical=n,
             difference=abs(a - n), tolerance=atol + rtol * abs(n),
             outside=int(np.count_nonzero(bad)), size=bad.size)


def _text(jacobian: np.ndarray) -> str:
    from ..core.tensor.printing import array_text

    return "tensor(" + array_text(jacobian) + ")"
