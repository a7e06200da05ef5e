"""The renderers on arrays: values, shapes, VJPs and the Jacobian view.

The acceptance example of issue 3, sum(relu(W@x+b)) at W = [[1, -2], [3, 4]], x = [1, 2],
b = [0.5, -10], by hand:
    h1 = W @ x = [1·1 − 2·2, 3·1 + 4·2] = [-3, 11]
    h2 = h1 + b = [-2.5, 1]
    h3 = relu(h2) = [0, 1]        (so the relu Jacobian is diag(0, 1))
    h4 = sum(h3) = 1
    grad_h3 = [1, 1], grad_h2 = grad_h1 = grad_b = [0, 1]
    grad_W = grad_h1 · xᵀ = [[0, 0], [1, 2]],  grad_x = Wᵀ · grad_h1 = [3, 4]
Every expected string below is written from that computation, not produced by the code.
"""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from gradtrace.cli import app
from gradtrace.render.dot import render_dot
from gradtrace.render.json import render_json
from trace_views import render_html, render_markdown
from gradtrace.narrate.numbers import fmt_array, shape_text
from trace_views import render_plain
from gradtrace.core.backprop import trace_graph
from gradtrace.expr.to_graph import graph_from_text as from_text
from gradtrace.jacobians.local import JacobianView
from gradtrace.ops import REGISTRY
from op_cases import EXAMPLE_POINT, row_for

EXPRESSION = "sum(relu(W@x+b))"
POINT = dict(W=np.array([[1.0, -2.0], [3.0, 4.0]]), x=np.array([1.0, 2.0]),
             b=np.array([0.5, -10.0]))
AT = ["--at", "W=[[1,-2],[3,4]]", "--at", "x=[1,2]", "--at", "b=[0.5,-10]"]

runner = CliRunner()


def run(*args):
    return runner.invoke(app, list(args), env={"NO_COLOR": "1"})


def explain(*options):
    result = run("explain", EXPRESSION, *AT, *options)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def trace():
    return trace_graph(from_text(EXPRESSION), POINT)


def line_with(text: str, fragment: str) -> str:
    lines = [line for line in text.splitlines() if fragment in line]
    assert lines, f"no line contains {fragment!r}:\n{text}"
    return lines[0]


def section(text: str, title: str) -> str:
    start = text.index(f"\n{title}\n")
    end = text.find("\n\n", start + 1)
    return text[start:end if end > 0 else None]


# -- one formatter for arrays ---------------------------------------------------------------

def test_few_entries_are_all_listed_as_nested_lists():
    assert fmt_array(np.array([[1, -2], [3, 4]])) == "[[1.00, -2.00], [3.00, 4.00]]"
    assert fmt_array(np.array([0.5, -10])) == "[0.50, -10.00]"
    assert fmt_array(np.array(2.5)) == "2.50"
    assert fmt_array(np.arange(16.0).reshape(4, 4), 0).startswith("[[0, 1, 2, 3], [4, 5")
    assert fmt_array(np.zeros((2, 0))) == "[[], []]"


def test_many_entries_are_summarised_by_shape_min_max_norm():
    big = np.full((300, 300), 0.5)
    big[0, 0], big[1, 1] = -2.0, 3.0
    # ‖·‖ = sqrt(89998 · 0.25 + 4 + 9) = sqrt(22512.5) = 150.04
    assert fmt_array(big) == "(300, 300) array: min -2.00, max 3.00, ‖·‖ 150.04"
    assert fmt_array(big, with_shape=False) == "min -2.00, max 3.00, ‖·‖ 150.04"
    assert fmt_array(np.ones(17)) == "(17,) array: min 1.00, max 1.00, ‖·‖ 4.12"


def test_shape_texts():
    assert [shape_text(s) for s in [(), (2,), (2, 3)]] == ["scalar", "(2,)", "(2, 3)"]


# -- the acceptance example: text -----------------------------------------------------------

FORWARD = [
    "h1 = W @ x = (2, 2) @ (2,) → (2,) = [-3.00, 11.00]",
    "h2 = h1 + b = [-3.00, 11.00] + [0.50, -10.00] = [-2.50, 1.00]",
    "h3 = relu(h2) = relu([-2.50, 1.00]) = [0.00, 1.00]",
    "h4 = sum(h3) = sum((2,)) → scalar = 1.00",
]

BACKWARD = [
    "h3 ← h4: grad_h3 = grad_h4 copied to every element summed = [1.00, 1.00]",
    "h2 ← h3: [1.00, 1.00] ⊙ [h2 > 0] (at h2 = [-2.50, 1.00]) = [1.00, 1.00] ⊙ [0.00, 1.00] "
    "= [0.00, 1.00]",
    "h1 ← h2: [0.00, 1.00] × 1 = [0.00, 1.00]",
    "b ← h2: [0.00, 1.00] × 1 = [0.00, 1.00]",
    "W ← h1: grad_W = grad_h1 · xᵀ = (2,) · (2,)ᵀ → (2, 2) "
    "= [[0.00, 0.00], [1.00, 2.00]]",
    "x ← h1: grad_x = Wᵀ · grad_h1 = (2, 2)ᵀ · (2,) → (2,) = [3.00, 4.00]",
]


@pytest.mark.parametrize("step", FORWARD)
def test_acceptance_forward_steps(step):
    assert step in explain("--no-check")


@pytest.mark.parametrize("step", BACKWARD)
def test_acceptance_backward_steps(step):
    assert step in explain("--no-check")


def test_acceptance_value_graph_and_gradients():
    text = explain()
    assert "f = h4 = 1.00" in text
    graph = section(text, "Graph")
    assert line_with(graph, "shape").split() == ["node", "op", "inputs", "shape", "value",
                                                  "gradient"]
    assert line_with(graph, "h1 ").split() == ["h1", "W", "@", "x", "W,", "x", "(2,)",
                                               "[-3.00,", "11.00]", "[0.00,", "1.00]"]
    assert line_with(graph, "h4 ").split() == ["h4", "sum(h3)", "h3", "scalar", "1.00", "1.00"]
    gradients = section(text, "Gradients")
    assert line_with(gradients, "x ").split()[:6] == ["x", "(2,)", "[1.00,", "2.00]",
                                                     "[3.00,", "4.00]"]
    assert line_with(gradients, "b ").split()[4:6] == ["[0.00,", "1.00]"]
    # a matrix cell is printed one row per line, as numpy prints it
    assert line_with(gradients, "W ").split()[:7] == ["W", "(2,", "2)", "[[1.00,", "-2.00],",
                                                     "[[0.00,", "0.00],"]
    assert "[1.00, 2.00]]" in gradients
    assert "scalar graphs only" in section(text, "Chain rule, path by path")


def test_acceptance_markdown():
    markdown = explain("--format", "markdown", "--no-check")
    assert "| node | op | inputs | shape | value | gradient |" in markdown
    assert "| h1 | W @ x | W, x | (2,) | \\[-3.00, 11.00\\] | \\[0.00, 1.00\\] |" in markdown
    assert ("- `x ← h1: grad_x = Wᵀ · grad_h1 = (2, 2)ᵀ · (2,) → (2,) = [3.00, 4.00]`"
            in markdown)
    assert "| W | (2, 2) | \\[\\[1.00, -2.00\\], \\[3.00, 4.00\\]\\] | " \
           "\\[\\[0.00, 0.00\\], \\[1.00, 2.00\\]\\] |" in markdown


def test_acceptance_json_has_exact_gradients_shapes_and_attrs():
    document = json.loads(explain("--format", "json"))
    assert document["schema"] == "gradtrace.trace/1"
    assert document["value"] == 1.0
    assert document["gradients"] == {"W": [[0.0, 0.0], [1.0, 2.0]], "x": [3.0, 4.0],
                                     "b": [0.0, 1.0]}
    nodes = {node["id"]: node for node in document["nodes"]}
    assert nodes["W"]["shape"] == [2, 2] and nodes["h4"]["shape"] == []
    assert nodes["h4"]["attrs"] == {} and "attrs" not in nodes["h1"]  # sum takes an axis
    forward = {step["node"]: step for step in document["steps"] if step["phase"] == "forward"}
    assert forward["h1"]["shape"] == [2] and forward["h1"]["input_shapes"] == [[2, 2], [2]]
    backward = [step for step in document["steps"] if step["phase"] == "backward"]
    to_x = next(step for step in backward if step["input"] == "x")
    assert to_x["local"]["formula"] == "Wᵀ · grad_h1" and to_x["local"]["value"] is None
    assert to_x["shape"] == [2] and to_x["upstream_shape"] == [2]
    assert to_x["downstream"] == [3.0, 4.0]
    assert "jacobian" not in to_x


def test_attributes_in_text_and_json():
    trace = trace_graph(from_text("sum(x[1:3], axis=0)"), dict(x=np.array([1.0, 2, 3, 4])))
    assert "h2 = sum(h1, axis=0) = sum((2,), axis=0) → scalar = 5.00" in render_plain(trace)
    assert "h1 = x[1:3] = (4,)[1:3] → (2,) = [2.00, 3.00]" in render_plain(trace)
    nodes = {node["id"]: node for node in json.loads(render_json(trace))["nodes"]}
    assert nodes["h1"]["attrs"] == {"key": ["1:3"]}
    assert nodes["h2"]["attrs"] == {"axis": 0}
    assert '<font point-size="8">axis=0</font>' in render_dot(trace)


def test_acceptance_dot_shows_shapes_values_and_gradients(trace):
    source = render_dot(trace)
    assert '"W" -> "h1 op" [label="(2, 2)"' in source
    assert '"x" -> "h1 op" [label="(2,)"' in source
    w_box = line_with(source, '"W" [')
    assert '<b>W</b> <font point-size="9">(2, 2)</font>' in w_box
    # a small matrix one row per line: value rows green, gradient rows red
    assert ('<font color="#1a7f37">[1.00, -2.00]</font><br/>'
            '<font color="#1a7f37">[3.00, 4.00]</font>') in w_box
    assert '<font color="#cf222e">[1.00, 2.00]</font>' in w_box
    assert '<font point-size="9">scalar</font>' in line_with(source, '"h4" [')


# -- the Jacobian view ----------------------------------------------------------------------

def test_jacobians_show_relu_as_diagonal_with_1_and_0():
    text = explain("--jacobians", "--no-check")
    jacobians = text[text.index("\nJacobians\n"):text.index("\nChain rule")]
    relu = jacobians[jacobians.index("h2 ← h3 (relu)"):jacobians.index("h1 ← h2 (add)")]
    assert "J = ∂h3/∂h2 is 2 × 2, diagonal, density 0.25" in relu
    assert line_with(relu, "h2[0]").split() == ["h2[0]", "h2[1]"]
    assert line_with(relu, "∂h3[0]").split() == ["∂h3[0]", "0.00", "0.00"]
    assert line_with(relu, "∂h3[1]").split() == ["∂h3[1]", "0.00", "1.00"]
    assert "    ··\n    ·█\n" in relu  # the sparsity pattern
    assert "grad_h2 = grad_h3 ⊙ [h2 > 0]" in relu
    assert "max |Jᵀ·grad_h3 − VJP| = 0.00" in relu
    matmul = jacobians[jacobians.index("x ← h1 (matmul)"):]
    assert line_with(matmul, "∂h1[1]").split() == ["∂h1[1]", "3.00", "4.00"]  # J is W
    assert "grad_x = Wᵀ · grad_h1" in matmul


def test_jacobians_in_json():
    document = json.loads(explain("--jacobians", "--format", "json", "--no-check"))
    backward = [step for step in document["steps"] if step["phase"] == "backward"]
    assert all("jacobian" in step for step in backward)
    relu = next(step for step in backward if step["op"] == "relu")
    assert relu["jacobian"]["shape"] == [2, 2]
    assert relu["jacobian"]["structure"] == "diagonal"
    assert relu["jacobian"]["matrix"] == [[0.0, 0.0], [0.0, 1.0]]
    assert relu["jacobian"]["max_difference"] == 0.0
    to_w = next(step for step in backward if step["input"] == "W")
    assert to_w["jacobian"]["shape"] == [2, 4]
    assert to_w["jacobian"]["matrix"] == [[1.0, 2.0, 0.0, 0.0], [0.0, 0.0, 1.0, 2.0]]


def test_jacobians_in_markdown_and_html(trace):
    view = relu_view()
    markdown = render_markdown(trace, jacobians=[view])
    assert "### Jacobians" in markdown
    assert "| ∂h3\\[1\\] | 0.00 | 1.00 |" in markdown
    assert "```text\n··\n·█\n```" in markdown
    fragment = render_html(trace, jacobians=[view])
    assert "<svg" in fragment and fragment.count("<rect") == 1  # one non-zero entry
    assert "<script" not in fragment


def relu_view(**changes):
    view = JacobianView("h3", "h2", "relu", (2, 2), np.array([[0.0, 0.0], [0.0, 1.0]]),
                        "diagonal", 0.25, "grad_h2 = grad_h3 ⊙ [h2 > 0]", 0.0)
    return view._replace(**changes)


def test_a_large_jacobian_is_described_not_listed(trace):
    view = relu_view(shape=(300, 90000), matrix=None, structure="block diagonal",
                     density=1 / 300, max_difference=None)
    text = render_plain(trace, jacobians=[view])
    assert ("h2 ← h3 (relu): J = ∂h3/∂h2 is 300 × 90000, block diagonal, density 0.0033"
            in text)
    assert "∂h3[0]" not in text
    assert "J was not built (too large), so there is nothing to compare" in text
    document = json.loads(render_json(trace, [view]))
    jacobian = next(step["jacobian"] for step in document["steps"] if "jacobian" in step)
    assert jacobian["matrix"] is None and jacobian["shape"] == [300, 90000]


def test_a_wide_jacobian_table_is_shown_transposed():
    trace = trace_graph(from_text("sum(x)"), dict(x=np.arange(16.0)))
    view = JacobianView("h1", "x", "sum", (1, 16), np.ones((1, 16)), "dense", 1.0,
                        "grad_x = grad_h1 copied to every element summed", 0.0)
    text = render_plain(trace, jacobians=[view])
    assert "Jᵀ shown (J is 1 × 16): one row per entry of x" in text
    assert line_with(text, "x[15]").split() == ["x[15]", "1.00"]


# -- big arrays, every op, determinism ------------------------------------------------------

def test_a_big_array_is_summarised_in_text_and_pictures():
    result = run("explain", "sum(tanh(W@x))", "--at", "W=randn(300,300)", "--at",
                 "x=randn(300)", "--no-check", "--format", "text")
    assert result.exit_code == 0, result.output
    text = result.output
    assert len(text) < 10_000  # 90,000 numbers would take ~500,000 characters
    assert "W = (300, 300) array: min " in text
    assert line_with(text, "W      input").split()[:4] == ["W", "input", "(300,", "300)"]
    assert "h1 = W @ x = (300, 300) @ (300,) → (300,) = (300,) array: min" in text
    big = trace_graph(from_text("sum(W * 2)"), dict(W=np.ones((300, 300))))
    for render in (render_plain, render_markdown, render_dot):
        assert len(render(big)) < 20_000
    document = json.loads(render_json(big))  # JSON keeps every number up to 100,000
    assert len(document["inputs"]["W"]) == 300


def test_json_summarises_an_array_of_more_than_100000_numbers():
    huge = trace_graph(from_text("sum(W * 2)"), dict(W=np.ones((400, 300))))
    document = json.loads(render_json(huge))
    assert document["inputs"]["W"] == {"shape": [400, 300], "min": 1.0, "max": 1.0,
                                       "mean": 1.0, "norm": 346.41016151377545,
                                       "not_finite": 0}


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_op_renders_in_every_format(name):
    """Each op's example expression, from its row in op_cases.py."""
    from gradtrace.jacobians.local import jacobian_views

    expression, extra = row_for(name).example
    graph = from_text(expression)
    point = {key: np.asarray(extra.get(key, EXAMPLE_POINT.get(key))) for key in graph.inputs}
    trace = trace_graph(graph, point)
    assert any(step.op == name for step in trace.forward)
    views = jacobian_views(trace)
    text = render_plain(trace, jacobians=views)
    assert "Jacobians" in text and "Forward pass" in text
    assert render_markdown(trace, jacobians=views) and render_html(trace, jacobians=views)
    assert render_dot(trace).startswith("digraph gradtrace {")
    document = json.loads(render_json(trace, views))
    assert all("jacobian" in step for step in document["steps"] if step["phase"] == "backward")


def test_same_input_same_bytes(trace):
    for options in (["--format", "text"], ["--format", "markdown"], ["--format", "json"]):
        assert explain("--jacobians", *options) == explain("--jacobians", *options)
    again = trace_graph(from_text(EXPRESSION), POINT)
    assert render_dot(trace) == render_dot(again)
    assert render_html(trace, jacobians=[relu_view()]) == render_html(again,
                                                                      jacobians=[relu_view()])
