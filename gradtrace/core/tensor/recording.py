"""From recorded tensors to a Graph, and the backward pass over it.

`recorded_graph` walks back from an output through the tensors that made it (an explicit
stack, so a chain of any length works) and builds the Graph the parser would build. Leaves
and steps are named, in this order of preference: the `.name` given to a tensor (a Parameter's
"fc1.weight"), the variable the calling code holds it in (`w`, `y_hat`: looked up at
backward() time in the frames of the code that called it), else t1, t2... for leaves and
h1, h2... for steps.

Each op node keeps the scope its tensor noted when it was made (the modules that made it, see
core/scopes.py), and each leaf a module's parameter noted, so pictures can group by module.

Tensors define no __eq__ that returns a bool, so they hash by identity: sets and dicts here
hold them directly.
"""

from __future__ import annotations

import sys

import numpy as np

from ..backprop import trace_graph
from ..graph import GraphBuilder
from ..i18n import _, ngettext
from . import base as _tensor  # base imports this module: read its names at call time
from .errors import PyTorchError

_CALLER_FRAMES = 8  # frames of user code searched for variable names


def _in_order(output) -> list:
    """Every tensor that fed `output`, parents before children, left to right: a depth-first
    walk on an explicit stack of (tensor, its parents still to visit)."""
    order: list = []
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


def _check_unchanged(order: list) -> None:
    """PyTorch's version check: a tensor changed in place after an op read it would give that
    op's backward the wrong values (or, recorded, the wrong graph); refuse instead."""
    for current in order:
        for parent in current._parents:
            changed = getattr(parent, "_changed", 0)
            if changed > current._made:
                what = repr(parent.name) if parent.name else _(
                    "a tensor of shape {shape}", shape=tuple(parent.shape))
                raise PyTorchError(_(
                    "{pytorch} {what} was changed after {op} read it. Change a copy instead "
                    "(x = x + 1, not x += 1), or change it before it is used. (gradtrace refuses "
                    "this for every op, since the trace shows each value an op read; PyTorch "
                    "only where the op kept the value for backward)",
                    pytorch="one of the variables needed for gradient computation has been "
                            "modified by an inplace operation:", what=what, op=current._op))


def recorded_graph(output, names: dict | None = None):
    """The Graph of everything that fed `output`, each node's value, and the leaves by name.
    `names` may name tensors that have no .name (a variable of the calling code)."""
    graph, values, leaves, _ = _recorded(output, names or {})
    return graph, values, leaves


def _recorded(output, names: dict):
    order = _in_order(output)
    clock = _tensor._clock
    # only once something has been changed in place, and only when a change came after an op
    # of this graph was recorded (each op notes the clock when it is made)
    if clock and any(current._made != clock for current in order if current._op is not None):
        _check_unchanged(order)
    leaf_names = _leaf_names([t for t in order if t._op is None and t.requires_grad], names)
    steps = _step_names([t for t in order if t._op is not None and (t.name or t in names)],
                        set(leaf_names.values()), names)
    # the expression is written when read
    builder = GraphBuilder(None, list(leaf_names.values()), reserved=steps.values(),
                           input_scopes=_scopes_of(leaf_names))
    ids: dict = dict(leaf_names)
    values = {name: leaf._value for leaf, name in leaf_names.items()}
    for current in order:
        if current in ids:
            continue
        if current._op is None:  # a constant: a Python number or an array that needs no grad
            node_id = builder.const(current._value)
        else:
            node_id = builder.op(current._op, tuple([ids[p] for p in current._parents]),
                                 current._attrs, steps.get(current),
                                 getattr(current, "_scope", ()))
        ids[current] = node_id
        values[node_id] = current._value
    graph = builder.build(ids[output])
    return graph, values, {name: leaf for leaf, name in leaf_names.items()}, ids


def _scopes_of(leaf_names: dict) -> dict:
    """The scope of each leaf that has one (a module's parameter), by its name in the graph."""
    found = {}
    for leaf, name in leaf_names.items():
        scope = getattr(leaf, "_scope", ())  # unset on most tensors
        if scope:
            found[name] = scope
    return found


def backward_trace(output, gradient, inputs, wrt):
    """(trace, leaves by node id, tensors that retain their grad by node id) of backward()."""
    Tensor = _tensor.Tensor
    names = caller_names()
    graph, values, leaves, ids = _recorded(output, names)
    if inputs is not None:
        chosen = [inputs] if isinstance(inputs, Tensor) else list(inputs)
        wanted = {ids[t] for t in chosen if t in ids}
        wrt = tuple(name for name in leaves if name in wanted)
        leaves = {name: leaf for name, leaf in leaves.items() if name in wanted}
    elif wrt is not None:
        wrt = (wrt,) if isinstance(wrt, str) else tuple(wrt)
        unknown = [name for name in wrt if name not in graph.inputs]
        if unknown:
            comma = _(", ")
            inputs = comma.join(graph.inputs) or _("none")
            raise ValueError(ngettext(
                "backward(wrt=...): {names} is not an input of this graph; its inputs are "
                "{inputs}",
                "backward(wrt=...): {names} are not an input of this graph; its inputs are "
                "{inputs}", len(unknown), names=comma.join(map(repr, unknown)), inputs=inputs))
    if gradient is not None:
        gradient = np.asarray(gradient._value if isinstance(gradient, Tensor) else gradient)
        if gradient.shape != output._value.shape and gradient.size != 1:
            raise PyTorchError(f"Mismatch in shape: grad_output[0] has a shape of "
                               f"{list(gradient.shape)} and output[0] has a shape of "
                               f"{list(output._value.shape)}.")
    trace = trace_graph(graph, {}, wrt=wrt, values=values, grad_output=gradient)
    retained = {ids[t]: t for t in ids if getattr(t, "_retains", False) and t._op is not None
                } if _tensor._retaining else {}
    return trace, leaves, retained


def caller_names() -> dict:
    """Tensors held in variables of the code that called into gradtrace, by variable name:
    the innermost frame outside gradtrace first, then its callers (a few frames)."""
    Tensor = _tensor.Tensor

    found: dict = {}
    frame = sys._getframe(1)
    searched = 0
    while frame is not None and searched < _CALLER_FRAMES:
        module = frame.f_globals.get("__name__", "")
        if module != "gradtrace" and not module.startswith("gradtrace."):
            searched += 1
            for name, value in list(frame.f_locals.items()):
                if isinstance(value, Tensor) and value not in found and not name.startswith("_"):
                    found[value] = name
        frame = frame.f_back
    return found


def _step_names(named: list, taken: set[str], names: dict) -> dict:
    """Names for intermediate tensors given a .name (b.name = "q") or held in a variable, so
    the graph and the steps read q instead of h3: made unique with _2, _3... against the leaves
    and each other."""
    found: dict = {}
    taken = set(taken)
    for tensor_ in named:
        found[tensor_] = _unique(tensor_.name or names[tensor_], taken)
    return found


def _unique(base: str, taken: set[str]) -> str:
    """base, or base_2, base_3... when taken; the name returned is added to `taken`."""
    name, suffix = base, 1
    while name in taken:
        suffix += 1
        name = f"{base}_{suffix}"
    taken.add(name)
    return name


def _leaf_names(leaves: list, names: dict) -> dict:
    """Names for the leaves: their own or their variable's, made unique with _2, _3...; t1,
    t2... for the others."""
    found: dict = {}
    taken: set[str] = set()
    unnamed = 0
    for leaf in leaves:
        base = leaf.name or names.get(leaf)
        if not base:
            unnamed += 1
            base = f"t{unnamed}"
        found[leaf] = _unique(base, taken)
    return found


def recorded_ids(output):
    """(graph, values, node id of each tensor) of the graph that fed `output`, unnamed."""
    graph, values, _, ids = _recorded(output, {})
    return graph, values, ids
