"""Optimisers walking down a function of two variables, for `gradtrace optimize`.

The function is a graph (gradtrace.expr builds it from the expression); its gradient at each point comes from
gradtrace's own reverse pass (`vjp_pass`), and each step from `gradtrace.optim`'s update rules,
so the paths drawn are exactly what those optimisers do.

Default learning rates are those of the notes' source, Saito's 《深度学习入门》 §6.1.7
(optimizer_compare_naive.py): f(x, y) = x²/20 + y², start (-7, 2), 30 steps, SGD 0.95,
Momentum 0.1, AdaGrad 1.5, Adam 0.3.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.backprop import evaluate, vjp_pass
from ..core.errors import UsageError
from ..core.i18n import _
from ..core.graph import Graph
from ..nn import Parameter
from .training import make_optimiser

PROGRESS_EVERY = 10  # updates between two calls of descend's progress
DIVERGED_ABOVE = 1e6  # |f| this many times its start (or 1) means the path has run away
DEFAULT_LR = {"sgd": 0.95, "momentum": 0.1, "nesterov": 0.1, "adagrad": 1.5, "rmsprop": 0.1,
              "adam": 0.3, "adamw": 0.3}  # every optimiser of training.optimisers() (a test)


class Surface:
    """f(u, v) from a graph with exactly two inputs (in order of first use)."""

    def __init__(self, graph: Graph, expression: str):
        self.graph = graph
        if len(self.graph.inputs) != 2:
            raise UsageError(_("needs a function of two variables; {expression!r} has {count}: {inputs}",
                               expression=expression, count=len(self.graph.inputs),
                               inputs=", ".join(self.graph.inputs) or _("none")),
                             "expression")
        self.names = self.graph.inputs

    def _at(self, u, v) -> dict:
        return dict(zip(self.names, (np.asarray(u, dtype=np.float64),
                                     np.asarray(v, dtype=np.float64))))

    def value(self, u, v) -> np.ndarray:
        """f at each point of the (broadcast) arrays u, v."""
        values = evaluate(self.graph, self._at(u, v))
        return np.broadcast_to(values[self.graph.output], np.broadcast(u, v).shape)

    def gradient(self, point: np.ndarray) -> np.ndarray:
        """∇f at one point (2,), by gradtrace's reverse pass."""
        values = evaluate(self.graph, self._at(point[0], point[1]))
        grads = vjp_pass(self.graph, values, 1.0, self.names)
        return np.array([float(grads[name]) for name in self.names])


@dataclass(frozen=True)
class Path:
    optimiser: str
    lr: float
    points: np.ndarray  # (steps + 1, 2): the start, then the point after each step
    values: np.ndarray  # f at each point

    @property
    def final(self) -> np.ndarray:
        return self.points[-1]

    @property
    def diverged_at(self) -> int | None:
        """The first step after which the path has run away: f or the point stopped being
        finite, or |f| grew past DIVERGED_ABOVE times where it started (at least 1). None when
        it did not."""
        start = max(1.0, abs(float(self.values[0])))
        with np.errstate(all="ignore"):
            away = (~np.isfinite(self.values) | ~np.all(np.isfinite(self.points), axis=1)
                    | (np.abs(self.values) > DIVERGED_ABOVE * start))
        steps = np.flatnonzero(away)
        return int(steps[0]) if steps.size else None

    def reversals(self, axis: int) -> int:
        """How often the path turns back along `axis` (a step's sign there differs from the
        previous step's): the zig-zag count, whatever the minimum."""
        signs = np.sign(np.diff(self.points[:, axis]))
        return int(np.sum(signs[1:] * signs[:-1] < 0))


def descend(surface: Surface, optimiser: str, lr: float, start, steps: int,
            progress=None) -> Path:
    """Run `steps` updates of `optimiser` from `start` and record every point; `progress(n)`
    is told after every PROGRESS_EVERY updates (timing, refusing, a bar: the CLI's)."""
    point = Parameter(np.array(start, dtype=np.float64), name="p")
    rule = make_optimiser(optimiser, [point], lr)
    points = [point.value.copy()]
    with np.errstate(all="ignore"):  # a diverging path shows as inf/nan in the table instead
        for done in range(1, steps + 1):
            point.grad = surface.gradient(point.value)
            rule.step()
            points.append(point.value.copy())
            if progress is not None and done % PROGRESS_EVERY == 0:
                progress(PROGRESS_EVERY)
    points = np.array(points)
    return Path(optimiser, lr, points, surface.value(points[:, 0], points[:, 1]))
