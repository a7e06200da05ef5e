"""Layers against the framework-free limit (a benchmark, not a test: it never fails).

W2  MLP 784-256-256-10, ReLU, softmax cross-entropy, batch 128, float32:
    forward + backward + SGD step.
W3  (64,1,28,28) → conv 16×3×3 pad 1 → ReLU → max-pool 2 → linear 3136→10 → softmax
    cross-entropy, float32: forward + backward (no gradient for the input images).

each three ways: gradtrace (tensors with tracing on: `loss.backward()` records the trace), a
hand-written numpy forward + backward doing the same BLAS calls (the framework-free limit), and
PyTorch on the CPU with the same thread count, when it is installed (skipped otherwise). Each
framework's modules are built as a user builds them and the same starting weights are copied
into them.

Every implementation runs in a process of its own that imports only what it needs, as a user
runs it: importing PyTorch changes how freed memory goes back to the system, which would flatter
whatever else shares its process. The processes take turns (ROUNDS rounds, each a warm-up and
--runs timed steps), so they share the machine's noise; each figure is the median over every
timed step. Many short rounds (10 of 30 steps by default) rather than a few long ones: the
machine slows down and recovers over seconds, and a slow spell should fall on every
implementation in turn, not on one of them for a whole round. Reported: median milliseconds,
ratio to the numpy limit, peak memory above the start of a step (tracemalloc sees what numpy
allocates; PyTorch's own allocator is invisible to it: n/a), and whether the goals are met: W3
≤ 1.3× the limit and faster than PyTorch, W2 ≤ 1.15× and no slower than PyTorch, peak memory
≤ 1.5× the limit's. gradtrace's time over PyTorch's is also printed round by round (a round's
two processes ran moments apart), with the median of those ratios: it shows how much of a
verdict is the machine's noise.

S   micrograd's demo: an MLP 2-16-16-1 on 100 points written op by op on 0-d tensors (every
    weight a scalar), max-margin loss + L2: seconds per training step, against micrograd itself
    when it is installed (`pip install micrograd`; target: faster than micrograd).

    .venv/bin/python bench/bench_layers.py [--runs 30] [--rounds 10] [--threads 1]
                                           [--only W2,W3,S]
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time
import tracemalloc


def _threads_from_argv() -> str:
    """--threads must be known before numpy is imported (BLAS reads it once, at load)."""
    for index, arg in enumerate(sys.argv):
        if arg == "--threads" and index + 1 < len(sys.argv):
            return sys.argv[index + 1]
        if arg.startswith("--threads="):
            return arg.split("=", 1)[1]
    return "1"


THREADS = _threads_from_argv()
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = THREADS

import numpy as np  # noqa: E402  (after the thread settings)
from numpy.lib.stride_tricks import sliding_window_view  # noqa: E402

TARGETS = {"W2": 1.15, "W3": 1.3}
MEMORY_TARGET = 1.5
LR = np.float32(0.01)
WARM_UP = 10  # untimed steps in each process before its timed ones
F32 = np.float32


# -- the same parameters and data for every implementation -------------------------------

def w2_problem(rng):
    """Weights in PyTorch's (out, in) layout, He-scaled; a batch of 128 and its labels."""
    sizes = [784, 256, 256, 10]
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        params.append((rng.standard_normal((fan_out, fan_in)) * np.sqrt(2 / fan_in)).astype(F32))
        params.append(np.zeros(fan_out, dtype=F32))
    x = rng.standard_normal((128, 784)).astype(F32)
    return params, x, rng.integers(0, 10, 128)


def w3_problem(rng):
    conv_W = (rng.standard_normal((16, 1, 3, 3)) * np.sqrt(2 / 9)).astype(F32)
    conv_b = np.zeros(16, dtype=F32)
    fc_W = (rng.standard_normal((10, 3136)) * np.sqrt(1 / 3136)).astype(F32)
    fc_b = np.zeros(10, dtype=F32)
    x = rng.standard_normal((64, 1, 28, 28)).astype(F32)
    return [conv_W, conv_b, fc_W, fc_b], x, rng.integers(0, 10, 64)


# -- the framework-free limit: numpy by hand ---------------------------------------------

def softmax_ce_grad(logits, labels):
    """Mean softmax cross-entropy and its gradient with respect to the logits."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    total = exp.sum(axis=1, keepdims=True)
    rows = np.arange(len(labels))
    loss = float(np.mean(np.log(total[:, 0]) - shifted[rows, labels]))
    exp /= total
    exp[rows, labels] -= 1
    exp /= F32(len(labels))
    return loss, exp


def numpy_w2_step(params, x, labels):
    """Forward, backward and SGD step of the 784-256-256-10 ReLU MLP; returns the loss."""
    W1, b1, W2, b2, W3, b3 = params
    a1 = x @ W1.T
    a1 += b1
    np.maximum(a1, 0, out=a1)
    a2 = a1 @ W2.T
    a2 += b2
    np.maximum(a2, 0, out=a2)
    logits = a2 @ W3.T
    logits += b3
    loss, d3 = softmax_ce_grad(logits, labels)
    dW3, db3 = d3.T @ a2, d3.sum(axis=0)
    d2 = d3 @ W3
    d2 *= a2 > 0
    dW2, db2 = d2.T @ a1, d2.sum(axis=0)
    d1 = d2 @ W2
    d1 *= a1 > 0
    dW1, db1 = d1.T @ x, d1.sum(axis=0)
    for param, grad in zip(params, (dW1, db1, dW2, db2, dW3, db3)):
        grad *= LR
        param -= grad
    return loss


def numpy_w3_step(params, x, labels):
    """Forward and backward of conv 3×3 pad 1 → ReLU → max-pool 2 → linear → CE; im2col by
    sliding_window_view, the convolution as one (N·H·W, 9) @ (9, 16) product, channels last
    inside, (C, H, W) order where the linear layer flattens. Returns the loss and gradients."""
    conv_W, conv_b, fc_W, fc_b = params
    N = x.shape[0]
    padded = np.pad(x[:, 0], ((0, 0), (1, 1), (1, 1)))
    cols = sliding_window_view(padded, (3, 3), axis=(1, 2)).reshape(N * 784, 9)
    conv = cols @ conv_W.reshape(16, 9).T                       # (N·28·28, 16)
    conv += conv_b
    np.maximum(conv, 0, out=conv)
    windows = conv.reshape(N, 14, 2, 14, 2, 16)
    # Four strided maxima: several times faster than .max(axis=(2, 4)) on these shapes.
    pooled = np.maximum(np.maximum(windows[:, :, 0, :, 0], windows[:, :, 0, :, 1]),
                        np.maximum(windows[:, :, 1, :, 0], windows[:, :, 1, :, 1]))
    flat = pooled.transpose(0, 3, 1, 2).reshape(N, 3136)
    logits = flat @ fc_W.T
    logits += fc_b
    loss, d_logits = softmax_ce_grad(logits, labels)
    d_fc_W, d_fc_b = d_logits.T @ flat, d_logits.sum(axis=0)
    d_pooled = (d_logits @ fc_W).reshape(N, 16, 14, 14).transpose(0, 2, 3, 1)
    winners = windows == pooled[:, :, None, :, None, :]        # ReLU'd zeros never win a grad
    d_conv = (winners * d_pooled[:, :, None, :, None, :]).reshape(N * 784, 16)
    d_conv *= conv > 0
    d_conv_W = (d_conv.T @ cols).reshape(16, 1, 3, 3)
    d_conv_b = np.ones(N * 784, dtype=F32) @ d_conv             # a GEMV beats sum(axis=0)
    return loss, (d_conv_W, d_conv_b, d_fc_W, d_fc_b)


# -- gradtrace -----------------------------------------------------------------------------

def gradtrace_w2(params, x, labels):
    """The same MLP with gradtrace.nn and gradtrace.optim; one step per call."""
    from gradtrace import nn, optim
    from gradtrace import no_grad, tensor

    kw = {"rng": np.random.default_rng(0), "dtype": F32}  # weights copied in just below
    model = nn.Sequential(nn.Linear(784, 256, **kw), nn.ReLU(), nn.Linear(256, 256, **kw),
                          nn.ReLU(), nn.Linear(256, 10, **kw))
    with no_grad():  # into the module's own arrays, as PyTorch's side does
        for parameter, value in zip(model.parameters(), params):
            parameter.copy_(tensor(value))
    sgd = optim.SGD(model.parameters(), lr=float(LR))
    inputs = tensor(x, "x", requires_grad=False)

    def step():
        sgd.zero_grad()
        loss = nn.functional.cross_entropy(model(inputs), labels)
        loss.backward()
        sgd.step()
        return loss.item()

    return step, model


def gradtrace_w3(params, x, labels):
    """The same network with gradtrace.nn: forward + backward per call."""
    from gradtrace import nn
    from gradtrace import no_grad, tensor

    kw = {"rng": np.random.default_rng(0), "dtype": F32}  # weights copied in just below
    model = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1, **kw), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(3136, 10, **kw))
    with no_grad():  # into the module's own arrays, as PyTorch's side does
        for parameter, value in zip(model.parameters(), params):
            parameter.copy_(tensor(value))
    inputs = tensor(x, "x", requires_grad=False)

    def step():
        model.zero_grad()
        loss = nn.functional.cross_entropy(model(inputs), labels)
        loss.backward()
        return loss.item()

    return step, model


# -- PyTorch -------------------------------------------------------------------------------

def torch_modules():
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(int(THREADS))
    return torch


def torch_w2(torch, params, x, labels):
    nn = torch.nn
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(),
                          nn.Linear(256, 10))
    with torch.no_grad():
        for parameter, value in zip(model.parameters(), params):
            parameter.copy_(torch.from_numpy(value))
    sgd = torch.optim.SGD(model.parameters(), lr=float(LR))
    inputs, targets = torch.from_numpy(x), torch.from_numpy(labels)

    def step():
        sgd.zero_grad()
        loss = nn.functional.cross_entropy(model(inputs), targets)
        loss.backward()
        sgd.step()
        return loss.item()

    return step, model


def torch_w3(torch, params, x, labels):
    nn = torch.nn
    model = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(3136, 10))
    with torch.no_grad():
        for parameter, value in zip(model.parameters(), params):
            parameter.copy_(torch.from_numpy(value))
    inputs, targets = torch.from_numpy(x), torch.from_numpy(labels)

    def step():
        model.zero_grad()
        loss = nn.functional.cross_entropy(model(inputs), targets)
        loss.backward()
        return loss.item()

    return step, model


# -- measuring: one process per implementation ---------------------------------------------

PROBLEMS = {"W2": (lambda: w2_problem(np.random.default_rng(0)), numpy_w2_step),
            "W3": (lambda: w3_problem(np.random.default_rng(0)), numpy_w3_step)}
IMPLEMENTATIONS = ("numpy limit", "gradtrace", "PyTorch")


def worker(name: str, implementation: str, runs: int) -> dict:
    """In a process of its own: set up one implementation of one workload, check it against
    the limit after one call, then time `runs` steps after a warm-up and measure one step's
    peak memory."""
    make_problem, numpy_step = PROBLEMS[name]
    params, x, labels = make_problem()
    result = {"implementation": implementation}
    if implementation == "numpy limit":
        mine = [p.copy() for p in params]
        step = lambda: numpy_step(mine, x, labels)  # noqa: E731
        result["loss"] = _loss(step())
    elif implementation == "gradtrace":
        setup = gradtrace_w2 if name == "W2" else gradtrace_w3
        step, model = setup(params, x, labels)
        result["loss"] = step()
        result["difference"] = _difference(numpy_step, (params, x, labels), model)
    else:
        torch = torch_modules()
        if torch is None:
            return {"implementation": implementation, "skipped": "not installed"}
        setup = torch_w2 if name == "W2" else torch_w3
        step, _ = setup(torch, params, x, labels)
        result["loss"] = step()
        result["version"] = torch.__version__
    for _ in range(WARM_UP):  # warm caches, allocators and the workspace pool
        step()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    result["times"] = times
    result["peak"] = None if implementation == "PyTorch" else peak_bytes(step)
    return result


def peak_bytes(work) -> int:
    """The most memory one call of `work` held above what existed when it started."""
    work()
    tracemalloc.start()
    tracemalloc.reset_peak()
    baseline = tracemalloc.get_traced_memory()[0]
    work()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak - baseline


def _difference(numpy_step, problem, model) -> float:
    """Largest gap between the limit and gradtrace after one call (the model has taken one
    step already): in the gradients when the step returns them (W3), else in the parameters
    after the SGD step (W2)."""
    params, x, labels = problem
    mine = [p.copy() for p in params]
    result = numpy_step(mine, x, labels)
    expected = result[1] if isinstance(result, tuple) else mine
    found = [p.grad if isinstance(result, tuple) else p.value for p in model.parameters()]
    return max(float(np.max(np.abs(e - f))) for e, f in zip(expected, found))


def _loss(result) -> float:
    return result[0] if isinstance(result, tuple) else result


def run_worker(name: str, implementation: str, runs: int) -> dict:
    import json
    import subprocess

    command = [sys.executable, __file__, "--worker", f"{name}:{implementation}",
               "--runs", str(runs), "--threads", THREADS]
    finished = subprocess.run(command, capture_output=True, text=True, check=False)
    if finished.returncode != 0:
        return {"implementation": implementation,
                "skipped": f"failed: {finished.stderr.strip().splitlines()[-1:]}"}
    return json.loads(finished.stdout)


def workload(name: str, runs: int, rounds: int) -> tuple[list[str], list[str]]:
    """Every implementation in its own process, the processes taking turns, `rounds` times."""
    results: dict[str, dict] = {}
    for _ in range(rounds):
        for implementation in IMPLEMENTATIONS:
            found = run_worker(name, implementation, runs)
            kept = results.setdefault(implementation, found)
            if "times" in found:
                kept.setdefault("rounds", []).append(statistics.median(found["times"]))
            if kept is not found and "times" in found:
                kept["times"] += found["times"]
                kept["peak"] = found["peak"] if kept["peak"] is None else min(
                    kept["peak"], found["peak"] or kept["peak"])
    notes = []
    for implementation, result in results.items():
        if "skipped" in result:
            notes.append(f"  {name} {implementation}: skipped ({result['skipped']})")
        else:
            extra = (f", max |difference from the limit| {result['difference']:.2e}"
                     if "difference" in result else "")
            notes.append(f"  {name} {implementation}: first loss {result['loss']:.6f}{extra}")
    ours, theirs = results["gradtrace"].get("rounds"), results["PyTorch"].get("rounds")
    if ours and theirs:  # the processes of a round ran minutes apart at most: a closer pair
        paired = [a / b for a, b in zip(ours, theirs)]
        ratios = ", ".join(f"{ratio:.2f}×" for ratio in paired)
        notes.append(f"  {name} gradtrace / PyTorch, round by round (each round's median "
                     f"step): {ratios}; median {statistics.median(paired):.2f}×")
    return notes, report(name, {k: v for k, v in results.items() if "times" in v})


def report(name: str, results: dict) -> list[str]:
    medians = {label: statistics.median(result["times"]) for label, result in results.items()}
    limit, limit_peak = medians["numpy limit"], results["numpy limit"]["peak"]
    lines = []
    for label, seconds in medians.items():
        ratio = seconds / limit
        peak = results[label]["peak"]
        memory = "n/a" if peak is None else f"{peak / 2**20:.1f} MiB ({peak / limit_peak:.2f}×)"
        verdict = ""
        if label == "gradtrace":
            checks = [f"time ≤ {TARGETS[name]}×: {'met' if ratio <= TARGETS[name] else 'missed'}",
                      f"memory ≤ {MEMORY_TARGET}×: "
                      f"{'met' if peak / limit_peak <= MEMORY_TARGET else 'missed'}"]
            if "PyTorch" in medians:
                faster = seconds < medians["PyTorch"] if name == "W3" else \
                    seconds <= medians["PyTorch"]
                word = "faster than" if name == "W3" else "no slower than"
                checks.append(f"{word} PyTorch: {'met' if faster else 'missed'}")
            verdict = "; ".join(checks)
        lines.append(f"| {name} | {label} | {seconds * 1e3:.2f} | {ratio:.2f}× | {memory} | "
                     f"{verdict} |")
    return lines


def environment() -> str:
    """numpy and its BLAS, the thread count, allocator settings if any: what the figures
    depend on."""
    blas = "unknown BLAS"
    try:
        config = np.show_config(mode="dicts")
        found = config.get("Build Dependencies", {}).get("blas", {})
        blas = f"{found.get('name', 'BLAS')} {found.get('version', '')}".strip()
    except (TypeError, AttributeError):
        pass
    allocator = [f"{key}={value}" for key, value in sorted(os.environ.items())
                 if key.startswith("MALLOC_")]
    return (f"python {sys.version.split()[0]}, numpy {np.__version__} ({blas}), threads "
            f"{THREADS}; allocator settings: {', '.join(allocator) or 'none (the defaults)'}")


# -- the scalar MLP (micrograd's demo) -----------------------------------------------------

def moons(rng, n=100, noise=0.1):
    from gradtrace.layers.datasets import moons as make_moons

    X, y = make_moons(rng, n, noise)
    return X, 2 * y - 1  # labels ±1 for the max-margin loss


def scalar_problem(rng):
    """micrograd's demo data and an MLP 2-16-16-1 as plain floats: per layer, per unit,
    (weights, bias), weights uniform in [-1, 1] and biases 0, as micrograd starts."""
    X, y = moons(rng)
    sizes = [2, 16, 16, 1]
    layers = [[([float(w) for w in rng.uniform(-1, 1, fan_in)], 0.0) for _ in range(fan_out)]
              for fan_in, fan_out in zip(sizes[:-1], sizes[1:])]
    return X, y, layers


def scalar_forward(layers, row, relu):
    """micrograd's Neuron: b + w·x unit by unit, ReLU on every layer but the last."""
    values = row
    for depth, layer in enumerate(layers):
        outputs = []
        for weights, bias in layer:
            total = bias
            for weight, value in zip(weights, values):
                total = total + weight * value
            outputs.append(total if depth == len(layers) - 1 else relu(total))
        values = outputs
    return values[0]


def scalar_loss(layers, params, inputs, y, relu):
    """Max-margin loss averaged over the points, plus 1e-4 × the sum of squared parameters."""
    scores = [scalar_forward(layers, row, relu) for row in inputs]
    margins = [relu(1 + score * float(-label)) for score, label in zip(scores, y)]
    loss = sum(margins[1:], margins[0]) * (1.0 / len(margins))
    squares = [p * p for p in params]
    return loss + sum(squares[1:], squares[0]) * 1e-4


def gradtrace_scalar_step(problem):
    """One training step with every number a 0-d gradtrace tensor, traced."""
    from gradtrace import relu
    from gradtrace import tensor

    X, y, start = problem
    layers = [[([tensor(w, f"w{depth}") for w in weights], tensor(bias, "b"))
               for weights, bias in layer] for depth, layer in enumerate(start)]
    params = [p for layer in layers for weights, bias in layer for p in (*weights, bias)]
    inputs = [[tensor(float(v), requires_grad=False) for v in row] for row in X]

    def step():
        for p in params:
            p.grad = None  # .grad accumulates, as in PyTorch: each step starts afresh
        loss = scalar_loss(layers, params, inputs, y, relu)
        loss.backward()
        for p in params:
            p.value = p.value - 0.01 * p.grad
        return loss.item()

    return step, len(params)


def micrograd_scalar_step(problem):
    """The same step in micrograd (Karpathy's engine), when it is installed."""
    try:
        from micrograd.engine import Value
    except ImportError:
        return None
    X, y, start = problem
    layers = [[([Value(w) for w in weights], Value(bias)) for weights, bias in layer]
              for layer in start]
    params = [p for layer in layers for weights, bias in layer for p in (*weights, bias)]

    def step():
        inputs = [[Value(float(v)) for v in row] for row in X]
        loss = scalar_loss(layers, params, inputs, y, lambda v: v.relu())
        for p in params:
            p.grad = 0.0
        loss.backward()
        for p in params:
            p.data -= 0.01 * p.grad
        return loss.data

    return step


def scalar_report(problem) -> str:
    """Seconds a step, gradtrace against micrograd run in turn (median of 5 each; the first
    step, which warms caches, counts like the others)."""
    works = {"gradtrace": gradtrace_scalar_step(problem)[0]}
    micrograd = micrograd_scalar_step(problem)
    if micrograd is not None:
        works["micrograd"] = micrograd
    times = {name: [] for name in works}
    losses = {}
    for _ in range(5):
        for name, work in works.items():
            gc.collect()  # micrograd leaves cyclic garbage: collect it before, not during, the next
            start = time.perf_counter()
            losses.setdefault(name, work())
            times[name].append(time.perf_counter() - start)
    medians = {name: statistics.median(values) for name, values in times.items()}
    text = ("S  scalar MLP 2-16-16-1 (337 scalar parameters) on 100 points, op by op, first loss "
            + ", ".join(f"{name} {loss:.6f}" for name, loss in losses.items()) + ":\n"
            + f"   gradtrace {medians['gradtrace']:.2f} s a step (traced)")
    if micrograd is None:
        return text + "; micrograd not installed (pip install micrograd): skipped"
    ratio = medians["gradtrace"] / medians["micrograd"]
    return (text + f", micrograd {medians['micrograd']:.2f} s: {ratio:.2f}× micrograd's time "
            f"(target < 1×: {'met' if ratio < 1 else 'missed'})")


# -- main ----------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--threads", default="1")
    parser.add_argument("--only", default="W2,W3,S")
    parser.add_argument("--worker", help=argparse.SUPPRESS)  # name:implementation, internal
    args = parser.parse_args()
    if args.worker:
        import json

        name, implementation = args.worker.split(":", 1)
        print(json.dumps(worker(name, implementation, args.runs)))
        return
    chosen = set(args.only.split(","))
    print(environment())
    print(f"{args.rounds} rounds of {args.runs} timed steps, each implementation in its own "
          "process")
    if "S" in chosen:
        print(scalar_report(scalar_problem(np.random.default_rng(0))))
    rows = ["| workload | implementation | median ms | ratio to limit | peak memory | goals |",
            "|---|---|---:|---:|---:|---|"]
    for name in ("W2", "W3"):
        if name in chosen:
            notes, lines = workload(name, args.runs, args.rounds)
            print("\n".join(notes))
            rows += lines
    if len(rows) > 2:
        print("\n".join(rows))


if __name__ == "__main__":
    main()
