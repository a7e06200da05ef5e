"""The structure of a Jacobian, named in words: what makes backprop cheap.

A Jacobian J (m × n: output elements × input elements) is named by the first of these that fits:

- "empty": m or n is 0;  "zero": no entry is non-zero (no gradient flows back);
- "diagonal": square, non-zero on the diagonal only (elementwise ops: backprop multiplies ⊙);
- "permutation": square, one 1 in every row and column (transpose, reshape);
- "selection": at most one non-zero per row, each a 1 (indexing, broadcasting, max);
- "block diagonal": p diagonal blocks, zero outside them; "block (Kronecker) structure" when the
  blocks repeat, I_p ⊗ B (matmul's grad with respect to W: x repeated along the diagonal);
- "diagonal blocks": every q × q block is diagonal (A ⊗ I when each is a multiple of I);
- "banded": square, non-zero only near the diagonal;  "sparse": density < 0.5;  "dense".

Only J's non-zero pattern (and, for repeats, its values) is read; nan counts as non-zero.
"""

from __future__ import annotations

import math

import numpy as np

from ..core.i18n import N_, _

# The structures' names (data: JSON keeps them in English), said to a reader with i18n.data.
NAMES = (N_("empty"), N_("zero"), N_("diagonal"), N_("permutation"), N_("selection"),
         N_("block diagonal"), N_("diagonal blocks"), N_("banded"), N_("sparse"), N_("dense"))
SPARSE_BELOW = 0.5  # density under which a Jacobian is called sparse
BAND_FRACTION = 4  # banded: every non-zero within n / 4 of the diagonal


def classify(matrix: np.ndarray) -> tuple[str, str]:
    """(structure, a sentence saying what it means) for a built Jacobian."""
    m, n = matrix.shape
    if matrix.size == 0:
        return "empty", _("no entries: the output or the input has no elements")
    nonzero = matrix != 0
    count = int(np.count_nonzero(nonzero))
    if count == 0:
        return "zero", _("every entry is 0: no gradient flows back along this edge")
    for test in (_diagonal, _one_per_row, _block_diagonal, _diagonal_blocks, _banded):
        found = test(matrix, nonzero, count)
        if found is not None:
            return found
    if count / matrix.size < SPARSE_BELOW:
        return "sparse", _("{count} of {size} entries are non-zero", count=count, size=matrix.size)
    if np.all(matrix == 1):
        return "dense", _("every entry is 1: each input element gets the whole upstream gradient")
    if count == matrix.size:
        return "dense", _("every output element depends on every input element")
    return "dense", _("{count} of {size} entries are non-zero", count=count, size=matrix.size)


def _diagonal(matrix, nonzero, count):
    m, n = matrix.shape
    if m != n or np.count_nonzero(np.diagonal(nonzero)) != count:
        return None
    if m == 1:
        return "diagonal", _("1 × 1: the local derivative itself")
    if np.all(np.diagonal(matrix) == 1):
        return "diagonal", _("the identity: the gradient passes through unchanged")
    return "diagonal", (_("elementwise: output i depends on input i only, so backprop "
                          "multiplies by the diagonal elementwise (⊙) and never builds J"))


def _one_per_row(matrix, nonzero, count):
    if nonzero.sum(axis=1).max() > 1 or not np.all(matrix[nonzero] == 1):
        return None
    m, n = matrix.shape
    per_column = nonzero.sum(axis=0)
    if m == n and count == m and per_column.max() == 1:
        return "permutation", (_("each output element is one input element, moved: the "
                                 "gradient is moved back"))
    if per_column.max() > 1:
        return "selection", (_("each output element copies one input element (broadcast): "
                               "the gradients of the copies add up"))
    return "selection", (_("each output element is one selected input element; the others "
                           "get gradient 0"))


def _divisors_descending(m: int, n: int) -> list[int]:
    g = math.gcd(m, n)
    return [d for d in range(g, 1, -1) if g % d == 0]


def _block_diagonal(matrix, nonzero, count):
    """p blocks of (m/p × n/p) on the diagonal, the finest such split."""
    m, n = matrix.shape
    for p in _divisors_descending(m, n):
        r, c = m // p, n // p
        if r == c == 1:
            continue  # that is the diagonal, already tested
        on_diagonal = nonzero.reshape(p, r, p, c)[np.arange(p), :, np.arange(p), :]
        if np.count_nonzero(on_diagonal) != count:
            continue
        blocks = matrix.reshape(p, r, p, c)[np.arange(p), :, np.arange(p), :]
        if np.all(blocks == blocks[0]):
            return "block diagonal", _("block (Kronecker) structure I_{p} ⊗ B: the same {r}×{c} block B "
                                          "repeated {p} times along the diagonal", p=p, r=r, c=c)
        return "block diagonal", _("{p} blocks of {r}×{c} on the diagonal, zero elsewhere", p=p, r=r, c=c)
    return None


def _diagonal_blocks(matrix, nonzero, count):
    """(m/q × n/q) blocks, each q × q and diagonal: J[(i,s),(j,t)] = 0 unless s = t."""
    m, n = matrix.shape
    for q in _divisors_descending(m, n):
        if m == n == q:
            continue  # one block: that is the diagonal, already tested
        diagonals = np.diagonal(nonzero.reshape(m // q, q, n // q, q), axis1=1, axis2=3)
        if np.count_nonzero(diagonals) != count:
            continue
        values = np.diagonal(matrix.reshape(m // q, q, n // q, q), axis1=1, axis2=3)
        text = _("{rows}×{columns} blocks, each {q}×{q} and diagonal", rows=m // q,
                 columns=n // q, q=q)
        if np.all(values == values[..., :1]):
            text = _("{rows}×{columns} blocks, each {q}×{q} and diagonal (Kronecker A ⊗ I_{q}: "
                     "each block a multiple of the identity)", rows=m // q, columns=n // q, q=q)
        return "diagonal blocks", text
    return None


def _banded(matrix, nonzero, count):
    m, n = matrix.shape
    if m != n or n < BAND_FRACTION:
        return None
    rows, columns = np.nonzero(nonzero)
    width = int(np.max(np.abs(rows - columns)))
    if width > n // BAND_FRACTION:
        return None
    return "banded", _("non-zero only within {width} of the diagonal", width=width)


# -- when J is too large to build: its structure from the op alone -------------------------

_MOVERS = {"transpose": "permutation", "reshape": "permutation", "index": "selection",
           "amax": "selection", "amin": "selection"}


def infer(op, inputs: tuple, out: np.ndarray, index: int, attrs: dict) -> tuple[str, float, str]:
    """(structure, density, sentence) from what the op is: J's non-zeros are the input
    elements each output element depends on (`reach` of them), so density = reach / x.size."""
    x = np.asarray(inputs[index])
    m, n = max(np.size(out), 1), max(x.size, 1)
    if op.elementwise:
        if x.shape == np.shape(out):
            return "diagonal", 1 / n, _("elementwise: output i depends on input i only")
        return _by_density(1 / n, _("each output element depends on one element of the "
                                    "broadcast input"))
    if op.name in _MOVERS:
        return _MOVERS[op.name], 1 / n, _("each output element is one input element")
    if op.name in ("sum", "mean"):
        return _by_density(1 / m, _("each output element adds up {count} input elements", count=n // m))
    if op.name in ("softmax", "log_softmax"):
        return _softmax_structure(x, attrs.get("axis", -1))
    if op.name == "matmul":
        return _matmul_structure(inputs, index)
    return _by_density(1.0, _("every output element may depend on every input element"))


def _by_density(density: float, text: str) -> tuple[str, float, str]:
    return ("sparse" if density < SPARSE_BELOW else "dense"), density, text


def _softmax_structure(x, axis) -> tuple[str, float, str]:
    axis = axis % x.ndim if x.ndim else 0
    reach = x.shape[axis] if x.ndim else 1
    density = reach / max(x.size, 1)
    text = _("each output element depends on the {reach} elements of its slice along axis "
             "{axis}", reach=reach, axis=axis)
    if density < 1 and axis == x.ndim - 1:
        return "block diagonal", density, text
    return _by_density(density, text)


def _matmul_structure(inputs, index) -> tuple[str, float, str]:
    a, b = (np.asarray(v) for v in inputs)
    inner = a.shape[-1]  # each output element is a dot product over `inner` pairs
    density = inner / max(np.asarray(inputs[index]).size, 1)
    if density >= 1:
        return "dense", 1.0, _("every output element depends on every input element")
    if max(a.ndim, b.ndim) > 2:
        return "sparse", density, _("each output element is a dot product of {inner} pairs", inner=inner)
    if index == 0:
        return "block diagonal", density, (_("block (Kronecker) structure I ⊗ B: the same block "
                                                "repeated along the diagonal"))
    return "diagonal blocks", density, _("Kronecker A ⊗ I: each block a multiple of the identity")
