"""The place of torch.utils, so that course code importing from it gets gradtrace's answer.

gradtrace has no data loaders or other utilities of torch.utils: every name here raises
NotInGradtrace (an AttributeError) saying what to write instead. `gradtrace.utils.data` is a
module of its own, as `torch.utils.data` is, so `from gradtrace.utils.data import DataLoader`
reaches that message too. (`nn.utils`, clip_grad_norm_ and the rest, lives in gradtrace.nn.)

May import: gradtrace.core.
"""

from __future__ import annotations

from importlib import import_module


def __getattr__(name: str):
    if name == "data":
        return import_module("gradtrace.utils.data")
    if name.startswith("__"):
        raise AttributeError(name)  # copy, pickle and help look for these
    from ..core.i18n import _
    from ..core.tensor.errors import NotInGradtrace

    raise NotInGradtrace(_("gradtrace.utils has no {name}: gradtrace covers the part of "
                           "PyTorch's API the course code uses (the README lists what differs)",
                           name=repr(name)))
