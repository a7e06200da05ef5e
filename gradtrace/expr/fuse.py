"""`--fuse`: the same computation with recognised composites collapsed into one gate.

The notes draw the sigmoid neuron at two granularities: five primitive gates, or one sigmoid
gate whose local gradient is σ(1−σ). Every one-input op of the registry that has a composite
and no attributes gives a pattern: its composite, recorded as a small graph (sigmoid's is
1/(1+exp(-z))). A pattern is collapsed only where its inner nodes feed nothing else, so the
fused graph computes the same values.
"""

from __future__ import annotations

import functools
import re

import numpy as np

from ..core.composite import composite_graph
from ..core.graph import Graph, Node
from ..ops import REGISTRY


@functools.cache
def patterns() -> tuple[tuple[str, tuple], ...]:
    """(fused op, pattern) for every op with a composite, one input and no attributes. A
    pattern is ("op", *argument patterns), a number (a constant of that value) or "z" (the
    op's input, the same node wherever it appears)."""
    found = []
    for op in REGISTRY.values():
        if op.composite is not None and op.arity == 1 and not op.attrs:
            graph, _ = composite_graph(op, (np.zeros(()),), {}, names=["z"])
            found.append((op.name, _pattern(graph, graph.output)))
    return tuple(found)


def _pattern(graph: Graph, node_id: str):
    node = graph.by_id[node_id]
    if node.kind == "input":
        return node_id
    if node.kind == "const":
        return float(node.value)
    return (node.op, *(_pattern(graph, source) for source in node.inputs))


def fuse(graph: Graph) -> Graph:
    """A new graph with every composite occurrence replaced by its fused op, renumbered."""
    consumers = graph.consumers
    replaced: dict[str, Node] = {}
    removed: set[str] = set()
    for node in graph.ops:
        if node.id in removed:
            continue
        for fused_op, pattern in patterns():
            match = _match(graph, consumers, node.id, pattern, root=True)
            if match is not None:
                bindings, interior = match
                replaced[node.id] = Node(node.id, "op", fused_op, (bindings["z"],))
                removed.update(interior)
                break
    if not replaced:
        return graph
    nodes = [replaced.get(node.id, node) for node in graph.nodes if node.id not in removed]
    return _renumber(graph, nodes)


def _match(graph, consumers, node_id, pattern, root=False):
    """(bindings, interior op nodes) if the subgraph at node_id has the pattern's shape."""
    node = graph.by_id[node_id]
    if isinstance(pattern, str):
        return {pattern: node_id}, []
    if isinstance(pattern, float):
        return ({}, []) if node.kind == "const" and node.value == pattern else None
    op, *arguments = pattern
    if node.kind != "op" or node.op != op or len(node.inputs) != len(arguments):
        return None
    if not root and len(consumers[node_id]) != 1:
        return None  # the inner value is used elsewhere: collapsing would hide it
    orders = [node.inputs]
    if REGISTRY[op].commutative:
        orders.append(tuple(reversed(node.inputs)))
    for inputs in orders:
        found = _match_all(graph, consumers, inputs, arguments)
        if found is not None:
            bindings, interior = found
            return bindings, interior + ([] if root else [node_id])
    return None


def _match_all(graph, consumers, inputs, arguments):
    bindings, interior = {}, []
    for source, argument in zip(inputs, arguments):
        found = _match(graph, consumers, source, argument)
        if found is None:
            return None
        for name, bound in found[0].items():
            if bindings.setdefault(name, bound) != bound:
                return None  # z must be one node wherever the pattern uses it (z·σ(z))
        interior += found[1]
    return bindings, interior


def _renumber(graph: Graph, nodes: list[Node]) -> Graph:
    """Give the numbered op nodes (h1, h2...) consecutive numbers again, keep the steps the
    expression named (q), and drop constants nothing reads any more."""
    numbered = re.compile(r"(\D+)\d+$")
    prefixes = {found.group(1) for node in graph.ops if (found := numbered.match(node.id))}
    names: dict[str, str] = {}
    count = 0
    for node in nodes:
        found = numbered.match(node.id) if node.kind == "op" else None
        if found and found.group(1) in prefixes and len(prefixes) == 1:
            count += 1
            names[node.id] = f"{found.group(1)}{count}"
    used = {source for node in nodes for source in node.inputs} | {graph.output}
    renamed = tuple(
        node._replace(id=names.get(node.id, node.id),
                      inputs=tuple(names.get(source, source) for source in node.inputs))
        for node in nodes if node.kind != "const" or node.id in used
    )
    return Graph(renamed, names.get(graph.output, graph.output), graph.expression)
