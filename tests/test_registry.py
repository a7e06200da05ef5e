"""gradtrace.core.registry: every registry entry's display formulas and pattern use only the
placeholders the narration fills in (the op's inputs, its output, the upstream gradient and
its attributes); an elementwise op's formulas are local derivatives.
"""

from __future__ import annotations

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
