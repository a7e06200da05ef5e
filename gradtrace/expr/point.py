"""The point an expression is evaluated at: values written as text (`w=2,x=-1`, what `--at`
takes), and seeded defaults.

Arrays are written as nested lists ([1, 2], [[1, -2], [3, 4]]) or made by generators
(randn(3, 4), rand, zeros, ones, arange(start, stop, step), linspace(start, stop, count),
eye(n)); the random ones are seeded by the seed and the input's own name.

Values are read with a regular expression, never evaluated. A variable with no value gets a
default that depends only on its name and the seed, so adding a variable never changes the
others' defaults.
"""

from __future__ import annotations

import math
import re
import reprlib
import zlib

import numpy as np

from ..core.budget import over_budget
from ..core.errors import ParseError, UsageError, clip_runs
from ..core.i18n import _, ngettext
from ..core.graph import Graph
from .parse import ascii_form, number_lost, tokenize

_NAME = re.compile(r"\s*([^\W\d]\w*)\s*=(.*)$", re.S)
GENERATORS = ("randn", "rand", "zeros", "ones", "arange", "linspace", "eye")
MAX_NESTING = 32


def split_assignments(text: str) -> list[str]:
    """'w=2,x=[1,2],W=randn(3,4)' → ['w=2', 'x=[1,2]', 'W=randn(3,4)']: commas inside
    brackets or parentheses belong to the value."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in "[(":
            depth += 1
        elif ch in "])":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [part for part in parts if part.strip()]


def parse_assignments(texts, seed: int = 0) -> dict[str, np.ndarray]:
    """'w=2,x=-1' (and more such strings) to {'w': 2.0, 'x': -1.0}; values may be arrays
    ([1, 2], [[1, -2], [3, 4]]) or seeded generators (randn(3, 4), zeros(2), eye(3)...)."""
    values: dict[str, np.ndarray] = {}
    for text in texts:
        for part in split_assignments(text):
            match = _NAME.match(part)
            if not match:
                wide = _full_width(part)
                if wide is not None:  # w＝2, typed with a Chinese input method
                    raise UsageError(_("cannot read {text!r} as name=value: write {plain}, not "
                                       "the full-width {ch}", text=part.strip(), plain=wide[1],
                                       ch=wide[0]), "at")
                raise UsageError(
                    _("cannot read {text!r} as name=value (for example w=2,x=-1 or x=[1,2,3] or "
                      "W=randn(3,4))", text=part.strip()), "at")
            name, value_text = match.groups()
            if name in values:
                raise UsageError(_("{name} is given twice", name=name), "at")
            values[name] = parse_value(value_text, seed, name)
    return values


def _full_width(text: str) -> tuple[str, str] | None:
    """(the first full-width character of `text`, its plain ASCII form), or None."""
    return next(((ch, ascii_form(ch)) for ch in text if ascii_form(ch) is not None), None)


def check_seed(seed) -> int:
    """A seed is a whole number of 0 or more (numpy's generators take no other)."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise UsageError(_("a seed is a whole number of 0 or more, not {seed!r}",
                           seed=seed), "seed")
    return int(seed)


def _rng(seed: int, name: str) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(name.encode("utf-8"))])


def parse_value(text: str, seed: int = 0, name: str = "value") -> np.ndarray:
    """A number, a nested list of numbers, or a generator call, read by the expression
    parser's tokenizer and a grammar of its own: nothing is evaluated. Generators draw from
    a numpy Generator seeded by `seed` and the name."""
    try:
        tokens = [t for t in tokenize(text) if t.kind != "end"]
    except ParseError as error:
        raise UsageError(_("{name}={text}: {why}",
                           name=name, text=text.strip(), why=error.message), "at") from None
    reader = _ValueReader(tokens, text, name, seed)
    value = reader.value()
    if reader.index != len(tokens):
        reader.fail(_("unexpected text after the value"))
    return value


def _plain_number(number: float) -> str:
    """4294967296 as written, not 4.29497e+09."""
    return f"{int(number)}" if float(number).is_integer() and abs(number) < 1e18 else f"{number:g}"


class _ValueReader:
    def __init__(self, tokens, text, name, seed):
        self.tokens, self.text, self.name, self.seed = tokens, text.strip(), name, seed
        self.index = 0
        self.depth = 0

    def fail(self, why: str, syntax: bool = True):
        """Refuse the value; a mistake in how it is written also gets the forms it can take."""
        if syntax:
            raise UsageError(_("{name}={text}: {why} (numbers such as -1.5 or inf, lists such as "
                               "[[1,-2],[3,4]], or {generators}(...))", name=self.name,
                               text=self.text, why=why, generators=", ".join(GENERATORS)), "at")
        raise UsageError(_("{name}={text}: {why}", name=self.name, text=self.text, why=why), "at")

    def peek(self, text: str) -> bool:
        return self.index < len(self.tokens) and self.tokens[self.index].text == text

    def take(self):
        if self.index >= len(self.tokens):
            self.fail(_("the value ends too early"))
        self.index += 1
        return self.tokens[self.index - 1]

    def value(self) -> np.ndarray:
        if self.peek("["):
            return self.array()
        token = self.tokens[self.index] if self.index < len(self.tokens) else None
        if token is not None and token.kind == "name" and token.text in GENERATORS:
            return self.generator()
        return np.asarray(self.number())

    def number(self) -> float:
        sign = -1.0 if self.peek("-") else 1.0
        if self.peek("-") or self.peek("+"):
            self.take()
        token = self.take()
        if token.kind == "num":
            return sign * self.representable(token.text)
        if token.kind == "name" and token.text in ("inf", "nan"):
            return sign * float(token.text)
        self.fail(_("{text!r} is not a number", text=token.text))

    def representable(self, text: str) -> float:
        """The number written, refused where float64 would silently make it another (inf for
        1e400, 0 for 1e-400) instead of what the user wrote."""
        number = float(text)
        why = number_lost(text, number)
        if why:
            self.fail(why, syntax=False)
        return number

    def array(self) -> np.ndarray:
        self.depth += 1
        if self.depth > MAX_NESTING:
            self.fail(_("lists nested more than {limit} deep", limit=MAX_NESTING))
        self.take()  # [
        items = [] if self.peek("]") else [self.value()]
        while self.peek(","):
            self.take()
            items.append(self.value())
        if not self.peek("]"):
            self.fail(_("a list needs its closing ']'"))
        self.take()
        self.depth -= 1
        shapes = {item.shape for item in items}
        if len(shapes) > 1:
            self.fail(_("rows of different lengths"))
        return np.array(items, dtype=np.float64)

    def generator(self) -> np.ndarray:
        name = self.take().text
        if not self.peek("("):
            self.fail(_("{name} needs its arguments in parentheses, e.g. {example}", name=name,
                        example=GENERATOR_USAGE[name]))
        self.take()
        arguments = [] if self.peek(")") else [self.number()]
        while self.peek(","):
            self.take()
            arguments.append(self.number())
        if not self.peek(")"):
            self.fail(_("{name}(...) needs its closing ')'", name=name))
        self.take()
        shape = self.shape_of(name, arguments)
        elements = math.prod(shape)  # Python integers: no wrap-around, however large
        why = over_budget(elements)
        if why:
            written = f"{name}({', '.join(map(_plain_number, arguments))})"
            self.fail(_("{written} would make {why}", written=written, why=why), syntax=False)
        # made here, not before: numpy.random takes longer to import than plain numbers to read
        return _generate(name, shape, arguments, _rng(self.seed, self.name))

    def shape_of(self, name: str, arguments: list[float]) -> tuple[int, ...]:
        """The shape a generator call makes, its arguments checked first."""
        if name == "arange":
            if not 1 <= len(arguments) <= 3 or not all(map(math.isfinite, arguments)):
                self.fail(_("arange takes stop, or start, stop and an optional step, as finite "
                          "numbers: arange(5), arange(-8, 8, 0.5)"))
            start, stop, step = _arange_bounds(arguments)
            if step == 0:
                self.fail(_("arange's step cannot be 0"))
            return (max(0, math.ceil((stop - start) / step)),)
        if name == "linspace":
            if len(arguments) not in (2, 3) or not all(map(math.isfinite, arguments)):
                self.fail(_("linspace takes start, stop and a count: linspace(-8, 8, 161)"))
            count = self.whole(arguments[2]) if len(arguments) == 3 else 50
            return (count,)
        sizes = tuple(self.whole(argument) for argument in arguments)
        if name == "eye":
            if len(sizes) != 1:
                self.fail(_("eye takes one size, e.g. eye(4)"))
            return sizes * 2  # an n × n matrix
        return sizes

    def whole(self, value: float) -> int:
        if not (math.isfinite(value) and value == int(value) and value >= 0):
            self.fail(_("sizes are whole numbers of 0 or more, not {value:g}", value=value))
        return int(value)


GENERATOR_USAGE = {"randn": "randn(3, 4)", "rand": "rand(3)", "zeros": "zeros(2, 3)",
                   "ones": "ones(3)", "arange": "arange(-8, 8, 0.5)",
                   "linspace": "linspace(-8, 8, 161)", "eye": "eye(3)"}


def _arange_bounds(arguments: list[float]) -> tuple[float, float, float]:
    if len(arguments) == 1:
        return 0.0, arguments[0], 1.0
    if len(arguments) == 2:
        return arguments[0], arguments[1], 1.0
    return arguments[0], arguments[1], arguments[2]


def _generate(name: str, shape: tuple[int, ...], arguments: list[float], rng) -> np.ndarray:
    if name == "randn":
        return rng.standard_normal(shape)
    if name == "rand":
        return rng.random(shape)
    if name == "zeros":
        return np.zeros(shape)
    if name == "ones":
        return np.ones(shape)
    if name == "arange":
        return np.arange(*_arange_bounds(arguments), dtype=np.float64)[: shape[0]]
    if name == "linspace":
        with np.errstate(all="ignore"):  # a span past the largest float: inf and nan, said later
            return np.linspace(arguments[0], arguments[1], shape[0])
    return np.eye(shape[0])


def default_value(name: str, seed: int = 0) -> float:
    """A value in ±[0.1, 2] with two decimals, fixed by the name and the seed."""
    rng = _rng(seed, name)
    magnitude = rng.uniform(0.1, 2.0)
    sign = -1.0 if rng.random() < 0.5 else 1.0
    return round(sign * magnitude, 2)


def resolve_point(graph: Graph, given: dict, seed: int = 0):
    """Values for every input of `graph`: the given ones, defaults for the rest.
    Returns (values, names that got defaults). A given name the graph lacks is an error."""
    unknown = [name for name in given if name not in graph.inputs]
    if unknown:
        inputs = ", ".join(graph.inputs) or "none"
        raise UsageError(ngettext("{names} is not in the expression (its inputs: {inputs})",
                                  "{names} are not in the expression (its inputs: {inputs})",
                                  len(unknown), names=", ".join(unknown), inputs=inputs), "at")
    values, defaults = {}, []
    for name in graph.inputs:
        if name in given:
            values[name] = given_value(name, given[name], seed)
        else:
            values[name] = np.asarray(default_value(name, seed))
            defaults.append(name)
    return values, tuple(defaults)


def given_value(name: str, value, seed: int = 0) -> np.ndarray:
    """A value given for `name` in the Python API's `at`, as float64: a number, a nested list
    of numbers, an array or tensor of numbers, or text read as --at reads it ("[1, 2]",
    "randn(3)"). Anything else is refused, where numpy would read None as nan."""
    if isinstance(value, str):
        return parse_value(value, seed, name)
    try:
        array = np.asarray(value)
    except (TypeError, ValueError):  # rows of different lengths
        array = None
    if array is None or array.dtype.kind not in "biuf":
        raise UsageError(_("{name}: {value} is not a number or an array of numbers (a nested "
                           "list with rows of one length, a numpy array or a tensor)",
                           name=name, value=clip_runs(reprlib.repr(value))), "at")
    why = over_budget(array.size)  # as a generator written with --at would be refused
    if why:
        raise UsageError(_("{name}: an array of shape {shape} makes {why}", name=name,
                           shape=tuple(array.shape), why=why), "at")
    return array.astype(np.float64)


def parse_wrt(text: str | None, graph: Graph) -> tuple[str, ...] | None:
    """'w,b' to ('w', 'b'); each name must be an input of the graph."""
    if text is None:
        return None
    names = tuple(part.strip() for part in text.split(",") if part.strip())
    unknown = [name for name in names if name not in graph.inputs]
    if unknown or not names:
        inputs = ", ".join(graph.inputs) or "none"
        raise UsageError(_("{text!r}: the expression's inputs are {inputs}",
                           text=text, inputs=inputs), "wrt")
    return names
