"""04 — Catching a sign slip in the notes (the backprop notes, "神经网络梯度计算").

The notes write ∂L/∂ω = (y − ŷ) ŷ (1 − ŷ) α for L = ½(y − ŷ)², ŷ = σ(ω α + c).
The traced gradient disagrees; the corrected (ŷ − y) ŷ (1 − ŷ) α agrees at every point.
"""

import gradtrace

LOSS = "(y - sigmoid(w*a + c))**2/2"
Y_HAT = "sigmoid(w*a + c)"
AS_WRITTEN = f"w=(y - {Y_HAT})*{Y_HAT}*(1 - {Y_HAT})*a"
CORRECTED = f"w=({Y_HAT} - y)*{Y_HAT}*(1 - {Y_HAT})*a"

report = gradtrace.check(LOSS, samples=20, seed=4, claims=[AS_WRITTEN, CORRECTED], wrt="w")
print(report.to_text())
