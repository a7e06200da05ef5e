"""gradtrace.expr.fuse: --fuse turns the worked example's chain into one sigmoid gate with the
same gradients.
"""

from __future__ import annotations

import pytest

from gradtrace.expr.pipeline import explain

SIGMOID = "1/(1+exp(-(w0*x0+w1*x1+w2)))"
WORKED_POINT = {"w0": 2.0, "x0": -1.0, "w1": -3.0, "x1": -2.0, "w2": -3.0}
WORKED_GRADIENTS = {"w0": -0.19661193324148185, "x0": 0.3932238664829637,
                    "w1": -0.3932238664829637, "x1": -0.5898357997244456,
                    "w2": 0.19661193324148185}


def test_fuse_gives_one_sigmoid_gate_with_the_same_gradients():
    unfused = explain(SIGMOID, WORKED_POINT, check=False)
    fused = explain(SIGMOID, WORKED_POINT, fuse=True, check=False)
    sigmoid_nodes = [node for node in fused.graph.ops if node.op == "sigmoid"]
    assert len(sigmoid_nodes) == 1
    assert [node.op for node in fused.graph.ops] == ["mul", "mul", "add", "add", "sigmoid"]
    (step,) = [s for s in fused.backward if s.node == sigmoid_nodes[0].id]
    assert float(step.local) == pytest.approx(0.19661193324148185, rel=1e-15)
    assert fused.value == unfused.value
    for name, gradient in unfused.gradients.items():
        # the same numbers up to rounding: the chains of products differ in order
        assert fused.gradients[name] == pytest.approx(gradient, rel=1e-12), name
        assert fused.gradients[name] == pytest.approx(WORKED_GRADIENTS[name], rel=1e-12), name
