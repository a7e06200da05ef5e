"""The layers and losses, named, shaped and started as in `torch.nn`.

Weights follow PyTorch's layout: Linear.weight is (out_features, in_features), Conv2d.weight
is (out_channels, in_channels, KH, KW). Two ways to start them:

- PyTorch's (no `rng`): the weights PyTorch draws, kaiming_uniform_(a=√5) for the weight and
  U(±1/√fan_in) for the bias, from gradtrace's default generator (PyTorch's numbers after
  `gradtrace.manual_seed(s)`), in the default float type (float32) unless `dtype` says;
- gradtrace's (a numpy Generator `rng=`): `init` names how weights start (xavier by default,
  he, normal, zeros, constant; see init.py), `init_value` the weight under init="constant",
  biases start at zero, float64 unless `dtype` says. An `init` given without `rng` draws from
  the default generator.
"""

from __future__ import annotations

import math

import numpy as np

from ..core.i18n import _, join_list
from ..core.registry import activations
from ..core.tensor import Tensor, dtypes, no_grad
from ..core.tensor.errors import PyTorchError
from . import functional as F
from . import init as initialisers
from .functional import _plain
from .module import Module, ModuleDict, ModuleList, Parameter, Sequential  # noqa: F401


def _dtype(dtype, rng) -> np.dtype:
    chosen = dtypes.as_dtype(dtype)
    if chosen is not None:
        return chosen
    return dtypes.float64 if rng is not None else dtypes.get_default_dtype()


def _check_sizes(layer: str, **sizes) -> None:
    """Every size a positive whole number: Linear(0, 3) would divide by zero when its weights
    are drawn, Linear(2.5, 3) fail deep inside numpy."""
    for name, size in sizes.items():
        if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
            raise ValueError(_("{layer}: {name} must be a positive whole number, not {size}",
                               layer=layer, name=name, size=repr(size)))


def _check_budget(layer: str, shape: tuple) -> None:
    """Weights larger than the element budget are refused before they are allocated."""
    from ..core.budget import over_budget

    elements = math.prod(int(size) for size in shape)
    why = over_budget(elements)
    if why:
        raise ValueError(_("{layer}: a weight of shape {shape} would make {why}", layer=layer,
                           shape=tuple(shape), why=why))


class _Weighted(Module):
    """The start shared by Linear and Conv2d."""

    def _start(self, shape, bias: bool, init, rng, dtype, init_value: float) -> None:
        _check_budget(type(self).__name__, shape)
        dtype = _dtype(dtype, rng)
        self.weight = Parameter(np.zeros(shape, dtype=dtype))
        self.bias = Parameter(np.zeros(shape[0], dtype=dtype)) if bias else None
        if self.bias is None:
            self.register_parameter("bias", None)
        if rng is None and init is None:
            self.reset_parameters()
        else:
            chosen = "xavier" if init is None else init
            initialisers.initialise(self.weight, chosen, rng, init_value)

    def reset_parameters(self) -> None:
        """PyTorch's start: kaiming_uniform_(a=√5), bias U(±1/√fan_in), from the default
        generator."""
        initialisers.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = initialisers.fans(self.weight.shape)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            initialisers.uniform_(self.bias, -bound, bound)


class Linear(_Weighted):
    """y = x·Wᵀ + b, x (N, in_features) → y (N, out_features); in the notes' column notation
    z⁽ˡ⁾ = W⁽ˡ⁾a⁽ˡ⁻¹⁾ + b⁽ˡ⁾."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True, device=None,
                 dtype=None, *, init: str | None = None, rng: np.random.Generator | None = None,
                 init_value: float = 0.5):
        super().__init__()
        _check_sizes("Linear", in_features=in_features, out_features=out_features)
        self.in_features, self.out_features = in_features, out_features
        self._start((out_features, in_features), bias, init, rng, dtype, init_value)

    def forward(self, input):
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Conv2d(_Weighted):
    """(N, in_channels, H, W) → (N, out_channels, OH, OW) by im2col and one matmul; filters
    weight (out_channels, in_channels, KH, KW), one bias per filter."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 device=None, dtype=None, *, init: str | None = None,
                 rng: np.random.Generator | None = None, init_value: float = 0.5):
        super().__init__()
        if padding_mode != "zeros":
            from ..core.tensor.errors import DiffersFromPyTorch

            raise DiffersFromPyTorch(_("Conv2d(padding_mode={mode}): gradtrace pads with "
                                       "zeros only", mode=repr(padding_mode)))
        if np.ndim(kernel_size) != 0 and len(kernel_size) != 2:
            raise ValueError(f"Conv2d: kernel_size must be one whole number or a pair, not "
                             f"{kernel_size!r}")
        if isinstance(padding, str) and padding not in ("valid", "same"):
            raise ValueError(f"Invalid padding string {padding!r}, should be one of "
                             f"{{'valid', 'same'}}")
        kh, kw = (kernel_size, kernel_size) if np.ndim(kernel_size) == 0 else kernel_size
        _check_sizes("Conv2d", in_channels=in_channels, out_channels=out_channels,
                     kernel_size=kh, kernel_width=kw)
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride, self.padding = (int(kh), int(kw)), stride, padding
        self.dilation, self.groups = dilation, groups
        self._start((out_channels, in_channels, kh, kw), bias, init, rng, dtype, init_value)

    def forward(self, input):
        return F.conv2d(input, self.weight, self.bias, self.stride, self.padding, self.dilation,
                        self.groups)

    def extra_repr(self) -> str:
        padding = self.padding if isinstance(self.padding, str) else _plain(self.padding)
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={_plain(self.stride)}, padding={padding!r}")


class MaxPool2d(Module):
    """Largest element of each window; stride defaults to kernel_size."""

    def __init__(self, kernel_size=2, stride=None, padding=0, dilation=1,
                 return_indices=False, ceil_mode=False):
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        self.dilation, self.return_indices, self.ceil_mode = dilation, return_indices, ceil_mode

    def forward(self, input):
        return F.max_pool2d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            self.ceil_mode, self.return_indices)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool2d(Module):
    """Mean of each window; stride defaults to kernel_size."""

    def __init__(self, kernel_size=2, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True, divisor_override=None):
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input):
        return F.avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class _BatchNorm(Module):
    """γ (weight, starts at 1) and β (bias, starts at 0) per channel, learned; the running
    mean and variance (buffers: in state_dict, not parameters) are updated in training mode
    and used in evaluation mode."""

    expected_ndim = (2,)

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1,
                 affine: bool = True, track_running_stats: bool = True, device=None,
                 dtype=None):
        super().__init__()
        _check_sizes(type(self).__name__, num_features=num_features)
        dtype = _dtype(dtype, None)
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:
            self.weight = Parameter(np.ones(num_features, dtype=dtype))
            self.bias = Parameter(np.zeros(num_features, dtype=dtype))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", Tensor(np.zeros(num_features, dtype=dtype)))
            self.register_buffer("running_var", Tensor(np.ones(num_features, dtype=dtype)))
            self.register_buffer("num_batches_tracked", Tensor(np.array(0, dtype=np.int64)))
        else:
            self.running_mean = self.running_var = None

    def forward(self, input):
        shape = np.shape(getattr(input, "value", input))
        if len(shape) not in self.expected_ndim or shape[1] != self.num_features:
            raise ValueError(_("{layer}({features}) needs {ndim}-d input with {features} "
                               "channels on axis 1, not shape {shape}",
                               layer=type(self).__name__, features=self.num_features,
                               ndim=join_list(map(str, self.expected_ndim)), shape=shape))
        batch_stats = self.training or self.running_mean is None
        momentum = self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.value[...] += 1
            if momentum is None:  # PyTorch's cumulative average: the mean of every batch seen
                momentum = 1.0 / float(self.num_batches_tracked.value)
        return F.batch_norm(input, self.running_mean if not batch_stats or self.training else None,
                            self.running_var if not batch_stats or self.training else None,
                            self.weight, self.bias, batch_stats, momentum, self.eps)

    def reset_running_stats(self) -> None:
        """Running mean 0, running variance 1, no batch counted (a kept Trace keeps its own)."""
        if self.track_running_stats:
            with no_grad():
                self.running_mean.zero_()
                self.running_var.fill_(1.0)
                self.num_batches_tracked.zero_()

    def reset_parameters(self) -> None:
        """The running statistics reset, and γ = 1, β = 0 again."""
        self.reset_running_stats()
        if self.affine:
            with no_grad():
                self.weight.fill_(1.0)
                self.bias.zero_()

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch norm over (N, C): statistics per feature over the batch."""

    expected_ndim = (2,)


class BatchNorm2d(_BatchNorm):
    """Batch norm over (N, C, H, W): statistics per channel over batch and pixels."""

    expected_ndim = (4,)


class Dropout(Module):
    """Inverted dropout with probability p; the identity in eval mode. The mask is PyTorch's,
    from the default generator, or from `rng` (a numpy Generator, gradtrace's style)."""

    def __init__(self, p: float = 0.5, inplace: bool = False, *,
                 rng: np.random.Generator | None = None):
        super().__init__()
        if isinstance(inplace, np.random.Generator):  # gradtrace's older Dropout(p, rng)
            inplace, rng = False, inplace
        if not 0 <= p <= 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p, self.inplace, self.rng = p, inplace, rng

    def forward(self, input):
        return F.dropout(input, self.p, self.training, rng=self.rng)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


def _activation_module(op) -> type:
    """The torch.nn class of an activation op: nn.ReLU(), nn.LeakyReLU(negative_slope=0.01)...
    its attributes as constructor arguments, in PyTorch's order, with the op's defaults;
    `inplace` accepted."""
    names = tuple(op.attrs)
    function = F.ACTIVATIONS[op.name]

    def __init__(self, *args, inplace: bool = False, **kwargs):
        Module.__init__(self)
        args = [a for a in args if not isinstance(a, bool)]
        if len(args) > len(names) or set(kwargs) - set(names):
            listed = _(", ").join(names)
            raise TypeError(_("{module} takes {names}", module=op.activation.module,
                              names=listed) if names else
                            _("{module} takes no arguments", module=op.activation.module))
        values = {**op.attrs, **dict(zip(names, args)), **kwargs}
        for name in names:
            setattr(self, name, values[name])
        self.inplace = inplace

    def forward(self, input):
        if not names:  # ReLU, Tanh...: nothing to pass but the input
            return function(input, inplace=self.inplace)
        return function(input, inplace=self.inplace,
                        **{name: getattr(self, name) for name in names})

    def extra_repr(self) -> str:
        return ", ".join(f"{name}={getattr(self, name)}" for name in names)

    return type(op.activation.module, (Module,), {
        "__init__": __init__, "forward": forward, "extra_repr": extra_repr,
        "__doc__": f"{op.usage}: {op.description}", "__module__": __name__})


ACTIVATION_MODULES = {op.activation.module: _activation_module(op) for op in activations()}
globals().update(ACTIVATION_MODULES)


class GELU(Module):
    """x·Φ(x), or PyTorch's tanh form with approximate='tanh' (F.gelu)."""

    def __init__(self, approximate: str = "none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise PyTorchError("approximate argument must be either none or tanh.")
        self.approximate = approximate

    def forward(self, input):
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


ACTIVATION_MODULES["GELU"] = GELU


class Softplus(Module):
    """log(1 + exp(β·x))/β (x itself past threshold), as nn.Softplus."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0):
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, input):
        return F.softplus(input, self.beta, self.threshold)


class Softmax(Module):
    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.softmax(input, self.dim)


class LogSoftmax(Softmax):
    def forward(self, input):
        return F.log_softmax(input, self.dim)


class Identity(Module):
    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


class Flatten(Module):
    """(N, C, H, W) → (N, C·H·W), the axes from start_dim to end_dim merged."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input):
        return F.flatten(input, self.start_dim, self.end_dim)


# -- losses ---------------------------------------------------------------------------------

class _Loss(Module):
    function = None

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean"):
        super().__init__()
        self.reduction = F._reduction(type(self).__name__, reduction, size_average, reduce)

    def forward(self, input, target):
        return type(self).function(input, target, reduction=self.reduction)

    def extra_repr(self) -> str:
        return "" if self.reduction == "mean" else f"reduction={self.reduction}"


class MSELoss(_Loss):
    """(input − target)², mean over the elements (reduction='mean'), 'sum' or 'none'."""

    function = staticmethod(F.mse_loss)


class L1Loss(_Loss):
    function = staticmethod(F.l1_loss)


class BCELoss(_Loss):
    """Binary cross-entropy of probabilities."""

    function = staticmethod(F.binary_cross_entropy)

    def __init__(self, weight=None, size_average=None, reduce=None, reduction: str = "mean"):
        super().__init__(size_average, reduce, reduction)
        self.weight = weight

    def forward(self, input, target):
        return F.binary_cross_entropy(input, target, self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy of logits (a sigmoid folded in)."""

    def __init__(self, weight=None, size_average=None, reduce=None, reduction: str = "mean",
                 pos_weight=None):
        super().__init__(size_average, reduce, reduction)
        self.weight, self.pos_weight = weight, pos_weight

    def forward(self, input, target):
        return F.binary_cross_entropy_with_logits(input, target, self.weight,
                                                  reduction=self.reduction,
                                                  pos_weight=self.pos_weight)


class CrossEntropyLoss(_Loss):
    """Softmax cross-entropy of logits against class indices or probabilities."""

    def __init__(self, weight=None, size_average=None, ignore_index: int = -100, reduce=None,
                 reduction: str = "mean", label_smoothing: float = 0.0):
        super().__init__(size_average, reduce, reduction)
        self.weight, self.ignore_index = weight, ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input, target):
        return F.cross_entropy(input, target, self.weight, ignore_index=self.ignore_index,
                               reduction=self.reduction, label_smoothing=self.label_smoothing)


class NLLLoss(_Loss):
    """−(log-probability of the class), from log-probabilities."""

    def __init__(self, weight=None, size_average=None, ignore_index: int = -100, reduce=None,
                 reduction: str = "mean"):
        super().__init__(size_average, reduce, reduction)
        self.weight, self.ignore_index = weight, ignore_index

    def forward(self, input, target):
        return F.nll_loss(input, target, self.weight, ignore_index=self.ignore_index,
                          reduction=self.reduction)


__all__ = ["Module", "Parameter", "Sequential", "ModuleList", "ModuleDict", "Linear", "Conv2d",
           "MaxPool2d", "AvgPool2d", "BatchNorm1d", "BatchNorm2d", "Dropout",
           *ACTIVATION_MODULES, "Softplus", "Softmax", "LogSoftmax", "Identity", "Flatten",
           "MSELoss", "L1Loss", "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "NLLLoss"]
