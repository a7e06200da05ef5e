"""PyTorch's tensor methods, each written with the registry's ops.

Every method that can carry a gradient records registry ops only (the registry is the one
list of ops): `x.exp()` is the exp op, `x.sum(dim=1, keepdim=True)` the sum op then a reshape,
`x.permute(0, 2, 3, 1)` reshapes and transposes, `x.max(dim=1)` the max op for the values and
numpy's argmax for the indices (indices carry no gradient, as in PyTorch). Methods whose
result carries no gradient (comparisons, argmax, type conversions of data) compute with numpy
directly.

Arguments follow PyTorch: `dim` and `keepdim` (gradtrace's `axis` is accepted too), sizes as
separate numbers or one tuple.
"""

from __future__ import annotations

import math
import operator
from typing import NamedTuple

import numpy as np

from ..i18n import _, message
from . import dtypes
from .errors import DiffersFromPyTorch, PyTorchError


def _owner(tensor_):
    return _tensor_module()._owner(tensor_)


def _tensor_module():
    from . import base as tensor

    return tensor


def _sizes(shape, what: str = "size") -> tuple[int, ...]:
    """reshape(2, 3) and reshape((2, 3)) alike; whole numbers only (PyTorch refuses "3", 2.0
    and None where int() would quietly read them)."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    sizes = []
    for position, n in enumerate(shape):
        try:
            if isinstance(n, bool):
                raise TypeError
            sizes.append(operator.index(n))  # ints, numpy ints, a 0-d integer tensor
        except TypeError:
            raise TypeError(f"argument '{what}' must be tuple of ints, but found element of "
                            f"type {type(n).__name__} at pos {position}") from None
    return tuple(sizes)


def _dims(dim, ndim: int):
    """A dim (or several) as plain non-negative ints; None for all."""
    if dim is None:
        return None
    if isinstance(dim, (tuple, list)):
        dims = tuple(_dim(d, ndim) for d in dim)
        for index, d in enumerate(dims):
            if d in dims[:index]:
                raise PyTorchError(f"dim {d} appears multiple times in the list of dims")
        return dims
    return _dim(dim, ndim)


def _dim(dim, ndim: int) -> int:
    """One dim in -ndim..ndim-1 (a 0-d tensor has dims -1 and 0), as a non-negative int."""
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
        raise TypeError(_("a dim must be a whole number, not {dim}", dim=repr(dim)))
    size = max(ndim, 1)
    if not -size <= dim < size:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-size}, "
                         f"{size - 1}], but got {dim})")
    return int(dim) % size


def _check_shape(shape: tuple[int, ...], size: int) -> None:
    """PyTorch's refusals of a shape for `size` elements, in its words (numpy's would say
    'cannot reshape array of size 12 into shape (5,newaxis)')."""
    for index, length in enumerate(shape):
        if length < -1:
            raise PyTorchError(f"invalid shape dimension {length} at index {index} of shape "
                               f"{list(shape)}")
    if shape.count(-1) > 1:
        raise PyTorchError("only one dimension can be inferred")
    known = math.prod(length for length in shape if length != -1)
    if -1 in shape and not known:
        raise PyTorchError(f"cannot reshape tensor of {size} elements into shape {list(shape)} "
                           f"because the unspecified dimension size -1 can be any value and "
                           f"is ambiguous")
    fits = size % known == 0 if -1 in shape and known else size == known
    if not fits:
        raise PyTorchError(f"shape '{list(shape)}' is invalid for input of size {size}")


def _check_reducible(value: np.ndarray, name: str, axis) -> None:
    """max, min, argmax... have no value over no elements: PyTorch's refusal, where numpy's
    would say "zero-size array to reduction operation maximum which has no identity"."""
    if axis is None:
        if value.size == 0:
            raise PyTorchError(f"{name}(): Expected reduction dim to be specified for "
                               "input.numel() == 0. Specify the reduction dim with the 'dim' "
                               "argument.")
        return
    for index in (axis if isinstance(axis, tuple) else (axis,)):
        if value.shape[index] == 0:
            raise PyTorchError(f"{name}(): Expected reduction dim {index} to have non-zero "
                               "size.")


def _kept_shape(shape, dims) -> tuple[int, ...]:
    reduced = range(len(shape)) if dims is None else (
        dims if isinstance(dims, tuple) else (dims,))
    return tuple(1 if i in reduced else n for i, n in enumerate(shape))


class ValuesIndices(NamedTuple):
    """What x.max(dim) and x.min(dim) return, as torch.return_types.max: values, indices."""

    values: object
    indices: object


class TorchMethods:
    """The PyTorch method surface of gradtrace.Tensor (a mixin: no state of its own)."""

    __slots__ = ()

    # -- reading -----------------------------------------------------------------------------
    def size(self, dim=None):
        return self.shape if dim is None else self.shape[dim]

    def dim(self) -> int:
        return self._value.ndim

    @property
    def ndim(self) -> int:
        return self._value.ndim

    ndimension = dim

    def numel(self) -> int:
        return int(self._value.size)

    nelement = numel

    def element_size(self) -> int:
        return self._value.itemsize

    @property
    def device(self) -> str:
        return "cpu"

    is_cuda = False

    def item(self):
        if self._value.size != 1:
            raise PyTorchError(f"a Tensor with {self._value.size} elements cannot be converted "
                               "to Scalar")
        return self._value.reshape(()).item()

    def tolist(self):
        return self._value.tolist()

    def numpy(self, force: bool = False) -> np.ndarray:
        """The array itself (changes to it change the tensor), as in PyTorch."""
        if self.requires_grad and not force:
            raise PyTorchError("Can't call numpy() on Tensor that requires grad. Use "
                               "tensor.detach().numpy() instead.")
        return self._value

    def __array__(self, dtype=None, copy=None):
        return self._value if dtype is None else self._value.astype(dtype)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self._value.dtype.kind not in "biu":
            raise TypeError("only integer tensors of a single element can be converted to an "
                            "index")
        return int(self.item())

    def __bool__(self) -> bool:
        if self._value.size != 1:
            raise PyTorchError("Boolean value of Tensor with more than one value is ambiguous")
        return bool(self._value.reshape(()))

    def __len__(self) -> int:
        if self._value.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._value.shape[0]

    def __iter__(self):
        if self._value.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._value.shape[0]))

    def __format__(self, spec: str) -> str:
        if self._value.ndim == 0 or self._value.size == 1 and spec:
            return format(self.item(), spec)
        return format(repr(self), spec)

    # -- gradients -------------------------------------------------------------------------
    def detach(self):
        """The same array as a tensor that records nothing and needs no gradient."""
        return self._view(self._value)

    def detach_(self):
        self._op, self._attrs, self._first, self._second, self._others = None, (), None, None, ()
        self._kept = None
        self.requires_grad = False
        if getattr(self, "_refusal", None) is not None:
            del self._refusal  # a constant now: no gradient goes through it
        return self

    def requires_grad_(self, requires_grad: bool = True):
        if self._value.dtype.kind != "f":
            raise PyTorchError("only Tensors of floating point dtype can require gradients")
        if self._op is not None and not requires_grad:
            raise PyTorchError("you can only change requires_grad flags of leaf variables. If "
                               "you want to use a computed variable in a subgraph that doesn't "
                               "require differentiation use var_no_grad = var.detach().")
        self.requires_grad = bool(requires_grad)
        return self

    def retain_grad(self) -> None:
        """Keep this intermediate tensor's gradient in .grad at backward()."""
        self._retains = True
        _tensor_module().note_retained()

    @property
    def retains_grad(self) -> bool:
        return bool(getattr(self, "_retains", False)) and self._op is not None

    @property
    def grad_fn(self):
        """None for a leaf; else the op that made it, named as PyTorch names its backward."""
        if self._op is None:
            return None
        return GradFn(self._op)

    def clone(self):
        """A copy; recorded (the identity, as a reshape to the same shape) when it needs a
        gradient."""
        if 0 in self._value.strides:  # an expanded view: the copy makes every number
            _tensor_module().check_made(self._value.size, _("clone of an expanded tensor of "
                                                            "shape {shape}", shape=self.shape))
        copied = self._apply("reshape", attrs=(("shape", self.shape),))
        copied._value = copied._value.copy()
        return copied

    # -- elementwise, one method per registry op called by name -----------------------------
    def exp(self): return self._apply("exp")
    def log(self): return self._apply("log")
    def sqrt(self): return self._apply("sqrt")
    def sin(self): return self._apply("sin")
    def cos(self): return self._apply("cos")
    def tanh(self): return self._apply("tanh")
    def sigmoid(self): return self._apply("sigmoid")
    def relu(self): return self._apply("relu")
    def abs(self): return self._apply("abs")
    def neg(self): return self._apply("neg")
    def reciprocal(self): return self._apply("reciprocal")
    negative = neg
    absolute = abs

    def square(self): return self._apply("pow", 2)
    def rsqrt(self): return self.sqrt()._apply("reciprocal")
    def log1p(self): return (1 + self).log()
    def expm1(self): return self.exp() - 1
    def log2(self): return self.log() / math.log(2.0)
    def log10(self): return self.log() / math.log(10.0)

    def pow(self, exponent): return self._apply("pow", exponent)
    def add(self, other, *, alpha=1): return self + (other if alpha == 1 else alpha * other)
    def sub(self, other, *, alpha=1): return self - (other if alpha == 1 else alpha * other)
    def mul(self, other): return self * other
    def div(self, other, *, rounding_mode=None):
        if rounding_mode is not None:  # in PyTorch's result type: a Python number is weak
            given = other._value if isinstance(other, type(self)) else np.asarray(other)
            target = dtypes.promoted((self._value, given), (False, isinstance(other, (
                bool, int, float))))
            return self._data_op(lambda a, b: _rounded(a.astype(target), b.astype(target),
                                                       rounding_mode), other)
        return self / other
    subtract, multiply, divide, true_divide = sub, mul, div, div

    def maximum(self, other): return _elementwise_extreme(self, "max", other)
    def minimum(self, other): return _elementwise_extreme(self, "min", other)

    def clamp(self, min=None, max=None):
        """min(max(x, min), max): the gradient passes where min ≤ x ≤ max, as in PyTorch."""
        result = self
        if min is not None:
            result = result._apply("max", min)
        if max is not None:
            result = result._apply("min", max)
        if min is None and max is None:
            raise PyTorchError("At least one of 'min' or 'max' must not be None")
        return result

    clip = clamp

    def clamp_min(self, min): return self.clamp(min=min)
    def clamp_max(self, max): return self.clamp(max=max)

    def softmax(self, dim, dtype=None): return self._apply("softmax", attrs=(("axis", int(dim)),))
    def log_softmax(self, dim, dtype=None):
        return self._apply("log_softmax", attrs=(("axis", int(dim)),))

    # values with no gradient (PyTorch's are zero almost everywhere)
    def sign(self): return self._data_op(np.sign)
    def floor(self): return self._data_op(np.floor)
    def ceil(self): return self._data_op(np.ceil)
    def round(self, decimals: int = 0): return self._data_op(lambda a: np.round(a, decimals))
    def trunc(self): return self._data_op(np.trunc)

    def __floordiv__(self, other): return self._data_op(np.floor_divide, other)
    def __rfloordiv__(self, other): return self._data_op(lambda a, b: np.floor_divide(b, a), other)
    def __mod__(self, other): return self._data_op(np.mod, other)

    # -- comparisons and logic: boolean tensors, no gradient ---------------------------------
    def __eq__(self, other): return self._data_op(np.equal, other)
    def __ne__(self, other): return self._data_op(np.not_equal, other)
    def __lt__(self, other): return self._data_op(np.less, other)
    def __le__(self, other): return self._data_op(np.less_equal, other)
    def __gt__(self, other): return self._data_op(np.greater, other)
    def __ge__(self, other): return self._data_op(np.greater_equal, other)
    eq, ne, lt, le, gt, ge = __eq__, __ne__, __lt__, __le__, __gt__, __ge__
    greater, less, greater_equal, less_equal, not_equal = gt, lt, ge, le, ne

    def __and__(self, other): return self._data_op(np.logical_and, other, logical=True)
    def __or__(self, other): return self._data_op(np.logical_or, other, logical=True)
    def __xor__(self, other): return self._data_op(np.logical_xor, other, logical=True)
    __rand__, __ror__, __rxor__ = __and__, __or__, __xor__

    def __invert__(self):
        if self._value.dtype.kind != "b":
            return self._data_op(np.invert)
        return self._data_op(np.logical_not)

    def logical_not(self): return self._data_op(np.logical_not)
    def logical_and(self, other): return self & other
    def logical_or(self, other): return self | other
    def isnan(self): return self._data_op(np.isnan)
    def isinf(self): return self._data_op(np.isinf)
    def isfinite(self): return self._data_op(np.isfinite)

    def equal(self, other) -> bool:
        other = np.asarray(other)
        return self.shape == other.shape and bool(np.all(self._value == other))

    def allclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
        return bool(np.allclose(self._value, np.asarray(other), rtol, atol, equal_nan))

    def all(self, dim=None, keepdim=False, *, axis=None):
        dim = dim if axis is None else axis
        return self._data_op(lambda a: np.all(a, axis=_dims(dim, a.ndim), keepdims=keepdim))

    def any(self, dim=None, keepdim=False, *, axis=None):
        dim = dim if axis is None else axis
        return self._data_op(lambda a: np.any(a, axis=_dims(dim, a.ndim), keepdims=keepdim))

    def _data_op(self, function, *others, logical: bool = False):
        """A value with no gradient, computed by numpy (comparisons, argmax, rounding)."""
        values = [np.asarray(o._value if isinstance(o, type(self)) else o) for o in others]
        with np.errstate(all="ignore"):
            result = np.asarray(function(self._value, *values))
        return _tensor_module().Tensor(result)

    # -- reductions --------------------------------------------------------------------------
    def sum(self, dim=None, keepdim: bool = False, *, dtype=None, axis=None, keepdims=None):
        keepdim = keepdim if keepdims is None else keepdims  # numpy's spellings, as PyTorch
        return self._reduce("sum", dim if axis is None else axis, keepdim, dtype)

    def mean(self, dim=None, keepdim: bool = False, *, dtype=None, axis=None, keepdims=None):
        keepdim = keepdim if keepdims is None else keepdims
        if self._value.dtype.kind != "f" and dtype is None:
            raise PyTorchError(f"mean(): could not infer output dtype. Input dtype must be "
                               f"either a floating point or complex dtype. Got: "
                               f"{dtypes.name_of(self._value.dtype)}")
        return self._reduce("mean", dim if axis is None else axis, keepdim, dtype)

    def _reduce(self, op_name: str, dim, keepdim: bool, dtype=None):
        if not isinstance(keepdim, (bool, np.bool_)):  # "yes" would be true
            raise TypeError(f"{op_name}(): argument 'keepdim' must be bool, not "
                            f"{type(keepdim).__name__}")
        source = self if dtype is None else self.to(dtype)
        dims = _dims(dim, source._value.ndim)
        if dims == ():
            dims = None
        if op_name in ("amax", "amin"):  # no identity: nothing to reduce is an error
            _check_reducible(source._value, op_name, dims)
        result = source._apply(op_name, attrs=(("axis", dims),) if dims is not None else ())
        if op_name in ("amax", "amin") and result.requires_grad and _ties(source._value,
                                                                          op_name, dims):
            # the value is PyTorch's; only a gradient through it would differ
            _tensor_module().refuse_gradient(result, message(
                "x.{op}(...) meets a tie (several elements equal to the extreme it picks): "
                "PyTorch splits the gradient evenly among them, gradtrace's {op} op sends it "
                "all to the first. Use x.max(dim=...) (the first one gets it, in both), break "
                "the tie, or detach() what needs no gradient", op=op_name))
        if keepdim:
            result = result.reshape(_kept_shape(source.shape, dims))
        return result

    def max(self, dim=None, keepdim: bool = False, *, axis=None):
        """max() of every element; max(dim) → (values, indices); max(other) elementwise.
        gradtrace's max(axis=0) is the values alone (the amax op), as in its expressions."""
        if axis is not None:
            return self._reduce("amax", axis, keepdim)
        return self._extreme("amax", "max", np.argmax, dim, keepdim)

    def min(self, dim=None, keepdim: bool = False, *, axis=None):
        if axis is not None:
            return self._reduce("amin", axis, keepdim)
        return self._extreme("amin", "min", np.argmin, dim, keepdim)

    def _extreme(self, op_name: str, pair_op: str, pick, dim, keepdim):
        if isinstance(dim, type(self)):
            return _elementwise_extreme(self, pair_op, dim)  # max(a, b), elementwise
        _check_reducible(self._value, pair_op, None if dim is None else _dims(dim, self.ndim))
        if dim is None:
            result = self._apply(op_name)
            if result.requires_grad and _ties(self._value, op_name):
                # the value is PyTorch's; only a gradient through it would differ
                extreme = message("maximum") if pair_op == "max" else message("minimum")
                _tensor_module().refuse_gradient(result, message(
                    "x.{op}() of every element meets a tie (several elements equal to the "
                    "{extreme}): PyTorch splits the gradient evenly among them, gradtrace's {op} "
                    "op sends it all to the first. Use x.{op}(dim=...) (the first one gets it, in "
                    "both), break the tie, or detach() what needs no gradient", op=pair_op,
                    extreme=extreme))
            return result
        axis = _dims(dim, self._value.ndim)
        values = self._apply(op_name, attrs=(("axis", axis),))
        indices = _tensor_module().Tensor(pick(self._value, axis=axis).astype(np.int64))
        if keepdim:
            values = values.reshape(_kept_shape(self.shape, axis))
            indices = indices.reshape(_kept_shape(self.shape, axis))
        return ValuesIndices(values, indices)

    def amax(self, dim=(), keepdim: bool = False):
        return self._reduce("amax", dim if dim != () else None, keepdim)

    def amin(self, dim=(), keepdim: bool = False):
        return self._reduce("amin", dim if dim != () else None, keepdim)

    def argmax(self, dim=None, keepdim: bool = False, *, axis=None):
        return self._arg(np.argmax, dim if axis is None else axis, keepdim)

    def argmin(self, dim=None, keepdim: bool = False, *, axis=None):
        return self._arg(np.argmin, dim if axis is None else axis, keepdim)

    def _arg(self, pick, dim, keepdim):
        _check_reducible(self._value, pick.__name__,
                         None if dim is None else _dims(dim, self._value.ndim))
        if dim is None:
            found = np.asarray(pick(self._value), dtype=np.int64)
            return _tensor_module().Tensor(found.reshape((1,) * self.ndim) if keepdim else found)
        axis = _dims(dim, self._value.ndim)
        found = pick(self._value, axis=axis).astype(np.int64)
        return _tensor_module().Tensor(np.expand_dims(found, axis) if keepdim else found)

    def var(self, dim=None, unbiased=None, keepdim: bool = False, *, correction=None,
            axis=None):
        """Σ(x − mean)² / (N − correction); correction 1 (unbiased) unless told otherwise."""
        dim = dim if axis is None else axis
        if correction is None:
            correction = 1 if unbiased is None or unbiased else 0
        dims = _dims(dim, self.ndim)
        count = self._value.size if dims is None else math.prod(
            self.shape[d] for d in (dims if isinstance(dims, tuple) else (dims,)))
        centred = self - self.mean(dim=dims, keepdim=True) if dims is not None else (
            self - self.mean())
        return (centred * centred).sum(dim=dims, keepdim=keepdim) / (count - correction)

    def std(self, dim=None, unbiased=None, keepdim: bool = False, *, correction=None,
            axis=None):
        return self.var(dim if axis is None else axis, unbiased, keepdim,
                        correction=correction).sqrt()

    def norm(self, p="fro", dim=None, keepdim: bool = False):
        """The 2-norm (Frobenius for matrices) over every element or along dim; p=1 too."""
        if p in ("fro", 2, 2.0):
            result = (self * self).sum(dim=dim, keepdim=keepdim).sqrt()
            if result.requires_grad and not np.all(result._value):
                # the value is PyTorch's; only a gradient through it would differ
                _tensor_module().refuse_gradient(result, message(
                    "x.norm() is 0, where its gradient x/‖x‖ is 0/0: PyTorch takes 0, "
                    "gradtrace's sqrt(sum(x*x)) gives nan. Write (x*x + 1e-12).sum().sqrt() to "
                    "stay off 0, or skip the gradient there"))
            return result
        if p in (1, 1.0):
            return self.abs().sum(dim=dim, keepdim=keepdim)
        raise DiffersFromPyTorch(_("norm(p={p}): gradtrace computes p = 2 ('fro') and p = 1",
                                   p=repr(p)))

    def logsumexp(self, dim, keepdim: bool = False):
        """log Σ exp(x), shifted by the (constant) maximum so exp never overflows."""
        dims = _dims(dim, self.ndim)
        shift = np.max(self._value, axis=dims, keepdims=True)
        shift = np.where(np.isfinite(shift), shift, 0.0)
        total = (self - shift).exp().sum(dim=dims, keepdim=True).log() + shift
        return total if keepdim else total.reshape(
            tuple(n for i, n in enumerate(self.shape)
                  if i not in (dims if isinstance(dims, tuple) else (dims,))))

    def prod(self, dim=None, keepdim: bool = False):
        if self.requires_grad:
            raise DiffersFromPyTorch(_("prod() of a tensor that requires grad: gradtrace has "
                                       "no product op; multiply the factors with * instead"))
        return self._data_op(lambda a: np.prod(a, axis=_dims(dim, a.ndim), keepdims=keepdim))

    def cumsum(self, dim=None, *, axis=None):
        """Running sums along dim: a product with a triangle of ones (recorded as matmul)."""
        axis = _dims(dim if axis is None else axis, self.ndim)
        n = self.shape[axis]
        upper = np.triu(np.ones((n, n), dtype=self._value.dtype))  # Σ_{i ≤ j} x_i
        moved = self.movedim(axis, -1)
        return (moved @ upper).movedim(-1, axis)

    # -- shapes --------------------------------------------------------------------------------
    def reshape(self, *shape):
        shape = _sizes(shape)
        _check_shape(shape, self._value.size)
        if shape == self.shape:
            return self._apply("reshape", attrs=(("shape", shape),)) if self.requires_grad \
                else self._view(self._value.reshape(shape))
        if not self.requires_grad or not _tensor_module()._grad_enabled:
            return self._view(self._value.reshape(shape))
        return self._apply("reshape", attrs=(("shape", shape),))

    def view(self, *shape):
        if len(shape) == 1 and not isinstance(shape[0], (tuple, list, int, np.integer, str,
                                                          float, type(None))):
            return self.to(shape[0])  # view(dtype)
        return self.reshape(*shape)

    def view_as(self, other):
        return self.reshape(other.shape)

    reshape_as = view_as

    def _view(self, array):
        """A tensor needing no gradient that shares this one's array (changes show in both)."""
        made = _tensor_module().Tensor(array)
        made._base = _owner(self)
        return made

    def flatten(self, start_dim: int = 0, end_dim: int = -1):
        ndim = max(self.ndim, 1)
        start, end = _dim(start_dim, ndim), _dim(end_dim, ndim)
        if start > end:
            raise PyTorchError("flatten() has invalid args: start_dim cannot come after end_dim")
        if self.ndim == 0:
            return self.reshape(1)
        if end == ndim - 1 and start > 0 and self.requires_grad:
            return self._apply("flatten", attrs=(("start_dim", start),))
        shape = self.shape[:start] + (math.prod(self.shape[start:end + 1]),) + self.shape[end + 1:]
        return self.reshape(shape)

    def unflatten(self, dim: int, sizes):
        dim = _dim(dim, self.ndim)
        return self.reshape(self.shape[:dim] + tuple(sizes) + self.shape[dim + 1:])

    def unsqueeze(self, dim: int):
        dim = _dim(dim, self.ndim + 1)  # one place more than there are axes
        return self.reshape(self.shape[:dim] + (1,) + self.shape[dim:])

    def squeeze(self, dim=None):
        if dim is None:
            return self.reshape(tuple(n for n in self.shape if n != 1))
        dims = {_dim(d, self.ndim) for d in (dim if isinstance(dim, (tuple, list)) else (dim,))}
        return self.reshape(tuple(n for i, n in enumerate(self.shape)
                                  if not (i in dims and n == 1)))

    @property
    def T(self):
        return self._apply("transpose")

    @property
    def mT(self):
        return self.transpose(-2, -1)

    def t(self):
        if self.ndim > 2:
            raise PyTorchError(f"t() expects a tensor with <= 2 dimensions, but self is "
                               f"{self.ndim}D")
        return self._apply("transpose") if self.ndim == 2 else self

    def transpose(self, dim0: int, dim1: int):
        order = list(range(self.ndim))
        a, b = _dim(dim0, self.ndim), _dim(dim1, self.ndim)
        order[a], order[b] = order[b], order[a]
        return self.permute(*order)

    swapaxes = swapdims = transpose

    def permute(self, *dims):
        """Axes in a new order. Recorded with the registry's reshape and transpose (which
        reverses every axis): see `_permuted`."""
        given = _sizes(dims, "dims")
        if len(given) == self.ndim:
            order = tuple(_dim(d, self.ndim) for d in given)
            if len(set(order)) != len(order):
                raise PyTorchError("permute(): duplicate dims are not allowed.")
        if len(given) != self.ndim or sorted(order) != list(range(self.ndim)):
            raise PyTorchError(f"permute(sparse_coo): number of dimensions in the tensor input "
                               f"does not match the length of the desired ordering of "
                               f"dimensions i.e. input.dim() = {self.ndim} is not equal to "
                               f"len(dims) = {len(given)}")
        if not self.requires_grad or not _tensor_module()._grad_enabled:
            return self._view(np.transpose(self._value, order))
        return _permuted(self, order)

    def movedim(self, source: int, destination: int):
        order = list(range(self.ndim))
        source, destination = _dim(source, self.ndim), _dim(destination, self.ndim)
        order.insert(destination, order.pop(source))
        return self.permute(*order)

    moveaxis = movedim

    def expand(self, *sizes):
        """The same numbers broadcast to `sizes` (-1 keeps an axis): x + zeros(sizes)."""
        sizes = _sizes(sizes)
        lead = len(sizes) - self.ndim
        if lead < 0:
            raise PyTorchError(f"expand(torch.FloatTensor{{{list(self.shape)}}}, size="
                               f"{list(sizes)}): the number of sizes provided ({len(sizes)}) "
                               f"must be greater or equal to the number of dimensions in the "
                               f"tensor ({self.ndim})")
        target = tuple(self.shape[i - lead] if n == -1 else n for i, n in enumerate(sizes))
        for axis in range(lead, len(sizes)):
            have, want = self.shape[axis - lead], target[axis]
            if have != 1 and have != want:
                raise PyTorchError(f"The expanded size of the tensor ({want}) must match the "
                                   f"existing size ({have}) at non-singleton dimension {axis}.  "
                                   f"Target sizes: {list(sizes)}.  Tensor sizes: "
                                   f"{list(self.shape)}")
        if not self.requires_grad or not _tensor_module()._grad_enabled:
            # a view, as PyTorch's: writing into one of its copies (e[1].fill_(7)) writes x
            spread = np.broadcast_to(self._value, target)
            return self._view(np.lib.stride_tricks.as_strided(
                self._value, target, spread.strides, writeable=self._value.flags.writeable))
        # recorded as a sum, which makes the numbers: sized before, named as what it is
        _tensor_module().check_made(math.prod(target), _("expand to {shape}", shape=target))
        return self + np.zeros(target, dtype=self._value.dtype)

    def expand_as(self, other):
        return self.expand(other.shape)

    def repeat(self, *sizes):
        """Tiled `sizes` times along each axis (recorded as an index: each copy is a gather)."""
        sizes = _sizes(sizes)
        if len(sizes) < self.ndim:
            raise PyTorchError("Number of dimensions of repeat dims can not be smaller than "
                               "number of dimensions of tensor")
        if any(n < 0 for n in sizes):
            shape = (1,) * (len(sizes) - self.ndim) + self.shape
            raise PyTorchError(f"Trying to create tensor with negative dimension "
                               f"{min(sizes)}: {[a * n for a, n in zip(shape, sizes)]}")
        _tensor_module().check_made(self._value.size * math.prod(sizes),
                                    _("repeat{sizes}", sizes=tuple(sizes)))
        if not self.requires_grad:
            return _tensor_module().Tensor(np.tile(self._value, sizes))
        shape = (1,) * (len(sizes) - self.ndim) + self.shape
        source = self.reshape(shape)
        key = tuple(np.tile(np.arange(n), reps).tolist() for n, reps in zip(shape, sizes))
        grid = np.ix_(*[np.asarray(k) for k in key])
        return source[tuple(g.tolist() for g in grid)]

    def is_contiguous(self, memory_format=None) -> bool:
        """Whether the array is row-major with no gaps, as PyTorch's contiguous."""
        return bool(self._value.flags.c_contiguous)

    def contiguous(self, memory_format=None):
        """This tensor when PyTorch would call it contiguous, else a row-major copy."""
        # numpy's strides are PyTorch's here, so numpy's flag answers as PyTorch would
        return self if self._value.flags.c_contiguous else self.clone()

    def type_as(self, other):
        return self.to(other.dtype)

    # -- products -------------------------------------------------------------------------
    def matmul(self, other): return self @ other
    def mm(self, other): return self @ other
    def bmm(self, other): return self @ other
    def mv(self, other): return self @ other

    def dot(self, other):
        if self.ndim != 1 or np.ndim(other) != 1:
            raise PyTorchError("1D tensors expected, but got "
                               f"{self.ndim}D and {np.ndim(other)}D tensors")
        return self @ other

    def outer(self, other):
        return self.reshape(-1, 1) * _tensor_module().as_tensor(other).reshape(1, -1)

    # -- types ---------------------------------------------------------------------------------
    def to(self, *args, **kwargs):
        """to(dtype), to(other tensor), to('cpu'); other devices are refused."""
        dtype = kwargs.get("dtype")
        for arg in (*args, kwargs.get("device")):
            if isinstance(arg, type(self)):
                dtype = arg.dtype
            elif isinstance(arg, str) or type(arg).__name__ == "device":
                _check_device(arg)
            elif arg is not None:
                dtype = arg
        return self if dtype is None else self._cast(dtypes.as_dtype(dtype))

    def _cast(self, dtype):
        if dtype == self._value.dtype:
            return self
        if not (self.requires_grad and _tensor_module()._grad_enabled):
            return _tensor_module().Tensor(self._value.astype(dtype))
        if dtype.kind == "f" and dtype.itemsize > self._value.dtype.itemsize:
            return self + np.zeros(self.shape, dtype=dtype)  # widened by adding zeros of dtype
        raise DiffersFromPyTorch(_(
            "converting a tensor that requires grad from {given} to {wanted}: gradtrace records "
            "widening (float32 → float64) only; convert the data before requires_grad_(), or "
            "inside no_grad()", given=self._value.dtype, wanted=dtype))

    def float(self): return self._cast(dtypes.float32)
    def double(self): return self._cast(dtypes.float64)
    def half(self): return self._cast(dtypes.float16)
    def long(self): return self._cast(dtypes.int64)
    def int(self): return self._cast(dtypes.int32)
    def bool(self): return self._cast(dtypes.bool_)

    def type(self, dtype=None):
        if dtype is None:
            names = {"float32": "Float", "float64": "Double", "int64": "Long", "int32": "Int",
                     "bool": "Bool", "float16": "Half"}
            return f"gradtrace.{names.get(self._value.dtype.name, 'Tensor')}Tensor"
        return self._cast(dtypes.as_dtype(dtype))

    def cpu(self):
        return self

    def cuda(self, *args, **kwargs):
        _check_device("cuda")

    # -- in place, by name ---------------------------------------------------------------
    def add_(self, other, *, alpha=1):
        return self._in_place("add", other if alpha == 1 else alpha * other)

    def sub_(self, other, *, alpha=1):
        return self._in_place("sub", other if alpha == 1 else alpha * other)

    def mul_(self, other): return self._in_place("mul", other)
    def div_(self, other): return self._in_place("div", other)
    def pow_(self, exponent): return self._in_place("pow", exponent)
    def neg_(self): return self._in_place("neg")
    def exp_(self): return self._in_place("exp")
    def relu_(self): return self._in_place("relu")
    def sigmoid_(self): return self._in_place("sigmoid")
    def tanh_(self): return self._in_place("tanh")
    def sqrt_(self): return self._in_place("sqrt")
    def abs_(self): return self._in_place("abs")

    def clamp_(self, min=None, max=None):
        if min is not None:
            self._in_place("max", min)
        if max is not None:
            self._in_place("min", max)
        return self

    clip_ = clamp_

    def zero_(self): return self._fill_with(0)
    def fill_(self, value): return self._fill_with(value)

    def copy_(self, source):
        return self._fill_with(source)

    def _fill_with(self, value):
        """Overwrite every element (a leaf needing a gradient only inside no_grad())."""
        tensor_module = _tensor_module()
        if tensor_module._grad_enabled and self.requires_grad:
            self._refuse_leaf_change()
            self._refuse_view_change()
            if isinstance(value, type(self)) and value.requires_grad:
                return self._become(
                    lambda _former: value + np.zeros(self.shape, dtype=self._value.dtype))
            raise DiffersFromPyTorch(_("overwriting a tensor that is part of a recorded graph "
                                       "(fill_, zero_, copy_ of data): make a new tensor "
                                       "instead"))
        value = value._value if isinstance(value, type(self)) else value
        return self._write(np.asarray(value, dtype=self._value.dtype))

    def uniform_(self, a: float = 0.0, b: float = 1.0, *, generator=None):
        from .random import chosen

        return self._fill_with(chosen(generator).uniform(self.shape, a, b, self._value.dtype))

    def normal_(self, mean: float = 0.0, std: float = 1.0, *, generator=None):
        from .random import chosen

        return self._fill_with(chosen(generator).normal(self.shape, mean, std, self._value.dtype))

    def bernoulli_(self, p: float = 0.5, *, generator=None):
        from .random import chosen

        return self._fill_with(chosen(generator).bernoulli(self.shape, float(p)))

    # -- indexing --------------------------------------------------------------------------
    def __getitem__(self, key):
        """Slices, integers, None, ..., boolean masks and integer arrays (tensors or lists),
        as in PyTorch; recorded as the index op when a gradient is needed."""
        try:
            if not self.requires_grad or not _tensor_module()._grad_enabled:
                found = self._value[_numpy_key(key)]
                return self._view(found) if np.shares_memory(found, self._value) else (
                    _tensor_module().Tensor(np.asarray(found)))
            return self._apply("index", attrs=(("key", index_key(key, self.shape)),))
        except IndexError as error:  # PyTorch's word for an axis
            said = str(error)
            if " is out of bounds for axis " not in said:
                raise
            raise IndexError(said.replace(" for axis ", " for dimension ")) from None

    def __setitem__(self, key, value) -> None:
        """x[key] = value, in place. On a tensor of a recorded graph it is recorded as
        x·keep + placed (keep is 0 where written), for values that need no gradient."""
        tensor_module = _tensor_module()
        numpy_key = _numpy_key(key)
        if tensor_module._grad_enabled and (self.requires_grad or (
                isinstance(value, type(self)) and value.requires_grad)):
            self._refuse_leaf_change()
            self._refuse_view_change()
            if isinstance(value, type(self)) and value.requires_grad:
                raise DiffersFromPyTorch(_("x[key] = a tensor that requires grad (also what "
                                           "x[key] *= 3 does: Python reads x[key], changes it "
                                           "and writes it back): gradtrace has no scatter op; "
                                           "build the result with torch.where or cat, or with a "
                                           "mask (x = x * m)"))
            keep = np.ones(self.shape, dtype=self._value.dtype)
            keep[numpy_key] = 0
            placed = np.zeros(self.shape, dtype=self._value.dtype)
            placed[numpy_key] = np.asarray(getattr(value, "_value", value))
            self._become(lambda former: former * keep + placed)
            return
        # numpy casts as PyTorch does here (1.5 into an int tensor is 1)
        self._writable_array()[numpy_key] = np.asarray(getattr(value, "_value", value))

    def index_select(self, dim: int, index):
        key = [slice(None)] * self.ndim
        key[dim % self.ndim] = index
        return self[tuple(key)]

    # -- sorting and splitting ----------------------------------------------------------
    def sort(self, dim: int = -1, descending: bool = False, stable: bool = False):
        """(values, indices) along dim, as torch.sort (ties keep their order). The values are
        gathered with the indices, so each one's gradient goes back where it came from."""
        if self.ndim == 0:
            return ValuesIndices(self.reshape(()), _tensor_module().Tensor(np.array(0)))
        axis = _dim(dim, self.ndim)
        order = np.argsort(-self._value if descending else self._value, axis=axis,
                           kind="stable").astype(np.int64)
        return ValuesIndices(self.gather(axis, order), _tensor_module().Tensor(order))

    def argsort(self, dim: int = -1, descending: bool = False, stable: bool = False):
        return self.sort(dim, descending, stable).indices

    def topk(self, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):
        """The k largest (or smallest) values along dim and their indices, largest first."""
        length = self.shape[_dim(dim, self.ndim)] if self.ndim else 1
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 0 <= k <= length:
            raise PyTorchError(f"selected index k out of range (k = {k!r}, size {length})")
        if self.ndim == 0:
            return self.sort()
        axis = _dim(dim, self.ndim)
        order = self.sort(axis, descending=largest).indices._value
        chosen = np.take(order, np.arange(k), axis=axis)
        return ValuesIndices(self.gather(axis, chosen), _tensor_module().Tensor(chosen))

    def split(self, split_size_or_sections, dim: int = 0):
        """Pieces along dim: each split_size long (the last may be shorter), or the lengths
        listed, as torch.split. Each is an index of this tensor, so gradients flow back."""
        axis = _dim(dim, self.ndim)
        length = self.shape[axis]
        given = split_size_or_sections
        if isinstance(given, (list, tuple)):
            sizes = [int(size) for size in given]
            if sum(sizes) != length or any(size < 0 for size in sizes):
                raise PyTorchError(f"split_with_sizes expects split_sizes to sum exactly to "
                                   f"{length} (input tensor's size at dimension {axis}), but "
                                   f"got split_sizes={sizes}")
        else:
            if isinstance(given, bool) or not isinstance(given, (int, np.integer)) or given < 1:
                raise PyTorchError(f"split_size can only be 0 if dimension size is 0, but got "
                                   f"dimension size of {length}" if given == 0 else
                                   f"split expects split_size be non-negative, but got "
                                   f"split_size={given!r}")
            sizes = [min(int(given), length - start) for start in range(0, length, int(given))]
        pieces, start = [], 0
        for size in sizes:
            key = (slice(None),) * axis + (slice(start, start + size),)
            pieces.append(self[key])
            start += size
        return tuple(pieces)

    def chunk(self, chunks: int, dim: int = 0):
        """At most `chunks` pieces along dim, each ⌈size / chunks⌉ long, as torch.chunk."""
        if isinstance(chunks, bool) or not isinstance(chunks, (int, np.integer)) or chunks < 1:
            raise PyTorchError(f"chunk expects `chunks` to be greater than 0, got: {chunks!r}")
        length = self.shape[_dim(dim, self.ndim)]
        return self.split(max(-(-length // int(chunks)), 1), dim) if length else (self,)

    def register_hook(self, hook):
        raise DiffersFromPyTorch(_("register_hook: gradtrace calls no hooks during backward. "
                                   "The Trace backward() returns holds every gradient that "
                                   "flowed (trace.backward); retain_grad() keeps one as .grad"))

    def __getattr__(self, name: str):
        # reached only when no attribute is found (and for slots never set, hence the fast
        # refusal of private names): a PyTorch method gradtrace lacks is named as such
        if name.startswith("_"):
            raise AttributeError(name)
        from .errors import NotInGradtrace

        raise NotInGradtrace(_("gradtrace's Tensor has no {name}: gradtrace covers the part of "
                               "torch.Tensor the course code uses (the README lists what "
                               "differs)", name=repr(name)))

    def gather(self, dim: int, index):
        """out[i][j] = x[i][index[i][j]] (dim 1); recorded as an index with integer arrays."""
        index = np.asarray(getattr(index, "_value", index)).astype(np.int64)
        dim = dim % self.ndim
        grid = list(np.indices(index.shape))
        grid[dim] = index
        return self[tuple(_tensor_module().Tensor(g) for g in grid)]

    def scatter_(self, dim: int, index, src=None, *, value=None, reduce=None):
        """self[i][index[i][j]] = src[i][j] (dim 1; likewise for other dims), in place: the
        one-hot idiom zeros(n, c).scatter_(1, y.unsqueeze(1), 1). `reduce` 'add' or
        'multiply' combines instead of writing. Data only: no gradient goes through it."""
        placed = self._scattered(dim, index, src if value is None else value, reduce)
        return self._fill_with(placed)

    def scatter(self, dim: int, index, src=None, *, value=None, reduce=None):
        """scatter_ on a copy."""
        placed = self._scattered(dim, index, src if value is None else value, reduce)
        return _tensor_module().Tensor(placed)

    def _scattered(self, dim, index, src, reduce) -> np.ndarray:
        source = getattr(src, "_value", src)
        if _tensor_module()._grad_enabled and (self.requires_grad or getattr(
                src, "requires_grad", False)):
            raise DiffersFromPyTorch(_("scatter with a tensor that requires grad: gradtrace "
                                       "has no scatter op; build the result with index, gather "
                                       "or torch.where (scatter of data, such as one-hot "
                                       "targets, works)"))
        index = np.asarray(getattr(index, "_value", index))
        if index.dtype.kind not in "iu":
            raise PyTorchError("scatter(): Expected dtype int64 for index")
        if index.ndim != self.ndim:
            raise PyTorchError("Index tensor must have the same number of dimensions as self "
                               "tensor")
        dim = _dim(dim, self.ndim)
        grid = list(np.indices(index.shape))
        grid[dim] = index
        places = tuple(grid)
        source = np.asarray(source, dtype=self._value.dtype)
        if source.ndim:  # src: the elements at the index's own positions
            source = source[tuple(slice(0, n) for n in index.shape)]
        placed = self._value.copy()
        if reduce is None:
            placed[places] = source
        elif reduce == "add":
            np.add.at(placed, places, np.broadcast_to(source, index.shape))
        elif reduce == "multiply":
            np.multiply.at(placed, places, np.broadcast_to(source, index.shape))
        else:
            raise PyTorchError(f"reduce argument must be either add or multiply, not {reduce!r}")
        return placed

    def masked_fill_(self, mask, value):
        """masked_fill in place: recorded on this tensor (what it was is read as before) when
        it is part of a recorded graph, else written into its array."""
        if _tensor_module()._grad_enabled and self.requires_grad:
            self._refuse_leaf_change()
            self._refuse_view_change()
            return self._become(lambda former: former.masked_fill(mask, value))
        mask = np.asarray(getattr(mask, "_value", mask), dtype=bool)
        filled = np.where(np.broadcast_to(mask, self.shape), float(value), self._value)
        return self._write(filled.astype(self._value.dtype))

    def masked_fill(self, mask, value):
        mask = np.asarray(getattr(mask, "_value", mask), dtype=bool)
        keep = np.broadcast_to(~mask, self.shape).astype(self._value.dtype)
        filled = np.where(np.broadcast_to(mask, self.shape), float(value), 0.0).astype(
            self._value.dtype)
        return self * keep + filled


class GradFn:
    """What .grad_fn shows: the op that made a tensor, named as PyTorch names its backward."""

    __slots__ = ("op",)

    def __init__(self, op: str):
        self.op = op

    def name(self) -> str:
        return "".join(part.capitalize() for part in self.op.split("_")) + "Backward0"

    def __repr__(self) -> str:
        return f"<{self.name()}>"


def _rounded(a, b, mode):
    """a / b rounded down ("floor") or toward zero ("trunc"); integers stay integers, worked
    out exactly (a / b in floats would lose digits past 2**53), as PyTorch's."""
    if mode not in ("floor", "trunc"):
        raise ValueError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' "
                         f"but found {mode!r}")
    if a.dtype.kind in "biu" and np.asarray(b).dtype.kind in "biu":
        if np.any(np.asarray(b) == 0):
            raise PyTorchError("ZeroDivisionError")
        down = np.floor_divide(a, b)
        if mode == "floor":
            return down
        return down + ((down < 0) & (down * b != a))  # toward zero: one up where it went below
    return np.floor(a / b) if mode == "floor" else np.trunc(a / b)


def _elementwise_extreme(tensor_, op_name: str, other):
    """max(a, b) / min(a, b) elementwise; at a tie PyTorch halves the gradient between a and
    b, gradtrace's op gives it to a: the value is computed, a gradient through it refused."""
    result = tensor_._apply(op_name, other)
    if result.requires_grad and np.any(tensor_._value == np.asarray(getattr(other, "_value",
                                                                            other))):
        _tensor_module().refuse_gradient(result, message(
            "{function}(a, b) where a and b are equal: PyTorch sends half the gradient to each, "
            "gradtrace's {op} op sends it all to a. Use clamp(...) against a number (both pass "
            "the whole gradient), or break the tie", function=f"{op_name}imum", op=op_name))
    return result


def _ties(values: np.ndarray, op_name: str, axis=None) -> bool:
    """Whether the extreme (over all elements, or along `axis`) is met more than once."""
    if values.size < 2:
        return False
    extreme = (np.max if op_name == "amax" else np.min)(values, axis=axis, keepdims=True)
    return bool(np.any(np.count_nonzero(values == extreme, axis=axis) > 1))


def _check_device(device) -> None:
    name = str(getattr(device, "type", device))
    if name.split(":")[0] != "cpu":
        raise DiffersFromPyTorch(_("device {name}: gradtrace computes on the CPU only "
                                   "(numpy); leave tensors on 'cpu'", name=repr(name)))


def _numpy_key(key):
    """An index with tensors turned into arrays (masks stay boolean)."""
    if isinstance(key, tuple):
        return tuple(_numpy_part(part) for part in key)
    return _numpy_part(key)


def _numpy_part(part):
    value = getattr(part, "_value", None)
    if value is not None:
        return value
    if isinstance(part, range):
        return np.arange(part.start, part.stop, part.step)
    if isinstance(part, (float, str, bytes, dict, set, complex, np.floating)):
        raise IndexError(f"only integers, slices (`:`), ellipsis (`...`), None and long or "
                         f"byte Variables are valid indices (got {type(part).__name__})")
    return part


def index_key(key, shape: tuple[int, ...]) -> tuple:
    """An index as the plain data an index node stores: ints, (start, stop, step) triples,
    None for a new axis, and integer arrays as (nested) lists; `...` becomes full slices and
    a boolean mask the lists of its True places."""
    parts = list(key) if isinstance(key, tuple) else [key]
    parts = [_numpy_part(part) for part in parts]
    expanded = []
    for part in parts:
        array = np.asarray(part) if isinstance(part, (list, np.ndarray)) else None
        if array is not None and array.dtype == bool:
            expanded.extend(np.nonzero(array))  # a mask over len(mask.shape) axes
        else:
            expanded.append(part)
    used = sum(1 for part in expanded if part is not None and part is not Ellipsis)
    plain = []
    for part in expanded:
        if part is Ellipsis:
            plain.extend([(None, None, None)] * (len(shape) - used))
        elif isinstance(part, slice):
            plain.append((part.start, part.stop, part.step))
        elif part is None:
            plain.append(None)
        elif isinstance(part, (list, np.ndarray)):
            array = np.asarray(part)
            if array.dtype.kind not in "iu":
                raise IndexError("tensors used as indices must be long, int, byte or bool "
                                 "tensors")
            plain.append(array.astype(np.int64).tolist())
        else:
            plain.append(int(part))
    return tuple(plain)


def _permuted(tensor_, order: tuple[int, ...]):
    """x.permute(order) with the registry's reshape and transpose: each axis is brought to the
    front in turn (last wanted first), by merging the axes before it and after it, reversing
    all (transpose), merging and reversing again."""
    current = list(range(tensor_.ndim))
    result = tensor_
    if list(order) == current[::-1]:
        return result._apply("transpose")
    for axis in reversed(order):
        position = current.index(axis)
        if position == 0:
            continue
        shape = result.shape
        before = math.prod(shape[:position])
        after = math.prod(shape[position + 1:])
        size = shape[position]
        # (B, a, A) → reversed (A, a, B) → (A, a·B) → reversed (a·B, A) → (a, B…, A…)
        result = result.reshape(before, size, after)._apply("transpose")
        result = result.reshape(after, size * before)._apply("transpose")
        result = result.reshape((size,) + shape[:position] + shape[position + 1:])
        current.insert(0, current.pop(position))
    return result
