"""Training steps of networks beyond W2 and W3, against PyTorch (a benchmark, not a test).

bench_layers.py holds gradtrace to two networks; this one asks whether what made those fast
holds for the networks a course goes on to: sigmoid and tanh layers, float64, GELU and SiLU,
batch norm and dropout, a strided 5×5 convolution with average pooling (LeNet's shape), two
convolution blocks on colour images, and the Adam, AdamW, RMSprop and momentum optimisers.
Each network is written once, as course code for PyTorch is, and run with `torch` or with
`gradtrace` in its place (tracing on: `loss.backward()` records the trace).

Every implementation runs in a fresh process of its own that imports only what it needs, as a
user runs it (importing PyTorch changes how freed memory goes back to the system); the processes
take turns, --rounds times, each timing about --seconds of steps after ten untimed ones.
Reported per network: the median step of each, gradtrace's time over PyTorch's, and the page
faults per step of each process (memory handed back to the system and faulted in again every
step shows up here, and costs more than the arithmetic on big layers).

    .venv/bin/python bench/bench_networks.py [--rounds 5] [--seconds 1] [--only NAME,...]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "1"  # one BLAS thread each, read when numpy is imported

import numpy as np  # noqa: E402  (after the thread settings)

# name: (what it is, batch shape, classes)
NETWORKS = {
    "sigmoid-deep": ("MLP 128-(128 sigmoid)×8-10, batch 256, RMSprop", (256, 128)),
    "tanh-float64": ("MLP 784-256-256-10 tanh, float64, batch 128, Adam", (128, 784)),
    "gelu-silu": ("MLP 512-1024 GELU-1024 SiLU-10, batch 256, AdamW", (256, 512)),
    "batchnorm": ("MLP 784-256 BatchNorm ReLU Dropout-10, batch 128, SGD", (128, 784)),
    "lenet-avg": ("conv 1→8 5×5 stride 2 pad 2, tanh, avg-pool 2, linear; batch 64, SGD",
                  (64, 1, 28, 28)),
    "cifar-2conv": ("conv 3→32→64 3×3 pad 1, ReLU, max-pool 2 each, linear; batch 32, momentum",
                    (32, 3, 32, 32)),
    "adam-wide": ("MLP 784-512-512-10 ReLU, batch 64, Adam", (64, 784)),
}


def build(name: str, torch, nn, optim):
    """The network, its optimiser and the float type of its inputs, as course code writes them
    (the same lines for both libraries)."""
    float64 = name == "tanh-float64"
    if name == "sigmoid-deep":
        layers = []
        for _ in range(8):
            layers += [nn.Linear(128, 128), nn.Sigmoid()]
        model = nn.Sequential(*layers, nn.Linear(128, 10))
        return model, optim.RMSprop(model.parameters(), lr=1e-3), np.float32
    if float64:
        kind = torch.float64
        model = nn.Sequential(nn.Linear(784, 256, dtype=kind), nn.Tanh(),
                              nn.Linear(256, 256, dtype=kind), nn.Tanh(),
                              nn.Linear(256, 10, dtype=kind))
        return model, optim.Adam(model.parameters(), lr=1e-3), np.float64
    if name == "gelu-silu":
        model = nn.Sequential(nn.Linear(512, 1024), nn.GELU(), nn.Linear(1024, 1024), nn.SiLU(),
                              nn.Linear(1024, 10))
        return model, optim.AdamW(model.parameters(), lr=1e-3), np.float32
    if name == "batchnorm":
        model = nn.Sequential(nn.Linear(784, 256), nn.BatchNorm1d(256), nn.ReLU(),
                              nn.Dropout(0.5), nn.Linear(256, 10))
        return model, optim.SGD(model.parameters(), lr=0.01), np.float32
    if name == "lenet-avg":
        model = nn.Sequential(nn.Conv2d(1, 8, 5, stride=2, padding=2), nn.Tanh(),
                              nn.AvgPool2d(2), nn.Flatten(), nn.Linear(8 * 7 * 7, 10))
        return model, optim.SGD(model.parameters(), lr=0.01), np.float32
    if name == "cifar-2conv":
        model = nn.Sequential(nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                              nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                              nn.Flatten(), nn.Linear(64 * 8 * 8, 10))
        return model, optim.SGD(model.parameters(), lr=0.01, momentum=0.9), np.float32
    model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(),
                          nn.Linear(512, 10))
    return model, optim.Adam(model.parameters(), lr=1e-3), np.float32


def worker(name: str, implementation: str, seconds: float) -> dict:
    """In a process of its own: build the network, run ten steps, then time steps for about
    `seconds`, counting the page faults they take."""
    import resource

    if implementation == "PyTorch":
        try:
            import torch
        except ImportError:
            return {"skipped": "not installed"}
        torch.set_num_threads(1)
        data = torch.from_numpy
        labels_of = torch.from_numpy
    else:
        import gradtrace as torch

        def data(array):
            return torch.tensor(array, requires_grad=False)

        def labels_of(array):
            return array
    nn, optim = torch.nn, torch.optim
    torch.manual_seed(0)
    model, optimiser, kind = build(name, torch, nn, optim)
    rng = np.random.default_rng(0)
    shape = NETWORKS[name][1]
    x = data(rng.standard_normal(shape).astype(kind))
    y = labels_of(rng.integers(0, 10, shape[0]))
    loss_function = nn.CrossEntropyLoss()

    def step():
        optimiser.zero_grad()
        loss = loss_function(model(x), y)
        loss.backward()
        optimiser.step()
        return loss.item()

    first = step()
    for _ in range(10):
        step()
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    times: list[float] = []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end or len(times) < 5:
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults
    return {"times": times, "faults": faults / len(times), "first loss": first}


def run_worker(name: str, implementation: str, seconds: float) -> dict:
    command = [sys.executable, __file__, "--worker", f"{name}:{implementation}",
               "--seconds", str(seconds)]
    finished = subprocess.run(command, capture_output=True, text=True, check=False)
    if finished.returncode != 0:
        return {"skipped": f"failed: {finished.stderr.strip().splitlines()[-1:]}"}
    return json.loads(finished.stdout)


def measure(name: str, rounds: int, seconds: float) -> str:
    found: dict[str, dict] = {}
    paired: list[float] = []
    for _ in range(rounds):
        medians = {}
        for implementation in ("gradtrace", "PyTorch"):
            result = run_worker(name, implementation, seconds)
            kept = found.setdefault(implementation, {"times": [], "faults": []})
            if "skipped" in result:
                kept["skipped"] = result["skipped"]
                continue
            kept["times"] += result["times"]
            kept["faults"].append(result["faults"])
            medians[implementation] = statistics.median(result["times"])
        if len(medians) == 2:
            paired.append(medians["gradtrace"] / medians["PyTorch"])
    cells = []
    for implementation, result in found.items():
        if "skipped" in result:
            cells.append(f"{implementation} skipped ({result['skipped']})")
        else:
            cells.append(f"{implementation} {statistics.median(result['times']) * 1e3:.2f} ms, "
                         f"{statistics.median(result['faults']):.0f} page faults a step")
    line = f"| {name} | {NETWORKS[name][0]} | " + "; ".join(cells) + " | "
    if "skipped" not in found["gradtrace"] and "skipped" not in found["PyTorch"]:
        ratio = (statistics.median(found["gradtrace"]["times"])
                 / statistics.median(found["PyTorch"]["times"]))
        line += (f"{ratio:.2f}× (rounds: {min(paired):.2f}–{max(paired):.2f}×)")
    return line + " |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=1.0)
    parser.add_argument("--only", default=",".join(NETWORKS))
    parser.add_argument("--worker", help=argparse.SUPPRESS)  # name:implementation, internal
    args = parser.parse_args()
    if args.worker:
        name, implementation = args.worker.split(":", 1)
        print(json.dumps(worker(name, implementation, args.seconds)))
        return
    chosen = [name for name in args.only.split(",") if name]
    unknown = [name for name in chosen if name not in NETWORKS]
    if unknown:
        parser.error(f"unknown network {', '.join(unknown)}; the networks are "
                     f"{', '.join(NETWORKS)}")
    print(f"python {sys.version.split()[0]}, numpy {np.__version__}, one BLAS thread; "
          f"{args.rounds} rounds of about {args.seconds:g} s per implementation, each in its "
          "own process")
    print("| network | what | median step, page faults | gradtrace / PyTorch |")
    print("|---|---|---|---:|")
    for name in chosen:
        print(measure(name, args.rounds, args.seconds), flush=True)


if __name__ == "__main__":
    main()
