"""torch.* functions with PyTorch's arguments, written with the registry's ops.

The registry's ops are also functions by the names users type in expressions
(`gradtrace.exp`, `gradtrace.softmax(x, axis=0)`: `tensor_ops()`); the functions here are
those whose PyTorch form takes other arguments (`torch.max(x, 1)` is a reduction returning
values and indices, `torch.sum(x, dim=0)`, `torch.reshape(x, (2, 3))`) or that the registry
has no single op for (cat, stack, where), and they win over the registry's when the package
root looks a name up. Each accepts gradtrace's `axis=` as well as PyTorch's `dim=`.
"""

from __future__ import annotations

import builtins
import math

import numpy as np

from ..i18n import _, ngettext
from . import dtypes
from .base import Tensor, as_tensor, check_made
from .errors import DiffersFromPyTorch, PyTorchError
from .methods import _dim


def _t(value) -> Tensor:
    return as_tensor(value)


def sum(input, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):
    return _t(input).sum(dim, keepdim, dtype=dtype, axis=axis, keepdims=keepdims)


def mean(input, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):
    return _t(input).mean(dim, keepdim, dtype=dtype, axis=axis, keepdims=keepdims)


def max(input, dim=None, keepdim=False, *, axis=None):
    """max(x), max(x, dim) → (values, indices), max(a, b) elementwise."""
    if isinstance(dim, Tensor) or (dim is not None and not isinstance(dim, (int, np.integer))
                                   and np.ndim(dim) > 0):
        return _t(input).maximum(dim)
    return _t(input).max(dim, keepdim, axis=axis)


def min(input, dim=None, keepdim=False, *, axis=None):
    if isinstance(dim, Tensor) or (dim is not None and not isinstance(dim, (int, np.integer))
                                   and np.ndim(dim) > 0):
        return _t(input).minimum(dim)
    return _t(input).min(dim, keepdim, axis=axis)


def maximum(input, other):
    return _t(input).maximum(other)


def minimum(input, other):
    return _t(input).minimum(other)


def softmax(input, dim=-1, dtype=None, *, axis=None):
    return _t(input).softmax(dim if axis is None else axis)


def log_softmax(input, dim=-1, dtype=None, *, axis=None):
    return _t(input).log_softmax(dim if axis is None else axis)


def reshape(input, *shape, shape_=None):
    return _t(input).reshape(*shape)


def transpose(input, dim0=None, dim1=None):
    """transpose(x) reverses the axes (gradtrace's op); transpose(x, 0, 1) swaps two."""
    if dim0 is None:
        return _t(input)._apply("transpose")
    return _t(input).transpose(dim0, dim1)


def flatten(input, start_dim=0, end_dim=-1):
    return _t(input).flatten(start_dim, end_dim)


def dropout(input, p=0.5, train=True, *, mask=None):
    """torch.dropout(input, p, train), from the default generator; with a 0/1 `mask` (or an
    array as the second argument) gradtrace's dropout op with that mask."""
    if isinstance(p, (Tensor, np.ndarray)) or mask is not None:
        keep = p if mask is None else mask
        rate = train if mask is not None and not isinstance(train, bool) else 0.5
        return _t(input)._apply("dropout", keep, attrs=(("p", float(rate)),))
    from .random import default_generator

    input = _t(input)
    if not train or p == 0:
        return input
    kept = default_generator.bernoulli(input.shape, 1.0 - p).astype(input.dtype)
    return input._apply("dropout", Tensor(kept), attrs=(("p", float(p)),))


def permute(input, dims):
    return _t(input).permute(*dims)


def unsqueeze(input, dim):
    return _t(input).unsqueeze(dim)


def squeeze(input, dim=None):
    return _t(input).squeeze(dim)


def matmul(input, other):
    return _t(input) @ other


mm = bmm = mv = matmul


def dot(input, other):
    return _t(input).dot(other)


def outer(input, other):
    return _t(input).outer(other)


def clamp(input, min=None, max=None):
    return _t(input).clamp(min, max)


clip = clamp


def square(input):
    return _t(input).square()


def pow(input, exponent):
    return _t(input) ** exponent


def where(condition, input=None, other=None):
    """input where condition holds, else other: condition·input + (1 − condition)·other, so a
    gradient reaches each side where it was chosen. where(condition) gives the indices."""
    cond = np.asarray(getattr(condition, "_value", condition)).astype(bool)
    if input is None and other is None:
        return tuple(Tensor(found) for found in np.nonzero(cond))
    a, b = _t(input), _t(other)
    try:
        shape = np.broadcast_shapes(cond.shape, a.shape, b.shape)
    except ValueError:
        shape = ()  # numpy says which shapes do not fit, below
    check_made(math.prod(shape), _("where of shapes {shapes}", shapes=_(", ").join(
        str(tuple(x)) for x in (cond.shape, a.shape, b.shape))))
    if not (a.requires_grad or b.requires_grad):
        return Tensor(np.where(cond, a._value, b._value))
    dtype = np.result_type(*[x._value.dtype for x in (a, b) if x.requires_grad])
    chosen = cond.astype(dtype)
    # data where it is not chosen becomes 0, so an inf there does not make 0·inf = nan
    if not a.requires_grad:
        a = Tensor(np.where(cond, a._value, 0).astype(a._value.dtype))
    if not b.requires_grad:
        b = Tensor(np.where(cond, 0, b._value).astype(b._value.dtype))
    return a * chosen + b * (1 - chosen)


def cat(tensors, dim=0, *, axis=None):
    """Tensors joined along an existing axis. Recorded as a sum of matmuls: piece i, seen as
    (before, nᵢ, after), is placed by Eᵢ @ piece with Eᵢ (N, nᵢ) a block of the identity."""
    dim = dim if axis is None else axis
    pieces = [_t(t) for t in tensors]
    if not pieces:
        raise ValueError(_("cat expects a non-empty list of tensors"))
    ndim = pieces[0].ndim
    dim = _dim(dim, ndim)
    _check_joinable(pieces, dim)
    check_made(builtin_sum(p._value.size for p in pieces),
               ngettext("cat of {count} tensor", "cat of {count} tensors", len(pieces),
                        count=len(pieces)))
    # PyTorch's result type (int64 with float32 is float32; numpy's would be float64)
    dtype = dtypes.promoted(tuple(p._value for p in pieces), (False,) * len(pieces))
    if not builtins.any(p.requires_grad for p in pieces) or not _recording():
        return Tensor(np.concatenate([p._value for p in pieces], axis=dim, dtype=dtype))
    pieces = [p if p._value.dtype == dtype else p.to(dtype) for p in pieces]
    shape = list(pieces[0].shape)
    total = builtin_sum(p.shape[dim] for p in pieces)
    before, after = math.prod(shape[:dim]), math.prod(shape[dim + 1:])
    result, start = None, 0
    for piece in pieces:
        size = piece.shape[dim]
        place = np.zeros((total, size), dtype=dtype)
        place[start:start + size] = np.eye(size, dtype=dtype)
        start += size
        moved = piece.reshape(before, size, after)
        placed = Tensor(place) @ moved
        result = placed if result is None else result + placed
    shape[dim] = total
    return result.reshape(tuple(shape))


concat = concatenate = cat


def stack(tensors, dim=0):
    """Tensors of one shape joined along a new axis: each unsqueezed, then cat."""
    pieces = [_t(t) for t in tensors]
    if not pieces:
        raise PyTorchError("stack expects a non-empty TensorList")
    for index, piece in enumerate(pieces):
        if piece.shape != pieces[0].shape:
            raise PyTorchError(f"stack expects each tensor to be equal size, but got "
                               f"{list(pieces[0].shape)} at entry 0 and {list(piece.shape)} at "
                               f"entry {index}")
    dim = _dim(dim, pieces[0].ndim + 1)
    check_made(pieces[0]._value.size * len(pieces),
               ngettext("stack of {count} tensor", "stack of {count} tensors", len(pieces),
                        count=len(pieces)))
    return cat([p.unsqueeze(dim) for p in pieces], dim)


def _check_joinable(pieces, dim: int) -> None:
    """PyTorch's refusals of tensors cat cannot join, in its words (numpy's speak of 'the
    concatenation axis')."""
    first = pieces[0].shape
    for number, piece in enumerate(pieces[1:], start=1):
        if piece.ndim != len(first):
            raise PyTorchError(f"Tensors must have same number of dimensions: got {len(first)} "
                               f"and {piece.ndim}")
        for axis, (expected, got) in enumerate(zip(first, piece.shape)):
            if axis != dim and expected != got:
                raise PyTorchError(f"Sizes of tensors must match except in dimension {dim}. "
                                   f"Expected size {expected} but got size {got} for tensor "
                                   f"number {number} in the list.")


def numel(input) -> int:
    return _t(input).numel()


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
    return _t(input).allclose(other, rtol, atol, equal_nan)


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    return Tensor(np.isclose(np.asarray(input), np.asarray(other), rtol, atol, equal_nan))


def equal(input, other) -> bool:
    return _t(input).equal(other)


def argmax(input, dim=None, keepdim=False, *, axis=None):
    return _t(input).argmax(dim, keepdim, axis=axis)


def argmin(input, dim=None, keepdim=False, *, axis=None):
    return _t(input).argmin(dim, keepdim, axis=axis)


def sort(input, dim=-1, descending=False, stable=False):
    return _t(input).sort(dim, descending, stable)


def argsort(input, dim=-1, descending=False, stable=False):
    return _t(input).argsort(dim, descending, stable)


def topk(input, k, dim=-1, largest=True, sorted=True):
    return _t(input).topk(k, dim, largest, sorted)


def split(tensor, split_size_or_sections, dim=0):
    return _t(tensor).split(split_size_or_sections, dim)


def chunk(input, chunks, dim=0):
    return _t(input).chunk(chunks, dim)


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return _t(input).std(dim, unbiased, keepdim, correction=correction)


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return _t(input).var(dim, unbiased, keepdim, correction=correction)


def norm(input, p="fro", dim=None, keepdim=False):
    return _t(input).norm(p, dim, keepdim)


def logsumexp(input, dim, keepdim=False):
    return _t(input).logsumexp(dim, keepdim)


def cumsum(input, dim=None, *, axis=None):
    return _t(input).cumsum(dim, axis=axis)


def einsum(*args):
    raise DiffersFromPyTorch(_("einsum: gradtrace has no einsum; write it with @, * and sum"))


def _elementwise(name):
    def function(input, *args, **kwargs):
        return getattr(_t(input), name)(*args, **kwargs)

    function.__name__ = name
    return function


for _name in ("log1p", "expm1", "log2", "log10", "rsqrt", "sign", "floor", "ceil", "round",
              "trunc", "eq", "ne", "lt", "le", "gt", "ge", "logical_not", "logical_and",
              "logical_or", "isnan", "isinf", "isfinite", "all", "any", "prod", "t",
              "neg", "negative", "absolute", "add", "sub", "mul", "div", "subtract",
              "multiply", "divide", "true_divide", "reciprocal", "clamp_min", "clamp_max",
              "index_select", "gather", "masked_fill", "movedim", "swapaxes", "unflatten",
              "amax", "amin", "detach", "clone"):
    globals()[_name] = _elementwise(_name)


def topk(input, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):
    """The k largest (or smallest) along dim: (values, indices); values gathered, so a
    gradient reaches them."""
    from .methods import ValuesIndices

    input = _t(input)
    order = np.argsort(-input._value if largest else input._value, axis=dim, kind="stable")
    indices = np.take(order, np.arange(k), axis=dim)
    return ValuesIndices(input.gather(dim % input.ndim, Tensor(indices)), Tensor(indices))


def sort(input, dim: int = -1, descending: bool = False):
    from .methods import ValuesIndices

    input = _t(input)
    order = np.argsort(-input._value if descending else input._value, axis=dim, kind="stable")
    return ValuesIndices(input.gather(dim % input.ndim, Tensor(order)), Tensor(order))


def save(obj, f, *args, **kwargs) -> None:
    """torch.save: `obj` (a state_dict, tensors, dicts of them) to a path or file (see
    serialization.py: gradtrace's own file format)."""
    from .serialization import save as saving

    saving(obj, f, *args, **kwargs)


def load(f, *args, **kwargs):
    """torch.load of a file gradtrace.save wrote (weights only unless weights_only=False)."""
    from .serialization import load as loading

    return loading(f, *args, **kwargs)


class Size(tuple):
    """torch.Size: a tuple of sizes (x.shape is a plain tuple in gradtrace; they compare
    equal)."""

    def __repr__(self) -> str:
        return f"gradtrace.Size({list(self)})"

    def numel(self) -> int:
        return math.prod(self)


def _legacy_constructor(name: str, dtype_name: str):
    """torch.FloatTensor([1, 2]) (the numbers, in that type) or torch.FloatTensor(2, 3) (that
    shape; zeros here, where PyTorch leaves the memory uninitialised), as d2l's older code
    writes them."""
    def constructor(*data):
        from . import dtypes
        from .factories import tensor, zeros

        dtype = dtypes.NAMES[dtype_name]
        if not data:
            return zeros(0, dtype=dtype)
        if builtins.all(isinstance(n, (int, np.integer)) and not isinstance(n, bool)
                        for n in data):
            return zeros(*data, dtype=dtype)
        if len(data) == 1:
            return tensor(getattr(data[0], "_value", data[0]), dtype=dtype)
        raise TypeError(_("{name}(): give the data (a list, an array) or the sizes", name=name))

    constructor.__name__ = constructor.__qualname__ = name
    return constructor


_LEGACY = {name: _legacy_constructor(name, dtype_name) for name, dtype_name in (
    ("FloatTensor", "float32"), ("DoubleTensor", "float64"), ("HalfTensor", "float16"),
    ("LongTensor", "int64"), ("IntTensor", "int32"), ("ShortTensor", "int16"),
    ("ByteTensor", "uint8"), ("BoolTensor", "bool"))}
globals().update(_LEGACY)


def _recording() -> bool:
    from . import base as tensor

    return tensor._grad_enabled


builtin_max, builtin_sum = builtins.max, builtins.sum

# names of this module that are not torch functions
PRIVATE = {"annotations", "builtins", "math", "np", "DiffersFromPyTorch", "Tensor", "as_tensor",
           "builtin_max", "builtin_sum", "PRIVATE", "FUNCTIONS", "check_made", "ngettext"}
FUNCTIONS = {name: value for name, value in dict(globals()).items()
             if callable(value) and not name.startswith("_") and name not in PRIVATE}


class Device(str):
    """What torch.device('cpu') gives: the device's name, with .type; only 'cpu' exists."""

    @property
    def type(self) -> str:
        return self.split(":")[0]


def device(type: str = "cpu", index: int | None = None) -> Device:
    from .methods import _check_device

    _check_device(type)
    return Device(type)


class _Cuda:
    """torch.cuda as far as gradtrace goes: never available."""

    @staticmethod
    def is_available() -> bool:
        return False

    @staticmethod
    def device_count() -> int:
        return 0


cuda = _Cuda()
FUNCTIONS.update(device=device, cuda=cuda)
