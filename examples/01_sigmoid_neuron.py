"""01 — The sigmoid neuron of the notes (the CS231n backprop notes, "backward flow"), gate by gate.

f = 1/(1+exp(-(w0*x0 + w1*x1 + w2))) at w0=2, x0=-1, w1=-3, x1=-2, w2=-3.
The notes' line: -0.53 = 1 × (-1/1.37²), the reciprocal gate's local gradient.
Then the same neuron with the composite collapsed: one sigmoid gate, local gradient
σ(1−σ) = 0.73 × 0.27 = 0.20.
"""

import gradtrace

EXPRESSION = "1/(1+exp(-(w0*x0+w1*x1+w2)))"
POINT = {"w0": 2, "x0": -1, "w1": -3, "x1": -2, "w2": -3}

trace = gradtrace.explain(EXPRESSION, at=POINT)
print(trace.to_text())

fused = gradtrace.explain(EXPRESSION, at=POINT, fuse=True, check=False)
print(fused.to_text())
