"""03 — One step of linear regression (the nndl slides, the back-propagation table).

L = (w*x + b - y)**2 / 2 at x=1.5, w=0.8, b=0.2, y=0.8: y_pred = 1.4, L = 0.18,
dL/dw = 0.9, dL/db = 0.6. Then one gradient-descent step with learning rate 0.1.
"""

import gradtrace

POINT = {"x": 1.5, "w": 0.8, "b": 0.2, "y": 0.8}
trace = gradtrace.explain("(w*x+b-y)**2/2", at=POINT)
print(trace.to_text())

learning_rate = 0.1
gradients = trace.gradients
for name in ("w", "b"):
    updated = POINT[name] - learning_rate * gradients[name]
    print(f"{name}: {POINT[name]} - {learning_rate} × {gradients[name]:.2f} = {updated:.2f}")
after = gradtrace.explain("(w*x+b-y)**2/2", at={
    **POINT, "w": POINT["w"] - learning_rate * gradients["w"],
    "b": POINT["b"] - learning_rate * gradients["b"]}, check=False)
print(f"loss {trace.value:.4f} → {after.value:.4f}")
