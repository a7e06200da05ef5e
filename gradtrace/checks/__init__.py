"""Checks: every traced gradient compared with independent answers.

`gradients` checks a trace three ways (traced, symbolic with SymPy, finite differences), within
a time budget; `symbolic` builds the SymPy form of a graph from each op's rule and differentiates
it; `finite_differences` is the one numeric routine; `layer_gradcheck` checks one layer's VJP
(`gradtrace gradcheck`); `random_points` repeats the check over many seeded points and tests
hand-derived formulas ("claims").

May import: gradtrace.core and gradtrace.ops.
"""
