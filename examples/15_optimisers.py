"""15 — SGD, Momentum, AdaGrad, RMSProp and Adam on the notes' elongated bowl (《深度学习入门》 §6.1,
nndl's 优化问题, CS231n's Fancier optimization).

The surface is f(x, y) = x²/20 + y², from (−7, 2), 30 steps each, with the book's learning rates.
(The notes write the example as f(x, y) = x² + y²; that bowl is round, SGD would go straight to
the minimum, and the book's figure needs the 1/20 that makes it 20 times steeper in y than in x.)

The notes' update rules, g the gradient (here (x/10, 2y)):
    SGD        θ ← θ − ηg
    Momentum   v ← αv − ηg;  θ ← θ + v                      (α = 0.9)
    AdaGrad    h ← h + g⊙g;  θ ← θ − ηg/(√h + δ)            (δ = 1e-7)
    RMSProp    r ← ρr + (1 − ρ)g⊙g;  θ ← θ − ηg/(√r + δ)
    Adam       s ← ρ₁s + (1 − ρ₁)g;  r ← ρ₂r + (1 − ρ₂)g⊙g;  ŝ = s/(1 − ρ₁ᵗ);  r̂ = r/(1 − ρ₂ᵗ)
               θ ← θ − ηŝ/(√r̂ + δ)   (the nndl slide ends this line with a stray "g")
First steps by hand from g = (−0.7, 4): SGD (η = 0.95) to (−6.335, −1.8); Momentum (η = 0.1)
to (−6.93, 1.6); AdaGrad's and Adam's first steps move each coordinate by η whatever |g| is
(g/√(g²) = ±1): AdaGrad (η = 1.5) to (−5.5, 0.5), Adam (η = 0.3) to (−6.7, 1.7).
"""

import numpy as np

import gradtrace
from gradtrace import optim


def f(p):
    return p[0] ** 2 / 20 + p[1] ** 2


START = [-7.0, 2.0]
OPTIMISERS = {
    "SGD": lambda params: optim.SGD(params, lr=0.95),
    "Momentum": lambda params: optim.Momentum(params, lr=0.1, momentum=0.9),
    "AdaGrad": lambda params: optim.AdaGrad(params, lr=1.5),
    "RMSProp": lambda params: optim.RMSProp(params, lr=0.1, decay=0.9),
    "Adam": lambda params: optim.Adam(params, lr=0.3),
}
FIRST_STEP = {"SGD": (-6.335, -1.8), "Momentum": (-6.93, 1.6), "AdaGrad": (-5.5, 0.5),
              "RMSProp": (-7 + 0.1 / np.sqrt(0.1), 2 - 0.1 / np.sqrt(0.1)), "Adam": (-6.7, 1.7)}

print(f"f{tuple(START)} = {f(START):.2f}")
paths = {}
for name, make in OPTIMISERS.items():
    p = gradtrace.tensor(START, dtype=gradtrace.float64, requires_grad=True)
    optimizer = make([p])
    path = [p.tolist()]
    for _ in range(30):
        optimizer.zero_grad()
        f(p).backward()
        optimizer.step()
        path.append(p.tolist())
    paths[name] = np.array(path)
    first, last = path[1], path[-1]
    print(f"{name:8}  first step to ({first[0]:.4f}, {first[1]:.4f}), after 30 steps "
          f"({last[0]:8.4f}, {last[1]:8.4f}), f = {f(last):.4f}")
    assert np.allclose(first, FIRST_STEP[name], rtol=1e-6), name
    assert f(last) < f(START), name

# SGD's zigzag: with η = 0.95 the y step is y ← y − 0.95·2y = −0.9y, across the valley each time
print("\nSGD's y, step by step:", np.round(paths["SGD"][:6, 1], 3).tolist())
assert np.allclose(paths["SGD"][:6, 1], 2 * (-0.9) ** np.arange(6))
# along x the slope is gentle: SGD creeps (x ← 0.905x, never past 0); momentum's velocity
# builds up and carries it past the minimum, like the notes' ball rolling with inertia
print("x, every 5 steps:")
for name in ("SGD", "Momentum"):
    print(f"  {name:8}", np.round(paths[name][::5, 0], 2).tolist())
assert np.all(paths["SGD"][:, 0] < 0) and paths["Momentum"][:, 0].max() > 0
