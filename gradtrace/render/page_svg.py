"""The Graphviz SVG of a graph made ready for the interactive page (gradtrace.render.html).

Graphviz names each node and edge in a <title> ("h3", "h3 op", "w0->h1 op"): that name moves
into a `data-k` attribute, so the page's script finds the element of a node or an edge by
name. Numbers are tagged by colour: a green text (a value) gets class "v", a red one (a
gradient) class "g", so the page can show each only once the stepping reaches it. A quiz page
has some of them replaced by "?" (`hidden_values`, `hidden_grads`: the nodes whose numbers
are blanks), so the answers are not in the picture.

The file is also made smaller, which a 1,000-node page needs to stay well under 2 MB: comments,
the XML prologue and attributes every text repeats (font family, font size, xml:space,
text-anchor="start") go, the font family and size being set once on the whole picture; a
rounded box's path of 25 points becomes a <rect> with rounded corners. The same SVG always
gives the same bytes.
"""

from __future__ import annotations

import html
import re

from .dot import GRADIENT_COLOUR, VALUE_COLOUR

_GROUP = re.compile(r'<g id="(?:node|edge)\d+" class="(node|edge)">')
_TITLE = re.compile(r"<title>(.*)</title>")
_TEXT = re.compile(r"<text([^>]*)>(.*)</text>")
_ROUNDED = re.compile(r'<path fill="([^"]*)" stroke="([^"]*)"( stroke-width="[^"]*")?'
                      r'( stroke-dasharray="[^"]*")? d="M([^"]*)"/>')
_COORDINATES = re.compile(r"-?\d+(?:\.\d+)?")
_DROPPED = (' xml:space="preserve"', ' text-anchor="start"', ' font-size="11.00"')
_FONT_FAMILY = re.compile(r' font-family="[^"]*"')  # the page's style sheet names the fonts
# what every edge and box repeats, set once by the page's style sheet instead (a shape whose
# attribute differs, a constant's grey fill or a problem's orange border, keeps its own)
_EDGE_DEFAULTS = (' fill="none" stroke="#57606a"', ' fill="#57606a" stroke="#57606a"')
_NODE_DEFAULTS = (' fill="none"', ' stroke="black"')
_NUMBER = re.compile(r"(\d+\.\d)\d\b")  # coordinates to a tenth of a point
FONT_SIZE = 11  # the node labels' size in gradtrace's DOT, set once on the picture


def page_svg(svg: str, hidden_values=(), hidden_grads=()) -> str:
    """The SVG (text from render_image) with named, tagged elements and blanks as "?"."""
    hidden_values, hidden_grads = set(hidden_values), set(hidden_grads)
    body = svg[svg.index("<svg"):]
    body = re.sub(r"<!--.*?-->\n?", "", body, flags=re.S)
    out: list[str] = []
    key, kind = None, None
    lines = body.split("\n")
    index = 0
    while index < len(lines):
        line = lines[index]
        group = _GROUP.match(line)
        if group and index + 1 < len(lines) and _TITLE.match(lines[index + 1]):
            key = html.unescape(_TITLE.match(lines[index + 1]).group(1))
            kind = group.group(1)
            out.append(f'<g class="{kind}" data-k="{html.escape(key, quote=True)}">')
            index += 2
            continue
        if line.startswith('<g id="graph0"'):
            line = line.replace('class="graph"', f'class="graph" font-size="{FONT_SIZE}"')
        elif line == "</g>":
            key, kind = None, None
        elif line.startswith("<text"):
            line = _text(line, key in hidden_values, key in hidden_grads)
        elif kind is not None:
            if line.startswith("<path"):
                line = _rect(line)
            for default in (_EDGE_DEFAULTS if kind == "edge" else _NODE_DEFAULTS):
                line = line.replace(default, "", 1)
            line = _NUMBER.sub(r"\1", line)
        for dropped in _DROPPED:
            line = line.replace(dropped, "")
        line = _FONT_FAMILY.sub("", line)
        out.append(line)
        index += 1
    return "\n".join(out).strip() + "\n"


def _text(line: str, hide_value: bool, hide_grad: bool) -> str:
    """A text element tagged "v" (green) or "g" (red), its number a "?" where it is a blank."""
    match = _TEXT.match(line)
    if not match:
        return line
    attributes, content = match.groups()
    if f'fill="{VALUE_COLOUR}"' in attributes:
        kind, hidden = "v", hide_value
    elif f'fill="{GRADIENT_COLOUR}"' in attributes:
        kind, hidden = "g", hide_grad
    else:
        return line
    attributes = attributes.replace(f' fill="{VALUE_COLOUR}"', "").replace(
        f' fill="{GRADIENT_COLOUR}"', "")  # the style sheet colours class v and g
    return f'<text class="{kind}"{attributes}>{"?" if hidden else content}</text>'


def _rect(line: str) -> str:
    """A rounded box's path (Graphviz draws style=rounded as 25 points) as a <rect>."""
    match = _ROUNDED.fullmatch(line)
    if not match:
        return line
    fill, stroke, width, dashes, points = match.groups()
    numbers = [float(n) for n in _COORDINATES.findall(points)]
    if len(numbers) != 50:
        return line
    xs, ys = numbers[0::2], numbers[1::2]
    left, right, top, bottom = min(xs), max(xs), min(ys), max(ys)
    radius = _radius(xs, left, right)
    return (f'<rect fill="{fill}" stroke="{stroke}"{width or ""}{dashes or ""} '
            f'x="{_n(left)}" y="{_n(top)}" width="{_n(right - left)}" '
            f'height="{_n(bottom - top)}" rx="{_n(radius)}"/>')


def _radius(xs: list[float], left: float, right: float) -> float:
    """The corner radius: how far in from the side the first curve ends."""
    inner = [x for x in xs if left < x < right]
    return min(min(x - left for x in inner), min(right - x for x in inner)) if inner else 0.0


def _n(number: float) -> str:
    text = f"{number:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text
