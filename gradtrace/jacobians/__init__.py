"""Jacobians, built on purpose to show what backprop never builds.

`local` builds the Jacobian of each backward step (J = ∂node/∂input) and checks that Jᵀ·upstream
equals the VJP; `full` builds a whole graph's Jacobian in reverse and in forward mode and times
both; `structure` names a Jacobian's structure (diagonal, block, Kronecker, sparse...).

May import: gradtrace.core and gradtrace.ops.
"""
