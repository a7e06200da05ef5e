"""gradtrace.core.forward_mode: the JVP pass, and forward mode on the worked example (one pass
per input, each giving one derivative), against the notes' numbers.
"""

import numpy as np
import pytest

from gradtrace.core.backprop import evaluate
from gradtrace.core.forward_mode import jvp_pass
from gradtrace.expr.pipeline import explain_forward
from gradtrace.expr.to_graph import graph_from_text as from_text

SIGMOID = "1/(1+exp(-(w0*x0+w1*x1+w2)))"
SIGMOID_GRADIENTS = {"w0": -0.19661193324148185, "x0": 0.3932238664829637,
                     "w1": -0.3932238664829637, "x1": -0.5898357997244456,
                     "w2": 0.19661193324148185}


def test_jvp_pass_broadcasts_a_scalar_tangent():
    # f = x * v with x a scalar: df/dx = v, one forward pass with ẋ = 1.
    graph = from_text("x * v")
    v = np.array([1.0, -2.0, 3.0])
    values = evaluate(graph, {"x": np.asarray(2.0), "v": v})
    np.testing.assert_array_equal(jvp_pass(graph, values, {"x": np.asarray(1.0)}), v)
    np.testing.assert_array_equal(jvp_pass(graph, values, {}), np.zeros(3))


def test_forward_mode_gives_the_worked_example_gradients():
    report = explain_forward(SIGMOID, {"w0": 2, "x0": -1, "w1": -3, "x1": -2, "w2": -3})
    derivatives = {one.input: float(one.derivative) for one in report.passes}
    assert derivatives == pytest.approx(SIGMOID_GRADIENTS, rel=1e-12)
    h1 = report.passes[0].steps[0]
    assert (h1.node, float(h1.tangent)) == ("h1", -1.0)  # ẇ0·x0 + ẋ0·w0 = 1 × -1 + 0 × 2
