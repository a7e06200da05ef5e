"""gradtrace.optim: each update checked against its formula (seeds 002/003), worked by hand
for two steps; weight decay; and the optimisers on a real loss."""

from __future__ import annotations

import numpy as np
import pytest

import gradtrace
from gradtrace import nn, optim

THETA = np.array([1.0, -2.0, 0.5])
GRADS = (np.array([0.2, -0.4, 1.0]), np.array([0.1, 0.3, -0.5]))  # g at step 1, step 2
LR = 0.1


def two_steps(optimiser, **options):
    """θ after two steps with the gradients GRADS (set by hand: no backward pass)."""
    parameter = nn.Parameter(THETA)
    opt = optimiser([parameter], lr=LR, **options)
    for grad in GRADS:
        parameter.grad = grad.copy()
        opt.step()
    return parameter.value


def test_sgd():
    # θ ← θ − ε·g
    expected = THETA - LR * GRADS[0] - LR * GRADS[1]
    np.testing.assert_allclose(two_steps(optim.SGD), expected, rtol=1e-15)


def test_momentum():
    # v ← α·v − ε·g; θ ← θ + v
    v1 = -LR * GRADS[0]
    v2 = 0.9 * v1 - LR * GRADS[1]
    np.testing.assert_allclose(two_steps(optim.Momentum), THETA + v1 + v2, rtol=1e-15)


def test_nesterov():
    # v ← α·v − ε·g; θ ← θ + α·v − ε·g
    v1 = -LR * GRADS[0]
    theta1 = THETA + 0.8 * v1 - LR * GRADS[0]
    v2 = 0.8 * v1 - LR * GRADS[1]
    theta2 = theta1 + 0.8 * v2 - LR * GRADS[1]
    np.testing.assert_allclose(two_steps(optim.Nesterov, momentum=0.8), theta2, rtol=1e-15)


def test_adagrad():
    # h ← h + g²; θ ← θ − ε·g/(√h + δ)
    h1 = GRADS[0] ** 2
    theta1 = THETA - LR * GRADS[0] / (np.sqrt(h1) + 1e-7)
    h2 = h1 + GRADS[1] ** 2
    theta2 = theta1 - LR * GRADS[1] / (np.sqrt(h2) + 1e-7)
    np.testing.assert_allclose(two_steps(optim.AdaGrad), theta2, rtol=1e-14)


def test_rmsprop():
    # r ← ρ·r + (1 − ρ)·g²; θ ← θ − ε·g/(√r + δ)
    r1 = 0.1 * GRADS[0] ** 2
    theta1 = THETA - LR * GRADS[0] / (np.sqrt(r1) + 1e-8)
    r2 = 0.9 * r1 + 0.1 * GRADS[1] ** 2
    theta2 = theta1 - LR * GRADS[1] / (np.sqrt(r2) + 1e-8)
    np.testing.assert_allclose(two_steps(optim.RMSProp, decay=0.9), theta2, rtol=1e-14)


def test_adam():
    # s ← ρ₁s + (1 − ρ₁)g; r ← ρ₂r + (1 − ρ₂)g²; ŝ = s/(1 − ρ₁ᵗ); r̂ = r/(1 − ρ₂ᵗ);
    # θ ← θ − ε·ŝ/(√r̂ + δ)
    s1, r1 = 0.1 * GRADS[0], 0.001 * GRADS[0] ** 2
    theta1 = THETA - LR * (s1 / 0.1) / (np.sqrt(r1 / 0.001) + 1e-8)
    s2, r2 = 0.9 * s1 + 0.1 * GRADS[1], 0.999 * r1 + 0.001 * GRADS[1] ** 2
    s_hat, r_hat = s2 / (1 - 0.9**2), r2 / (1 - 0.999**2)
    theta2 = theta1 - LR * s_hat / (np.sqrt(r_hat) + 1e-8)
    np.testing.assert_allclose(two_steps(optim.Adam), theta2, rtol=1e-13)


def test_adam_first_step_moves_every_element_by_about_the_learning_rate():
    # bias correction at work: ŝ/√r̂ = g/|g| at t = 1
    moved = nn.Parameter(THETA)
    opt = optim.Adam([moved], lr=LR)
    moved.grad = GRADS[0].copy()
    opt.step()
    np.testing.assert_allclose(THETA - moved.value, LR * np.sign(GRADS[0]), rtol=1e-6)


@pytest.mark.parametrize("optimiser", [optim.SGD, optim.Momentum, optim.Adam, optim.AdaGrad])
def test_weight_decay_adds_lambda_theta_to_the_gradient(optimiser):
    # ½λ‖θ‖² added to the loss: g ← g + λθ (seed 003 §6.4.2), .grad itself left alone
    decayed = nn.Parameter(THETA)
    plain = nn.Parameter(THETA)
    with_decay = optimiser([decayed], lr=LR, weight_decay=0.5)
    without = optimiser([plain], lr=LR)
    for grad in GRADS:
        decayed.grad = grad.copy()
        with_decay.step()
        np.testing.assert_array_equal(decayed.grad, grad)
        plain.grad = grad + 0.5 * plain.value
        without.step()
    np.testing.assert_allclose(decayed.value, plain.value, rtol=1e-14)


def test_parameters_without_gradient_are_left_alone_and_zero_grad_clears():
    used, unused = nn.Parameter(THETA), nn.Parameter(THETA)
    opt = optim.SGD([used, unused], lr=LR)
    used.grad = GRADS[0]
    opt.step()
    np.testing.assert_array_equal(unused.value, THETA)
    assert not np.array_equal(used.value, THETA)
    opt.zero_grad()
    assert used.grad is None
    with pytest.raises(ValueError, match="empty"):
        optim.SGD([], lr=0.1)


@pytest.mark.parametrize("optimiser, lr", [(optim.SGD, 0.9), (optim.Momentum, 0.1),
                                           (optim.Nesterov, 0.1), (optim.AdaGrad, 1.0),
                                           (optim.RMSProp, 0.05), (optim.Adam, 0.2)])
def test_each_optimiser_minimises_an_elongated_bowl_through_backward(optimiser, lr):
    # f(x, y) = x²/20 + y², seed 003 §6.1, from (−7, 2): every optimiser ends near (0, 0)
    x, y = gradtrace.tensor(-7.0, name="x"), gradtrace.tensor(2.0, name="y")
    opt = optimiser([x, y], lr=lr)
    for _ in range(300):
        opt.zero_grad()  # gradients add up across backward() calls, as in PyTorch
        (x**2 / 20 + y**2).backward()
        opt.step()
    assert abs(x.item()) < 0.5 and abs(y.item()) < 0.1, optimiser.__name__


def test_a_trace_still_held_keeps_the_values_it_was_computed_with():
    w = nn.Parameter(np.array([1.0, -2.0]), name="w")
    trace = (w * w).sum().backward()
    optim.SGD([w], lr=0.25).step()
    np.testing.assert_array_equal(w.value, [0.5, -1.0])  # w − 0.25 · 2w
    np.testing.assert_array_equal(trace.values["w"], [1.0, -2.0])
    assert "w = [1.00, -2.00]" in trace.to_text()


def test_without_a_held_trace_the_update_is_in_place():
    w = nn.Parameter(np.array([1.0, -2.0]), name="w")
    array = w.value
    (w * w).sum().backward()  # the trace is dropped at once
    optim.SGD([w], lr=0.25).step()
    assert w.value is array  # no copy: training loops allocate nothing per step
    np.testing.assert_array_equal(array, [0.5, -1.0])
