"""The Python API's arguments, as a user mistypes them: each bad value is refused with a
message that names the argument and says what it takes, never read as something else
(None as nan, a claim one character at a time) and never a raw numpy or internal error."""

from __future__ import annotations

import numpy as np
import pytest

import gradtrace
from gradtrace.core.errors import UsageError


@pytest.mark.parametrize("value", [None, [1.0, None], [[1, 2], [3]], {"a": 1}, object(),
                                   1 + 2j, [b"1"]])
@pytest.mark.parametrize("function", ["explain", "explain_forward", "explain_jacobian",
                                      "curve"])
def test_a_value_that_is_not_numbers_is_refused_naming_the_input(function, value):
    from gradtrace.expr import pipeline

    expression = "x*2" if function in ("curve", "explain_jacobian") else "sum(x*2)"
    with pytest.raises(UsageError) as refused:
        getattr(pipeline, function)(expression, at={"x": value})
    assert refused.value.parameter == "at"
    assert "x: " in str(refused.value) and "is not a number or an array of numbers" in str(
        refused.value)


@pytest.mark.parametrize("value, expected", [
    ("[1, 2]", [1.0, 2.0]),  # text is read as --at reads it
    ("3", 3.0),
    (np.float32(2.5), 2.5),
    ([[1, 2], [3, 4]], [[1.0, 2.0], [3.0, 4.0]]),
    (True, 1.0),
])
def test_numbers_arrays_and_text_are_read_as_at_reads_them(value, expected):
    trace = gradtrace.explain("sum(x*1)", at={"x": value}, check=False)
    np.testing.assert_array_equal(trace.values["x"], np.asarray(expected, dtype=np.float64))


def test_a_tensor_is_read_as_its_values():
    trace = gradtrace.explain("sum(x*x)", at={"x": gradtrace.tensor([1.0, 3.0])}, check=False)
    np.testing.assert_array_equal(trace.gradients["x"], [2.0, 6.0])


def test_text_that_is_not_a_value_says_what_a_value_is():
    with pytest.raises(UsageError, match=r"x=abc: 'abc' is not a number"):
        gradtrace.explain("x*2", at={"x": "abc"})


def test_a_huge_refused_value_is_shown_short():
    with pytest.raises(UsageError) as refused:
        gradtrace.explain("sum(x)", at={"x": list(range(100_000)) + [None]})
    assert len(str(refused.value)) < 300


# -- gradtrace.check -------------------------------------------------------------------------

def test_check_draws_twenty_points_unless_told():
    report = gradtrace.check("x*x")
    assert report.samples == 20 and report.ok


def test_a_claim_given_as_text_is_one_claim():
    report = gradtrace.check("x*x", 5, claims="x=2*x")
    assert [claim.holds for claim in report.claims] == [True]
    wrong = gradtrace.check("x*x", 5, claims="x=3*x")
    assert [claim.holds for claim in wrong.claims] == [False]


@pytest.mark.parametrize("samples", [0, -3, 5.5, "a", True, 10**9])
def test_a_number_of_samples_out_of_range_is_refused_before_any_work(samples):
    with pytest.raises(UsageError, match="a whole number of points from 1 to 100000") as refused:
        gradtrace.check("x*x", samples)
    assert refused.value.parameter == "samples"


@pytest.mark.parametrize("claims", [5, [1, 2], {"x": "2*x"}])
def test_claims_that_are_not_text_are_refused(claims):
    with pytest.raises(UsageError, match="a claim NAME=FORMULA") as refused:
        gradtrace.check("x*x", 5, claims=claims)
    assert refused.value.parameter == "claims"


@pytest.mark.parametrize("bound", ["low", "high"])
def test_a_bound_that_is_not_a_number_is_refused(bound):
    with pytest.raises(UsageError, match="a number, not 'a'") as refused:
        gradtrace.check("x*x", 5, **{bound: "a"})
    assert refused.value.parameter == bound


def test_fixed_inputs_take_what_at_takes():
    with pytest.raises(UsageError, match="y: None is not a number"):
        gradtrace.check("x*y", 5, fixed={"y": None})
    report = gradtrace.check("x*y", 5, fixed={"y": "3"}, claims="x=y")
    assert [claim.holds for claim in report.claims] == [True]


# -- a tensor's name -------------------------------------------------------------------------

@pytest.mark.parametrize("name", [5, 2.5, b"w", ["w"]])
def test_a_name_that_is_not_text_is_refused(name):
    w = gradtrace.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match="a tensor's name is text"):
        w.name = name
    with pytest.raises(TypeError, match="a tensor's name is text"):
        gradtrace.tensor([1.0], name)


@pytest.mark.parametrize("name", ["2", "-1.5", "1e3", "inf", "nan"])
def test_a_name_that_reads_as_a_number_is_refused(name):
    # a leaf called "2" would be shown as the constant 2: (a*2) would read 2*2
    w = gradtrace.tensor(1.0, requires_grad=True)
    with pytest.raises(ValueError, match="cannot read as a number"):
        w.name = name


@pytest.mark.parametrize("name", ["w", "0.weight", "权重", "W_1", "x'"])
def test_names_with_letters_are_kept_and_shown(name):
    w = gradtrace.tensor(2.0, requires_grad=True)
    w.name = name
    trace = (w * 3).backward()
    assert w.name == name
    assert name in trace.graph.inputs
    assert f"name={name!r}" in repr(w)
