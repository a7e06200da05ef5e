"""Every registry op against SymPy: its forward value, VJP and JVP against SymPy's own `diff`
of the op written in the tests (the `sympy` column of op_cases.py) — an independent oracle,
not the op's own SymPy rule — and the op's SymPy lowering (what `gradtrace check` differentiates)
against the same form.

Parametrised over `REGISTRY`; the lowering cases a row marks `slow_lowering` run with
`pytest -m slow`.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from gradtrace.checks.symbolic import sympy_of_op
from gradtrace.core.backprop import sum_to
from gradtrace.core.registry import with_defaults
from gradtrace.ops import REGISTRY
from op_cases import OP_CASES, row_for
from op_strategies import float_arrays
from oracles import (all_needed, as_arrays, assert_close, exact_values, gradient_at,
                     point_of, reference_form, symbolic_inputs, weighted_terms)

OP_NAMES = sorted(REGISTRY)
ELEMENTWISE = [name for name in OP_NAMES if REGISTRY[name].elementwise]
LOWERINGS = [pytest.param(name, marks=pytest.mark.slow)
             if name in OP_CASES and OP_CASES[name].slow_lowering
             else name for name in OP_NAMES]


@pytest.mark.parametrize("name", OP_NAMES)
@settings(max_examples=5, deadline=None)
@given(data=st.data())
def test_forward_vjp_and_jvp_agree_with_sympy_on_the_tests_own_form(name, data):
    op, row = REGISTRY[name], row_for(name)
    inputs, attrs = data.draw(row.cases, label="case")
    symbols = symbolic_inputs(op, inputs)
    point = point_of(op, symbols, inputs)
    form = reference_form(op, row, symbols, attrs)
    out = op.evaluate(inputs, attrs)
    assert form.shape == out.shape
    assert_close(out, exact_values(form, point), rtol=1e-12, atol=1e-14)

    upstream = data.draw(float_arrays(out.shape), label="upstream")
    terms = weighted_terms(form, upstream)
    gradients = op.vjp(upstream, inputs, out, all_needed(op), attrs)
    tangents = tuple(data.draw(float_arrays(x.shape), label=f"tangent {i}")
                     if op.takes_gradient(i) else None for i, x in enumerate(inputs))
    pairing = 0.0  # ⟨upstream, J·t⟩ = Σ_i ⟨Jᵢᵀ·upstream, tᵢ⟩, with SymPy's Jᵢᵀ·upstream
    for i, x in enumerate(inputs):
        if not op.takes_gradient(i):
            assert gradients[i] is None
            continue
        exact = gradient_at(terms, symbols[i], point)
        assert_close(sum_to(gradients[i], x.shape), exact, rtol=1e-10, atol=1e-12)
        pairing += float(np.sum(exact * tangents[i]))
    jvp = op.jvp(tangents, inputs, out, attrs)
    scale = 1.0 + float(np.sum(np.abs(upstream))) * sum(
        float(np.sum(np.abs(t))) for t in tangents if t is not None)
    assert float(np.sum(upstream * jvp)) == pytest.approx(pairing, rel=1e-9, abs=1e-12 * scale)


@pytest.mark.parametrize("name", ELEMENTWISE)
@settings(max_examples=20, deadline=None)
@given(data=st.data())
def test_local_derivatives_agree_with_sympy_on_the_tests_own_form(name, data):
    op, row = REGISTRY[name], row_for(name)
    point = data.draw(st.tuples(*row.elements), label="point")
    attrs = data.draw(row.attributes, label="attrs")
    symbols = sympy.symbols("a b", real=True)[: op.arity]
    form = row.sympy(*symbols, **with_defaults(op, attrs))
    values = {s: sympy.Float(float(x), 30) for s, x in zip(symbols, point)}
    inputs = as_arrays(point)
    out = op.evaluate(inputs, attrs)
    assert_close(out, exact_values(form, values), rtol=1e-12, atol=1e-14)
    for index, symbol in enumerate(symbols):
        assert_close(op.local(index, inputs, out, attrs),
                     exact_values(sympy.diff(form, symbol), values), rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("name", LOWERINGS)
@settings(max_examples=5, deadline=None)
@given(data=st.data())
def test_sympy_lowering_agrees_with_the_tests_own_form(name, data):
    """The lowering `gradtrace check` differentiates, against the form written in the tests:
    values, and the derivatives of Σ upstream·lowering by SymPy's diff."""
    op, row = REGISTRY[name], row_for(name)
    inputs, attrs = data.draw(row.cases, label="case")
    symbols = symbolic_inputs(op, inputs)
    point = point_of(op, symbols, inputs)
    lowered = sympy_of_op(op, [np.asarray(s, dtype=object) for s in symbols], attrs, sympy)
    form = reference_form(op, row, symbols, attrs)
    out = op.evaluate(inputs, attrs)
    assert lowered.shape == form.shape == out.shape
    values = exact_values(lowered, point)
    assert_close(values, exact_values(form, point), rtol=1e-12, atol=1e-14)
    assert_close(values, out, rtol=1e-12, atol=1e-14)

    upstream = data.draw(float_arrays(lowered.shape), label="upstream")
    lowered_terms, form_terms = weighted_terms(lowered, upstream), weighted_terms(form, upstream)
    for i in range(op.arity):
        if op.takes_gradient(i):
            assert_close(gradient_at(lowered_terms, symbols[i], point),
                         gradient_at(form_terms, symbols[i], point), rtol=1e-10, atol=1e-12)
