"""The op tables: every op gradtrace knows, each declared once as a registry entry.

`scalar` holds the elementwise ops the notes draw gates for (add, mul, exp, sigmoid, relu...),
`arrays` the ops on whole arrays (matmul, reductions, indexing, softmax), `losses` the losses;
`layers` (linear, dropout, flatten), `activations` (leaky_relu, elu, silu, softplus),
`convolution` (conv2d, pooling, with `im2col` the sliding windows behind them) and
`normalisation` (batch norm) the layers of an MLP or a CNN; `composites` writes the fused ones with primitive ops. Importing this
package registers them all, in this order (the order `gradtrace ops` lists them).

May import: gradtrace.core.
"""

from ..core.registry import REGISTRY, Op, register  # noqa: F401  (the registry these fill)
from . import scalar, arrays, losses, layers, activations, convolution, normalisation  # noqa: F401,E402
