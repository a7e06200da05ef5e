"""An output that is not a single number: backprop needs the output's gradient to start from,
as PyTorch's backward(gradient=...) does. Without one, `explain` stops with a clear exit-2
message offering sum(...), an element and `gradtrace jacobian`; with --grad-output (Python:
grad_output=) the trace holds the gradients of Σ grad_output ⊙ f, and says where its seed came
from, in the narration and in the JSON.

Expected gradients are written from the math here (softmax's Jacobian diag(s) − s·sᵀ, the
derivative of tanh, a matrix product's transpose), never taken from gradtrace.
"""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

import gradtrace
from gradtrace.cli import app
from gradtrace.core.errors import UsageError

runner = CliRunner()


def run(*args):
    return runner.invoke(app, list(args), env={"NO_COLOR": "1"})


def softmax(a):
    e = np.exp(a - np.max(a))
    return e / e.sum()


def softmax_vjp(a, g):
    """Jᵀ·g with J = diag(s) − s·sᵀ: s ⊙ (g − s·g)."""
    s = softmax(np.asarray(a, dtype=float))
    return s * (g - np.dot(s, g))


# -- without an output gradient: exit 2 and the ways on -------------------------------------

VECTOR_OUTPUTS = [
    ("softmax(a)", ["a=[1,2,3]"], "(3,)", "softmax(a)[0]"),
    ("a*2 + 1", ["a=[1,2,3,4]"], "(4,)", "(a*2 + 1)[0]"),
    ("tanh(x)", ["x=[0.5,-1]"], "(2,)", "tanh(x)[0]"),
    ("W @ x", ["W=[[1,2],[3,4],[5,6]]", "x=[1,-1]"], "(3,)", "(W @ x)[0]"),
    ("exp(M)", ["M=[[1,2],[3,4]]"], "(2, 2)", "exp(M)[0, 0]"),
    ("relu(W @ x + b)", ["W=randn(4,3)", "x=randn(3)", "b=zeros(4)"], "(4,)", None),
    ("q = a*2\nf = q + a", ["a=[1,2]"], "(2,)", None),
]


@pytest.mark.parametrize("expression, at, shape, element", VECTOR_OUTPUTS)
def test_a_vector_output_without_an_output_gradient_is_a_usage_error(expression, at, shape,
                                                                      element):
    options = [option for value in at for option in ("--at", value)]
    result = run("explain", expression, *options)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    message = result.output
    assert "--grad-output" in message and f"shape {shape}" in message
    assert "not a single number" in message
    assert "gradtrace jacobian" in message
    assert "ones(" in message
    if element is not None:
        assert f"sum({expression})" in message and element in message


def test_the_python_api_names_the_parameter():
    with pytest.raises(UsageError) as raised:
        gradtrace.explain("softmax(a)", at={"a": [1.0, 2.0, 3.0]})
    assert raised.value.parameter == "grad_output"
    assert "sum(softmax(a))" in raised.value.message


def test_sum_and_an_element_are_scalars_and_need_no_output_gradient():
    for expression in ("sum(softmax(a))", "softmax(a)[0]"):
        result = run("explain", expression, "--at", "a=[1,2,3]", "--format", "json")
        assert result.exit_code == 0, result.output
        assert json.loads(result.output)["grad_output"] is None


# -- with one: the gradients of Σ grad_output ⊙ f --------------------------------------------

SEEDS = [
    ("[1,0,0]", np.array([1.0, 0.0, 0.0])),
    ("[0,0,1]", np.array([0.0, 0.0, 1.0])),
    ("ones(3)", np.ones(3)),
    ("[0.5,-2,1]", np.array([0.5, -2.0, 1.0])),
    ("2", np.full(3, 2.0)),  # a number stands for every element
]


@pytest.mark.parametrize("written, seed", SEEDS)
def test_grad_output_seeds_backprop(written, seed):
    a = np.array([1.0, 2.0, 3.0])
    result = run("explain", "softmax(a)", "--at", "a=[1,2,3]", "--grad-output", written,
                 "--format", "json", "--no-check")
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["grad_output"] == pytest.approx(list(seed))
    assert document["gradients"]["a"] == pytest.approx(list(softmax_vjp(a, seed)), abs=1e-15)


def test_grad_output_through_several_ops_and_a_matrix():
    W = np.array([[1.0, -2.0], [0.5, 3.0], [2.0, 1.0]])
    x = np.array([0.3, -0.4])
    g = np.array([1.0, -1.0, 0.5])
    trace = gradtrace.explain("tanh(W @ x)", at={"W": W, "x": x}, grad_output=g, check=False)
    upstream = g * (1 - np.tanh(W @ x) ** 2)
    np.testing.assert_allclose(trace.gradients["x"], W.T @ upstream, rtol=1e-12)
    np.testing.assert_allclose(trace.gradients["W"], np.outer(upstream, x), rtol=1e-12)
    np.testing.assert_array_equal(trace.grad_output, g)


def test_a_row_broadcasts_to_a_matrix_output():
    M = np.array([[1.0, 2.0], [3.0, 4.0]])
    trace = gradtrace.explain("M * 3", at={"M": M}, grad_output="[1, -1]", check=False)
    np.testing.assert_array_equal(trace.gradients["M"], [[3.0, -3.0], [3.0, -3.0]])
    np.testing.assert_array_equal(trace.grad_output, [[1.0, -1.0], [1.0, -1.0]])


def test_a_scalar_output_may_be_given_a_gradient_too():
    trace = gradtrace.explain("x**2", at={"x": 3.0}, grad_output=0.5, check=False)
    assert trace.gradients["x"] == pytest.approx(3.0)  # 0.5 · 2x
    plain = gradtrace.explain("x**2", at={"x": 3.0}, check=False)
    assert plain.grad_output is None


def test_ones_agrees_with_the_checks_of_sum_f():
    """The three-way check differentiates sum(f) for ones: all agree."""
    result = run("explain", "tanh(x) * 2", "--at", "x=[0.5,-1,2]", "--grad-output", "ones(3)",
                 "--format", "json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    x = np.array([0.5, -1.0, 2.0])
    assert document["gradients"]["x"] == pytest.approx(list(2 * (1 - np.tanh(x) ** 2)))


@pytest.mark.parametrize("written, why", [
    ("[1,0]", "shape (2,) does not fit the output, whose shape is (3,)"),
    ("ones(2,3)", "shape (2, 3) does not fit"),
    ("[1,0", "cannot read '[1,0'"),
    ("abc", "is not a number"),
    ("[1,inf,0]", "must be finite"),
])
def test_an_output_gradient_that_does_not_fit_is_a_usage_error(written, why):
    result = run("explain", "softmax(a)", "--at", "a=[1,2,3]", "--grad-output", written)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert "--grad-output" in result.output and why in result.output


def test_python_grad_output_that_does_not_fit():
    with pytest.raises(UsageError) as raised:
        gradtrace.explain("x**2", at={"x": 3.0}, grad_output=[1.0, 2.0])
    assert raised.value.parameter == "grad_output"


# -- the narration says where backprop starts --------------------------------------------------

def test_the_first_backward_line_says_the_seed_was_given():
    result = run("explain", "softmax(a)", "--at", "a=[1,2,3]", "--grad-output", "[1,0,0]",
                 "--format", "text", "--no-check")
    assert result.exit_code == 0, result.output
    backward = result.output.split("Backward pass")[1]
    first = next(line for line in backward.splitlines() if line.strip().startswith("∂h1/∂h1"))
    assert "[1.00, 0.00, 0.00]" in first
    assert "given grad_f" in first and "Σ grad_f ⊙ f" in first
    header = result.output.split("Graph")[0]
    assert "grad_f = [1.00, 0.00, 0.00]" in header


def test_a_scalar_output_still_starts_at_one():
    result = run("explain", "x*y", "--at", "x=2,y=3", "--format", "text", "--no-check")
    assert result.exit_code == 0, result.output
    first = next(line for line in result.output.splitlines() if "∂h1/∂h1" in line)
    assert first.split() == ["∂h1/∂h1", "=", "1.00", "the", "output's", "gradient", "starts",
                             "at", "1"]
    assert "grad_f" not in result.output


def test_a_trace_of_a_vector_seeded_with_ones_says_it_is_the_gradient_of_the_sum():
    """The engine's own default (trace_graph without grad_output) is ones: said, not hidden."""
    from gradtrace.core.backprop import trace_graph
    from gradtrace.expr.to_graph import graph_from_text

    trace = trace_graph(graph_from_text("a * 2"), {"a": np.array([1.0, 2.0])})
    text = trace.to_text()
    assert "ones: every gradient below is one of sum(f)" in text
    assert json.loads(trace.to_json())["grad_output"] == [1.0, 1.0]


def test_json_grad_output_is_null_for_a_scalar_and_bytes_are_stable():
    first = run("explain", "x*y", "--at", "x=2,y=3", "--format", "json")
    assert first.exit_code == 0, first.output
    assert json.loads(first.output)["grad_output"] is None
    args = ("explain", "softmax(a)", "--at", "a=[1,2,3]", "--grad-output", "[0,1,0]",
            "--format", "json", "--no-check")
    assert run(*args).output == run(*args).output


# -- forward mode and jacobian need no seed ----------------------------------------------------

def test_forward_mode_on_a_vector_output_is_fine():
    result = run("explain", "softmax(a)", "--at", "a=[1,2,3]", "--mode", "forward",
                 "--format", "text")
    assert result.exit_code == 0, result.output


def test_forward_mode_refuses_an_output_gradient():
    result = run("explain", "softmax(a)", "--at", "a=[1,2,3]", "--mode", "forward",
                 "--grad-output", "[1,0,0]")
    assert result.exit_code == 2, result.output
    assert "--grad-output" in result.output and "forward mode" in result.output


def test_jacobian_of_a_vector_output_is_fine():
    result = run("jacobian", "softmax(a)", "--at", "a=[1,2,3]")
    assert result.exit_code == 0, result.output


def test_help_shows_the_option():
    result = run("explain", "--help")
    assert result.exit_code == 0, result.output
    assert "--grad-output" in result.output


def test_a_scalar_output_given_a_gradient_says_so_down_to_the_chain_rule():
    result = run("explain", "x*y + x", "--at", "x=2,y=3", "--grad-output", "0.5", "--format",
                 "text", "--no-check")
    assert result.exit_code == 0, result.output
    assert "grad_f · f" in result.output
    lines = [line.split() for line in result.output.splitlines()]
    assert ["∂f/∂x", "(path", "1)", "=", "0.50", "×", "1", "×", "3", "=", "1.50", "h2", "→",
            "h1", "→", "x"] in lines
    assert ["∂f/∂x", "=", "1.50", "+", "0.50", "=", "2.00", "gradients", "from", "2", "paths",
            "add"] in lines  # 0.5 · (y + 1)
