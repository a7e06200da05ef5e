"""Registry entries for the losses, with PyTorch's names and conventions: mse (mean squared
error), cross_entropy (of logits: softmax folded in), nll_loss (of log-probabilities),
binary_cross_entropy (of probabilities) and binary_cross_entropy_with_logits (a sigmoid folded
in). Each gives its VJP and JVP directly. Targets are data: no gradient flows to them.

Every loss takes `reduction`, PyTorch's argument: "mean" (the default) averages its terms (one
per element, or one per row of classes), "sum" adds them, "none" keeps them, one loss per term.
The expression language has no strings, so the value is written as a bare word:
mse(y, t, reduction=sum). Notation: g is the upstream gradient (a scalar, or one per term for
reduction=none), N the number of terms averaged (1 unless reduction=mean).

`CONVENTIONS` says each loss's convention in words, and the course notes' form beside it (½Σ(y −
t)² where mse is a mean; −Σ t·log y where cross_entropy takes logits), for the narration.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from ..core.arrays import float_type
from ..core.i18n import N_, message
from ..core.registry import Op, register
from .arrays import _sympy_softmax, log_softmax, softmax
from .scalar import _sigmoid

REDUCTIONS = ("mean", "sum", "none")  # PyTorch's names
DATA = N_("none: targets are data")


def checked_reduction(reduction) -> str:
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction is mean, sum or none (PyTorch's names), not {reduction!r}")
    return reduction


def reduce(terms, reduction: str):
    """The loss from its terms (one per element or per row): their mean, their sum, or the
    terms themselves (reduction=none)."""
    if checked_reduction(reduction) == "none":
        return terms
    terms = np.asarray(terms)
    total = np.add.reduce(terms, axis=None)  # np.sum's own work, without its Python layers
    return total / max(terms.size, 1) if reduction == "mean" else total


def per_term(g, reduction: str, count: int):
    """The upstream gradient each term receives: g / N for mean, g for sum, and for none g
    itself, one number per term."""
    return g / max(count, 1) if checked_reduction(reduction) == "mean" else g


def _sympy_reduce(terms, reduction: str) -> np.ndarray:
    terms = np.asarray(terms, dtype=object)
    if checked_reduction(reduction) == "none":
        return terms
    total = np.sum(terms)
    return np.asarray(total / max(terms.size, 1) if reduction == "mean" else total, dtype=object)


def reduced(F, terms, reduction: str):
    """The reduction written with ops, for the composites: mean(terms), sum(terms) or terms."""
    if checked_reduction(reduction) == "none":
        return terms
    return F.mean(terms) if reduction == "mean" else F.sum(terms)


# -- mse: the mean of (pred − target)² over every element ---------------------------------------

def _mse(pred, target, reduction="mean"):
    return reduce((pred - target) ** 2, reduction)


def _mse_vjp(g, inputs, out, needed, reduction="mean"):
    diff = inputs[0] - inputs[1]  # the broadcast shape: the engine sums it back
    scaled = 2.0 * diff * per_term(g, reduction, diff.size)
    return (scaled if needed[0] else None), (-scaled if needed[1] else None)


def _mse_jvp(tangents, inputs, out, reduction="mean"):
    diff = inputs[0] - inputs[1]
    moved = sum(sign * t for sign, t in zip((1.0, -1.0), tangents) if t is not None)
    return reduce(2.0 * diff * moved, reduction)


def _mse_sympy(sp, a, b, reduction="mean"):
    return _sympy_reduce((a - b) ** 2, reduction)


register(Op(
    name="mse", arity=2, usage="mse(pred, target, reduction=mean)",
    pattern="mse({a}, {b}{attrs})", symbol="mse", forward=_mse, partials=None,
    formulas=("{g} · 2({a} − {b}) / N", "−{g} · 2({a} − {b}) / N"),
    sympy_array_rule=_mse_sympy, vjp_rule=_mse_vjp, jvp_rule=_mse_jvp,
    attrs={"reduction": "mean"}, choices={"reduction": REDUCTIONS}, callable_by_name=True,
    description=N_("mean squared error, PyTorch's: mean((pred − target)²) over the elements (the "
                   "notes' ½Σ(y − t)² is half the sum)"
                   "; reduction=mean (the default), sum or none, written as a bare word "
                   "(reduction=sum): N = 1 for sum and none"),
))


# -- targets: class indices or one-hot rows ---------------------------------------------------

def one_hot_target(logits, target, name: str = "cross_entropy") -> np.ndarray:
    """Class indices (N,) or one-hot rows (N, C) as one-hot rows shaped like the logits."""
    indices = _class_indices(logits, target, name)
    if indices is None:
        return np.asarray(target).astype(float_type(logits))
    return np.eye(logits.shape[-1], dtype=float_type(logits))[indices]


class ClassIndexError(IndexError, ValueError):
    """A class index past the last class: PyTorch's IndexError, and a ValueError as every
    other refusal of a target."""


def _class_indices(logits, target, name: str = "cross_entropy"):
    """The target's class indices, checked; None when it is one-hot rows already."""
    target = np.asarray(target)
    if target.shape == logits.shape:
        return None
    if target.shape != logits.shape[:-1]:
        raise ValueError(f"{name}: the target must be class indices of shape "
                         f"{logits.shape[:-1]} or one-hot rows of shape {logits.shape}, "
                         f"not {target.shape}")
    # integer indices are whole already (the common case, and one pass fewer per step)
    if target.dtype == np.int64:
        indices = target
    else:
        with np.errstate(invalid="ignore"):  # nan and inf: refused just below
            indices = target.astype(np.int64)
    if target.dtype.kind not in "iu":
        not_whole = indices != target
        if not_whole.any():
            raise ValueError(f"{name}: class indices must be whole numbers, not "
                             f"{float(target[not_whole].flat[0]):g}")
    classes = logits.shape[-1]
    # one pass: read as unsigned, a negative index is larger than any class
    if indices.size and np.maximum.reduce(indices.view(np.uint64), axis=None) >= classes:
        outside = indices[(indices < 0) | (indices >= classes)].flat[0]
        raise ClassIndexError(f"Target {outside} is out of bounds. ({name}: class indices lie "
                              f"in 0..{classes - 1})")
    return indices


def _known_indices(logits, target):
    """_class_indices without its checks, for the backward pass: the forward pass checked the
    same target already."""
    target = np.asarray(target)
    if target.shape == logits.shape:
        return None
    return target if target.dtype == np.int64 else target.astype(np.int64)


def _with_class_axis(x, name: str, what: str):
    if np.ndim(x) == 0:
        raise ValueError(f"{name} needs {what} with a class axis (shape (C,) or (N, C))")


def _row_terms(log_p, target, name: str):
    """−Σ_c t_c·log p_c for each row: with class indices, minus each row's log-probability
    of its class, picked (no one-hot rows, and no 0·(−∞) = nan where another class's
    probability underflows)."""
    indices = _class_indices(log_p, target, name)
    if indices is None:
        return -np.sum(np.asarray(target).astype(log_p.dtype) * log_p, axis=-1)
    rows = log_p.reshape(-1, log_p.shape[-1])
    picked = rows[np.arange(rows.shape[0]), indices.ravel()]
    return -picked.reshape(log_p.shape[:-1])


def _target_mass(logits, target, name: str):
    """Σ_c t_c of each row, with a class axis kept: 1 for class indices and one-hot rows."""
    if _class_indices(logits, target, name) is None:
        return np.sum(np.asarray(target).astype(float_type(logits)), axis=-1, keepdims=True)
    return 1.0


def _batch(logits) -> int:
    return math.prod(logits.shape[:-1])  # 1 for a single row of logits (C,)


def _per_row(g, reduction: str, logits):
    """The upstream gradient each row receives, with a class axis to broadcast over."""
    share = per_term(g, reduction, _batch(logits))
    return np.expand_dims(share, -1) if reduction == "none" else share


# -- cross_entropy: −log softmax(z)[t] per row, of logits ---------------------------------------

def _cross_entropy(logits, target, reduction="mean"):
    return _cross_entropy_keeping(logits, target, reduction)[0]


def _cross_entropy_keeping(logits, target, reduction="mean"):
    """(loss, kept): with class indices, kept is each row's exp(z − max z) and their sum,
    from which the VJP's softmax is one division (None for one-hot rows)."""
    _with_class_axis(logits, "cross_entropy", "logits")
    indices = _class_indices(logits, target, "cross_entropy")
    if indices is None:
        return reduce(_row_terms(log_softmax(logits), target, "cross_entropy"), reduction), None
    # with class indices, log softmax is needed only where each row's class is: log Σ exp(s)
    # − s[t] per row of s = z − max z (the same numbers as −log_softmax(z)[t])
    rows = logits.reshape(-1, logits.shape[-1])
    shifted = rows - np.maximum.reduce(rows, axis=1, keepdims=True)
    terms = -shifted[np.arange(rows.shape[0]), indices.ravel()]
    exp = np.exp(shifted, out=shifted)
    total = np.add.reduce(exp, axis=1, keepdims=True)
    terms += np.log(total[:, 0])
    return reduce(terms.reshape(logits.shape[:-1]), reduction), (exp, total)


def _softmax_minus_target(logits, target, kept=None):
    """softmax(z)·Σt − t, the gradient of −Σ t·log softmax(z) (softmax − onehot for one-hot
    rows and class indices, where only one number per row changes: no one-hot rows built).
    `kept` is the forward's (exp(z − max z), row sums), with class indices."""
    if kept is None:
        probs = softmax(logits)
    else:
        exp, total = kept
        probs = np.divide(exp, total).reshape(logits.shape)
    indices = _known_indices(logits, target)
    if indices is None:
        probs *= _target_mass(logits, target, "cross_entropy")
        probs -= np.asarray(target).astype(float_type(logits))
    else:
        rows = probs.reshape(-1, probs.shape[-1])  # probs is fresh, so this is a view
        rows[np.arange(rows.shape[0]), indices.ravel()] -= 1
    return probs


def _cross_entropy_vjp(g, inputs, out, needed, reduction="mean", kept=None):
    if not needed[0]:
        return None, None
    logits, target = inputs
    grad = _softmax_minus_target(logits, target, kept)
    grad *= _per_row(g, reduction, logits)  # grad is fresh: scale it in place
    return grad, None


def _cross_entropy_jvp(tangents, inputs, out, reduction="mean"):
    logits, target = inputs
    if tangents[0] is None:
        return np.zeros(np.shape(out), dtype=float_type(out))
    rows = np.sum(_softmax_minus_target(logits, target) * tangents[0], axis=-1)
    return reduce(rows, reduction)


def _cross_entropy_sympy(sp, logits, target, reduction="mean"):
    target = np.asarray(target, dtype=np.float64)  # targets are data, never differentiated
    log_p = np.frompyfunc(sp.log, 1, 1)(_sympy_softmax(sp, logits))
    rows = one_hot_target(np.zeros(logits.shape), target)
    return _sympy_reduce(-np.sum(rows * log_p, axis=-1), reduction)


register(Op(
    name="cross_entropy", arity=2, usage="cross_entropy(logits, target, reduction=mean)",
    pattern="cross_entropy({a}, {b}{attrs})", symbol="CE", forward=_cross_entropy,
    partials=None, formulas=("{g} · (softmax({a}) − onehot({b})) / N", DATA),
    sympy_array_rule=_cross_entropy_sympy, vjp_rule=_cross_entropy_vjp,
    forward_keeping=_cross_entropy_keeping,
    jvp_rule=_cross_entropy_jvp, attrs={"reduction": "mean"}, choices={"reduction": REDUCTIONS},
    differentiable=(True, False), index_inputs=(1,), callable_by_name=True,
    description=N_("softmax cross-entropy of logits (it applies softmax itself): −log "
                   "softmax(logits)[target] per row, mean over the rows; target as class indices "
                   "or one-hot rows; grad = (softmax − onehot) / N. For probabilities p, "
                   "nll_loss(log(p), target)"
                   "; reduction=mean (the default), sum or none, written as a bare word "
                   "(reduction=sum): N = 1 for sum and none"),
))


# -- nll_loss: −x[t] per row, of log-probabilities ----------------------------------------------

def _nll_loss(log_p, target, reduction="mean"):
    _with_class_axis(log_p, "nll_loss", "log-probabilities")
    return reduce(_row_terms(log_p, target, "nll_loss"), reduction)


def _nll_loss_vjp(g, inputs, out, needed, reduction="mean"):
    if not needed[0]:
        return None, None
    log_p, target = inputs
    grad = -one_hot_target(log_p, target, "nll_loss")
    return grad * _per_row(g, reduction, log_p), None


def _nll_loss_jvp(tangents, inputs, out, reduction="mean"):
    log_p, target = inputs
    if tangents[0] is None:
        return np.zeros(np.shape(out), dtype=float_type(out))
    rows = -np.sum(one_hot_target(log_p, target, "nll_loss") * tangents[0], axis=-1)
    return reduce(rows, reduction)


def _nll_loss_sympy(sp, log_p, target, reduction="mean"):
    rows = one_hot_target(np.zeros(log_p.shape), np.asarray(target, dtype=np.float64),
                          "nll_loss")
    return _sympy_reduce(-np.sum(rows * log_p, axis=-1), reduction)


register(Op(
    name="nll_loss", arity=2, usage="nll_loss(log_probs, target, reduction=mean)",
    pattern="nll_loss({a}, {b}{attrs})", symbol="NLL", forward=_nll_loss, partials=None,
    formulas=("−{g} · onehot({b}) / N", DATA), sympy_array_rule=_nll_loss_sympy,
    vjp_rule=_nll_loss_vjp, jvp_rule=_nll_loss_jvp, attrs={"reduction": "mean"}, choices={"reduction": REDUCTIONS},
    differentiable=(True, False), index_inputs=(1,), callable_by_name=True,
    description=N_("negative log-likelihood of log-probabilities (log_softmax(z), or log(p) for "
                   "probabilities p): −log_probs[target] per row, mean over the rows; target as "
                   "class indices (or one-hot rows); cross_entropy(z, t) = "
                   "nll_loss(log_softmax(z), t)"
                   "; reduction=mean (the default), sum or none, written as a bare word "
                   "(reduction=sum): N = 1 for sum and none"),
))


# -- binary cross-entropy, of probabilities and of logits ---------------------------------------

def _targets_like(z, y):
    """Targets (data) in the inputs' float type: float32 inputs keep a float32 loss."""
    return np.asarray(y, dtype=float_type(z))


LOG_FLOOR = -100.0  # PyTorch's: log p is taken as at least −100, so p = 0 or 1 gives a number
BCE_EPSILON = 1e-12  # PyTorch's floor under p(1 − p) in the gradient


def _bce_terms(p, y):
    y = _targets_like(p, y)
    with np.errstate(divide="ignore"):  # log 0 = −inf, floored at −100 as PyTorch does
        log_p, log_q = np.log(p), np.log1p(-p)
    return -(y * np.maximum(log_p, LOG_FLOOR) + (1 - y) * np.maximum(log_q, LOG_FLOOR))


def _bce(p, y, reduction="mean"):
    return reduce(_bce_terms(p, y), reduction)


def _bce_slope(p, y):
    """d term / d p = (p − y) / (p(1 − p)), the denominator floored as PyTorch's is."""
    y = _targets_like(p, y)
    return (p - y) / np.maximum(p * (1 - p), BCE_EPSILON)


def _bce_vjp(g, inputs, out, needed, reduction="mean"):
    if not needed[0]:
        return None, None
    slope = _bce_slope(*inputs)
    return slope * per_term(g, reduction, slope.size), None


def _bce_jvp(tangents, inputs, out, reduction="mean"):
    if tangents[0] is None:
        return np.zeros(np.shape(out), dtype=float_type(out))
    return reduce(_bce_slope(*inputs) * tangents[0], reduction)


def _bce_sympy(sp, p, y, reduction="mean"):
    y = np.asarray(y, dtype=np.float64)  # targets are data
    terms = np.frompyfunc(lambda a, t: -(t * sp.log(a) + (1 - t) * sp.log(1 - a)), 2, 1)(p, y)
    return _sympy_reduce(terms, reduction)


def _bce_composite(F, p, y, reduction="mean"):
    return reduced(F, -(y * F.log(p) + (1 - y) * F.log(1 - p)), reduction)


def _why_bce(p, y):
    if np.any((p < 0) | (p > 1)):
        return message("binary_cross_entropy takes probabilities in [0, 1] (for logits use "
                       "binary_cross_entropy_with_logits)")
    return None


register(Op(
    name="binary_cross_entropy", arity=2,
    usage="binary_cross_entropy(p, target, reduction=mean)",
    pattern="binary_cross_entropy({a}, {b}{attrs})", symbol="BCE", forward=_bce,
    formulas=("{g} · ({a} − {b}) / ({a}(1 − {a})) / N", DATA),
    sympy_array_rule=_bce_sympy, vjp_rule=_bce_vjp, jvp_rule=_bce_jvp,
    composite=_bce_composite, attrs={"reduction": "mean"}, choices={"reduction": REDUCTIONS}, differentiable=(True, False),
    callable_by_name=True, trouble=_why_bce,
    description=N_("binary cross-entropy of probabilities p in [0, 1] against targets in [0, 1]: "
                   "−[y·log p + (1 − y)·log(1 − p)], mean over the elements (each log at least "
                   "−100, as in PyTorch); for logits, binary_cross_entropy_with_logits"
                   "; reduction=mean (the default), sum or none, written as a bare word "
                   "(reduction=sum): N = 1 for sum and none"),
))


def _bce_with_logits_terms(z, y):
    # softplus(z) − y·z = −y·log σ(z) − (1 − y)·log(1 − σ(z)), written so exp never overflows
    y = _targets_like(z, y)
    return np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))


def _bce_with_logits(z, y, reduction="mean"):
    return reduce(_bce_with_logits_terms(z, y), reduction)


def _bce_with_logits_vjp(g, inputs, out, needed, reduction="mean"):
    if not needed[0]:
        return None, None
    z, y = inputs[0], _targets_like(*inputs)
    slope = _sigmoid(z) - y
    return slope * per_term(g, reduction, slope.size), None


def _bce_with_logits_jvp(tangents, inputs, out, reduction="mean"):
    z, y = inputs[0], _targets_like(*inputs)
    if tangents[0] is None:
        return np.zeros(np.shape(out), dtype=float_type(out))
    return reduce((_sigmoid(z) - y) * tangents[0], reduction)


def _bce_with_logits_sympy(sp, z, y, reduction="mean"):
    y = np.asarray(y, dtype=np.float64)  # targets are data
    terms = np.frompyfunc(lambda a, t: sp.log(1 + sp.exp(a)) - a * t, 2, 1)(z, y)
    return _sympy_reduce(terms, reduction)


register(Op(
    name="binary_cross_entropy_with_logits", arity=2,
    usage="binary_cross_entropy_with_logits(z, target, reduction=mean)",
    pattern="binary_cross_entropy_with_logits({a}, {b}{attrs})", symbol="BCE",
    forward=_bce_with_logits, formulas=("{g} · (σ({a}) − {b}) / N", DATA),
    sympy_array_rule=_bce_with_logits_sympy, vjp_rule=_bce_with_logits_vjp,
    jvp_rule=_bce_with_logits_jvp, differentiable=(True, False), callable_by_name=True,
    composite=lambda F, z, y, reduction="mean": reduced(F, F.softplus(z) - z * y, reduction),
    attrs={"reduction": "mean"}, choices={"reduction": REDUCTIONS},
    description=N_("binary cross-entropy of logits z (a sigmoid folded in) against targets in "
                   "[0, 1], mean over the elements: mean(softplus(z) − y·z); grad = (σ(z) − y) / N"
                   "; reduction=mean (the default), sum or none, written as a bare word "
                   "(reduction=sum): N = 1 for sum and none"),
))


# -- the conventions, in words, for the narration ------------------------------------------------

class Misuse(NamedTuple):
    """An input that looks meant for another loss: what to say (a template marked for the
    catalog; {a}, {b}: the inputs' names) and its other fields: numbers, written by the
    narration's formatter, and formulas, in which {a} and {b} are filled in too."""

    why: str
    fields: dict = {}


class Convention(NamedTuple):
    """How a loss is computed, said in words, and the notes' form beside it.

    `takes`: what the loss expects; `term`: one term, with {a}, {b} for the inputs (`term_rows`
    when the target is given as rows); `over`: what a term is computed for ("element", "row");
    `notes`: the course notes' form of the same loss and `notes_factor` × Σ terms its value
    (½ for ½Σ(y − t)²); `misuse`: (inputs, attrs) → a Misuse, or None when all looks right.
    """

    takes: str
    term: str
    over: str
    notes: str
    notes_factor: float = 1.0
    term_rows: str | None = None
    misuse: Callable | None = None


def looks_like_probabilities(x) -> bool:
    """Rows of at least two classes, every entry in [0, 1], each row summing to 1 (to three
    decimals, as probabilities copied from notes are written)."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 0 or x.shape[-1] < 2 or x.size == 0 or not np.all(np.isfinite(x)):
        return False
    return bool(np.all((x >= 0) & (x <= 1)) and
                np.all(np.abs(np.sum(x, axis=-1) - 1) <= 5e-3))


def _as_probabilities(p, target, reduction: str, name: str):
    """(nll_loss(log(p), t) with this reduction, the notes' −Σ t·log p) for probabilities p."""
    with np.errstate(all="ignore"):
        terms = _row_terms(np.log(np.asarray(p, dtype=np.float64)), target, name)
    return reduce(terms, reduction), np.sum(terms)


def _probabilities_fields(reduction: str, nll, notes, one_hot: bool) -> tuple[bool, dict]:
    """Whether nll_loss(log(p), t) and the notes' form give the same number here, and the
    fields that say them: {call}, {notes_form} (with {a}, {b} in them), {nll}, {notes}."""
    notes_form = "-sum({b}*log({a}))" if one_hot else "−Σ {b}·log {a} ({b} one-hot)"
    given = "" if reduction == "mean" else f", reduction={reduction}"
    same = reduction != "none" and bool(np.isclose(nll, notes, rtol=1e-12, atol=0))
    return same, {"call": "nll_loss(log({a}), {b}" + given + ")", "notes_form": notes_form,
                  "nll": nll, "notes": notes}


def _cross_entropy_misuse(inputs, attrs) -> Misuse | None:
    logits, target = inputs
    if not looks_like_probabilities(logits):
        return None
    reduction = attrs.get("reduction", "mean")
    nll, notes = _as_probabilities(logits, target, reduction, "cross_entropy")
    same, fields = _probabilities_fields(reduction, nll, notes,
                                         np.shape(target) == np.shape(logits))
    if same:
        return Misuse(N_("cross_entropy takes logits (it applies softmax itself), but the rows "
                         "of {a} look like probabilities (every entry in [0, 1], each row "
                         "summing to 1), so softmax is applied on top of them. For "
                         "probabilities, {call} or the notes' {notes_form} gives {nll}."), fields)
    return Misuse(N_("cross_entropy takes logits (it applies softmax itself), but the rows of "
                     "{a} look like probabilities (every entry in [0, 1], each row summing to "
                     "1), so softmax is applied on top of them. For probabilities, {call} "
                     "gives {nll}, the notes' {notes_form} {notes}."), fields)


def _nll_loss_misuse(inputs, attrs) -> Misuse | None:
    log_p, target = inputs
    if looks_like_probabilities(log_p):
        reduction = attrs.get("reduction", "mean")
        nll, notes = _as_probabilities(log_p, target, reduction, "nll_loss")
        same, fields = _probabilities_fields(reduction, nll, notes,
                                             np.shape(target) == np.shape(log_p))
        if same:
            return Misuse(N_("nll_loss takes log-probabilities, but the rows of {a} look like "
                             "probabilities (every entry in [0, 1], each row summing to 1). "
                             "For probabilities, {call} or the notes' {notes_form} gives "
                             "{nll}."), fields)
        return Misuse(N_("nll_loss takes log-probabilities, but the rows of {a} look like "
                         "probabilities (every entry in [0, 1], each row summing to 1). For "
                         "probabilities, {call} gives {nll}, the notes' {notes_form} {notes}."),
                      fields)
    if np.any(np.asarray(log_p) > 0):
        return Misuse(N_("nll_loss takes log-probabilities (each ≤ 0, such as log_softmax(z)), "
                         "but {a} has entries above 0; for logits z, cross_entropy(z, {b}) is "
                         "nll_loss(log_softmax(z), {b})."))
    return None


def _bce_misuse(inputs, attrs) -> Misuse | None:
    p, target = inputs
    if np.all((np.asarray(p) >= 0) & (np.asarray(p) <= 1)):
        return None
    value = _bce_with_logits(np.asarray(p, dtype=np.float64), target,
                             attrs.get("reduction", "mean"))
    return Misuse(N_("binary_cross_entropy takes probabilities in [0, 1], but {a} has entries "
                     "outside it: if they are logits, binary_cross_entropy_with_logits({a}, {b}) "
                     "applies the sigmoid first and gives {value}."), {"value": value})


CONVENTIONS: dict[str, Convention] = {
    "mse": Convention(
        takes=N_("PyTorch's mean squared error"), term="({a} − {b})²", over="element",
        notes="½Σ({a} − {b})²", notes_factor=0.5),
    "cross_entropy": Convention(
        takes=N_("cross_entropy takes logits (it applies softmax itself)"),
        term="−log softmax({a})[{b}]", term_rows="−Σ {b}·log softmax({a})", over="row",
        notes="−Σ {b}·log softmax({a})", misuse=_cross_entropy_misuse),
    "nll_loss": Convention(
        takes=N_("nll_loss takes log-probabilities (log_softmax(z), or log(p) for "
                 "probabilities)"),
        term="−{a}[{b}]", term_rows="−Σ {b}·{a}", over="row", notes="−Σ {b}·{a}",
        misuse=_nll_loss_misuse),
    "binary_cross_entropy": Convention(
        takes=N_("binary_cross_entropy takes probabilities in [0, 1]"),
        term="−[{b}·log {a} + (1 − {b})·log(1 − {a})]", over="element",
        notes="−Σ [{b}·log {a} + (1 − {b})·log(1 − {a})]", misuse=_bce_misuse),
    "binary_cross_entropy_with_logits": Convention(
        takes=N_("binary_cross_entropy_with_logits takes logits (it applies the sigmoid "
                 "itself)"),
        term="softplus({a}) − {b}·{a}", over="element",
        notes="−Σ [{b}·log σ({a}) + (1 − {b})·log(1 − σ({a}))]"),
}
