"""From a parsed expression (AST) to the computation Graph: one op node per AST operation, each
with at most two inputs, in the order the expression is read."""

from __future__ import annotations

from ..core.graph import Graph, GraphBuilder
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


def _names_in_order(tree) -> list[str]:
    names: list[str] = []
    seen: set[str] = set()
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Name):
            if node.id not in seen:
                seen.add(node.id)
                names.append(node.id)
        elif not isinstance(node, ast.Num):
            stack.extend(reversed(_children(node)[1]))
    return names


def graph_from_ast(tree, expression: str) -> Graph:
    """Turn a parsed AST into a Graph: a post-order walk on an explicit stack."""
    builder = GraphBuilder(expression, _names_in_order(tree))
    results: list[str] = []
    stack: list[tuple[object, bool]] = [(tree, False)]
    while stack:
        node, children_done = stack.pop()
        if isinstance(node, ast.Num):
            results.append(builder.const(node.value))
        elif isinstance(node, ast.Name):
            results.append(node.id)
        elif children_done:
            op_name, children, attrs = _children(node)
            args = tuple(results[len(results) - len(children):])
            del results[len(results) - len(children):]
            results.append(builder.op(op_name, args, attrs))
        else:
            stack.append((node, True))
            stack.extend((child, False) for child in reversed(_children(node)[1]))
    return builder.build(results[-1])


def graph_from_text(expression: str) -> Graph:
    """Parse `expression` and build its graph."""
    return graph_from_ast(ast.parse(expression), expression.strip())
