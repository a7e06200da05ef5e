"""The stories of `gradtrace train` (loss and accuracy every K epochs) and `gradtrace optimize`
(where each optimiser ended and how often it turned back)."""

from __future__ import annotations

import math

from ..core.i18n import N_, _, ngettext
from .blocks import Section, Table
from .lines import Line
from .numbers import fmt


def train_sections(run) -> list[Section]:
    history = run.history
    rows = tuple((str(epoch), f"{history.losses[epoch - 1]:.4g}",
                  f"{history.accuracies[epoch - 1]:.1%}") for epoch in run.shown)
    table = Table((_("epoch"), _("loss"), _("accuracy")), ("number", "number", "number"), rows)
    title = ngettext("{data}, layers {sizes}: {epochs} epoch", "{data}, layers {sizes}: {epochs} "
                     "epochs", len(history.losses), data=run.data,
                     sizes="-".join(map(str, run.sizes)), epochs=len(history.losses))
    blocks: list = [table]
    epoch = history.diverged_at
    if epoch is not None:
        loss = history.losses[epoch - 1]
        said = _("training diverged at epoch {epoch}: loss = {value} (it started at {start})",
                 epoch=epoch, value=fmt(loss, 4), start=fmt(history.losses[0], 4))
        if not math.isfinite(loss):
            said = _("{said}; the epochs after it were not run", said=said)
        if run.lr is not None:
            said = _("{said}; try a smaller --lr than {lr}", said=said, lr=f"{run.lr:g}")
        blocks.append((Line(((said, ""),), warning=_("diverged")),))
    return [Section(title, tuple(blocks), "training")]


def _diverged_said(path) -> str:
    """Why a path ran away: too large a step (its point overflowed, or f grew), or a step out
    of f's domain (a finite point where f is nan: sqrt or log of a negative number), where a
    smaller rate only delays it."""
    step = path.diverged_at
    point, value = path.points[step], path.values[step]
    if math.isnan(value) and all(math.isfinite(c) for c in point):
        return _("{optimiser} left the domain of f at step {step}: f is nan at ({x}, {y}) (it "
                 "started at {start}); a smaller --lr only delays it while the path heads there",
                 optimiser=path.optimiser, step=step, x=fmt(point[0], 4), y=fmt(point[1], 4),
                 start=fmt(path.values[0], 4))
    return _("{optimiser} diverged at step {step}: f = {value} (it started at {start}); try "
             "a smaller --lr than {lr}", optimiser=path.optimiser, step=step,
             value=fmt(value, 4), start=fmt(path.values[0], 4), lr=f"{path.lr:g}")


NESTEROV_FORM = N_("nesterov here is PyTorch's form (nesterov=True, after Sutskever): v ← α·v − "
                   "ε·g; θ ← θ + α·v − ε·g, with the new v. The Nesterov class of 《深度学习入门》 "
                   "steps θ ← θ + α²·v − (1 + α)·ε·g instead, with α² on the new v: a different "
                   "path from the same start.")


def optimize_sections(surface, paths) -> list[Section]:
    u, v = surface.names
    header = (_("optimiser"), "lr", _("final {name}", name=u), _("final {name}", name=v),
              _("f(final)"), _("turns in {name}", name=u), _("turns in {name}", name=v))
    rows = tuple((p.optimiser, f"{p.lr:g}", fmt(p.final[0], 4), fmt(p.final[1], 4),
                  fmt(p.values[-1], 4), str(p.reversals(0)), str(p.reversals(1)))
                 for p in paths)
    steps = len(paths[0].points) - 1
    start = paths[0].points[0]
    title = ngettext("{steps} step on f({u}, {v}) = {expression} from ({x}, {y})",
                     "{steps} steps on f({u}, {v}) = {expression} from ({x}, {y})", steps,
                     steps=steps, u=u, v=v, expression=surface.graph.expression,
                     x=f"{start[0]:g}", y=f"{start[1]:g}")
    table = Table(header, ("name",) + ("number",) * (len(header) - 1), rows)
    blocks: list = [table]
    diverged = tuple(Line(((_diverged_said(p), ""),), warning=_("diverged"))
                     for p in paths if p.diverged_at is not None)
    if diverged:
        blocks.append(diverged)
    if any(p.optimiser == "nesterov" for p in paths):
        blocks.append(_(NESTEROV_FORM))
    return [Section(title, tuple(blocks), "optimize")]
