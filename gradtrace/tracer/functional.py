"""Functions on tensors, one per registry op written as a call: exp, log, sigmoid, max, ...
Generated from the registry, so a new op is available here as soon as it is declared."""

from __future__ import annotations

from .ops import functions
from .tensor import Tensor, _as_tensor


def _make(name: str, arity: int, usage: str):
    def function(*args):
        if len(args) != arity:
            raise TypeError(f"{name} takes {arity} argument{'s' * (arity > 1)}: {usage}")
        first, *rest = args
        return _as_tensor(first)._apply(name, *rest)

    function.__name__ = name
    function.__doc__ = f"{usage}: {REGISTRY_DESCRIPTIONS[name]}"
    return function


REGISTRY_DESCRIPTIONS = {name: op.description for name, op in functions().items()}
FUNCTIONS = {name: _make(name, op.arity, op.usage) for name, op in functions().items()}
__all__ = sorted(FUNCTIONS) + ["Tensor"]
globals().update(FUNCTIONS)
