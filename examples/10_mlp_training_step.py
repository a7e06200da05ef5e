"""10 — One training step of the notes' multilayer perceptron, layer by layer (d2l's 多层感知机:
4 inputs, a hidden layer of 5 units, 3 outputs; nndl's 前馈神经网络 notation).

Forward:   z⁽¹⁾ = W⁽¹⁾a⁽⁰⁾ + b⁽¹⁾,  a⁽¹⁾ = σ(z⁽¹⁾),  z⁽²⁾ = W⁽²⁾a⁽¹⁾ + b⁽²⁾,  ŷ = softmax(z⁽²⁾)
Loss:      L = −yᵀ log ŷ (cross-entropy), averaged over the batch
Backward:  δ⁽²⁾ = ŷ − y    (softmax with cross-entropy, 《深度学习入门》 §5.2.3; ŷ − y, not the
                           y − ŷ of the slip example 04 catches)
           ∂L/∂W⁽²⁾ = δ⁽²⁾a⁽¹⁾ᵀ,  ∂L/∂b⁽²⁾ = δ⁽²⁾
           δ⁽¹⁾ = σ′(z⁽¹⁾) ⊙ W⁽²⁾ᵀδ⁽²⁾,  σ′ = σ(1 − σ)
           ∂L/∂W⁽¹⁾ = δ⁽¹⁾a⁽⁰⁾ᵀ,  ∂L/∂b⁽¹⁾ = δ⁽¹⁾
Update:    W ← W − α·∂L/∂W

The network has 4×5 + 5 = 25 and 5×3 + 3 = 18 parameters: 43, in 2 layers (the input layer
computes nothing, so d2l counts 2). The traced gradients are checked against these formulas,
worked in numpy; then one SGD step lowers the loss.
"""

import numpy as np

import gradtrace
import gradtrace.nn as nn
import gradtrace.nn.functional as F

rng = np.random.default_rng(0)  # gradtrace's style: a numpy Generator, float64 weights
net = nn.Sequential(nn.Linear(4, 5, rng=rng), nn.Sigmoid(), nn.Linear(5, 3, rng=rng))
counts = [p.numel() for p in net.parameters()]
print(f"4-5-3: {counts[0]} + {counts[1]} = {counts[0] + counts[1]} and "
      f"{counts[2]} + {counts[3]} = {counts[2] + counts[3]}: {sum(counts)} parameters")
assert sum(counts) == 43

# a batch of two samples, one per row (PyTorch's layout: a⁽⁰⁾ is a column in the notes)
x = gradtrace.tensor(rng.standard_normal((2, 4)).round(2), name="x")
labels = np.array([0, 2])
loss = F.cross_entropy(net(x), labels)
trace = loss.backward()  # fills W.grad and b.grad of both layers, and returns the trace

# The same step written out with the notes' formulas, in plain numpy.
W1, b1, W2, b2 = (p.detach().numpy() for p in net.parameters())
a0 = x.numpy(force=True)
z1 = a0 @ W1.T + b1
a1 = 1 / (1 + np.exp(-z1))
z2 = a1 @ W2.T + b2
y_hat = np.exp(z2) / np.exp(z2).sum(axis=1, keepdims=True)
y = np.eye(3)[labels]
delta2 = (y_hat - y) / len(labels)  # the mean over the batch divides by N
delta1 = a1 * (1 - a1) * (delta2 @ W2)
by_hand = {"0.weight": delta1.T @ a0, "0.bias": delta1.sum(axis=0),
           "2.weight": delta2.T @ a1, "2.bias": delta2.sum(axis=0)}

print(f"\nforward: a⁽⁰⁾ {a0.shape} → z⁽¹⁾ {z1.shape} → a⁽¹⁾ = σ(z⁽¹⁾) → z⁽²⁾ {z2.shape} → ŷ; "
      f"L = {loss.item():.4f}")
print("ŷ =", np.round(y_hat, 3).tolist(), " y =", y.tolist())
print("δ⁽²⁾ = (ŷ − y)/N =", np.round(delta2, 3).tolist())
print("δ⁽¹⁾ = σ(z⁽¹⁾)(1 − σ(z⁽¹⁾)) ⊙ W⁽²⁾ᵀδ⁽²⁾ =", np.round(delta1, 3).tolist())
for name, parameter in net.named_parameters():
    difference = np.abs(parameter.grad.numpy() - by_hand[name]).max()
    print(f"∂L/∂{name:8} traced vs the notes' formula: largest difference {difference:.1e}")
    assert difference < 1e-12

optimizer = gradtrace.optim.SGD(net.parameters(), lr=0.5)
optimizer.step()
after = F.cross_entropy(net(x), labels).item()
print(f"\nW ← W − 0.5·∂L/∂W: loss {loss.item():.4f} → {after:.4f}")
assert after < loss.item()

print("\nThe same step as gradtrace traced it, op by op:\n")
print(trace.to_text())
