"""02 — The logistic unit of the nndl slides and the chain rule, path by path.

f(x; w, b) = 1/(exp(-(w*x + b)) + 1) at x=1, w=0, b=0. The notes multiply the local derivatives
along the path from f down to w:  ∂f/∂w = 1 × -0.25 × 1 × 1 × -1 × 1 × 1 = 0.25.
Printed as Markdown, ready to paste into notes.
"""

import gradtrace

trace = gradtrace.explain("1/(exp(-(w*x+b))+1)", at={"x": 1, "w": 0, "b": 0})
print(trace.to_markdown())
