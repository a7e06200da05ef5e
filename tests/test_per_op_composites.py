"""Every fused registry op — one with its own rules and a `composite` written with other ops —
against its composite: the same values, VJPs and JVPs. Parametrised over `REGISTRY`, on the
points of each op's row in op_cases.py.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gradtrace.core.backprop import sum_to
from gradtrace.core.composite import composite_jvp
from gradtrace.core.tensor import tensor, tensor_ops
from gradtrace.ops import REGISTRY
from op_cases import row_for
from op_strategies import float_arrays
from oracles import all_needed, differentiable

OP_NAMES = sorted(REGISTRY)
FUSED = [name for name in OP_NAMES
         if REGISTRY[name].composite is not None and not REGISTRY[name].derived]
# the op tables that hold layers; their ops are fused for speed and teaching
LAYER_TABLES = ("gradtrace.ops.layers", "gradtrace.ops.activations",
                "gradtrace.ops.convolution", "gradtrace.ops.normalisation")


@pytest.mark.parametrize("name", FUSED)
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_fused_op_matches_its_composite(name, data):
    op, row = REGISTRY[name], row_for(name)
    inputs, attrs = data.draw(row.cases, label="case")
    leaves = [tensor(x, f"i{i}", requires_grad=op.takes_gradient(i))
              for i, x in enumerate(inputs)]
    composite = op.composite(tensor_ops(), *leaves, **attrs)
    out = op.evaluate(inputs, attrs)
    np.testing.assert_allclose(composite.value, out, rtol=1e-10, atol=1e-12)

    upstream = data.draw(float_arrays(out.shape), label="upstream")
    trace = (composite * upstream).sum().backward()
    fused = op.vjp(upstream, inputs, out, all_needed(op), attrs)
    for i in differentiable(op):
        np.testing.assert_allclose(trace.by_id[f"i{i}"].grad, sum_to(fused[i], inputs[i].shape),
                                   rtol=1e-9, atol=1e-10)

    tangents = tuple(data.draw(float_arrays(x.shape), label=f"tangent {i}")
                     if op.takes_gradient(i) else None for i, x in enumerate(inputs))
    np.testing.assert_allclose(op.jvp(tangents, inputs, out, attrs),
                               composite_jvp(op, tangents, inputs, attrs), rtol=1e-9, atol=1e-10)


def test_every_layer_op_but_im2col_is_fused():
    layer_ops = [op for op in REGISTRY.values()
                 if op.forward is not None and op.forward.__module__ in LAYER_TABLES]
    assert len(layer_ops) >= 10, "the layer tables moved: update LAYER_TABLES"
    assert {op.name for op in layer_ops if op.composite is None} == {"im2col"}  # a primitive
