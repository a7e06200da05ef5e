"""Ops users define: `class MyOp(gradtrace.autograd.Function)`, as in PyTorch.

    class Sigmoid(gradtrace.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            out = 1 / (1 + (-x).exp())
            ctx.save_for_backward(out)
            return out

        @staticmethod
        def backward(ctx, grad_output):
            (out,) = ctx.saved_tensors
            return grad_output * out * (1 - out)

    y = Sigmoid.apply(x)

The first `apply` adds the function to the op registry as an op named after the class (one
op per number of tensor arguments): its forward runs the class's forward, its VJP the class's
backward, both with gradients off, as PyTorch runs them. So a trace records `Sigmoid(x)` as
one step, narrates its backward (the upstream gradient, what forward saved, what backward
sent), and the numeric check re-runs its forward around the point like any op's. The context
of each call (`ctx`: what forward saved, and anything set on it) is the op node's one
attribute. Optional, beyond PyTorch: a class attribute `formula` says how the narration
writes the local derivative, with {a}, {b}... for the inputs and {out} for the output
("{out}·(1−{out})"), and `elementwise = True` lets it show upstream × local element by element.
"""

from __future__ import annotations

import numpy as np

from ..checks.symbolic import SymbolicSkipped
from ..core.errors import UsageError
from ..core.i18n import _, message
from ..core.registry import REGISTRY, Op, register
from ..core.tensor import PyTorchError, Tensor, no_grad
from ..core.tensor.base import record
from ..core.tensor.errors import DiffersFromPyTorch

_OPS: dict = {}  # (Function class, number of tensor arguments) → its registry op name


class FunctionCtx:
    """What forward hands to backward: tensors saved with save_for_backward, and any other
    attribute set on it (ctx.constant = 2)."""

    def __init__(self, function: type, args: tuple, kwargs: dict):
        self._function, self._args, self._kwargs = function, args, kwargs
        self._positions = _graph_inputs(args)
        self._saved: tuple = ()
        self._output = None
        self.needs_input_grad = tuple(isinstance(arg, Tensor) and arg.requires_grad
                                      for arg in args)
        self.materialize_grads = True

    def save_for_backward(self, *tensors) -> None:
        self._saved = tuple(tensors)

    @property
    def saved_tensors(self) -> tuple:
        return self._saved

    def mark_non_differentiable(self, *outputs) -> None:
        pass

    def mark_dirty(self, *tensors) -> None:
        raise DiffersFromPyTorch(_("mark_dirty: a Function that changes its input in place "
                                   "is not recorded by gradtrace; return a new tensor"))

    def set_materialize_grads(self, value: bool) -> None:
        self.materialize_grads = bool(value)

    def saved_roles(self) -> list[str]:
        """Each saved tensor as the op sees it: input 1, input 2..., output, or intermediate."""
        roles = []
        inputs = [self._args[i] for i in self._positions]
        for saved in self._saved:
            if not isinstance(saved, Tensor):
                roles.append("a value")
            elif any(saved is x or saved._value is x._value for x in inputs):
                index = next(i for i, x in enumerate(inputs)
                             if saved is x or saved._value is x._value)
                roles.append("abcde"[index] if index < 5 else f"input {index + 1}")
            elif self._output is not None and saved._value is self._output:
                roles.append("out")
            else:
                roles.append(f"an intermediate {tuple(saved.shape)}")
        return roles

    def __str__(self) -> str:
        """What forward saved, as a graph picture writes it under the op: saved input 1,
        output."""
        words = {"out": "output", **{letter: f"input {i + 1}" for i, letter in
                                     enumerate("abcde")}}
        roles = [words.get(role, role) for role in self.saved_roles()]
        return ("saved " + ", ".join(roles)) if roles else "nothing saved"

    def __repr__(self) -> str:
        return f"<ctx of {self._function.__name__}: {self}>"


def _graph_inputs(args) -> tuple[int, ...]:
    """Which arguments are the op's inputs in the graph: the float tensors (integer tensors,
    such as class labels, are data the context keeps); past five, only those that require
    a gradient."""
    floats = tuple(i for i, arg in enumerate(args)
                   if isinstance(arg, Tensor) and arg.dtype.kind == "f")
    if len(floats) > 5:
        floats = tuple(i for i in floats if args[i].requires_grad)
    return floats


class Function:
    """Subclass it with static `forward(ctx, *args)` and `backward(ctx, *grad_outputs)`,
    then call `apply(*args)`: backward returns one gradient per argument of forward (None
    for an argument that takes none)."""

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom "
                                  "autograd.Function.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("You must implement either the backward or vjp method for "
                                  "your custom autograd.Function to use it with backward mode "
                                  "AD.")

    @classmethod
    def apply(cls, *args, **kwargs):
        ctx = FunctionCtx(cls, args, kwargs)
        with no_grad():
            output = cls.forward(ctx, *args, **kwargs)
        if isinstance(output, (tuple, list)):
            raise DiffersFromPyTorch(_("{function}.forward returned {count} outputs: "
                                       "gradtrace records Functions with one output tensor",
                                       function=cls.__name__, count=len(output)))
        value = np.asarray(output._value if isinstance(output, Tensor) else output)
        ctx._output = value
        parents = tuple(args[i] for i in ctx._positions)
        if not parents:
            return Tensor(value)
        op_name = _op_name(cls, ctx)
        return record(op_name, parents, value, (("ctx", ctx),))


def _op_name(function: type, ctx: FunctionCtx) -> str:
    """The registry op of this Function for this many tensor arguments, added on first use."""
    arity = len(ctx._positions)
    key = (function, arity)
    if key not in _OPS:
        base = function.__name__
        name, suffix = base, 1
        while name in REGISTRY.keys():
            suffix += 1
            name = f"{base}_{suffix}"
        register(_registry_entry(function, name, arity, ctx))
        _OPS[key] = name
    return _OPS[key]


def _registry_entry(function: type, name: str, arity: int, ctx: FunctionCtx) -> Op:
    letters = "abcde"[:arity] if arity <= 5 else None
    if letters is None:
        raise DiffersFromPyTorch(_("{function}: gradtrace records Functions of up to 5 tensor "
                                   "arguments", function=function.__name__))
    arguments = ", ".join(f"{{{letter}}}" for letter in letters)
    formulas = _formulas(function, name, letters, ctx)
    elementwise = bool(getattr(function, "elementwise", False))
    partials = tuple(_partial(index) for index in range(arity)) if elementwise else None
    doc = (function.__doc__ or "").strip().splitlines()
    return Op(
        name=name, arity=arity, usage=f"{function.__name__}.apply({', '.join(letters)})",
        pattern=f"{function.__name__}({arguments})", symbol=function.__name__,
        description=doc[0] if doc else f"your autograd.Function {function.__name__}",
        forward=_forward(function), partials=partials, formulas=formulas,
        vjp_rule=_vjp(function), jvp_rule=_jvp(function), elementwise=elementwise,
        sympy_array_rule=_no_sympy(function))


def _formulas(function: type, name: str, letters: str, ctx: FunctionCtx) -> tuple[str, ...]:
    """How the narration writes each input's gradient: the class's `formula` if it has one;
    else the backward of `name` applied to the upstream gradient, from what forward saved."""
    given = getattr(function, "formula", None)
    if given is not None:
        given = (given,) if isinstance(given, str) else tuple(given)
        if len(given) != len(letters):
            raise UsageError(_("{function}.formula gives {given} formula(s) for {arguments} "
                               "tensor argument(s)", function=function.__name__,
                               given=len(given), arguments=len(letters)), "formula")
        return given
    saved = [f"{{{role}}}" if role in ("out", *letters) else role for role in ctx.saved_roles()]
    source = f" from saved {', '.join(saved)}" if saved else ""
    return tuple(f"{{g}} · {name}.backward, for {{{letter}}}{source}" for letter in letters)


def _call_forward(function: type, ctx: FunctionCtx, arrays) -> np.ndarray:
    args = list(ctx._args)
    for position, array in zip(ctx._positions, arrays):
        args[position] = Tensor(np.asarray(array))
    scratch = FunctionCtx(function, tuple(args), ctx._kwargs)
    with no_grad():
        output = function.forward(scratch, *args, **ctx._kwargs)
    return np.asarray(output._value if isinstance(output, Tensor) else output)


def _forward(function: type):
    def forward(*arrays, ctx):
        return _call_forward(function, ctx, arrays)

    return forward


def _gradients(function: type, ctx: FunctionCtx, upstream) -> list:
    """backward(ctx, upstream) as arrays, one per tensor argument (None where none)."""
    with no_grad():
        grads = function.backward(ctx, Tensor(np.asarray(upstream)))
    grads = grads if isinstance(grads, tuple) else (grads,)
    if len(grads) != len(ctx._args):
        raise PyTorchError(f"function {function.__name__}Backward returned an incorrect number "
                           f"of gradients (expected {len(ctx._args)}, got {len(grads)})")
    found = []
    for index, position in enumerate(ctx._positions):
        gradient = grads[position]
        if gradient is None:
            found.append(None)
            continue
        gradient = np.asarray(gradient._value if isinstance(gradient, Tensor) else gradient)
        expected = ctx._args[position].shape
        if gradient.shape != expected:
            try:
                gradient = np.broadcast_to(gradient, expected)
            except ValueError:
                raise PyTorchError(f"Function {function.__name__}Backward returned an invalid "
                                   f"gradient at index {position} - got {list(gradient.shape)} "
                                   f"but expected shape compatible with {list(expected)}"
                                   ) from None
        found.append(gradient)
    return found


def _vjp(function: type):
    def vjp(upstream, inputs, out, needed, ctx):
        ctx.needs_input_grad = tuple(
            bool(needed[ctx._positions.index(i)]) if i in ctx._positions else False
            for i in range(len(ctx._args)))
        grads = _gradients(function, ctx, upstream)
        return tuple(g if wanted else None for g, wanted in zip(grads, needed))

    return vjp


def _jvp(function: type):
    def jvp(tangents, inputs, out, ctx):
        if not hasattr(function, "jvp"):
            raise UsageError(_("{function} defines no jvp, so forward mode cannot go through "
                               "it", function=function.__name__), "jvp")
        args = [Tensor(np.asarray(t)) if t is not None else None for t in tangents]
        with no_grad():
            result = function.jvp(ctx, *args)
        return np.asarray(result._value if isinstance(result, Tensor) else result)

    return jvp


def _no_sympy(function: type):
    def rule(sp, *args, **attrs):
        raise SymbolicSkipped(message("symbolic check skipped: {name} is an autograd.Function, "
                                      "with no SymPy form", name=function.__name__))

    return rule


def _partial(index: int):
    """For an elementwise Function: its local derivative is its backward of ones."""
    def local(*inputs_and_out, ctx):
        out = inputs_and_out[-1]
        return _gradients(ctx._function, ctx, np.ones_like(out))[index]

    return local
