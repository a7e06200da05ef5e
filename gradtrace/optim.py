"""Optimisers, named as in `torch.optim`, with the update rules of the course notes.

Notation (the nndl slides and 《深度学习入门》): θ a parameter, g = ∂L/∂θ its gradient (`.grad`, filled by
`loss.backward()`), ε the learning rate `lr`, δ a small number that keeps a division finite,
t the step count. With weight decay λ the L2 penalty ½λ‖θ‖² is added to the loss, so its
gradient λθ is added to g before the update (《深度学习入门》 §6.4.2): g ← g + λθ.

Updates run in place on the parameters' numpy arrays, in their own float type (float32 stays
float32), with scratch buffers kept per parameter so a step allocates nothing. The one
exception: while a Trace from `loss.backward()` is still held, it shows the values it was
computed with, so the parameter gets a fresh copy to update. Parameters whose `.grad` is None
(not reached by the loss) are skipped.
"""

from __future__ import annotations

import numpy as np

__all__ = ["Optimizer", "SGD", "Momentum", "Nesterov", "AdaGrad", "RMSProp", "Adam"]


class Optimizer:
    """Holds the parameters (any tensors with `.value` and `.grad`) and one state per
    parameter; subclasses define `_update(index, θ, g)`."""

    def __init__(self, params, lr: float, weight_decay: float = 0.0):
        self.params = list(params)
        if not self.params:
            raise ValueError(f"{type(self).__name__} got an empty parameter list")
        if lr <= 0 or weight_decay < 0:
            raise ValueError("lr must be positive and weight_decay at least 0")
        self.lr, self.weight_decay = float(lr), float(weight_decay)
        self.steps = 0  # t
        self._scratch = [np.empty_like(p.value) for p in self.params]

    def zero_grad(self) -> None:
        for parameter in self.params:
            parameter.grad = None

    def step(self) -> None:
        """One update of every parameter that has a gradient."""
        self.steps += 1
        for index, parameter in enumerate(self.params):
            if parameter.grad is None:
                continue
            theta = parameter.value
            held = getattr(parameter, "held_by_trace", None)  # any object with .value works
            if held is not None and held():
                theta = parameter.value = theta.copy()  # the trace keeps the old array
            grad = np.asarray(parameter.grad, dtype=theta.dtype)
            if self.weight_decay:
                grad = np.multiply(theta, self.weight_decay, out=self._scratch[index])
                grad += parameter.grad  # g + λθ, without touching .grad
            self._update(index, theta, grad)

    def _update(self, index: int, theta: np.ndarray, grad: np.ndarray) -> None:
        raise NotImplementedError

    def _state(self) -> list[np.ndarray]:
        return [np.zeros_like(p.value) for p in self.params]


class SGD(Optimizer):
    """Stochastic gradient descent: θ ← θ − ε·g."""

    def __init__(self, params, lr: float, weight_decay: float = 0.0):
        super().__init__(params, lr, weight_decay)
        self._step = [np.empty_like(p.value) for p in self.params]

    def _update(self, index, theta, grad):
        theta -= np.multiply(grad, self.lr, out=self._step[index])


class Momentum(Optimizer):
    """Momentum (nndl; 《深度学习入门》 §6.1.2): v ← α·v − ε·g; θ ← θ + v, v starting at 0 and α
    (`momentum`, about 0.9) acting as friction."""

    def __init__(self, params, lr: float, momentum: float = 0.9, weight_decay: float = 0.0):
        super().__init__(params, lr, weight_decay)
        self.momentum = float(momentum)
        self.velocity = self._state()
        self._step = [np.empty_like(p.value) for p in self.params]

    def _update(self, index, theta, grad):
        v = self.velocity[index]
        v *= self.momentum
        v -= np.multiply(grad, self.lr, out=self._step[index])
        theta += v


class Nesterov(Momentum):
    """Nesterov momentum (the CS231n notes): the gradient is taken after the velocity's step. Written
    with the gradient at θ (Sutskever's form, as PyTorch's nesterov=True):
    v ← α·v − ε·g; θ ← θ + α·v − ε·g."""

    def _update(self, index, theta, grad):
        v, step = self.velocity[index], self._step[index]
        v *= self.momentum
        v -= np.multiply(grad, self.lr, out=step)  # step = ε·g
        theta -= step
        theta += np.multiply(v, self.momentum, out=step)


class AdaGrad(Optimizer):
    """AdaGrad (nndl; 《深度学习入门》 §6.1.3): h ← h + g ⊙ g; θ ← θ − ε·g / (sqrt(h) + δ).
    Every element gets its own learning rate, shrinking as its squared gradients add up."""

    def __init__(self, params, lr: float = 0.01, eps: float = 1e-7, weight_decay: float = 0.0):
        super().__init__(params, lr, weight_decay)
        self.eps = float(eps)
        self.sum_squares = self._state()
        self._step = [np.empty_like(p.value) for p in self.params]

    def _update(self, index, theta, grad):
        h, step = self.sum_squares[index], self._step[index]
        h += np.multiply(grad, grad, out=step)
        _scaled_step(theta, grad, h, self.lr, self.eps, step)


class RMSProp(Optimizer):
    """RMSProp (nndl): r ← ρ·r + (1 − ρ)·g ⊙ g; θ ← θ − ε·g / (sqrt(r) + δ). Like AdaGrad,
    but old gradients fade (an exponential moving average, ρ = `decay`)."""

    def __init__(self, params, lr: float = 0.01, decay: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0):
        super().__init__(params, lr, weight_decay)
        self.decay, self.eps = float(decay), float(eps)
        self.mean_squares = self._state()
        self._step = [np.empty_like(p.value) for p in self.params]

    def _update(self, index, theta, grad):
        r, step = self.mean_squares[index], self._step[index]
        r *= self.decay
        np.multiply(grad, grad, out=step)
        step *= 1.0 - self.decay
        r += step
        _scaled_step(theta, grad, r, self.lr, self.eps, step)


class Adam(Optimizer):
    """Adam (nndl): momentum and RMSProp with bias correction, t counting steps from 1:
    s ← ρ₁·s + (1 − ρ₁)·g;  r ← ρ₂·r + (1 − ρ₂)·g ⊙ g;
    ŝ = s / (1 − ρ₁ᵗ);  r̂ = r / (1 − ρ₂ᵗ);  θ ← θ − ε·ŝ / (sqrt(r̂) + δ),
    with (ρ₁, ρ₂) = `betas` and δ = `eps`. (The notes' last line carries a stray trailing g; the
    update is ε·ŝ/(sqrt(r̂) + δ), as in the Adam paper.)"""

    def __init__(self, params, lr: float = 0.001, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0):
        super().__init__(params, lr, weight_decay)
        self.betas, self.eps = (float(betas[0]), float(betas[1])), float(eps)
        self.first_moment = self._state()  # s
        self.second_moment = self._state()  # r
        self._step = [np.empty_like(p.value) for p in self.params]

    def _update(self, index, theta, grad):
        (rho1, rho2), t = self.betas, self.steps
        s, r, step = self.first_moment[index], self.second_moment[index], self._step[index]
        s *= rho1
        s += np.multiply(grad, 1.0 - rho1, out=step)
        r *= rho2
        np.multiply(grad, grad, out=step)
        step *= 1.0 - rho2
        r += step
        # ŝ/(sqrt(r̂) + δ) without allocating ŝ and r̂
        np.divide(r, 1.0 - rho2**t, out=step)
        np.sqrt(step, out=step)
        step += self.eps
        np.divide(s, step, out=step)
        step *= self.lr / (1.0 - rho1**t)
        theta -= step


def _scaled_step(theta, grad, accumulated, lr, eps, step) -> None:
    """θ ← θ − ε·g / (sqrt(accumulated) + δ), through the scratch buffer `step`."""
    np.sqrt(accumulated, out=step)
    step += eps
    np.divide(grad, step, out=step)
    step *= lr
    theta -= step
