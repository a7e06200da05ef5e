"""gradtrace: see backpropagation, value by value, gradient by gradient.

    import gradtrace
    trace = gradtrace.explain("1/(1+exp(-(w*x+b)))", at={"w": 2, "x": -1, "b": -3})
    trace.value, trace.gradients, print(trace.to_text())

    w = gradtrace.tensor(2.0, name="w")
    ...
    trace = y.backward()        # sets w.grad

Everything is imported on first use, so `import gradtrace` (and the CLI's --help) stay fast.
"""

from __future__ import annotations

__version__ = "0.1.0"

_LAZY = {
    "explain": ("gradtrace.tracer.explain", "explain"),
    "jacobian": ("gradtrace.tracer.jacobian", "explain_jacobian"),
    "tensor": ("gradtrace.tracer.tensor", "tensor"),
    "Tensor": ("gradtrace.tracer.tensor", "Tensor"),
    "Trace": ("gradtrace.tracer.trace", "Trace"),
    "ops": ("gradtrace.tracer.ops", "REGISTRY"),
    "GradtraceError": ("gradtrace.errors", "GradtraceError"),
    "ParseError": ("gradtrace.errors", "ParseError"),
    "UsageError": ("gradtrace.errors", "UsageError"),
}
_FUNCTIONS = ("exp", "log", "sqrt", "sin", "cos", "tanh", "sigmoid", "relu", "abs", "max", "min",
              "transpose", "reshape", "sum", "mean", "softmax", "log_softmax", "mse",
              "cross_entropy")

_SUBMODULES = ("nn", "optim")  # gradtrace.nn (layers, PyTorch names), gradtrace.optim

__all__ = sorted(_LAZY) + list(_FUNCTIONS) + list(_SUBMODULES)


def __getattr__(name: str):
    import importlib

    if name in _SUBMODULES:
        return importlib.import_module(f"gradtrace.{name}")
    if name in _LAZY:
        module, attribute = _LAZY[name]
        return getattr(importlib.import_module(module), attribute)
    if name in _FUNCTIONS:
        from .tracer.functional import FUNCTIONS

        return FUNCTIONS[name]
    raise AttributeError(f"module 'gradtrace' has no attribute {name!r}")
