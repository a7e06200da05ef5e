"""gradtrace: see backpropagation, value by value, gradient by gradient.

    import gradtrace
    trace = gradtrace.explain("1/(1+exp(-(w*x+b)))", at={"w": 2, "x": -1, "b": -3})
    trace.value, trace.gradients, print(trace.to_text())

    w = gradtrace.tensor(2.0, name="w")
    ...
    trace = y.backward()        # sets w.grad

It is also a PyTorch-style API: code written for PyTorch runs with the import changed
(`import gradtrace as torch`, `import gradtrace.nn as nn`, `import gradtrace.nn.functional as
F`), and `loss.backward()` still returns the Trace that explains it. Tensors and their
factories (tensor, zeros, randn, arange...), dtypes (float32, float64, int64...), grad mode
(no_grad, enable_grad), the random stream (manual_seed, Generator), torch.* functions (cat,
stack, where, matmul, max...), gradtrace.autograd (Function, grad, gradcheck),
gradtrace.nn and gradtrace.optim. Every op users call by name in an expression is also a
function here (gradtrace.exp, gradtrace.softmax...), taken from the op registry.

Everything is imported on first use, so `import gradtrace` (and the CLI's --help) stay fast.
This package root sits above every layer (core, ops, expr, checks, jacobians, nn, optim,
autograd, layers, narrate, render, cli): it is the one place that tells the engine how to load
the op tables and the renderers it never imports itself (gradtrace.core.plugins).
"""

from __future__ import annotations

from importlib import import_module

from .core import plugins as _plugins

__version__ = "0.1.0"

_plugins.on_demand("ops", lambda: import_module("gradtrace.ops"))
_plugins.on_demand("render", lambda: import_module("gradtrace.render"))

_TENSOR = "gradtrace.core.tensor"
_LAZY = {
    "explain": ("gradtrace.expr.pipeline", "explain"),
    "jacobian": ("gradtrace.expr.pipeline", "explain_jacobian"),
    "check": ("gradtrace.expr.pipeline", "check_at_random_points"),
    "explain_function": ("gradtrace.autograd.explain", "explain_function"),
    "scope": ("gradtrace.core.scopes", "scope"),
    "Tensor": (f"{_TENSOR}.base", "Tensor"),
    "Trace": ("gradtrace.core.trace", "Trace"),
    "GradtraceError": ("gradtrace.core.errors", "GradtraceError"),
    "ParseError": ("gradtrace.core.errors", "ParseError"),
    "UsageError": ("gradtrace.core.errors", "UsageError"),
    "PyTorchError": (f"{_TENSOR}.errors", "PyTorchError"),
    "DiffersFromPyTorch": (f"{_TENSOR}.errors", "DiffersFromPyTorch"),
    # grad mode
    "no_grad": (f"{_TENSOR}.base", "no_grad"),
    "enable_grad": (f"{_TENSOR}.base", "enable_grad"),
    "set_grad_enabled": (f"{_TENSOR}.base", "set_grad_enabled"),
    "is_grad_enabled": (f"{_TENSOR}.base", "is_grad_enabled"),
    "inference_mode": (f"{_TENSOR}.base", "inference_mode"),
    # random numbers
    "Generator": (f"{_TENSOR}.random", "Generator"),
    "default_generator": (f"{_TENSOR}.random", "default_generator"),
    "manual_seed": (f"{_TENSOR}.random", "manual_seed"),
    "initial_seed": (f"{_TENSOR}.random", "initial_seed"),
    "get_rng_state": (f"{_TENSOR}.random", "get_rng_state"),
    "set_rng_state": (f"{_TENSOR}.random", "set_rng_state"),
    # element types
    "get_default_dtype": (f"{_TENSOR}.dtypes", "get_default_dtype"),
    "set_default_dtype": (f"{_TENSOR}.dtypes", "set_default_dtype"),
}
_FACTORIES = ("tensor", "as_tensor", "from_numpy", "zeros", "ones", "empty", "full", "eye",
              "zeros_like", "ones_like", "empty_like", "full_like", "arange", "linspace", "rand",
              "randn", "normal", "randint", "randperm", "bernoulli", "rand_like", "randn_like",
              "randint_like")
_LAZY.update({name: (f"{_TENSOR}.factories", name) for name in _FACTORIES})
# PyTorch's names: gradtrace.nn, .optim, .autograd, .utils (which says what to write instead)
_SUBMODULES = ("nn", "optim", "autograd", "utils")


def _functions() -> dict:
    """Functions by the names users type: torch.* forms first (core/tensor/functions.py), then
    the registry's callable ops as functions on tensors and numbers."""
    from .core.registry import calls
    from .core.tensor import tensor_ops
    from .core.tensor.functions import FUNCTIONS

    functions = tensor_ops()
    found = {name: getattr(functions, name) for name in calls()}
    found.update(FUNCTIONS)
    return found


def _dtype(name: str):
    from .core.tensor.dtypes import NAMES

    return NAMES.get(name)


def __getattr__(name: str):
    if name in _SUBMODULES:
        return import_module(f"gradtrace.{name}")
    if name in _LAZY:
        module, attribute = _LAZY[name]
        import_module("gradtrace.ops")  # the op tables every engine object reads
        return getattr(import_module(module), attribute)
    if name.startswith("_"):
        raise AttributeError(f"module 'gradtrace' has no attribute {name!r}")
    dtype = _dtype(name)
    if dtype is not None:
        return dtype  # float32, long, bool...: not kept in globals (they would shadow builtins)
    function = _functions().get(name)
    if function is not None:
        globals()[name] = function  # found once, kept
        return function
    from .core.tensor.errors import NotInGradtrace

    raise NotInGradtrace(f"module 'gradtrace' has no attribute {name!r}: gradtrace covers the "
                         "part of PyTorch's API the course code uses (the README lists what "
                         "differs)")


def __dir__() -> list[str]:
    from .core.tensor.dtypes import NAMES

    return sorted([*globals(), *_LAZY, *_SUBMODULES, *_functions(), *NAMES])
