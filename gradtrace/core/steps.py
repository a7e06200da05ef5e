"""The step-by-step records of a trace, written from the values and gradients the engine kept.

The engine (backprop.py) does only the arithmetic: forward values, one gradient per edge and the
running totals. Everything a reader is shown on top of that (each step's inputs, the local
derivative as a formula with its bindings, its value, where a value first stops being finite,
kinks) is built here, the first time a renderer or checker reads `Trace.forward` or
`Trace.backward`. A training loop that only wants `.grad` never pays for it.
"""

from __future__ import annotations

import string

import numpy as np

from .graph import Graph, Node
from .i18n import data, message
from .arrays import same_width
from .registry import REGISTRY, attribute_texts, with_defaults
from .trace import BackwardStep, ForwardStep, GradientFlow

_FORMATTER = string.Formatter()
SHOWN_LOCAL_LIMIT = 4096  # elements; beyond this the narration summarises, so skip the work


def all_finite(array) -> bool:
    """No inf or nan anywhere. A finite sum proves it without a boolean array as large as the
    input (any inf or nan makes the sum inf or nan); only a sum that overflows needs the full
    look."""
    array = np.asarray(array)
    if array.dtype.kind not in "fc":
        return True
    with np.errstate(all="ignore"):
        if np.isfinite(array.sum()):
            return True
    return bool(np.all(np.isfinite(array)))


def forward_steps(graph: Graph, values: dict) -> tuple[ForwardStep, ...]:
    steps = []
    with np.errstate(all="ignore"):
        for node in graph.ops:
            op = REGISTRY[node.op]
            inputs = same_width(tuple(values[source] for source in node.inputs))
            value = values[node.id]
            problem = None
            if not all_finite(value) and all(all_finite(x) for x in inputs):
                problem = (op.trouble(*inputs) if op.trouble else None) or message(
                    "the result is not finite")
            kink = op.kink_rule if op.at_kink(inputs, dict(node.attrs)) else None
            steps.append(ForwardStep(node.id, node.op, node.inputs, inputs, value, problem, kink,
                                     node.attrs))
    return tuple(steps)


def backward_steps(graph: Graph, values: dict, records: dict,
                   flows: tuple[GradientFlow, ...]) -> tuple[BackwardStep, ...]:
    """One record per gradient that travelled an edge, in the order the engine sent them. The
    upstream gradient of a node is its final gradient: every consumer had sent its share before
    the node was reached (reverse topological order)."""
    steps = []
    by_id = graph.by_id
    arrivals: dict[str, int] = {}
    with np.errstate(all="ignore"):
        for flow in flows:
            arrival = arrivals[flow.input] = arrivals.get(flow.input, 0) + 1
            node = by_id[flow.node]
            op = REGISTRY[node.op]
            inputs = same_width(tuple(values[source] for source in node.inputs))
            out, upstream = values[node.id], records[node.id].grad
            downstream, total = np.asarray(flow.downstream), np.asarray(flow.total)
            formula, bindings = _formula(op.formulas[flow.index], node, graph, values)
            problem = None
            if not all_finite(downstream) and all_finite(upstream) and all(
                    all_finite(x) for x in inputs):
                problem = message("the local derivative {formula} is not finite here",
                                  formula=formula)
            steps.append(BackwardStep(
                node=node.id, input=flow.input, index=flow.index, op=node.op, upstream=upstream,
                formula=formula, bindings=bindings,
                local=_shown_local(op, flow.index, inputs, out, node.attrs),
                downstream=downstream, total=total, arrival=arrival,
                gate=gate_of(op, node, flow.index, by_id), problem=problem,
            ))
    return tuple(steps)


def gate_of(op, node: Node, index: int, by_id: dict) -> str | None:
    """The pattern of the gradient `node` sends to its input `index`: the op's own, or the one
    it declares for that input, or for a constant beside it (2·x: a scaler)."""
    if op.constant_gate is not None and any(
            by_id[source].kind == "const" for other, source in enumerate(node.inputs)
            if other != index):
        return op.constant_gate
    if index < len(op.input_gates) and op.input_gates[index] is not None:
        return op.input_gates[index]
    return op.gate


def _shown_local(op, index: int, inputs: tuple, out: np.ndarray, attrs=()):
    """The local derivative's value for the narration: elementwise ops on arrays small enough
    to be shown (for big ones the VJP alone is recorded, as it is for Jacobians)."""
    if not op.elementwise or np.size(out) > SHOWN_LOCAL_LIMIT:
        return None
    return op.local(index, inputs, out, dict(attrs))


def _formula(template: str, node: Node, graph: Graph, values) -> tuple[str, tuple]:
    """Fill a registry formula with node names; constants are written as their values. A
    formula with words in it ("{g} to the largest element") is said in the current language."""
    template = data(template)
    names = {"out": node.id, "g": f"grad_{node.id}"}
    for key, source in zip("abcde", node.inputs):
        names[key] = source
    # attributes by name with their defaults (negative_slope), but {attrs} only as given
    texts = {**attribute_texts(with_defaults(REGISTRY[node.op], node.attrs)),
             **attribute_texts(node.attrs)}
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
