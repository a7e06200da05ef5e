"""gradtrace.autograd: PyTorch's torch.autograd, for tensors whose backward pass gradtrace
explains.

`Function` defines an op with its own forward and backward (`MyOp.apply(x)`), which joins the
op registry the first time it is applied, so a trace narrates it like a built-in op and the
numeric check checks it; `grad` gives gradients without touching `.grad`; `gradcheck` checks
any Python function of tensors against central differences with PyTorch's tolerances;
`explain_function` traces a Python function of arrays or tensors for the CLI's views and
pictures. `no_grad`, `enable_grad` and `set_grad_enabled` are the ones of gradtrace itself.

May import: gradtrace.core, gradtrace.ops and gradtrace.checks (the finite differences and the
three-way check).
"""

from ..core.tensor import enable_grad, no_grad, set_grad_enabled  # noqa: F401
from .engine import backward, grad  # noqa: F401
from .explain import explain_function  # noqa: F401
from .function import Function, FunctionCtx  # noqa: F401
from .gradcheck import GradcheckError, gradcheck, gradgradcheck  # noqa: F401


def Variable(tensor, requires_grad: bool = False):
    """PyTorch's old wrapper: today a tensor is its own Variable."""
    if requires_grad:
        tensor.requires_grad_(True)
    return tensor


__all__ = ["Function", "FunctionCtx", "backward", "grad", "gradcheck", "gradgradcheck",
           "GradcheckError", "explain_function", "no_grad", "enable_grad", "set_grad_enabled",
           "Variable"]
