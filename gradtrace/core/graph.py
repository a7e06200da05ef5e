"""The computation graph as plain data: a tuple of nodes in topological order.

The expression front end (gradtrace.expr) builds graphs from text; the Python API builds them
from recorded tensors. Inputs keep the names the user gave them and come first, in order of first use; each primitive
op is one node with at most two inputs, named h1..hn in forward order (another letter if the user
already has a variable called h1); a constant is a node named by its value. A variable used twice
is one node with two outgoing edges. Every walk here is a loop over that tuple or an explicit
stack, never recursion, so a 10,000-node chain is as easy as a 10-node one.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import NamedTuple
from functools import cached_property

import numpy as np

from .registry import REGISTRY, attribute_texts


class Node(NamedTuple):
    id: str
    kind: str  # "input" | "const" | "op"
    op: str | None = None
    inputs: tuple[str, ...] = ()
    value: object = None  # constants only: a float, or a numpy array from the Python API
    attrs: tuple = ()  # static attributes of an op as (name, value) pairs: (("axis", 0),)
    # the modules that made it, outermost first, as (path, kind) pairs (core/scopes.py); ()
    # for graphs from text
    scope: tuple = ()


@dataclass(frozen=True)
class Graph:
    nodes: tuple[Node, ...]
    output: str
    text: str | None = None  # the expression as written; None: written from the nodes

    @cached_property
    def expression(self) -> str:
        return self.text if self.text is not None else to_expression(self)

    @cached_property
    def by_id(self) -> dict[str, Node]:
        return {node.id: node for node in self.nodes}

    @cached_property
    def inputs(self) -> tuple[str, ...]:
        return tuple(node.id for node in self.nodes if node.kind == "input")

    @cached_property
    def ops(self) -> tuple[Node, ...]:
        return tuple(node for node in self.nodes if node.kind == "op")

    @cached_property
    def steps(self) -> tuple[tuple, ...]:
        """(id, op, inputs, attrs) of each op node in forward order: what the backward pass
        walks (core/backprop.py), which walks recorded tensors in the same form."""
        return tuple([(node.id, node.op, node.inputs, node.attrs) for node in self.ops])

    @cached_property
    def consumers(self) -> dict[str, tuple[str, ...]]:
        """For each node, the op nodes that read it (once per edge, in forward order)."""
        readers: dict[str, list[str]] = {node.id: [] for node in self.nodes}
        for node in self.ops:
            for source in node.inputs:
                readers[source].append(node.id)
        return {key: tuple(value) for key, value in readers.items()}


def constant_id(value: float) -> str:
    """A constant is named by its value as written shortest: 1, 0.5, -3, 1e+100, -0; the
    non-finite ones as ∞, -∞ and (nan), which no variable name can be."""
    number = float(value)
    if not np.isfinite(number):
        return "(nan)" if np.isnan(number) else ("∞" if number > 0 else "-∞")
    if number == 0 and np.signbit(number):
        return "-0"
    if number == int(number) and abs(number) < 1e16:
        return str(int(number))
    return repr(number)


_PARSEABLE = {"∞": "1e999", "-∞": "-1e999", "(nan)": "(1e999 - 1e999)"}

# Constants known by name: an expression's e and pi are these numbers unless a value is given
# for them (then they are variables like any other).
NAMED_CONSTANTS = {"e": math.e, "pi": math.pi, "π": math.pi}


_new_node = tuple.__new__  # a Node made without its Python-level __new__: one per op


class GraphBuilder:
    """Collects nodes in creation order. Op nodes are h1, h2... unless given a name (a step the
    expression names, q = x + y; a tensor's .name); `reserved` are names the expression gives
    its steps, kept out of the numbering."""

    def __init__(self, expression: str | None, input_names: list[str], reserved=(),
                 input_scopes: dict | None = None):
        self.expression = expression
        self.prefix = _op_prefix([*input_names, *reserved])
        self.input_names = list(input_names)
        scopes = input_scopes or {}
        self.nodes: list[Node] = [_new_node(Node, (name, "input", None, (), None, (),
                                                   scopes.get(name, ())))
                                  for name in input_names]
        self.op_nodes: list[Node] = []
        self.known = set(input_names)
        self.op_count = 0

    def const(self, value, name: str | None = None) -> str:
        """A constant node, shared by every use of the same number; `name` for a constant
        known by name (e, pi)."""
        if name is not None:
            node_id = name
        elif np.ndim(value) == 0:
            node_id = constant_id(value)
            value = float(value)
        else:
            node_id = f"#{len(self.nodes) + 1}"
        if node_id not in self.known:
            self.known.add(node_id)
            self.nodes.append(Node(node_id, "const", value=value))
        return node_id

    def op(self, name: str, inputs: tuple[str, ...], attrs: tuple = (),
           node_id: str | None = None, scope: tuple = ()) -> str:
        if len(inputs) != REGISTRY[name].arity:
            raise ValueError(f"{name} takes {REGISTRY[name].arity} inputs, got {len(inputs)}")
        if node_id is None:
            self.op_count += 1
            node_id = self.prefix + str(self.op_count)
        elif node_id in self.known:
            raise ValueError(f"{node_id!r} names two nodes")
        else:
            self.known.add(node_id)
        node = _new_node(Node, (node_id, "op", name, tuple(inputs), None, tuple(attrs), scope))
        self.nodes.append(node)
        self.op_nodes.append(node)
        return node_id

    def build(self, output: str) -> Graph:
        graph = Graph(tuple(self.nodes), output, self.expression)
        # known already: fill Graph's cached properties instead of walking the nodes again
        graph.__dict__["inputs"] = tuple(self.input_names)
        graph.__dict__["ops"] = tuple(self.op_nodes)
        return graph


_NUMBERED = re.compile(r"(h|v|u|node)\d+$")


def _op_prefix(input_names) -> str:
    """h, unless an input is already called h1, h2...; then v, u, node, node_."""
    candidates = [name for name in input_names if name[:1] in "hvun"]  # cheap test first
    taken = {found.group(1) for found in map(_NUMBERED.match, candidates) if found}
    return next((prefix for prefix in ("h", "v", "u", "node") if prefix not in taken), "node_")


# -- writing a graph back as text --------------------------------------------------------

MAX_SUBEXPRESSION = 300
_PRECEDENCE = {"add": 1, "sub": 1, "mul": 2, "div": 2, "matmul": 2, "reciprocal": 2, "neg": 3,
               "pow": 4}


def to_expression(graph: Graph) -> str:
    """The graph as one infix expression, with only the parentheses it needs."""
    text: dict[str, tuple[str, int]] = {}
    for node in graph.nodes:
        if node.kind == "input":
            text[node.id] = (node.id, 10)
        elif node.kind == "const":
            label = _PARSEABLE.get(node.id, node.id if not node.id.startswith("#") else "const")
            # a number needs parentheses before .T or [..] (2.T would read as 2. and T)
            text[node.id] = (label, 9 if not label.startswith("-") else 3)
        else:
            written = _infix(node, text)
            # Past a few hundred characters, refer to the node by name: keeps this linear.
            too_long = len(written[0]) > MAX_SUBEXPRESSION and node.id != graph.output
            text[node.id] = (node.id, 10) if too_long else written
    return text[graph.output][0]


def _infix(node: Node, text) -> tuple[str, int]:
    level = _PRECEDENCE.get(node.op, 9)
    args = [text[source] for source in node.inputs]

    def wrap(arg, minimum):
        return arg[0] if arg[1] >= minimum else f"({arg[0]})"

    if node.op in ("add", "mul", "sub", "div", "matmul"):
        symbol = {"add": " + ", "mul": "*", "sub": " - ", "div": "/", "matmul": " @ "}[node.op]
        # Left-associative: only a right operand of the same level needs parentheses, since
        # floating-point x + (y + z) is not (x + y) + z.
        return wrap(args[0], level) + symbol + wrap(args[1], level + 1), level
    if node.op == "reciprocal":
        return "1/" + wrap(args[0], level + 1), level
    if node.op == "neg":
        return "-" + wrap(args[0], level), level
    if node.op == "pow":
        return wrap(args[0], level + 1) + "**" + wrap(args[1], level), level
    texts = attribute_texts(node.attrs)
    if node.op == "transpose":
        return wrap(args[0], 10) + ".T", 10
    if node.op == "index":
        return wrap(args[0], 10) + f"[{texts['key']}]", 10
    name = REGISTRY[node.op].user_name
    extra = f", {texts['shape']}" if texts["shape"] else texts["attrs"]
    return f"{name}({', '.join(arg[0] for arg in args)}{extra})", 10
