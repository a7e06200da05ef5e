"""`gradtrace gradcheck` draws each op's inputs inside its domain (found from the op, not from
a list of names), keeps the course's h = 1e-6 where it works, and still fails a wrong VJP."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from typer.testing import CliRunner

from gradtrace.checks.layer_gradcheck import (STEP, LayerCheck, Options, TensorCheck,
                                              gradcheck)
from gradtrace.cli import app
from gradtrace.core.errors import UsageError
from gradtrace.core.registry import Op
from gradtrace.narrate.gradcheck import gradcheck_sections
from gradtrace.ops import REGISTRY

runner = CliRunner()
SHAPES = [None, (7,), (1,), (3, 4)]
# a domain each: log, sqrt (positive), pow (positive base), reciprocal and div (a pole at 0)
EDGED = ["log", "sqrt", "pow", "reciprocal", "div"]


def run(*args):
    return runner.invoke(app, list(args), env={"NO_COLOR": "1"})


def check(layer, shape=None, seed=0) -> LayerCheck:
    return gradcheck(layer, Options(input_shape=shape), seed)


@pytest.mark.parametrize("layer", EDGED)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("seed", [0, 1, 2, 104, 117])  # 104, 117: an x near reciprocal's pole
def test_ops_with_a_domain_pass(layer, shape, seed):
    result = check(layer, shape, seed)
    assert result.passed, [(t.name, t.relative_error) for t in result.tensors]
    assert all(t.relative_error < 1e-6 for t in result.tensors)
    assert result.step == STEP == 1e-6


@pytest.mark.parametrize("layer, why", [
    ("log", "log of a negative number"),
    ("sqrt", "square root of a negative number"),
    ("pow", "a negative number to a fractional power"),
])
def test_the_report_says_where_the_inputs_came_from_and_why(layer, why):
    result = check(layer)
    assert "x drawn positive" in result.inputs_note and why in result.inputs_note
    (section,) = gradcheck_sections(result)
    assert why in section.blocks[0]
    assert section.blocks[-1] == "Every gradient agrees with finite differences."


@pytest.mark.parametrize("layer", ["tanh", "sigmoid", "linear", "exp", "mul", "reciprocal"])
def test_ops_defined_everywhere_keep_the_notes_normal_inputs(layer):
    assert check(layer).inputs_note == ""


def test_binary_cross_entropy_gets_probabilities():
    if "binary_cross_entropy" not in REGISTRY:
        pytest.skip("binary_cross_entropy is not registered")
    result = check("binary_cross_entropy")
    assert result.passed and "inside (0, 1)" in result.inputs_note


def test_no_warnings_leak_from_a_domain_search():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for layer in EDGED:
            check(layer)


@pytest.mark.parametrize("layer", ["log", "sqrt", "pow"])
def test_from_the_command_line_they_exit_0(layer):
    result = run("gradcheck", layer, "--format", "json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["passed"] is True and document["step"] == 1e-6


def test_the_textbook_step_is_kept_bit_for_bit_where_it_works():
    result = check("tanh")
    rng = np.random.default_rng(0)
    x = rng.normal(0.0, 1.0, (2, 3))
    weights = rng.normal(0.0, 1.0, (2, 3))
    numeric = np.empty(6)
    for i in range(6):  # CS231n's eval_numerical_gradient, written out
        up, down = x.copy(), x.copy()
        up.flat[i] += STEP
        down.flat[i] -= STEP
        numeric[i] = (np.sum(weights * np.tanh(up)) - np.sum(weights * np.tanh(down))) / (2 * STEP)
    np.testing.assert_array_equal(result.tensors[0].numeric.ravel(), numeric)


# -- a wrong VJP still fails -----------------------------------------------------------------

def _with_partials(name, *partials):
    return REGISTRY[name]._replace(partials=partials, vjp_rule=None)


WRONG = {
    "log": lambda: _with_partials("log", lambda a, out: 1.0 / a**2),
    "sqrt": lambda: _with_partials("sqrt", lambda a, out: 1.0 / out),  # forgot the ½
    "pow": lambda: _with_partials("pow", lambda a, b, out: np.power(a, b - 1),  # forgot b
                                  lambda a, b, out: out * np.log(a)),
    "reciprocal": lambda: _with_partials("reciprocal", lambda a, out: 1.0 / a**2),  # sign
    "div": lambda: _with_partials("div", lambda a, b, out: 1.0 / b * np.ones_like(a),
                                  lambda a, b, out: a / b**2),  # sign slip on b
}


@pytest.mark.parametrize("layer", sorted(WRONG))
@pytest.mark.parametrize("seed", [0, 104])
def test_a_wrong_vjp_fails(layer, seed, monkeypatch):
    monkeypatch.setitem(REGISTRY, layer, WRONG[layer]())
    result = check(layer, seed=seed)
    assert not result.passed
    (section,) = gradcheck_sections(result)
    assert "FAIL" in [row[-1] for row in section.blocks[1].rows]
    assert section.blocks[-1] == ("A gradient disagrees with finite differences: the VJP rule "
                                  "is wrong.")
    assert run("gradcheck", layer, "--seed", str(seed)).exit_code == 1


def test_a_vjp_off_by_a_thousandth_fails_even_where_h_is_too_large(monkeypatch):
    # seed 104 puts an x near reciprocal's pole: there h = 1e-6 is too large and the settled
    # step is used, which must not hide a wrong rule
    assert check("reciprocal", seed=104).tensors[0].settled_elements == 1
    monkeypatch.setitem(REGISTRY, "reciprocal",
                        _with_partials("reciprocal", lambda a, out: -1.001 / a**2))
    assert not check("reciprocal", seed=104).passed


def test_an_op_finite_nowhere_is_a_clear_usage_error(monkeypatch):
    nowhere = Op(name="nowhere", arity=1, usage="nowhere(a)", pattern="nowhere({a})",
                 symbol="?", description="nan everywhere", forward=lambda a: a * np.nan,
                 partials=(lambda a, out: np.ones_like(a),), formulas=("1",), elementwise=True,
                 trouble=lambda a: "it is nan everywhere")
    monkeypatch.setitem(REGISTRY, "nowhere", nowhere)
    with pytest.raises(UsageError, match="found no inputs where it is finite.*nan everywhere"):
        check("nowhere")


def test_a_tensor_that_cannot_be_checked_is_said_so_and_is_not_a_failure():
    analytic = np.array([1.0, 2.0])
    nothing = TensorCheck("x", (2,), analytic, np.full(2, np.nan), np.nan, np.nan,
                          "2 of 2 elements not checked, because f is not finite on either "
                          "side of this point, at any step tried")
    assert nothing.status == "not checked" and not nothing.passed
    result = LayerCheck("op", {}, (2,), (nothing,))
    assert result.passed  # nothing failed
    (section,) = gradcheck_sections(result)
    assert section.blocks[1].rows[0][-1] == "not checked"
    assert ("x: not checked, because f is not finite on either side of this point, at any "
            "step tried.") in section.blocks
    assert "could not be checked" in section.blocks[-1]
    broken = nothing._replace(analytic=np.array([np.nan, 1.0]),
                              numeric=np.array([np.nan, 1.0]))
    assert broken.status == "FAIL"  # where a number was found, a nan VJP fails


@pytest.mark.parametrize("layer", sorted(REGISTRY))
def test_every_op_passes_gradcheck_with_its_defaults(layer):
    # as `gradtrace gradcheck LAYER` promises for every op `gradtrace ops` lists: matmul had
    # drawn y shaped as x, reshape had no target shape, im2col no image batch
    result = check(layer)
    assert result.passed, [(t.name, t.status, t.relative_error) for t in result.tensors]


@pytest.mark.parametrize("layer, shape", [("matmul", (2, 3)), ("reshape", (2, 3)),
                                          ("im2col", (1, 3, 4, 4))])
def test_ops_that_need_shaped_partners_pass_at_other_shapes(layer, shape):
    assert check(layer, shape).passed


def test_a_pool_without_a_stride_says_its_stride_is_the_window():
    heading = run("gradcheck", "max_pool2d", "--format", "text").output.splitlines()[0]
    assert heading == "gradcheck max_pool2d (kernel=2, stride=2)"  # it had said stride=None
