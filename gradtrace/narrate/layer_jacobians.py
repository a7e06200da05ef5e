"""Jacobians at layer level: ∂(layer output)/∂(layer input) for the first sample of the batch
(samples never mix, so the whole batch's Jacobian is this block repeated down the diagonal),
and for conv2d also ∂z/∂W, whose pattern shows weight sharing.

For conv2d the picture is the point: each output reads only a KH×KW window of the input (local
connectivity: a few non-zeros per row), and every output of one filter reads the same KH·KW·C
weights (weight sharing: the same columns light up all the way down a filter's rows).
"""

from __future__ import annotations

import numpy as np

from ..core.i18n import _, data
from ..jacobians.local import local_jacobian
from ..jacobians.structure import classify
from ..ops import REGISTRY
from .blocks import Picture, Section
from .numbers import fmt
from .pictures import sparsity_picture

MAX_ENTRIES = 250_000  # a layer Jacobian larger than this is described, not built
PICTURE_SIDE = 64


def jacobian_section(result, precision: int) -> Section:
    records = result.trace.by_id
    blocks: list = [_("For the first sample (samples never mix: the batch's Jacobian repeats "
                      "this block down its diagonal). Backprop never builds these; it multiplies "
                      "by their transposes directly.")]
    for layer in result.layers[:-1]:  # the loss's Jacobian is the gradient itself
        blocks += _layer_blocks(layer, records, precision)
    return Section(_("Jacobians, layer by layer"), tuple(blocks), "jacobians")


def _first_sample(layer, records) -> tuple:
    x = np.asarray(records[layer.input].value)[:1]
    params = tuple(np.asarray(value) for _, value in layer.spec.params)
    return (x,) + params


def _layer_blocks(layer, records, precision: int) -> list:
    spec = layer.spec
    op = REGISTRY[spec.op]
    inputs = _first_sample(layer, records)
    with np.errstate(all="ignore"):
        out = op.evaluate(inputs, dict(spec.attrs))
    matrix = _built(op, inputs, out, 0, spec)
    blocks = [_head(layer.name, "∂out/∂in", spec.op, matrix, inputs[0], out, precision)]
    if matrix is None:
        return blocks
    if spec.op == "conv2d":
        rows = int(np.prod(np.shape(out)[2:]))  # the first filter's output positions
        blocks += [_("Local connectivity, first filter (one row per output position, one column "
                     "per input entry): each row reads one KH×KW window."),
                   Picture(sparsity_picture(matrix[:rows], PICTURE_SIDE))]
        weights = _built(op, inputs, out, 1, spec)
        blocks.append(_head(layer.name, "∂out/∂W", spec.op, weights, inputs[1], out, precision))
        if weights is not None:
            blocks += [_("Weight sharing: every row of one filter (every output position) uses "
                         "the same columns, that filter's weights."),
                       Picture(sparsity_picture(weights, PICTURE_SIDE))]
    elif classify(matrix)[0] not in QUIET:
        blocks.append(Picture(sparsity_picture(matrix, PICTURE_SIDE)))
    return blocks


QUIET = ("dense", "diagonal", "zero", "empty", "permutation")  # said in words, no picture


def _built(op, inputs, out, index, spec) -> np.ndarray | None:
    if np.size(out) * np.size(inputs[index]) > MAX_ENTRIES:
        return None
    with np.errstate(all="ignore"):
        return local_jacobian(op, inputs, out, index, dict(spec.attrs))


def _head(name, what, op_name, matrix, x, out, precision: int) -> str:
    rows, columns = int(np.size(out)), int(np.size(x))
    if matrix is None:
        return _("{name} ({op}): {what} is {rows} × {columns}: too large to build here.",
                 name=name, op=op_name, what=what, rows=rows, columns=columns)
    structure, sentence = classify(matrix)
    density = np.count_nonzero(matrix) / matrix.size if matrix.size else 0.0
    reads = int(np.count_nonzero(matrix, axis=1).max(initial=0))
    return _("{name} ({op}): {what} is {rows} × {columns}, {structure}, density {density}; each "
             "output reads at most {reads} of {columns} entries. {sentence}.", name=name,
             op=op_name, what=what, rows=rows, columns=columns, structure=data(structure),
             density=fmt(density, precision), reads=reads,
             sentence=sentence[:1].upper() + sentence[1:])
