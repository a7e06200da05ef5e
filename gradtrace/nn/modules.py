"""The layers, named and shaped as in `torch.nn`.

Weights follow PyTorch's layout: Linear.weight is (out_features, in_features), Conv2d.weight
is (out_channels, in_channels, KH, KW). `init` names how weights start (xavier, he, normal,
zeros, constant; see init.py), `init_value` the weight under init="constant"; biases start
at zero. Random inits need `rng`, a numpy Generator: nothing reads global random state.
`dtype` is the float type of the parameters (np.float32 keeps a whole network in float32).
"""

from __future__ import annotations

import numpy as np

from ..core.registry import activations
from . import functional as F
from .functional import _plain
from .init import initialise
from .module import Module, Parameter, Sequential  # noqa: F401  (re-exported)


def _weight(shape, init: str, rng, dtype, init_value: float) -> Parameter:
    weight = Parameter(np.zeros(shape, dtype=dtype))
    initialise(weight, init, rng, init_value)
    return weight


class Linear(Module):
    """y = x·Wᵀ + b, x (N, in_features) → y (N, out_features); in the notes' column notation
    z⁽ˡ⁾ = W⁽ˡ⁾a⁽ˡ⁻¹⁾ + b⁽ˡ⁾."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 init: str = "xavier", rng: np.random.Generator | None = None,
                 dtype=np.float64, init_value: float = 0.5):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.weight = _weight((out_features, in_features), init, rng, dtype, init_value)
        self.bias = Parameter(np.zeros(out_features, dtype=dtype)) if bias else None

    def forward(self, input):
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Conv2d(Module):
    """(N, in_channels, H, W) → (N, out_channels, OH, OW) by im2col and one matmul; filters
    weight (out_channels, in_channels, KH, KW), one bias per filter."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 bias: bool = True, init: str = "xavier",
                 rng: np.random.Generator | None = None, dtype=np.float64,
                 init_value: float = 0.5):
        super().__init__()
        kh, kw = (kernel_size, kernel_size) if np.ndim(kernel_size) == 0 else kernel_size
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride, self.padding = (int(kh), int(kw)), stride, padding
        self.weight = _weight((out_channels, in_channels, kh, kw), init, rng, dtype, init_value)
        self.bias = Parameter(np.zeros(out_channels, dtype=dtype)) if bias else None

    def forward(self, input):
        return F.conv2d(input, self.weight, self.bias, self.stride, self.padding)

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={_plain(self.stride)}, padding={_plain(self.padding)}")


class MaxPool2d(Module):
    """Largest element of each window; stride defaults to kernel_size."""

    def __init__(self, kernel_size=2, stride=None):
        super().__init__()
        self.kernel_size, self.stride = kernel_size, stride

    def forward(self, input):
        return F.max_pool2d(input, self.kernel_size, self.stride)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}"


class AvgPool2d(MaxPool2d):
    """Mean of each window; stride defaults to kernel_size."""

    def forward(self, input):
        return F.avg_pool2d(input, self.kernel_size, self.stride)


class _BatchNorm(Module):
    """γ (weight, starts at 1) and β (bias, starts at 0) per channel, learned; the running
    mean and variance (plain numpy arrays, not parameters) are updated in training mode and
    used in evaluation mode."""

    expected_ndim = 2

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1,
                 dtype=np.float64):
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.weight = Parameter(np.ones(num_features, dtype=dtype))
        self.bias = Parameter(np.zeros(num_features, dtype=dtype))
        self.running_mean = np.zeros(num_features, dtype=dtype)
        self.running_var = np.ones(num_features, dtype=dtype)

    def forward(self, input):
        shape = np.shape(getattr(input, "value", input))
        if len(shape) != self.expected_ndim or shape[1] != self.num_features:
            raise ValueError(f"{type(self).__name__}({self.num_features}) needs "
                             f"{self.expected_ndim}-d input with {self.num_features} channels "
                             f"on axis 1, not shape {shape}")
        return F.batch_norm(input, self.weight, self.bias, self.running_mean,
                            self.running_var, self.training, self.momentum, self.eps)

    def extra_repr(self) -> str:
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}"


class BatchNorm1d(_BatchNorm):
    """Batch norm over (N, C): statistics per feature over the batch."""


class BatchNorm2d(_BatchNorm):
    """Batch norm over (N, C, H, W): statistics per channel over batch and pixels."""

    expected_ndim = 4


class Dropout(Module):
    """Inverted dropout with probability p, the mask drawn from `rng`; identity in eval."""

    def __init__(self, p: float = 0.5, rng: np.random.Generator | None = None):
        super().__init__()
        if not 0 <= p < 1:
            raise ValueError(f"dropout probability p must lie in [0, 1), not {p}")
        self.p, self.rng = p, rng

    def forward(self, input):
        return F.dropout(input, self.p, self.training, self.rng)

    def extra_repr(self) -> str:
        return f"p={self.p}"


def _activation_module(op) -> type:
    """The torch.nn class of an activation op: nn.ReLU(), nn.LeakyReLU(negative_slope=0.01)...
    its attributes as constructor arguments, in PyTorch's order, with the op's defaults."""
    names = tuple(op.attrs)
    function = F.ACTIVATIONS[op.name]

    def __init__(self, *args, **kwargs):
        Module.__init__(self)
        if len(args) > len(names) or set(kwargs) - set(names):
            raise TypeError(f"{op.activation.module} takes {', '.join(names) or 'no arguments'}")
        values = {**op.attrs, **dict(zip(names, args)), **kwargs}
        for name in names:
            setattr(self, name, values[name])

    def forward(self, input):
        return function(input, **{name: getattr(self, name) for name in names})

    def extra_repr(self) -> str:
        return ", ".join(f"{name}={getattr(self, name)}" for name in names)

    return type(op.activation.module, (Module,), {
        "__init__": __init__, "forward": forward, "extra_repr": extra_repr,
        "__doc__": f"{op.usage}: {op.description}", "__module__": __name__})


ACTIVATION_MODULES = {op.activation.module: _activation_module(op) for op in activations()}
globals().update(ACTIVATION_MODULES)


class Flatten(Module):
    """(N, C, H, W) → (N, C·H·W), every axis from start_dim on merged."""

    def __init__(self, start_dim: int = 1):
        super().__init__()
        self.start_dim = start_dim

    def forward(self, input):
        return F.flatten(input, self.start_dim)


__all__ = ["Module", "Parameter", "Sequential", "Linear", "Conv2d", "MaxPool2d", "AvgPool2d",
           "BatchNorm1d", "BatchNorm2d", "Dropout", *ACTIVATION_MODULES, "Flatten"]
