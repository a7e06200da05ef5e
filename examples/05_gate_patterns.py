"""05 — Patterns in backward flow (the CS231n backprop notes): add distributes, mul swaps, max routes, and a
value used twice adds the gradients of both paths."""

import gradtrace

for expression, point in [
    ("x + y", {"x": 3, "y": -4}),      # add gate: both inputs get the upstream gradient
    ("x * y", {"x": 3, "y": -4}),      # mul gate: each gets upstream × the other input
    ("max(x, y)", {"x": 3, "y": -4}),  # max gate: the larger input gets it all
    ("x * x + x", {"x": 3}),           # fan-out: 3 + 3 + 1 = 7
]:
    trace = gradtrace.explain(expression, at=point, check=False)
    print(f"{expression:10} at {point}: gradients {trace.gradients}")
