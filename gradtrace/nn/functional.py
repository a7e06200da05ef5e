"""Layers as functions on gradtrace tensors, named and called as in `torch.nn.functional`.

    import gradtrace.nn.functional as F
    h = F.relu(F.linear(x, W, b))
    loss = F.cross_entropy(F.linear(h, W2, b2), labels)
    trace = loss.backward()          # W.grad, b.grad... are set

Arguments come in PyTorch's order and by PyTorch's names: `batch_norm(input, running_mean,
running_var, weight, bias, training, momentum, eps)`, `max_pool2d(input, kernel_size, stride,
padding)`, `dropout(input, p, training)`, `cross_entropy(input, target, reduction=...)`. Each
function records one registry op (linear, conv2d, batch_norm, dropout, cross_entropy...), so
the trace shows a layer as one step. Numpy arrays given as inputs become constants: no
gradient is computed for data. Options gradtrace does not compute (conv2d's dilation and
groups, cross_entropy's class weights, ceil_mode...) raise DiffersFromPyTorch when given a
value other than PyTorch's default, never computing something else.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from .. import ops  # noqa: F401  (the op tables: fills the registry this module reads)
from ..core.arrays import float_type
from ..core.i18n import _
from ..core.registry import REGISTRY, activations
from ..core.tensor import Tensor, as_tensor, check_made
from ..core.tensor.errors import (DiffersFromPyTorch, NotInGradtrace, PyTorchError,
                                  PyTorchValueError)
from ..core.tensor.random import chosen
from ..ops.im2col import geometry
from ..ops.losses import ClassIndexError


def _op(name: str, first, *others, **attrs) -> Tensor:
    """Record registry op `name`; attributes left at None take the op's default."""
    given = tuple(sorted((key, value) for key, value in attrs.items() if value is not None)
                  ) if attrs else ()
    return as_tensor(first)._apply(name, *others, attrs=given)


def _data(array) -> Tensor:
    return array if isinstance(array, Tensor) else Tensor(np.asarray(array))


# -- layers with parameters ---------------------------------------------------------------

def linear(input, weight, bias=None) -> Tensor:
    """input (..., in) · weightᵀ (in, out) + bias (out,), weight (out, in) as in PyTorch. In the
    notes' column notation this is z⁽ˡ⁾ = W⁽ˡ⁾a⁽ˡ⁻¹⁾ + b⁽ˡ⁾ with one sample per row."""
    if bias is None:
        return as_tensor(input) @ as_tensor(weight).T
    return as_tensor(input)._apply("linear", weight, bias)


def _plain(size):
    """An int or a (height, width) pair as the plain value a graph attribute holds."""
    return tuple(int(n) for n in size) if isinstance(size, (tuple, list)) else int(size)


def _pair(size) -> tuple[int, int]:
    plain = _plain(size)
    return plain if isinstance(plain, tuple) else (plain, plain)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor:
    """Cross-correlation of input (N, C, H, W) with filters weight (F, C, KH, KW) plus bias (F,):
    (N, F, OH, OW), OH = (H + 2·padding − KH) // stride + 1 (likewise OW). padding may be
    'valid' (0) or 'same' (stride 1, odd kernels)."""
    if _pair(dilation) != (1, 1) or groups != 1:
        raise DiffersFromPyTorch(_("conv2d(dilation={dilation}, groups={groups}): gradtrace "
                                   "computes dilation=1, groups=1 only", dilation=repr(dilation),
                                   groups=repr(groups)))
    weight = as_tensor(weight)
    if isinstance(padding, str):
        padding = _named_padding(padding, weight.shape[2:], stride)
    if bias is None:
        bias = Tensor(np.zeros(weight.shape[0], dtype=float_type(weight.value)))
    input = as_tensor(input)
    if input.ndim == 3:  # one image (C, H, W), as PyTorch takes it: a batch of one
        return conv2d(input.unsqueeze(0), weight, bias, stride, padding).squeeze(0)
    _check_conv_size(input.shape, weight.shape, stride, padding)
    return _op("conv2d", input, weight, bias, stride=_plain(stride), padding=_plain(padding))


def _check_conv_size(image, kernel, stride, padding) -> None:
    """Refuse, before any work, a convolution whose output or whose im2col block (every
    window of every image, C·KH·KW numbers each) would pass the budget per array."""
    if len(kernel) != 4:
        return  # the op itself says what shapes it takes
    (filters, channels, kh, kw) = kernel
    try:
        rows, columns = geometry(image, (kh, kw), _pair(stride), _pair(padding))
    except (TypeError, ValueError):
        return  # shapes, strides or paddings the op refuses, saying why
    windows = image[0] * rows * columns
    check_made(max(windows * filters, windows * channels * kh * kw),
               _("conv2d of an input of shape {image} with filters of shape {kernel}",
                 image=tuple(image), kernel=tuple(kernel)))


def _named_padding(padding: str, kernel, stride):
    if padding == "valid":
        return 0
    if padding == "same":
        if _pair(stride) != (1, 1) or any(k % 2 == 0 for k in kernel):
            raise DiffersFromPyTorch(_("conv2d(padding='same') with an even kernel or a "
                                       "stride: gradtrace pads both sides alike; give the "
                                       "padding as numbers"))
        return tuple((k - 1) // 2 for k in kernel)
    raise ValueError(f"Invalid padding string {padding!r}, should be one of {{'valid', 'same'}}")


def _padded(input, padding, fill: float) -> Tensor:
    """input (N, C, H, W) with `padding` rows and columns of `fill` around each image: placed by
    two products with 0/1 matrices (Eₕ @ x @ Ewᵀ), the border added as a constant."""
    ph, pw = _pair(padding)
    input = as_tensor(input)
    if (ph, pw) == (0, 0):
        return input
    h, w = input.shape[-2:]
    dtype = float_type(input.value)
    rows = np.eye(h + 2 * ph, h, -ph, dtype=dtype)  # (H + 2p, H): row i + p ← row i
    columns = np.eye(w + 2 * pw, w, -pw, dtype=dtype)
    border = np.full((h + 2 * ph, w + 2 * pw), fill, dtype=dtype)
    border[ph:ph + h, pw:pw + w] = 0
    return Tensor(rows) @ input @ Tensor(columns.T) + border


def _pool(name, input, kernel_size, stride, padding, ceil_mode, fill):
    if ceil_mode:
        raise DiffersFromPyTorch(_("{name}(ceil_mode=True): gradtrace pools whole windows "
                                   "only (ceil_mode=False)", name=name))
    kernel = _plain(kernel_size)
    if stride is not None and (stride == [] or stride == ()):
        stride = None
    if any(2 * p > k for p, k in zip(_pair(padding), _pair(kernel))):
        raise PyTorchError(f"pad should be at most half of effective kernel size, but got "
                           f"pad={_plain(padding)}, kernel_size={kernel}")
    input = as_tensor(input)
    if input.ndim == 3:  # one image (C, H, W), as PyTorch takes it: a batch of one
        return _pool(name, input.unsqueeze(0), kernel_size, stride, padding, ceil_mode,
                     fill).squeeze(0)
    padded = _padded(input, padding, fill)
    return _op(name, padded, kernel=kernel, stride=None if stride is None else _plain(stride))


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False) -> Tensor:
    """Largest element of each kernel_size window; stride defaults to kernel_size. Padding
    adds a border no window ever picks (the lowest float)."""
    if _pair(dilation) != (1, 1) or return_indices:
        raise DiffersFromPyTorch(_("max_pool2d(dilation, return_indices): gradtrace computes "
                                   "dilation=1 without indices"))
    lowest = float(np.finfo(float_type(as_tensor(input).value)).min)
    return _pool("max_pool2d", input, kernel_size, stride, padding, ceil_mode, lowest)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None) -> Tensor:
    """Mean of each kernel_size window; stride defaults to kernel_size; padding counts as
    zeros in the mean (count_include_pad=True, PyTorch's default)."""
    if not count_include_pad and _pair(padding) != (0, 0) or divisor_override is not None:
        raise DiffersFromPyTorch(_("avg_pool2d(count_include_pad=False, divisor_override): "
                                   "gradtrace divides by the window's size"))
    return _pool("avg_pool2d", input, kernel_size, stride, padding, ceil_mode, 0.0)


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5) -> Tensor:
    """Batch normalisation per channel (axis 1) of (N, C) or (N, C, H, W), in PyTorch's order:
    y = weight·(x − μ)/sqrt(σ² + eps) + bias (weight = γ, bias = β; 1 and 0 when None).

    Training: μ, σ² are the batch's; running_mean and running_var (tensors or arrays, if given)
    are updated in place, r ← (1 − momentum)·r + momentum·batch value, with the unbiased batch
    variance, as PyTorch keeps them. Evaluation: the running statistics replace the batch's."""
    input = as_tensor(input)
    channels = input.shape[1] if input.ndim > 1 else 0
    dtype = float_type(input.value)
    weight = Tensor(np.ones(channels, dtype=dtype)) if weight is None else weight
    bias = Tensor(np.zeros(channels, dtype=dtype)) if bias is None else bias
    if not training:
        if running_mean is None or running_var is None:
            raise PyTorchError(_("batch_norm in evaluation mode (training=False) needs "
                                 "running_mean and running_var"))
        return _op("batch_norm_eval", input, weight, bias, _data(running_mean),
                   _data(running_var), eps=float(eps))
    if input.ndim > 1 and input.value.size == channels:
        raise PyTorchValueError(f"Expected more than 1 value per channel when training, got "
                                f"input size {list(input.shape)}")
    output = _op("batch_norm", input, weight, bias, eps=float(eps))
    if running_mean is not None and running_var is not None:
        _update_running(input.value, running_mean, running_var, momentum)
    return output


def _update_running(x: np.ndarray, running_mean, running_var, momentum: float) -> None:
    axes = (0,) + tuple(range(2, x.ndim))
    count = x.size // x.shape[1]
    mean = x.mean(axis=axes)
    unbiased = x.var(axis=axes) * (count / max(count - 1, 1))
    for running, batch in ((running_mean, mean), (running_var, unbiased)):
        if isinstance(running, Tensor) and running.held_by_trace():
            # a trace still shows the statistics it read: the buffer gets an updated copy
            running.value = running.value * (1.0 - momentum) + momentum * batch
            continue
        array = running.value if isinstance(running, Tensor) else running
        array *= 1.0 - momentum
        array += momentum * batch


def dropout(input, p=0.5, training=True, inplace=False, *, rng=None, generator=None) -> Tensor:
    """Inverted dropout: in training, each element is kept with probability 1 − p and scaled
    by 1/(1 − p), so evaluation returns the input unchanged (《深度学习入门》 §6.4.3 scales at
    test time instead; same expectation). The mask is PyTorch's, from gradtrace's default
    generator (or `generator=`); or from a numpy Generator `rng=` (gradtrace's style)."""
    if not 0 <= p <= 1:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    input = as_tensor(input)
    if not training or p == 0:
        return input
    if p == 1:
        return input * 0.0
    if rng is not None:
        if not isinstance(rng, np.random.Generator):
            raise TypeError(_("rng must be a numpy Generator: np.random.default_rng(seed)"))
        keep = rng.random(input.shape) >= p
    else:
        keep = chosen(generator).bernoulli(input.shape, 1.0 - p)
    return _op("dropout", input, Tensor(keep.astype(float_type(input.value))), p=float(p))


# -- activations: one function per activation op of the registry -------------------------

def _activation(op):
    """F.relu(input), F.leaky_relu(input, negative_slope=0.01), ...: the op's attributes as
    arguments after the input, positional or by name, in PyTorch's order; `inplace` as
    PyTorch's (the result is the same tensor, changed)."""
    names = tuple(op.attrs)

    def function(input, *args, inplace=False, **kwargs):
        if not args and not kwargs and not inplace:  # F.relu(x): the call every step makes
            return as_tensor(input)._apply(op.name)
        args = [a for a in args if not isinstance(a, bool)] if len(args) > len(names) else args
        if len(args) > len(names):
            raise TypeError(_("{name} takes {count} argument(s) after the input",
                              name=op.name, count=len(names)))
        given = dict(zip(names, args))
        unknown = sorted(set(kwargs) - set(names))
        if unknown:
            raise TypeError(f"{op.name}() got an unexpected keyword argument {unknown[0]!r}")
        given.update(kwargs)
        attrs = tuple(sorted((name, float(value)) for name, value in given.items()))
        if inplace:
            return as_tensor(input)._in_place(op.name, attrs=attrs)
        return as_tensor(input)._apply(op.name, attrs=attrs)

    function.__name__ = function.__qualname__ = op.name
    function.__doc__ = f"{op.usage}: {op.description}"
    return function


ACTIVATIONS = {op.name: _activation(op) for op in activations()}
globals().update(ACTIVATIONS)


def gelu(input, approximate: str = "none") -> Tensor:
    """x·Φ(x) (approximate='none', the registry's gelu op), or PyTorch's tanh form
    ½x·(1 + tanh(√(2/π)·(x + 0.044715x³))) (approximate='tanh'), recorded op by op."""
    if approximate == "none":
        return as_tensor(input)._apply("gelu")
    if approximate != "tanh":
        raise PyTorchError("approximate argument must be either none or tanh.")
    x = as_tensor(input)
    inner = (x + x * x * x * 0.044715) * math.sqrt(2.0 / math.pi)
    return x * 0.5 * (1.0 + inner.tanh())


ACTIVATIONS["gelu"] = gelu


def softplus(input, beta=1.0, threshold=20.0) -> Tensor:
    """log(1 + exp(β·x))/β, and x itself where β·x > threshold, as PyTorch computes it."""
    input = as_tensor(input)
    scaled = input if beta == 1 else input * beta
    smooth = ACTIVATIONS["softplus"](scaled) if "softplus" in ACTIVATIONS else (
        (1 + scaled.exp()).log())
    smooth = smooth if beta == 1 else smooth / beta
    above = np.asarray(scaled.value) > threshold
    if not np.any(above):
        return smooth
    from ..core.tensor.functions import where

    return where(above, input, smooth)


def relu6(input, inplace=False) -> Tensor:
    return hardtanh(input, 0.0, 6.0)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False) -> Tensor:
    """x clamped to [min_val, max_val]. Its gradient is 1 strictly inside only, as PyTorch's:
    where x is exactly min_val or max_val it is 0 (clamp's own passes the gradient there)."""
    input = as_tensor(input)
    clamped = input.clamp(min_val, max_val)
    values = np.asarray(input.value)
    at_edge = (values == min_val) | (values == max_val)
    if not input.requires_grad or not np.any(at_edge):
        return clamped
    from ..core.tensor.functions import where

    return where(~at_edge, clamped, clamped.detach())


def _implicit_dim(input, name: str) -> int:
    ndim = as_tensor(input).ndim
    dim = 0 if ndim in (0, 1, 3) else 1
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call "
                  "to include dim=X as an argument.", UserWarning, stacklevel=3)
    return dim


def softmax(input, dim=None, _stacklevel=3, dtype=None) -> Tensor:
    """exp(x) / Σ exp(x) along `dim`."""
    dim = _implicit_dim(input, "softmax") if dim is None else dim
    return as_tensor(input if dtype is None else as_tensor(input).to(dtype)).softmax(dim)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None) -> Tensor:
    """log(softmax(x)) along `dim`, computed stably."""
    dim = _implicit_dim(input, "log_softmax") if dim is None else dim
    return as_tensor(input if dtype is None else as_tensor(input).to(dtype)).log_softmax(dim)


def flatten(input, start_dim=1, end_dim=-1) -> Tensor:
    """Merge the axes from start_dim to end_dim: (N, C, H, W) → (N, C·H·W)."""
    input = as_tensor(input)
    if end_dim in (-1, input.ndim - 1) and 0 < start_dim % max(input.ndim, 1):
        return _op("flatten", input, start_dim=int(start_dim))
    return input.flatten(start_dim, end_dim)


def one_hot(tensor, num_classes: int = -1) -> Tensor:
    """Class indices (int64) as rows of 0/1 (int64), as F.one_hot."""
    indices = np.asarray(getattr(tensor, "value", tensor))
    if indices.dtype.kind not in "iu":
        raise PyTorchError("one_hot is only applicable to index tensor of type LongTensor.")
    classes = (int(indices.max()) + 1 if indices.size else 0) if num_classes == -1 else int(
        num_classes)
    if indices.size and (indices.min() < 0 or indices.max() >= classes):
        raise PyTorchError("Class values must be smaller than num_classes." if indices.min() >= 0
                           else "Class values must be non-negative.")
    check_made(indices.size * classes, _("one_hot of {count} indices into {classes} classes",
                                         count=indices.size, classes=classes))
    rows = np.zeros(indices.shape + (classes,), dtype=np.int64)  # no classes×classes identity
    np.put_along_axis(rows, indices[..., None], 1, axis=-1)
    return Tensor(rows)


def pad(input, pad, mode="constant", value=None) -> Tensor:
    """Zeros (or `value`) around the last two axes: pad = (left, right, top, bottom), equal on
    both sides of an axis."""
    if mode != "constant" or len(pad) not in (2, 4) or pad[0] != pad[1] or (
            len(pad) == 4 and pad[2] != pad[3]):
        raise DiffersFromPyTorch(_("pad: gradtrace pads the last two axes of an image batch "
                                   "by the same amount on both sides, with a constant"))
    top = pad[2] if len(pad) == 4 else 0
    return _padded(input, (top, pad[0]), 0.0 if value is None else float(value))


# -- losses -------------------------------------------------------------------------------

def _reduction(function: str, reduction: str, size_average=None, reduce=None) -> str:
    if size_average is not None or reduce is not None:
        reduction = "sum" if size_average is False else "mean"
        if reduce is False:
            reduction = "none"
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def _loss(op_name: str, input, target, reduction: str) -> Tensor:
    """The registry's loss op with PyTorch's `reduction`, if the op takes one."""
    if op_name not in REGISTRY.keys():
        raise NotInGradtrace(_("gradtrace has no {op} op yet", op=op_name))
    op = REGISTRY[op_name]
    if "reduction" in op.attrs:
        return _op(op_name, input, _target(target), reduction=reduction)
    if reduction != "mean":
        raise DiffersFromPyTorch(_("{op}(reduction={reduction}): this version of gradtrace's "
                                   "op computes the mean only", op=op_name,
                                   reduction=repr(reduction)))
    return _op(op_name, input, _target(target))


def _target(target) -> Tensor:
    return target if isinstance(target, Tensor) else _data(target)


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100,
                  reduce=None, reduction="mean", label_smoothing=0.0) -> Tensor:
    """Softmax cross-entropy of logits (N, C) (or one row (C,)); target as class indices (N,)
    or class probabilities (N, C), never differentiated; reduction 'mean' (over the batch),
    'sum' or 'none'."""
    input = as_tensor(input)
    if weight is not None or label_smoothing:
        raise DiffersFromPyTorch(_("cross_entropy(weight=..., label_smoothing=...): "
                                   "gradtrace computes unweighted cross-entropy without "
                                   "smoothing"))
    if input.ndim > 2:
        raise DiffersFromPyTorch(_("cross_entropy of (N, C, d1, ...) logits: gradtrace's "
                                   "class axis is the last; reshape to (N·d1·..., C) first"))
    return _class_loss("cross_entropy", input, target, ignore_index,
                       _reduction("cross_entropy", reduction, size_average, reduce))


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean") -> Tensor:
    """−(log-probability of each row's class), from log-probabilities (N, C) such as
    log_softmax's; reduction 'mean', 'sum' or 'none'."""
    if weight is not None:
        raise DiffersFromPyTorch(_("nll_loss(weight=...): gradtrace computes unweighted "
                                   "losses"))
    input = as_tensor(input)
    if input.ndim > 2:
        raise DiffersFromPyTorch(_("nll_loss of (N, C, d1, ...) inputs: reshape to "
                                   "(N·d1·..., C)"))
    return _class_loss("nll_loss", input, target, ignore_index,
                       _reduction("nll_loss", reduction, size_average, reduce))


def _class_loss(op_name: str, input: Tensor, target, ignore_index, reduction: str) -> Tensor:
    """A loss over class indices that refuses targets equal to ignore_index (gradtrace counts
    every row). An ignore_index that is no class, as PyTorch's default -100, can be met only
    where the op's own range check fails: it is looked for only then."""
    if 0 <= ignore_index < (input.shape[-1] if input.ndim else 0):
        _check_ignored(target, ignore_index)
    try:
        return _loss(op_name, input, target, reduction)
    except ClassIndexError:
        _check_ignored(target, ignore_index)
        raise


def _check_ignored(target, ignore_index) -> None:
    values = target.value if isinstance(target, Tensor) else np.asarray(target)
    if values.dtype.kind in "iu" and (values == ignore_index).any():
        raise DiffersFromPyTorch(_("targets equal to ignore_index ({ignore_index}): "
                                   "gradtrace counts every target; leave those rows out "
                                   "instead", ignore_index=ignore_index))


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean") -> Tensor:
    """(input − target)², averaged over every element ('mean'), summed, or each ('none')."""
    input, target = as_tensor(input), as_tensor(target)
    if input.shape != target.shape:
        warnings.warn(f"Using a target size ({list(target.shape)}) that is different to the "
                      f"input size ({list(input.shape)}). This will likely lead to incorrect "
                      "results due to broadcasting. Please ensure they have the same size.",
                      UserWarning, stacklevel=2)
    return _loss("mse", input, target, _reduction("mse_loss", reduction, size_average, reduce))


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction="mean") -> Tensor:
    """−(y·log p + (1 − y)·log(1 − p)) of probabilities p in [0, 1]."""
    if weight is not None:
        raise DiffersFromPyTorch(_("binary_cross_entropy(weight=...): gradtrace computes "
                                   "unweighted losses"))
    probabilities = as_tensor(input).value
    if not ((probabilities >= 0) & (probabilities <= 1)).all():  # nan fails too
        # PyTorch's refusal, where the loss would be nan (a logit given for a probability)
        raise PyTorchError(_("{pytorch} (for logits, use binary_cross_entropy_with_logits)",
                             pytorch="all elements of input should be between 0 and 1"))
    return _loss("binary_cross_entropy", input, target,
                 _reduction("binary_cross_entropy", reduction, size_average, reduce))


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None,
                                     reduce=None, reduction="mean", pos_weight=None) -> Tensor:
    """Binary cross-entropy of logits z (a sigmoid folded in): softplus(z) − y·z."""
    if weight is not None or pos_weight is not None:
        raise DiffersFromPyTorch(_("binary_cross_entropy_with_logits(weight, pos_weight): "
                                   "gradtrace computes unweighted losses"))
    return _loss("binary_cross_entropy_with_logits", input, target,
                 _reduction("binary_cross_entropy_with_logits", reduction, size_average, reduce))


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean") -> Tensor:
    """|input − target|, averaged, summed or each."""
    difference = (as_tensor(input) - target).abs()
    reduction = _reduction("l1_loss", reduction, size_average, reduce)
    return difference if reduction == "none" else (
        difference.sum() if reduction == "sum" else difference.mean())


def __getattr__(name: str):
    raise NotInGradtrace(_("gradtrace.nn.functional has no {name}: gradtrace covers the part "
                           "of torch.nn.functional the course code uses (the README lists what "
                           "differs)", name=repr(name)))


__all__ = ["linear", "conv2d", "max_pool2d", "avg_pool2d", "batch_norm", "dropout",
           *ACTIVATIONS, "softplus", "relu6", "hardtanh", "softmax", "log_softmax", "flatten",
           "one_hot", "pad", "cross_entropy", "nll_loss", "mse_loss", "binary_cross_entropy",
           "binary_cross_entropy_with_logits", "l1_loss"]
