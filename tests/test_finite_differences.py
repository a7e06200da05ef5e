"""The settled step rule of checks/finite_differences.py, on plain functions whose derivatives
are written by hand here: it stays inside the domain (one-sided at an edge), survives overflow
next door, scales the step to the function, and says why when it has no estimate."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gradtrace.checks.finite_differences import (NOT_FINITE, OUT_OF_BUDGET, TOO_LARGE,
                                                 UNSETTLED, Evaluations, differences, settled,
                                                 steps, textbook)

RULE = settled(1e-6, 1e-7)  # a tenth of the three-way check's tolerances, as it uses
CHECKED = {"rel": 1e-5, "abs": 1e-6}  # what the three-way check then asks of the estimate


def derivative(f, x, rule=RULE):
    """d f / d x at the scalar x, and why there is none."""
    found = differences(lambda value: f(float(value)), np.asarray(x), rule)
    return float(found.gradient), found.why_not.get(0, "")


def _log(x):
    return math.log(x) if x > 0 else math.nan


def _sqrt(x):
    return math.sqrt(x) if x >= 0 else math.nan


def _exp(x):
    return math.exp(x) if x < 709.782712893384 else math.inf


def _sigmoid(x):
    return 1 / (1 + math.exp(-x)) if x >= 0 else math.exp(x) / (1 + math.exp(x))


@pytest.mark.parametrize("f, x, expected", [
    (_log, 1e-8, 1e8),                                    # the first step, 6e-6, passes 0
    (_log, 1e-30, 1e30),                                  # x far below every first step
    (_sqrt, 1e-12, 0.5 / math.sqrt(1e-12)),
    (lambda x: _sqrt(1 - x * x), 1 - 1e-9, -(1 - 1e-9) / math.sqrt(1 - (1 - 1e-9) ** 2)),
    (lambda x: _log(x + 1e-7), 0.0, 1e7),                 # 《深度学习入门》's y = 0
    (lambda x: x ** 1.5 if x >= 0 else math.nan, 1e-7, 1.5 * math.sqrt(1e-7)),
])
def test_domain_edges_are_approached_from_inside(f, x, expected):
    value, why_not = derivative(f, x)
    assert why_not == ""
    assert value == pytest.approx(expected, **CHECKED)


@pytest.mark.parametrize("f, x, expected", [
    (_exp, 709.78, math.exp(709.78)),                     # exp(709.78 + h) overflows
    (lambda x: _exp(2 * x) / 4, 354.89, math.exp(709.78) / 2),
    (lambda x: -_exp(x - 1e-3), 709.783, -math.exp(709.782)),
])
def test_overflow_next_door_is_avoided(f, x, expected):
    value, why_not = derivative(f, x)
    assert why_not == ""
    assert value == pytest.approx(expected, **CHECKED)


@pytest.mark.parametrize("f, x, expected", [
    (lambda x: math.tanh(x * 1e10), 1e-10, 1e10 / math.cosh(1.0) ** 2),
    (lambda x: math.sin(1e8 * x), 1e-8, 1e8 * math.cos(1.0)),
    (lambda x: _sigmoid(1e9 * x), 2e-9, 1e9 * math.exp(-2) / (1 + math.exp(-2)) ** 2),
    (lambda x: math.tanh(1e6 * (x - 3)), 3 + 1e-6, 1e6 / math.cosh(1.0) ** 2),
    (lambda x: 1 / (x - 1), 1 + 1e-8, -1e16),             # a pole closer than the first step
])
def test_the_step_follows_the_scale_on_which_f_bends(f, x, expected):
    value, why_not = derivative(f, x)
    assert why_not == ""
    assert value == pytest.approx(expected, **CHECKED)


def test_rounding_noise_is_judged_against_the_size_of_f():
    # f(x ± h) round to multiples of 1e6·ε: estimates scatter by ~1e-4 at every step, well
    # inside an absolute tolerance that follows |f|, as the three-way check's does
    value, why_not = derivative(lambda x: 1e6 + x, 1.0, settled(1e-6, 1e-7 * 1e6))
    assert why_not == ""
    assert value == pytest.approx(1.0, abs=1e-6 * 1e6)


def test_a_smooth_function_keeps_the_first_step():
    calls = []

    def f(x):
        calls.append(x)
        return math.sin(x)

    value, _ = derivative(f, 0.5)
    assert value == pytest.approx(math.cos(0.5), rel=1e-9)
    assert len(calls) == 1 + 4  # f(x), then x ± h at the first two steps: they agree


def test_a_constant_across_the_edge_gives_exactly_zero():
    # 0 · log(y + 1e-7) is nan left of y = -1e-7 and 0 right of it: the one-sided difference
    # of a constant is 0, not rounding noise
    value, why_not = derivative(lambda y: 0.0 * _log(y + 1e-7) + 0.5, 0.0)
    assert (value, why_not) == (0.0, "")


def test_no_finite_side_means_no_estimate_with_the_reason():
    value, why_not = derivative(lambda x: 0.0 if x == 0 else math.nan, 0.0)
    assert math.isnan(value) and why_not == NOT_FINITE


def test_a_slope_beyond_the_largest_float_is_said_so():
    value, why_not = derivative(lambda x: _exp(2 * x), 354.89)  # 2·exp(709.78) overflows
    assert math.isnan(value) and why_not == TOO_LARGE


def test_an_infinite_slope_never_settles():
    value, why_not = derivative(_sqrt, 0.0)  # one-sided estimates grow as 1/√h
    assert math.isnan(value) and why_not == UNSETTLED


def test_the_extra_evaluations_are_budgeted():
    f = lambda x: math.tanh(x * 1e10)  # noqa: E731  needs about ten steps
    found = differences(lambda v: f(float(v)), np.asarray(1e-10), RULE, budget=Evaluations(0))
    assert math.isnan(float(found.gradient)) and found.why_not == {0: OUT_OF_BUDGET}
    found = differences(lambda v: f(float(v)), np.asarray(1e-10), RULE, budget=Evaluations(100))
    assert float(found.gradient) == pytest.approx(1e10 / math.cosh(1.0) ** 2, rel=1e-5)


def test_steps_shrink_tenfold_and_reach_the_scale_of_a_tiny_x():
    tried = steps(1e-30)
    assert tried[0] == pytest.approx(np.finfo(float).eps ** (1 / 3))
    assert all(a > b for a, b in zip(tried, tried[1:]))
    assert tried[-1] < 1e-30
    assert steps(-250.0)[0] == pytest.approx(250 * np.finfo(float).eps ** (1 / 3))


def test_textbook_step_is_the_course_formula_and_falls_back_at_an_edge():
    h = 1e-6
    x = 0.3
    value, _ = derivative(math.sin, x, textbook(h))
    assert value == (math.sin(x + h) - math.sin(x - h)) / (2 * h)  # bit for bit
    value, why_not = derivative(_log, 1e-7, textbook(h))
    assert math.isnan(value) and why_not == "f is not finite at x + h or x − h"
    value, _ = derivative(_log, 1e-7, textbook(h, fallback=RULE))
    assert value == pytest.approx(1e7, rel=1e-5)


def test_arrays_are_differenced_element_by_element_with_reasons_by_index():
    def f(x):  # log(x0) + log(x2), defined only where x1 is exactly 0
        return _log(x[0]) + _log(x[2]) + (0.0 if x[1] == 0 else math.nan)

    found = differences(f, np.array([2.0, 0.0, 1e-9]), RULE)
    np.testing.assert_allclose(found.gradient[[0, 2]], [0.5, 1e9], rtol=1e-5)
    assert np.isnan(found.gradient[1]) and found.why_not == {1: NOT_FINITE}
