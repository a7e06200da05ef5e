"""gradtrace.core.registry: every registry entry's display formulas and pattern use only the
placeholders the narration fills in (the op's inputs, its output, the upstream gradient and
its attributes); an elementwise op's formulas are local derivatives.
"""

from __future__ import annotations

import numpy as np
import pytest

from gradtrace.core.registry import attribute_texts
from gradtrace.ops import REGISTRY

OP_NAMES = sorted(REGISTRY)


@pytest.mark.parametrize("name", OP_NAMES)
def test_formulas_use_only_the_op_inputs_output_upstream_and_attributes(name):
    op = REGISTRY[name]
    names = dict(zip("abcde", ["A", "B", "C", "D", "E"][: op.arity]), out="OUT", g="G")
    for formula in op.formulas:
        # a KeyError here is a placeholder the narration cannot fill
        formula.format(**names, **attribute_texts(op.attrs))
    op.pattern.format(**names, **attribute_texts(()))
    if op.elementwise:
        assert not any("{g}" in formula for formula in op.formulas), "local derivatives only"


KEEPING = sorted(name for name, op in REGISTRY.items() if op.forward_keeping is not None)


def test_cross_entropy_gelu_and_conv2d_keep_what_their_vjps_reuse():
    assert {"cross_entropy", "gelu", "conv2d"} <= set(KEEPING)


def _keeping_cases(op, rng):
    """(inputs, attrs, needed) for an op that keeps part of its forward. A loss over a class
    axis: class indices and one-hot rows, one row (C,) and a batch (N, C), each reduction,
    values far apart (exp underflows). A one-input op: small and large arrays (the large ones
    in pooled memory), both float types, with zeros, infinities and nan. conv2d: images and
    filters of a few shapes, strides and paddings, both float types."""
    if op.name == "conv2d":
        for (n, c, h, w), (f, kh, kw), stride, padding in (
                ((2, 1, 5, 5), (3, 3, 3), 1, 0), ((3, 2, 9, 7), (4, 3, 2), 2, 1),
                ((16, 3, 16, 16), (8, 3, 3), 1, 1), ((4, 2, 11, 11), (5, 5, 5), (2, 3), (2, 1))):
            for kind in (np.float32, np.float64):
                x = rng.standard_normal((n, c, h, w)).astype(kind)
                W = rng.standard_normal((f, c, kh, kw)).astype(kind)
                b = rng.standard_normal(f).astype(kind)
                yield (x, W, b), {"stride": stride, "padding": padding}, (True, True, True)
        return
    if op.arity == 2:
        for shape in ((5,), (4, 3), (64, 10)):
            logits = (rng.standard_normal(shape) * 30).astype(np.float32)
            classes = rng.integers(0, shape[-1], shape[:-1])
            one_hot = np.eye(shape[-1], dtype=np.float32)[classes]
            for target in (classes, one_hot):
                for reduction in op.choices["reduction"]:
                    yield (logits, target), {"reduction": reduction}, (True, False)
        return
    for shape in ((), (7,), (256, 512)):
        for kind in (np.float32, np.float64):
            x = np.asarray(rng.standard_normal(shape) * 4, dtype=kind)
            if x.size > 4:
                x.flat[:4] = (0.0, np.inf, -np.inf, np.nan)
            yield (x,), {}, (True,)


@pytest.mark.parametrize("name", KEEPING)
def test_a_kept_forward_gives_the_same_value_and_gradient_as_recomputing(name):
    op = REGISTRY[name]
    kept_some = False  # cross-entropy keeps nothing for one-hot rows, but does for indices
    for inputs, attrs, needed in _keeping_cases(op, np.random.default_rng(0)):
        with np.errstate(all="ignore"):
            value = op.forward(*inputs, **attrs)
            kept_value, kept = op.forward_keeping(*inputs, **attrs)
            np.testing.assert_array_equal(kept_value, value)
            upstream = np.ones(np.shape(value), dtype=inputs[0].dtype)
            again = op.vjp_rule(upstream, inputs, value, needed, **attrs)
            reused = op.vjp_rule(upstream, inputs, value, needed, kept=kept, **attrs)
        kept_some = kept_some or kept is not None
        for mine, recomputed in zip(reused, again):
            if recomputed is None:
                continue
            if name == "conv2d":  # one product where the recomputation sums image batches
                np.testing.assert_allclose(mine, recomputed, rtol=1e-5, atol=1e-4)
            else:
                np.testing.assert_array_equal(mine, recomputed)
            assert mine.dtype == recomputed.dtype
    assert kept_some


def test_forward_keeping_without_a_vjp_rule_is_refused():
    from gradtrace.core.registry import Op, register

    with pytest.raises(ValueError, match="forward_keeping goes with a forward and a vjp_rule"):
        register(Op(name="kept_without_rule", arity=1, usage="k(a)", pattern="k({a})",
                    symbol="k", description="", forward=np.negative,
                    partials=(lambda a, out: -np.ones_like(a),),
                    forward_keeping=lambda a: (np.negative(a), None)))
    assert "kept_without_rule" not in REGISTRY
