"""13 — Batch normalisation, forward and backward (《深度学习入门》 §6.3, CS231n's 批量归一化).

Over a mini-batch of m inputs, per feature (the notes' formulas):
    μ_B = (1/m) Σ xᵢ,   σ²_B = (1/m) Σ (xᵢ − μ_B)²,   x̂ᵢ = (xᵢ − μ_B)/√(σ²_B + ε),   yᵢ = γx̂ᵢ + β
γ starts at 1 and β at 0, so a fresh layer outputs x̂: mean 0, variance 1 (σ²/(σ² + ε)).

Backward, with g = ∂L/∂y (CS231n's batchnorm_backward_alt):
    ∂L/∂γ = Σ gᵢx̂ᵢ,   ∂L/∂β = Σ gᵢ,
    ∂L/∂xᵢ = γ/(m√(σ²_B + ε)) · (m·gᵢ − Σⱼ gⱼ − x̂ᵢ Σⱼ gⱼx̂ⱼ)
Every xᵢ moves μ_B and σ²_B too, so the gradients of a feature sum to 0: adding a constant to
the whole batch changes nothing after normalisation.

Training keeps running averages (PyTorch: r ← 0.9·r + 0.1·batch value, the variance unbiased);
evaluation normalises with those instead of the batch's.
"""

import numpy as np

import gradtrace
import gradtrace.nn as nn

x = np.array([[1.0, 50.0, -2.0],
              [2.0, 60.0, -2.5],
              [4.0, 55.0, -1.0],
              [9.0, 45.0, -3.5]])  # m = 4 samples, 3 features on very different scales
m, eps = len(x), 1e-5
layer = nn.BatchNorm1d(3, dtype=gradtrace.float64)
print("γ =", layer.weight.tolist(), " β =", layer.bias.tolist())
assert layer.weight.tolist() == [1.0, 1.0, 1.0] and layer.bias.tolist() == [0.0, 0.0, 0.0]

inputs = gradtrace.tensor(x, name="x")
y = layer(inputs)

mu = x.mean(axis=0)  # the notes' formulas, in numpy
var = ((x - mu) ** 2).mean(axis=0)
x_hat = (x - mu) / np.sqrt(var + eps)
print("μ_B =", mu.tolist(), " σ²_B =", var.round(4).tolist())
print("y = γx̂ + β:\n", y.detach().numpy().round(4))
print("per feature: mean", y.detach().numpy().mean(axis=0).round(6).tolist(),
      " variance", y.detach().numpy().var(axis=0).round(6).tolist())
assert np.allclose(y.detach().numpy(), x_hat, rtol=1e-12)

g = np.array([[0.1, -0.2, 0.3],
              [0.4, 0.5, -0.6],
              [-0.7, 0.8, 0.9],
              [1.0, -1.1, 1.2]])  # some ∂L/∂y, L = Σ g ⊙ y
(y * gradtrace.tensor(g)).sum().backward()

gamma = layer.weight.detach().numpy()
dx = gamma / (m * np.sqrt(var + eps)) * (m * g - g.sum(axis=0) - x_hat * (g * x_hat).sum(axis=0))
print("\n∂L/∂γ = Σ g·x̂ =", layer.weight.grad.numpy().round(4).tolist())
print("∂L/∂β = Σ g   =", layer.bias.grad.numpy().round(4).tolist())
print("∂L/∂x traced:\n", inputs.grad.numpy().round(5))
print("largest difference from the formula:", np.abs(inputs.grad.numpy() - dx).max())
print("each feature's gradients add up to", inputs.grad.numpy().sum(axis=0).round(12).tolist())
assert np.allclose(inputs.grad.numpy(), dx, rtol=1e-9, atol=1e-15)
assert np.allclose(layer.weight.grad.numpy(), (g * x_hat).sum(axis=0))
assert np.allclose(layer.bias.grad.numpy(), g.sum(axis=0))
assert np.allclose(inputs.grad.numpy().sum(axis=0), 0, atol=1e-12)

# running statistics: moved once by this batch, then used in evaluation mode
print("\nrunning mean 0.9·0 + 0.1·μ_B =", layer.running_mean.tolist())
print("running var  0.9·1 + 0.1·σ²_B·m/(m − 1) =", np.round(layer.running_var.tolist(), 4).tolist())
assert np.allclose(layer.running_mean.numpy(), 0.1 * mu)
assert np.allclose(layer.running_var.numpy(), 0.9 + 0.1 * var * m / (m - 1))
layer.eval()
evaluated = layer(gradtrace.tensor(x)).detach().numpy()
expected = (x - 0.1 * mu) / np.sqrt(0.9 + 0.1 * var * m / (m - 1) + eps)
print("eval mode, the same batch normalised with the running statistics (one batch has barely "
      "moved them from 0 and 1):\n", evaluated.round(4))
assert np.allclose(evaluated, expected)
