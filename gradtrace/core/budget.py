"""How much gradtrace may take before refusing: arrays checked before they are allocated, and
long work timed as it runs.

MAX_ELEMENTS (10,000,000 numbers, 80 MB in float64) bounds every array an input can make: a
value written with --at (randn(...), eye(n), arange...), and each op's result, estimated from
its inputs' shapes before it is computed (broadcasting, matrix products). A larger budget is
set with the environment variable GRADTRACE_MAX_ELEMENTS or, on the command line,
--max-elements. Work that would still run out of memory is caught and explained.

MAX_SECONDS (120 s) bounds repeated work whose length the input sets (epochs, Jacobian passes,
layers): a Pace times the first repetitions, predicts the whole from the measured rate, and
refuses the rest when it would take longer, saying how long it would take. GRADTRACE_MAX_SECONDS
or --max-seconds sets it. (The prediction depends on the machine, so only inputs far beyond
any course example ever meet it.)
"""

from __future__ import annotations

import math
import os
import time

from .errors import UsageError
from .i18n import _, ngettext

DEFAULT_MAX_ELEMENTS = 10_000_000
DEFAULT_MAX_SECONDS = 120.0


def max_elements() -> int:
    """The budget in numbers per array: GRADTRACE_MAX_ELEMENTS when set, else the default."""
    given = os.environ.get("GRADTRACE_MAX_ELEMENTS", "").replace("_", "").strip()
    try:
        return max(1, int(float(given))) if given else DEFAULT_MAX_ELEMENTS
    except ValueError:
        return DEFAULT_MAX_ELEMENTS


def size_text(elements: int, itemsize: int = 8) -> str:
    """12,000,000 elements (91.6 MB): a size people read."""
    megabytes = elements * itemsize / 2**20
    if megabytes >= 2**20:
        amount = f"{megabytes / 2**20:,.1f} TB"
    else:
        amount = (f"{megabytes / 1024:,.1f} GB" if megabytes >= 1024 else
                  f"{megabytes:,.1f} MB" if megabytes >= 0.1 else f"{megabytes * 1024:,.1f} KB")
    return ngettext("{count} element ({amount})", "{count} elements ({amount})", elements,
                    count=f"{elements:,}", amount=amount)


def over_budget(elements: int) -> str:
    """Why `elements` numbers are too many ("" when they fit the budget)."""
    limit = max_elements()
    if elements <= limit:
        return ""
    return _("{size}, more than the budget of {limit} per array (raise it with --max-elements "
             "or GRADTRACE_MAX_ELEMENTS)", size=size_text(elements), limit=f"{limit:,}")


WHOLE_FACTOR = 10  # work made of many arrays (a network's step) may hold this many budgets


def over_whole_budget(elements: int) -> str:
    """Why the arrays of one piece of work, `elements` numbers together, are too many ("" when
    they fit WHOLE_FACTOR budgets)."""
    limit = WHOLE_FACTOR * max_elements()
    if elements <= limit:
        return ""
    return _("{size} in all, more than {factor} times the budget of {limit} per array (raise "
             "it with --max-elements or GRADTRACE_MAX_ELEMENTS)", size=size_text(elements),
             factor=WHOLE_FACTOR, limit=f"{max_elements():,}")


def max_seconds() -> float:
    """The time budget of long work: GRADTRACE_MAX_SECONDS when set, else the default."""
    given = os.environ.get("GRADTRACE_MAX_SECONDS", "").strip()
    try:
        seconds = float(given) if given else DEFAULT_MAX_SECONDS
    except ValueError:
        return DEFAULT_MAX_SECONDS
    return seconds if seconds > 0 and not math.isnan(seconds) else DEFAULT_MAX_SECONDS


def duration_text(seconds: float) -> str:
    """4 min 10 s, 2.5 s, 3 h 20 min: a time people read."""
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes = seconds / 60
    if minutes < 60:
        rest = int(seconds % 60)
        return f"{int(minutes)} min {rest} s" if rest else f"{int(minutes)} min"
    hours = minutes / 60
    if hours < 48:
        return f"{int(hours)} h {int(minutes % 60)} min"
    return _("{days} days", days=f"{hours / 24:,.0f}")


class TooLong(UsageError):
    """Work that would take longer than the time budget, refused (exit 2)."""


class Pace:
    """Times `total` repetitions of some work (epochs, passes, layers) as they run.

    Call `done(count)` after each; once MEASURE_SECONDS have passed, `estimate` is the whole
    work's predicted length and a prediction over the budget raises TooLong, which names the
    count, the rate and the time it would take. `parameter` is the option to blame."""

    MEASURE_SECONDS = 0.5  # time the first repetitions this long before predicting

    def __init__(self, total: int, unit: str, parameter: str | None = None,
                 clock=time.perf_counter):
        self.total, self.unit, self.parameter, self.clock = total, unit, parameter, clock
        self.start = clock()
        self.estimate: float | None = None  # seconds for the whole, once measured

    def done(self, count: int) -> None:
        if self.estimate is not None or count <= 0:
            return
        elapsed = self.clock() - self.start
        if elapsed < self.MEASURE_SECONDS:
            return
        self.estimate = elapsed / count * self.total
        budget = max_seconds()
        if self.estimate > budget:
            rate = count / elapsed
            raise TooLong(_("{count} {unit} would take about {duration} at the measured {rate} "
                            "{unit} per second, more than the time budget of {budget}: ask for "
                            "fewer, or raise the budget with --max-seconds or "
                            "GRADTRACE_MAX_SECONDS", count=f"{self.total:,}", unit=self.unit,
                            duration=duration_text(self.estimate), rate=f"{rate:,.3g}",
                            budget=duration_text(budget)), self.parameter)
