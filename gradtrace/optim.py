"""Optimisers, named and called as in `torch.optim`, with the update rules of the course notes.

Notation (the nndl slides and 《深度学习入门》): θ a parameter, g = ∂L/∂θ its gradient (`.grad`,
filled by `loss.backward()`), ε the learning rate `lr`, δ a small number that keeps a division
finite, t the step count. With weight decay λ the L2 penalty ½λ‖θ‖² is added to the loss, so
its gradient λθ is added to g before the update (《深度学习入门》 §6.4.2): g ← g + λθ.

PyTorch's classes compute PyTorch's updates in PyTorch's order of operations (SGD with its
momentum, dampening and nesterov, Adam, AdamW, RMSprop, Adagrad); gradtrace's own forms of the
notes sit beside them (Momentum and Nesterov written with a velocity v, AdaGrad and RMSProp
with the book's δ). Hyperparameters live in `param_groups` (a list of dicts, one per group,
as in PyTorch: change `param_groups[0]["lr"]` to schedule the learning rate, or let a
scheduler of `lr_scheduler` do it: StepLR, MultiStepLR, ExponentialLR, LambdaLR,
CosineAnnealingLR); what each parameter accumulates lives in `state[parameter]`, and
`state_dict()` / `load_state_dict()` save and restore both, as PyTorch's do.

Updates run in place on the parameters' numpy arrays, in their own float type (float32 stays
float32). The one exception: while a Trace from `loss.backward()` is still held, it shows the
values it was computed with, so the parameter gets a fresh copy to update. Parameters whose
`.grad` is None (not reached by the loss) are skipped.
"""

from __future__ import annotations

import math

import numpy as np

from .core import workspace
from .core.blas import MIN_ELEMENTS, axpy
from .core.arrays import quiet_end, quiet_start
from .core.i18n import _
from .core.tensor import Tensor

__all__ = ["Optimizer", "SGD", "Momentum", "Nesterov", "Adagrad", "AdaGrad", "RMSprop",
           "RMSProp", "Adam", "AdamW"]


class Optimizer:
    """Holds the parameter groups and each parameter's state; subclasses define
    `_update(θ, g, group, state)` on numpy arrays."""

    def __init__(self, params, defaults: dict):
        _check_hyperparameters(type(self).__name__, defaults)
        self.defaults = defaults
        self.param_groups: list[dict] = []
        self.state: dict = {}
        if _is_tensor(params) or not hasattr(params, "__iter__"):
            # PyTorch's rule: iterating a tensor would give its rows, never updated
            raise TypeError(_("{optimiser}: params should be an iterable of tensors or dicts "
                              "(e.g. model.parameters() or [w, b]), but got {kind}",
                              optimiser=type(self).__name__, kind=type(params).__name__))
        params = list(params)
        if not params:
            raise ValueError(f"{type(self).__name__} got an empty parameter list")
        for group in (params if isinstance(params[0], dict) else [{"params": params}]):
            self.add_param_group(group)
        self.steps = 0  # t, the steps taken

    def add_param_group(self, group: dict) -> None:
        group = dict(group)
        params = group["params"]
        group["params"] = [params] if _is_tensor(params) else list(params)
        for parameter in group["params"]:
            if not _is_tensor(parameter):
                raise TypeError(f"{type(self).__name__} can only optimize tensors, but one of "
                                f"the params is {type(parameter).__name__}")
            if getattr(parameter, "is_leaf", True) is False:  # w * 2: its updates go nowhere
                raise ValueError("can't optimize a non-leaf Tensor")
        taken = {id(p) for other in self.param_groups for p in other["params"]}
        if any(id(p) in taken for p in group["params"]):  # it would be stepped twice
            raise ValueError("some parameters appear in more than one parameter group")
        for name, value in self.defaults.items():
            group.setdefault(name, value)
        _check_hyperparameters(type(self).__name__, group)
        self.param_groups.append(group)

    @property
    def params(self) -> list:
        return [p for group in self.param_groups for p in group["params"]]

    @property
    def lr(self) -> float:
        return self.param_groups[0]["lr"]

    def zero_grad(self, set_to_none: bool = True) -> None:
        for group in self.param_groups:
            for parameter in group["params"]:
                if set_to_none and isinstance(parameter, Tensor):
                    parameter._grad = None  # what the .grad setter does with None, directly
                elif set_to_none or parameter.grad is None:
                    parameter.grad = None
                else:
                    parameter.grad.zero_()

    def step(self, closure=None):
        """One update of every parameter that has a gradient; `closure` re-evaluates the loss
        first, as in PyTorch."""
        loss = None
        if closure is not None:
            from .core.tensor import enable_grad

            with enable_grad():
                loss = closure()
        self.steps += 1
        states = self.state
        quiet = quiet_start()  # an update that overflows gives inf, as PyTorch, without warnings
        try:
            self._update_all(states)
        finally:
            quiet_end(quiet)
        return loss

    def _update_all(self, states) -> None:
        for group in self.param_groups:
            maximize = group.get("maximize")
            for parameter in group["params"]:
                if isinstance(parameter, Tensor):  # the usual case, read from its slots
                    grad = parameter._grad
                    if grad is None:
                        continue
                    theta, grad = parameter._value, grad._value
                    if parameter.held_by_trace():
                        # the trace keeps the old array; the copy keeps its layout (order K)
                        theta = parameter._value = theta.copy(order="K")
                else:  # any object with .value and .grad works
                    grad = parameter.grad
                    if grad is None:
                        continue
                    theta = parameter.value
                    held = getattr(parameter, "held_by_trace", None)
                    if held is not None and held():
                        theta = parameter.value = theta.copy(order="K")
                    grad = getattr(grad, "value", grad)
                if not (type(grad) is np.ndarray and grad.dtype == theta.dtype):
                    grad = np.asarray(grad, dtype=theta.dtype)
                if maximize:
                    grad = -grad
                state = states.get(parameter)
                if state is None:
                    state = states[parameter] = {}
                self._update(theta, grad, group, state)

    def _decayed(self, theta, grad, group):
        """g + λθ (a new array: .grad itself is left alone)."""
        decay = group.get("weight_decay", 0.0)
        return grad + decay * theta if decay else grad

    def _update(self, theta, grad, group, state) -> None:
        raise NotImplementedError

    def state_dict(self) -> dict:
        """{"state": {position: {name: value}}, "param_groups": [{hyperparameters, "params":
        [positions]}]}, as PyTorch's: parameters by their position across the groups (found by
        identity: == between tensors compares elements), arrays of state as tensors sharing
        them."""
        from .core.tensor import Tensor

        position = {id(p): i for i, p in enumerate(self.params)}
        return {"state": {position[id(p)]: {k: Tensor(v) if isinstance(v, np.ndarray) else v
                                            for k, v in s.items()}
                          for p, s in self.state.items()},
                "param_groups": [{**{k: v for k, v in g.items() if k != "params"},
                                  "params": [position[id(p)] for p in g["params"]]}
                                 for g in self.param_groups]}

    def load_state_dict(self, state_dict: dict) -> None:
        """Hyperparameters and state from `state_dict` (copied), matched by position."""
        params = self.params
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"])
               for g, s in zip(self.param_groups, saved_groups)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match "
                             "the size of optimizer's group")
        for group, saved in zip(self.param_groups, saved_groups):
            group.update({k: v for k, v in saved.items() if k != "params"})

        def array(value, parameter):
            found = getattr(value, "value", value)
            if isinstance(found, np.ndarray):
                return np.array(found, dtype=parameter.value.dtype)
            return found

        self.state = {params[int(i)]: {k: array(v, params[int(i)]) for k, v in s.items()}
                      for i, s in state_dict["state"].items()}

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for index, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {index}")
            lines += [f"    {k}: {v}" for k, v in sorted(group.items()) if k != "params"]
        return "\n".join(lines) + "\n)"


# hyperparameter: (smallest allowed, largest allowed, whether the largest is allowed)
_RANGES = {"lr": (0.0, math.inf, False), "weight_decay": (0.0, math.inf, False),
           "momentum": (0.0, math.inf, False), "dampening": (0.0, 1.0, True),
           "alpha": (0.0, math.inf, False), "eps": (0.0, math.inf, False),
           "lr_decay": (0.0, math.inf, False),
           "initial_accumulator_value": (0.0, math.inf, False)}


def _check_hyperparameters(optimiser: str, settings: dict) -> None:
    """Refuse a hyperparameter outside its range with a message naming it: a nan or infinite
    learning rate would turn every parameter into nan on the first step without a word.
    (PyTorch checks only the sign, so nan passes there.)"""
    for name, (low, high, high_allowed) in _RANGES.items():
        if name not in settings:
            continue
        value = settings[name]
        number = isinstance(value, (int, float)) and math.isfinite(value)
        if not (number and (low <= value < high or (high_allowed and value == high))):
            limit = f"{low:g} ≤ {name} ≤ {high:g}" if high_allowed else f"{name} ≥ {low:g}"
            raise ValueError(_("{optimiser}: invalid {name} {value}: it must be a finite "
                               "number with {limit}", optimiser=optimiser, name=name,
                               value=repr(value), limit=limit))
    if "betas" in settings:
        for index, beta in enumerate(settings["betas"]):
            if not (isinstance(beta, (int, float)) and 0.0 <= beta < 1.0):
                raise ValueError(_("{pytorch} (each of betas must be in [0, 1))",
                                   pytorch=f"{optimiser}: invalid beta parameter at index "
                                           f"{index}: {beta!r}"))


def _scaled(array: np.ndarray, factor: float, dtype) -> np.ndarray:
    """factor · array in the parameter's type, in pooled scratch memory (a large layer's step
    would otherwise fault a fresh array in every step)."""
    if array.ndim == 0 or array.dtype != dtype:
        return factor * array
    if array.nbytes < workspace.MIN_BYTES:  # not pooled: skip the pool's look-up
        return np.multiply(array, dtype.type(factor))
    return np.multiply(array, dtype.type(factor), out=workspace.empty_like(array))


def _descend(theta: np.ndarray, step: np.ndarray, lr: float) -> None:
    """θ −= lr·step in place: one BLAS pass where it can (core/blas.py), else numpy's two."""
    if step.size < MIN_ELEMENTS or not axpy(-lr, step, theta):  # small: no foreign call
        theta -= _scaled(step, lr, theta.dtype)


def _real(value):
    """float(value) for a number (a numpy number, a 0-d tensor); anything else as it is, for
    _check_hyperparameters to refuse: float("0.1") would quietly read text."""
    if isinstance(value, (str, bytes)):
        return value
    try:
        return float(value)
    except (TypeError, ValueError):
        return value


def _is_tensor(value) -> bool:
    # the class's grad first: reading a step's .grad warns that it is not a leaf
    return hasattr(value, "value") and (hasattr(type(value), "grad") or hasattr(value, "grad"))


class SGD(Optimizer):
    """Stochastic gradient descent, θ ← θ − ε·g, as torch.optim.SGD: with momentum μ the
    buffer b ← μ·b + (1 − dampening)·g (b = g at the first step) replaces g, or g + μ·b with
    nesterov."""

    def __init__(self, params, lr: float = 1e-3, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False, *, maximize: bool = False):
        super().__init__(params, dict(lr=_real(lr), momentum=_real(momentum),
                                      dampening=_real(dampening), nesterov=bool(nesterov),
                                      weight_decay=_real(weight_decay), maximize=maximize))
        if nesterov and (momentum <= 0 or dampening != 0):  # numbers now: checked above
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")

    def _update(self, theta, grad, group, state):
        momentum = group["momentum"]
        if not momentum and not group["weight_decay"]:  # plain SGD, the common case
            _descend(theta, grad, group["lr"])
            return
        step = self._decayed(theta, grad, group)
        if momentum:
            buffer = state.get("momentum_buffer")
            if buffer is None:
                buffer = state["momentum_buffer"] = np.array(step)
            else:
                buffer *= momentum
                buffer += (1 - group["dampening"]) * step
            step = step + momentum * buffer if group["nesterov"] else buffer
        _descend(theta, step, group["lr"])


class Momentum(Optimizer):
    """Momentum (nndl; 《深度学习入门》 §6.1.2): v ← α·v − ε·g; θ ← θ + v, v starting at 0 and α
    (`momentum`, about 0.9) acting as friction. (SGD(momentum=α) is the same walk written with
    b = −v/ε.)"""

    def __init__(self, params, lr: float, momentum: float = 0.9, weight_decay: float = 0.0):
        super().__init__(params, dict(lr=_real(lr), momentum=_real(momentum),
                                      weight_decay=_real(weight_decay)))

    def _update(self, theta, grad, group, state):
        grad = self._decayed(theta, grad, group)
        v = state.setdefault("velocity", np.zeros_like(theta))
        v *= group["momentum"]
        v -= group["lr"] * grad
        theta += v


class Nesterov(Momentum):
    """Nesterov momentum (the CS231n notes): the gradient is taken after the velocity's step.
    Written with the gradient at θ (Sutskever's form, as PyTorch's nesterov=True):
    v ← α·v − ε·g; θ ← θ + α·v − ε·g."""

    def _update(self, theta, grad, group, state):
        grad = self._decayed(theta, grad, group)
        v = state.setdefault("velocity", np.zeros_like(theta))
        v *= group["momentum"]
        step = group["lr"] * grad
        v -= step
        theta -= step
        theta += group["momentum"] * v


class Adagrad(Optimizer):
    """AdaGrad as torch.optim.Adagrad (nndl; 《深度学习入门》 §6.1.3): h ← h + g ⊙ g;
    θ ← θ − ε·g / (sqrt(h) + δ). Every element gets its own learning rate, shrinking as its
    squared gradients add up."""

    def __init__(self, params, lr: float = 1e-2, lr_decay: float = 0.0,
                 weight_decay: float = 0.0, initial_accumulator_value: float = 0.0,
                 eps: float = 1e-10):
        super().__init__(params, dict(lr=_real(lr), lr_decay=_real(lr_decay), eps=_real(eps),
                                      weight_decay=_real(weight_decay),
                                      initial_accumulator_value=_real(initial_accumulator_value)))

    def _update(self, theta, grad, group, state):
        grad = self._decayed(theta, grad, group)
        if "sum" not in state:
            state["sum"] = np.full_like(theta, group["initial_accumulator_value"])
            state["step"] = 0
        state["step"] += 1
        h = state["sum"]
        h += grad * grad
        rate = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
        theta -= rate * (grad / (np.sqrt(h) + group["eps"]))


class AdaGrad(Adagrad):
    """AdaGrad with the book's δ = 1e-7 (PyTorch's Adagrad uses 1e-10)."""

    def __init__(self, params, lr: float = 0.01, eps: float = 1e-7, weight_decay: float = 0.0):
        super().__init__(params, lr=lr, eps=eps, weight_decay=weight_decay)


class RMSprop(Optimizer):
    """RMSProp as torch.optim.RMSprop (nndl): r ← ρ·r + (1 − ρ)·g ⊙ g;
    θ ← θ − ε·g / (sqrt(r) + δ), ρ = `alpha`. Like AdaGrad, but old gradients fade (an
    exponential moving average)."""

    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False):
        if centered:
            from .core.tensor.errors import DiffersFromPyTorch

            raise DiffersFromPyTorch(_("RMSprop(centered=True): gradtrace computes the plain "
                                       "(uncentered) RMSProp"))
        super().__init__(params, dict(lr=_real(lr), alpha=_real(alpha), eps=_real(eps),
                                      weight_decay=_real(weight_decay),
                                      momentum=_real(momentum)))

    def _update(self, theta, grad, group, state):
        grad = self._decayed(theta, grad, group)
        r = state.setdefault("square_avg", np.zeros_like(theta))
        r *= group["alpha"]
        r += (1 - group["alpha"]) * grad * grad
        average = np.sqrt(r) + group["eps"]
        if group["momentum"] > 0:
            buffer = state.setdefault("momentum_buffer", np.zeros_like(theta))
            buffer *= group["momentum"]
            buffer += grad / average
            theta -= group["lr"] * buffer
        else:
            theta -= group["lr"] * (grad / average)


class RMSProp(RMSprop):
    """RMSProp with the notes' name for ρ: `decay` (PyTorch's `alpha`)."""

    def __init__(self, params, lr: float = 0.01, decay: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0):
        super().__init__(params, lr=lr, alpha=decay, eps=eps, weight_decay=weight_decay)


class Adam(Optimizer):
    """Adam (nndl) as torch.optim.Adam: momentum and RMSProp with bias correction, t counting
    each parameter's steps from 1: s ← ρ₁·s + (1 − ρ₁)·g;  r ← ρ₂·r + (1 − ρ₂)·g ⊙ g;
    θ ← θ − ε/(1 − ρ₁ᵗ) · s / (sqrt(r)/sqrt(1 − ρ₂ᵗ) + δ), with (ρ₁, ρ₂) = `betas` and
    δ = `eps`. (The notes' last line carries a stray trailing g; the update is as in the Adam
    paper.)"""

    decoupled = False

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False, *, maximize: bool = False):
        super().__init__(params, dict(lr=_real(lr), betas=(_real(betas[0]), _real(betas[1])),
                                      eps=_real(eps), weight_decay=_real(weight_decay),
                                      amsgrad=bool(amsgrad), maximize=maximize))

    def _update(self, theta, grad, group, state):
        (rho1, rho2), lr = group["betas"], group["lr"]
        if self.decoupled:
            theta *= 1 - lr * group["weight_decay"]
        else:
            grad = self._decayed(theta, grad, group)
        if "exp_avg" not in state:
            state.update(step=0, exp_avg=np.zeros_like(theta), exp_avg_sq=np.zeros_like(theta))
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = np.zeros_like(theta)
        state["step"] += 1
        t = state["step"]
        s, r = state["exp_avg"], state["exp_avg_sq"]
        s += (1 - rho1) * (grad - s)  # PyTorch's lerp
        r *= rho2
        r += (1 - rho2) * grad * grad
        if group["amsgrad"]:
            np.maximum(state["max_exp_avg_sq"], r, out=state["max_exp_avg_sq"])
            r = state["max_exp_avg_sq"]
        step_size = lr / (1 - rho1 ** t)
        denominator = np.sqrt(r) / math.sqrt(1 - rho2 ** t) + group["eps"]
        theta -= step_size * (s / denominator)


class AdamW(Adam):
    """Adam with decoupled weight decay (θ ← θ·(1 − ε·λ) before the step), as
    torch.optim.AdamW; weight_decay defaults to 0.01."""

    decoupled = True

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, *, maximize: bool = False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize)


# -- learning-rate schedules: torch.optim.lr_scheduler ------------------------------------------
#
# The notes' "步长衰减，指数衰减" (step decay, exponential decay): start with a large learning rate
# and shrink it as training goes. Each scheduler rewrites param_groups[i]["lr"] when step() is
# called, once per epoch after optimizer.step(), in PyTorch's order of operations (each new rate
# from the current one, so the numbers are PyTorch's to the last bit).

class LRScheduler:
    """Keeps each group's starting rate (`initial_lr`, `base_lrs`) and counts epochs
    (`last_epoch`); subclasses say the next rates in `get_lr`. Made with last_epoch=-1, it
    takes its first step at once (epoch 0: the starting rates)."""

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        self.optimizer = optimizer
        for index, group in enumerate(optimizer.param_groups):
            if last_epoch == -1:
                group.setdefault("initial_lr", group["lr"])
            elif "initial_lr" not in group:
                raise KeyError(f"param 'initial_lr' is not specified in param_groups[{index}] "
                               "when resuming an optimizer")
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._initial = True
        self.step()
        self._initial = False

    def get_lr(self) -> list:
        raise NotImplementedError

    def _rates(self) -> list:
        return [group["lr"] for group in self.optimizer.param_groups]

    def step(self, epoch: int | None = None) -> None:
        """The next epoch's rates (or those of `epoch`, from the closed form if there is one)."""
        if epoch is None:
            self.last_epoch += 1
            rates = self.get_lr()
        else:
            self.last_epoch = epoch
            closed = getattr(self, "_get_closed_form_lr", None)
            rates = closed() if closed is not None else self.get_lr()
        for group, rate in zip(self.optimizer.param_groups, rates):
            group["lr"] = rate
        self._last_lr = self._rates()

    def get_last_lr(self) -> list:
        """The rates the last step() set, one per group."""
        return self._last_lr

    def state_dict(self) -> dict:
        return {key: value for key, value in self.__dict__.items() if key != "optimizer"}

    def load_state_dict(self, state_dict: dict) -> None:
        self.__dict__.update(state_dict)


class LambdaLR(LRScheduler):
    """lr = initial_lr · lr_lambda(epoch), one function for every group or one per group."""

    def __init__(self, optimizer: Optimizer, lr_lambda, last_epoch: int = -1):
        groups = len(optimizer.param_groups)
        if isinstance(lr_lambda, (list, tuple)):
            if len(lr_lambda) != groups:
                raise ValueError(f"Expected {groups} lr_lambdas, but got {len(lr_lambda)}")
            self.lr_lambdas = list(lr_lambda)
        else:
            self.lr_lambdas = [lr_lambda] * groups
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list:
        return [base * rule(self.last_epoch) for rule, base in zip(self.lr_lambdas, self.base_lrs)]


class StepLR(LRScheduler):
    """Step decay: every `step_size` epochs, lr ← lr · gamma."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1,
                 last_epoch: int = -1):
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list:
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._rates()
        return [rate * self.gamma for rate in self._rates()]

    def _get_closed_form_lr(self) -> list:
        return [base * self.gamma ** (self.last_epoch // self.step_size)
                for base in self.base_lrs]


class MultiStepLR(LRScheduler):
    """lr ← lr · gamma at each epoch listed in `milestones`."""

    def __init__(self, optimizer: Optimizer, milestones, gamma: float = 0.1,
                 last_epoch: int = -1):
        from collections import Counter

        self.milestones, self.gamma = Counter(milestones), gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list:
        if self.last_epoch not in self.milestones:
            return self._rates()
        return [rate * self.gamma ** self.milestones[self.last_epoch] for rate in self._rates()]

    def _get_closed_form_lr(self) -> list:
        from bisect import bisect_right

        passed = bisect_right(sorted(self.milestones.elements()), self.last_epoch)
        return [base * self.gamma ** passed for base in self.base_lrs]


class ExponentialLR(LRScheduler):
    """Exponential decay: lr ← lr · gamma every epoch."""

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1):
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list:
        if self._initial:
            return self._rates()
        return [rate * self.gamma for rate in self._rates()]

    def _get_closed_form_lr(self) -> list:
        return [base * self.gamma ** self.last_epoch for base in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    """lr follows half a cosine from initial_lr down to eta_min over T_max epochs:
    eta_min + (initial_lr − eta_min)·(1 + cos(π·epoch/T_max))/2, computed step by step from
    the current rate as PyTorch does."""

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0,
                 last_epoch: int = -1):
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list:
        epoch, period, low = self.last_epoch, self.T_max, self.eta_min
        if self._initial:
            return self._rates()
        if (epoch - 1 - period) % (2 * period) == 0:
            return [rate + (base - low) * (1 - math.cos(math.pi / period)) / 2
                    for base, rate in zip(self.base_lrs, self._rates())]
        return [(1 + math.cos(math.pi * epoch / period))
                / (1 + math.cos(math.pi * (epoch - 1) / period)) * (rate - low) + low
                for rate in self._rates()]

    def _get_closed_form_lr(self) -> list:
        return [self.eta_min + (base - self.eta_min)
                * (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
                for base in self.base_lrs]


def _scheduler_module():
    """gradtrace.optim.lr_scheduler, a module of its own (optim is one file), so that
    `from gradtrace.optim.lr_scheduler import StepLR` works as with PyTorch."""
    import sys
    import types

    module = types.ModuleType(f"{__name__}.lr_scheduler", "Learning-rate schedules, as "
                              "torch.optim.lr_scheduler: " + ", ".join(_SCHEDULERS))
    for name in _SCHEDULERS:
        setattr(module, name, globals()[name])
    sys.modules[module.__name__] = module
    return module


_SCHEDULERS = ("LRScheduler", "LambdaLR", "StepLR", "MultiStepLR", "ExponentialLR",
               "CosineAnnealingLR")
lr_scheduler = _scheduler_module()
__all__ += ["lr_scheduler"]


def _missing(module: str, offered, notes=()):
    """A module __getattr__ for a torch.optim name gradtrace does not have: NotInGradtrace
    (an AttributeError, so hasattr() is False), naming what gradtrace has instead: PyTorch's
    names, then the notes' own forms (`notes`), which torch.optim does not have."""

    def __getattr__(name: str):
        if name.startswith("__"):
            raise AttributeError(name)  # copy, pickle and help look for these
        from .core.tensor.errors import NotInGradtrace

        comma = _(", ")
        if notes:
            raise NotInGradtrace(_(
                "{module} has no {name}: gradtrace has PyTorch's {offered}, and the notes' own "
                "{notes}", module=module, name=repr(name), offered=comma.join(offered),
                notes=comma.join(notes)))
        raise NotInGradtrace(_("{module} has no {name}: gradtrace has {offered}",
                               module=module, name=repr(name), offered=comma.join(offered)))

    return __getattr__


_NOTES_FORMS = ("Momentum", "Nesterov", "AdaGrad", "RMSProp")  # velocity v, the book's δ
__getattr__ = _missing("gradtrace.optim",
                       [name for name in __all__
                        if name not in ("Optimizer", "lr_scheduler", *_NOTES_FORMS)],
                       _NOTES_FORMS)
lr_scheduler.__getattr__ = _missing("gradtrace.optim.lr_scheduler", _SCHEDULERS[1:])
