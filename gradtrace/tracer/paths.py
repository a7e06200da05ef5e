"""The chain rule written out path by path: d output / d input is the sum, over every path from
the output down to the input, of the product of the local derivatives along that path.

This reads only the trace's backward steps. The number of paths can grow exponentially with
fan-out, so paths are counted exactly but listed only up to a limit.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .trace import BackwardStep, Trace


class Path(NamedTuple):
    edges: tuple[BackwardStep, ...]  # from the output down to the input

    @property
    def nodes(self) -> tuple[str, ...]:
        return tuple(step.node for step in self.edges) + (self.edges[-1].input,)

    @property
    def product(self) -> float:
        return float(np.prod([float(step.local) for step in self.edges]))


def _edges_into(trace: Trace) -> dict[str, list[BackwardStep]]:
    """For each node, the backward steps leaving it (gradient flowing from it to an input)."""
    leaving: dict[str, list[BackwardStep]] = {}
    for step in trace.backward:
        leaving.setdefault(step.node, []).append(step)
    return leaving


def count_paths(trace: Trace, name: str) -> int:
    """How many distinct paths lead from the output to `name` (exact, however many)."""
    counts: dict[str, int] = {trace.output: 1}
    for step in trace.backward:  # the steps run in reverse topological order of their nodes
        counts[step.input] = counts.get(step.input, 0) + counts.get(step.node, 0)
    return counts.get(name, 0)


def chain_paths(trace: Trace, name: str, limit: int = 12) -> tuple[list[Path], int]:
    """Up to `limit` paths from the output to `name`, and how many there are in all.
    Only for scalar traces: the local derivatives must be numbers to multiply."""
    total = count_paths(trace, name)
    leaving = _edges_into(trace)
    found: list[Path] = []
    stack: list[tuple[str, tuple[BackwardStep, ...]]] = [(trace.output, ())]
    while stack and len(found) < limit:
        node, edges = stack.pop()
        if node == name and edges:
            found.append(Path(edges))
            continue
        for step in reversed(leaving.get(node, [])):
            stack.append((step.input, edges + (step,)))
    return found, total
