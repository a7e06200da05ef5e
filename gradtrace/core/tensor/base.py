"""The Tensor: a numpy array that remembers the op that made it, PyTorch style.

    w = gradtrace.tensor(2.0, name="w"); x = gradtrace.tensor(-1.0, name="x")
    y = 1 / (1 + gradtrace.exp(-(w * x)))
    trace = y.backward()      # w.grad, x.grad are set; trace is a gradtrace Trace

Values are computed eagerly with the registry's forward rules. An op is recorded only when
gradients are being recorded (not inside `no_grad()`) and one of its inputs requires a
gradient, as in PyTorch; anything else is a plain value (a leaf that needs no gradient).
`backward()` runs the backward pass over the recorded ops, adds each leaf's gradient to its
`.grad`, and returns a Trace that turns them into the same Graph the parser builds when it is
first read, so every renderer works on it.

In-place changes (`w -= lr * w.grad`, `x[0] = 1`, `grad.zero_()`) write into the tensor's own
array, so every alias sees them (`.data`, views), with one exception that keeps a promise: while
a Trace from backward() still holds the array, the tensor gets an updated copy instead, so the
trace goes on showing the values it was computed with (optimisers do the same). An in-place
change recorded while gradients are on makes the tensor the result of that op; a tensor that
an op had already read and that is changed afterwards stops backward() with PyTorch's error,
rather than giving wrong gradients (see `_check_unchanged`).
"""

from __future__ import annotations

import gc
import math
import warnings
import weakref

import numpy as np

from ..arrays import as_float, quiet_end, quiet_start
from ..backprop import result_shape
from ..budget import over_budget
from ..i18n import _
from .. import scopes as _scopes
from ..registry import REGISTRY
from ..trace import record_array
from . import dtypes
from .errors import DiffersFromPyTorch, PyTorchError
from .methods import TorchMethods
from .recording import backward_trace
from .shape_errors import pytorch_shape_error

# -- recording on or off (torch.no_grad) ----------------------------------------------------

_grad_enabled = True  # read by every op: a module global is the cheapest thing to read
_clock = 0  # in-place changes made so far; op results are stamped with it (_made)


def is_grad_enabled() -> bool:
    return _grad_enabled


def _set_grad_enabled(mode: bool) -> bool:
    global _grad_enabled
    before, _grad_enabled = _grad_enabled, bool(mode)
    return before


class set_grad_enabled:
    """Record ops (True) or not (False), as a context manager or a plain call."""

    def __init__(self, mode: bool):
        self._before = _set_grad_enabled(mode)
        self._mode = bool(mode)

    def __enter__(self):
        _set_grad_enabled(self._mode)
        return self

    def __exit__(self, *exc) -> None:
        _set_grad_enabled(self._before)

    def __call__(self, function):
        """Used as a decorator: the function runs in this mode."""
        mode = self._mode
        _set_grad_enabled(self._before)

        def wrapped(*args, **kwargs):
            with set_grad_enabled(mode):
                return function(*args, **kwargs)

        wrapped.__name__, wrapped.__doc__ = function.__name__, function.__doc__
        return wrapped


class no_grad(set_grad_enabled):
    """`with gradtrace.no_grad():` records nothing, so leaves can be updated in place
    (`w -= lr * w.grad`); also a decorator (@gradtrace.no_grad())."""

    def __init__(self):
        self._before, self._mode = _grad_enabled, False


class enable_grad(set_grad_enabled):
    """Record ops again inside a no_grad() block."""

    def __init__(self):
        self._before, self._mode = _grad_enabled, True


inference_mode = no_grad


_refusals = 0  # tensors made so far whose gradient gradtrace refuses (refuse_gradient)


def refuse_gradient(tensor_: "Tensor", message: str) -> None:
    """`tensor_` holds PyTorch's value, but a gradient through it would not be PyTorch's (a
    max of tied elements): backward() and autograd.grad() through it raise DiffersFromPyTorch
    with `message`. Its value can be read, printed and used without a gradient."""
    global _refusals
    tensor_._refusal = message
    _refusals += 1


def check_refusals(output: "Tensor") -> None:
    """Raise DiffersFromPyTorch if a tensor that fed `output` refuses its gradient (walked
    only once some tensor has been refused)."""
    if not _refusals:
        return
    seen, stack = {output}, [output]
    while stack:
        current = stack.pop()
        message = getattr(current, "_refusal", None)
        if message is not None:
            raise DiffersFromPyTorch(message)
        for parent in current._parents:
            if parent not in seen:
                seen.add(parent)
                stack.append(parent)


NOT_A_LEAF = ("The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its "
              ".grad attribute won't be populated during autograd.backward(). If you indeed "
              "want the .grad field to be populated for a non-leaf Tensor, use .retain_grad() "
              "on the non-leaf Tensor. If you access the non-leaf Tensor by mistake, make sure "
              "you access the leaf Tensor instead.")  # PyTorch's words

_retaining = False  # whether any tensor has called retain_grad(): backward() looks only then


def note_retained() -> None:
    global _retaining
    _retaining = True


def _tick() -> int:
    global _clock
    _clock += 1
    return _clock


# -- the tensor ------------------------------------------------------------------------------

_INTEGER_OPS = frozenset({"add", "sub", "mul", "neg", "abs", "max", "min", "sum", "amax", "amin",
                          "index", "reshape", "transpose", "flatten", "relu", "pow", "matmul"})


class Tensor(TorchMethods):
    """A value (numpy array; a scalar is 0-d) that remembers the op that made it."""

    __array_priority__ = 1000  # numpy defers to our operators: array * tensor is a Tensor
    # No per-tensor __dict__: a network written op by op makes tens of thousands of these.
    # The inputs sit in slots of their own, not in a tuple: one object fewer per op for the
    # garbage collector to sweep while a network runs op by op (see `_parents`). Slots that
    # most tensors never need (_changed, _base, _retains, _number, _refusal) are left unset
    # until they are. _kept: what an op's forward kept for its VJP (Op.forward_keeping).
    __slots__ = ("_value", "_name", "requires_grad", "_grad", "_op", "_first", "_second",
                 "_others", "_attrs", "_made", "_changed", "_base", "_retains", "_number",
                 "_scope", "_refusal", "_kept")

    def __init__(self, value, name: str | None = None, *, requires_grad: bool = False):
        """A leaf holding `value` (its float type kept; integers become float64). Tensors
        computed by ops are made by `_apply`; `gradtrace.tensor(...)` is the usual way in."""
        if isinstance(value, (list, tuple)):  # torch.Tensor([1, 2]): the default float type
            value = np.asarray(value, dtype=dtypes.get_default_dtype())
        self._value = as_float(value) if not isinstance(value, np.ndarray) or (
            value.dtype.kind not in "biuf") else value
        self.name = name
        self.requires_grad = requires_grad
        self._grad = None
        self._op, self._attrs = None, ()
        self._first = self._second = None
        self._others = ()
        self._made = _clock
        self._scope = ()  # set, not left unset: a missing slot's lookup falls to __getattr__

    @property
    def name(self) -> str | None:
        """What the trace and its pictures call this tensor (None: the variable holding it,
        else t1, h1...)."""
        return self._name

    @name.setter
    def name(self, name) -> None:
        self._name = checked_name(name)

    # -- value, gradient, data -----------------------------------------------------------
    @property
    def value(self) -> np.ndarray:
        """The numpy array this tensor holds (gradtrace's name for it; PyTorch has .data)."""
        return self._value

    @value.setter
    def value(self, value) -> None:
        self._value = value._value if isinstance(value, Tensor) else np.asarray(value)

    @property
    def grad(self):
        """d output / d this tensor, summed over every backward() since it was last cleared
        (None before the first); a tensor, as in PyTorch."""
        grad = self._grad
        if grad is None and self._op is not None and not getattr(self, "_retains", False):
            # W = randn(5, 3, requires_grad=True) * 0.01 makes W a step, not a leaf: say so,
            # as PyTorch does, rather than leave a None to puzzle over
            warnings.warn(NOT_A_LEAF, UserWarning, stacklevel=2)
        return grad

    @grad.setter
    def grad(self, value) -> None:
        if value is not None and not isinstance(value, Tensor):
            # PyTorch takes a tensor or None; an array or nested list of numbers is taken too,
            # but not text that numpy would read as a number
            array = np.asarray(value) if not isinstance(value, (str, bytes)) else None
            if array is None or array.dtype.kind not in "biuf":
                raise TypeError(f"assigned grad expected to be a Tensor or None but got grad "
                                f"of type {type(value).__name__}")
            value = Tensor(array.astype(self._value.dtype))
        elif (value is not None and value._value.dtype != self._value.dtype
              and self._value.dtype.kind == "f"):
            raise PyTorchError(f"attempting to assign a gradient with dtype "
                               f"'{dtypes.name_of(value._value.dtype)}' to a tensor with dtype "
                               f"'{dtypes.name_of(self._value.dtype)}'. The gradient must match "
                               f"the tensor's dtype: convert it first (.to(...))")
        if value is not None and value._value.shape != self._value.shape:
            raise PyTorchError(_("{pytorch}: {given} for a tensor of {shape}",
                                 pytorch="assigned grad has data of a different size",
                                 given=value._value.shape, shape=self._value.shape))
        self._grad = value

    @property
    def data(self) -> "Tensor":
        """The same array as a tensor that records nothing: changes to it change this one."""
        view = Tensor(self._value)
        view._base = _owner(self)
        return view

    @data.setter
    def data(self, value) -> None:
        self._value = np.asarray(value._value if isinstance(value, Tensor) else value)

    @property
    def shape(self) -> tuple[int, ...]:
        return self._value.shape

    @property
    def dtype(self) -> np.dtype:
        return self._value.dtype

    @property
    def is_leaf(self) -> bool:
        """True for tensors no recorded op made (those users made, and results that needed no
        gradient)."""
        return self._op is None

    def __repr__(self) -> str:
        from .printing import tensor_text

        return tensor_text(self)

    __str__ = __repr__

    # -- recording ops -------------------------------------------------------------------
    def _apply(self, op_name: str, *others, attrs: tuple = ()) -> "Tensor":
        # This runs for every op: hence the plain code (no Op.evaluate, slots set directly).
        if not others:  # written out for one and two inputs: most ops
            parents, inputs = (self,), (self._value,)
        elif len(others) == 1:
            other = others[0]
            if not isinstance(other, Tensor):
                other = as_tensor(other)
            parents, inputs = (self, other), (self._value, other._value)
        else:
            parents = (self, *map(as_tensor, others))
            inputs = tuple([p._value for p in parents])
        first = inputs[0].dtype
        op = REGISTRY[op_name]
        for x in inputs:  # one float type throughout is the common case: nothing to match
            if x.dtype is not first:
                if not (op.index_inputs and _only_indices_differ(op, inputs)):
                    parents, inputs = _promoted(op_name, parents, inputs)
                break
        else:
            if first.kind != "f":
                parents, inputs = _promoted(op_name, parents, inputs)
        if len(inputs) > 1:  # broadcasting and products can outgrow their inputs
            if op.elementwise:
                if len(inputs) > 2 or inputs[0].shape != inputs[1].shape:
                    _check_result_size(op, inputs)
            elif op_name in _PRODUCTS and _may_outgrow(op_name, inputs):
                _check_result_size(op, inputs)
        forward, kept = op.forward, None
        quiet = quiet_start()  # no floating-point warnings: the trace reports inf and nan
        try:
            if forward is None:  # an op written with others: its composite computes it
                value = op.evaluate(inputs, dict(attrs))
            elif op.forward_keeping is not None and _grad_enabled:  # for its VJP to reuse
                value, kept = op.forward_keeping(*inputs, **dict(attrs))
            else:
                value = forward(*inputs, **dict(attrs)) if attrs else forward(*inputs)
        except ValueError as error:  # shapes that do not fit: PyTorch's sentence for it
            refusal = pytorch_shape_error(op, inputs, error)
            if refusal is None:
                raise
            raise refusal from None
        except MemoryError:
            raise MemoryError(_("{op} of shapes {shapes} needs more memory than this machine "
                                "has", op=op_name, shapes=_(", ").join(
                                    str(tuple(x.shape)) for x in inputs))) from None
        finally:
            quiet_end(quiet)
        made = Tensor.__new__(Tensor)
        made._name, made._grad, made._made = None, None, _clock
        if type(value) is np.ndarray and value.base is not None:
            _noting_view(made, value, parents)  # a view (w.T, w.t()[1]): writes reach w
        if _grad_enabled:
            for parent in parents:
                if parent.requires_grad:
                    if type(value) is not np.ndarray or value.dtype.kind != "f":
                        value = as_float(value)
                    made._value, made.requires_grad = value, True
                    made._op, made._attrs, made._first = op_name, attrs, parents[0]
                    made._scope = _scopes.current()  # the module making it, for pictures
                    made._second = parents[1] if len(parents) > 1 else None
                    made._others = parents[2:]
                    made._kept = kept
                    return made
        # no gradient needed: a plain value, in the type the inputs call for
        value = np.asarray(value)
        if value.dtype.kind == "f" and inputs[0].dtype.kind in "biu" and op_name in _INTEGER_OPS:
            value = value.astype(inputs[0].dtype)  # relu of integers stays integers
        made._value = value
        made.requires_grad, made._scope = False, ()
        made._op, made._attrs, made._first, made._second, made._others = None, (), None, None, ()
        return made

    @property
    def _parents(self) -> tuple["Tensor", ...]:
        """The tensors this one was computed from (none for a leaf)."""
        if self._first is None:
            return ()
        if self._second is None:
            return (self._first,)
        return (self._first, self._second, *self._others)

    def __add__(self, other): return self._apply("add", other)
    def __radd__(self, other): return as_tensor(other)._apply("add", self)
    def __sub__(self, other): return self._apply("sub", other)
    def __rsub__(self, other): return as_tensor(other)._apply("sub", self)
    def __mul__(self, other): return self._apply("mul", other)
    def __rmul__(self, other): return as_tensor(other)._apply("mul", self)
    def __truediv__(self, other): return self._apply("div", other)
    def __pow__(self, other): return self._apply("pow", other)
    def __rpow__(self, other): return as_tensor(other)._apply("pow", self)
    def __matmul__(self, other): return self._apply("matmul", other)
    def __rmatmul__(self, other): return as_tensor(other)._apply("matmul", self)
    def __neg__(self): return self._apply("neg")
    def __abs__(self): return self._apply("abs")

    def __rtruediv__(self, other):
        if np.ndim(other) == 0 and not isinstance(other, Tensor) and float(other) == 1.0:
            return self._apply("reciprocal")  # 1/x is a reciprocal gate, as in the parser
        return as_tensor(other)._apply("div", self)

    # -- in place ------------------------------------------------------------------------
    def __iadd__(self, other): return self._in_place("add", other)
    def __isub__(self, other): return self._in_place("sub", other)
    def __imul__(self, other): return self._in_place("mul", other)
    def __itruediv__(self, other): return self._in_place("div", other)
    def __ipow__(self, other): return self._in_place("pow", other)

    def _in_place(self, op_name: str, *others, attrs: tuple = ()) -> "Tensor":
        """self ← op(self, *others). Recorded (this tensor becomes the op's result) when
        gradients are on and any of them requires one; else written into the array."""
        if _grad_enabled and (self.requires_grad or any(
                isinstance(o, Tensor) and o.requires_grad for o in others)):
            self._refuse_leaf_change()
            self._refuse_view_change()
            return self._become(lambda former: former._apply(op_name, *others, attrs=attrs))
        target = self._writable_array()  # first: an alias left on a trace's array reads anew
        if any(stride == 0 and length > 1
               for stride, length in zip(target.strides, target.shape)):
            raise PyTorchError("unsupported operation: more than one element of the written-to "
                               "tensor refers to a single memory location. Please clone() the "
                               "tensor before performing the operation.")
        with set_grad_enabled(False):
            result = self._apply(op_name, *others, attrs=attrs)._value
        return self._write(result, target)

    def _refuse_leaf_change(self) -> None:
        if self._op is None and self.requires_grad:
            raise PyTorchError(_(
                "{pytorch} ({tensor} is a leaf: change it inside `with gradtrace.no_grad():`, "
                "as an optimiser does)",
                pytorch="a leaf Variable that requires grad is being used in an in-place "
                        "operation.", tensor=self._label()))

    def _refuse_view_change(self) -> None:
        """PyTorch writes an in-place change of a view (y[0:2], y.view(2, 2), y.T) through to
        the tensor it views, and records it there; gradtrace records the change on the view
        alone, so y would keep its old values: refused, where it would be silently wrong."""
        viewed = self._first
        if self._op is None or viewed is None:
            return
        if not np.may_share_memory(self._value, viewed._value):
            return
        if viewed._op is None and viewed.requires_grad:  # PyTorch refuses this one too
            raise PyTorchError(_(
                "{pytorch} ({tensor} is a leaf: change it inside `with gradtrace.no_grad():`, "
                "as an optimiser does)",
                pytorch="a view of a leaf Variable that requires grad is being used in an "
                        "in-place operation.", tensor=viewed._label()))
        raise DiffersFromPyTorch(_(
            "an in-place change of a view ({op} of another tensor, such as y[0:2], "
            "y.view(2, 2) or y.T) in a recorded graph: PyTorch writes it through to the "
            "tensor it views, gradtrace cannot. Build the new values instead (y = y * mask, "
            "torch.where(...), torch.cat(...)), or change a copy (.clone())", op=self._op))

    def _become(self, make) -> "Tensor":
        """Make this tensor the recorded result of `make(former)`, where `former` is a new
        tensor holding what this one was: the ops `make` records read `former`, so a result
        of several ops (x[k] = v is x·keep + placed) never reads the tensor it replaces. An
        operand that is this tensor itself (x += x) is read as `former` too."""
        former = Tensor.__new__(Tensor)
        for slot in ("_value", "_name", "requires_grad", "_grad", "_op", "_first", "_second",
                     "_others", "_attrs", "_made"):
            setattr(former, slot, getattr(self, slot))
        former._scope = getattr(self, "_scope", ())
        former._kept = getattr(self, "_kept", None)
        result = make(former)
        parents = tuple(former if p is self else p for p in result._parents)
        self._value, self.requires_grad, self._op, self._attrs = (
            result._value, True, result._op, result._attrs)
        self._first, self._second = parents[0], (parents[1] if len(parents) > 1 else None)
        self._scope = getattr(result, "_scope", ())
        self._kept = getattr(result, "_kept", None)
        self._others = parents[2:]
        self._name = None
        if getattr(self, "_base", None) is not None:
            self._base = None  # its array is the op's result now, not a view
        self._changed = self._made = _tick()
        return self

    def _write(self, result, writable: np.ndarray | None = None) -> "Tensor":
        """Write `result` into this tensor's array, in place, in its own type; every tensor
        sharing the array sees the change (a live Trace keeps the values it recorded:
        `_writable_array`, or `writable`, what it returned already)."""
        target = self._value
        result = np.asarray(result)
        if not np.can_cast(result.dtype, target.dtype, casting="same_kind"):
            raise PyTorchError(f"result type {dtypes.name_of(result.dtype)} can't be cast to "
                               f"the desired output type {dtypes.name_of(target.dtype)}")
        try:
            shaped = np.broadcast_to(result, target.shape)
        except ValueError:
            raise PyTorchError(f"output with shape {list(target.shape)} doesn't match the "
                               f"broadcast shape {list(np.broadcast_shapes(result.shape, target.shape))}"
                               ) from None
        (self._writable_array() if writable is None else writable)[...] = shaped
        return self

    def _writable_array(self) -> np.ndarray:
        """This tensor's array, to be written in place now (and the write noted). When a live
        Trace holds it, or the array it is a view of, that array is copied first and this
        tensor (and the one it views) moved to the copy: the trace keeps what it recorded, and
        the write still reaches the tensor viewed. A read-only array (an expanded view) is
        replaced by a copy of its own."""
        owner = _owner(self)
        self._changed = owner._changed = _tick()
        target = self._value
        if not target.flags.writeable:
            self._value = target = target.copy(order="K")
            return target
        recorded = _recorded_array(target)
        if recorded is not None:
            if owner._value is recorded or np.may_share_memory(owner._value, recorded):
                owner._value = moved = recorded.copy(order="K")  # laid out as before
            elif (owner._value.shape == recorded.shape
                  and owner._value.strides == recorded.strides):
                moved = owner._value  # it moved already (a step): this alias is stale
            else:
                moved = recorded.copy(order="K")  # a trace's array this tensor alone views
            if target is recorded:
                self._value = target = moved
            else:
                self._value = target = _same_view(target, recorded, moved)
        return target

    # -- backward ------------------------------------------------------------------------
    def backward(self, gradient=None, retain_graph=None, create_graph: bool = False,
                 inputs=None, *, wrt=None):
        """Trace the backward pass from this tensor, add each leaf's gradient to its `.grad`
        (as PyTorch accumulates) and return the Trace (print it, `.to_markdown()`...).

        `gradient` is d(something)/d(this tensor), needed when this tensor is not a single
        number, as in PyTorch. `inputs` (or `wrt`, by name) limits the leaves traced.
        `retain_graph` is accepted and changes nothing: a gradtrace graph can be traced again.
        """
        if create_graph:
            raise DiffersFromPyTorch(_("backward(create_graph=True): gradtrace records no "
                                       "graph of the backward pass, so no second derivatives"))
        if not self.requires_grad:
            raise PyTorchError(_("{pytorch} (no op that made this tensor read a tensor with "
                                 "requires_grad=True, or it was made inside no_grad(). round, "
                                 "floor, ceil, trunc and sign record no op in gradtrace: where "
                                 "PyTorch gives them a gradient of 0, gradtrace gives none)",
                                 pytorch="element 0 of tensors does not require grad and does "
                                         "not have a grad_fn"))
        if gradient is None and self._value.size != 1:
            raise PyTorchError(_("{pytorch} (this one has shape {shape}: pass gradient=, the "
                                 "gradient of something with respect to it)",
                                 pytorch="grad can be implicitly created only for scalar outputs",
                                 shape=tuple(self._value.shape)))
        check_refusals(self)
        collecting = gc.isenabled()
        gc.disable()  # what is built here holds no cycles: don't scan it over and over as it grows
        try:
            if _grad_enabled:
                trace, leaves, retained, held = backward_trace(self, gradient, inputs, wrt)
            else:  # rules written with tensors (composites) record their own ops
                with set_grad_enabled(True):
                    trace, leaves, retained, held = backward_trace(self, gradient, inputs, wrt)
        finally:
            if collecting:
                gc.enable()
        # the trace holds these arrays: while it lives, changing one in place (an optimiser's
        # step, x -= 1, a module's buffer) changes a copy instead (held_by_trace)
        held = dict(held)
        given: set = set()  # arrays made .grad by this call: each leaf gets its own
        for leaf, found in leaves.items():
            if found is not None:
                # the first gradient, as it is, when it is an array of its own (_unshared,
                # written out: this runs for every parameter at every step)
                if (leaf._grad is None and type(found) is np.ndarray
                        and found.dtype == leaf._value.dtype and found.flags.writeable
                        and (found.base is None and id(found) not in given
                             or _unshared(found, given))):
                    given.add(id(found))
                    leaf._grad = held_grad = _leaf(found)
                    held[held_grad] = found
                else:
                    leaf._accumulate(record_array(found), held, given)
        for tensor_, found in retained.items():
            if found is not None:
                tensor_._accumulate(record_array(found), held, given)
        object.__setattr__(trace, "held_arrays", held)
        key = id(trace)  # traces are not hashable (a frozen dataclass of dicts)
        _live_traces[key] = weakref.ref(trace, lambda _gone, key=key: _live_traces.pop(key, None))
        return trace

    def _accumulate(self, gradient: np.ndarray, held: dict, given: set) -> None:
        """.grad += gradient, in this tensor's float type; the first gradient is the trace's
        own array (unless another leaf has it, or it is a read-only view), noted in `held` so
        that changing .grad in place copies it first."""
        if gradient.dtype != self._value.dtype:
            gradient = gradient.astype(self._value.dtype)
        grad = self._grad
        if grad is None:
            if not _unshared(gradient, given):
                gradient = np.array(gradient)
                given.add(id(gradient))
            self._grad = grad = _leaf(gradient)
            held[grad] = gradient
        elif (grad.held_by_trace() or grad._value.shape != gradient.shape
              or not grad._value.flags.writeable):
            grad._value = grad._value + gradient  # the trace keeps the array it holds
        else:
            grad._value += gradient

    def held_by_trace(self) -> bool:
        """True while a Trace made by backward() that holds this very array is alive: an
        optimiser, or an in-place change, then writes a copy instead."""
        if not _live_traces:
            return False
        mine = self._value
        for recorded in list(_live_traces.values()):
            trace = recorded()
            if trace is not None and trace.held_arrays.get(self) is mine:
                return True
        return False

    def _label(self) -> str:
        return repr(self.name) if self.name else _("a tensor of shape {shape}",
                                                   shape=tuple(self.shape))


_live_traces: dict = {}  # id → weak reference of every trace from backward() still held


def _unshared(gradient: np.ndarray, given: set) -> bool:
    """Whether `gradient` can become a leaf's .grad as it is: an array of its own memory,
    writeable, and not given to another leaf already (an add sends one array to both inputs;
    a sum sends a read-only broadcast view). Noted in `given` when it can."""
    owner = gradient.base
    if owner is None:
        owner = gradient
    elif owner.base is not None or owner.nbytes != gradient.nbytes:
        return False  # part of another array, or of memory numpy does not own: copy it
    # else a view of all of a fresh array (a layer's gradient made transposed, W being
    # column-major): its own memory too
    if gradient.flags.writeable and id(owner) not in given:
        given.add(id(owner))
        return True
    return False


_PRODUCTS = frozenset({"matmul", "linear"})  # ops whose result can outgrow their inputs


def _may_outgrow(op_name: str, inputs) -> bool:
    """Whether a product's result may be larger than each of its inputs, said cheaply (a
    network's every linear layer asks)."""
    if op_name == "matmul":
        return True
    x, W = inputs[0], inputs[1]  # linear: x (..., in), W (out, in) make (x.size / in) · out
    return (W.ndim == 2 and x.ndim > 0 and x.shape[-1] > 0
            and x.size // x.shape[-1] * W.shape[0] > max(x.size, W.size))


def _check_result_size(op, inputs) -> None:
    """Refuse, before it is made, a result past the budget per array (core/budget.py), as
    the factories refuse such a tensor: x * y of shapes (n, 1) and (n,) is n² numbers."""
    try:
        shape = result_shape(op, inputs)
    except ValueError:  # shapes that do not fit: the op itself says so
        return
    if shape is not None:
        check_made(math.prod(shape), _("{op} of shapes {shapes}", op=op.name, shapes=_(", ").join(
            str(tuple(x.shape)) for x in inputs)))


def check_made(elements: int, what: str) -> None:
    """Refuse an array of `elements` numbers past the budget per array (core/budget.py),
    before it is made; `what` says what would make it."""
    why = over_budget(elements)
    if why:
        raise ValueError(_("{what} would make {why}", what=what, why=why))


def checked_name(name):
    """A tensor's name as given, refused when a trace could not show it as a name: not text,
    or text that reads as a number (a tensor called "2" would look like the constant 2)."""
    if name is None or name == "":
        return None
    if not isinstance(name, str):
        raise TypeError(_("a tensor's name is text (name=\"x\"), not {given} ({kind})",
                          given=repr(name), kind=type(name).__name__))
    try:
        float(name)
    except ValueError:
        return name
    raise ValueError(_("a tensor's name cannot read as a number ({given}): the trace would show "
                       "it as that constant. Give it a name with a letter in it",
                       given=repr(name)))


def _leaf(value: np.ndarray) -> Tensor:
    """Tensor(value) for an array known to be a float ndarray: a gradient, made for every
    parameter at every step."""
    made = Tensor.__new__(Tensor)
    made._value, made._name, made.requires_grad, made._grad = value, None, False, None
    made._op, made._attrs, made._first, made._second, made._others = None, (), None, None, ()
    made._made, made._scope = _clock, ()
    return made


_OBJECT_HASH = object.__hash__
Tensor.__hash__ = _OBJECT_HASH  # == gives a tensor of booleans; identity is the hash


def as_tensor(value) -> Tensor:
    """A tensor as it is; anything else as a constant (a leaf that takes no gradient). A
    Python number keeps its kind (an int stays an int), so it takes the type of the tensors
    it meets, as PyTorch's numbers do."""
    if isinstance(value, Tensor):
        return value
    _check_operand(value)
    if isinstance(value, (bool, int)) and not isinstance(value, np.generic):
        made = Tensor(np.asarray(value, dtype=np.bool_ if isinstance(value, bool) else np.int64))
    else:
        made = Tensor(value)
    if isinstance(value, (bool, int, float)):
        made._number = True  # promotion treats it as PyTorch treats a Python number
    return made


def _check_operand(value) -> None:
    """An op's input that is not a tensor must be real numbers: None, text or a complex number
    would otherwise become nan or lose its imaginary part without a word."""
    kind = np.asarray(value).dtype.kind if isinstance(value, (list, tuple, np.ndarray,
                                                              np.generic)) else None
    if isinstance(value, (bool, int, float)) or kind in ("b", "i", "u", "f"):
        return
    raise TypeError(_("an op's input must be a tensor, a real number or an array of them, not "
                      "{kind} ({value})", kind=type(value).__name__, value=_shown(value)))


def _shown(value) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _is_number(tensor_: Tensor) -> bool:
    """A constant made from a Python number by as_tensor."""
    return getattr(tensor_, "_number", False)


def _only_indices_differ(op, inputs: tuple) -> bool:
    """True when every input has the first's float type but class indices given as integers,
    which the op reads as they are (cross_entropy's targets)."""
    first = inputs[0].dtype
    if first.kind != "f":
        return False
    index = 0
    for x in inputs:  # a loop, not all(...): cross-entropy runs this every training step
        if x.dtype != first and not (index in op.index_inputs and x.dtype.kind in "iu"):
            return False
        index += 1
    return True


def _promoted(op_name: str, parents: tuple, inputs: tuple):
    """Inputs of mixed or non-float types, made what PyTorch's promotion makes them: all in the
    result type when it is a float type, or when the op keeps integers (add, sum, index...)."""
    weak = tuple(_is_number(p) for p in parents)
    target = dtypes.promoted(inputs, weak)
    if target.kind != "f" and op_name not in _INTEGER_OPS:
        target = dtypes.get_default_dtype()  # exp, div, mean... of integers give floats
    cast = tuple(x if x.dtype == target else x.astype(target) for x in inputs)
    # a constant takes the cast value; a tensor that needs a gradient stays itself
    parents = tuple(p if x is p._value or p.requires_grad else Tensor(x)
                    for p, x in zip(parents, cast))
    return parents, cast


def record(op_name: str, parents: tuple, value: np.ndarray, attrs: tuple = ()) -> Tensor:
    """A tensor made by registry op `op_name` from `parents`, its value computed already (an
    autograd.Function's forward ran): recorded when gradients are on and a parent needs one."""
    made = Tensor(value)
    if _grad_enabled and any(p.requires_grad for p in parents):
        made.requires_grad, made._op, made._attrs = True, op_name, attrs
        made._first = parents[0]
        made._second = parents[1] if len(parents) > 1 else None
        made._others = tuple(parents[2:])
    return made


def _recorded_array(array: np.ndarray) -> np.ndarray | None:
    """The array a live Trace holds that `array` is, or views, else None."""
    for recorded_trace in list(_live_traces.values()):
        trace = recorded_trace()
        if trace is None:
            continue
        for held in trace.held_arrays.values():
            if held is array or (type(held) is np.ndarray and held.ndim
                                 and np.may_share_memory(held, array)):
                return held
    return None


def _same_view(view: np.ndarray, old: np.ndarray, new: np.ndarray) -> np.ndarray:
    """The view of `new` that `view` is of `old`, `new` being a copy of `old` laid out alike;
    a copy of `view` of its own where it is not a view of `old` this way."""
    if (new.strides == old.strides and view.dtype == old.dtype and new.base is None
            and (old.flags.c_contiguous or old.flags.f_contiguous)
            and np.may_share_memory(view, old)):
        start = view.__array_interface__["data"][0] - old.__array_interface__["data"][0]
        if start >= 0 and start % old.itemsize == 0:
            in_memory_order = new.ravel(order="K")  # a view: new is one block
            return np.lib.stride_tricks.as_strided(in_memory_order[start // old.itemsize:],
                                                   view.shape, view.strides)
    return view.copy(order="K")


def _noting_view(made: Tensor, value: np.ndarray, parents) -> None:
    """Note on `made` the tensor its array `value` views, if it views one of `parents`: a
    write into it then reaches that tensor, and a live Trace's copy of it is kept."""
    for parent in parents:
        if np.may_share_memory(value, parent._value):
            made._base = _owner(parent)
            return


def _owner(tensor_: Tensor) -> Tensor:
    """The tensor whose array this one shares (.data, views), else itself."""
    base = getattr(tensor_, "_base", None)
    return tensor_ if base is None else base
