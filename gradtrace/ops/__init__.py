"""The op tables: every op gradtrace knows, each declared once as a registry entry.

`scalar` holds the elementwise ops the notes draw gates for (add, mul, exp, sigmoid, relu...),
`arrays` the ops on whole arrays (matmul, reductions, indexing, softmax, the losses), `layers`
the layers of an MLP or a CNN (linear, conv2d, pooling, batch norm, dropout), with `im2col`
the sliding windows behind them. Importing this package registers them all.

May import: gradtrace.core.
"""

from ..core.registry import REGISTRY, Op, register  # noqa: F401  (the registry these fill)
from . import scalar, arrays, layers  # noqa: F401,E402  (order: the tables' declaration order)
