"""The ops students reach for that numpy lacks or names otherwise: erf (W. J. Cody's rational
approximations, checked against the C library's through math.erf), gelu (PyTorch's exact form
x·Φ(x)), log10 and log2. Their per-op tests come from their rows in op_cases.py; these check
the numbers against Python's math module and that each op is everywhere an op should be.
"""

import math

import numpy as np
import pytest
from typer.testing import CliRunner

import gradtrace
from gradtrace.cli import app
from gradtrace.core.registry import activations
from gradtrace.ops import REGISTRY
from gradtrace.ops.scalar import erf, erfc

runner = CliRunner()
RNG = np.random.default_rng(2024)
# every range Cody's approximation switches between (|x| ≤ 0.46875, ≤ 4, beyond), the points
# where it switches, tiny numbers, and far out where erfc underflows
POINTS = np.concatenate([
    RNG.uniform(-0.5, 0.5, 2000), RNG.uniform(-4.5, 4.5, 4000), RNG.uniform(-28, 28, 2000),
    [0.0, -0.0, 0.46875, -0.46875, 4.0, -4.0, 26.5, 27.0, 1e-300, -1e-300, 5e-324, 1e-8],
    np.nextafter(0.46875, [0.0, 1.0]), np.nextafter(4.0, [0.0, 8.0]),
])


def ulps(actual, expected):
    return np.abs(actual - expected) / np.spacing(np.maximum(np.abs(expected), 1e-300))


def test_erf_is_float64_accurate():
    expected = np.array([math.erf(x) for x in POINTS])
    assert ulps(erf(POINTS), expected).max() <= 4


def test_erfc_keeps_its_relative_precision_in_the_tail():
    expected = np.array([math.erfc(x) for x in POINTS])
    normal = expected > 1e-300  # beyond, erfc is below the normal floats (Cody gives 0)
    relative = np.abs(erfc(POINTS)[normal] - expected[normal]) / expected[normal]
    assert relative.max() < 4e-15


def test_erf_at_the_edges():
    np.testing.assert_array_equal(erf(np.array([np.inf, -np.inf, 0.0])), [1.0, -1.0, 0.0])
    assert np.isnan(erf(np.array(np.nan)))
    assert np.signbit(erf(np.array(-0.0)))
    assert erf(np.float32(0.5)).dtype == np.float32
    assert erf(np.zeros((0, 2))).shape == (0, 2)


@pytest.mark.parametrize("x", [-8.0, -3.0, -1.0, -0.3, 0.0, 0.2, 1.0, 2.5, 6.0])
def test_gelu_is_x_times_the_normal_distribution_function(x):
    phi = 0.5 * math.erfc(-x / math.sqrt(2))  # Φ(x), accurate in the lower tail
    gelu = REGISTRY["gelu"]
    assert float(gelu.evaluate((np.asarray(x),), {})) == pytest.approx(x * phi, rel=1e-14,
                                                                      abs=1e-300)
    density = math.exp(-x * x / 2) / math.sqrt(2 * math.pi)
    out = gelu.evaluate((np.asarray(x),), {})
    assert float(gelu.local(0, (np.asarray(x),), out)) == pytest.approx(phi + x * density,
                                                                       rel=1e-13)


@pytest.mark.parametrize("name, reference", [("log10", math.log10), ("log2", math.log2)])
def test_log10_and_log2(name, reference):
    x = np.array([0.001, 0.5, 1.0, 2.0, 8.0, 1000.0, 12345.678])
    np.testing.assert_allclose(REGISTRY[name].evaluate((x,), {}), [reference(v) for v in x],
                               rtol=1e-15)
    trace = gradtrace.explain(f"{name}(x)", at={"x": 8.0})
    base = 10.0 if name == "log10" else 2.0
    assert trace.gradients["x"] == pytest.approx(1 / (8.0 * math.log(base)), rel=1e-14)
    assert trace.ok and all(check.status == "agree" for check in trace.checks)


@pytest.mark.parametrize("expression, at, value", [
    ("gelu(x)", "x=1", 1.0 * 0.5 * math.erfc(-1 / math.sqrt(2))),
    ("log10(x)", "x=100", 2.0),
    ("log2(x)", "x=8", 3.0),
    ("erf(x)", "x=0.5", math.erf(0.5)),
])
def test_each_parses_and_explains_and_checks(expression, at, value):
    result = runner.invoke(app, ["explain", expression, "--at", at, "--format", "text"],
                           env={"NO_COLOR": "1"})
    assert result.exit_code == 0, result.output
    trace = gradtrace.explain(expression, at={at.split("=")[0]: float(at.split("=")[1])})
    assert trace.value == pytest.approx(value, rel=1e-14)


def test_each_is_listed_and_callable_by_name():
    result = runner.invoke(app, ["ops", "--format", "text"], env={"NO_COLOR": "1"})
    assert result.exit_code == 0, result.output
    for name in ("gelu", "log10", "log2", "erf"):
        assert name in result.output
        assert callable(getattr(gradtrace, name))


def test_gelu_is_an_activation_for_layers():
    gelu = next(op for op in activations() if op.name == "gelu")
    assert gelu.activation.module == "GELU" and gelu.activation.init == "he"
    result = runner.invoke(app, ["mlp", "--help"], env={"NO_COLOR": "1"})
    assert result.exit_code == 0, result.output
    assert "gelu" in result.output


def test_gelu_through_nn():
    from gradtrace import nn

    x = gradtrace.tensor(np.array([-1.0, 0.5, 2.0]), name="x")
    out = nn.GELU()(x)
    expected = [v * 0.5 * math.erfc(-v / math.sqrt(2)) for v in (-1.0, 0.5, 2.0)]
    np.testing.assert_allclose(out.value, expected, rtol=1e-14)


def test_fuse_recognises_gelu_written_out():
    trace = gradtrace.explain("0.5*x*(1+erf(x/1.4142135623730951))", at={"x": 0.7}, fuse=True)
    assert [step.op for step in trace.forward] == ["gelu"]
