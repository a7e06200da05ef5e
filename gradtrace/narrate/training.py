"""The stories of `gradtrace train` (loss and accuracy every K epochs) and `gradtrace optimize`
(where each optimiser ended and how often it turned back)."""

from __future__ import annotations

from .blocks import Section, Table


def train_sections(run) -> list[Section]:
    history = run.history
    rows = tuple((str(epoch), f"{history.losses[epoch - 1]:.4g}",
                  f"{history.accuracies[epoch - 1]:.1%}") for epoch in run.shown)
    table = Table(("epoch", "loss", "accuracy"), ("number", "number", "number"), rows)
    title = f"{run.data}, layers {'-'.join(map(str, run.sizes))}: {len(history.losses)} epochs"
    return [Section(title, (table,))]


def optimize_sections(surface, paths) -> list[Section]:
    u, v = surface.names
    header = ("optimiser", "lr", f"final {u}", f"final {v}", "f(final)", f"turns in {u}",
              f"turns in {v}")
    rows = tuple((p.optimiser, f"{p.lr:g}", f"{p.final[0]:.4f}", f"{p.final[1]:.4f}",
                  f"{p.values[-1]:.4g}", str(p.reversals(0)), str(p.reversals(1)))
                 for p in paths)
    steps = len(paths[0].points) - 1
    start = paths[0].points[0]
    title = (f"{steps} steps on f({u}, {v}) = {surface.graph.expression} from "
             f"({start[0]:g}, {start[1]:g})")
    table = Table(header, ("name",) + ("number",) * (len(header) - 1), rows)
    return [Section(title, (table,))]
