"""Forward values and the backward pass over a Graph, recorded step by step into a Trace.

Shared work lives here, once, for every op: undoing numpy broadcasting on the way back (sum_to),
adding up gradients that reach a node along several paths (fan-out), checking that a rule gave
one gradient per input, and noting where a value first stops being finite.
"""

from __future__ import annotations

import string

import numpy as np

from .graph import Graph, Node
from ..errors import UsageError
from .ops import REGISTRY, as_float, attribute_texts, fill, float_type, same_width
from .trace import BackwardStep, ForwardStep, NodeRecord, Trace

_FORMATTER = string.Formatter()


def all_finite(array) -> bool:
    """No inf or nan anywhere."""
    return bool(np.all(np.isfinite(array)))


def sum_to(gradient: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum a gradient back to `shape`, undoing numpy broadcasting (leading axes, then size-1
    axes), so every op's rule can ignore broadcasting."""
    gradient = np.asarray(gradient)
    if gradient.shape == tuple(shape):
        return gradient
    extra = gradient.ndim - len(shape)
    if extra > 0:
        gradient = gradient.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, size in enumerate(shape) if size == 1 and gradient.shape[i] != 1)
    if stretched:
        gradient = gradient.sum(axis=stretched, keepdims=True)
    return gradient.reshape(shape)


def evaluate(graph: Graph, at: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Every node's forward value. Overflow and domain errors give inf/nan, never an exception;
    shapes that do not fit raise ShapeError naming the node."""
    values: dict[str, np.ndarray] = {}
    with np.errstate(all="ignore"):
        for node in graph.nodes:
            values[node.id] = _forward_value(node, values, at)
    return values


def _forward_value(node: Node, values, at) -> np.ndarray:
    if node.kind == "input":
        return as_float(at[node.id])
    if node.kind == "const":
        return as_float(node.value)
    inputs = same_width(tuple(values[source] for source in node.inputs))
    try:
        return REGISTRY[node.op].evaluate(inputs, dict(node.attrs))
    except (ValueError, IndexError, TypeError) as error:
        raise ShapeError(node, inputs, error) from None


class ShapeError(UsageError):
    """An op got arrays whose shapes it cannot combine (or an index out of range)."""

    def __init__(self, node: Node, inputs, error: Exception):
        shapes = ", ".join(f"{source}: {_shape_text(value)}"
                           for source, value in zip(node.inputs, inputs))
        written = fill(REGISTRY[node.op].pattern, dict(zip("abcde", node.inputs)), node.attrs)
        super().__init__(f"{node.id} = {written} cannot be computed for shapes {shapes}: "
                         f"{error}")


def _shape_text(value) -> str:
    shape = np.shape(value)
    return "scalar" if not shape else "(" + ", ".join(map(str, shape)) + ("," * (len(shape) == 1)) + ")"


def needs_gradient(graph: Graph, wrt: tuple[str, ...]) -> set[str]:
    """The nodes through which a gradient reaches one of `wrt` (not through inputs an op does
    not differentiate, such as cross_entropy's class indices)."""
    needed = set(wrt)
    for node in graph.ops:
        op = REGISTRY[node.op]
        if any(source in needed and op.takes_gradient(i) for i, source in enumerate(node.inputs)):
            needed.add(node.id)
    return needed


def reaches_output(graph: Graph) -> set[str]:
    """The inputs from which a differentiable path leads to the output."""
    reached = {graph.output}
    for node in reversed(graph.ops):
        if node.id in reached:
            op = REGISTRY[node.op]
            reached.update(s for i, s in enumerate(node.inputs) if op.takes_gradient(i))
    return reached


def trace_graph(graph: Graph, at: dict, wrt=None, defaults=(), fused=False,
                values: dict | None = None) -> Trace:
    """Run forward and backward over `graph` at the point `at`, recording every step.

    `wrt` limits the inputs whose gradients are traced (all by default). `values` may carry
    forward values already computed (the Python API computes them eagerly).
    """
    reached = reaches_output(graph)
    wrt = tuple(name for name in graph.inputs
                if (wrt is None or name in wrt) and name in reached)
    if values is None:
        values = evaluate(graph, at)
    with np.errstate(all="ignore"):
        forward = _forward_steps(graph, values)
        grads, backward = _backward_steps(graph, values, needs_gradient(graph, wrt))
    nodes = tuple(
        NodeRecord(node.id, node.kind, node.op, node.inputs, values[node.id], grads.get(node.id))
        for node in graph.nodes
    )
    return Trace(graph.expression, graph, nodes, forward, backward, wrt, tuple(defaults), fused)


def _forward_steps(graph: Graph, values) -> tuple[ForwardStep, ...]:
    steps = []
    for node in graph.ops:
        op = REGISTRY[node.op]
        inputs = same_width(tuple(values[source] for source in node.inputs))
        value = values[node.id]
        problem = None
        if not all_finite(value) and all(all_finite(x) for x in inputs):
            problem = (op.trouble(*inputs) if op.trouble else None) or "the result is not finite"
        kink = op.kink_rule if op.at_kink(inputs, dict(node.attrs)) else None
        steps.append(ForwardStep(node.id, node.op, node.inputs, inputs, value, problem, kink,
                                 node.attrs))
    return tuple(steps)


def _backward_steps(graph: Graph, values, needed: set[str]):
    grads: dict[str, np.ndarray] = {}
    arrivals: dict[str, int] = {}
    steps: list[BackwardStep] = []
    if graph.output in needed:
        grads[graph.output] = np.ones_like(values[graph.output], dtype=float_type(values[graph.output]))
    for node in reversed(graph.ops):
        if node.id not in grads:
            continue
        op = REGISTRY[node.op]
        inputs = same_width(tuple(values[source] for source in node.inputs))
        out, upstream = values[node.id], grads[node.id]
        wanted = tuple(source in needed and op.takes_gradient(i)
                       for i, source in enumerate(node.inputs))
        vjps = op.vjp(upstream, inputs, out, wanted, dict(node.attrs))
        if len(vjps) != len(node.inputs):
            raise RuntimeError(f"{node.op}: the VJP rule gave {len(vjps)} gradients "
                               f"for {len(node.inputs)} inputs")
        for index, source in enumerate(node.inputs):
            if not wanted[index] or vjps[index] is None:
                continue
            downstream = sum_to(vjps[index], np.shape(values[source]))
            total = downstream if source not in grads else np.asarray(grads[source] + downstream)
            grads[source] = total
            arrivals[source] = arrivals.get(source, 0) + 1
            formula, bindings = _formula(op.formulas[index], node, graph, values)
            problem = None
            if not all_finite(downstream) and all_finite(upstream) and all(
                    all_finite(x) for x in inputs):
                problem = f"the local derivative {formula} is not finite here"
            steps.append(BackwardStep(
                node=node.id, input=source, index=index, op=node.op, upstream=upstream,
                formula=formula, bindings=bindings,
                local=_shown_local(op, index, inputs, out),
                downstream=downstream, total=total, arrival=arrivals[source], gate=op.gate,
                problem=problem,
            ))
    return grads, tuple(steps)


SHOWN_LOCAL_LIMIT = 4096  # elements; beyond this the narration summarises, so skip the work


def _shown_local(op, index: int, inputs: tuple, out: np.ndarray):
    """The local derivative's value for the narration: elementwise ops on arrays small enough
    to be shown (for big ones the VJP alone is recorded, as it is for Jacobians)."""
    if not op.elementwise or np.size(out) > SHOWN_LOCAL_LIMIT:
        return None
    return op.local(index, inputs, out)


def _formula(template: str, node: Node, graph: Graph, values) -> tuple[str, tuple]:
    """Fill a registry formula with node names; constants are written as their values."""
    names = {"out": node.id, "g": f"grad_{node.id}"}
    for key, source in zip("abcde", node.inputs):
        names[key] = source
    texts = attribute_texts(node.attrs)
    fields = [field for _, field, _, _ in _FORMATTER.parse(template)
              if field and field not in ("g",) and field not in texts]
    filled: dict[str, str] = {}
    bindings: list[tuple[str, np.ndarray]] = []
    for field in fields:
        source = names[field]
        if graph.by_id[source].kind == "const" and not source.startswith("#"):
            filled[field] = f"({source})" if source.startswith("-") else source
        else:
            filled[field] = source
            if all(source != bound for bound, _ in bindings):
                bindings.append((source, values[source]))
    return template.format(**filled, g=names["g"], **texts), tuple(bindings)
