"""The three-way comparison at many seeded random points (`gradtrace check`), and hand-written
gradient formulas ("claims") checked against the traced gradients at the same points."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from ..core import plugins
from ..core.backprop import evaluate, trace_graph
from ..core.errors import UsageError
from ..core.graph import Graph
from ..core.i18n import _, language
from .gradients import NOT_CHECKED, check_gradients
from .symbolic import symbolic_leg

CLAIM_RTOL, CLAIM_ATOL = 1e-6, 1e-9
STATUSES = ("agree", "kink", "disagree", "not finite", NOT_CHECKED)


@dataclass
class InputSummary:
    name: str
    symbolic_expr: str | None = None
    counts: dict = field(default_factory=lambda: {status: 0 for status in STATUSES})
    max_numeric_error: float = 0.0
    max_symbolic_error: float = 0.0
    first_disagreement: dict | None = None  # the point, for reproducing it with --at


@dataclass
class ClaimSummary:
    name: str
    formula: str
    agree: int = 0
    disagree: int = 0
    not_finite: int = 0
    first_disagreement: dict | None = None  # point, traced and claimed values

    @property
    def holds(self) -> bool:
        """Agrees wherever both are finite, and at one point at least (a claim that is never
        finite, such as 1e999, holds nowhere)."""
        return self.disagree == 0 and self.agree > 0


@dataclass
class SamplingReport:
    expression: str
    samples: int
    seed: int
    low: float
    high: float
    fixed: dict
    symbolic_note: str
    inputs: list[InputSummary]
    claims: list[ClaimSummary]

    @property
    def ok(self) -> bool:
        """No check disagreed, no gradient was inf or nan, and every claim held."""
        bad = any(s.counts["disagree"] or s.counts["not finite"] for s in self.inputs)
        return not bad and all(claim.holds for claim in self.claims)

    def to_text(self, precision: int = 2, lang: str | None = None) -> str:
        """The report as `gradtrace check --format text` prints it; `lang` as Trace.to_text."""
        with language(lang):
            return plugins.renderer("check_text")(self, precision=precision)


class Claim(NamedTuple):
    """A hand-derived gradient: d output / d `name` = `formula` (text, and its graph)."""

    name: str
    formula: str
    graph: Graph


def check_graph_at_random_points(graph: Graph, samples: int, seed: int = 0, low: float = -2.0,
                                 high: float = 2.0, fixed: dict | None = None, wrt=None,
                                 claims: list[Claim] = (), progress=None) -> SamplingReport:
    """Trace and check `graph` at `samples` random points (inputs uniform in [low, high],
    except those in `fixed`). `progress()` is called once per point, for a progress bar."""
    if samples < 1:
        raise UsageError(_("must be at least 1"), "samples")
    for name, bound in (("low", low), ("high", high)):
        if not np.isfinite(bound):
            raise UsageError(_("must be a finite number, not {bound}", bound=repr(bound)), name)
    if not low < high:
        raise UsageError(_("must be below --high ({low} ≥ {high})", low=repr(low),
                           high=repr(high)), "low")
    if not np.isfinite(high - low):  # numpy's uniform draws low + (high − low)·u
        raise UsageError(_("the range [{low}, {high}] is wider than the largest float; pick "
                           "bounds closer together", low=repr(low), high=repr(high)), "low")
    fixed = dict(fixed or {})
    rng = np.random.default_rng(seed)
    summaries: dict[str, InputSummary] = {}
    claim_summaries = [ClaimSummary(claim.name, claim.formula) for claim in claims]
    derivatives, note = None, ""
    # a claimed gradient is traced even when `wrt` leaves its input out (a claim about y with
    # --wrt x had been compared with nothing and called wrong); the checks report `wrt` alone
    asked = None if wrt is None else ((wrt,) if isinstance(wrt, str) else tuple(wrt))
    traced = asked if asked is None else asked + tuple(
        dict.fromkeys(claim.name for claim in claims if claim.name not in asked))
    for _sample in range(samples):
        point = {name: np.asarray(fixed[name] if name in fixed else rng.uniform(low, high))
                 for name in graph.inputs}
        trace = trace_graph(graph, point, wrt=traced)
        if derivatives is None:  # SymPy differentiates once, at the first point
            derivatives, note = symbolic_leg(trace)
            summaries = {name: InputSummary(name, derivatives.get(name, (None,))[0])
                         for name in trace.wrt if asked is None or name in asked}
        for check in check_gradients(trace, derivatives, note):
            if check.input in summaries:
                _count(summaries[check.input], check, point)
        for summary, claim in zip(claim_summaries, claims):
            _count_claim(summary, trace.by_id[claim.name].grad, claim.graph, point)
        if progress is not None:
            progress()
    return SamplingReport(graph.expression, samples, seed, low, high, _plain_point(fixed), note,
                          list(summaries.values()), claim_summaries)


def _plain_point(point: dict) -> dict:
    """Each value as a Python number, or nested lists for an array (what JSON and --at read)."""
    return {name: np.asarray(value, dtype=np.float64).tolist() for name, value in point.items()}


def _count(summary: InputSummary, check, point):
    summary.counts[check.status] += 1
    if check.status in ("not finite", NOT_CHECKED):
        return
    if check.numeric is not None:
        summary.max_numeric_error = max(summary.max_numeric_error,
                                        _largest_difference(check.traced, check.numeric))
    if check.symbolic is not None and np.all(np.isfinite(check.symbolic)):
        summary.max_symbolic_error = max(summary.max_symbolic_error,
                                         _largest_difference(check.traced, check.symbolic))
    if check.status == "disagree" and summary.first_disagreement is None:
        summary.first_disagreement = _plain_point(point)


def _largest_difference(traced, other) -> float:
    """The largest |traced − other| where other has a value (finite differences may have
    none for some elements: nan)."""
    difference = np.abs(np.asarray(traced, dtype=np.float64) - np.asarray(other, dtype=np.float64))
    compared = difference[~np.isnan(np.asarray(other, dtype=np.float64))]
    return float(np.max(compared, initial=0.0))


def _count_claim(summary: ClaimSummary, traced, claim_graph, point):
    claimed = evaluate(claim_graph, {n: point[n] for n in claim_graph.inputs})[claim_graph.output]
    traced, claimed = np.asarray(traced, dtype=np.float64), np.asarray(claimed, dtype=np.float64)
    if claimed.shape != traced.shape:
        try:
            claimed = np.broadcast_to(claimed, traced.shape)
        except ValueError:
            raise UsageError(_("the formula for {name} ({formula}) has shape {claimed}, but "
                               "∂f/∂{name} has shape {traced}", name=summary.name,
                               formula=summary.formula, claimed=claimed.shape,
                               traced=traced.shape), "claim") from None
    if not (np.all(np.isfinite(traced)) and np.all(np.isfinite(claimed))):
        summary.not_finite += 1
        return
    if np.allclose(traced, claimed, rtol=CLAIM_RTOL, atol=CLAIM_ATOL):
        summary.agree += 1
        return
    summary.disagree += 1
    if summary.first_disagreement is None:
        summary.first_disagreement = {"at": _plain_point(point), "traced": traced.tolist(),
                                      "claimed": claimed.tolist()}
