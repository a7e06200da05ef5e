"""Narration: what gradtrace tells a reader, as plain data (sections of prose, tables, pictures
and narrated lines) that any renderer lays out the same way.

`story` tells a trace (the point, the graph, forward and backward steps, the chain rule path
by path, the gradients and their checks, problems); `lines` writes one step each (upstream ×
local = downstream); `layers` and `layer_jacobians` tell one training step layer by layer;
`forward_mode`, `full_jacobian`, `jacobians`, `random_points`, `gradcheck`, `training` and
`ops_listing` tell the other commands' results. `numbers` is the one number formatter and
`pictures` draws sparsity patterns and sparklines in characters. Nothing here imports rich.

May import: gradtrace.core, gradtrace.ops, gradtrace.checks, gradtrace.jacobians,
gradtrace.layers (it reads their results).
"""
