"""The chain rule written out path by path: d output / d input is the sum, over every path from
the output down to the input, of the product of the local derivatives along that path.

This reads only the trace's backward steps. The number of paths can grow exponentially with
fan-out, so paths are counted exactly but listed only up to a limit.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..core.trace import BackwardStep, Trace


class Path(NamedTuple):
    edges: tuple[BackwardStep, ...]  # from the output down to the input

    @property
    def nodes(self) -> tuple[str, ...]:
        return tuple(step.node for step in self.edges) + (self.edges[-1].input,)

    @property
    def product(self) -> float:
        return float(np.prod([float(step.local) for step in self.edges]))


class PathIndex(NamedTuple):
    """What listing paths needs, built once per trace (not once per input)."""

    leaving: dict[str, list[BackwardStep]]  # node → steps sending gradient from it to an input
    entering: dict[str, list[str]]  # input → the nodes that send it gradient
    counts: dict[str, int]  # node → how many paths lead from the output to it (exact)


def path_index(trace: Trace) -> PathIndex:
    leaving: dict[str, list[BackwardStep]] = {}
    entering: dict[str, list[str]] = {}
    counts: dict[str, int] = {trace.output: 1}
    for step in trace.backward:  # the steps run in reverse topological order of their nodes
        leaving.setdefault(step.node, []).append(step)
        entering.setdefault(step.input, []).append(step.node)
        counts[step.input] = counts.get(step.input, 0) + counts.get(step.node, 0)
    return PathIndex(leaving, entering, counts)


def chain_paths(trace: Trace, name: str, limit: int = 12,
                index: PathIndex | None = None) -> tuple[list[Path], int]:
    """Up to `limit` paths from the output to `name`, and how many there are in all.
    Only for scalar traces: the local derivatives must be numbers to multiply."""
    index = index or path_index(trace)
    above = _reaching(index.entering, name)  # the walk down never enters a dead end
    found: list[Path] = []
    # Each stack entry carries its path as a linked list (step, rest): extending a path is
    # then one small tuple, not a copy of the whole path.
    stack: list[tuple[str, tuple | None]] = [(trace.output, None)]
    while stack and len(found) < limit:
        node, path = stack.pop()
        if node == name and path is not None:
            found.append(Path(_unlinked(path)))
            continue
        for step in reversed(index.leaving.get(node, [])):
            if step.input in above:
                stack.append((step.input, (step, path)))
    return found, index.counts.get(name, 0)


def _unlinked(path: tuple) -> tuple[BackwardStep, ...]:
    """A linked path (last step, (previous step, (...))) as a tuple from the output down."""
    steps = []
    while path is not None:
        step, path = path
        steps.append(step)
    return tuple(reversed(steps))


def _reaching(entering: dict[str, list[str]], name: str) -> set[str]:
    """`name` and every node from which gradient flows down to it."""
    found = {name}
    stack = [name]
    while stack:
        for node in entering.get(stack.pop(), ()):
            if node not in found:
                found.add(node)
                stack.append(node)
    return found
