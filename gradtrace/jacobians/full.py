"""The whole Jacobian d output / d input of a graph, built twice and timed: in reverse mode (one
VJP per output element) and in forward mode (one JVP per input element), the textbook reason
reverse mode wins for a scalar loss over many parameters.
"""

from __future__ import annotations

import time
from typing import NamedTuple

import numpy as np

from ..core.backprop import evaluate, vjp_pass
from ..core.errors import UsageError
from ..core.forward_mode import jvp_pass
from ..core.graph import Graph
from ..core.i18n import _
from .local import _max_abs
from .structure import classify


class FullJacobian(NamedTuple):
    expression: str
    wrt: str
    output_shape: tuple[int, ...]
    input_shape: tuple[int, ...]
    reverse: np.ndarray  # (output size × input size), built one VJP per output element
    forward: np.ndarray  # the same matrix, built one JVP per input element
    reverse_passes: int
    forward_passes: int
    reverse_seconds: float
    forward_seconds: float
    max_difference: float  # max |reverse − forward|
    structure: str = ""  # the full Jacobian's structure, as for a JacobianView
    description: str = ""  # what that structure means, in a sentence
    density: float = 0.0  # fraction of non-zero entries


MAX_FULL_ENTRIES = 4_000_000  # gradtrace jacobian refuses larger Jacobians


def full_jacobian(graph: Graph, values: dict, wrt: str, expression: str | None = None,
                  progress=None) -> FullJacobian:
    """d output / d wrt as an (output size × input size) matrix, built twice and timed:
    reverse mode, one VJP per output element (seed e_i), and forward mode, one JVP per input
    element (tangent e_j). `values` holds every node's forward value (or just the inputs').
    `progress(done, total=...)` is called after each pass (a progress bar, a time budget)."""
    if wrt not in graph.inputs:
        raise UsageError(_("{name} is not an input; the expression's inputs are {inputs}",
                           name=wrt, inputs=", ".join(graph.inputs)), "wrt")
    if graph.output not in values:
        values = evaluate(graph, values)
    output_shape, input_shape = np.shape(values[graph.output]), np.shape(values[wrt])
    m, n = int(np.prod(output_shape, dtype=np.int64)), int(np.prod(input_shape, dtype=np.int64))
    if m * n > MAX_FULL_ENTRIES:
        raise UsageError(_("the Jacobian would have {m} × {n} = {entries} entries, more than "
                           "{limit}: pick a smaller input or output", m=f"{m:,}", n=f"{n:,}",
                           entries=f"{m * n:,}", limit=f"{MAX_FULL_ENTRIES:,}"))
    tick = _counter(progress, m + n)
    start = time.perf_counter()
    reverse = _reverse_rows(graph, values, wrt, output_shape, n, tick)
    middle = time.perf_counter()
    forward = _forward_columns(graph, values, wrt, input_shape, m, tick)
    end = time.perf_counter()
    with np.errstate(invalid="ignore"):
        difference = _max_abs(reverse - forward)
    structure, text = classify(reverse)
    density = float(np.count_nonzero(reverse) / reverse.size) if reverse.size else 0.0
    return FullJacobian(expression or graph.expression, wrt, output_shape, input_shape, reverse,
                        forward, m, n, middle - start, end - middle, difference, structure,
                        text, density)


def _counter(progress, total: int):
    """A function to call after each pass: counts them for `progress`, if any."""
    done = [0]

    def tick() -> None:
        done[0] += 1
        if progress is not None:
            progress(done[0], total=total)

    return tick


def _reverse_rows(graph, values, wrt, output_shape, n, tick) -> np.ndarray:
    m = int(np.prod(output_shape, dtype=np.int64))
    rows = np.empty((m, n))
    seed = np.zeros(m)
    for i in range(m):
        seed[i] = 1.0
        rows[i] = vjp_pass(graph, values, seed.reshape(output_shape), (wrt,))[wrt].ravel()
        seed[i] = 0.0
        tick()
    return rows


def _forward_columns(graph, values, wrt, input_shape, m, tick) -> np.ndarray:
    n = int(np.prod(input_shape, dtype=np.int64))
    columns = np.empty((m, n))
    tangent = np.zeros(n)
    for j in range(n):
        tangent[j] = 1.0
        columns[:, j] = jvp_pass(graph, values, {wrt: tangent.reshape(input_shape)}).ravel()
        tangent[j] = 0.0
        tick()
    return columns


class JacobianReport(NamedTuple):
    jacobian: FullJacobian
    graph: Graph
    values: dict  # every node's forward value
    defaults: tuple[str, ...]  # inputs that got a seeded default value
