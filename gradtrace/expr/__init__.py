"""The expression front end: text → AST → Graph, the point it is evaluated at, and each
command's work as one call from text.

`parse` is the safe parser (nothing typed is ever executed), `to_graph` builds the graph from
its AST, `point` reads values written as text (`w=2,x=[1,2]`, seeded generators) and gives
defaults, `fuse` collapses composites into one gate (--fuse), `pipeline` runs text → graph →
point → trace (→ checks) for explain, forward mode, Jacobians, random-point checks and the
optimisers' surfaces.

May import: gradtrace.core, gradtrace.ops, gradtrace.checks, gradtrace.jacobians,
gradtrace.layers.
"""
