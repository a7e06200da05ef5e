"""Tracing Python code: `gradtrace.tensor` values record the ops applied to them, PyTorch style.

    w = gradtrace.tensor(2.0, name="w"); x = gradtrace.tensor(-1.0, name="x")
    y = 1 / (1 + gradtrace.exp(-(w * x)))
    trace = y.backward()      # w.grad, x.grad are set; trace is a gradtrace Trace

Values are computed eagerly with the registry's forward rules; `backward()` turns the recorded
ops into the same Graph the parser builds and traces it, so every renderer works on it.
"""

from __future__ import annotations

import gc
import weakref

import numpy as np

from .arrays import as_float, same_width
from .backprop import trace_graph
from .graph import GraphBuilder
from .registry import REGISTRY
from .trace import record_array


class Tensor:
    """A value (numpy array; a scalar is 0-d) that remembers the op that made it."""

    __array_priority__ = 1000  # numpy defers to our operators: array * tensor is a Tensor
    # No per-tensor __dict__: a network written op by op makes tens of thousands of these.
    # The inputs sit in slots of their own, not in a tuple: one object fewer per op for the
    # garbage collector to sweep while a network runs op by op (see `_parents`).
    __slots__ = ("value", "name", "requires_grad", "grad", "_op", "_first", "_second",
                 "_others", "_attrs", "_trace")

    def __init__(self, value, name: str | None = None, *, requires_grad: bool = True):
        """A leaf; tensors computed by ops are made by `_apply`."""
        self.value = as_float(value)
        self.name = name
        self.requires_grad = requires_grad
        self.grad: np.ndarray | None = None
        self._op, self._attrs = None, ()
        self._first = self._second = None
        self._others = ()
        self._trace = None  # the last Trace made from this leaf (weakly), see held_by_trace

    # -- reading -------------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        return self.value.shape

    def item(self) -> float:
        return float(self.value)

    def numpy(self) -> np.ndarray:
        return self.value

    def __repr__(self) -> str:
        label = f", name={self.name!r}" if self.name else ""
        grad = "" if self.grad is None else f", grad={np.array2string(np.asarray(self.grad))}"
        return f"tensor({np.array2string(self.value)}{label}{grad})"

    # -- recording ops -------------------------------------------------------------------
    def _apply(self, op_name: str, *others, attrs: tuple = ()) -> "Tensor":
        # This runs for every op: hence the plain code (no Op.evaluate, slots set directly).
        parents = (self, *map(as_tensor, others))
        inputs = same_width(tuple([p.value for p in parents]))
        op = REGISTRY[op_name]
        forward = op.forward
        with np.errstate(all="ignore"):
            if forward is None:  # an op written with others: its composite computes it
                value = op.evaluate(inputs, dict(attrs))
            else:
                value = forward(*inputs, **dict(attrs)) if attrs else forward(*inputs)
        made = Tensor.__new__(Tensor)
        made.value, made.name, made.requires_grad, made.grad = as_float(value), None, True, None
        made._op, made._attrs, made._first = op_name, attrs, self
        made._second = parents[1] if others else None
        made._others = parents[2:]
        return made

    @property
    def _parents(self) -> tuple["Tensor", ...]:
        """The tensors this one was computed from (none for a leaf)."""
        if self._first is None:
            return ()
        if self._second is None:
            return (self._first,)
        return (self._first, self._second, *self._others)

    def __add__(self, other): return self._apply("add", other)
    def __radd__(self, other): return as_tensor(other)._apply("add", self)
    def __sub__(self, other): return self._apply("sub", other)
    def __rsub__(self, other): return as_tensor(other)._apply("sub", self)
    def __mul__(self, other): return self._apply("mul", other)
    def __rmul__(self, other): return as_tensor(other)._apply("mul", self)
    def __truediv__(self, other): return self._apply("div", other)
    def __pow__(self, other): return self._apply("pow", other)
    def __rpow__(self, other): return as_tensor(other)._apply("pow", self)
    def __matmul__(self, other): return self._apply("matmul", other)
    def __rmatmul__(self, other): return as_tensor(other)._apply("matmul", self)
    def __neg__(self): return self._apply("neg")
    def __abs__(self): return self._apply("abs")

    @property
    def T(self) -> "Tensor":
        return self._apply("transpose")

    def __getitem__(self, key) -> "Tensor":
        return self._apply("index", attrs=plain_attrs({"key": key}))

    def sum(self, axis=None) -> "Tensor":
        return self._apply("sum", attrs=plain_attrs({"axis": axis}))

    def mean(self, axis=None) -> "Tensor":
        return self._apply("mean", attrs=plain_attrs({"axis": axis}))

    def max(self, axis=None) -> "Tensor":
        return self._apply("amax", attrs=plain_attrs({"axis": axis}))

    def min(self, axis=None) -> "Tensor":
        return self._apply("amin", attrs=plain_attrs({"axis": axis}))

    def reshape(self, *shape) -> "Tensor":
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return self._apply("reshape", attrs=(("shape", tuple(int(n) for n in shape)),))

    def __rtruediv__(self, other):
        if np.ndim(other) == 0 and not isinstance(other, Tensor) and float(other) == 1.0:
            return self._apply("reciprocal")  # 1/x is a reciprocal gate, as in the parser
        return as_tensor(other)._apply("div", self)

    # -- backward ------------------------------------------------------------------------
    def backward(self, wrt=None):
        """Trace the backward pass from this tensor, set `.grad` on every named or leaf input
        and return the Trace (print it, `.to_markdown()`, `.to_svg()`...)."""
        collecting = gc.isenabled()
        gc.disable()  # what is built here holds no cycles: don't scan it over and over as it grows
        try:
            graph, values, leaves = recorded_graph(self)
            trace = trace_graph(graph, {}, wrt=wrt, values=values)
        finally:
            if collecting:
                gc.enable()
        recorded = weakref.ref(trace)
        for node_id, leaf in leaves.items():
            leaf.grad = record_array(trace.node_grads.get(node_id))
            leaf._trace = recorded
        return trace

    def held_by_trace(self) -> bool:
        """True while a Trace made by backward() from this leaf is still alive: it holds this
        very array, so an optimiser updates a copy instead of the array in place."""
        recorded = getattr(self, "_trace", None)
        return recorded is not None and recorded() is not None


def plain_attrs(attrs: dict) -> tuple:
    """Attributes as the plain, sorted (name, value) pairs a graph node stores: an index key
    becomes a tuple of ints and (start, stop, step) triples."""
    plain = {}
    for name, value in attrs.items():
        if name == "key":
            key = value if isinstance(value, tuple) else (value,)
            value = tuple((part.start, part.stop, part.step) if isinstance(part, slice)
                          else int(part) for part in key)
        elif isinstance(value, list):
            value = tuple(value)
        if value is not None or name != "axis":
            plain[name] = value
    return tuple(sorted(plain.items()))


def as_tensor(value) -> Tensor:
    """A tensor as it is; anything else as a constant (a leaf that takes no gradient)."""
    if isinstance(value, Tensor):
        return value
    return Tensor(value, requires_grad=False)


def tensor(value, name: str | None = None, requires_grad: bool = True) -> Tensor:
    """A leaf value to trace. `name` is how it appears in the narration (t1, t2... if none)."""
    return Tensor(value, name, requires_grad=requires_grad)


def _apply_to_tensors(op, args, attrs) -> Tensor:
    first, *rest = args
    return as_tensor(first)._apply(op.name, *rest, attrs=plain_attrs(attrs))


_TENSOR_OPS = None


def tensor_ops():
    """Every op users call by name, as a function on tensors (and numbers): exp(x), max(a, b),
    max(x, axis=0), reshape(x, 2, 3)... Each records one op node."""
    global _TENSOR_OPS
    if _TENSOR_OPS is None:
        from .composite import Ops

        _TENSOR_OPS = Ops(_apply_to_tensors)
    return _TENSOR_OPS


# Tensors define no __eq__, so they hash by identity: sets and dicts below hold them directly.

def _in_order(output: Tensor) -> list[Tensor]:
    """Every tensor that fed `output`, parents before children, left to right: a depth-first
    walk on an explicit stack of (tensor, its parents still to visit), so a chain of any length
    works."""
    order: list[Tensor] = []
    seen = {output}
    stack = [(output, iter(output._parents))]
    while stack:
        current, parents = stack[-1]
        for parent in parents:
            if parent not in seen:
                seen.add(parent)
                stack.append((parent, iter(parent._parents)))
                break
        else:
            stack.pop()
            order.append(current)
    return order


def recorded_graph(output: Tensor):
    """The Graph of everything that fed `output`, each node's value, and the leaves by name."""
    order = _in_order(output)
    names = _leaf_names([t for t in order if t._op is None and t.requires_grad])
    steps = _step_names([t for t in order if t._op is not None and t.name],
                        set(names.values()))
    # the expression is written when read
    builder = GraphBuilder(None, list(names.values()), reserved=steps.values())
    ids: dict[Tensor, str] = dict(names)
    values = {name: leaf.value for leaf, name in names.items()}
    for current in order:
        if current in ids:
            continue
        if current._op is None:  # a constant: a Python number or an array that needs no grad
            node_id = builder.const(current.value)
        else:
            node_id = builder.op(current._op, tuple([ids[p] for p in current._parents]),
                                 current._attrs, steps.get(current))
        ids[current] = node_id
        values[node_id] = current.value
    graph = builder.build(ids[output])
    return graph, values, {name: leaf for leaf, name in names.items()}


def _step_names(named: list[Tensor], taken: set[str]) -> dict[Tensor, str]:
    """Names for intermediate tensors given a .name (b.name = "q"), so the graph and the steps
    read q instead of h3: made unique with _2, _3... against the leaves and each other."""
    found: dict[Tensor, str] = {}
    taken = set(taken)
    for tensor_ in named:
        name, suffix = tensor_.name, 1
        while name in taken:
            suffix += 1
            name = f"{tensor_.name}_{suffix}"
        taken.add(name)
        found[tensor_] = name
    return found


def _leaf_names(leaves: list[Tensor]) -> dict[Tensor, str]:
    """Names for the leaves: their own, made unique with _2, _3...; t1, t2... for unnamed."""
    names: dict[Tensor, str] = {}
    taken: set[str] = set()
    unnamed = 0
    for leaf in leaves:
        base = leaf.name
        if not base:
            unnamed += 1
            base = f"t{unnamed}"
        name, suffix = base, 1
        while name in taken:
            suffix += 1
            name = f"{base}_{suffix}"
        taken.add(name)
        names[leaf] = name
    return names
