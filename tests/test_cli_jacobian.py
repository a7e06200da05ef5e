"""`gradtrace jacobian` and `gradtrace explain --mode forward` as a user meets them: JSON that
agrees with reverse mode and with an independent formula, stable bytes, text tables, pictures
of large Jacobians, usage errors.
"""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from gradtrace.cli import app

runner = CliRunner()

SIGMOID = "1/(1+exp(-(w0*x0+w1*x1+w2)))"
SIGMOID_AT = "w0=2,x0=-1,w1=-3,x1=-2,w2=-3"
SIGMOID_GRADIENTS = {"w0": -0.19661193324148185, "x0": 0.3932238664829637,
                     "w1": -0.3932238664829637, "x1": -0.5898357997244456,
                     "w2": 0.19661193324148185}


def run(*args):
    return runner.invoke(app, list(args), env={"NO_COLOR": "1"})


# -- explain --mode forward -----------------------------------------------------------------


def test_explain_mode_forward_json_agrees_with_reverse_mode():
    forward = run("explain", SIGMOID, "--at", SIGMOID_AT, "--mode", "forward", "--format",
                  "json")
    reverse = run("explain", SIGMOID, "--at", SIGMOID_AT, "--format", "json")
    assert forward.exit_code == 0, forward.output
    assert reverse.exit_code == 0, reverse.output
    derivatives = json.loads(forward.output)["derivatives"]
    assert derivatives == pytest.approx(SIGMOID_GRADIENTS, rel=1e-12)
    assert derivatives == pytest.approx(json.loads(reverse.output)["gradients"], rel=1e-12)


def test_explain_mode_forward_narrates_tangents():
    result = run("explain", SIGMOID, "--at", SIGMOID_AT, "--mode", "forward", "--wrt", "w0")
    assert result.exit_code == 0, result.output
    assert "ḣ1 = ẇ0·x0 + ẋ0·w0 = 1.00 × -1.00 + 0 × 2.00 = -1.00" in result.output
    assert "∂f/∂w0 = ḣ8 = -0.20" in result.output
    assert "all 5 inputs would take 5 passes" in result.output


# -- gradtrace jacobian ----------------------------------------------------------------------

TANH_ARGS = ("jacobian", "tanh(W@x)", "--wrt", "x", "--at", "W=randn(3,4)", "--at",
             "x=randn(4)")


def test_jacobian_command_json_for_tanh_w_x():
    result = run(*TANH_ARGS, "--format", "json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["shape"] == [3, 4]
    assert document["passes"] == {"reverse": 3, "forward": 4}
    reverse, forward = np.array(document["jacobian"]), np.array(document["forward_jacobian"])
    np.testing.assert_allclose(reverse, forward, rtol=0, atol=1e-12)
    W, x = np.array(document["inputs"]["W"]), np.array(document["inputs"]["x"])
    np.testing.assert_allclose(reverse, np.diag(1 - np.tanh(W @ x) ** 2) @ W, rtol=1e-12)
    assert "seconds" not in document
    assert list(document) == sorted(document)


def test_jacobian_command_output_is_the_same_bytes_from_run_to_run():
    for output_format in ("json", "text"):
        first, second = (run(*TANH_ARGS, "--format", output_format).output for _ in range(2))
        assert first == second
        assert " ms" not in first


def test_jacobian_times_are_shown_only_when_asked():
    document = json.loads(run(*TANH_ARGS, "--format", "json", "--times").output)
    assert set(document["seconds"]) == {"reverse", "forward"}
    assert all(seconds >= 0 for seconds in document["seconds"].values())
    text = run(*TANH_ARGS, "--format", "text", "--times").output
    assert "time taken: reverse mode " in text and " ms" in text


def test_jacobian_command_text_shows_table_and_passes():
    result = run(*TANH_ARGS, "--format", "text")
    assert result.exit_code == 0, result.output
    for fragment in ("Jacobian ∂f/∂x: 3 × 4", "x[3]", "f[2]", "reverse mode: 3 passes",
                     "forward mode: 4 passes", "one pass per output element"):
        assert fragment in result.output, fragment


def test_jacobian_command_draws_large_jacobians():
    result = run("jacobian", "tanh(W@x)", "--wrt", "W", "--at", "W=randn(10,10),x=randn(10)",
                 "--format", "text")
    assert result.exit_code == 0, result.output
    assert "10 × 100" in result.output and "█" in result.output
    assert "block diagonal" in result.output


def test_jacobian_command_needs_wrt_when_there_are_several_inputs():
    result = run("jacobian", "tanh(W@x)", "--at", "W=randn(3,4),x=randn(4)")
    assert result.exit_code == 2
    assert "--wrt" in result.output


def test_jacobian_command_takes_the_only_input_without_wrt():
    result = run("jacobian", "softmax(z)", "--at", "z=[1,2,3]", "--format", "json")
    assert result.exit_code == 0, result.output
    s = np.exp([1.0, 2.0, 3.0]) / np.sum(np.exp([1.0, 2.0, 3.0]))
    np.testing.assert_allclose(json.loads(result.output)["jacobian"],
                               np.diag(s) - np.outer(s, s), atol=1e-15)
