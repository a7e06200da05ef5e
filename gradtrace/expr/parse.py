"""A safe parser: expression text to a small AST, without ever executing the text.

The grammar is ours, not Python's, so nothing but these gets through:

    program := statement ((';' | newline) statement)*
    statement := (NAME '=')? expr           # q = x + y names a step; the last one is the output
    expr    := term (('+' | '-') term)*
    term    := unary (('*' | '/' | '@') unary)*
    unary   := ('-' | '+') unary | power
    power   := atom postfix* ('**' unary)?  # right-associative; -x**2 is -(x**2), as in Python
    atom    := NUMBER | NAME | NAME '(' arguments ')' | '(' expr ')' | '|' expr '|'

What students type from their notes is read too: x² is x**2, |x| is abs(x), ln(x) is log(x),
σ(x) is sigmoid(x), and a function name in other letter case (ReLU, Tanh) is that function.

Numbers become float64 at once (`10**10**10` is inf, never a huge integer); function names come
from the op registry. Every rejection is a `ParseError` carrying the character position.
Chains such as a+b+c+... are parsed by loops, so only real nesting costs stack depth, and that is
capped at MAX_NESTING.
"""

from __future__ import annotations

import difflib
import functools
import keyword
import math
import re
import unicodedata
from typing import NamedTuple

from ..core.errors import ParseError
from ..core.i18n import N_, _, join_list, ngettext
from ..core.registry import all_ops, calls, pick_op

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
    func: str  # a registry op name
    args: tuple
    pos: int
    attrs: tuple = ()  # static attributes as (name, value) pairs: axis, shape, index key


class Assign(NamedTuple):
    """One statement: `name = value`, or a bare expression (name None)."""

    name: str | None
    value: object
    pos: int


class Program(NamedTuple):
    """Every parse gives one: statements in order, the last one the output."""

    statements: tuple[Assign, ...]


class Token(NamedTuple):
    kind: str  # "num" | "name" | "op" | "end"
    text: str
    pos: int


# ASCII digits only: \d would read full-width １２ (and other scripts' digits) as 12 unsaid
_NUMBER = re.compile(r"([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")
_OPERATORS = ("**", "+", "-", "*", "/", "@", "(", ")", ",", "[", "]", ":", ".", "=", ";", "|")
_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")  # x² is x**2, x⁻¹ is x**-1
# Function names students write, as gradtrace spells them (case aside: ReLU is relu anyway).
ALIASES = {"ln": "log", "σ": "sigmoid", "sigma": "sigmoid", "logistic": "sigmoid",
           "absolute": "abs", "maximum": "max", "minimum": "min"}
# Functions gradtrace has no op for, written with the ops it has: said in place of a guess at
# a near name (tan is not tanh, sinh is not sin).
WRITTEN_AS = {"tan": "sin(x)/cos(x)", "sec": "1/cos(x)", "csc": "1/sin(x)",
              "cot": "cos(x)/sin(x)", "sinh": "(exp(x) - exp(-x))/2",
              "cosh": "(exp(x) + exp(-x))/2", "asinh": "log(x + sqrt(x**2 + 1))",
              "arcsinh": "log(x + sqrt(x**2 + 1))", "acosh": "log(x + sqrt(x**2 - 1))",
              "arccosh": "log(x + sqrt(x**2 - 1))", "atanh": "log((1 + x)/(1 - x))/2",
              "arctanh": "log((1 + x)/(1 - x))/2", "log1p": "log(1 + x)", "expm1": "exp(x) - 1",
              "exp2": "2**x", "cbrt": "x**(1/3) (for x ≥ 0)", "swish": "silu(x) (swish with β = 1)",
              "logsigmoid": "log(sigmoid(x))", "softsign": "x/(1 + abs(x))"}
INVERSE_TRIG = ("asin", "acos", "atan", "arcsin", "arccos", "arctan", "atan2", "arctan2")
# Names that are not functions here, and what to write instead.
UNKNOWN_HINTS = {
    "dot": N_("write a @ b for the dot (or matrix) product, or sum(a*b)"),
    "matmul": N_("write a @ b for the matrix product"),
    "mm": N_("write a @ b for the matrix product"),
    "inner": N_("write a @ b for the inner product, or sum(a*b)"),
    "pow": N_("write a**b for a power"),
    "power": N_("write a**b for a power"),
    "square": N_("write x**2 (or x²)"),
    "sqr": N_("write x**2 (or x²)"),
    "norm": N_("write sqrt(sum(x**2)) for the Euclidean norm"),
    "sign": N_("gradtrace has no sign function (its derivative is 0 wherever it exists)"),
    "heaviside": N_("write relu(x)/x, or use a comparison-free form"),
}
_HINTS = {
    "^": N_("use ** for powers (x**2), ^ is not an operator here"),
    "'": N_("strings are not allowed in expressions; an option's word is written bare, as in "
            "mse(a, b, reduction=sum)"),
    '"': N_("strings are not allowed in expressions; an option's word is written bare, as in "
            "mse(a, b, reduction=sum)"),
    "{": N_("braces are not part of expressions"),
    "}": N_("braces are not part of expressions"),
    # what students copy from the notes, or from gradtrace's own steps (which print ×)
    "×": N_("write * for a product (gradtrace prints it as ×), or @ for a matrix product"),
    "·": N_("write * for a product, or @ for a matrix product"),
    "⋅": N_("write * for a product, or @ for a matrix product"),
    "∗": N_("write * for a product, or @ for a matrix product"),
    "√": N_("write sqrt(x) for √x"),
    "÷": N_("write / for a division"),
    "−": N_("write - (the keyboard's minus) for a minus sign or a subtraction"),
    "（": N_("write ( and ), not the full-width （ ）"),
    "）": N_("write ( and ), not the full-width （ ）"),
    "，": N_("write , (a comma without full width), not ，"),
}
ALLOWED = N_("only numbers, names, + - * / **, parentheses and function calls are allowed")
_BINARY = {"+": "add", "-": "sub", "*": "mul", "/": "div", "@": "matmul"}


def ascii_form(ch: str) -> str | None:
    """The plain ASCII character a full-width one stands for (＋ → +, １ → 1, ＝ → =), or
    None: what a Chinese input method types in place of the keyboard's own."""
    plain = unicodedata.normalize("NFKC", ch)
    return plain if plain != ch and plain.isascii() and plain.strip() else None


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    i, n = 0, len(text)
    depth = 0  # inside (...) or [...], a newline is only space
    while i < n:
        ch = text[i]
        if ch == "\n" and depth == 0 and tokens and tokens[-1].text != ";":
            tokens.append(Token("op", ";", i))  # a new line starts a new statement
            i += 1
            continue
        if ch.isspace():
            i += 1
            continue
        if ch in _SUPERSCRIPT_CHARS:
            j = i
            while j < n and text[j] in _SUPERSCRIPT_CHARS:
                j += 1
            exponent = text[i:j].translate(_SUPERSCRIPTS)
            if not tokens or tokens[-1].kind not in ("name", "num") and tokens[-1].text not in ")]|":
                raise ParseError(_("a superscript {text!r} needs something before it to raise to "
                                   "that power (write x{text} or x**{exponent})",
                                   text=text[i:j], exponent=exponent),
                                 text, i)
            if not re.fullmatch(r"-?\d+", exponent):
                raise ParseError(_("cannot read the superscript {text!r} as a power; write **",
                                   text=text[i:j]), text, i)
            tokens.append(Token("op", "**", i))
            if exponent.startswith("-"):
                tokens.append(Token("op", "-", i))
            tokens.append(Token("num", exponent.lstrip("-"), i))
            i = j
            continue
        number = _NUMBER.match(text, i)
        if number:
            end = number.end()
            after = end
            while text.startswith("_", after):
                after += 1
            # Python's 1_000 (and 1__000 or 1_, which it refuses): underscores not starting a name
            if after > end and not text[after:after + 1].isalpha():
                grouped = _GROUPED_DIGITS.match(text, i).group()
                raise ParseError(_("{written}: gradtrace reads numbers without _ between their "
                                   "digits: write {plain}", written=grouped,
                                   plain=grouped.replace("_", "")), text, end)
            if end < n and text[end] not in _SUPERSCRIPT_CHARS and (
                    text[end].isalnum() or text[end] == "_"):
                raise ParseError(
                    _("missing operator between {number!r} and what follows (write {number}*{next} for a "
                      "product)", number=number.group(), next=text[end]), text, end)
            tokens.append(Token("num", number.group(), i))
            i = end
            continue
        if ch.isidentifier():
            j = i + 1
            while j < n and text[j] not in _SUPERSCRIPT_CHARS and (
                    text[j].isidentifier() or text[j].isdigit()):
                j += 1
            tokens.append(Token("name", text[i:j], i))
            i = j
            continue
        op = next((o for o in _OPERATORS if text.startswith(o, i)), None)
        if op is None:
            plain = ascii_form(ch)
            if ch in _HINTS:
                hint = _(_HINTS[ch])
            elif plain is not None:
                hint = _("write {plain}, not the full-width {ch}", plain=plain, ch=ch)
            else:
                hint = _(ALLOWED)
            raise ParseError(_("unexpected character {ch!r}: {hint}", ch=ch, hint=hint), text, i)
        depth += (op in "([") - (op in ")]")
        tokens.append(Token("op", op, i))
        i += len(op)
    tokens.append(Token("end", "", n))
    return tokens


_SUPERSCRIPT_CHARS = frozenset("⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
_GROUPED_DIGITS = re.compile(r"[0-9_]*(?:\.[0-9_]*)?(?:[eE][+-]?[0-9_]+)?")


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.tokens = tokenize(text)
        self.index = 0
        self.nesting = 0
        self.operations = 0
        self.functions = calls()

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
        found = _("the end of the expression") if token.kind == "end" else repr(token.text)
        if opened:
            self.fail(_("expected {wanted!r} to close the {opened!r} at position {position}, "
                        "found {found}", wanted=text, opened=opened.text,
                        position=opened.pos + 1, found=found), token)
        self.fail(_("expected {wanted!r}, found {found}", wanted=text, found=found), token)

    def count_operation(self, token: Token):
        self.operations += 1
        if self.operations > MAX_OPERATIONS:
            self.fail(_("expression too large: more than {limit} operations (build larger graphs with "
                        "the Python API, gradtrace.tensor)", limit=f"{MAX_OPERATIONS:,}"), token)

    def enter(self, token: Token):
        self.nesting += 1
        if self.nesting > MAX_NESTING:
            self.fail(_("expression nested too deeply (more than {limit} levels)",
                        limit=MAX_NESTING), token)

    def leave(self):
        self.nesting -= 1

    # -- grammar -------------------------------------------------------------------------
    def parse(self) -> Program:
        if self.peek().kind == "end":
            self.fail(_("empty expression: write something like 1/(1+exp(-(w*x+b)))"),
                      self.peek())
        statements = [self.statement()]
        while self.peek().kind == "op" and self.peek().text == ";":
            self.take()
            if self.peek().kind == "end":
                break  # a ; at the very end
            statements.append(self.statement())
        token = self.peek()
        if token.kind != "end":
            if token.kind == "op" and token.text == ")":
                self.fail(_("unmatched ')'"), token)
            self.fail_adjacent(token)
        return Program(tuple(statements))

    def statement(self) -> Assign:
        """`q = x + y` (a named step) or a bare expression."""
        token = self.peek()
        after = self.tokens[min(self.index + 1, len(self.tokens) - 1)]
        if token.kind == "name" and after.kind == "op" and after.text == "=":
            name = token.text
            if keyword.iskeyword(name):
                self.fail(_("{name!r} is a Python keyword, not a name for a step",
                            name=name), token)
            if name in self.functions or name.lower() in self.functions or name in ALIASES:
                self.fail(_("{name!r} is a function's name; call the step something else",
                            name=name), token)
            self.take()
            self.take()
            if self.peek().kind == "end" or self.peek().text == ";":
                self.fail(_("{name} = what? write an expression after '='", name=name), self.peek())
            return Assign(name, self.expr(), token.pos)
        return Assign(None, self.expr(), token.pos)

    def fail_adjacent(self, token: Token):
        if token.kind == "name" and keyword.iskeyword(token.text):
            self.fail(_("{text!r} is a Python keyword; expressions contain only numbers, names, + -"
                        " * / **, parentheses and function calls", text=token.text), token)
        if token.kind == "op" and token.text == "(":
            self.fail(_("missing operator before '(' (write x*(...) for a product)"), token)
        if token.kind == "op" and token.text == "=":
            self.fail(_("'=' can only name a step at the start of a statement (q = x + y; "
                      "f = q * z); give the inputs' values apart from the expression "
                      "(--at name=value on the command line, at={...} in Python)"), token)
        self.fail(_("missing operator before {text!r}", text=token.text), token)

    def expr(self):
        left = self.term()
        while (token := self.peek()).kind == "op" and token.text in ("+", "-"):
            self.take()
            self.count_operation(token)
            left = Binary(_BINARY[token.text], left, self.term(), token.pos)
        return left

    def term(self):
        left = self.unary()
        while (token := self.peek()).kind == "op" and token.text in ("*", "/", "@"):
            self.take()
            self.count_operation(token)
            left = Binary(_BINARY[token.text], left, self.unary(), token.pos)
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
        base = self.postfix(self.atom())
        token = self.peek()
        if token.kind == "op" and token.text == "**":
            self.take()
            self.count_operation(token)
            self.enter(token)
            exponent = self.unary()
            self.leave()
            return Binary("pow", base, exponent, token.pos)
        return base

    def postfix(self, target):
        """x[...] and x.T, any number of times."""
        while (token := self.peek()).kind == "op" and token.text in ("[", "."):
            self.take()
            self.count_operation(token)
            if token.text == ".":
                name = self.take()
                if name.kind != "name" or name.text != "T":
                    self.fail(_("after '.' only T (transpose) is allowed: write x.T"), token)
                target = Call("transpose", (target,), token.pos)
            else:
                target = Call("index", (target,), token.pos, (("key", self.index_key(token)),))
        return target

    def index_key(self, opened: Token) -> tuple:
        """The inside of [...]: integers and slices (1:3, ::2, :), comma-separated."""
        parts = [self.index_part()]
        while self.peek().kind == "op" and self.peek().text == ",":
            self.take()
            parts.append(self.index_part())
        self.expect("]", opened)
        return tuple(parts)

    def index_part(self):
        bounds: list[int | None] = [self.optional_integer()]
        while self.peek().kind == "op" and self.peek().text == ":" and len(bounds) < 3:
            self.take()
            bounds.append(self.optional_integer())
        if len(bounds) == 1:
            if bounds[0] is None:
                self.fail(_("an index is a whole number or a slice such as 1:3"), self.peek())
            return bounds[0]
        return tuple(bounds + [None] * (3 - len(bounds)))

    def optional_integer(self) -> int | None:
        token = self.peek()
        sign = 1
        if token.kind == "op" and token.text == "-":
            self.take()
            sign, token = -1, self.peek()
        if token.kind != "num":
            if sign < 0:
                self.fail(_("expected a whole number after '-'"), token)
            return None
        self.take()
        if not re.fullmatch(r"\d+", token.text) or len(token.text) > 9:
            self.fail(_("indices and sizes are whole numbers (such as 0, 2, -1)"), token)
        return sign * int(token.text)

    def atom(self):
        token = self.take()
        if token.kind == "num":
            number = float(token.text)
            # past the largest float64 is how an expression writes infinity (it has no inf:
            # that is a name), and the graph shows it as the constant ∞: only 0 is refused
            why = number_lost(token.text, number) if number == 0 else ""
            if why:
                self.fail(why, token)
            return Num(number, token.text, token.pos)
        if token.kind == "name":
            return self.name_or_call(token)
        if token.kind == "op" and token.text == "(":
            if self.peek().kind == "op" and self.peek().text == ")":
                self.fail(_("empty parentheses: put an expression inside"), self.peek())
            self.enter(token)
            inner = self.expr()
            self.leave()
            self.expect(")", token)
            return inner
        if token.kind == "op" and token.text == "|":  # |x| is abs(x), as the notes write it
            self.enter(token)
            self.count_operation(token)
            inner = self.expr()
            self.leave()
            self.expect("|", token)
            return Call("abs", (inner,), token.pos)
        if token.kind == "end":
            self.fail(_("the expression ends too early: an operand is missing"), token)
        self.fail(_("expected a number, a name or '(' but found {text!r}", text=token.text), token)

    def name_or_call(self, token: Token):
        name = token.text
        if keyword.iskeyword(name) or name in ("print", "eval", "exec"):
            self.fail(_("{name!r} is not part of the expression language: only numbers, names, + - "
                        "* / **, parentheses and function calls", name=name), token)
        is_call = self.peek().kind == "op" and self.peek().text == "("
        if not is_call:
            if name in self.functions:
                self.fail(_("{name!r} is a function: write {name}(...)", name=name), token)
            return Name(name, token.pos)
        function = self.spelled(name)
        if function is None:
            self.fail(self.unknown_function(name), token)
        return self.call(token, function)

    def spelled(self, name: str) -> str | None:
        """The function a call names: as written, by a common alias (ln, σ), or in another
        letter case (ReLU); None for no function."""
        for candidate in (name, ALIASES.get(name), name.lower(), ALIASES.get(name.lower())):
            if candidate in self.functions:
                return candidate
        return None

    def unknown_function(self, name: str) -> str:
        hint = UNKNOWN_HINTS.get(name.lower())
        if hint:
            return _("unknown function {name!r}: {hint}", name=name, hint=_(hint))
        if name.lower() in WRITTEN_AS:
            return _("gradtrace has no {name!r}; write {form}", name=name,
                     form=WRITTEN_AS[name.lower()])
        if name.lower() in INVERSE_TRIG:
            return _("gradtrace has no {name!r}: it has no inverse trigonometric functions "
                     "(`gradtrace ops` lists the functions it has)", name=name)
        known = sorted(self.functions)
        close = difflib.get_close_matches(name.lower(), known, n=1, cutoff=0.75)
        if close:
            return _("unknown function {name!r}; did you mean {close!r}?", name=name,
                     close=close[0])
        return _("unknown function {name!r}; the functions are: {known} (`gradtrace ops` says "
                 "what each does)", name=name, known=", ".join(known))

    def call(self, name_token: Token, function: str):
        """name(args) with keyword attributes (axis=0); the op is chosen by how many
        expression arguments there are: max(a, b) is elementwise, max(x, axis=0) reduces."""
        candidates = self.functions[function]
        opened = self.take()
        self.enter(opened)
        self.count_operation(name_token)
        args, keywords, places = [], {}, []
        if not (self.peek().kind == "op" and self.peek().text == ")"):
            places.append(self.peek())
            self.argument(args, keywords)
            while self.peek().kind == "op" and self.peek().text == ",":
                places.append(self.take())
                self.argument(args, keywords)
        op, attrs = self.choose_op(name_token, candidates, args, keywords, places)
        self.expect(")", opened)
        self.leave()
        return Call(op.name, tuple(args[: op.arity]), name_token.pos, attrs)

    def argument(self, args: list, keywords: dict):
        token = self.peek()
        after = self.tokens[min(self.index + 1, len(self.tokens) - 1)]
        if token.kind == "name" and after.kind == "op" and after.text == "=":
            self.take()
            self.take()
            if token.text in keywords:
                self.fail(_("{text}= is given twice", text=token.text), token)
            if token.text in _words():
                keywords[token.text] = (self.word(token.text), token)
            else:
                keywords[token.text] = (self.attribute_value(token.text in _fractional()), token)
        else:
            args.append(self.expr())

    def attribute_value(self, fraction_allowed: bool = False):
        """axis=0, axis=-1, axis=None, axis=(0, 1); negative_slope=0.2 where a fraction is
        allowed."""
        token = self.peek()
        if token.kind == "name" and token.text == "None":
            self.take()
            return None
        if token.kind == "op" and token.text == "(":
            self.take()
            values = [self.required_integer()]
            while self.peek().kind == "op" and self.peek().text == ",":
                self.take()
                if self.peek().kind == "op" and self.peek().text == ")":
                    break  # (0,) is a one-axis tuple, as in Python
                values.append(self.required_integer())
            self.expect(")", token)
            return tuple(values)
        number = self.tokens[min(self.index + 1, len(self.tokens) - 1)] if (
            token.kind == "op" and token.text == "-") else token
        if fraction_allowed and number.kind == "num" and not re.fullmatch(r"\d+", number.text):
            sign = 1.0
            if number is not token:
                self.take()  # the minus sign
                sign = -1.0
            self.take()
            return sign * float(number.text)
        return self.required_integer()

    def word(self, name: str) -> str:
        """reduction=sum: the expression language has no strings, so an attribute whose value
        is a word is written as a bare word."""
        token = self.peek()
        if token.kind != "name":
            self.fail(_("{name}= takes a word, such as {name}={word}", name=name,
                        word=_words()[name]), token)
        self.take()
        return token.text

    def required_integer(self) -> int:
        value = self.optional_integer()
        if value is None:
            self.fail(_("expected a whole number"), self.peek())
        return value

    def choose_op(self, name_token: Token, candidates, args: list, keywords: dict, places):
        op = pick_op(candidates, len(args))
        attrs: dict = {}
        if op is not None and len(args) > op.arity:  # reshape(x, 2, 3): the numbers are the shape
            shape = args[op.arity:]
            if not all(_whole(arg) for arg in shape):
                op = None
            else:
                attrs["shape"] = tuple(int(arg.value) for arg in shape)
        if op is None:
            usages = " or ".join(c.usage for c in candidates)
            most = max(c.arity for c in candidates)
            # point at the first argument too many, or at ')' when one is missing
            where = places[most] if len(places) > most else self.peek()
            self.fail(self.arity_words(name_token.text, candidates, usages), where)
        for key, (value, token) in keywords.items():
            if key not in op.attrs:
                if op.attrs:
                    self.fail(_("{function} takes {allowed}", function=op.user_name,
                                allowed=", ".join(f"{a}=" for a in op.attrs)), token)
                self.fail(_("{function} takes no keyword arguments", function=op.user_name),
                          token)
            choices = op.choices.get(key)
            if choices and value not in choices:
                where = self.tokens[self.tokens.index(token) + 2]
                self.fail(_("{key}= is {choices}, not {value!r}", key=key,
                            choices=join_list(choices), value=value), where)
            attrs[key] = value
        return op, tuple(sorted(attrs.items()))

    @staticmethod
    def arity_words(function: str, candidates, usages: str) -> str:
        """'max takes 1 or 2 arguments: max(a), ... or max(a, b)'."""
        counts = sorted({op.arity for op in candidates})
        return ngettext("{function} takes {counts} argument: {usages}",
                        "{function} takes {counts} arguments: {usages}", counts[-1],
                        function=function, counts=join_list(str(n) for n in counts),
                        usages=usages)


def _whole(arg) -> bool:
    return isinstance(arg, Num) and arg.value == int(arg.value) and abs(arg.value) < 1e9


def parse(text: str) -> Program:
    """Parse expression text into a Program: statements whose values are ASTs of Num, Name,
    Unary, Binary and Call nodes."""
    if not isinstance(text, str):
        raise ParseError(_("the expression must be text"), "", 0)
    return _Parser(text).parse()


@functools.cache
def _words() -> dict[str, str]:
    """Attributes whose values are words (reduction=sum), with a default to show: those whose
    default is a string."""
    return {name: default for op in all_ops() for name, default in op.attrs.items()
            if isinstance(default, str)}


@functools.cache
def _fractional() -> frozenset[str]:
    """Attributes that may be fractions (negative_slope, alpha, p, eps): those whose default is
    a float; every other attribute (axis, kernel...) is a whole number."""
    return frozenset(name for op in all_ops() for name, default in op.attrs.items()
                     if isinstance(default, float))


def number_lost(text: str, number: float) -> str:
    """Why the float64 `number` read from `text` is not what was written ("" when it is):
    past the largest float64 it became inf, below the smallest it became 0."""
    if math.isinf(number):
        return _("{text} is beyond the largest float64 number (about 1.8e308) and would be "
                 "inf; write inf if infinity is meant", text=text)
    if number == 0 and any(digit in "123456789" for digit in text.lower().split("e")[0]):
        return _("{text} is below the smallest float64 number (about 4.9e-324) and would be "
                 "0; write 0 if zero is meant", text=text)
    return ""
