"""Tracing Python code: `gradtrace.tensor` values record the ops applied to them, PyTorch style.

    w = gradtrace.tensor(2.0, name="w"); x = gradtrace.tensor(-1.0, name="x")
    y = 1 / (1 + gradtrace.exp(-(w * x)))
    trace = y.backward()      # w.grad, x.grad are set; trace is a gradtrace Trace

`tensor` holds the Tensor and its recording (grad mode, in-place changes, backward), `methods`
PyTorch's tensor methods written with registry ops, `recording` the walk from recorded tensors
to a Graph, `dtypes` the element types and promotion, `random` PyTorch's random stream,
`factories` zeros, randn and the rest (`ranges`: arange and linspace rounded as PyTorch rounds
them), `functions` the torch.* functions whose arguments differ from the registry ops',
`serialization` torch.save and torch.load, `printing` how a tensor prints, `errors` the errors
that say what PyTorch would do.
"""

from __future__ import annotations

from . import dtypes, random  # noqa: F401
from .errors import DiffersFromPyTorch, NotInGradtrace, PyTorchError  # noqa: F401
from .factories import tensor  # noqa: F401
from .recording import recorded_graph, recorded_ids  # noqa: F401
from .base import (Tensor, as_tensor, check_made, enable_grad, inference_mode,  # noqa: F401
                   is_grad_enabled, no_grad, set_grad_enabled)


def plain_attrs(attrs: dict) -> tuple:
    """Attributes as the plain, sorted (name, value) pairs a graph node stores: an index key
    becomes ints and (start, stop, step) triples, a list a tuple; an axis of None is left out."""
    from .methods import index_key

    plain = {}
    for name, value in attrs.items():
        if name == "key":
            value = index_key(value, ())
        elif isinstance(value, list):
            value = tuple(value)
        if value is not None or name != "axis":
            plain[name] = value
    return tuple(sorted(plain.items()))


def _apply_to_tensors(op, args, attrs) -> Tensor:
    first, *rest = args
    return as_tensor(first)._apply(op.name, *rest, attrs=plain_attrs(attrs))


_TENSOR_OPS = None


def tensor_ops():
    """Every op users call by name, as a function on tensors (and numbers): exp(x), max(a, b),
    max(x, axis=0), reshape(x, 2, 3)... Each records one op node."""
    global _TENSOR_OPS
    if _TENSOR_OPS is None:
        from ..composite import Ops

        _TENSOR_OPS = Ops(_apply_to_tensors)
    return _TENSOR_OPS
