"""Networks: layer-by-layer tracing of one training step, and training itself.

`step` builds a network's graph from layer specs and traces one SGD step, summarised layer by
layer (shapes, δ⁽ˡ⁾, gradient norms, gradient health); `diagnosis` reads the step's
activations (saturated and dead units), the windows that leave input unread, and gives the
verdict; `networks` makes the MLPs and CNNs of `gradtrace mlp` and `cnn`; `training` fits an
MLP with gradtrace.nn and gradtrace.optim; `descent` runs the optimisers on a function of two
variables; `datasets` makes XOR, moons and spirals.

May import: gradtrace.core, gradtrace.ops, gradtrace.nn, gradtrace.optim.
"""
