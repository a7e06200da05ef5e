"""06 — Tracing Python code instead of a string: gradtrace tensors, PyTorch style."""

import gradtrace

w0 = gradtrace.tensor(2.0, name="w0")
x0 = gradtrace.tensor(-1.0, name="x0")
w1 = gradtrace.tensor(-3.0, name="w1")
x1 = gradtrace.tensor(-2.0, name="x1")
w2 = gradtrace.tensor(-3.0, name="w2")

f = 1 / (1 + gradtrace.exp(-(w0 * x0 + w1 * x1 + w2)))
trace = f.backward()  # sets .grad on every input and returns the trace

for leaf in (w0, x0, w1, x1, w2):
    print(f"{leaf.name}.grad = {float(leaf.grad):.4f}")
print(trace.to_markdown())
