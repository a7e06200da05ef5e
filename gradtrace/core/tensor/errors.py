"""The errors of the PyTorch-style API, both in the GradtraceError family.

`PyTorchError` is an error PyTorch raises too, with PyTorch's own words first ("grad can be
implicitly created only for scalar outputs"), so code that fails under PyTorch fails the same
way here. `DiffersFromPyTorch` is raised where gradtrace deliberately does not do what PyTorch
does: it says so, and what to write instead, rather than computing something else.
"""

from __future__ import annotations

from ..errors import GradtraceError
from ..i18n import _, again


class PyTorchError(GradtraceError, RuntimeError):
    """An error PyTorch raises in the same place (a RuntimeError there too)."""


class PyTorchValueError(PyTorchError, ValueError):
    """An error PyTorch raises as a ValueError (a batch of one in training batch norm)."""


class DiffersFromPyTorch(GradtraceError, NotImplementedError):
    """gradtrace deliberately differs from PyTorch here; the message says how and what to do."""

    def __init__(self, message: str):
        super().__init__(_("gradtrace differs from PyTorch here: {message}",
                           message=again(message)))


class NotInGradtrace(GradtraceError, AttributeError):
    """A PyTorch name gradtrace does not have (an AttributeError, so hasattr() is False)."""


def missing_names(module: str, offered):
    """A module's __getattr__ for the PyTorch names it lacks: NotInGradtrace, naming what the
    module has (`offered`, read when the name is asked for)."""

    def __getattr__(name: str):
        if name.startswith("__"):
            raise AttributeError(name)  # copy, pickle and help look for these
        raise NotInGradtrace(_("{module} has no {name}: gradtrace has {offered}",
                               module=module, name=repr(name),
                               offered=_(", ").join(offered)))

    return __getattr__
