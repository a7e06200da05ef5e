"""gradtrace.ops.layers (linear, dropout, flatten): dropout's scaling and its mask, the shapes
and parameters the layers refuse, and linear with no input features. (Their rules are checked for
every op in test_per_op_*.py.)
"""

from __future__ import annotations

import numpy as np
import pytest

from gradtrace.ops import REGISTRY


def test_dropout_scales_the_kept_units_and_its_mask_takes_no_gradient():
    op = REGISTRY["dropout"]
    x, mask = np.array([1.0, 2.0, 3.0, 4.0]), np.array([1.0, 0.0, 1.0, 0.0])
    out = op.evaluate((x, mask), {"p": 0.5})
    np.testing.assert_array_equal(out, [2.0, 0.0, 6.0, 0.0])
    assert op.vjp(np.ones(4), (x, mask), out, (True, False), {"p": 0.5})[1] is None


@pytest.mark.parametrize("name, inputs, attrs", [
    ("linear", (np.zeros((2, 3)), np.zeros((4, 2)), np.zeros(4)), {}),
    ("dropout", (np.zeros(3), np.ones(3)), {"p": 1.0}),
])
def test_layers_refuse_shapes_and_parameters_that_do_not_fit(name, inputs, attrs):
    with pytest.raises(ValueError):
        REGISTRY[name].evaluate(inputs, attrs)


def test_linear_with_no_input_features_gives_empty_gradients_for_x_and_w():
    op = REGISTRY["linear"]
    x, W, b = np.zeros((2, 0)), np.zeros((3, 0)), np.array([1.0, 2.0, 3.0])
    out = op.evaluate((x, W, b), {})
    np.testing.assert_array_equal(out, [[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]])
    grad_x, grad_w, grad_b = op.vjp(np.ones((2, 3)), (x, W, b), out, (True, True, True))
    assert grad_x.shape == (2, 0) and grad_w.shape == (3, 0)
    np.testing.assert_array_equal(grad_b, [2.0, 2.0, 2.0])
