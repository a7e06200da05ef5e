"""Start-up and tracing benchmarks (a benchmark, not a test: it never fails).

Whole-process wall times, medians of interleaved runs, each against its import floor measured
in the same run on the same machine:

    explain (checks + SVG)   vs  python -c "import numpy, sympy, rich.console, typer, graphviz"
    explain --no-check       vs  python -c "import numpy, rich.console, typer"
    gradtrace --help         vs  python -c "import typer"

and a 10,000-node scalar chain traced with the Python API: trace + backward time per node.

    .venv/bin/python bench/bench_cli.py [--runs 11]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
GRADTRACE = str(BIN / "gradtrace")
SIGMOID = ["explain", "1/(1+exp(-(w*x+b)))", "--at", "w=2,x=-1,b=-3"]


def cases(svg_path: str):
    python = sys.executable
    return [
        ("explain, checks + SVG", [GRADTRACE, *SIGMOID, "--svg", svg_path],
         "import numpy, sympy, rich.console, typer, graphviz",
         [python, "-c", "import numpy, sympy, rich.console, typer, graphviz"], 1.3),
        ("explain --no-check", [GRADTRACE, *SIGMOID, "--no-check"],
         "import numpy, rich.console, typer",
         [python, "-c", "import numpy, rich.console, typer"], 1.3),
        ("gradtrace --help", [GRADTRACE, "--help"], "import typer",
         [python, "-c", "import typer"], 1.2),
    ]


def wall_time(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False,
                   env={**os.environ, "NO_COLOR": "1"})
    return time.perf_counter() - start


def chain_per_node(length: int = 10_000) -> tuple[float, float]:
    """Seconds per node to record a chain with the Python API, and to trace + backprop it."""
    sys.setrecursionlimit(1000)  # the engine walks graphs iteratively: the default is enough
    import gradtrace

    start = time.perf_counter()
    z = gradtrace.tensor(1.0, name="z")
    for _ in range(length // 2):
        z = z * 1.0001 + 0.5
    built = time.perf_counter()
    z.backward()
    done = time.perf_counter()
    return (built - start) / length, (done - built) / length


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=11)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as folder:
        table = cases(str(Path(folder) / "sigmoid.svg"))
        for _, command, _, floor, _ in table:  # warm the file cache once
            wall_time(command), wall_time(floor)
        times = {name: ([], []) for name, *_ in table}
        for _ in range(runs):
            for name, command, _, floor, _ in table:
                times[name][0].append(wall_time(command))
                times[name][1].append(wall_time(floor))
    print(f"whole-process wall time, median of {runs} interleaved runs")
    print(f"{'command':24} {'median':>8} {'floor':>8} {'ratio':>6} {'goal':>6}  floor command")
    for name, _, floor_text, _, goal in table:
        ours, floor = (statistics.median(t) for t in times[name])
        print(f"{name:24} {ours:7.3f}s {floor:7.3f}s {ours / floor:6.2f} {goal:5.1f}×  "
              f"python -c \"{floor_text}\"")
    record, trace = chain_per_node()
    print(f"\n10,000-node scalar chain (Python API): record {record * 1e6:.1f} µs/node, "
          f"trace + backward {trace * 1e6:.1f} µs/node")


if __name__ == "__main__":
    main()
