"""Ops written with other ops: running a composite to get what it needs no rules for.

A composite is `composite(F, *inputs, **attrs)`, where `F.exp(a)`, `F.relu(a)`, `F.max(x,
axis=1)`... call registry ops by the names users type, and `+ - * / ** @`, `.T`, `.reshape`
and indexing work as on numpy arrays. The same function runs on three kinds of values:

- numpy arrays, for the forward value;
- Tensors, to record the composite as a small graph, whose backward pass is the op's VJP and
  whose forward-mode pass is its JVP (`composite_graph`, also what `--expand` draws);
- object arrays of SymPy expressions, for the symbolic check (in gradtrace.checks).
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from .arrays import as_float, same_width
from .registry import Op, calls, pick_op


class Ops:
    """F: the registry's callable ops as functions, each applied by `apply(op, args, attrs)`."""

    def __init__(self, apply: Callable):
        self._apply = apply
        self._calls = calls()

    def __getattr__(self, name: str):
        candidates = self._calls.get(name)
        if candidates is None:
            raise AttributeError(f"no op is called {name!r}")

        def call(*args, **attrs):
            op = pick_op(candidates, len(args))
            if op is None:
                raise TypeError(f"{name}: {' or '.join(c.usage for c in candidates)}")
            if op.arity < len(args):  # reshape(x, 2, 3): the trailing numbers are the shape
                args, attrs = args[:1], {**attrs, "shape": tuple(int(n) for n in args[1:])}
            return self._apply(op, args, attrs)

        call.__name__ = name
        return call


def _numpy_apply(op: Op, args, attrs):
    inputs = same_width(tuple(as_float(arg) for arg in args))
    with np.errstate(all="ignore"):
        return op.evaluate(inputs, attrs)


NUMPY = None  # made on first use: building it reads the whole registry


def composite_forward(op: Op, inputs: tuple, attrs: dict) -> np.ndarray:
    global NUMPY
    if NUMPY is None:
        NUMPY = Ops(_numpy_apply)
    with np.errstate(all="ignore"):
        return as_float(op.composite(NUMPY, *inputs, **attrs))


def composite_graph(op: Op, inputs: tuple, attrs: dict, names=None):
    """(graph, values) of the composite recorded on `inputs`: its inputs are graph inputs
    named `names` (in0, in1... by default), its steps primitive op nodes."""
    from .tensor import recorded_graph, tensor, tensor_ops

    names = names or [f"in{i}" for i in range(len(inputs))]
    leaves = [tensor(value, name) for value, name in zip(inputs, names)]
    output = op.composite(tensor_ops(), *leaves, **attrs)
    graph, values, _ = recorded_graph(output)
    return graph, values


def composite_vjp(op: Op, upstream, inputs: tuple, needed, attrs: dict) -> tuple:
    from .backprop import vjp_pass

    graph, values = composite_graph(op, inputs, attrs)
    wanted = [f"in{i}" for i in range(op.arity) if needed[i]]
    grads = vjp_pass(graph, values, upstream, wanted) if wanted else {}
    return tuple(grads.get(f"in{i}") for i in range(op.arity))


def composite_jvp(op: Op, tangents: tuple, inputs: tuple, attrs: dict) -> np.ndarray:
    from .forward_mode import jvp_pass

    graph, values = composite_graph(op, inputs, attrs)
    moving = {f"in{i}": t for i, t in enumerate(tangents) if t is not None}
    return jvp_pass(graph, values, moving)


def composite_local(op: Op, index: int, inputs: tuple, out, attrs: dict) -> np.ndarray:
    """An elementwise composite's local derivative: its JVP along all-ones in one input."""
    tangents = tuple(np.ones_like(inputs[i], dtype=np.float64) if i == index else None
                     for i in range(op.arity))
    return composite_jvp(op, tangents, inputs, attrs)
