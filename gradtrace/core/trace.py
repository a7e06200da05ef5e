"""The trace: everything gradtrace computed, as frozen plain data.

Renderers and checkers read a `Trace` and nothing else. Values are numpy arrays (a scalar is a
0-d array); the public properties hand back Python floats for scalars.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, fields
from functools import cached_property
from typing import NamedTuple

import numpy as np

from . import plugins
from .graph import Graph
from .i18n import language, message


class NodeRecord(NamedTuple):
    id: str
    kind: str  # "input" | "const" | "op"
    op: str | None
    inputs: tuple[str, ...]
    value: np.ndarray
    grad: np.ndarray | None  # None where no gradient flows (constants, --wrt pruned)


class ForwardStep(NamedTuple):
    node: str
    op: str
    inputs: tuple[str, ...]
    input_values: tuple[np.ndarray, ...]
    value: np.ndarray
    problem: str | None = None  # set where a non-finite value first appears, with the reason
    kink: str | None = None  # set where the op sits on a non-differentiable point
    attrs: tuple = ()  # the op's static attributes: (("axis", 0),)


class BackwardStep(NamedTuple):
    node: str  # the op node sending the gradient back
    input: str  # the node receiving it
    index: int  # which input of `node` (0 = a, 1 = b)
    op: str
    upstream: np.ndarray  # d output / d node
    formula: str  # the local derivative d node / d input, in node names ("-1/h7²")
    bindings: tuple[tuple[str, np.ndarray], ...]  # the names in `formula` with their values
    local: np.ndarray | None  # the local derivative's value; None where it is a Jacobian
    downstream: np.ndarray  # upstream × local, summed back over broadcast axes
    total: np.ndarray  # d output / d input so far (running total over paths)
    arrival: int  # 1 for the first gradient to reach `input`, 2 for the second, ...
    gate: str | None
    problem: str | None = None


class GradientFlow(NamedTuple):
    """What the engine keeps of one gradient sent along an edge; BackwardStep adds the rest."""

    node: str
    input: str
    index: int
    downstream: np.ndarray
    total: np.ndarray


new_flow = functools.partial(tuple.__new__, GradientFlow)  # GradientFlow(...) without its
# Python-level __new__: one is made for every edge of a traced graph


class GradientCheck(NamedTuple):
    """One input's gradient checked three ways."""

    input: str
    traced: np.ndarray
    symbolic_expr: str | None  # d output / d input as SymPy writes it; None when skipped
    symbolic: np.ndarray | None
    numeric: np.ndarray | None
    status: str  # "agree" | "disagree" | "kink" | "not finite" | "not checked" (no estimate)
    note: str = ""  # why something was skipped, or the kink convention used
    rtol: float = 0.0
    atol: float = 0.0


@dataclass(frozen=True)
class Trace:
    """Every value and gradient, as plain records. `forward` and `backward`, the step-by-step
    narration, are written from them the first time they are read."""

    graph: Graph
    values: dict[str, np.ndarray]  # every node's forward value, by node id
    node_grads: dict[str, np.ndarray]  # d output / d node where a gradient reached (0-d: a numpy scalar)
    flows: tuple[GradientFlow, ...]  # each gradient sent along an edge, in the order sent
    wrt: tuple[str, ...]  # inputs whose gradients were traced, in input order
    defaults: tuple[str, ...] = ()  # inputs that were given a default value
    fused: bool = False
    checks: tuple[GradientCheck, ...] | None = None
    # the output's own gradient that backprop starts from, shaped like the output: None for the
    # 1 of a scalar output (d output / d output); for a vector output, the weights of
    # Σ grad_output ⊙ output, whose gradient the trace holds (PyTorch's backward(gradient=...))
    grad_output: np.ndarray | None = None

    # -- reading -------------------------------------------------------------------------
    @property
    def expression(self) -> str:
        return self.graph.expression

    @property
    def output(self) -> str:
        return self.graph.output

    @cached_property
    def forward(self) -> tuple[ForwardStep, ...]:
        from .steps import forward_steps

        return forward_steps(self.graph, self.values)

    @cached_property
    def backward(self) -> tuple[BackwardStep, ...]:
        from .steps import backward_steps

        return backward_steps(self.graph, self.values, self.by_id, self.flows)

    @cached_property
    def nodes(self) -> tuple[NodeRecord, ...]:
        """One record per graph node, in forward order."""
        values, grads = self.values, self.node_grads
        return tuple(NodeRecord(node.id, node.kind, node.op, node.inputs, values[node.id],
                                record_array(grads.get(node.id))) for node in self.graph.nodes)

    @cached_property
    def by_id(self) -> dict[str, NodeRecord]:
        return {record.id: record for record in self.nodes}

    @property
    def inputs(self) -> tuple[str, ...]:
        return self.graph.inputs

    @property
    def value(self):
        """The output's forward value (a float for a scalar output)."""
        return _plain(self.values[self.output])

    @property
    def gradients(self) -> dict:
        """d output / d input for each traced input, in input order."""
        return {name: _plain(self.node_grads.get(name)) for name in self.wrt}

    @property
    def problems(self) -> tuple[tuple[str, str], ...]:
        """(node, why) wherever a value or gradient stopped being finite, first place only: an
        input (or a constant) that is inf or nan itself, then the ops."""
        found = [(node.id, given_not_finite(node, self.values[node.id]))
                 for node in self.graph.nodes
                 if node.kind != "op" and given_not_finite(node, self.values[node.id])]
        found += [(step.node, step.problem) for step in self.forward if step.problem]
        found += [(step.input, step.problem) for step in self.backward if step.problem]
        return tuple(found)

    @property
    def kinks(self) -> tuple[tuple[str, str], ...]:
        return tuple((step.node, step.kink) for step in self.forward if step.kink)

    @property
    def finite(self) -> bool:
        arrays = [self.values[self.output]] + [self.node_grads.get(name) for name in self.wrt]
        return all(np.all(np.isfinite(a)) for a in arrays if a is not None)

    @property
    def ok(self) -> bool:
        """True when every value is finite and no check disagreed: exit code 0."""
        disagreed = any(c.status in ("disagree", "not finite") for c in self.checks or ())
        return self.finite and not disagreed

    def with_checks(self, checks) -> "Trace":
        # a plain Trace of the same records, also from a DeferredTrace
        checked = Trace(**{field.name: getattr(self, field.name) for field in fields(Trace)
                           if field.name != "checks"}, checks=tuple(checks))
        for written in ("nodes", "by_id", "forward", "backward"):  # built already: keep them
            if written in self.__dict__:
                checked.__dict__[written] = self.__dict__[written]
        return checked

    # -- output: the renderers gradtrace.render installs (the engine never imports them) ----
    # `lang` ("en", "zh"; None: GRADTRACE_LANG, then the locale) is the language of the words;
    # numbers, math and names are the same in every language.
    def to_json(self, precision: int = 2, jacobians: bool = False, lang: str | None = None) -> str:
        """The whole trace as JSON (schema gradtrace.trace/1); numbers at full precision."""
        with language(lang):
            return plugins.renderer("json")(self, jacobians=jacobians)

    def to_markdown(self, precision: int = 2, jacobians: bool = False,
                    lang: str | None = None) -> str:
        """The story as Markdown: tables and narrated lines to paste into notes."""
        with language(lang):
            return plugins.renderer("markdown")(self, precision=precision, jacobians=jacobians)

    def to_latex(self, precision: int = 2, jacobians: bool = False,
                 lang: str | None = None) -> str:
        """The story as a LaTeX document for slides and exams, as `--format latex` writes it
        (compiles with pdflatex)."""
        with language(lang):
            return plugins.renderer("latex")(self, precision=precision, jacobians=jacobians)

    def to_text(self, precision: int = 2, jacobians: bool = False,
                lang: str | None = None) -> str:
        """The story as plain text, as `gradtrace explain --format text` prints it."""
        with language(lang):
            return plugins.renderer("text")(self, precision=precision, jacobians=jacobians)

    def to_dot(self, precision: int = 2, lang: str | None = None) -> str:
        """The annotated graph as Graphviz DOT source."""
        with language(lang):
            return plugins.renderer("dot")(self, precision=precision)

    def to_svg(self, path=None, precision: int = 2, lang: str | None = None) -> str:
        """The graph as SVG text; written atomically to `path` when one is given."""
        with language(lang):
            return plugins.renderer("svg")(self, path=path, precision=precision)

    def to_html(self, path=None, precision: int = 2, quiz: str | None = None,
                lang: str | None = None) -> str:
        """The interactive page: one self-contained HTML file to step through backprop in a
        browser, written atomically to `path` (.html) when one is given; `quiz` ("grads",
        "locals", "values" or "all") makes it an exercise that grades typed answers."""
        with language(lang):
            return plugins.renderer("page")(self, path=path, precision=precision, quiz=quiz)

    def _repr_svg_(self) -> str:
        return self.to_svg()

    def _repr_html_(self) -> str:
        return plugins.renderer("html")(self)

    def __repr__(self) -> str:
        grads = ", ".join(f"{name}={_short(value)}" for name, value in self.gradients.items())
        return f"<Trace {self.expression!r} value={_short(self.value)} gradients: {grads}>"


class DeferredTrace(Trace):
    """A Trace whose graph, values, gradients, flows and wrt are made by `build()` (returning
    them in that order) the first time one of them is read. backward() in a training loop
    makes one every step, and most are never read: naming the nodes and building the graph
    would be most of the step's bookkeeping."""

    _DEFERRED = ("graph", "values", "node_grads", "flows", "wrt")

    def __init__(self, build, grad_output=None):
        # frozen: set in the instance's dict, as the dataclass's own __init__ does
        self.__dict__.update(_build=build, grad_output=grad_output)

    def __getattr__(self, name: str):
        # only called for attributes not set yet: the deferred ones, until built
        build = self.__dict__.get("_build")
        if build is None or name not in self._DEFERRED:
            raise AttributeError(name)
        for field, value in zip(self._DEFERRED, build()):
            object.__setattr__(self, field, value)
        self.__dict__.pop("_build", None)  # another thread may have built it meanwhile
        return self.__dict__[name]

    def __reduce__(self):
        # pickled and copied as the plain Trace it stands for (`build` is a closure)
        return Trace, tuple(getattr(self, field.name) for field in fields(Trace))


def given_not_finite(node, value) -> str:
    """Why an input or a constant is where a non-finite value starts ("" when it is finite)."""
    array = np.asarray(value)
    if array.dtype.kind != "f" or np.all(np.isfinite(array)):
        return ""
    what = "nan" if np.any(np.isnan(array)) else "inf"
    if node.kind == "input":
        return message("the input {name} is {what} itself", name=node.id, what=what) \
            if array.ndim == 0 else message("the input {name} holds {what}", name=node.id,
                                            what=what)
    return message("the constant {name} is {what} itself", name=node.id, what=what) \
        if array.ndim == 0 else message("the constant {name} holds {what}", name=node.id,
                                        what=what)


def record_array(gradient):
    """A 0-d gradient (a numpy scalar in the engine) as the 0-d array every record holds."""
    return gradient if gradient is None or isinstance(gradient, np.ndarray) else np.asarray(gradient)


def _plain(array):
    if array is None:
        return None
    array = np.asarray(array)
    return float(array) if array.ndim == 0 else array


def _short(value) -> str:
    return f"{value:.6g}" if isinstance(value, float) else f"array{np.shape(value)}"
