"""09 — Forward mode and reverse mode (nndl, 前向模式和反向模式).

The whole Jacobian of y = tanh(W @ x) with respect to x, built twice: in reverse mode, one
vector–Jacobian product per OUTPUT element (a row each); in forward mode, one Jacobian–vector
product per INPUT element (a column each). Same matrix; the pass counts differ, and for a
scalar loss over many parameters reverse mode needs a single pass.
"""

import numpy as np

import gradtrace

for expression, wrt in [("tanh(W@x)", "x"), ("sum(tanh(W@x))", "W")]:
    report = gradtrace.jacobian(expression, at={"W": np.random.default_rng(0).standard_normal(
        (20, 30)), "x": np.ones(30)}, wrt=wrt)
    jac = report.jacobian
    print(f"{expression} w.r.t. {wrt}: Jacobian {jac.reverse.shape[0]} × {jac.reverse.shape[1]}; "
          f"reverse {jac.reverse_passes} passes in {jac.reverse_seconds * 1e3:.2f} ms, "
          f"forward {jac.forward_passes} passes in {jac.forward_seconds * 1e3:.2f} ms; "
          f"max difference {jac.max_difference:.1e}")
