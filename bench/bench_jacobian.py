"""Reverse mode against forward mode (a benchmark, not a test: it never fails).

(a) The gradient of a scalar loss over 10⁶ parameters against its forward pass, both measured
    here, in the same run: median of `evaluate` (forward) against forward + one `vjp_pass`
    (the lean gradient) and against `trace_graph` (forward + backward, every step recorded for
    the narration). Goal: the gradient costs at most 3× the forward pass.
(b) `gradtrace jacobian` run as a user runs it, on a 200 → 200 function (tanh(W@x) with respect
    to x: 200 reverse passes, 200 forward passes) and on a scalar loss of 40,000 parameters
    (sum(tanh(W@x)) with respect to W: 1 reverse pass against 40,000 forward passes); the pass
    counts and times are the command's own JSON.

    .venv/bin/python bench/bench_jacobian.py [--runs 21]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

# One BLAS thread unless told otherwise: on a small or shared machine OpenBLAS's threads spin
# against other processes and the medians swing tenfold from run to run.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402  (after the thread settings, which numpy reads at import)

GOAL = 3.0
GRADTRACE = str(Path(sys.executable).parent / "gradtrace")


def losses(rng: np.random.Generator):
    """(name, expression, point, parameters): each loss has a 1000 × 1000 W, 10⁶ parameters.
    The first is a training step's loss on a mini-batch; the second a single matrix-vector
    product, where the forward pass reads W once (from cache) and the gradient must write 10⁶
    fresh numbers: memory, not arithmetic, sets that ratio."""
    W = rng.standard_normal((1000, 1000)) / 30
    return [
        ("mse(tanh(X@W), Y), batch 32", "mse(tanh(X@W), Y)",
         {"X": rng.standard_normal((32, 1000)), "W": W, "Y": rng.standard_normal((32, 1000))},
         ("W",)),
        ("mse(tanh(X@W), Y), batch 128", "mse(tanh(X@W), Y)",
         {"X": rng.standard_normal((128, 1000)), "W": W, "Y": rng.standard_normal((128, 1000))},
         ("W",)),
        ("sum(tanh(W@x)), one vector", "sum(tanh(W@x))",
         {"W": W, "x": rng.standard_normal(1000)}, ("W",)),
    ]


def interleaved_medians(works: list, runs: int) -> list[float]:
    """Median seconds of each piece of work, run in turn so they share the machine's noise."""
    for work in works:  # warm caches and allocators once
        work()
    times: list[list[float]] = [[] for _ in works]
    for _ in range(runs):
        for work, spent in zip(works, times):
            start = time.perf_counter()
            work()
            spent.append(time.perf_counter() - start)
    return [statistics.median(spent) for spent in times]


def gradient_against_forward(runs: int) -> None:
    from gradtrace.core.backprop import evaluate, trace_graph, vjp_pass
    from gradtrace.expr.to_graph import graph_from_text as from_text

    print(f"(a) gradient of a scalar loss over 10^6 parameters, median of {runs} interleaved "
          f"runs, OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}")
    print(f"  {'loss':<30} {'forward':>10} {'gradient':>10} {'ratio':>6} "
          f"{'traced':>10} {'ratio':>6}  goal <= {GOAL:g}x")
    for name, expression, point, wrt in losses(np.random.default_rng(0)):
        graph = from_text(expression)
        forward, lean, traced = interleaved_medians([
            lambda: evaluate(graph, point),
            lambda: vjp_pass(graph, evaluate(graph, point), 1.0, wrt),
            lambda: trace_graph(graph, point, wrt=wrt),
        ], runs)
        verdict = "ok" if lean / forward <= GOAL else "over"
        print(f"  {name:<30} {_ms(forward):>10} {_ms(lean):>10} {lean / forward:>5.2f}x "
              f"{_ms(traced):>10} {traced / forward:>5.2f}x  {verdict}")
    print("  gradient = forward + one backward pass (vjp_pass); traced = trace_graph, which "
          "also records every step for the narration")
    print("  one vector: the forward pass reads W once, 10^6 multiply-adds; the gradient must "
          "write 10^6 fresh numbers (an outer product), so memory sets that ratio, not arithmetic")


def jacobian_command(runs: int) -> None:
    cases = [
        ("tanh(W@x), d/dx: 200 -> 200", ["tanh(W@x)", "--wrt", "x"]),
        ("sum(tanh(W@x)), d/dW: 40,000 -> 1", ["sum(tanh(W@x))", "--wrt", "W"]),
    ]
    print(f"\n(b) gradtrace jacobian, W = randn(200,200), x = randn(200); "
          f"median of {runs} runs")
    print(f"  {'function':<34} {'reverse':>8} {'time':>10} {'forward':>8} {'time':>10} "
          f"{'fwd/rev':>8} {'max diff':>9} {'wall':>8}")
    for name, args in cases:
        command = [GRADTRACE, "jacobian", *args, "--at", "W=randn(200,200),x=randn(200)",
                   "--format", "json", "--times"]
        documents, walls = [], []
        for _ in range(runs):
            start = time.perf_counter()
            output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
            walls.append(time.perf_counter() - start)
            documents.append(json.loads(output))
        reverse = statistics.median(d["seconds"]["reverse"] for d in documents)
        forward = statistics.median(d["seconds"]["forward"] for d in documents)
        passes = documents[0]["passes"]
        print(f"  {name:<34} {passes['reverse']:>8} {_ms(reverse):>10} {passes['forward']:>8} "
              f"{_ms(forward):>10} {forward / reverse:>7.1f}x "
              f"{documents[0]['max_difference']:>9.1e} {statistics.median(walls):>7.2f}s")
    print("  reverse mode: one pass per output element; forward mode: one per input element")


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.2f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    runs = parser.parse_args().runs
    gradient_against_forward(runs)
    jacobian_command(max(1, runs // 7))


if __name__ == "__main__":
    main()
