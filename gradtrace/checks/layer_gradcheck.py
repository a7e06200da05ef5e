"""Gradient checking one layer, as the course notes do: the VJP backprop uses against central finite
differences, for every input that takes a gradient (the data and each parameter), in float64.

The layer's output is reduced to a scalar L = Σ R ⊙ out with R drawn once from N(0, 1), so
every output entry counts; then for each input tensor T, analytic ∂L/∂T = VJP(R) and numeric
∂L/∂T[i] ≈ (L(T + h·eᵢ) − L(T − h·eᵢ)) / 2h, h = 1e-6. The relative error per tensor is
‖analytic − numeric‖ / (‖analytic‖ + ‖numeric‖), 0 when both are 0.

The inputs lie in the op's domain, found from the op itself rather than from a list of
names: each input that takes a gradient is drawn from N(0, 1), as the notes do; where the op
is not finite there, or within MARGIN of there (log, sqrt and pow of a negative number, the
binary cross-entropy of a "probability" outside (0, 1)), the same draws are mapped into the
next of DOMAINS, positive and then inside (0, 1), changing as few inputs as possible. The op's
own `trouble` rule says why the first draws would not do, and the report says so.

h = 1e-6 is kept where it works. Where L is not finite at T ± h for an element all the same,
that element falls back to the settled step rule of finite_differences.py (one-sided at a
domain's edge). And when a tensor fails, each of its elements is estimated again with the
settled rule, which shrinks h until the estimate stops changing: where the two estimates
differ, h = 1e-6 was too large for that element (L bends on a smaller scale there, as 1/x does
near 0), and the settled estimate is used. Only a failed tensor is estimated again (it costs
more evaluations), but which estimate an element gets is decided by comparing the two
estimates, never by the VJP, so a wrong VJP still fails. Where no step gives a number, the
tensor is "not checked" (with the reason), never a failure.
"""

from __future__ import annotations

from itertools import product
from typing import NamedTuple

import math

import numpy as np

from ..core.arrays import sum_to
from ..core.budget import over_budget
from ..core.errors import UsageError
from ..core.i18n import N_, Joined, _, message
from ..ops import REGISTRY
from .finite_differences import differences, reasons_said, settled, textbook

STEP = 1e-6
TOLERANCE = 1e-6  # relative error below which a tensor passes (float64 central differences)
MAX_ELEMENTS = 20_000  # finite differences take two forward passes per element
# Where each input that takes a gradient may be drawn from, in the order tried: each maps the
# same N(0, 1) draws z, so a layer whose inputs need no mapping gets the notes' N(0, 1) inputs.
DOMAINS = (
    ("N(0, 1)", lambda z: z),
    (N_("positive (0.5 + |N(0, 1)|)"), lambda z: 0.5 + np.abs(z)),
    (N_("inside (0, 1) (0.2 + 0.6·σ(N(0, 1)))"), lambda z: 0.2 + 0.6 / (1.0 + np.exp(-z))),
)
MARGIN = 0.1  # the op must be finite this far from each input too: away from a domain's edge


class Options(NamedTuple):
    input_shape: tuple[int, ...] | None = None  # None: the layer's default
    out: int = 3  # linear: output features
    filters: int = 2  # conv2d
    kernel: int = 3  # conv2d, pooling (default 2 for pooling)
    stride: int | None = None
    padding: int = 0
    p: float = 0.5  # dropout
    classes: int = 3  # cross_entropy


class TensorCheck(NamedTuple):
    name: str
    shape: tuple[int, ...]
    analytic: np.ndarray
    numeric: np.ndarray
    max_difference: float
    relative_error: float
    not_checked: str = ""  # why finite differences gave no number for some elements
    settled_elements: int = 0  # elements for which h = STEP was too large (see the docstring)

    @property
    def passed(self) -> bool:
        return bool(np.isfinite(self.relative_error) and self.relative_error < TOLERANCE)

    @property
    def status(self) -> str:
        """"pass", "FAIL", or "not checked" when no element could be compared."""
        if self.passed:
            return "pass"
        nothing_compared = self.not_checked and not np.any(np.isfinite(self.numeric))
        return "not checked" if nothing_compared else "FAIL"


class LayerCheck(NamedTuple):
    layer: str
    attrs: dict
    output_shape: tuple[int, ...]
    tensors: tuple[TensorCheck, ...]
    step: float = STEP
    tolerance: float = TOLERANCE
    inputs_note: str = ""  # where the inputs were drawn from, when not all from N(0, 1)

    @property
    def passed(self) -> bool:
        """No tensor failed (a tensor that could not be checked is not a failure)."""
        return all(check.status != "FAIL" for check in self.tensors)


DEFAULT_SHAPES = {"linear": (2, 4), "conv2d": (2, 2, 5, 5), "max_pool2d": (2, 2, 4, 4),
                  "avg_pool2d": (2, 2, 4, 4), "batch_norm": (4, 3), "batch_norm_eval": (4, 3),
                  "cross_entropy": (2, 3), "im2col": (2, 2, 5, 5)}


def layer_inputs(layer: str, options: Options, rng) -> tuple[list, dict]:
    """[(name, value, differentiable)], attrs for `layer`, drawn from `rng`."""
    if layer not in REGISTRY:
        raise UsageError(_("gradcheck: unknown layer {layer}; see `gradtrace ops`",
                           layer=repr(layer)))
    shape = options.input_shape or DEFAULT_SHAPES.get(layer, (2, 3))
    rng = _Counted(rng)
    x = rng.normal(0.0, 1.0, shape)
    inputs, attrs = [("x", x, True)], {}
    channels = shape[1] if len(shape) > 1 else shape[0]
    if layer == "linear":
        inputs += [("W", rng.normal(0, 1, (options.out, shape[-1])), True),
                   ("b", rng.normal(0, 1, (options.out,)), True)]
    elif layer == "conv2d":
        k = options.kernel
        inputs += [("W", rng.normal(0, 1, (options.filters, channels, k, k)), True),
                   ("b", rng.normal(0, 1, (options.filters,)), True)]
        attrs = {"stride": options.stride or 1, "padding": options.padding}
    elif layer in ("max_pool2d", "avg_pool2d"):
        attrs = {"kernel": options.kernel, "stride": options.stride or options.kernel}  # the window
    elif layer.startswith("batch_norm"):
        inputs += [("gamma", rng.normal(1, 0.5, (channels,)), True),
                   ("beta", rng.normal(0, 1, (channels,)), True)]
        if layer == "batch_norm_eval":
            inputs += [("mean", rng.normal(0, 1, (channels,)), False),
                       ("var", rng.uniform(0.5, 2.0, (channels,)), False)]
    elif layer == "dropout":
        inputs.append(("mask", (rng.random(shape) >= options.p).astype(float), False))
        attrs = {"p": options.p}
    elif layer == "cross_entropy":
        inputs.append(("target", rng.integers(0, shape[-1], shape[:-1]).astype(float), False))
    elif layer == "matmul":  # x (..., n) @ y (n, --out)
        inputs.append(("y", rng.normal(0, 1, (shape[-1], options.out)), True))
    elif layer == "reshape":  # the same numbers as one row
        attrs = {"shape": (math.prod(shape),)}
    elif layer == "im2col":  # the windows conv2d would multiply
        attrs = {"kernel": options.kernel, "stride": options.stride or 1,
                 "padding": options.padding}
    elif REGISTRY[layer].arity == 2:
        inputs.append(("y", rng.normal(0, 1, shape), True))
    if len(inputs) != REGISTRY[layer].arity:
        raise UsageError(_("gradcheck does not know how to build the inputs of {layer}",
                           layer=layer))
    return inputs, attrs


def _too_many() -> str:
    return _("gradcheck: more than {limit} elements to perturb; use smaller shapes (finite "
             "differences take two passes per element)", limit=f"{MAX_ELEMENTS:,}")


class _Counted:
    """The Generator gradcheck draws its inputs from, refusing before it allocates more than
    MAX_ELEMENTS numbers in all (the check perturbs each of them twice)."""

    def __init__(self, rng):
        self.rng, self.drawn = rng, 0

    def _count(self, shape) -> None:
        self.drawn += math.prod(np.atleast_1d(shape).tolist()) if np.ndim(shape) else int(shape)
        if self.drawn > MAX_ELEMENTS:
            raise UsageError(_too_many())
        why = over_budget(self.drawn)  # a budget set lower than gradcheck's own limit
        if why:
            raise UsageError(_("gradcheck's inputs would make {why}", why=why))

    def normal(self, mean, std, shape):
        self._count(shape)
        return self.rng.normal(mean, std, shape)

    def uniform(self, low, high, shape):
        self._count(shape)
        return self.rng.uniform(low, high, shape)

    def random(self, shape):
        self._count(shape)
        return self.rng.random(shape)

    def integers(self, low, high, shape):
        self._count(shape)
        return self.rng.integers(low, high, shape)


def gradcheck(layer: str, options: Options, seed: int = 0) -> LayerCheck:
    rng = np.random.default_rng(seed)
    inputs, attrs = layer_inputs(layer, options, rng)
    if sum(np.size(value) for _, value, wanted in inputs if wanted) > MAX_ELEMENTS:
        raise UsageError(_too_many())
    op = REGISTRY[layer]
    values = [np.asarray(value, dtype=np.float64) for _, value, _ in inputs]
    wanted = tuple(flag and op.takes_gradient(i) for i, (_, _, flag) in enumerate(inputs))
    with np.errstate(all="ignore"):  # a non-finite value is handled, not warned about
        values, inputs_note = in_domain(op, [name for name, _, _ in inputs], values, wanted,
                                        attrs)
        out = op.evaluate(tuple(values), attrs)
        weights = rng.normal(0.0, 1.0, np.shape(out))
        vjps = op.vjp(weights, tuple(values), out, wanted, attrs)

        def loss(current) -> float:
            return float(np.sum(weights * op.evaluate(tuple(current), attrs)))

        checks = []
        for index, (name, _, _) in enumerate(inputs):
            if not wanted[index]:
                continue
            analytic = sum_to(np.asarray(vjps[index], dtype=np.float64), values[index].shape)
            numeric, why_not = _numeric(loss, values, index)
            check = _compare(name, analytic, numeric, why_not)
            if check.status == "FAIL":
                check = _with_settled_steps(check, loss, values, index, why_not)
            checks.append(check)
    return LayerCheck(layer, attrs, tuple(np.shape(out)), tuple(checks),
                      inputs_note=inputs_note)


def in_domain(op, names: list[str], values: list, wanted: tuple, attrs: dict
              ) -> tuple[list, str]:
    """The inputs mapped into the op's domain (see the module docstring), and a note naming
    what was mapped and why: the N(0, 1) draws when the op is finite at and near them, else
    the first mapping of DOMAINS under which it is, changing as few inputs as possible."""
    movable = [i for i, flag in enumerate(wanted) if flag]
    choices = sorted(product(range(len(DOMAINS)), repeat=len(movable)),
                     key=lambda choice: (sum(1 for d in choice if d), choice))
    first_problem = ""
    for choice in choices:
        mapped = list(values)
        for index, domain in zip(movable, choice):
            mapped[index] = DOMAINS[domain][1](values[index])
        problem = _not_finite_near(op, mapped, movable, attrs)
        if not problem:
            moved = [message("{name} drawn {domain}", name=names[i],
                             domain=message(DOMAINS[d][0]))
                     for i, d in zip(movable, choice) if d]
            if not moved:
                return mapped, ""
            return mapped, message("{moved}, since {op} is not finite at or near some inputs "
                                   "from N(0, 1): {why}", moved=Joined(moved), op=op.name,
                                   why=first_problem)
        first_problem = first_problem or problem
    raise UsageError(_("gradcheck {op}: found no inputs where it is finite (tried {domains}): "
                       "{why}", op=op.name, domains=", ".join(_(domain) for domain, _f in DOMAINS),
                       why=first_problem))


def _not_finite_near(op, values: list, movable: list[int], attrs: dict) -> str:
    """Why the op is not finite at `values` or with the movable inputs MARGIN away (both
    ways); "" when it is finite everywhere there."""
    for shift in (0.0, -MARGIN, MARGIN):
        moved = [value + shift if i in movable else value for i, value in enumerate(values)]
        try:
            out = op.evaluate(tuple(moved), attrs)
        except (ValueError, IndexError, TypeError) as error:
            raise UsageError(_("gradcheck {op}: these shapes do not fit: {error}", op=op.name,
                               error=error)) from None
        if not np.all(np.isfinite(out)):
            why = op.trouble(*moved) if op.trouble else None
            return why or message("its result is not finite")
    return ""


def _numeric(loss, values: list, index: int, fixed_step: bool = True
             ) -> tuple[np.ndarray, dict]:
    """Finite differences of `loss` along every element of values[index]: with the textbook
    step (where that steps outside the domain, the settled rule), or with the settled rule
    throughout; and why there is no number, by element."""
    def moved(value):
        return loss(values[:index] + [value] + values[index + 1:])

    scale = max(1.0, abs(moved(values[index])))
    rule = settled(0.1 * TOLERANCE, 0.1 * TOLERANCE * scale)
    found = differences(moved, values[index], textbook(STEP, rule) if fixed_step else rule)
    return found.gradient, found.why_not


def _with_settled_steps(check: TensorCheck, loss, values: list, index: int,
                        why_not: dict) -> TensorCheck:
    """A failed tensor compared again, with the settled estimate for each element where it
    differs from the textbook one (h = STEP was too large there)."""
    again, _ = _numeric(loss, values, index, fixed_step=False)
    textbook_numeric = check.numeric
    with np.errstate(invalid="ignore"):
        differs = np.isfinite(again) & ~(np.abs(again - textbook_numeric) <= TOLERANCE * (
            np.abs(again) + np.abs(textbook_numeric)))
    if not differs.any():
        return check
    numeric = np.where(differs, again, textbook_numeric)
    better = _compare(check.name, check.analytic, numeric,
                      {i: why for i, why in why_not.items() if not differs.ravel()[i]})
    return better._replace(settled_elements=int(differs.sum()))


def _compare(name: str, analytic: np.ndarray, numeric: np.ndarray,
             why_not: dict | None = None) -> TensorCheck:
    """The relative error over the elements that finite differences gave a number for."""
    why_not = why_not or {}
    counted = np.ones(analytic.shape, dtype=bool)
    counted.ravel()[list(why_not)] = False
    not_checked = ""
    if why_not:
        not_checked = message("{count} of {size} elements not checked, because {reasons}",
                              count=len(why_not), size=analytic.size,
                              reasons=reasons_said(why_not.values()))
        if not counted.any():
            return TensorCheck(name, analytic.shape, analytic, numeric, np.nan, np.nan,
                               not_checked)
    a, n = analytic[counted], numeric[counted]
    difference = float(np.max(np.abs(a - n))) if a.size else 0.0
    scale = np.linalg.norm(a) + np.linalg.norm(n)
    relative = float(np.linalg.norm(a - n) / scale) if scale else 0.0
    return TensorCheck(name, analytic.shape, analytic, numeric, difference, relative,
                       not_checked)
