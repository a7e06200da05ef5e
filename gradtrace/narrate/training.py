"""The stories of `gradtrace train` (loss and accuracy every K epochs) and `gradtrace optimize`
(where each optimiser ended and how often it turned back)."""

from __future__ import annotations

from .blocks import Section, Table
from .lines import Line
from .numbers import fmt


def train_sections(run) -> list[Section]:
    history = run.history
    rows = tuple((str(epoch), f"{history.losses[epoch - 1]:.4g}",
                  f"{history.accuracies[epoch - 1]:.1%}") for epoch in run.shown)
    table = Table(("epoch", "loss", "accuracy"), ("number", "number", "number"), rows)
    title = f"{run.data}, layers {'-'.join(map(str, run.sizes))}: {len(history.losses)} epochs"
    return [Section(title, (table,))]


NESTEROV_FORM = ("nesterov here is PyTorch's form (nesterov=True, after Sutskever): v ← α·v − ε·g; "
                 "θ ← θ + α·v − ε·g, with the new v. The Nesterov class of 《深度学习入门》 "
                 "steps θ ← θ + α²·v − (1 + α)·ε·g instead, with α² on the new v: a different "
                 "path from the same start.")


def optimize_sections(surface, paths) -> list[Section]:
    u, v = surface.names
    header = ("optimiser", "lr", f"final {u}", f"final {v}", "f(final)", f"turns in {u}",
              f"turns in {v}")
    rows = tuple((p.optimiser, f"{p.lr:g}", fmt(p.final[0], 4), fmt(p.final[1], 4),
                  fmt(p.values[-1], 4), str(p.reversals(0)), str(p.reversals(1)))
                 for p in paths)
    steps = len(paths[0].points) - 1
    start = paths[0].points[0]
    title = (f"{steps} steps on f({u}, {v}) = {surface.graph.expression} from "
             f"({start[0]:g}, {start[1]:g})")
    table = Table(header, ("name",) + ("number",) * (len(header) - 1), rows)
    blocks: list = [table]
    diverged = tuple(
        Line(((f"{p.optimiser} diverged at step {p.diverged_at}: f = "
               f"{fmt(p.values[p.diverged_at], 4)} (it started at {fmt(p.values[0], 4)}); try a "
               f"smaller --lr than {p.lr:g}", ""),), warning="diverged")
        for p in paths if p.diverged_at is not None)
    if diverged:
        blocks.append(diverged)
    if any(p.optimiser == "nesterov" for p in paths):
        blocks.append(NESTEROV_FORM)
    return [Section(title, tuple(blocks))]
