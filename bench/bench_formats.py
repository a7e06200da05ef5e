"""Output formats on growing traces (a benchmark, not a test: it never fails).

`gradtrace explain` of sums x0*y0 + x1*y1 + ... of about 100, 1,000 and 3,000 ops, with
--no-check, written in each format. Every run is a whole process of its own, as a user runs
it; JSON is the reference (the same work minus the formatting), and each format's time is
printed against it. "rich" runs on a pseudo-terminal, so it is the coloured output a terminal
gets; "text" is what a pipe or --format text gets.

    .venv/bin/python bench/bench_formats.py [--runs 5]

Goal: text and rich within 1.5× JSON's time on the 3,000-op trace.
"""

from __future__ import annotations

import argparse
import os
import pty
import statistics
import subprocess
import sys
import time

GOAL = 1.5
SIZES = {100: 50, 1000: 500, 3000: 1500}  # ops: terms (each term a mul and an add)
FORMATS = ("json", "text", "markdown", "rich")


def expression(terms: int) -> str:
    return "+".join(f"x{i}*y{i}" for i in range(terms))


def command(terms: int, output_format: str) -> list[str]:
    chosen = [] if output_format == "rich" else ["--format", output_format]
    return [sys.executable, "-m", "gradtrace", "explain", expression(terms), "--no-check",
            *chosen]


def wall_time(arguments: list[str], terminal: bool) -> float:
    """Seconds for the whole process; on a pseudo-terminal (read and dropped) when asked."""
    environment = {key: value for key, value in os.environ.items() if key != "NO_COLOR"}
    start = time.perf_counter()
    if not terminal:
        subprocess.run(arguments, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       env={**environment, "NO_COLOR": "1"}, check=False)
        return time.perf_counter() - start
    leader, follower = pty.openpty()
    process = subprocess.Popen(arguments, stdout=follower, stderr=subprocess.DEVNULL,
                               env={**environment, "COLUMNS": "120", "TERM": "xterm-256color"})
    os.close(follower)
    while True:  # drain the terminal, as a terminal would display it
        try:
            if not os.read(leader, 1 << 16):
                break
        except OSError:  # the other end closed
            break
    process.wait()
    os.close(leader)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    print(f"python {sys.version.split()[0]}; median of {runs} interleaved runs, each a whole "
          "process")
    print(f"{'ops':>5}  " + "  ".join(f"{name:>16}" for name in FORMATS))
    for ops, terms in SIZES.items():
        times: dict[str, list[float]] = {name: [] for name in FORMATS}
        for name in FORMATS:  # warm the file cache
            wall_time(command(terms, name), name == "rich")
        for _ in range(runs):
            for name in FORMATS:
                times[name].append(wall_time(command(terms, name), name == "rich"))
        reference = statistics.median(times["json"])
        cells = []
        for name in FORMATS:
            median = statistics.median(times[name])
            cells.append(f"{median:6.3f}s {median / reference:5.2f}×")
        print(f"{ops:>5}  " + "  ".join(f"{cell:>16}" for cell in cells))
    print(f"goal: text and rich within {GOAL}× JSON's time at 3,000 ops")


if __name__ == "__main__":
    main()
