"""Module and Parameter: the bookkeeping PyTorch users expect.

A Module keeps its parameters, buffers and sub-modules in the order they were assigned, so
`parameters()`, `named_parameters()` and `state_dict()` are deterministic ("0.weight",
"0.bias", "2.weight"...), and each Parameter carries its full dotted name, which is how it
appears in a trace. The training flag lives on each module and is set by `train()` /
`eval()`, never globally. Calling a module calls its `forward` inside the module's scope
(gradtrace.core.scopes), so the ops it records, and its parameters, note which module made or
holds them: pictures of the graph group them by module ("net.0 (Linear)").
"""

from __future__ import annotations

import sys
from collections import OrderedDict
from typing import Iterator

import numpy as np

from ..core import scopes
from ..core.i18n import _
from ..core.tensor import Tensor, dtypes, no_grad
from ..core.tensor.errors import DiffersFromPyTorch, PyTorchError
from ..core.tensor.serialization import SAVED_KINDS


class Parameter(Tensor):
    """A tensor the optimiser updates: requires_grad, named by its place in the module tree.
    `Parameter(data, requires_grad=True)` as in PyTorch (a copy of data, in its float type;
    Python numbers in the default float type); gradtrace adds `name=`."""

    __slots__ = ()

    def __init__(self, data=None, requires_grad: bool = True, name: str | None = None):
        if isinstance(requires_grad, str):  # gradtrace's older Parameter(value, name)
            requires_grad, name = True, requires_grad
        if data is None:
            data = np.zeros(0, dtype=dtypes.get_default_dtype())
        value = data._value if isinstance(data, Tensor) else data
        array = np.array(value) if isinstance(value, np.ndarray) else dtypes.inferred(value)
        if array.dtype.kind != "f":
            array = array.astype(np.float64)
        super().__init__(array, name, requires_grad=bool(requires_grad))

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    def __deepcopy__(self, memo):
        """A copy of the values and requires_grad, without .grad, as PyTorch's."""
        if id(self) in memo:
            return memo[id(self)]
        made = memo[id(self)] = type(self)(self._value.copy(order="K"), self.requires_grad,
                                           name=self._name)
        made._scope = getattr(self, "_scope", ())
        return made


SAVED_KINDS["Parameter"] = Parameter  # gradtrace.save keeps a Parameter a Parameter


class Module:
    """Base class: subclasses assign Parameters and Modules as attributes and define
    `forward`; calling the module calls `forward`."""

    def __init__(self, *args, **kwargs):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)

    def __setattr__(self, name: str, value) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(_("{pytorch} (call super().__init__() in {cls}.__init__ "
                                   "first)", pytorch="cannot assign module before "
                                   "Module.__init__() call", cls=type(self).__name__))
        if name in self._buffers and (value is None or isinstance(value, Tensor)):
            self._buffers[name] = value
            object.__setattr__(self, name, value)
            return
        self._parameters.pop(name, None)
        if self._modules.pop(name, None) is not None or isinstance(value, Module):
            _moved()
        if isinstance(value, Parameter):
            self._parameters[name] = value
            _label(value, name)
        elif isinstance(value, Module):
            self._modules[name] = value
            for inner, parameter in value.named_parameters():
                _label(parameter, f"{name}.{inner}")  # the name a trace shows
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        if name in self._modules:
            _moved()
        for table in (self._parameters, self._buffers, self._modules):
            table.pop(name, None)
        object.__delattr__(self, name)

    def __getstate__(self) -> dict:
        # copies and pickles leave out what is kept for the next call (the callers, their code)
        return {key: value for key, value in self.__dict__.items()
                if key not in ("_scope_cache", "_variable_cache")}

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required '
                                  '"forward" function')

    def __call__(self, *args, **kwargs):
        # The ops forward() records note this module's scope, so a graph can be drawn grouped
        # by module (see gradtrace.core.scopes); its own parameters note it too.
        inner, modules = _scope_of_call(self)
        tokens = scopes.enter_known(inner, modules)
        try:
            if _SCOPED:
                for parameter in self._parameters.values():
                    if parameter is not None:
                        parameter._scope = inner
            return self.forward(*args, **kwargs)
        finally:
            scopes.leave_known(tokens)

    # -- registering -------------------------------------------------------------------------
    def register_parameter(self, name: str, param) -> None:
        if param is None:
            self._parameters[name] = None
            object.__setattr__(self, name, None)
        else:
            setattr(self, name, param)

    def register_buffer(self, name: str, tensor, persistent: bool = True) -> None:
        """A tensor kept with the module (in state_dict) that is not a parameter: batch norm's
        running statistics."""
        if tensor is not None and not isinstance(tensor, Tensor):
            tensor = Tensor(np.asarray(tensor))
        self._buffers[name] = tensor
        object.__setattr__(self, name, tensor)

    def add_module(self, name: str, module) -> None:
        setattr(self, name, module)

    register_module = add_module

    # -- walking the tree (loops over an explicit stack, children in assignment order) ------
    def named_modules(self, memo=None, prefix: str = "") -> Iterator[tuple[str, "Module"]]:
        """This module ("") and every sub-module, depth first, in assignment order."""
        found: list[tuple[str, Module]] = []
        stack: list[tuple[str, Module]] = [(prefix, self)]
        seen: set[int] = set()
        while stack:
            path, module = stack.pop()
            if id(module) in seen:  # a module used twice is listed once, as PyTorch does
                continue
            seen.add(id(module))
            found.append((path, module))
            children = [(f"{path}.{name}" if path else name, child)
                        for name, child in module._modules.items() if child is not None]
            stack.extend(reversed(children))
        return iter(found)

    def modules(self) -> Iterator["Module"]:
        return (module for _, module in self.named_modules())

    def named_parameters(self, prefix: str = "", recurse: bool = True
                         ) -> Iterator[tuple[str, Parameter]]:
        """(dotted name, parameter) for every parameter, in assignment order (each once)."""
        modules = self.named_modules(prefix=prefix) if recurse else iter([(prefix, self)])
        seen: set[int] = set()
        found = []
        for path, module in modules:
            for name, parameter in module._parameters.items():
                if parameter is not None and id(parameter) not in seen:
                    seen.add(id(parameter))
                    found.append((f"{path}.{name}" if path else name, parameter))
        return iter(found)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        return (parameter for _, parameter in self.named_parameters(recurse=recurse))

    def named_buffers(self, prefix: str = "", recurse: bool = True):
        modules = self.named_modules(prefix=prefix) if recurse else iter([(prefix, self)])
        return iter([(f"{path}.{name}" if path else name, buffer)
                     for path, module in modules for name, buffer in module._buffers.items()
                     if buffer is not None])

    def buffers(self, recurse: bool = True):
        return (buffer for _, buffer in self.named_buffers(recurse=recurse))

    def children(self) -> Iterator["Module"]:
        return iter([child for child in self._modules.values() if child is not None])

    def named_children(self) -> Iterator[tuple[str, "Module"]]:
        return iter([(name, child) for name, child in self._modules.items()
                     if child is not None])

    def register_forward_hook(self, *args, **kwargs):
        raise _no_hooks("register_forward_hook")

    def register_forward_pre_hook(self, *args, **kwargs):
        raise _no_hooks("register_forward_pre_hook")

    def register_full_backward_hook(self, *args, **kwargs):
        raise _no_hooks("register_full_backward_hook")

    def register_backward_hook(self, *args, **kwargs):
        raise _no_hooks("register_backward_hook")

    def apply(self, function) -> "Module":
        """function(module) for every sub-module, children first, then this one (as d2l's
        net.apply(init_weights))."""
        for child in self.children():
            child.apply(function)
        function(self)
        return self

    # -- state -----------------------------------------------------------------------------
    def state_dict(self, destination=None, prefix: str = "", keep_vars: bool = False):
        """Every parameter and buffer by dotted name, in order: tensors sharing the arrays
        (detached unless keep_vars)."""
        state = OrderedDict() if destination is None else destination
        for path, module in self.named_modules():
            base = f"{prefix}{path}." if path else prefix
            for name, parameter in module._parameters.items():
                if parameter is not None:
                    state[base + name] = parameter if keep_vars else parameter.detach()
            for name, buffer in module._buffers.items():
                if buffer is not None:
                    state[base + name] = buffer if keep_vars else buffer.detach()
        return state

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):
        """Copy each array of `state_dict` into the parameter or buffer of that name, in place
        (shapes must match); with strict, every name must be there and no other."""
        own = self.state_dict(keep_vars=True)
        missing = [name for name in own if name not in state_dict]
        unexpected = [name for name in state_dict if name not in own]
        if strict and (missing or unexpected):
            raise PyTorchError(f"Error(s) in loading state_dict for {type(self).__name__}: "
                               f"Missing key(s) in state_dict: {missing}. Unexpected key(s) in "
                               f"state_dict: {unexpected}.")
        with no_grad():
            for name, target in own.items():
                if name not in state_dict:
                    continue
                source = state_dict[name]
                array = np.asarray(source._value if isinstance(source, Tensor) else source)
                if array.shape != target.shape:
                    raise PyTorchError(f"Error(s) in loading state_dict for "
                                       f"{type(self).__name__}: size mismatch for {name}: "
                                       f"copying a param with shape {list(array.shape)}, the "
                                       f"shape in current model is {list(target.shape)}.")
                target._fill_with(array)
        return _Keys(missing, unexpected)

    # -- modes, gradients, types -----------------------------------------------------------------
    def train(self, mode: bool = True) -> "Module":
        """Training mode for this module and all below it (batch statistics, dropout on)."""
        for module in self.modules():
            object.__setattr__(module, "training", bool(mode))
        return self

    def eval(self) -> "Module":
        """Evaluation mode: running statistics in batch norm, dropout off."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> "Module":
        for parameter in self.parameters():
            parameter.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        for parameter in self.parameters():
            if set_to_none or parameter.grad is None:
                parameter.grad = None
            else:
                parameter.grad.zero_()

    def to(self, *args, **kwargs) -> "Module":
        """to(dtype) converts every parameter and float buffer; to('cpu') changes nothing."""
        dtype = kwargs.get("dtype")
        for arg in args:
            if not isinstance(arg, str) and type(arg).__name__ != "device":
                dtype = arg
        if dtype is not None:
            chosen = dtypes.as_dtype(dtype)
            for tensor_ in [*self.parameters(), *self.buffers()]:
                if tensor_._value.dtype.kind == "f":
                    tensor_._value = tensor_._value.astype(chosen)
        return self

    def float(self) -> "Module":
        return self.to(dtypes.float32)

    def double(self) -> "Module":
        return self.to(dtypes.float64)

    def cpu(self) -> "Module":
        return self

    # -- printing, as PyTorch does ---------------------------------------------------------
    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        if not self._modules:
            return f"{type(self).__name__}({self.extra_repr()})"
        lines = [f"{type(self).__name__}("]
        for name, child in self._modules.items():
            inner = repr(child).replace("\n", "\n  ")
            lines.append(f"  ({name}): {inner}")
        return "\n".join(lines) + "\n)"


def _no_hooks(name: str) -> DiffersFromPyTorch:
    return DiffersFromPyTorch(_("{name}: gradtrace calls no module hooks. The Trace that "
                                "loss.backward() returns holds every value and every gradient "
                                "of the step (trace.values, trace.node_grads), parameters named "
                                "by their module's place (0.weight, 2.bias)", name=name))


_SCOPED = hasattr(Tensor, "_scope")  # tensors note their scope (a slot of their own)


def _label(parameter, name: str) -> None:
    """Name a parameter by its place in the module tree, unless that place reads as a number
    (a parameter registered as "1" would show as the constant 1): then it stays unnamed."""
    try:
        parameter.name = name
    except ValueError:
        parameter.name = None


_layout = 0  # module trees changed so far: a scope kept from an earlier call is made anew


def _moved() -> None:
    global _layout
    _layout += 1


def _scope_of_call(module) -> tuple[tuple, tuple]:
    """(scope, calling modules) inside `module` for this call. Kept on the module with what
    it was made from (the caller's scope, which is itself kept, so the same object, the module
    tree's version and the outermost module's variable name), since a network calls its modules
    the same way every step."""
    outer, calling = scopes.current(), scopes.calling_modules()
    variable = "" if calling else _variable_name(module)
    kept = module.__dict__.get("_scope_cache")
    if (kept is not None and kept[0] is outer and kept[1] is calling and kept[2] == _layout
            and kept[3] == variable):
        return kept[4], kept[5]
    path = _scope_path(module, calling, variable)
    inner = outer + ((path, type(module).__name__),)
    modules = calling + ((module, path),)
    module.__dict__["_scope_cache"] = (outer, calling, _layout, variable, inner, modules)
    return inner, modules


def _scope_path(module, calling: tuple, variable: str) -> str:
    """The module's dotted path: its name in the module that calls it ("net.0"); for the
    outermost module, the variable the calling code holds it in ("net"), else ""."""
    if not calling:
        return scopes.inner_path(variable)
    parent, parent_path = calling[-1]
    for name, child in parent._modules.items():  # the usual case: a direct child
        if child is module:
            return scopes.join(parent_path, name)
    for name, child in parent.named_modules():  # inside a ModuleList, a nested container
        if child is module and name:
            return scopes.join(parent_path, name)
    return scopes.join(parent_path, type(module).__name__.lower())  # made inside forward


def _variable_name(module) -> str:
    """The name of a variable holding `module` in the code that called it (outside gradtrace).
    Kept on the module with the call's place (code and instruction): a training loop calls
    it from the same place every step, and reading a frame's variables copies them all."""
    frame = sys._getframe(3)  # _variable_name < _scope_of_call < __call__ < the caller
    while frame is not None and frame.f_globals.get("__name__", "").startswith("gradtrace."):
        frame = frame.f_back
    if frame is None:
        return ""
    place = (frame.f_code, frame.f_lasti)
    kept = module.__dict__.get("_variable_cache")
    if kept is not None and kept[0] == place:
        return kept[1]
    name = _holding_variable(module, frame)
    if name is not None:
        module.__dict__["_variable_cache"] = (place, name)
        return name
    # not a variable of the calling code: perhaps of its caller (kept only when found in the
    # calling code itself, whose variables at one place are the same each time)
    frame = frame.f_back
    while frame is not None and frame.f_globals.get("__name__", "").startswith("gradtrace."):
        frame = frame.f_back
    return (_holding_variable(module, frame) if frame is not None else None) or ""


def _holding_variable(module, frame) -> str | None:
    """The name of a variable of `frame` holding `module`, or None."""
    for name, value in frame.f_locals.items():
        if value is module and not name.startswith("_") and name != "self":
            return name
    return None


class _Keys(tuple):
    """What load_state_dict returns: (missing_keys, unexpected_keys)."""

    def __new__(cls, missing, unexpected):
        made = super().__new__(cls, (missing, unexpected))
        made.missing_keys, made.unexpected_keys = missing, unexpected
        return made


class Sequential(Module):
    """Modules applied one after the other; children are named "0", "1", ... and the
    container can be indexed (net[0]), sliced (net[:2]), iterated and measured (len)."""

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], (dict, OrderedDict)):
            for name, module in modules[0].items():
                setattr(self, name, module)
            return
        for index, module in enumerate(modules):
            if not isinstance(module, Module):
                raise TypeError(f"{type(module).__name__} is not a Module subclass")
            setattr(self, str(index), module)

    def forward(self, input):
        for module in self._modules.values():
            input = module(input)
        return input

    def append(self, module: Module) -> "Sequential":
        setattr(self, str(len(self)), module)
        return self

    def __getitem__(self, index):
        modules = list(self._modules.values())
        if isinstance(index, slice):
            return Sequential(*modules[index])
        return modules[index]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())


class ModuleList(Module):
    """A list of modules, registered so their parameters are the container's."""

    def __init__(self, modules=None):
        super().__init__()
        for module in modules or ():
            self.append(module)

    def append(self, module: Module) -> "ModuleList":
        setattr(self, str(len(self)), module)
        return self

    def extend(self, modules) -> "ModuleList":
        for module in modules:
            self.append(module)
        return self

    def __getitem__(self, index):
        modules = list(self._modules.values())
        return ModuleList(modules[index]) if isinstance(index, slice) else modules[index]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())


class ModuleDict(Module):
    """Modules by name, registered so their parameters are the container's."""

    def __init__(self, modules=None):
        super().__init__()
        for name, module in (modules or {}).items():
            setattr(self, name, module)

    def __getitem__(self, name: str) -> Module:
        return self._modules[name]

    def __setitem__(self, name: str, module: Module) -> None:
        setattr(self, name, module)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def keys(self):
        return self._modules.keys()

    def items(self):
        return self._modules.items()

    def values(self):
        return self._modules.values()
