"""Training a small MLP on a 2-D dataset with gradtrace's own layers and optimisers, for
`gradtrace train`. Full batch: one forward, one backward, one optimiser step per epoch.

With one output unit the net is a binary classifier: the output z is a logit and the loss is
binary cross-entropy on it, softplus(z) − y·z (= −y·log σ(z) − (1−y)·log(1−σ(z)), without
overflow). With K ≥ 2 outputs the loss is softmax cross-entropy over K classes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from .. import nn, optim
from ..core.errors import UsageError
from ..core.i18n import _
from ..core.registry import activations
from ..core.tensor import tensor


def optimisers() -> dict[str, type]:
    """The optimisers of gradtrace.optim by the names the CLI takes: sgd, momentum, adam...
    (its classes only: not the Optimizer base, not the lr_scheduler module; AdaGrad and
    RMSProp, PyTorch's spellings beside the notes', are one name each)."""
    found = {}
    for name in optim.__all__:
        value = getattr(optim, name)
        if isinstance(value, type) and issubclass(value, optim.Optimizer) \
                and value is not optim.Optimizer:
            found.setdefault(name.lower(), value)
    return found


# a loss this many times its first (or 1) means training has run away, as an optimiser's
# path does (layers/descent.py)
DIVERGED_ABOVE = 1e6


@dataclass
class History:
    losses: list[float] = field(default_factory=list)
    accuracies: list[float] = field(default_factory=list)

    @property
    def diverged_at(self) -> int | None:
        """The first epoch (from 1) whose loss is not finite or grew past DIVERGED_ABOVE times
        the first epoch's (at least 1); None when training did not run away."""
        if not self.losses:
            return None
        start = max(1.0, abs(self.losses[0]))
        for epoch, loss in enumerate(self.losses, start=1):
            if not math.isfinite(loss) or abs(loss) > DIVERGED_ABOVE * start:
                return epoch
        return None


def build_mlp(sizes: list[int], activation: str, rng: np.random.Generator):
    """Linear layers of the given sizes with `activation` between them (none after the last)."""
    if len(sizes) < 2:
        raise UsageError(_("needs at least an input and an output size, e.g. 2,4,1"), "layers")
    chosen = {op.name: op.activation for op in activations()}.get(activation)
    if chosen is None:
        names = ", ".join(op.name for op in activations())
        raise UsageError(_("unknown activation {activation!r}; choose from {names}",
                           activation=activation, names=names), "act")
    modules = []
    for index, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        if index:
            modules.append(getattr(nn, chosen.module)())
        # the initialisation that keeps gradients steady with this activation (Xavier for
        # sigmoid and tanh, He for the relu family)
        modules.append(nn.Linear(fan_in, fan_out, init=chosen.init, rng=rng))
    return nn.Sequential(*modules)


def check_learning_rate(lr: float, parameter: str = "lr") -> None:
    """A learning rate is a finite number above 0 (inf and 1e400 included in the refusal)."""
    if not (lr > 0 and math.isfinite(lr)):
        raise UsageError(_("the learning rate must be a finite number above 0 (got {lr:g})",
                           lr=lr), parameter)


def make_optimiser(name: str, parameters, lr: float):
    known = optimisers()
    if name not in known:
        raise UsageError(_("unknown optimiser {name!r}; choose from {listed}",
                           name=name, listed=', '.join(known)), "opt")
    check_learning_rate(lr)
    return known[name](parameters, lr=lr)


def loss_of(logits, y: np.ndarray):
    """Binary cross-entropy on a single logit column, softmax cross-entropy otherwise."""
    F = nn.functional
    if logits.shape[-1] == 1:
        target = y.astype(logits.value.dtype).reshape(-1, 1)
        return (F.softplus(logits) - logits * target).mean()
    return F.cross_entropy(logits, y)


def predict(model, X: np.ndarray) -> np.ndarray:
    """Class indices the model gives the points X (N, 2), forward only."""
    return _classes_of(model(tensor(X, "X", requires_grad=False)).value)


def check_sizes(sizes: list[int], X: np.ndarray, y: np.ndarray) -> None:
    classes = int(y.max()) + 1
    if sizes[0] != X.shape[1]:
        raise UsageError(_("the data has {features} features; the widths must start with {features} "
                           "(got {first})", features=X.shape[1], first=sizes[0]), "layers")
    if sizes[-1] not in (1, classes) or (sizes[-1] == 1 and classes > 2):
        wanted = "1 (or 2)" if classes == 2 else str(classes)
        raise UsageError(_("the data has {classes} classes; the widths must end with {wanted} (got {last})",
                           classes=classes, wanted=wanted, last=sizes[-1]), "layers")


def fit(model, optimiser, X: np.ndarray, y: np.ndarray, epochs: int,
        after_epoch: Callable[[int, float, float], None] | None = None) -> History:
    """Full-batch training for `epochs` epochs, stopped after an epoch whose loss is not
    finite (every later one would be nan too); `after_epoch(epoch, loss, accuracy)` is called
    after each one (accuracy of the parameters that gave that loss)."""
    history = History()
    inputs = tensor(X, "X", requires_grad=False)
    for epoch in range(1, epochs + 1):
        optimiser.zero_grad()
        logits = model(inputs)
        loss = loss_of(logits, y)
        loss.backward()
        optimiser.step()
        accuracy = float(np.mean(_classes_of(logits.value) == y))
        history.losses.append(loss.item())
        history.accuracies.append(accuracy)
        if after_epoch is not None:
            after_epoch(epoch, history.losses[-1], accuracy)
        if not math.isfinite(history.losses[-1]):
            break
    return history


def _classes_of(logits: np.ndarray) -> np.ndarray:
    if logits.shape[-1] == 1:
        return (logits[:, 0] > 0).astype(np.int64)
    return np.argmax(logits, axis=-1)
