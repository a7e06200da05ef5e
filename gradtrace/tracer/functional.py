"""Functions on tensors, one per name users type in expressions: exp, log, sigmoid, sum,
softmax, max (elementwise with two arguments, a reduction with one), ... Generated from the
registry, so a new op is available here as soon as it is declared."""

from __future__ import annotations

from .ops import Op, functions
from .tensor import Tensor, _as_tensor, plain_attrs


def _make(name: str, ops: list[Op]):
    by_arity = {op.arity: op for op in ops}

    def function(*args, **attrs):
        op = by_arity.get(len(args))
        if op is None and any("shape" in candidate.attrs for candidate in ops):
            op = next(candidate for candidate in ops if "shape" in candidate.attrs)
            args, attrs = args[:1], {**attrs, "shape": tuple(int(n) for n in args[1:])}
        if op is None:
            usages = " or ".join(candidate.usage for candidate in ops)
            raise TypeError(f"{name}: {usages}")
        unknown = sorted(set(attrs) - set(op.attrs))
        if unknown:
            raise TypeError(f"{name} takes no argument {unknown[0]!r}: {op.usage}")
        first, *rest = args
        return _as_tensor(first)._apply(op.name, *rest, attrs=plain_attrs(attrs))

    function.__name__ = name
    function.__doc__ = "\n".join(f"{op.usage}: {op.description}" for op in ops)
    return function


FUNCTIONS = {name: _make(name, ops) for name, ops in functions().items()}
__all__ = sorted(FUNCTIONS) + ["Tensor"]
globals().update(FUNCTIONS)
