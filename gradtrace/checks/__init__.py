"""Checks: every traced gradient compared with independent answers.

`gradients` checks a trace three ways (traced, symbolic with SymPy, finite differences), within
a time budget, and says "not checked, because ..." where neither other way can give a value;
`symbolic` builds the SymPy form of a graph from each op's rule and differentiates it, within a
deterministic size and depth budget; `finite_differences` is the one numeric routine, with its
step rules (a step settled per element, inside the function's domain; the course's fixed h);
`layer_gradcheck` checks one layer's VJP (`gradtrace gradcheck`) at inputs inside the op's
domain; `random_points` repeats the check over many seeded points and tests hand-derived
formulas ("claims").

May import: gradtrace.core and gradtrace.ops.
"""
