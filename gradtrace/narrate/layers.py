"""One traced training step told layer by layer: forward with shapes, backward with δ⁽ˡ⁾ and
the parameter gradients, the SGD update; layer-level Jacobians (layer_jacobians.py), gradient
health and symmetry (layer_health.py) join them in `layer_sections`.

Orientation: the notes write a batch as columns, z⁽ˡ⁾ = W⁽ˡ⁾a⁽ˡ⁻¹⁾ + b⁽ˡ⁾ with a⁽ˡ⁻¹⁾ of shape
(features, N); the engine keeps one row per sample and computes z = a·Wᵀ + b. Two-axis
activations are shown here in the notes' orientation (the engine's arrays transposed); images
stay (N, C, H, W) in both.
"""

from __future__ import annotations


import numpy as np

from ..core.i18n import N_, _, data, ngettext
from ..core.registry import attribute_texts, with_defaults
from ..layers.diagnosis import coverage
from ..layers.step import StepResult
from ..ops import REGISTRY
from .blocks import Section, Table
from .lines import Line
from .numbers import fmt, fmt_array
from .pictures import sup

ORIENTATION = N_("Shapes and values in the notes' orientation: a batch of N samples is N "
                 "columns, z⁽ˡ⁾ = W⁽ˡ⁾a⁽ˡ⁻¹⁾ + b⁽ˡ⁾. The engine stores one row per sample and "
                 "computes the transpose, z = a·Wᵀ + b (shown after each line); the numbers are "
                 "the same. Images stay (N, C, H, W) in both.")


def notes_label(symbol: str, level: int) -> str:
    """A layer's output as the notes write it: z⁽¹⁾, a⁽²⁾; L and f have no superscript."""
    return f"{symbol}⁽{sup(level)}⁾" if level else symbol


def activation_derivative(spec) -> str | None:
    """f′ of an activation layer written with z (its input) and a (its output), from the
    registry's formula: [z > 0] for relu, a·(1−a) for sigmoid; None for other layers."""
    op = REGISTRY[spec.op]
    if op.activation is None or not op.elementwise:
        return None
    texts = {**attribute_texts(with_defaults(op, spec.attrs)), **attribute_texts(spec.attrs)}
    return data(op.formulas[0]).format(a="z", out="a", **texts)


def notes_shape(shape) -> str:
    """(N, F) as the notes write it, (F, N); other shapes as they are."""
    shape = tuple(shape)
    shown = shape[::-1] if len(shape) == 2 else shape
    return "(" + ",".join(str(n) for n in shown) + ")" if shown else _("scalar")


def notes_value(value, precision: int) -> str:
    array = np.asarray(value)
    return fmt_array(array.T if array.ndim == 2 else array, precision)


def layer_sections(result: StepResult, title: str, precision: int = 2,
                   network: dict | None = None) -> list[Section]:
    """The story of one step; `network` (the settings mlp and cnn were given: act, init, gain)
    lets the verdict's advice leave out what is already in use."""
    from .layer_health import health_section, symmetry_section
    from .layer_jacobians import jacobian_section

    sections = [Section(title, (_(ORIENTATION),), "header"), forward_section(result, precision),
                backward_section(result, precision), update_section(result, precision),
                jacobian_section(result, precision), health_section(result, precision, network)]
    symmetry = symmetry_section(result)
    if symmetry:
        sections.append(symmetry)
    if result.expanded:
        sections.append(expanded_section(result, precision))
    return sections


# -- forward ---------------------------------------------------------------------------------

def _names(result: StepResult) -> dict[str, str]:
    """Node id → its name in the notes (a⁽⁰⁾, z⁽¹⁾, W⁽¹⁾, ...)."""
    names = {"a0": "a⁽⁰⁾", "y": "y"}
    for layer in result.layers:
        names[layer.output] = notes_label(layer.spec.symbol, layer.spec.level)
        for name, _ in layer.spec.params:
            names[name] = f"{name[0]}⁽{sup(int(name[1:]))}⁾"
    return names


def forward_section(result: StepResult, precision: int) -> Section:
    records, names = result.trace.by_id, _names(result)
    windows = {c.layer: c for c in coverage(result)}
    lines = []
    for layer in result.layers:
        spec = layer.spec
        x, out = records[layer.input].value, records[layer.output].value
        a, z = names[layer.input], names[layer.output]
        params = [names[name] for name, _ in spec.params]
        shapes = [np.shape(value) for _, value in spec.params]
        note = ""
        if spec.op == "linear":
            text = (f"{z} = {params[0]}{a} + {params[1]} : {_tuple(shapes[0])}·"
                    f"{notes_shape(np.shape(x))} + ({shapes[1][0]},1) → "
                    f"{notes_shape(np.shape(out))}")
            note = _("engine: {formula}", formula=(
                f"{a}·{params[0]}ᵀ + {params[1]}, {_tuple(np.shape(x))}·"
                f"{_tuple(shapes[0][::-1])} + {_tuple(shapes[1])} → {_tuple(np.shape(out))}"))
        elif spec.op == "conv2d":
            attrs = dict(spec.attrs)
            text = (f"{z} = {params[0]} ⋆ {a} + {params[1]} : {_tuple(np.shape(x))} ⋆ "
                    f"{_tuple(shapes[0])} + {_tuple(shapes[1])} → {_tuple(np.shape(out))}")
            note = _("stride {stride}, padding {padding}; im2col then one matmul",
                     stride=attrs["stride"], padding=attrs["padding"])
        elif layer is result.layers[-1]:
            scalar = _("scalar")
            text = f"L = {spec.op}({a}, y) : {notes_shape(np.shape(x))} → {scalar}"
        else:
            text = (f"{z} = {_call(spec)}({a}) : {notes_shape(np.shape(x))} → "
                    f"{notes_shape(np.shape(out))}")
        lines.append(Line(((text, ""),), note))
        if layer.name in windows and not windows[layer.name].complete:
            lines.append(Line(((f"    {coverage_text(windows[layer.name])}", ""),),
                              warning=_("unread input")))
        lines.append(Line((("    = ", ""), (notes_value(out, precision), "value"))))
    return Section(_("Forward, layer by layer"), (tuple(lines),) + parameter_blocks(result),
                   "forward")


def coverage_text(c) -> str:
    """Which input rows and columns the windows of a layer never read, and why: PyTorch's
    output size drops a window that would run past the edge, and a stride larger than the
    kernel skips the rows between windows."""
    (kh, kw), (sh, sw), (ph, pw) = c.kernel, c.stride, c.padding
    (h, w), (oh, ow) = c.input_size, c.output_size
    sizes = (f"OH = ⌊({h} + 2·{ph} − {kh})/{sh}⌋ + 1 = {oh}, "
             f"OW = ⌊({w} + 2·{pw} − {kw})/{sw}⌋ + 1 = {ow}")
    rows, columns = _indices(c.rows), _indices(c.columns)
    if rows and columns:
        unread = _(UNREAD[(len(c.rows) > 1, len(c.columns) > 1)], rows=rows, columns=columns)
    elif rows:
        unread = ngettext("row {rows}", "rows {rows}", len(c.rows), rows=rows)
    else:
        unread = ngettext("column {columns}", "columns {columns}", len(c.columns),
                          columns=columns)
    reasons = []
    if sh > kh or sw > kw:
        reasons.append(_("the stride is larger than the kernel, so windows skip what lies "
                         "between them"))
    if any(r >= h + ph - _tail(h, ph, kh, sh) for r in c.rows) or any(
            col >= w + pw - _tail(w, pw, kw, sw) for col in c.columns):
        reasons.append(_("a window that would run past the edge is dropped (the division is "
                         "floored, as PyTorch does)"))
    stride = sh if sh == sw else f"({sh}, {sw})"
    return _("{kh}×{kw} windows with stride {stride} do not cover the {h}×{w} input: {sizes}; "
             "{reasons}. No window reads input {unread} (counting from 0): they play no part in "
             "the output and get no gradient.", kh=kh, kw=kw, stride=stride, h=h, w=w,
             sizes=sizes, reasons=_("; ").join(reasons), unread=unread)


# the rows and columns no window reads, by (several rows, several columns)
UNREAD = {(False, False): N_("row {rows} and column {columns}"),
          (False, True): N_("row {rows} and columns {columns}"),
          (True, False): N_("rows {rows} and column {columns}"),
          (True, True): N_("rows {rows} and columns {columns}")}


def _tail(size: int, padding: int, kernel: int, stride: int) -> int:
    """How many padded positions at the end lie past the last window."""
    count = (size + 2 * padding - kernel) // stride + 1
    return size + 2 * padding - ((count - 1) * stride + kernel)


def _indices(indices: tuple[int, ...]) -> str:
    """'5, 6' or '0–2, 9' for a run of consecutive indices."""
    if not indices:
        return ""
    runs: list[list[int]] = []
    for index in indices:
        if runs and index == runs[-1][1] + 1:
            runs[-1][1] = index
        else:
            runs.append([index, index])
    parts = [str(a) if a == b else f"{a}, {b}" if b == a + 1 else f"{a}–{b}" for a, b in runs]
    return ", ".join(parts)


def parameter_blocks(result: StepResult) -> tuple:
    """How many numbers each layer learns, and the total."""
    rows, names = [], _names(result)
    for layer, summary in zip(result.layers, result.summaries):
        if layer.spec.params:
            shapes = " + ".join(f"{names[name]} {_tuple(np.shape(value))}"
                                for name, value in layer.spec.params)
            rows.append((layer.name, shapes, f"{summary.parameters:,}"))
    if not rows:
        return ()
    total = sum(s.parameters for s in result.summaries)
    rows.append((_("total"), "", f"{total:,}"))
    return (ngettext("Parameters: {total} number is learned, layer by layer:",
                     "Parameters: {total} numbers are learned, layer by layer:", total,
                     total=f"{total:,}"),
            Table((_("layer"), _("parameters"), _("count")), ("name", "", "number"),
                  tuple(rows)))


def _call(spec) -> str:
    attrs = dict(spec.attrs)
    if spec.op.endswith("_pool2d"):
        return f"{spec.op.split('_')[0]}pool{attrs.get('kernel', 2)}×{attrs.get('kernel', 2)}"
    return spec.op


def _tuple(shape) -> str:
    shape = tuple(shape)
    return "(" + ",".join(str(n) for n in shape) + ("," if len(shape) == 1 else "") + ")"


# -- backward --------------------------------------------------------------------------------

def backward_section(result: StepResult, precision: int) -> Section:
    records, names = result.trace.by_id, _names(result)
    lines: list[Line] = []
    for layer in reversed(result.layers):
        lines += _backward_lines(layer, result, records, names, precision)
    return Section(_("Backward, layer by layer (δ⁽ˡ⁾ = ∂L/∂z⁽ˡ⁾)"), (tuple(lines),), "backward")


def _grad_line(text: str, value, precision: int, note: str = "") -> list[Line]:
    shown = notes_value(value, precision)
    return [Line(((text, ""),), note), Line((("    = ", ""), (shown, "grad")))]


def _backward_lines(layer, result, records, names, precision) -> list[Line]:
    spec, a = layer.spec, names[layer.input]
    x_grad = records[layer.input].grad
    if layer is result.layers[-1]:
        return _grad_line(f"∂L/∂{a} = {loss_rule(spec.op)} : {notes_shape(np.shape(x_grad))}",
                          x_grad, precision, _delta_name(a))
    if spec.op in ("linear", "conv2d"):
        return _parameter_lines(layer, records, names, precision)
    derivative = activation_derivative(spec)
    if derivative is not None:
        out = names[layer.output]
        return _grad_line(f"∂L/∂{a} = ∂L/∂{out} ⊙ f′({a}),  f′ = {derivative}",
                          x_grad, precision, _delta_name(a))
    how = _(POOLED[spec.op]) if spec.op in POOLED else ""
    return _grad_line(f"∂L/∂{a} = {spec.op}ᵀ(∂L/∂{names[layer.output]}) : "
                      f"{notes_shape(np.shape(x_grad))}", x_grad, precision, how)


# How the gradient goes back through a layer without parameters or activation
POOLED = {"max_pool2d": N_("each window's gradient goes to its maximum, 0 to the rest"),
          "avg_pool2d": N_("each window's gradient is shared equally by its entries"),
          "flatten": N_("reshaped back")}


def loss_rule(op_name: str) -> str:
    """The loss's gradient with respect to its input, from the registry's formula with the
    upstream gradient 1: (softmax(z) − onehot(y)) / N, (σ(z) − y) / N, 2(z − y) / N."""
    formula = data(REGISTRY[op_name].formulas[0])
    return formula.replace("{g} · ", "").format(a="z", b="y", g="1")


def _delta_name(label: str) -> str:
    return _("this is δ{level}", level=label[1:]) if label.startswith("z") else ""


def _parameter_lines(layer, records, names, precision) -> list[Line]:
    spec = layer.spec
    (w_name, _w_value), (b_name, _b_value) = spec.params
    z, a = names[layer.output], names[layer.input]
    W, b, delta = names[w_name], names[b_name], f"δ{z[1:]}"
    w_grad, b_grad = records[w_name].grad, records[b_name].grad
    activation = records[layer.input].value
    if spec.op == "linear":
        product = np.asarray(records[layer.output].grad).T @ np.asarray(activation)
        check = _("✓ equals the traced gradient") if np.allclose(product, w_grad) \
            else _("≠ traced")
        w_text = (f"∂L/∂{W} = {delta}{a}ᵀ : {notes_shape(np.shape(records[layer.output].value))}"
                  f"·{_tuple(np.shape(activation))} → {_tuple(np.shape(w_grad))}")
        b_text = _("∂L/∂{b} = Σₙ {delta} (sum over the batch) : {shape}", b=b, delta=delta,
                   shape=_tuple(np.shape(b_grad)))
        x_text = f"∂L/∂{a} = {W}ᵀ{delta} : {notes_shape(np.shape(activation))}"
        lines = [Line(((w_text, ""),), check),
                 Line((("    = ", ""), (fmt_array(w_grad, precision), "grad")))]
    else:
        w_text = _("∂L/∂{W} = Σ over positions {delta} · im2col({a}) : {shape}", W=W, delta=delta,
                   a=a, shape=_tuple(np.shape(w_grad)))
        b_text = _("∂L/∂{b} = Σ over n, h, w of {delta} : {shape}", b=b, delta=delta,
                   shape=_tuple(np.shape(b_grad)))
        x_text = f"∂L/∂{a} = col2im({delta} · {W}) : {_tuple(np.shape(activation))}"
        lines = [Line(((w_text, ""),), _("every position shares the filter")),
                 Line((("    = ", ""), (fmt_array(w_grad, precision), "grad")))]
    lines += [Line(((b_text, ""),)), Line((("    = ", ""), (fmt_array(b_grad, precision), "grad")))]
    x_grad = records[layer.input].grad
    if x_grad is not None:
        lines += _grad_line(x_text, x_grad, precision, _("sent on to the layer below"))
    return lines


# -- update ----------------------------------------------------------------------------------

def update_section(result: StepResult, precision: int) -> Section:
    names = _names(result)
    lines = []
    for layer in result.layers:
        for name, before in layer.spec.params:
            after = result.updated[name]
            step = float(np.linalg.norm(np.ravel(after - before)))
            text = f"{names[name]} ← {names[name]} − η·∂L/∂{names[name]}"
            lines.append(Line(((text, ""),), f"‖Δ‖ = {fmt(step, precision + 2)}"))
            # every entry when few, else its summary, as the backward section shows gradients
            lines.append(Line((("    = ", ""), (fmt_array(after, precision), "value"))))
    closing = _("Loss on the same batch: {before} before the step, {after} after.",
                before=fmt(result.loss, precision + 2), after=fmt(result.loss_after, precision + 2))
    return Section(_("Update (SGD, η = {lr})", lr=f"{result.lr:g}"), (tuple(lines), closing),
                   "update")


# -- expanded layer --------------------------------------------------------------------------

def expanded_section(result: StepResult, precision: int) -> Section:
    from .lines import backward_line, forward_line

    layer = next(layer for layer in result.layers if layer.name == result.expanded)
    own = set(layer.nodes)
    forward = tuple(forward_line(result.trace, step, precision)
                    for step in result.trace.forward if step.node in own)
    backward = tuple(backward_line(result.trace, step, precision)
                     for step in result.trace.backward if step.node in own)
    intro = ngettext("{layer} ({op}) written with primitive ops: {count} node instead of one "
                     "fused node. Forward, then backward:",
                     "{layer} ({op}) written with primitive ops: {count} nodes instead of one "
                     "fused node. Forward, then backward:", len(own), layer=layer.name,
                     op=layer.spec.op, count=len(own))
    return Section(_("{layer} expanded", layer=layer.name), (intro, forward, backward),
                   "expanded")
