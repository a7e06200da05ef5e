"""gradtrace.core.tensor, the Python API: the worked examples of the notes through
`gradtrace.tensor`, against numbers computed by hand or by numpy code written here, and the
graphs it records against the parser's.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import gradtrace
from gradtrace.expr.to_graph import graph_from_text as from_text

SETTINGS = settings(max_examples=25, deadline=None)

SIGMOID = "1/(1+exp(-(w0*x0+w1*x1+w2)))"
WORKED_POINT = {"w0": 2.0, "x0": -1.0, "w1": -3.0, "x1": -2.0, "w2": -3.0}
WORKED_GRADIENTS = {"w0": -0.19661193324148185, "x0": 0.3932238664829637,
                    "w1": -0.3932238664829637, "x1": -0.5898357997244456,
                    "w2": 0.19661193324148185}
WORKED_VALUE = 0.7310585786300049

# the acceptance example of issue 3, by hand: see test_pipeline.py
ACCEPTANCE = "sum(relu(W@x+b))"
ACCEPTANCE_AT = {"W": [[1.0, -2.0], [3.0, 4.0]], "x": [1.0, 2.0], "b": [0.5, -10.0]}
ACCEPTANCE_VALUE = 1.0
ACCEPTANCE_GRADIENTS = {"W": [[0.0, 0.0], [1.0, 2.0]], "x": [3.0, 4.0], "b": [0.0, 1.0]}


def test_python_api_reproduces_the_worked_example():
    leaves = {name: gradtrace.tensor(value, name=name) for name, value in WORKED_POINT.items()}
    w0, x0, w1, x1, w2 = (leaves[name] for name in ("w0", "x0", "w1", "x1", "w2"))
    y = 1 / (1 + gradtrace.exp(-(w0 * x0 + w1 * x1 + w2)))
    trace = y.backward()
    assert trace.value == pytest.approx(WORKED_VALUE, rel=1e-15)
    for name, expected in WORKED_GRADIENTS.items():
        assert float(leaves[name].grad) == pytest.approx(expected, rel=1e-12), name
        assert trace.gradients[name] == pytest.approx(expected, rel=1e-12), name
    parsed = from_text(SIGMOID)
    assert [node.op for node in trace.graph.ops] == [node.op for node in parsed.ops]


def test_acceptance_example_through_the_python_api():
    leaves = {name: gradtrace.tensor(np.array(value), name=name)
              for name, value in ACCEPTANCE_AT.items()}
    W, x, b = leaves["W"], leaves["x"], leaves["b"]
    trace = gradtrace.sum(gradtrace.relu(W @ x + b)).backward()
    assert trace.value == ACCEPTANCE_VALUE
    for name, expected in ACCEPTANCE_GRADIENTS.items():
        np.testing.assert_array_equal(leaves[name].grad, expected, err_msg=name)
        np.testing.assert_array_equal(trace.gradients[name], expected, err_msg=name)
    parsed = from_text(ACCEPTANCE)
    assert [node.op for node in trace.graph.ops] == [node.op for node in parsed.ops]


layers = st.tuples(st.integers(1, 4), st.integers(1, 4), st.integers(1, 4)).flatmap(
    lambda nkm: st.tuples(*[hnp.arrays(np.float64, shape, elements=st.floats(-3.0, 3.0))
                            for shape in ((nkm[0], nkm[1]), (nkm[1], nkm[2]),
                                          (nkm[0], nkm[2]))]))


@SETTINGS
@given(layer=layers)
def test_matmul_layer_gradients_are_x_transpose_g_and_g_w_transpose(layer):
    # seed 002's Matmul layer: h = x @ W, grad_W = x.T @ grad_h, grad_x = grad_h @ W.T
    x_value, w_value, grad_h = layer
    x, w = gradtrace.tensor(x_value, name="x"), gradtrace.tensor(w_value, name="W")
    h = x @ w
    (h * grad_h).sum().backward()  # d/dh of sum(h ⊙ grad_h) is grad_h
    np.testing.assert_allclose(w.grad, x_value.T @ grad_h, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(x.grad, grad_h @ w_value.T, rtol=1e-13, atol=1e-13)
