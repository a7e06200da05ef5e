"""The losses keep PyTorch's conventions and say them: mse is a mean where the notes write
½Σ(y − t)², cross_entropy takes logits where the notes' −Σ t·log y takes probabilities. The
narration (a "Loss conventions" section) and the JSON (`losses`, `warnings`) give both numbers,
and warn when cross_entropy is given rows that look like probabilities. nll_loss and
binary_cross_entropy are PyTorch's, and every loss takes reduction= mean, sum or none.

Every expected number is computed here with numpy from the definitions, never by gradtrace.
"""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

import gradtrace
from gradtrace.cli import app
from gradtrace.core.errors import ParseError
from gradtrace.expr.parse import parse
from gradtrace.ops import REGISTRY

runner = CliRunner()
LOSSES = ("mse", "cross_entropy", "nll_loss", "binary_cross_entropy",
          "binary_cross_entropy_with_logits")


def run(*args):
    return runner.invoke(app, list(args), env={"NO_COLOR": "1"})


def four(x: float) -> str:
    return f"{x:.4f}"


def log_softmax(z):
    z = np.asarray(z, dtype=float)
    shifted = z - z.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def _reads_words() -> bool:
    try:
        parse("mse(x, y, reduction=sum)")
    except ParseError:
        return False
    return True


# The expression language has no strings: reduction=sum is a bare word, read by the parser
# (gradtrace/expr/parse.py). These tests run once it does.
needs_words = pytest.mark.skipif(not _reads_words(),
                                 reason="the parser does not read word attributes yet")

# y − t: squares 0.09, 0.04, 0.04, 0.01, 0.01, 0.0025, 0.0025 and three zeros: Σ = 0.195
T = np.array([1.0, 0, 0, 1, 0, 1, 0, 0, 1, 0])
Y = T + np.array([0.3, 0.2, 0.2, 0.1, 0.1, 0.05, 0.05, 0, 0, 0])
MSE_AT = "y=[" + ",".join(map(repr, Y.tolist())) + "],t=[" + ",".join(map(repr, T.tolist())) + "]"


def loss_line(output: str, node: str = "h1") -> str:
    section = output.split("Loss conventions")[1].split("Backward pass")[0]
    return next(line for line in section.splitlines() if line.strip().startswith(f"{node} = "))


# -- mse: a mean, beside the notes' ½Σ(y − t)² -------------------------------------------------

def test_mse_says_it_is_a_mean_and_gives_the_notes_half_sum():
    result = run("explain", "mse(y, t)", "--at", MSE_AT, "--format", "text")
    assert result.exit_code == 0, result.output
    squares = (Y - T) ** 2
    assert four(squares.mean()) == "0.0195" and four(squares.sum() / 2) == "0.0975"
    line = loss_line(result.output)
    assert "reduction=mean, the mean of (y − t)² over its N = 10 elements" in line
    assert (f"the notes' ½Σ(y − t)² is {four(squares.sum() / 2)} here; mse is the mean, "
            f"{four(squares.mean())}") in line


@pytest.mark.parametrize("y, t", [([0.5, -1.0, 2.0], [0.0, 0.0, 1.0]), ([[1.0, 2.0]], 0.5),
                                  (3.0, 1.0)])
def test_mse_json_gives_both_numbers(y, t):
    trace = gradtrace.explain("mse(y, t)", at={"y": y, "t": t}, check=False)
    document = json.loads(trace.to_json())
    squares = (np.asarray(y) - np.asarray(t)) ** 2
    (loss,) = document["losses"]
    assert loss["op"] == "mse" and loss["reduction"] == "mean"
    assert loss["terms"] == squares.size
    assert loss["notes"]["form"] == "½Σ(y − t)²"
    assert loss["notes"]["value"] == pytest.approx(squares.sum() / 2)
    assert document["value"] == pytest.approx(squares.mean())
    assert loss["warning"] is None and document["warnings"] == []


def test_two_elements_make_the_mean_the_notes_half_sum():
    result = run("explain", "mse(y, t)", "--at", "y=[1,2],t=[0,0]", "--format", "text")
    assert result.exit_code == 0, result.output
    assert "the same number as the notes' ½Σ(y − t)² here" in loss_line(result.output)


# -- cross_entropy: logits, and a warning for probabilities ------------------------------------

PROBABILITIES = [
    ("[0.1,0.6,0.3]", "[0,1,0]", 1),
    ("[0.1,0.6,0.3]", "1", 1),
    ("[[0.7,0.2,0.1],[0.25,0.25,0.5]]", "[0,2]", 2),
    ("[[0.9,0.1],[0.4,0.6]]", "[[1,0],[0,1]]", 2),
]


@pytest.mark.parametrize("p, t, rows", PROBABILITIES)
def test_cross_entropy_warns_when_given_probabilities(p, t, rows):
    result = run("explain", "cross_entropy(p, t)", "--at", f"p={p},t={t}", "--format", "json")
    assert result.exit_code == 0, result.output  # a warning, not a failure
    document = json.loads(result.output)
    probabilities = np.array(json.loads(p), dtype=float)
    target = np.array(json.loads(t), dtype=float)
    one_hot = target if target.shape == probabilities.shape else \
        np.eye(probabilities.shape[-1])[target.astype(int)]
    as_logits = -np.sum(one_hot * log_softmax(probabilities)) / rows
    notes = -np.sum(one_hot * np.log(probabilities))
    assert document["value"] == pytest.approx(as_logits)
    (warning,) = document["warnings"]
    assert warning["op"] == "cross_entropy" and warning["node"] == "h1"
    why = warning["why"]
    assert "cross_entropy takes logits (it applies softmax itself)" in why
    assert "look like probabilities" in why
    assert f"nll_loss(log(p), t) gives {four(notes / rows)}" in why or \
        "nll_loss(log(p), t) or the notes' " in why
    assert four(notes / rows) in why and four(notes) in why


def test_cross_entropy_of_probabilities_in_the_narration():
    result = run("explain", "cross_entropy(y, t)", "--at", "y=[0.1,0.6,0.3],t=[0,1,0]",
                 "--format", "text")
    assert result.exit_code == 0, result.output
    line = loss_line(result.output)
    assert "cross_entropy takes logits (it applies softmax itself)" in line
    assert "⚠" in line
    assert (f"nll_loss(log(y), t) or the notes' -sum(t*log(y)) gives {four(-np.log(0.6))}"
            in line)


@pytest.mark.parametrize("z, t", [("[2.0,-1.0,0.5]", "0"), ("[[1,2,3],[0.5,-1,2]]", "[2,0]"),
                                  ("[0.2,0.3,0.4]", "2")])  # in [0, 1] but summing to 0.9
def test_cross_entropy_of_logits_gives_no_warning(z, t):
    result = run("explain", "cross_entropy(z, t)", "--at", f"z={z},t={t}", "--format", "json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["warnings"] == []
    logits = np.array(json.loads(z), dtype=float)
    labels = np.atleast_1d(np.array(json.loads(t), dtype=int))
    rows = log_softmax(logits.reshape(-1, logits.shape[-1]))
    picked = -rows[np.arange(len(labels)), labels]
    (loss,) = document["losses"]
    assert document["value"] == pytest.approx(picked.mean())
    assert loss["notes"]["value"] == pytest.approx(picked.sum())
    assert "cross_entropy takes logits (it applies softmax itself)" in loss["convention"]


def test_nll_loss_of_log_softmax_is_cross_entropy():
    z = np.array([[1.0, 2.0, 3.0], [0.5, -1.0, 2.0], [0.0, 0.0, 1.0]])
    labels = np.array([2, 0, 1])
    expected = -log_softmax(z)[np.arange(3), labels].mean()
    for expression in ("cross_entropy(z, t)", "nll_loss(log_softmax(z), t)"):
        trace = gradtrace.explain(expression, at={"z": z, "t": labels.astype(float)})
        assert trace.value == pytest.approx(expected)
        assert trace.ok
        assert all(check.status == "agree" for check in trace.checks)


def test_nll_loss_of_probabilities_warns():
    result = run("explain", "nll_loss(p, t)", "--at", "p=[[0.2,0.8],[0.5,0.5]],t=[1,0]",
                 "--format", "json")
    assert result.exit_code == 0, result.output
    (warning,) = json.loads(result.output)["warnings"]
    assert "nll_loss takes log-probabilities" in warning["why"]
    assert four(-(np.log(0.8) + np.log(0.5)) / 2) in warning["why"]


# -- binary cross-entropy of probabilities -----------------------------------------------------

def test_binary_cross_entropy_of_probabilities():
    p, y = np.array([0.2, 0.9, 0.6]), np.array([0.0, 1.0, 1.0])
    trace = gradtrace.explain("binary_cross_entropy(p, y)", at={"p": p, "y": y})
    terms = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    assert trace.value == pytest.approx(terms.mean())
    np.testing.assert_allclose(trace.gradients["p"], (p - y) / (p * (1 - p)) / 3, rtol=1e-12)
    assert trace.ok and all(check.status == "agree" for check in trace.checks)


def test_binary_cross_entropy_of_sigmoid_is_the_logits_version():
    z, y = np.array([0.5, -2.0, 1.5]), np.array([1.0, 0.0, 0.3])
    ours = gradtrace.explain("binary_cross_entropy(sigmoid(z), y)", at={"z": z, "y": y})
    logits = gradtrace.explain("binary_cross_entropy_with_logits(z, y)", at={"z": z, "y": y})
    sigma = 1 / (1 + np.exp(-z))
    expected = np.mean(-(y * np.log(sigma) + (1 - y) * np.log(1 - sigma)))
    assert ours.value == pytest.approx(expected) and logits.value == pytest.approx(expected)
    np.testing.assert_allclose(ours.gradients["z"], (sigma - y) / 3, rtol=1e-10)
    np.testing.assert_allclose(logits.gradients["z"], (sigma - y) / 3, rtol=1e-12)


def test_binary_cross_entropy_outside_zero_one_says_why():
    result = run("explain", "binary_cross_entropy(p, y)", "--at", "p=[0.5,2.0],y=[0,1]",
                 "--format", "json", "--no-check")
    document = json.loads(result.output)
    assert "binary_cross_entropy takes probabilities in [0, 1]" in document["problems"][0]["why"]
    (warning,) = document["warnings"]
    assert "binary_cross_entropy_with_logits(p, y)" in warning["why"]
    z, y = np.array([0.5, 2.0]), np.array([0.0, 1.0])
    expected = np.mean(np.log1p(np.exp(z)) - y * z)
    assert four(expected) in warning["why"]


def test_probabilities_at_zero_and_one_give_pytorchs_floor():
    """PyTorch takes each log as at least −100: p = 0 with target 1 costs 100, not inf."""
    value = REGISTRY["binary_cross_entropy"].evaluate((np.array([0.0, 1.0]),
                                                       np.array([1.0, 1.0])), {})
    assert float(value) == pytest.approx(50.0)


# -- reduction: mean, sum, none ------------------------------------------------------------------

def _cases():
    rng = np.random.default_rng(5)
    z = rng.normal(size=(3, 4))
    labels = np.array([1.0, 3.0, 0.0])
    one_hot = np.eye(4)[labels.astype(int)]
    p = rng.uniform(0.1, 0.9, size=(2, 3))
    y = rng.uniform(0.0, 1.0, size=(2, 3))
    pred, target = rng.normal(size=(2, 3)), rng.normal(size=3)
    sigma = 1 / (1 + np.exp(-z))
    return [
        ("mse", (pred, target), (pred - target) ** 2),
        ("cross_entropy", (z, labels), -np.sum(one_hot * log_softmax(z), axis=-1)),
        ("cross_entropy", (z, one_hot), -np.sum(one_hot * log_softmax(z), axis=-1)),
        ("nll_loss", (log_softmax(z), labels), -np.sum(one_hot * log_softmax(z), axis=-1)),
        ("binary_cross_entropy", (p, y), -(y * np.log(p) + (1 - y) * np.log(1 - p))),
        ("binary_cross_entropy_with_logits", (z, one_hot),
         -(one_hot * np.log(sigma) + (1 - one_hot) * np.log(1 - sigma))),
    ]


@pytest.mark.parametrize("name, inputs, terms", _cases())
def test_reductions_are_pytorchs(name, inputs, terms):
    op = REGISTRY[name]
    np.testing.assert_allclose(op.evaluate(inputs, {}), terms.mean(), rtol=1e-12)
    np.testing.assert_allclose(op.evaluate(inputs, {"reduction": "mean"}), terms.mean(),
                               rtol=1e-12)
    np.testing.assert_allclose(op.evaluate(inputs, {"reduction": "sum"}), terms.sum(),
                               rtol=1e-12)
    none = op.evaluate(inputs, {"reduction": "none"})
    assert none.shape == terms.shape
    np.testing.assert_allclose(none, terms, rtol=1e-12)


@pytest.mark.parametrize("name, inputs, terms", _cases())
def test_every_loss_takes_reduction_and_says_so_in_its_usage(name, inputs, terms):
    op = REGISTRY[name]
    assert op.attrs == {"reduction": "mean"}
    assert "reduction=mean" in op.usage
    with pytest.raises(ValueError, match="mean, sum or none"):
        op.evaluate(inputs, {"reduction": "avg"})


def test_the_table_of_cases_covers_every_loss():
    assert {name for name, _, _ in _cases()} == set(LOSSES)


def test_reduction_sum_gradients_are_not_divided():
    z, labels = np.array([[1.0, 2.0], [0.0, -1.0]]), np.array([1.0, 0.0])
    op = REGISTRY["cross_entropy"]
    out = op.evaluate((z, labels), {"reduction": "sum"})
    (grad, _) = op.vjp(np.asarray(1.0), (z, labels), out, (True, False), {"reduction": "sum"})
    softmax = np.exp(log_softmax(z))
    np.testing.assert_allclose(grad, softmax - np.eye(2)[[1, 0]], rtol=1e-12)


def test_the_ops_listing_shows_the_new_losses_and_their_reduction():
    result = run("ops", "--format", "json")
    assert result.exit_code == 0, result.output
    rows = {row["name"]: row for row in json.loads(result.output)}
    for name in LOSSES:
        assert "reduction=mean" in rows[name]["usage"]


@needs_words
@pytest.mark.parametrize("reduction, combine", [("mean", np.mean), ("sum", np.sum)])
def test_reduction_written_as_a_word_in_an_expression(reduction, combine):
    squares = (Y - T) ** 2
    result = run("explain", f"mse(y, t, reduction={reduction})", "--at", MSE_AT,
                 "--format", "json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["value"] == pytest.approx(combine(squares))
    assert document["losses"][0]["reduction"] == reduction
    assert all(check["agree"] for check in document["checks"].values())


@needs_words
def test_reduction_none_is_a_vector_and_needs_an_output_gradient():
    expression = "cross_entropy(z, t, reduction=none)"
    at = "z=[[1,2,3],[0.5,-1,2]],t=[2,0]"
    result = run("explain", expression, "--at", at)
    assert result.exit_code == 2 and "--grad-output" in result.output
    result = run("explain", expression, "--at", at, "--grad-output", "[1,0]", "--format",
                 "json", "--no-check")
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    softmax = np.exp(log_softmax([1.0, 2.0, 3.0]))
    np.testing.assert_allclose(document["gradients"]["z"],
                               [softmax - [0, 0, 1], [0.0, 0.0, 0.0]], rtol=1e-12, atol=1e-15)


@needs_words
@pytest.mark.parametrize("written, why", [("mse(y, t, reduction=avg)", "mean, sum or none"),
                                          ("mse(y, t, reduction=2)", "takes a word")])
def test_an_unknown_reduction_is_a_usage_error(written, why):
    result = run("explain", written, "--at", "y=[1,2],t=[0,0]")
    assert result.exit_code == 2, result.output
    assert why in result.output and "Traceback" not in result.output


def test_reduction_through_the_python_api():
    y = gradtrace.tensor(np.array([1.0, 2.0, 4.0]), name="y")
    loss = gradtrace.mse(y, np.zeros(3), reduction="sum")
    loss.backward()
    np.testing.assert_allclose(y.grad, [2.0, 4.0, 8.0])


# -- class indices through the Python API: read as integers, checked, never promoted ----------

def _reference_cross_entropy(logits: np.ndarray, labels) -> tuple[float, np.ndarray]:
    """Mean −log softmax(z)[t] and its gradient, written out in float64 for the check."""
    z = logits.astype(np.float64)
    shifted = z - z.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    rows = np.arange(len(labels))
    grad = np.exp(log_p)
    grad[rows, labels] -= 1
    return float(-log_p[rows, labels].mean()), grad / len(labels)


@pytest.mark.parametrize("label_type", [np.int64, np.int32, np.uint8, np.float32])
@pytest.mark.parametrize("function", ["cross_entropy", "nll_loss"])
def test_class_indices_of_any_number_type_give_the_same_loss_and_gradient(label_type, function):
    rng = np.random.default_rng(3)
    logits = rng.standard_normal((6, 4)).astype(np.float32)
    labels = np.array([0, 3, 1, 1, 2, 0])
    expected_loss, expected_grad = _reference_cross_entropy(logits, labels)
    z = gradtrace.tensor(logits, requires_grad=True)
    F = gradtrace.nn.functional
    loss = (F.cross_entropy(z, labels.astype(label_type)) if function == "cross_entropy"
            else F.nll_loss(F.log_softmax(z, dim=1), labels.astype(label_type)))
    loss.backward()
    assert loss.dtype == np.float32 and z.grad.dtype == np.float32
    assert loss.item() == pytest.approx(expected_loss, rel=1e-6)
    np.testing.assert_allclose(z.grad.value, expected_grad, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("labels, why", [
    (np.array([0.5, 1.0]), "class indices"),         # not whole numbers
    (np.array([0, 4]), "0..3"),                      # past the last class
    (np.array([-1, 0]), "0..3"),                     # below the first
    (np.array([[0, 1]]), "class indices"),           # the wrong shape
])
def test_class_indices_are_still_checked(labels, why):
    z = gradtrace.tensor(np.zeros((2, 4), dtype=np.float32), requires_grad=True)
    with pytest.raises(ValueError, match=why.replace(".", r"\.")):
        gradtrace.nn.functional.cross_entropy(z, labels)


def test_integer_class_indices_keep_their_type_in_the_trace():
    z = gradtrace.tensor(np.array([[2.0, 0.5, -1.0]], dtype=np.float32), requires_grad=True)
    trace = gradtrace.nn.functional.cross_entropy(z, np.array([2])).backward()
    target = [node for node in trace.nodes if node.kind == "const"]
    assert [node.value.dtype.kind for node in target] == ["i"]
    assert trace.values[trace.output].dtype == np.float32


@pytest.mark.parametrize("labels, kind, says", [
    (np.array([0.5, 1.0, 0.0, 2.0]), ValueError, "class indices must be whole numbers, not 0.5"),
    (np.array([np.nan, 1.0, 1.0, 1.0]), ValueError, "must be whole numbers, not nan"),
    (np.array([0, 3, 1, 2]), IndexError, "Target 3 is out of bounds."),      # PyTorch's words
    (np.array([0, -1, 1, 2]), IndexError, "Target -1 is out of bounds."),
])
def test_a_bad_class_index_is_named(labels, kind, says):
    z = gradtrace.tensor(np.zeros((4, 3), dtype=np.float32), requires_grad=True)
    with pytest.raises(kind) as caught:
        gradtrace.nn.functional.cross_entropy(z, labels)
    assert says in str(caught.value) and "of shape" not in str(caught.value)
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize("loss", ["cross_entropy", "nll_loss"])
@pytest.mark.parametrize("labels, ignore_index", [
    (np.array([0, -100, 1, 2]), -100),   # PyTorch's default: no class, met by the range check
    (np.array([0, 255, 1, 2]), 255),     # past the last class
    (np.array([0, 1, 1, 2]), 1),         # a class itself: looked for before the loss
])
def test_targets_to_ignore_are_refused_rather_than_counted(loss, labels, ignore_index):
    z = gradtrace.tensor(np.zeros((4, 3), dtype=np.float32), requires_grad=True)
    with pytest.raises(gradtrace.DiffersFromPyTorch,
                       match=rf"targets equal to ignore_index \({ignore_index}\)"):
        getattr(gradtrace.nn.functional, loss)(z, labels, ignore_index=ignore_index)


def test_an_ignore_index_absent_from_the_targets_changes_nothing():
    z = gradtrace.tensor(np.array([[0.0, 1.0, 2.0], [1.0, 0.0, 0.0]]), requires_grad=True)
    # −log softmax at the class: log(1 + e + e²) − 2 and log(2 + e) − 1
    expected = (np.log(1 + np.e + np.e ** 2) - 2 + np.log(2 + np.e) - 1) / 2
    for ignore_index in (-100, 1, 7):
        loss = gradtrace.nn.functional.cross_entropy(z, np.array([2, 0]),
                                                     ignore_index=ignore_index)
        assert loss.item() == pytest.approx(expected, rel=1e-12)
    with pytest.raises(IndexError, match="Target 3 is out of bounds"):
        gradtrace.nn.functional.cross_entropy(z, np.array([3, 0]))


@pytest.mark.parametrize("reduction, scale", [("mean", 1 / 6), ("sum", 1.0)])
def test_cross_entropy_gradient_from_its_kept_forward_is_softmax_minus_onehot(reduction,
                                                                              scale):
    # the Python API reuses the forward's exponentials in backward (Op.forward_keeping); the
    # expected gradient is written out here: (softmax(z) − onehot(t)) · scale
    logits = np.array([[2.0, -1.0, 0.5], [0.0, 0.0, 0.0], [-3.0, 4.0, 1.0],
                       [1e3, 0.0, -1e3], [5.0, 5.0, -5.0], [0.1, 0.2, 0.3]])
    labels = np.array([0, 2, 1, 2, 1, 0])
    z = gradtrace.tensor(logits, requires_grad=True)
    gradtrace.nn.functional.cross_entropy(z, labels, reduction=reduction).backward()
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    expected = (exp / exp.sum(axis=1, keepdims=True) - np.eye(3)[labels]) * scale
    np.testing.assert_allclose(z.grad.value, expected, rtol=1e-12, atol=1e-15)


def test_cross_entropy_kept_forward_follows_the_tensor_through_in_place_rebinding():
    # z += 0 makes z the result of a new op: the loss recorded before must still use its own
    # forward (the version check refuses it, as PyTorch does), never another op's kept values
    z = gradtrace.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
    h = z * 1.0
    loss = gradtrace.nn.functional.cross_entropy(h, np.array([1]))
    h += 1.0
    with pytest.raises(Exception, match="modified by an inplace operation"):
        loss.backward()
