"""Module and Parameter: the bookkeeping PyTorch users expect, nothing more.

A Module keeps its parameters and sub-modules in the order they were assigned, so
`parameters()` and `named_parameters()` are deterministic ("0.weight", "0.bias", "2.weight"...),
and each Parameter carries its full dotted name, which is how it appears in a trace. The
training flag lives on each module and is set by `train()` / `eval()`, never globally.
"""

from __future__ import annotations

from typing import Iterator

import numpy as np

from ..core.arrays import as_float
from ..core.tensor import Tensor


class Parameter(Tensor):
    """A tensor the optimiser updates: requires_grad, named by its place in the module tree."""

    def __init__(self, value, name: str | None = None):
        super().__init__(np.array(as_float(value)), name, requires_grad=True)  # own copy

    def __repr__(self) -> str:
        return f"Parameter(name={self.name!r}, shape={self.shape}, dtype={self.value.dtype})"


class Module:
    """Base class: subclasses assign Parameters and Modules as attributes and define
    `forward`; calling the module calls `forward`."""

    def __init__(self):
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "training", True)

    def __setattr__(self, name: str, value) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"call Module.__init__() in {type(self).__name__}.__init__ "
                                 "before assigning attributes")
        self._parameters.pop(name, None)
        self._modules.pop(name, None)
        if isinstance(value, Parameter):
            self._parameters[name] = value
            value.name = name
        elif isinstance(value, Module):
            self._modules[name] = value
            for inner, parameter in value.named_parameters():
                parameter.name = f"{name}.{inner}"  # the name a trace shows
        object.__setattr__(self, name, value)

    def forward(self, *args):
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def __call__(self, *args):
        return self.forward(*args)

    # -- walking the tree (loops over an explicit stack, children in assignment order) ------
    def named_modules(self) -> list[tuple[str, "Module"]]:
        """This module ("") and every sub-module, depth first, in assignment order."""
        found: list[tuple[str, Module]] = []
        stack: list[tuple[str, Module]] = [("", self)]
        while stack:
            prefix, module = stack.pop()
            found.append((prefix, module))
            children = [(f"{prefix}.{name}" if prefix else name, child)
                        for name, child in module._modules.items()]
            stack.extend(reversed(children))
        return found

    def named_parameters(self) -> list[tuple[str, Parameter]]:
        """(dotted name, parameter) for every parameter, in assignment order."""
        return [(f"{prefix}.{name}" if prefix else name, parameter)
                for prefix, module in self.named_modules()
                for name, parameter in module._parameters.items()]

    def parameters(self) -> list[Parameter]:
        return [parameter for _, parameter in self.named_parameters()]

    def children(self) -> list["Module"]:
        return list(self._modules.values())

    def named_children(self) -> list[tuple[str, "Module"]]:
        return list(self._modules.items())

    # -- modes and gradients ---------------------------------------------------------------
    def train(self, mode: bool = True) -> "Module":
        """Training mode for this module and all below it (batch statistics, dropout on)."""
        for _, module in self.named_modules():
            object.__setattr__(module, "training", bool(mode))
        return self

    def eval(self) -> "Module":
        """Evaluation mode: running statistics in batch norm, dropout off."""
        return self.train(False)

    def zero_grad(self) -> None:
        for parameter in self.parameters():
            parameter.grad = None

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


class Sequential(Module):
    """Modules applied one after the other; children are named "0", "1", ... and the
    container can be indexed (net[0]), sliced (net[:2]), iterated and measured (len)."""

    def __init__(self, *modules: Module):
        super().__init__()
        for index, module in enumerate(modules):
            if not isinstance(module, Module):
                raise TypeError(f"Sequential takes modules, not {type(module).__name__}")
            setattr(self, str(index), module)

    def forward(self, input):
        for module in self._modules.values():
            input = module(input)
        return input

    def __getitem__(self, index):
        modules = list(self._modules.values())
        if isinstance(index, slice):
            return Sequential(*modules[index])
        return modules[index]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())
