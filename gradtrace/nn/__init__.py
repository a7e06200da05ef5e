"""Neural-network layers on gradtrace tensors, in PyTorch's naming.

    import numpy as np
    from gradtrace import nn, optim
    import gradtrace.nn.functional as F

    rng = np.random.default_rng(0)
    net = nn.Sequential(nn.Linear(2, 4, rng=rng), nn.Tanh(), nn.Linear(4, 2, rng=rng))
    opt = optim.Adam(net.parameters(), lr=0.05)
    loss = F.cross_entropy(net(x), labels)      # x, labels: numpy arrays (data, no gradient)
    trace = loss.backward()                     # fills p.grad for p in net.parameters()
    opt.step()

Each layer is one op of the registry, so `trace` narrates the step layer by layer.

May import: gradtrace.core and gradtrace.ops.
"""

from . import functional, init, modules
from .module import Module, Parameter, Sequential  # noqa: F401  (the public API)
from .modules import (AvgPool2d, BatchNorm1d, BatchNorm2d, Conv2d, Dropout, Flatten,  # noqa: F401
                      Linear, MaxPool2d)

# one module class per activation op of the registry: ReLU, Sigmoid, Tanh, LeakyReLU, ELU...
globals().update(modules.ACTIVATION_MODULES)

__all__ = ["functional", "init", *modules.__all__]
