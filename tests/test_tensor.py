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


# -- PyTorch-style autograd: custom Functions, explain_function --------------------------------

class Cube(gradtrace.autograd.Function):
    """x³, with its own backward"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x * x

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * 3 * x * x


class Scaled(gradtrace.autograd.Function):
    """a·x elementwise, a a number kept on the context"""

    elementwise = True
    formula = "{a}… scaled by ctx.scale"

    @staticmethod
    def forward(ctx, x, scale):
        ctx.scale = scale
        return x * scale

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * ctx.scale, None


def test_a_custom_function_is_one_narrated_step_with_what_it_saved():
    x = gradtrace.tensor(np.array([1.0, -2.0]), name="x")
    trace = Cube.apply(x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 12.0])  # 3x², by hand
    assert [node.op for node in trace.graph.ops] == ["Cube", "sum"]
    step = next(s for s in trace.backward if s.op == "Cube")
    assert step.formula == "grad_h1 · Cube.backward, for x from saved x"
    assert [name for name, _ in step.bindings] == ["x"]
    assert "Cube(x)" in trace.to_text()


def test_an_elementwise_function_shows_upstream_times_local_and_its_formula():
    x = gradtrace.tensor(np.array([1.0, 4.0]), name="x")
    trace = (Scaled.apply(x, 2.5) * np.array([1.0, 10.0])).sum().backward()
    step = next(s for s in trace.backward if s.op == "Scaled")
    np.testing.assert_array_equal(step.local, [2.5, 2.5])
    np.testing.assert_array_equal(step.downstream, [2.5, 25.0])
    assert step.formula.endswith("scaled by ctx.scale")


def test_explain_function_names_inputs_after_parameters_and_checks_them():
    def neuron(w, x, b):
        return gradtrace.sigmoid(w @ x + b)

    trace = gradtrace.explain_function(neuron, np.array([2.0, -3.0]), np.array([-1.0, -2.0]),
                                       -3.0)
    assert trace.graph.inputs == ("w", "x", "b")
    assert trace.value == pytest.approx(WORKED_VALUE, rel=1e-15)  # the notes' neuron
    np.testing.assert_allclose(trace.gradients["w"], [WORKED_GRADIENTS["w0"],
                                                      WORKED_GRADIENTS["w1"]], rtol=1e-12)
    assert {check.status for check in trace.checks} == {"agree"}


def test_explain_function_checks_a_custom_function_numerically():
    trace = gradtrace.explain_function(lambda v: Cube.apply(v).sum(), np.array([0.5, -1.5]))
    (check,) = trace.checks
    assert check.status == "agree"
    np.testing.assert_allclose(check.numeric, [0.75, 6.75], rtol=1e-8)


def test_gradcheck_reports_the_worst_element():
    class Wrong(gradtrace.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad_output):
            (x,) = ctx.saved_tensors
            return grad_output * x  # forgot the 2

    x = gradtrace.tensor(np.array([1.0, 3.0]), requires_grad=True)
    with pytest.raises(gradtrace.autograd.GradcheckError) as raised:
        gradtrace.autograd.gradcheck(Wrong.apply, (x,))
    message = str(raised.value)
    assert message.startswith("Jacobian mismatch for output 0 with respect to input 0")
    assert "worst element: output element 1, input element 1: analytical 3, numerical 6" in message
    assert not gradtrace.autograd.gradcheck(Wrong.apply, (x,), raise_exception=False)
