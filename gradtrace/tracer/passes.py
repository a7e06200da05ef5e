"""Whole-graph passes with nothing recorded: reverse mode from any seed, forward mode from any
tangents. Lean on purpose: `gradtrace jacobian` runs one of them per output element (reverse)
or per input element (forward), and the benchmark times them.

Notation: a gradient grad_v = ∂(seed · output)/∂v flows backward from the output; a tangent
v̇ = ∂v/∂t along one direction t of the inputs flows forward with the values. Both read the op
registry's VJP and JVP rules; broadcasting is undone on the way back by `sum_to`, as in
backprop.py, and needs nothing on the way forward (tangents broadcast with their values).
"""

from __future__ import annotations

import numpy as np

from .backprop import needs_gradient, sum_to
from .graph import Graph, Node
from .ops import REGISTRY, float_type


def vjp_pass(graph: Graph, values: dict, seed, wrt) -> dict[str, np.ndarray]:
    """Reverse mode: the gradient of (seed · output) with respect to each name in `wrt` (one
    name or several), from forward `values` of every node. Inputs the output does not depend on
    get zeros."""
    wrt = (wrt,) if isinstance(wrt, str) else tuple(wrt)
    needed = needs_gradient(graph, wrt)
    output_shape = np.shape(values[graph.output])
    grads: dict[str, np.ndarray] = {}
    if graph.output in needed:
        grads[graph.output] = np.broadcast_to(np.asarray(seed, dtype=float_type(values[graph.output])), output_shape)
    with np.errstate(all="ignore"):
        for node in reversed(graph.ops):
            if node.id in grads:
                _send_back(node, values, grads, needed)
    return {name: np.asarray(grads[name]) if name in grads
            else np.zeros(np.shape(values[name])) for name in wrt}


def _send_back(node: Node, values: dict, grads: dict, needed: set) -> None:
    """One node's VJP, added to the gradients of the inputs that need one."""
    op = REGISTRY[node.op]
    inputs = tuple(values[source] for source in node.inputs)
    wanted = tuple(source in needed and op.takes_gradient(i)
                   for i, source in enumerate(node.inputs))
    vjps = op.vjp(grads[node.id], inputs, values[node.id], wanted, dict(node.attrs))
    for source, want, grad in zip(node.inputs, wanted, vjps):
        if not want or grad is None:
            continue
        grad = sum_to(grad, np.shape(values[source]))
        grads[source] = grad if source not in grads else grads[source] + grad


def jvp_pass(graph: Graph, values: dict, tangents: dict) -> np.ndarray:
    """Forward mode: the output's tangent when each input in `tangents` moves along its
    tangent (same shape as the input) and every other input stays put (tangent 0)."""
    carried = {name: np.asarray(t, dtype=np.float64) for name, t in tangents.items()}
    with np.errstate(all="ignore"):
        for node in graph.ops:
            tangent = node_tangent(node, values, carried)
            if tangent is not None:
                carried[node.id] = tangent
    if graph.output in carried:
        return np.asarray(carried[graph.output])
    return np.zeros(np.shape(values[graph.output]))


def incoming_tangents(node: Node, carried: dict) -> tuple:
    """The tangent of each input of `node`; None where it is 0 (the input does not move) or
    where the op takes no derivative (cross_entropy's targets)."""
    op = REGISTRY[node.op]
    return tuple(carried.get(source) if op.takes_gradient(i) else None
                 for i, source in enumerate(node.inputs))


def node_tangent(node: Node, values: dict, carried: dict) -> np.ndarray | None:
    """The tangent of one op node from its inputs' tangents (the op's JVP); None if no input
    moves."""
    incoming = incoming_tangents(node, carried)
    if all(tangent is None for tangent in incoming):
        return None
    op = REGISTRY[node.op]
    inputs = tuple(values[source] for source in node.inputs)
    out = values[node.id]
    tangent = op.jvp(incoming, inputs, out, dict(node.attrs))
    return np.broadcast_to(np.asarray(tangent, dtype=np.float64), np.shape(out))
