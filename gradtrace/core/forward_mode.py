"""Forward mode, recorded for narration: tangents flowing with the values.

Seed one input x with a tangent ẋ (1 for a scalar, all-ones for an array) and every other input
with 0; each node's tangent is then its derivative along that direction, computed in the same
sweep as its value: ḣ = Σ_i ∂h/∂a_i · ȧ_i (elementwise ops: their local derivatives times the
inputs' tangents; the others: their JVP). At the output, the tangent is ∂f/∂x for a scalar x —
one pass per input, where one backward pass gives every input's gradient at once.

`jvp_pass` is the lean pass with nothing recorded (`gradtrace jacobian` runs one per input
element); `forward_mode_trace` records every step for the narration. Tangents need nothing done
about broadcasting: they broadcast with their values.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .arrays import as_float, float_type
from .backprop import vjp_pass
from .graph import Graph, Node
from .registry import REGISTRY


def jvp_pass(graph: Graph, values: dict, tangents: dict) -> np.ndarray:
    """Forward mode: the output's tangent when each input in `tangents` moves along its
    tangent (same shape as the input) and every other input stays put (tangent 0)."""
    carried = {name: as_float(t) for name, t in tangents.items()}
    with np.errstate(all="ignore"):
        for node in graph.ops:
            tangent = node_tangent(node, values, carried)
            if tangent is not None:
                carried[node.id] = tangent
    if graph.output in carried:
        return np.asarray(carried[graph.output])
    output = values[graph.output]
    return np.zeros(np.shape(output), dtype=float_type(output))


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
    tangent = np.asarray(op.jvp(incoming, inputs, out, dict(node.attrs)), dtype=float_type(out))
    # a scalar tangent (a 0 from a rule) spreads over the output; a batch of tangents (one per
    # column of a Jacobian, along a leading axis) keeps its batch axis
    return np.broadcast_to(tangent, np.broadcast_shapes(tangent.shape, np.shape(out)))


class TangentStep(NamedTuple):
    node: str
    op: str
    inputs: tuple[str, ...]
    input_values: tuple[np.ndarray, ...]
    value: np.ndarray
    input_tangents: tuple[np.ndarray | None, ...]  # None for constants (and untaken inputs)
    locals: tuple[np.ndarray | None, ...] | None  # elementwise ops: ∂h/∂a_i; None otherwise
    tangent: np.ndarray | None  # None where the node does not depend on the seeded input
    attrs: tuple = ()


class ForwardModeTrace(NamedTuple):
    input: str  # the seeded input
    seed: np.ndarray  # its tangent
    steps: tuple[TangentStep, ...]
    derivative: np.ndarray  # the output's tangent: ∂f/∂x along the seed
    reverse: np.ndarray | None  # backprop's grad_x · ẋ (scalar outputs only), to compare


def forward_mode_trace(graph: Graph, values: dict, wrt_input: str,
                       tangent=None) -> ForwardModeTrace:
    """One forward-mode pass seeded at `wrt_input` (tangent all-ones by default), recording
    every op node's value and tangent in forward order."""
    seed = np.ones(np.shape(values[wrt_input])) if tangent is None else \
        np.broadcast_to(np.asarray(tangent, dtype=np.float64), np.shape(values[wrt_input]))
    carried = {wrt_input: seed}
    steps = []
    with np.errstate(all="ignore"):
        for node in graph.ops:
            incoming = incoming_tangents(node, carried)
            tangent_here = node_tangent(node, values, carried)
            if tangent_here is not None:
                carried[node.id] = tangent_here
            steps.append(_step(graph, node, values, incoming, tangent_here))
    derivative = carried.get(graph.output, np.zeros(np.shape(values[graph.output])))
    return ForwardModeTrace(wrt_input, seed, tuple(steps), np.asarray(derivative),
                            _reverse_directional(graph, values, wrt_input, seed))


def _step(graph: Graph, node, values, incoming, tangent) -> TangentStep:
    op = REGISTRY[node.op]
    inputs = tuple(values[source] for source in node.inputs)
    out = values[node.id]
    shown = tuple(_shown_tangent(graph, source, t, values) if op.takes_gradient(i) else None
                  for i, (source, t) in enumerate(zip(node.inputs, incoming)))
    locals_ = None
    if op.elementwise and tangent is not None:
        locals_ = tuple(op.local(i, inputs, out, dict(node.attrs)) if t is not None else None
                        for i, t in enumerate(shown))
    return TangentStep(node.id, node.op, node.inputs, inputs, out, shown, locals_, tangent,
                       node.attrs)


def _shown_tangent(graph: Graph, source: str, tangent, values):
    """Zero tangents are written out (ẋ0 = 0) for everything but constants, whose tangent is
    0 by definition and left out of the narration."""
    if tangent is not None or graph.by_id[source].kind == "const":
        return tangent
    return np.zeros(np.shape(values[source]))


def _reverse_directional(graph: Graph, values, name: str, seed) -> np.ndarray | None:
    """Backprop's answer for the same number, when the output is a scalar: grad_x · ẋ."""
    if np.ndim(values[graph.output]) != 0:
        return None  # a vector output needs one backward pass per element
    with np.errstate(all="ignore"):
        grad = vjp_pass(graph, values, np.ones(()), (name,))[name]
        return np.asarray(np.sum(grad * seed))


class ForwardModeReport(NamedTuple):
    expression: str
    graph: Graph
    values: dict  # every node's forward value
    defaults: tuple[str, ...]  # inputs that got a seeded default value
    passes: tuple[ForwardModeTrace, ...]  # one per input differentiated
    differentiable: tuple[str, ...] = ()  # every input with a differentiable path to f

    @property
    def ok(self) -> bool:
        """True when the value and every derivative are finite: exit code 0."""
        arrays = [self.values[self.graph.output]] + [one.derivative for one in self.passes]
        return all(np.all(np.isfinite(array)) for array in arrays)
