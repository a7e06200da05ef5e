"""The symbolic leg of the checks: SymPy builds the graph's expression through each op's
SymPy rule (never from the user's text), differentiates it and evaluates the derivative.

Arrays are handled element by element: an input of shape (2, 3) becomes six symbols W[0,0],
..., every node an object array of SymPy expressions, and the output is reduced to the number
backprop differentiates, Σ grad_output ⊙ output (a plain sum when the trace has no
grad_output, since backprop then seeds every output element with 1), which is differentiated
by each element symbol.

The budget. SymPy keeps an expression as a tree, and its diff, evalf and printer walk that tree
with every shared part counted each time it appears, recursively: six nested softmaxes make a
tree of 45,000 nodes from a graph of 18, and their derivatives millions; 30 nested sigmoids
make a tree 121 levels deep, past Python's recursion limit inside SymPy. So before asking
SymPy, the check measures, deterministically (the same expression gives the same verdict on
every machine, never a wall-clock race):

- the tree's depth, node by node as the expression is built: past SYMBOLIC_DEPTH_LIMIT
  levels (SymPy's diff takes about 8 Python frames per level, and Python allows 1,000),
  "too deeply nested for SymPy";
- the size of the derivatives SymPy would write, estimated from the tree by the sum and
  product rules (the derivative of a node copies the node once for each argument that
  depends on the symbol, plus those arguments' derivatives), summed over every element
  symbol: past SYMBOLIC_WORK_LIMIT nodes, "would take longer than 2 s". The limit is
  SYMBOLIC_SECONDS (the numeric check's budget, gradients.NUMERIC_SECONDS) times the rate
  at which SymPy differentiates and evaluates, measured at about NODES_PER_SECOND.

Either way the check is skipped with a note; it never fails the command.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from ..core.composite import Ops
from ..core.graph import Graph
from ..core.i18n import N_, message
from ..core.trace import Trace
from ..ops import REGISTRY

SYMBOLIC_OP_LIMIT = 200  # SymPy's derivatives grow fast with depth; beyond this, skip it
SYMBOLIC_ELEMENT_LIMIT = 16  # per input, for arrays
SYMBOLIC_SECONDS = 2.0  # the same budget as the numeric check (gradients.NUMERIC_SECONDS)
NODES_PER_SECOND = 150_000  # derivative nodes SymPy differentiates and evaluates per second
SYMBOLIC_WORK_LIMIT = int(SYMBOLIC_SECONDS * NODES_PER_SECOND)
SYMBOLIC_DEPTH_LIMIT = 90  # tree levels; SymPy's diff recurses about 8 frames deep per level
SIMPLIFY_OP_LIMIT = 8  # simplify is cheap on small expressions and blows up on nested sigmoids
SIMPLIFY_NODE_LIMIT = 64  # ... and count_ops is not asked past this many tree nodes
# ... nor is simplify given a number larger than this: its trigsimp expands cos(10⁸·x) as a
# polynomial of degree 10⁸, its expand writes out (x + 1)**1000
SIMPLIFY_NUMBER_LIMIT = 100
MAX_SHOWN_TEXT = 400
MAX_SHOWN_NODES = 2_000  # a derivative larger than this is not printed (SymPy's printer is slow)
NAMED_CONSTANTS_IN_SYMPY = {"e": "E", "pi": "pi", "π": "pi"}  # core.graph.NAMED_CONSTANTS
TOO_DEEP = N_("symbolic check skipped: too deeply nested for SymPy")
# a power tower such as x**x**x**x**x at x = 3: its exact value has trillions of digits
TOO_LARGE = N_("symbolic check skipped: SymPy ran out of memory on numbers too large to write "
               "out")


class SymbolicSkipped(Exception):
    """SymPy is not asked (or gave up): the message is the note the check shows."""

    @property
    def note(self) -> str:
        """The message as it was made (an i18n.Message, said again in a later language)."""
        return self.args[0] if self.args else ""


def symbolic_skip_reason(trace: Trace) -> str:
    """Why SymPy is not asked, from the graph alone (empty when it may be)."""
    largest = max((np.size(trace.by_id[name].value) for name in trace.inputs), default=0)
    if largest > SYMBOLIC_ELEMENT_LIMIT:
        return message("symbolic check skipped: an input has {count} elements (limit {limit})",
                       count=largest, limit=SYMBOLIC_ELEMENT_LIMIT)
    if len(trace.graph.ops) > SYMBOLIC_OP_LIMIT:
        return message("symbolic check skipped: {count} operations (limit {limit})",
                       count=len(trace.graph.ops), limit=SYMBOLIC_OP_LIMIT)
    return ""


def symbolic_leg(trace: Trace) -> tuple[dict, str]:
    """(the derivatives, "") when SymPy can differentiate the graph within the budget, else
    ({}, the note saying why not)."""
    note = symbolic_skip_reason(trace)
    if note:
        return {}, note
    try:
        return symbolic_derivatives(trace), ""
    except SymbolicSkipped as skipped:
        return {}, skipped.note


def symbolic_derivatives(trace: Trace) -> dict[str, tuple[str, np.ndarray]]:
    """{input: (d output / d input as text, an object array of SymPy derivatives shaped like
    the input)}. Raises SymbolicSkipped when the expression is past the budget (see the module
    docstring)."""
    import sympy as sp

    graph = trace.graph
    symbols = {name: _symbols(name, np.shape(trace.by_id[name].value), sp)
               for name in graph.inputs}
    trees = _Trees(sp)
    try:
        _dry_run(graph, trace, symbols, sp)
        output = _in_sympy_graph(graph, trace, symbols, sp, trees)
        total = _differentiated_sum(output, trace.grad_output, sp)
        trees.measure(total)
        wanted = [symbol for name in trace.wrt for symbol in np.ravel(symbols[name])]
        work = trees.derivative_work(total, wanted, SYMBOLIC_WORK_LIMIT)
        if work > SYMBOLIC_WORK_LIMIT:
            raise SymbolicSkipped(message(
                "symbolic check skipped: SymPy would take longer than {seconds} s (its "
                "derivatives would have more than {terms} terms)",
                seconds=f"{SYMBOLIC_SECONDS:g}", terms=f"{SYMBOLIC_WORK_LIMIT:,}"))
        result = {}
        for name in trace.wrt:
            derivative = np.frompyfunc(lambda s: sp.diff(total, s), 1, 1)(symbols[name])
            derivative = np.asarray(derivative, dtype=object)
            result[name] = (_text(name, derivative, sp, trees), derivative)
    except RecursionError:  # a last resort: the depth limit keeps SymPy well inside Python's
        raise SymbolicSkipped(message(TOO_DEEP)) from None
    except MemoryError:
        raise SymbolicSkipped(message(TOO_LARGE)) from None
    return result


def _dry_run(graph: Graph, trace: Trace, symbols, sp) -> None:
    """Build the expression once with SymPy's evaluation off, which costs a few steps per node
    where evaluating walks the whole tree (six nested softmaxes take seconds to build), and
    stop at the first node past the size budget (SymbolicSkipped). Depth is left to the real
    build: unevaluated sums nest where evaluated ones are flat. A rule that cannot be built
    unevaluated leaves the measuring to the real build."""
    try:
        with sp.evaluate(False):
            _in_sympy_graph(graph, trace, symbols, sp, _Trees(sp, depth_limited=False))
    except SymbolicSkipped:
        raise
    except Exception:  # noqa: BLE001  (the real build measures as it goes)
        return


def _differentiated_sum(output: np.ndarray, grad_output, sp):
    """The number backprop differentiates: Σ grad_output ⊙ output, or the plain sum (the
    output itself, for a number) when there is no grad_output. The weights are written as the
    numbers they are (0.5 is 1/2), and a weight of 0 drops its element."""
    if grad_output is None:
        return sp.Add(*np.ravel(output)) if np.ndim(output) else output.item()
    weights = np.broadcast_to(np.asarray(grad_output, dtype=np.float64), np.shape(output))
    return sp.Add(*(_number(w, sp) * element
                    for w, element in zip(np.ravel(weights), np.ravel(output)) if w != 0))


class _Trees:
    """The size (nodes, every shared part counted each time it appears) and depth (levels) of
    SymPy expression trees, measured once per distinct subexpression, without recursion."""

    def __init__(self, sp, depth_limited: bool = True):
        self.sp = sp
        self.depth_limited = depth_limited
        self.size: dict = {}
        self.depth: dict = {}

    def measure(self, root) -> None:
        """Measure `root`; raise SymbolicSkipped when it is too deep or too large."""
        self.size_of(root)
        if self.depth_limited and self.depth[root] > SYMBOLIC_DEPTH_LIMIT:
            raise SymbolicSkipped(message(
                "symbolic check skipped: too deeply nested for SymPy (its expression is more "
                "than {levels} levels deep)", levels=SYMBOLIC_DEPTH_LIMIT))
        if self.size[root] > SYMBOLIC_WORK_LIMIT:
            raise SymbolicSkipped(message(
                "symbolic check skipped: SymPy would take longer than {seconds} s (its "
                "expression has more than {terms} terms)", seconds=f"{SYMBOLIC_SECONDS:g}",
                terms=f"{SYMBOLIC_WORK_LIMIT:,}"))

    def size_of(self, root) -> int:
        """The tree size of `root` (measuring what is not measured yet)."""
        self._walk(root, self._measure_node)
        return self.size[root]

    def _measure_node(self, node) -> None:
        args = _args(node)
        self.size[node] = 1 + sum(self.size[a] for a in args)
        self.depth[node] = 1 + max((self.depth[a] for a in args), default=0)

    def derivative_work(self, root, symbols, limit: int) -> int:
        """The estimated size of d root / d s, summed over `symbols` (stops past `limit`)."""
        work = 0
        for symbol in symbols:
            estimate: dict = {}

            def measure(node, estimate=estimate, symbol=symbol):
                args = _args(node)
                if not args:
                    estimate[node] = 1 if node == symbol else 0
                elif isinstance(node, self.sp.Add):
                    estimate[node] = sum(estimate[a] for a in args)
                else:  # product and chain rules: the node again, times each argument's change
                    estimate[node] = sum(self.size[node] + estimate[a]
                                         for a in args if estimate[a])

            self._walk(root, measure, estimate)
            work += estimate[root]
            if work > limit:
                break
        return work

    def _walk(self, root, visit, done=None) -> None:
        """Call visit(node) for every distinct node under root, arguments first."""
        done = self.size if done is None else done
        stack = [root]
        while stack:
            node = stack[-1]
            if node in done:
                stack.pop()
                continue
            pending = [a for a in _args(node) if a not in done]
            if pending:
                stack.extend(pending)
                continue
            stack.pop()
            visit(node)


def _args(node) -> tuple:
    """A SymPy node's arguments (none for a number that is not a SymPy object)."""
    return getattr(node, "args", ())


def evaluate_derivative(derivative: np.ndarray, at: dict) -> np.ndarray:
    """The derivatives' values at the point, to 30 digits, as a float64 array."""
    import sympy as sp

    point = {}
    for name, value in at.items():
        value = np.asarray(value, dtype=np.float64)
        for index, symbol in zip(np.ndindex(value.shape), np.ravel(_symbols(name, value.shape, sp))):
            point[symbol] = sp.Float(float(value[index]), 30)
    evaluate = np.frompyfunc(lambda expr: _number_at(expr, point, sp), 1, 1)
    try:
        with np.errstate(over="ignore"):  # a derivative beyond float64 is inf, as it should be
            return np.asarray(evaluate(np.asarray(derivative, dtype=object)), dtype=np.float64)
    except RecursionError:  # a last resort, as in symbolic_derivatives
        raise SymbolicSkipped(message(TOO_DEEP)) from None
    except MemoryError:
        raise SymbolicSkipped(message(TOO_LARGE)) from None


def _number_at(expr, point, sp) -> float:
    try:
        value = expr.xreplace(point).evalf(30)
        if value.is_real is False or value.has(sp.zoo, sp.nan):
            return np.nan
        if value in (sp.oo, -sp.oo):
            return np.inf if value == sp.oo else -np.inf
        return float(value)
    except (TypeError, ValueError, ZeroDivisionError, OverflowError):
        return np.nan


def _symbols(name: str, shape, sp) -> np.ndarray:
    """One real symbol per element: x for a scalar, W[0,1] for an element of a matrix."""
    if not shape:
        return np.asarray(sp.Symbol(name, real=True), dtype=object)
    symbols = np.empty(shape, dtype=object)
    for index in np.ndindex(shape):
        symbols[index] = sp.Symbol(f"{name}[{','.join(map(str, index))}]", real=True)
    return symbols


def _text(name: str, derivative: np.ndarray, sp, trees: "_Trees") -> str:
    """The derivative as printed; past MAX_SHOWN_NODES tree nodes (or, for an array, past
    MAX_SHOWN_TEXT characters), a note that it is too long, since SymPy's printer is slow on
    large trees and nobody reads them."""
    nodes = sum(trees.size_of(element) for element in np.ravel(derivative))
    if nodes > MAX_SHOWN_NODES:
        if derivative.ndim == 0:
            return message("the derivative (too long to print: {nodes} terms; values compared)",
                           nodes=f"{nodes:,}")
        return message("{count} element derivatives (too long to print: {nodes} terms; values "
                       "compared)", count=derivative.size, nodes=f"{nodes:,}")
    if derivative.ndim == 0:
        return sp.sstr(_readable(derivative.item(), sp, trees))
    parts = [f"[{','.join(map(str, index))}]: {sp.sstr(_readable(derivative[index], sp, trees))}"
             for index in np.ndindex(derivative.shape)]
    text = "; ".join(parts)
    if len(text) > MAX_SHOWN_TEXT:
        return message("{count} element derivatives (too long to print; values compared)",
                       count=derivative.size)
    return text


def _readable(derivative, sp, trees: "_Trees"):
    """The derivative to print: simplified when it is small enough for that to be cheap and
    the result is shorter; as differentiated otherwise."""
    if trees.size[derivative] > SIMPLIFY_NODE_LIMIT or _has_large_number(derivative, sp):
        return derivative
    size = sp.count_ops(derivative)
    if size == 0 or size > SIMPLIFY_OP_LIMIT:
        return derivative
    simpler = sp.simplify(derivative)
    return simpler if sp.count_ops(simpler) < size else derivative


def _has_large_number(expr, sp) -> bool:
    """True when a number in `expr` (a numerator or denominator, or a float) is larger than
    SIMPLIFY_NUMBER_LIMIT in size."""
    for atom in expr.atoms(sp.Number):
        if isinstance(atom, sp.Rational):
            parts = (abs(int(atom.p)), abs(int(atom.q)))
        else:
            parts = (abs(float(atom)),)
        if max(parts) > SIMPLIFY_NUMBER_LIMIT:
            return True
    return False


def _in_sympy_graph(graph: Graph, trace: Trace, symbols, sp, trees: "_Trees | None" = None
                    ) -> np.ndarray:
    """Every node as an object array of SymPy expressions. A node fed only by constants
    becomes its float64 value, so SymPy never computes something like 10**10**10 exactly;
    inputs an op does not differentiate (class indices) stay numbers. With `trees`, each op
    node is measured as soon as it is built, so building stops (SymbolicSkipped) at the first
    node past the budget."""
    exprs, constant = {}, set()
    for node in graph.nodes:
        if node.kind == "input":
            exprs[node.id] = symbols[node.id]
        elif node.kind == "const":
            named = NAMED_CONSTANTS_IN_SYMPY.get(node.id)
            exprs[node.id] = (np.asarray(getattr(sp, named), dtype=object) if named else
                              _numbers(node.value, sp, exact=not node.id.startswith("#")))
            constant.add(node.id)
        elif all(source in constant for source in node.inputs):
            exprs[node.id] = _numbers(trace.by_id[node.id].value, sp, exact=False)
            constant.add(node.id)
        else:
            exprs[node.id] = _node_in_sympy(node, graph, trace, exprs, sp)
            if trees is not None:
                for element in np.ravel(exprs[node.id]):
                    trees.measure(element)
    return exprs[graph.output]


def _node_in_sympy(node, graph, trace, exprs, sp) -> np.ndarray:
    """One op node in SymPy: its per-element rule, its whole-array rule, or its composite run
    on SymPy expressions."""
    op = REGISTRY[node.op]
    args = [exprs[source] if op.takes_gradient(i) else trace.by_id[source].value
            for i, source in enumerate(node.inputs)]
    return sympy_of_op(op, args, dict(node.attrs), sp)


def sympy_of_op(op, args, attrs, sp) -> np.ndarray:
    """The op applied to object arrays of SymPy expressions, as an object array."""
    if op.sympy_rule is not None:
        written = np.frompyfunc(lambda *xs: op.sympy_rule(sp, *xs), op.arity, 1)(*args)
    elif op.sympy_array_rule is not None:
        written = op.sympy_array_rule(sp, *args, **attrs)
    else:
        written = op.composite(_sympy_ops(sp), *args, **attrs)
    return np.asarray(written, dtype=object)


def _sympy_ops(sp) -> Ops:
    """F for a composite run on object arrays of SymPy expressions."""
    return Ops(lambda op, args, attrs: sympy_of_op(
        op, [np.asarray(arg, dtype=object) for arg in args], attrs, sp))


def _numbers(value, sp, exact=True) -> np.ndarray:
    return np.asarray(np.frompyfunc(lambda x: _number(x, sp, exact), 1, 1)(
        np.asarray(value, dtype=np.float64)), dtype=object)


def _number(value, sp, exact=True):
    number = float(value)
    if np.isnan(number):
        return sp.nan
    if np.isinf(number):
        return sp.oo if number > 0 else -sp.oo
    if exact:  # keep the number as the user wrote it: 0.1 is 1/10, 2 is 2
        fraction = Fraction(repr(number))
        return sp.Rational(fraction.numerator, fraction.denominator)
    return sp.Float(number)
