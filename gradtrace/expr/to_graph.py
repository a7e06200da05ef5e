"""From a parsed expression (AST) to the computation Graph: one op node per AST operation, each
with at most two inputs, in the order the expression is read.

A program's statements are read in order: `q = x + y` names the node of its last operation q,
later statements read q as that node, and the last statement is the output. A name used before
anything defines it is an input, except e and pi (π), which are constants unless they are
among the `variables` given values.
"""

from __future__ import annotations

from ..core.errors import ParseError
from ..core.i18n import _
from ..core.graph import NAMED_CONSTANTS, Graph, GraphBuilder
from . import parse as ast


def _children(tree) -> tuple[str, tuple, tuple]:
    """The op an AST node becomes, the AST children that feed it, and its attributes."""
    if isinstance(tree, ast.Unary):
        return tree.op, (tree.operand,), ()
    if isinstance(tree, ast.Binary):
        if tree.op == "div" and isinstance(tree.left, ast.Num) and tree.left.value == 1.0:
            return "reciprocal", (tree.right,), ()  # 1/x is a reciprocal gate, as written
        return tree.op, (tree.left, tree.right), ()
    if isinstance(tree, ast.Call):
        return tree.func, tree.args, tree.attrs
    raise TypeError(f"not an AST node: {tree!r}")


def _names_in_order(tree) -> list[ast.Name]:
    """The Name nodes of one expression, in reading order."""
    names: list[ast.Name] = []
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Name):
            names.append(node)
        elif not isinstance(node, ast.Num):
            stack.extend(reversed(_children(node)[1]))
    return names


def _inputs(program: ast.Program, text: str, variables) -> tuple[list[str], list[str]]:
    """(inputs in order of first use, the names the statements give their steps). A step used
    before its statement, or named twice, is refused."""
    inputs: list[str] = []
    defined: dict[str, int] = {}
    for statement in program.statements:
        for name in _names_in_order(statement.value):
            if name.id in defined or name.id in inputs:
                continue
            if name.id in NAMED_CONSTANTS and name.id not in variables:
                continue
            inputs.append(name.id)
        if statement.name is not None:
            if statement.name in defined:
                raise ParseError(_("{name} is defined twice",
                                   name=statement.name), text, statement.pos)
            if statement.name in inputs:
                raise ParseError(_("{name} is used before this line defines it; define a step "
                                   "before using it", name=statement.name), text, statement.pos)
            defined[statement.name] = statement.pos
    return inputs, list(defined)


def graph_from_ast(program: ast.Program, expression: str, variables=()) -> Graph:
    """Turn a parsed program into a Graph: each statement a post-order walk on an explicit
    stack, its last operation named after the step when the statement names one."""
    variables = set(variables)
    inputs, steps = _inputs(program, expression, variables)
    builder = GraphBuilder(expression, inputs, reserved=steps)
    known: dict[str, str] = {name: name for name in inputs}
    output = None
    for statement in program.statements:
        output = _build(statement, builder, known, variables)
        if statement.name is not None:
            known[statement.name] = output
    return builder.build(output)


def _build(statement: ast.Assign, builder: GraphBuilder, known: dict, variables) -> str:
    results: list[str] = []
    root = statement.value
    stack: list[tuple[object, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if isinstance(node, ast.Num):
            results.append(builder.const(node.value))
        elif isinstance(node, ast.Name):
            if node.id in known:
                results.append(known[node.id])
            else:  # a constant known by name
                results.append(builder.const(NAMED_CONSTANTS[node.id], name=node.id))
                known[node.id] = results[-1]
        elif children_done:
            op_name, children, attrs = _children(node)
            args = tuple(results[len(results) - len(children):])
            del results[len(results) - len(children):]
            named = statement.name if node is root else None
            results.append(builder.op(op_name, args, attrs, node_id=named))
        else:
            stack.append((node, True))
            stack.extend((child, False) for child in reversed(_children(node)[1]))
    return results[-1]


def graph_from_text(expression: str, variables=()) -> Graph:
    """Parse `expression` and build its graph; `variables` are names given values (so e and pi
    among them are inputs, not constants)."""
    return graph_from_ast(ast.parse(expression), expression.strip(), variables)
