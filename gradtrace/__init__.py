"""gradtrace: see backpropagation, value by value, gradient by gradient.

    import gradtrace
    trace = gradtrace.explain("1/(1+exp(-(w*x+b)))", at={"w": 2, "x": -1, "b": -3})
    trace.value, trace.gradients, print(trace.to_text())

    w = gradtrace.tensor(2.0, name="w")
    ...
    trace = y.backward()        # sets w.grad

Every op users call by name in an expression is also a function here (gradtrace.exp,
gradtrace.softmax...), taken from the op registry. Everything is imported on first use, so
`import gradtrace` (and the CLI's --help) stay fast.

This package root sits above every layer (core, ops, expr, checks, jacobians, nn, layers,
narrate, render, cli): it is the one place that tells the engine how to load the op tables and
the renderers it never imports itself (gradtrace.core.plugins).
"""

from __future__ import annotations

from importlib import import_module

from .core import plugins as _plugins

__version__ = "0.1.0"

_plugins.on_demand("ops", lambda: import_module("gradtrace.ops"))
_plugins.on_demand("render", lambda: import_module("gradtrace.render"))

_LAZY = {
    "explain": ("gradtrace.expr.pipeline", "explain"),
    "jacobian": ("gradtrace.expr.pipeline", "explain_jacobian"),
    "check": ("gradtrace.expr.pipeline", "check_at_random_points"),
    "tensor": ("gradtrace.core.tensor", "tensor"),
    "Tensor": ("gradtrace.core.tensor", "Tensor"),
    "Trace": ("gradtrace.core.trace", "Trace"),
    "GradtraceError": ("gradtrace.core.errors", "GradtraceError"),
    "ParseError": ("gradtrace.core.errors", "ParseError"),
    "UsageError": ("gradtrace.core.errors", "UsageError"),
}
_SUBMODULES = ("nn", "optim")  # gradtrace.nn (layers, PyTorch names), gradtrace.optim


def _functions() -> dict:
    """The registry's callable ops as functions on tensors and numbers, by the names users type."""
    from .core.registry import calls
    from .core.tensor import tensor_ops

    functions = tensor_ops()
    return {name: getattr(functions, name) for name in calls()}


def __getattr__(name: str):
    if name in _SUBMODULES:
        return import_module(f"gradtrace.{name}")
    if name in _LAZY:
        module, attribute = _LAZY[name]
        import_module("gradtrace.ops")  # the op tables every engine object reads
        return getattr(import_module(module), attribute)
    if not name.startswith("_"):
        function = _functions().get(name)
        if function is not None:
            globals()[name] = function  # found once, kept
            return function
    raise AttributeError(f"module 'gradtrace' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY, *_SUBMODULES, *_functions()])
