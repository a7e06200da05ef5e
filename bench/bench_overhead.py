"""What one training step costs besides its arithmetic: an MLP too small to compute anything.

The W2 network of bench_layers.py, shrunk to 4-4-4-3 with a batch of 2, float32: its matrix
products take nanoseconds, so a step's time is the framework's own work. gradtrace is timed
phase by phase (forward through the modules, cross-entropy, backward(), the SGD step) against
the same step written in numpy by hand (the limit of bench_layers.py), each in a fresh process
of its own, taking turns. Each figure is the best of 15 batches of 300 steps, which is the
least disturbed by other work on the machine.

Then the other half of the question, at W2's full size (784-256-256-10, batch 128): the same
step computed by gradtrace's own op rules (the registry's forward and VJP functions, and
optim.SGD's update), with no tensors, modules or trace, against the limit. That is what keeping
every value and gradient costs in arithmetic alone (a ReLU writes a new array where the limit
overwrites its input), less what SGD's one-pass update wins back. Medians of 5 batches of 60
steps per process.

    python bench/bench_overhead.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

SIZES = (4, 4, 4, 3)
BATCH, LR, BATCHES, STEPS = 2, 0.01, 15, 300


def problem():
    rng = np.random.default_rng(0)
    params = []
    for fan_in, fan_out in zip(SIZES[:-1], SIZES[1:]):
        params.append((rng.standard_normal((fan_out, fan_in)) * np.sqrt(2 / fan_in))
                      .astype(np.float32))
        params.append(np.zeros(fan_out, dtype=np.float32))
    x = rng.standard_normal((BATCH, SIZES[0])).astype(np.float32)
    return params, x, rng.integers(0, SIZES[-1], BATCH)


def gradtrace_phases() -> dict[str, float]:
    from gradtrace import nn, no_grad, optim, tensor

    params, x, labels = problem()
    kw = {"rng": np.random.default_rng(0), "dtype": np.float32}  # copied in just below
    layers = []
    for fan_in, fan_out in zip(SIZES[:-1], SIZES[1:]):
        layers += [nn.Linear(fan_in, fan_out, **kw), nn.ReLU()]
    model = nn.Sequential(*layers[:-1])
    with no_grad():  # into the module's own arrays, as PyTorch's side does
        for parameter, value in zip(model.parameters(), params):
            parameter.copy_(tensor(value))
    sgd = optim.SGD(model.parameters(), lr=LR)
    inputs = tensor(x, "x", requires_grad=False)

    def batch() -> dict[str, float]:
        spent = dict.fromkeys(("forward", "cross-entropy", "backward", "SGD step"), 0.0)
        for _ in range(STEPS):
            sgd.zero_grad()
            start = time.perf_counter()
            logits = model(inputs)
            forward = time.perf_counter()
            loss = nn.functional.cross_entropy(logits, labels)
            loss_made = time.perf_counter()
            loss.backward()
            backward = time.perf_counter()
            sgd.step()
            end = time.perf_counter()
            for phase, seconds in zip(spent, (forward - start, loss_made - forward,
                                              backward - loss_made, end - backward)):
                spent[phase] += seconds
        return {phase: seconds / STEPS for phase, seconds in spent.items()}

    return _best(batch)


def numpy_phases() -> dict[str, float]:
    sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent))
    from bench_layers import softmax_ce_grad

    params, x, labels = problem()

    def step():
        activations = [x]
        for index in range(0, len(params), 2):
            z = activations[-1] @ params[index].T
            z += params[index + 1]
            if index + 2 < len(params):
                np.maximum(z, 0, out=z)
            activations.append(z)
        _, delta = softmax_ce_grad(activations[-1], labels)
        for index in range(len(params) - 2, -1, -2):
            grad_W, grad_b = delta.T @ activations[index // 2], delta.sum(axis=0)
            if index:
                delta = delta @ params[index]
                delta *= activations[index // 2] > 0
            for param, grad in ((params[index], grad_W), (params[index + 1], grad_b)):
                grad *= LR
                param -= grad

    def batch() -> dict[str, float]:
        start = time.perf_counter()
        for _ in range(STEPS):
            step()
        return {"whole step": (time.perf_counter() - start) / STEPS}

    return _best(batch)


def full_size_step(implementation: str):
    """One W2 step at full size: the limit of bench_layers.py, or gradtrace's op rules."""
    sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent))
    from bench_layers import LR as FULL_LR, numpy_w2_step, w2_problem

    params, x, labels = w2_problem(np.random.default_rng(0))
    params = [p.copy() for p in params]
    if implementation == "numpy":
        return lambda: numpy_w2_step(params, x, labels)
    from gradtrace.ops import REGISTRY
    from gradtrace.optim import _descend


    linear, relu, loss = REGISTRY["linear"], REGISTRY["relu"], REGISTRY["cross_entropy"]
    lr = np.float32(FULL_LR)

    def step():
        W1, b1, W2, b2, W3, b3 = params
        z1 = linear.forward(x, W1, b1)
        a1 = relu.forward(z1)
        z2 = linear.forward(a1, W2, b2)
        a2 = relu.forward(z2)
        z3 = linear.forward(a2, W3, b3)
        value = loss.forward(z3, labels)
        g3, _ = loss.vjp_rule(np.float32(1), (z3, labels), value, (True, False))
        g_a2, g_W3, g_b3 = linear.vjp_rule(g3, (a2, W3, b3), z3, (True, True, True))
        (g_z2,) = relu.vjp_rule(g_a2, (z2,), a2, (True,))
        g_a1, g_W2, g_b2 = linear.vjp_rule(g_z2, (a1, W2, b2), z2, (True, True, True))
        (g_z1,) = relu.vjp_rule(g_a1, (z1,), a1, (True,))
        _, g_W1, g_b1 = linear.vjp_rule(g_z1, (x, W1, b1), z1, (False, True, True))
        for param, grad in zip(params, (g_W1, g_b1, g_W2, g_b2, g_W3, g_b3)):
            _descend(param, grad, lr)  # as optim.SGD
        return value

    return step


def full_size_times(implementation: str) -> dict[str, float]:
    step = full_size_step(implementation)
    for _ in range(5):
        step()
    medians = []
    for _ in range(5):
        times = []
        for _ in range(60):
            start = time.perf_counter()
            step()
            times.append(time.perf_counter() - start)
        medians.append(sorted(times)[len(times) // 2])
    return {"whole step": min(medians)}


def _best(batch) -> dict[str, float]:
    batch()  # warm up
    best: dict[str, float] = {}
    for _ in range(BATCHES):
        for phase, seconds in batch().items():
            best[phase] = min(best.get(phase, seconds), seconds)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--worker", choices=("gradtrace", "numpy", "full:ops", "full:numpy"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        if args.worker.startswith("full:"):
            kind = args.worker.split(":")[1]
            print(json.dumps(full_size_times("numpy" if kind == "numpy" else "ops")))
        else:
            print(json.dumps(gradtrace_phases() if args.worker == "gradtrace"
                             else numpy_phases()))
        return
    found: dict[str, list[dict]] = {"gradtrace": [], "numpy": []}
    for _ in range(args.rounds):
        for name in found:
            done = subprocess.run([sys.executable, __file__, "--worker", name],
                                  capture_output=True, text=True, check=True)
            found[name].append(json.loads(done.stdout))
    print(f"MLP {'-'.join(map(str, SIZES))}, batch {BATCH}, float32: µs a step, best of "
          f"{BATCHES} batches of {STEPS} steps, {args.rounds} processes each (min–max)")
    for name, runs in found.items():
        phases = {phase: [run[phase] * 1e6 for run in runs] for phase in runs[0]}
        totals = [sum(run.values()) * 1e6 for run in runs]
        parts = ", ".join(f"{phase} {min(v):.0f}–{max(v):.0f}" for phase, v in phases.items())
        label = "numpy limit" if name == "numpy" else name
        print(f"  {label}: {min(totals):.0f}–{max(totals):.0f} µs ({parts})")
    full: dict[str, list[float]] = {"full:ops": [], "full:numpy": []}
    for _ in range(args.rounds):
        for name in full:
            done = subprocess.run([sys.executable, __file__, "--worker", name],
                                  capture_output=True, text=True, check=True,
                                  env={**os.environ, "OPENBLAS_NUM_THREADS": "1"})
            full[name].append(json.loads(done.stdout)["whole step"])
    ratios = [ops / limit for ops, limit in zip(full["full:ops"], full["full:numpy"])]
    print("MLP 784-256-256-10, batch 128, float32, one BLAS thread: ms a step, median of 60 "
          f"steps, best of 5 batches, {args.rounds} processes each (min–max)")
    print(f"  gradtrace's op rules, no framework: {_span(full['full:ops'], 1e3, '.2f')} ms; "
          f"numpy limit: {_span(full['full:numpy'], 1e3, '.2f')} ms; ratio "
          f"{_span(ratios, 1, '.2f')}×")


def _span(values: list[float], scale: float, spec: str) -> str:
    return f"{min(values) * scale:{spec}}–{max(values) * scale:{spec}}"


if __name__ == "__main__":
    main()
