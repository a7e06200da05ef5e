"""gradtrace.ops.scalar: the conventions at kinks, which no finite difference can check —
relu'(0) = 0, abs'(0) = 0, and a tie of max or min gives everything to the first argument.
(The rules away from kinks are checked for every op in test_per_op_*.py.)
"""

from __future__ import annotations

import numpy as np
import pytest

from gradtrace.ops import REGISTRY


def as_arrays(point) -> tuple[np.ndarray, ...]:
    return tuple(np.asarray(x, dtype=np.float64) for x in point)


def local_at(name: str, *point: float) -> list[float]:
    op = REGISTRY[name]
    inputs = as_arrays(point)
    out = op.forward(*inputs)
    return [float(op.local(i, inputs, out)) for i in range(op.arity)]


def test_relu_derivative_at_zero_is_zero():
    assert local_at("relu", 0.0) == [0.0]
    assert REGISTRY["relu"].at_kink(as_arrays((0.0,)))


def test_abs_derivative_at_zero_is_zero():
    assert local_at("abs", 0.0) == [0.0]
    assert REGISTRY["abs"].at_kink(as_arrays((0.0,)))


@pytest.mark.parametrize("name", ["max", "min"])
@pytest.mark.parametrize("tie", [-1.5, 0.0, 2.0])
def test_max_and_min_tie_give_everything_to_the_first_argument(name, tie):
    assert local_at(name, tie, tie) == [1.0, 0.0]
    assert REGISTRY[name].at_kink(as_arrays((tie, tie)))


def test_max_and_min_route_to_the_winner_away_from_a_tie():
    assert local_at("max", 1.0, 2.0) == [0.0, 1.0]
    assert local_at("max", 2.0, 1.0) == [1.0, 0.0]
    assert local_at("min", 1.0, 2.0) == [1.0, 0.0]
    assert local_at("min", 2.0, 1.0) == [0.0, 1.0]


def test_a_power_is_flat_where_pytorch_makes_it_flat():
    # d/da a^b = b·a^(b−1) is 0 where b = 0 (not 0·0⁻¹ = nan); d/db a^b = a^b·log a is 0 where
    # a = 0 and b ≥ 0 (not 0·(−∞)); elsewhere the usual rules. Values worked by hand.
    import gradtrace

    a = gradtrace.tensor([0.0, 0.0, 2.0, 0.0, 3.0], requires_grad=True)
    b = gradtrace.tensor([0.0, 2.0, 0.0, 0.5, 2.0], requires_grad=True)
    (a ** b).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [0.0, 0.0, 0.0, np.inf, 6.0])
    np.testing.assert_allclose(b.grad.numpy(), [0.0, 0.0, np.log(2.0), 0.0, 9 * np.log(3.0)])
    trace = gradtrace.explain("x**0", at={"x": 0})
    assert trace.gradients["x"] == 0.0 and trace.ok
