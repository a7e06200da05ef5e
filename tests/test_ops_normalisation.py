"""gradtrace.ops.normalisation (batch norm): the statistics it produces, and the inputs it
refuses. (Its rules are checked for every op in test_per_op_*.py.)
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gradtrace.ops import REGISTRY
from op_strategies import distinct_arrays


@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_batch_norm_output_has_zero_mean_and_unit_variance_per_channel(data):
    shape = data.draw(st.sampled_from([(5, 3), (3, 2, 2, 2)]))
    x = data.draw(distinct_arrays(shape))
    c = shape[1]
    out = REGISTRY["batch_norm"].evaluate((x, np.ones(c), np.zeros(c)), {"eps": 0.0})
    axes = (0,) + tuple(range(2, len(shape)))
    np.testing.assert_allclose(out.mean(axis=axes), 0.0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=axes), 1.0, rtol=1e-12)


def test_batch_norm_refuses_an_input_without_a_channel_axis():
    with pytest.raises(ValueError):
        REGISTRY["batch_norm"].evaluate((np.zeros(3), np.ones(3), np.zeros(3)), {})
