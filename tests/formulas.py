"""Random expressions with their oracle: a `Formula` is an expression's text (fed to the
parser) and the same expression in SymPy, written side by side by the tests — never by
gradtrace's own SymPy rules.

Each row of the per-op table (op_cases.py) has a `form`: `form(draw, child)` writes its op
around sub-expressions, taking each from `child()` and drawing any choice (how many elements,
which axis, which element to read) with `draw`. Arguments are made valid by construction
(log(1 + a**2), positive bases, batch elements that differ by at least 1), so most examples
are usable. Array ops work on small arrays built from scalar sub-expressions (`vector`) and
give a scalar back, so SymPy can check every gradient; an array op meets at least two
elements, where its gradient is not trivial (softmax of one element is 1 whatever it is).
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy
from hypothesis import strategies as st


@dataclass(frozen=True)
class Formula:
    text: str  # fully parenthesised, for the parser
    sym: object  # the same expression in SymPy (a tuple of them for a vector), for the oracle
    names: tuple[str, ...]  # variables in order of first appearance in `text`
    kink_distances: tuple = ()  # SymPy expressions that are 0 exactly at a kink

    def __repr__(self) -> str:
        return f"Formula({self.text!r})"


def written(text: str, sym, *parts: Formula, kinks=()) -> Formula:
    """A formula whose text uses `parts` in this order."""
    names: list[str] = []
    for part in parts:
        names += [name for name in part.names if name not in names]
    inherited = tuple(k for part in parts for k in part.kink_distances)
    return Formula(text, sym, tuple(names), inherited + tuple(kinks))


def constant(text: str) -> Formula:
    return Formula(text, sympy.Rational(text), ())


def call(name: str, *args: Formula, sym, kink=None, attrs: str = "") -> Formula:
    text = f"{name}({', '.join(a.text for a in args)}{attrs})"
    return written(text, sym, *args, kinks=() if kink is None else (kink,))


def infix(a: Formula, symbol: str, b: Formula, sym) -> Formula:
    return written(f"({a.text}) {symbol} ({b.text})", sym, a, b)


def positive(a: Formula) -> Formula:
    """1 + a**2: at least 1, smooth everywhere."""
    return written(f"(1 + ({a.text})**2)", 1 + a.sym**2, a)


def bounded(a: Formula) -> Formula:
    """sin(a): in [-1, 1], for exponents."""
    return call("sin", a, sym=sympy.sin(a.sym))


def unary(build):
    return lambda draw, child: build(child())


def binary(build):
    def form(draw, child):
        a = child()
        return build(a, child())
    return form


# -- small arrays from scalar sub-expressions -----------------------------------------------


def basis(i: int, k: int) -> str:
    """The constant (k,) vector with a 1 at i, in the expression language (which has no array
    literals): a 1 padded with k − 1 zeros on each side by im2col, then sliced."""
    padded = f"reshape(im2col(reshape(1, 1, 1, 1, 1), kernel=1, padding=(0, {k - 1})), {2 * k - 1})"
    return f"{padded}[{k - 1 - i}:{2 * k - 1 - i}]"


def vector(parts: list[Formula]) -> Formula:
    """The (k,) array of the parts: Σ_i part_i · e_i."""
    k = len(parts)
    text = " + ".join(f"({part.text}) * {basis(i, k)}" for i, part in enumerate(parts))
    return written(f"({text})", tuple(part.sym for part in parts), *parts)


def children(child, count: int) -> list[Formula]:
    return [child() for _ in range(count)]


def ties(syms) -> tuple:
    """Kink distances of a max or min over these elements: every pairwise difference."""
    return tuple(a - b for i, a in enumerate(syms) for b in syms[i + 1:])


def picked(formula: Formula, sym, key: str) -> Formula:
    """One element of an array formula, by an index written in the text."""
    return written(f"({formula.text})[{key}]", sym, formula)


def weighted(formula: Formula, syms) -> Formula:
    """u @ (1, 2, ..., k) for a (k,) array formula u with elements `syms`: every element
    counts, each with its own weight, so a misplaced element shows."""
    weights = vector([constant(str(i + 1)) for i in range(len(syms))])
    return written(f"({formula.text}) @ ({weights.text})",
                   sum((i + 1) * s for i, s in enumerate(syms)), formula)


# -- the array ops' forms --------------------------------------------------------------------

axis_texts = st.sampled_from(["", ", axis=0", ", axis=-1", ", axis=None", ", axis=(0,)"])


def matmul_form(draw, child):
    """u @ v for two vectors: Σ u_i·v_i."""
    k = draw(st.integers(2, 3))
    u, v = vector(children(child, k)), vector(children(child, k))
    return written(f"({u.text}) @ ({v.text})", sum(a * b for a, b in zip(u.sym, v.sym)), u, v)


def transpose_form(draw, child):
    """reshape(v, 2, 2).T read row by row is (v0, v2, v1, v3)."""
    v = vector(children(child, 4))
    swapped = written(f"reshape(reshape({v.text}, 2, 2).T, 4)", None, v)
    return weighted(swapped, [v.sym[i] for i in (0, 2, 1, 3)])


def reshape_form(draw, child):
    """reshape(v, 2, 2) summed down its columns is (v0 + v2, v1 + v3): rows are filled first."""
    v = vector(children(child, 4))
    columns = written(f"sum(reshape({v.text}, 2, 2), axis=0)", None, v)
    return weighted(columns, [v.sym[0] + v.sym[2], v.sym[1] + v.sym[3]])


def index_form(draw, child):
    """v[::-1] or v[:]: every element, in the order the slice reads them."""
    v = vector(children(child, draw(st.integers(2, 3))))
    key, order = draw(st.sampled_from([("::-1", -1), (":", 1)]))
    return weighted(picked(v, None, key), v.sym[::order])


def sum_form(draw, child):
    v = vector(children(child, draw(st.integers(2, 3))))
    return written(f"sum({v.text}{draw(axis_texts)})", sum(v.sym), v)


def mean_form(draw, child):
    v = vector(children(child, draw(st.integers(2, 3))))
    return written(f"mean({v.text}{draw(axis_texts)})", sum(v.sym) / len(v.sym), v)


def extreme_form(name: str, extreme):
    def form(draw, child):
        v = vector(children(child, draw(st.integers(2, 3))))
        return written(f"{name}({v.text}{draw(axis_texts)})", extreme(*v.sym), v,
                       kinks=ties(v.sym))
    return form


def _softmax_syms(syms):
    return [sympy.exp(s) / sum(sympy.exp(t) for t in syms) for s in syms]


def softmax_form(log: bool):
    """softmax(v)[j] (or log_softmax) over two or three elements: it moves with every one."""
    def form(draw, child):
        v = vector(children(child, draw(st.integers(2, 3))))
        j = draw(st.integers(0, len(v.sym) - 1))
        p = _softmax_syms(v.sym)[j]
        name = "log_softmax" if log else "softmax"
        axis = draw(st.sampled_from(["", ", axis=0", ", axis=-1"]))
        return picked(written(f"{name}({v.text}{axis})", None, v),
                      sympy.log(p) if log else p, str(j))
    return form


def _reads_word_attributes() -> bool:
    """Whether the parser reads a word as an attribute's value (reduction=sum)."""
    from gradtrace.core.errors import ParseError
    from gradtrace.expr.parse import parse

    try:
        parse("mse(x, y, reduction=sum)")
    except ParseError:
        return False
    return True


WORD_ATTRIBUTES = _reads_word_attributes()
# a loss's reduction as written, and whether its terms are added (else averaged); none is
# summed by sum(...) around the call
_REDUCTIONS = [("", False), (", reduction=mean", False), (", reduction=sum", True),
               (", reduction=none", True)] if WORD_ATTRIBUTES else [("", False)]


def loss_call(draw, name: str, arguments: str, terms: list, *parts: Formula) -> Formula:
    """name(arguments) with a drawn reduction: the mean of the terms, their sum, or each term
    (added up by sum(...) around the call)."""
    reduction, added = draw(st.sampled_from(_REDUCTIONS))
    total = sum(terms)
    text = f"{name}({arguments}{reduction})"
    if reduction.endswith("none"):
        text = f"sum({text})"
    return written(text, total if added else total / len(terms), *parts)


def mse_form(draw, child):
    """mse(v, t) with t a scalar broadcast against v: mean of (v_i − t)²."""
    v = vector(children(child, draw(st.integers(2, 3))))
    t = child()
    return loss_call(draw, "mse", f"{v.text}, {t.text}", [(s - t.sym) ** 2 for s in v.sym], v, t)


def _binary_terms(targets, probabilities):
    return [-t * sympy.log(p) - (1 - t) * sympy.log(1 - p) for t, p in zip(targets, probabilities)]


def binary_cross_entropy_with_logits_form(draw, child):
    """Two logits against targets 0 and 1 (or one against a fraction): the mean of
    −t·log σ(z) − (1 − t)·log(1 − σ(z))."""
    v = vector(children(child, 2))
    targets = draw(st.sampled_from([(0, 1), (1, 0), (1, 1)]))
    sigma = [1 / (1 + sympy.exp(-s)) for s in v.sym]
    t = vector([constant(str(value)) for value in targets])
    return loss_call(draw, "binary_cross_entropy_with_logits", f"{v.text}, {t.text}",
                     _binary_terms(targets, sigma), v)


def binary_cross_entropy_form(draw, child):
    """Probabilities σ(v) of two sub-expressions against targets 0, 1 or ½: the mean of
    −t·log p − (1 − t)·log(1 − p)."""
    v = vector(children(child, 2))
    targets = draw(st.sampled_from([(0, 1), (1, 0), (1, 0.5)]))
    sigma = [1 / (1 + sympy.exp(-s)) for s in v.sym]
    t = vector([constant(str(value)) for value in targets])
    return loss_call(draw, "binary_cross_entropy", f"sigmoid({v.text}), {t.text}",
                     _binary_terms([sympy.nsimplify(value) for value in targets], sigma), v)


def _class_rows(draw, child):
    """Logits of one sample (C,) with a class index, or of a batch (2, C) with a row of
    indices; C = 2 or 3 classes: (logits text, targets text, per-row −log softmax, parts)."""
    batch, classes = draw(st.sampled_from([(1, 2), (1, 3), (2, 2)]))
    labels = [draw(st.integers(0, classes - 1)) for _ in range(batch)]
    v = vector(children(child, batch * classes))
    rows = [v.sym[n * classes:(n + 1) * classes] for n in range(batch)]
    terms = [-sympy.log(_softmax_syms(row)[t]) for row, t in zip(rows, labels)]
    if batch == 1:
        return v.text, str(labels[0]), terms, v
    targets = vector([constant(str(t)) for t in labels])
    return f"reshape({v.text}, {batch}, {classes})", targets.text, terms, v


def cross_entropy_form(draw, child):
    logits, targets, terms, v = _class_rows(draw, child)
    return loss_call(draw, "cross_entropy", f"{logits}, {targets}", terms, v)


def nll_loss_form(draw, child):
    """nll_loss of log_softmax(logits): the same number as cross_entropy of the logits."""
    logits, targets, terms, v = _class_rows(draw, child)
    return loss_call(draw, "nll_loss", f"log_softmax({logits}), {targets}", terms, v)


def linear_form(draw, child):
    """linear(x, W, b)[0] with x (2,), W (1, 2), b (1,): w·x + b."""
    x, w, b = vector(children(child, 2)), vector(children(child, 2)), child()
    text = f"linear({x.text}, reshape({w.text}, 1, 2), reshape({b.text}, 1))[0]"
    return written(text, x.sym[0] * w.sym[0] + x.sym[1] * w.sym[1] + b.sym, x, w, b)


def conv2d_form(draw, child):
    """A 1×2 image and a 1×2 kernel: one output pixel x·w + b."""
    x, w, b = vector(children(child, 2)), vector(children(child, 2)), child()
    text = (f"conv2d(reshape({x.text}, 1, 1, 1, 2), reshape({w.text}, 1, 1, 1, 2), "
            f"reshape({b.text}, 1))[0, 0, 0, 0]")
    return written(text, x.sym[0] * w.sym[0] + x.sym[1] * w.sym[1] + b.sym, x, w, b)


def im2col_form(draw, child):
    """A 1×3 image seen by 1×2 windows: the rows (v0, v1) and (v1, v2)."""
    x = vector(children(child, 3))
    cols = written(f"reshape(im2col(reshape({x.text}, 1, 1, 1, 3), kernel=(1, 2)), 4)", None, x)
    return weighted(cols, [x.sym[0], x.sym[1], x.sym[1], x.sym[2]])


def pool_form(name: str, combine, kinks=lambda syms: ()):
    """A 1×k image (k = 2 or 3) pooled by one 1×k window."""
    def form(draw, child):
        x = vector(children(child, draw(st.integers(2, 3))))
        k = len(x.sym)
        text = f"{name}(reshape({x.text}, 1, 1, 1, {k}), kernel=(1, {k}))[0, 0, 0, 0]"
        return written(text, combine(x.sym), x, kinks=kinks(x.sym))
    return form


def batch_norm_form(draw, child):
    """A batch of three for one channel, x = (sin a, 3 + sin b, 6 + sin c): three numbers that
    always differ, each free to move (over one, x̂ = 0; over two, x̂ = ±1 whatever they are;
    and x̂ ignores a shift of the whole batch, so no element may be another plus a constant)."""
    a, b, c, gamma, beta = children(child, 5)
    parts = [shifted_sine(part, offset) for part, offset in ((a, 0), (b, 3), (c, 6))]
    x = vector(parts)
    j = draw(st.integers(0, 2))
    mu = sum(x.sym) / 3
    variance = sum((s - mu) ** 2 for s in x.sym) / 3
    eps = sympy.Float(1e-5, 30)
    sym = gamma.sym * (x.sym[j] - mu) / sympy.sqrt(variance + eps) + beta.sym
    text = (f"batch_norm(reshape({x.text}, 3, 1), reshape({gamma.text}, 1), "
            f"reshape({beta.text}, 1))[{j}, 0]")
    return written(text, sym, x, gamma, beta)


def shifted_sine(a: Formula, offset: int) -> Formula:
    """offset + sin(a): in [offset − 1, offset + 1]."""
    sine = bounded(a)
    return written(f"({offset} + {sine.text})", offset + sine.sym, sine)


def batch_norm_eval_form(draw, child):
    a, gamma, beta = children(child, 3)
    text = (f"batch_norm_eval(reshape({a.text}, 1, 1), reshape({gamma.text}, 1), "
            f"reshape({beta.text}, 1), reshape(0.5, 1), reshape(2, 1))[0, 0]")
    sym = (gamma.sym * (a.sym - sympy.Rational(1, 2)) / sympy.sqrt(2 + sympy.Float(1e-5, 30))
           + beta.sym)
    return written(text, sym, a, gamma, beta)


def dropout_form(draw, child):
    """A kept unit (mask 1) scaled by 1/(1 − p)."""
    a = child()
    p, scale = draw(st.sampled_from([("", 2), (", p=0.2", sympy.Rational(5, 4))]))
    return written(f"dropout({a.text}, 1{p})", scale * a.sym, a)


def flatten_form(draw, child):
    """flatten of a (1, 2, 2) array is (1, 4), in the same order."""
    x = vector(children(child, 4))
    flat = written(f"flatten(reshape({x.text}, 1, 2, 2))[0]", None, x)
    return weighted(flat, list(x.sym))


# -- random expressions over every form ------------------------------------------------------

VARIABLES = ("x", "y", "z")
SYMBOLS = {name: sympy.Symbol(name, real=True) for name in VARIABLES}
variables = st.sampled_from(VARIABLES).map(lambda name: Formula(name, SYMBOLS[name], (name,)))
constants = st.sampled_from(["0.5", "1", "2", "3"]).map(constant)
leaves = variables | variables | constants


def expressions(forms, max_leaves: int = 6):
    """Random expression trees: leaves (variables and constants) joined by the forms."""
    @st.composite
    def around(draw, form, inner):
        return form(draw, lambda: draw(inner))

    def extend(inner):
        return st.one_of([around(form, inner) for form in forms])

    return st.recursive(leaves, extend, max_leaves=max_leaves)
