"""Every registry op keeps float32 as float32; ops whose inputs broadcast give what they give on
the inputs broadcast out by numpy; elementwise ops work one element at a time on vectors,
broadcast a vector with a scalar, and keep 0-d and size-0 shapes.

Parametrised over `REGISTRY` through the rows of op_cases.py. (Each op's declared edge shapes,
0-d and size 0, also go through the finite-difference checks in
test_per_op_finite_differences.py.)
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gradtrace.core.backprop import sum_to
from gradtrace.ops import REGISTRY
from op_cases import OP_CASES, row_for
from op_strategies import broadcast_cases, float_arrays
from oracles import all_needed, as_arrays, assert_close

OP_NAMES = sorted(REGISTRY)
ELEMENTWISE = [name for name in OP_NAMES if REGISTRY[name].elementwise]
BROADCASTING = [name for name in OP_NAMES if name in OP_CASES and OP_CASES[name].broadcasts]


@pytest.mark.parametrize("name", OP_NAMES)
@settings(max_examples=5, deadline=None)
@given(data=st.data())
def test_float32_stays_float32(name, data):
    op = REGISTRY[name]
    inputs, attrs = data.draw(row_for(name).cases, label="case")
    narrow = tuple(x.astype(np.float32) if op.takes_gradient(i) else x  # data may stay wide
                   for i, x in enumerate(inputs))
    out = op.evaluate(narrow, attrs)
    assert out.dtype == np.float32
    upstream = np.ones_like(out)
    for i, gradient in enumerate(op.vjp(upstream, narrow, out, all_needed(op), attrs)):
        if gradient is not None:
            assert np.asarray(gradient).dtype == np.float32, f"gradient {i}"
    tangents = tuple(np.ones_like(x) if op.takes_gradient(i) else None
                     for i, x in enumerate(narrow))
    assert np.asarray(op.jvp(tangents, narrow, out, attrs)).dtype == np.float32


@pytest.mark.parametrize("name", BROADCASTING)
@settings(max_examples=20, deadline=None)
@given(data=st.data())
def test_broadcast_inputs_give_what_inputs_broadcast_out_give(name, data):
    """Shapes that differ (a scalar, a row, a column against a matrix...): the value is the
    value on the inputs copied out to the common shape, and each gradient, summed back over
    the copies, is the sum of the copies' gradients."""
    op, row = REGISTRY[name], row_for(name)
    inputs, attrs = data.draw(broadcast_cases(row.elements, row.attributes), label="case")
    common = np.broadcast_shapes(*(x.shape for x in inputs))
    copied = tuple(np.broadcast_to(x, common).copy() for x in inputs)
    out, out_copied = op.evaluate(inputs, attrs), op.evaluate(copied, attrs)
    assert out.shape == out_copied.shape
    assert_close(out, out_copied, rtol=1e-14, atol=0)
    upstream = data.draw(float_arrays(out.shape), label="upstream")
    gradients = op.vjp(upstream, inputs, out, all_needed(op), attrs)
    copied_gradients = op.vjp(upstream, copied, out_copied, all_needed(op), attrs)
    for x, gradient, copied_gradient in zip(inputs, gradients, copied_gradients):
        assert_close(sum_to(gradient, x.shape), sum_to(copied_gradient, x.shape),
                     rtol=1e-12, atol=1e-12)


# -- elementwise ops on arrays: one element at a time, 0-d and size 0 ---------------------------


def scalar_points(name: str, count: int):
    return st.lists(st.tuples(*row_for(name).elements), min_size=count, max_size=count)


@pytest.mark.parametrize("name", ELEMENTWISE)
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_forward_and_local_are_elementwise_on_vectors(name, data):
    op = REGISTRY[name]
    points = data.draw(scalar_points(name, 3), label="points")
    attrs = data.draw(row_for(name).attributes, label="attrs")
    inputs = tuple(np.array(column) for column in zip(*points))
    out = op.evaluate(inputs, attrs)
    assert out.shape == (3,)
    one_by_one = [op.evaluate(as_arrays(point), attrs) for point in points]
    assert_close(out, np.array(one_by_one), rtol=1e-14, atol=0)
    for index in range(op.arity):
        local = np.broadcast_to(op.local(index, inputs, out, attrs), out.shape)
        expected = [op.local(index, as_arrays(p), op.evaluate(as_arrays(p), attrs), attrs)
                    for p in points]
        assert_close(local, np.array(expected), rtol=1e-14, atol=0)


@pytest.mark.parametrize("name", [n for n in ELEMENTWISE if REGISTRY[n].arity == 2])
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_binary_forward_broadcasts_vector_with_scalar(name, data):
    op = REGISTRY[name]
    points = data.draw(scalar_points(name, 4), label="points")
    attrs = data.draw(row_for(name).attributes, label="attrs")
    firsts = np.array([p[0] for p in points[:3]])
    seconds = np.array([p[1] for p in points[:3]])
    a_scalar, b_scalar = points[3]
    vector_with_scalar = op.evaluate((firsts, np.asarray(b_scalar)), attrs)
    scalar_with_vector = op.evaluate((np.asarray(a_scalar), seconds), attrs)
    assert vector_with_scalar.shape == scalar_with_vector.shape == (3,)
    assert_close(vector_with_scalar,
                 [op.evaluate(as_arrays((a, b_scalar)), attrs) for a in firsts],
                 rtol=1e-14, atol=0)
    assert_close(scalar_with_vector,
                 [op.evaluate(as_arrays((a_scalar, b)), attrs) for b in seconds],
                 rtol=1e-14, atol=0)


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_forward_keeps_zero_d_and_size_zero_shapes(name):
    op = REGISTRY[name]
    scalar_out = op.evaluate(tuple([np.asarray(1.5)] * op.arity), {})
    assert isinstance(scalar_out, np.ndarray) and scalar_out.shape == ()
    empty_out = op.evaluate(tuple([np.zeros((0,))] * op.arity), {})
    assert isinstance(empty_out, np.ndarray) and empty_out.shape == (0,)
