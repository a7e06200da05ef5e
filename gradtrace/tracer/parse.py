"""A safe parser: expression text to a small AST, without ever executing the text.

The grammar is ours, not Python's, so nothing but these gets through:

    expr    := term (('+' | '-') term)*
    term    := unary (('*' | '/') unary)*
    unary   := ('-' | '+') unary | power
    power   := atom ('**' unary)?          # right-associative; -x**2 is -(x**2), as in Python
    atom    := NUMBER | NAME | NAME '(' expr (',' expr)* ')' | '(' expr ')'

Numbers become float64 at once (`10**10**10` is inf, never a huge integer); function names come
from the op registry. Every rejection is a `ParseError` carrying the character position.
Chains such as a+b+c+... are parsed by loops, so only real nesting costs stack depth, and that is
capped at MAX_NESTING.
"""

from __future__ import annotations

import difflib
import keyword
import re
from typing import NamedTuple

from ..errors import ParseError
from .ops import functions

MAX_NESTING = 100
MAX_OPERATIONS = 5000


class Num(NamedTuple):
    value: float
    text: str
    pos: int


class Name(NamedTuple):
    id: str
    pos: int


class Unary(NamedTuple):
    op: str  # "neg"
    operand: object
    pos: int


class Binary(NamedTuple):
    op: str  # "add" | "sub" | "mul" | "div" | "pow"
    left: object
    right: object
    pos: int


class Call(NamedTuple):
    func: str
    args: tuple
    pos: int


class Token(NamedTuple):
    kind: str  # "num" | "name" | "op" | "end"
    text: str
    pos: int


_NUMBER = re.compile(r"(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_OPERATORS = ("**", "+", "-", "*", "/", "(", ")", ",")
_HINTS = {
    "^": "use ** for powers (x**2), ^ is not an operator here",
    "[": "square brackets are not part of scalar expressions",
    "]": "square brackets are not part of scalar expressions",
    ".": "attribute access is not allowed; numbers are written 0.5 or .5",
    "'": "strings are not allowed in expressions",
    '"': "strings are not allowed in expressions",
    "=": "an expression has no '='; give values with --at name=value",
    "{": "braces are not part of expressions",
    "}": "braces are not part of expressions",
}
_BINARY = {"+": ("add", 10), "-": ("sub", 10), "*": ("mul", 20), "/": ("div", 20)}


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        number = _NUMBER.match(text, i)
        if number:
            end = number.end()
            if end < n and (text[end].isalnum() or text[end] == "_"):
                raise ParseError(
                    f"missing operator between {number.group()!r} and what follows "
                    f"(write {number.group()}*{text[end]} for a product)", text, end)
            tokens.append(Token("num", number.group(), i))
            i = end
            continue
        if ch.isidentifier():
            j = i + 1
            while j < n and (text[j].isidentifier() or text[j].isdigit()):
                j += 1
            tokens.append(Token("name", text[i:j], i))
            i = j
            continue
        op = next((o for o in _OPERATORS if text.startswith(o, i)), None)
        if op is None:
            hint = _HINTS.get(ch, "only numbers, names, + - * / **, parentheses and "
                                  "function calls are allowed")
            raise ParseError(f"unexpected character {ch!r}: {hint}", text, i)
        tokens.append(Token("op", op, i))
        i += len(op)
    tokens.append(Token("end", "", n))
    return tokens


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.tokens = tokenize(text)
        self.index = 0
        self.nesting = 0
        self.operations = 0
        self.functions = functions()

    # -- token helpers -------------------------------------------------------------------
    def peek(self) -> Token:
        return self.tokens[self.index]

    def take(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def fail(self, message: str, token: Token):
        raise ParseError(message, self.text, token.pos)

    def expect(self, text: str, opened: Token | None = None):
        token = self.peek()
        if token.kind == "op" and token.text == text:
            return self.take()
        if token.kind in ("num", "name") or (token.kind == "op" and token.text == "("):
            self.fail_adjacent(token)
        found = "the end of the expression" if token.kind == "end" else repr(token.text)
        extra = f" to close the '(' at position {opened.pos + 1}" if opened else ""
        self.fail(f"expected {text!r}{extra}, found {found}", token)

    def count_operation(self, token: Token):
        self.operations += 1
        if self.operations > MAX_OPERATIONS:
            self.fail(f"expression too large: more than {MAX_OPERATIONS} operations "
                      "(build larger graphs with the Python API, gradtrace.tensor)", token)

    def enter(self, token: Token):
        self.nesting += 1
        if self.nesting > MAX_NESTING:
            self.fail(f"expression nested too deeply (more than {MAX_NESTING} levels)", token)

    def leave(self):
        self.nesting -= 1

    # -- grammar -------------------------------------------------------------------------
    def parse(self):
        if self.peek().kind == "end":
            self.fail("empty expression: write something like 1/(1+exp(-(w*x+b)))",
                      self.peek())
        tree = self.expr()
        token = self.peek()
        if token.kind != "end":
            if token.kind == "op" and token.text == ")":
                self.fail("unmatched ')'", token)
            self.fail_adjacent(token)
        return tree

    def fail_adjacent(self, token: Token):
        if token.kind == "name" and keyword.iskeyword(token.text):
            self.fail(f"{token.text!r} is a Python keyword; expressions contain only numbers, "
                      "names, + - * / **, parentheses and function calls", token)
        if token.kind == "op" and token.text == "(":
            self.fail("missing operator before '(' (write x*(...) for a product)", token)
        self.fail(f"missing operator before {token.text!r}", token)

    def expr(self):
        left = self.term()
        while (token := self.peek()).kind == "op" and token.text in ("+", "-"):
            self.take()
            self.count_operation(token)
            left = Binary(_BINARY[token.text][0], left, self.term(), token.pos)
        return left

    def term(self):
        left = self.unary()
        while (token := self.peek()).kind == "op" and token.text in ("*", "/"):
            self.take()
            self.count_operation(token)
            left = Binary(_BINARY[token.text][0], left, self.unary(), token.pos)
        return left

    def unary(self):
        token = self.peek()
        if token.kind == "op" and token.text in ("-", "+"):
            self.take()
            self.enter(token)
            operand = self.unary()
            self.leave()
            if token.text == "+":
                return operand
            if isinstance(operand, Num):  # -3 is the number -3, not a negation gate
                return Num(-operand.value, "-" + operand.text, token.pos)
            self.count_operation(token)
            return Unary("neg", operand, token.pos)
        return self.power()

    def power(self):
        base = self.atom()
        token = self.peek()
        if token.kind == "op" and token.text == "**":
            self.take()
            self.count_operation(token)
            self.enter(token)
            exponent = self.unary()
            self.leave()
            return Binary("pow", base, exponent, token.pos)
        return base

    def atom(self):
        token = self.take()
        if token.kind == "num":
            return Num(float(token.text), token.text, token.pos)
        if token.kind == "name":
            return self.name_or_call(token)
        if token.kind == "op" and token.text == "(":
            if self.peek().kind == "op" and self.peek().text == ")":
                self.fail("empty parentheses: put an expression inside", self.peek())
            self.enter(token)
            inner = self.expr()
            self.leave()
            self.expect(")", token)
            return inner
        if token.kind == "end":
            self.fail("the expression ends too early: an operand is missing", token)
        self.fail(f"expected a number, a name or '(' but found {token.text!r}", token)

    def name_or_call(self, token: Token):
        name = token.text
        if keyword.iskeyword(name) or name in ("print", "eval", "exec"):
            self.fail(f"{name!r} is not part of the expression language: only numbers, "
                      "names, + - * / **, parentheses and function calls", token)
        is_call = self.peek().kind == "op" and self.peek().text == "("
        if not is_call:
            if name in self.functions:
                self.fail(f"{name!r} is a function: write {name}(...)", token)
            return Name(name, token.pos)
        if name not in self.functions:
            self.fail(self.unknown_function(name), token)
        return self.call(token)

    def unknown_function(self, name: str) -> str:
        known = sorted(self.functions)
        close = difflib.get_close_matches(name, known, n=1)
        if close:
            return f"unknown function {name!r}; did you mean {close[0]!r}?"
        return f"unknown function {name!r}; the functions are: {', '.join(known)}"

    def call(self, name_token: Token):
        op = self.functions[name_token.text]
        opened = self.take()
        self.enter(opened)
        self.count_operation(name_token)
        args = []
        if self.peek().kind == "op" and self.peek().text == ")":
            self.fail(f"{op.name} takes {op.arity} argument{'s' * (op.arity > 1)}: "
                      f"{op.usage}", self.peek())
        args.append(self.expr())
        while self.peek().kind == "op" and self.peek().text == ",":
            comma = self.take()
            if len(args) == op.arity:
                self.fail(f"{op.name} takes {op.arity} argument{'s' * (op.arity > 1)}: "
                          f"{op.usage}", comma)
            args.append(self.expr())
        if len(args) != op.arity:
            self.fail(f"{op.name} takes {op.arity} arguments: {op.usage}", self.peek())
        self.expect(")", opened)
        self.leave()
        return Call(op.name, tuple(args), name_token.pos)


def parse(text: str):
    """Parse expression text into an AST of Num, Name, Unary, Binary and Call nodes."""
    if not isinstance(text, str):
        raise ParseError("the expression must be text", "", 0)
    return _Parser(text).parse()
