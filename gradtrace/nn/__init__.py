"""Neural-network layers on gradtrace tensors, named and called as in `torch.nn`.

    import gradtrace as torch
    from gradtrace import nn
    import gradtrace.nn.functional as F

    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 2))   # PyTorch's start
    opt = torch.optim.Adam(net.parameters(), lr=0.05)
    loss = nn.CrossEntropyLoss()(net(x), labels)
    trace = loss.backward()                     # fills p.grad for p in net.parameters()
    opt.step()

Each layer is one op of the registry, so `trace` narrates the step layer by layer.
`functional` holds the layers as functions, `init` the initialisers, `module` Module and
Parameter, `modules` the layers and losses, `utils` gradient clipping.

May import: gradtrace.core and gradtrace.ops.
"""

from . import functional, init, modules, utils
from .module import Module, ModuleDict, ModuleList, Parameter, Sequential  # noqa: F401
from .modules import (AvgPool2d, BatchNorm1d, BatchNorm2d, BCELoss, BCEWithLogitsLoss,  # noqa: F401
                      Conv2d, CrossEntropyLoss, Dropout, Flatten, Identity, L1Loss, Linear,
                      LogSoftmax, MaxPool2d, MSELoss, NLLLoss, Softmax, Softplus)

# one module class per activation op of the registry: ReLU, Sigmoid, Tanh, LeakyReLU, ELU...
# (Softplus is the one above: it takes PyTorch's beta and threshold)
globals().update({name: cls for name, cls in modules.ACTIVATION_MODULES.items()
                  if name != "Softplus"})

__all__ = ["functional", "init", "utils", *modules.__all__]


def __getattr__(name: str):
    from ..core.i18n import _
    from ..core.tensor.errors import NotInGradtrace

    raise NotInGradtrace(_("gradtrace.nn has no {name}: gradtrace covers the part of torch.nn "
                           "the course code uses (the README lists what differs)",
                           name=repr(name)))
