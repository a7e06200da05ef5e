"""Forward mode, recorded for narration: tangents flowing with the values.

Seed one input x with a tangent ẋ (1 for a scalar, all-ones for an array) and every other input
with 0; each node's tangent is then its derivative along that direction, computed in the same
sweep as its value: ḣ = Σ_i ∂h/∂a_i · ȧ_i (elementwise ops: their local derivatives times the
inputs' tangents; the others: their JVP). At the output, the tangent is ∂f/∂x for a scalar x —
one pass per input, where one backward pass gives every input's gradient at once.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .graph import Graph
from .ops import REGISTRY
from .passes import incoming_tangents, node_tangent, vjp_pass


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


class ForwardModeReport(NamedTuple):
    expression: str
    graph: Graph
    values: dict  # every node's forward value
    defaults: tuple[str, ...]  # inputs that got a seeded default value
    passes: tuple[ForwardModeTrace, ...]  # one per input differentiated
    differentiable: tuple[str, ...] = ()  # every input with a differentiable path to f


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
        locals_ = tuple(op.local(i, inputs, out) if t is not None else None
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


def explain_forward(expression: str, at: dict | None = None, wrt=None, *, seed: int = 0,
                    fuse: bool = False) -> ForwardModeReport:
    """Forward mode for `expression` at `at`: one recorded pass per input (or per --wrt
    input) that the output depends on."""
    from .backprop import evaluate, reaches_output
    from .explain import build_graph
    from .values import parse_wrt, resolve_point

    graph = build_graph(expression, fuse)
    point, defaults = resolve_point(graph, dict(at or {}), seed)
    names = parse_wrt(wrt if isinstance(wrt, str) or wrt is None else ",".join(wrt), graph)
    reached = reaches_output(graph)
    differentiable = tuple(name for name in graph.inputs if name in reached)
    names = tuple(name for name in differentiable if names is None or name in names)
    values = evaluate(graph, point)
    passes = tuple(forward_mode_trace(graph, values, name) for name in names)
    return ForwardModeReport(graph.expression, graph, values, defaults, passes, differentiable)
