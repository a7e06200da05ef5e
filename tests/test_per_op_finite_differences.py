"""Every registry op's VJP and JVP against central finite differences of its forward value:
element by element, as an explicit Jacobian built column by column, and along a direction.

Parametrised over `REGISTRY`; each op's points come from its row in op_cases.py, so a new op
is tested as soon as it has a row. The edge shapes a row declares (0-d, size 0) are checked on
a case found for each, whatever the draws. Elementwise ops are also checked on single numbers:
their local derivative (what the narration prints) against a finite difference.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gradtrace.core.backprop import sum_to
from gradtrace.ops import REGISTRY
from op_cases import edge_case, edge_cases_declared, row_for
from op_strategies import Case, float_arrays, moderate
from oracles import (FD_ATOL, all_needed, as_arrays, assert_close, differentiable,
                     directional_difference, explicit_jacobian, finite_difference, numeric_vjp,
                     tolerance)

OP_NAMES = sorted(REGISTRY)
ELEMENTWISE = [name for name in OP_NAMES if REGISTRY[name].elementwise]
EDGES = edge_cases_declared()
SETTINGS = settings(max_examples=40, deadline=None)


def some_of(indices: list[int]):
    """A non-empty subset of `indices`."""
    return st.lists(st.sampled_from(indices), min_size=1, unique=True)


def assert_derivatives_match_finite_differences(op, case: Case, upstream, needed, tangents):
    """(1) VJP = finite differences = Jᵀ·upstream, summed back over broadcast axes as the
    engine does; (2) only the `needed` gradients, the same; (3) JVP = J·tangent = the
    directional difference, inputs without a tangent held still."""
    inputs, attrs = case
    out = op.evaluate(inputs, attrs)
    assert not op.at_kink(inputs, attrs)
    jacobians = {i: explicit_jacobian(op, case, i) for i in differentiable(op)}

    gradients = op.vjp(upstream, inputs, out, all_needed(op), attrs)
    assert len(gradients) == op.arity
    for i in range(op.arity):
        if i not in jacobians:
            assert gradients[i] is None, f"input {i} is data, not differentiated"
            continue
        gradient = sum_to(gradients[i], inputs[i].shape)
        assert gradient.shape == inputs[i].shape
        assert_close(gradient, numeric_vjp(op, case, i, upstream), atol=tolerance(upstream))
        assert_close(gradient.ravel(), jacobians[i].T @ upstream.ravel(),
                     atol=tolerance(upstream))

    for i, gradient in enumerate(op.vjp(upstream, inputs, out, needed, attrs)):
        if not needed[i]:
            assert gradient is None
        else:
            np.testing.assert_array_equal(gradient, gradients[i])

    jvp = op.jvp(tangents, inputs, out, attrs)
    assert np.shape(jvp) == out.shape
    expected = sum(jacobians[i] @ t.ravel() for i, t in enumerate(tangents) if t is not None)
    moved = [t for t in tangents if t is not None]
    assert_close(np.ravel(jvp), expected, atol=tolerance(*moved))
    assert_close(jvp, directional_difference(op, case, tangents), atol=10 * tolerance(*moved))


@pytest.mark.parametrize("name", OP_NAMES)
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_vjp_and_jvp_agree_with_finite_differences_and_the_explicit_jacobian(name, data):
    op = REGISTRY[name]
    case = data.draw(row_for(name).cases, label="case")
    out = op.evaluate(*case)
    upstream = data.draw(float_arrays(out.shape), label="upstream")
    # callers ask for at least one gradient, and move at least one input in forward mode
    asked = data.draw(some_of(differentiable(op)), label="needed")
    moving = data.draw(some_of(differentiable(op)), label="moving")
    tangents = tuple(
        data.draw(float_arrays(x.shape), label=f"tangent {i}") if i in moving else None
        for i, x in enumerate(case.inputs))
    needed = tuple(i in asked for i in range(op.arity))
    assert_derivatives_match_finite_differences(op, case, upstream, needed, tangents)


@pytest.mark.parametrize("name, edge", EDGES)
def test_edge_shapes_agree_with_finite_differences(name, edge):
    op = REGISTRY[name]
    case = edge_case(name, edge)
    rng = np.random.default_rng(0)
    upstream = rng.standard_normal(op.evaluate(*case).shape)
    tangents = tuple(rng.standard_normal(x.shape) if op.takes_gradient(i) else None
                     for i, x in enumerate(case.inputs))
    assert_derivatives_match_finite_differences(op, case, upstream, all_needed(op), tangents)


# -- elementwise ops on single numbers ---------------------------------------------------------


@st.composite
def scalar_points(draw, name: str):
    """(a point: one float per input, the op's attributes)."""
    row = row_for(name)
    return draw(st.tuples(*row.elements)), draw(row.attributes)


@pytest.mark.parametrize("name", ELEMENTWISE)
@SETTINGS
@given(data=st.data())
def test_local_derivative_matches_finite_difference(name, data):
    op = REGISTRY[name]
    point, attrs = data.draw(scalar_points(name), label="point")
    inputs = as_arrays(point)
    out = op.evaluate(inputs, attrs)
    assert not op.at_kink(inputs, attrs)
    for index in range(op.arity):
        assert_close(op.local(index, inputs, out, attrs),
                     finite_difference(op, point, index, attrs))


@pytest.mark.parametrize("name", ELEMENTWISE)
@SETTINGS
@given(data=st.data())
def test_vjp_is_upstream_times_finite_difference(name, data):
    op = REGISTRY[name]
    point, attrs = data.draw(scalar_points(name), label="point")
    upstream = data.draw(moderate, label="upstream")
    needed = data.draw(st.tuples(*[st.booleans()] * op.arity), label="needed")
    inputs = as_arrays(point)
    gradients = op.vjp(np.asarray(upstream), inputs, op.evaluate(inputs, attrs), needed, attrs)
    assert len(gradients) == op.arity
    for index, gradient in enumerate(gradients):
        if not needed[index]:
            assert gradient is None
            continue
        expected = upstream * finite_difference(op, point, index, attrs)
        assert_close(gradient, expected, atol=FD_ATOL * max(1.0, abs(upstream)))


@pytest.mark.parametrize("name", ELEMENTWISE)
@SETTINGS
@given(data=st.data())
def test_jvp_is_sum_of_finite_difference_times_tangent(name, data):
    op = REGISTRY[name]
    point, attrs = data.draw(scalar_points(name), label="point")
    tangents = data.draw(st.tuples(*[st.none() | moderate] * op.arity), label="tangents")
    inputs = as_arrays(point)
    wrapped = tuple(None if t is None else np.asarray(t) for t in tangents)
    terms = [finite_difference(op, point, i, attrs) * t
             for i, t in enumerate(tangents) if t is not None]
    # Each difference is off by rounding in proportion to its own size, and the terms can cancel.
    scale = max(1.0, sum(abs(term) for term in terms))
    assert_close(op.jvp(wrapped, inputs, op.evaluate(inputs, attrs), attrs), sum(terms),
                 atol=FD_ATOL * scale)


@pytest.mark.parametrize("name", ELEMENTWISE)
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_elementwise_jacobian_is_diagonal(name, data):
    op = REGISTRY[name]
    points = data.draw(st.lists(st.tuples(*row_for(name).elements), min_size=3, max_size=3),
                       label="points")
    attrs = data.draw(row_for(name).attributes, label="attrs")
    case = Case(tuple(np.array(column) for column in zip(*points)), attrs)  # one (3,) per input
    for index in range(op.arity):
        jacobian = explicit_jacobian(op, case, index)
        # output j depends on input element j only
        np.testing.assert_array_equal(jacobian - np.diag(np.diag(jacobian)), np.zeros((3, 3)))
