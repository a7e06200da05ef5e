"""gradtrace.jacobians: the Jacobian view of each backward step (its matrix, structure,
picture and the VJP formula it stands for) and whole-graph Jacobians both ways.

Expected values come from hand computation or an independent formula: the Jacobian of tanh(W@x)
is diag(1 − tanh²(W@x))·W, of relu diag([z > 0]), of softmax diag(s) − s sᵀ, of W@x with
respect to W the Kronecker product I ⊗ xᵀ.
"""

import numpy as np
import pytest

from gradtrace.core.backprop import trace_graph
from gradtrace.core.errors import UsageError
from gradtrace.expr.pipeline import explain
from gradtrace.expr.to_graph import graph_from_text as from_text
from gradtrace.jacobians.full import full_jacobian
from gradtrace.jacobians.local import jacobian_view, jacobian_views
from gradtrace.jacobians.structure import classify
from gradtrace.narrate.pictures import sparsity_picture

RNG = np.random.default_rng(3)
RELU_POINT = {"W": np.array([[1.0, -2.0], [3.0, 4.0]]), "x": np.array([1.0, 2.0]),
              "b": np.array([0.5, -10.0])}
SIGMOID = "1/(1+exp(-(w0*x0+w1*x1+w2)))"


def view_for(trace, node, source):
    step = next(s for s in trace.backward if s.node == node and s.input == source)
    return jacobian_view(trace, step)


# -- local Jacobians of backward steps -----------------------------------------------------


def test_relu_jacobian_is_diagonal_with_entries_0_and_1():
    # z = W@x + b = [1 - 4 + 0.5, 3 + 8 - 10] = [-2.5, 1]: relu passes only the second.
    trace = explain("sum(relu(W@x+b))", RELU_POINT, check=False)
    relu = next(v for v in jacobian_views(trace) if v.op == "relu")
    assert relu.structure == "diagonal"
    np.testing.assert_array_equal(relu.matrix, [[0.0, 0.0], [0.0, 1.0]])
    assert relu.density == 0.25
    assert sparsity_picture(relu.matrix) == ("··", "·█")
    assert relu.max_difference == 0.0
    assert relu.vjp_formula == "grad_h2 = grad_h3 ⊙ [h2 > 0]"


def test_views_come_one_per_backward_step_in_order():
    trace = explain("sum(relu(W@x+b))", RELU_POINT, check=False)
    views = jacobian_views(trace)
    assert [(v.node, v.input) for v in views] == [(s.node, s.input) for s in trace.backward]
    assert [v.shape for v in views] == [(1, 2), (2, 2), (2, 2), (2, 2), (2, 4), (2, 2)]


@pytest.mark.parametrize("expression, shapes", [
    ("W@x", {"W": (3, 4), "x": (4,)}),
    ("x@W", {"x": (3,), "W": (3, 5)}),
    ("X@W", {"X": (2, 3), "W": (3, 4)}),
    ("A@B", {"A": (2, 2, 3), "B": (3, 2)}),  # batched, B broadcast over the batch
])
def test_matmul_views_match_the_vjp(expression, shapes):
    point = {name: RNG.standard_normal(shape) for name, shape in shapes.items()}
    trace = trace_graph(from_text(expression), point)
    views = jacobian_views(trace)
    assert len(views) == 2
    for view in views:
        assert view.matrix is not None
        assert view.max_difference == pytest.approx(0.0, abs=1e-12)


def test_matmul_jacobians_are_w_and_the_kronecker_product():
    W, x = RNG.standard_normal((3, 4)), RNG.standard_normal(4)
    trace = trace_graph(from_text("W@x"), {"W": W, "x": x})
    wrt_w, wrt_x = view_for(trace, "h1", "W"), view_for(trace, "h1", "x")
    np.testing.assert_allclose(wrt_x.matrix, W)
    np.testing.assert_allclose(wrt_w.matrix, np.kron(np.eye(3), x[np.newaxis, :]))
    assert wrt_w.structure == "block diagonal"
    assert "Kronecker" in wrt_w.description and "B = xᵀ" in wrt_w.description
    assert wrt_w.vjp_formula == "grad_W = grad_h1 · xᵀ"
    assert wrt_x.vjp_formula == "grad_x = Wᵀ · grad_h1"


def test_softmax_jacobian_is_diag_s_minus_s_s_transpose():
    z = np.array([0.5, -1.0, 2.0, 0.0])
    trace = trace_graph(from_text("sum(softmax(z) * c)"), {"z": z, "c": RNG.standard_normal(4)})
    view = view_for(trace, "h1", "z")
    s = np.exp(z) / np.sum(np.exp(z))
    np.testing.assert_allclose(view.matrix, np.diag(s) - np.outer(s, s), atol=1e-15)
    assert view.structure == "dense"
    assert view.max_difference == pytest.approx(0.0, abs=1e-15)


def test_broadcast_input_is_differentiated_through_its_own_elements():
    # b has shape (3,) and is added to every row of X (2, 3): J is [I; I], 6 × 3.
    trace = trace_graph(from_text("sum((X + b) * c)"), {
        "X": RNG.standard_normal((2, 3)), "b": RNG.standard_normal(3),
        "c": RNG.standard_normal((2, 3))})
    view = view_for(trace, "h1", "b")
    np.testing.assert_array_equal(view.matrix, np.vstack([np.eye(3), np.eye(3)]))
    assert view.structure == "selection"
    assert "summed back" in view.vjp_formula
    assert view.max_difference == pytest.approx(0.0, abs=1e-14)


def test_transpose_is_a_permutation_and_indexing_a_selection():
    trace = trace_graph(from_text("sum(X.T[0] * c)"), {
        "X": RNG.standard_normal((2, 3)), "c": RNG.standard_normal(2)})
    structures = {view.op: view.structure for view in jacobian_views(trace)}
    assert structures["transpose"] == "permutation"
    assert structures["index"] == "selection"


def test_scalar_steps_are_1_by_1():
    trace = explain(SIGMOID, {"w0": 2, "x0": -1, "w1": -3, "x1": -2, "w2": -3}, check=False)
    view = view_for(trace, "h8", "h7")
    assert view.shape == (1, 1)
    assert view.matrix[0, 0] == pytest.approx(-1 / 1.3678794411714423**2)
    assert view.structure == "diagonal"


def test_large_jacobian_is_described_not_built():
    trace = trace_graph(from_text("sum(tanh(x))"), {"x": RNG.standard_normal(2000)})
    view = view_for(trace, "h1", "x")
    assert view.matrix is None and view.max_difference is None
    assert view.shape == (2000, 2000)
    assert view.structure == "diagonal" and view.density == pytest.approx(1 / 2000)
    assert "not built" in view.description


# -- structure and picture -------------------------------------------------------------------


def test_classify_names_structures():
    assert classify(np.zeros((2, 3)))[0] == "zero"
    assert classify(np.eye(4)[[2, 0, 3, 1]])[0] == "permutation"
    assert classify(np.kron(np.eye(3), np.array([[1.0, 2.0]])))[0] == "block diagonal"
    assert classify(np.kron(np.array([[1.0, 2.0], [3.0, 4.0]]), np.eye(3)))[0] == \
        "diagonal blocks"
    tridiagonal = np.eye(8) * 2 + np.eye(8, k=1) + np.eye(8, k=-1)
    assert classify(tridiagonal)[0] == "banded"
    assert classify(np.ones((3, 3)))[0] == "dense"


def test_picture_is_shrunk_to_64_cells_a_side():
    picture = sparsity_picture(np.eye(100))
    assert len(picture) == 64 and all(len(row) == 64 for row in picture)
    assert picture[0].startswith("█·") and picture[-1].endswith("·█")
    assert sparsity_picture(np.zeros((0, 3))) == ()


# -- the whole Jacobian ----------------------------------------------------------------------


def test_full_jacobian_of_tanh_w_x_both_ways():
    graph = from_text("tanh(W@x)")
    W, x = RNG.standard_normal((3, 4)), RNG.standard_normal(4)
    result = full_jacobian(graph, {"W": W, "x": x}, "x")
    analytic = np.diag(1 - np.tanh(W @ x) ** 2) @ W
    assert (result.reverse_passes, result.forward_passes) == (3, 4)
    np.testing.assert_allclose(result.reverse, analytic, rtol=1e-12)
    np.testing.assert_allclose(result.forward, analytic, rtol=1e-12)
    assert result.max_difference <= 1e-12


def test_full_jacobian_refuses_more_than_4_million_entries():
    graph = from_text("x * 2")
    with pytest.raises(UsageError, match="4,000,000"):
        full_jacobian(graph, {"x": np.zeros(2001)}, "x")
