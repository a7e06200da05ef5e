"""From recorded tensors to a Graph, and the backward pass over it.

A `Recording` walks back from an output through the tensors that made it (an explicit stack,
so a chain of any length works) and notes what each held. backward() runs the backward pass on
it directly, over the tensors; the Graph the parser would build, with every node named, is made
from it only when the Trace is first read (a training loop reads few of its traces).
`recorded_graph` makes it at once. Leaves and steps are named, in this order of preference: the
`.name` given to a tensor (a Parameter's "fc1.weight"), the variable the calling code holds it
in (`w`, `y_hat`: the calling frames' variables are copied at backward() time, and looked
through when the names are needed), else t1, t2... for leaves and h1, h2... for steps.

Each op node keeps the scope its tensor noted when it was made (the modules that made it, see
core/scopes.py), and each leaf a module's parameter noted, so pictures can group by module.

Tensors define no __eq__ that returns a bool, so they hash by identity: sets and dicts here
hold them directly.
"""

from __future__ import annotations

import sys

import numpy as np

from ..arrays import quiet_end, quiet_start
from ..backprop import backward_pass, needing, reaching
from ..graph import GraphBuilder
from ..trace import DeferredTrace, new_flow
from ..i18n import _, ngettext
from . import base as _tensor  # base imports this module: read its names at call time
from .errors import DiffersFromPyTorch, PyTorchError

_CALLER_FRAMES = 8  # frames of user code searched for variable names


def _check_unchanged(order: list) -> None:
    """PyTorch's version check: a tensor changed in place after an op read it would give that
    op's backward the wrong values (or, recorded, the wrong graph); refuse instead."""
    for current in order:
        for parent in current._parents:
            changed = getattr(parent, "_changed", 0)
            if changed > current._made:
                what = repr(parent.name) if parent.name else _(
                    "a tensor of shape {shape}", shape=tuple(parent.shape))
                raise PyTorchError(_(
                    "{pytorch} {what} was changed after {op} read it. Change a copy instead "
                    "(x = x + 1, not x += 1), or change it before it is used. (gradtrace refuses "
                    "this for every op, since the trace shows each value an op read; PyTorch "
                    "only where the op kept the value for backward)",
                    pytorch="one of the variables needed for gradient computation has been "
                            "modified by an inplace operation:", what=what, op=current._op))


def recorded_graph(output, names: dict | None = None):
    """The Graph of everything that fed `output`, each node's value, and the leaves by name.
    `names` may name tensors that have no .name (a variable of the calling code)."""
    graph, values, leaves, _ = _recorded(output, names or {})
    return graph, values, leaves


def recorded_ids(output):
    """(graph, values, node id of each tensor) of the graph that fed `output`, unnamed."""
    graph, values, _, ids = _recorded(output, {})
    return graph, values, ids


def _recorded(output, names: dict):
    recording = Recording(output)
    _check_in_place(recording)
    graph, ids, leaf_names = recording.named_graph(names)
    values = {ids[t]: value for t, value in recording.values.items()}
    return graph, values, {name: leaf for leaf, name in leaf_names.items()}, ids


def _check_in_place(recording: "Recording") -> None:
    # only when something was changed in place after an op of this graph was recorded (each op
    # notes the in-place clock when it is made)
    if recording.changed:
        _check_unchanged(recording.order)


class Recording:
    """What the tensors that fed an output held when backward() ran, kept apart from the
    tensors themselves, which change afterwards (an optimiser's step, `x += 1` making x the
    result of a new op, a new .name).

    `steps` are (tensor, op, parents, attrs) in forward order, the form the backward pass walks
    (core/backprop.py); `values` each tensor's array; `leaves` those that take a gradient. The
    named Graph is built from it only when asked for (`named_graph`). `changed` is True when
    something was changed in place after one of its ops was recorded."""

    __slots__ = ("order", "steps", "values", "leaves", "labels", "changed", "kept")

    def __init__(self, output):
        # Every tensor that fed `output`, parents before children, left to right: a
        # depth-first walk on an explicit stack of (tensor, its parents, those still to visit),
        # noting what each held as it is reached.
        order: list = []
        values: dict = {}
        steps: list = []
        leaves: list = []
        labels: dict = {}
        kept: dict = {}  # what an op's forward kept for its VJP (forward_keeping)
        clock = _tensor._clock
        changed = False
        seen = {output}
        parents = output._parents
        stack = [(output, parents, iter(parents))]
        while stack:
            current, parents, unvisited = stack[-1]
            for parent in unvisited:
                if parent not in seen:
                    seen.add(parent)
                    inputs = parent._parents
                    stack.append((parent, inputs, iter(inputs)))
                    break
            else:
                stack.pop()
                order.append(current)
                values[current] = current._value
                # .name and the module scope, read now: both may change once backward() returns
                labels[current] = (current._name, getattr(current, "_scope", ()))
                op = current._op
                if op is not None:
                    steps.append((current, op, parents, current._attrs))
                    changed = changed or current._made != clock
                    if getattr(current, "_kept", None) is not None:
                        kept[current] = current._kept
                elif current.requires_grad:
                    leaves.append(current)
        self.order, self.values, self.steps, self.leaves, self.labels, self.changed = (
            order, values, steps, leaves, labels, changed)
        self.kept = kept

    def named_graph(self, names: dict):
        """(Graph, node id of each tensor, name of each leaf): leaves and named steps called by
        their .name or the variable holding them (`names`), the other steps h1, h2..."""
        labels = self.labels
        leaf_names = _leaf_names(self.leaves, names, labels)
        named = [t for t, _op, _parents, _attrs in self.steps
                 if labels[t][0] or t in names]
        steps = _step_names(named, set(leaf_names.values()), names, labels)
        scopes = {name: labels[leaf][1] for leaf, name in leaf_names.items() if labels[leaf][1]}
        # the expression is written when read
        builder = GraphBuilder(None, list(leaf_names.values()), reserved=steps.values(),
                               input_scopes=scopes)
        ids: dict = dict(leaf_names)
        made = {step[0]: step for step in self.steps}
        for current in self.order:
            if current in ids:
                continue
            step = made.get(current)
            if step is None:  # a constant: a Python number or an array that needs no grad
                node_id = builder.const(self.values[current])
            else:
                _tensor_, op, parents, attrs = step
                node_id = builder.op(op, tuple([ids[p] for p in parents]), attrs,
                                     steps.get(current), labels[current][1])
            ids[current] = node_id
        return builder.build(ids[self.order[-1]]), ids, leaf_names


def backward_trace(output, gradient, inputs, wrt):
    """(trace, gradient of each leaf traced, gradient of each tensor that retains its grad,
    the array each recorded tensor held) of backward(). The pass runs over the recorded tensors themselves; the Trace names them and
    builds its graph the first time it is read, since a training loop makes a trace every step
    and reads few of them."""
    Tensor = _tensor.Tensor
    recording = Recording(output)
    variables = caller_variables(recording.values)
    _check_in_place(recording)
    traced = recording.leaves
    if inputs is not None:
        chosen = _chosen_inputs(inputs, Tensor)
        traced = [leaf for leaf in traced if leaf in chosen]
    elif wrt is not None:
        traced = _leaves_named(traced, wrt, names_of_tensors(variables), recording.labels)
    if gradient is not None:
        gradient = np.asarray(gradient._value if isinstance(gradient, Tensor) else gradient)
        if gradient.dtype.kind not in "biuf":
            raise TypeError(_("backward(gradient=...) takes numbers (a tensor, or an array or "
                              "list of numbers), not {given}", given=repr(gradient.tolist())))
        if gradient.shape != output._value.shape and gradient.size != 1:
            raise PyTorchError(f"Mismatch in shape: grad_output[0] has a shape of "
                               f"{list(gradient.shape)} and output[0] has a shape of "
                               f"{list(output._value.shape)}.")
    steps = recording.steps
    reached = reaching(steps, output)
    traced = [leaf for leaf in traced if leaf in reached]
    quiet = quiet_start()
    try:
        grads, flows = backward_pass(steps, output, recording.values, needing(steps, traced),
                                     gradient, kept=recording.kept)
    finally:
        quiet_end(quiet)
    # what the forward kept (a convolution's im2col rows) stays with the tensors, for another
    # backward(), and not with the Trace, which may be kept for long
    recording.kept = None
    if gradient is not None:
        gradient = np.broadcast_to(np.asarray(gradient, dtype=np.float64),
                                   np.shape(output._value))

    def build():
        graph, ids, leaf_names = recording.named_graph(names_of_tensors(variables))
        values = {ids[t]: value for t, value in recording.values.items()}
        node_grads = {ids[t]: grad for t, grad in grads.items()}
        named_flows = tuple([new_flow((ids[node], ids[source], index, sent, total))
                             for node, source, index, sent, total in flows])
        return graph, values, node_grads, named_flows, tuple([leaf_names[t] for t in traced])

    trace = DeferredTrace(build, grad_output=gradient)
    retained = {t: grads.get(t) for t in recording.order if getattr(t, "_retains", False)
                and t._op is not None} if _tensor._retaining else {}
    return trace, {leaf: grads.get(leaf) for leaf in traced}, retained, recording.values


def _chosen_inputs(inputs, Tensor) -> set:
    """backward(inputs=...) as a set of leaves, refusing what PyTorch refuses and what
    gradtrace does not do (a gradient kept for a tensor that is not a leaf)."""
    chosen = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if not chosen:
        raise PyTorchError("'inputs' argument to backward() cannot be empty.")
    for given in chosen:
        if not isinstance(given, Tensor):
            raise TypeError(f"backward(inputs=...) takes tensors, not {type(given).__name__}")
        if given._op is not None:
            raise DiffersFromPyTorch(_(
                "backward(inputs=...) with a tensor that is not a leaf: gradtrace keeps the "
                "gradients of leaves only. Call retain_grad() on that tensor and backward() "
                "without inputs, then read its .grad"))
    return set(chosen)


def _leaves_named(leaves: list, wrt, names: dict, labels: dict) -> list:
    """The leaves called by the names in `wrt` (backward(wrt=...)), refusing unknown names."""
    if not isinstance(wrt, str) and not (isinstance(wrt, (list, tuple))
                                         and all(isinstance(name, str) for name in wrt)):
        raise TypeError(_("backward(wrt=...) takes an input's name or a list of names, not "
                          "{given}", given=repr(wrt)))
    wrt = (wrt,) if isinstance(wrt, str) else tuple(wrt)
    if not wrt:
        raise ValueError(_("backward(wrt=...) names no input: give one, or leave wrt out to "
                           "trace them all"))
    leaf_names = _leaf_names(leaves, names, labels)
    known = set(leaf_names.values())
    unknown = [name for name in wrt if name not in known]
    if unknown:
        comma = _(", ")
        inputs = comma.join(leaf_names.values()) or _("none")
        raise ValueError(ngettext(
            "backward(wrt=...): {names} is not an input of this graph; its inputs are "
            "{inputs}",
            "backward(wrt=...): {names} are not an input of this graph; its inputs are "
            "{inputs}", len(unknown), names=comma.join(map(repr, unknown)), inputs=inputs))
    return [leaf for leaf, name in leaf_names.items() if name in wrt]


def caller_variables(recorded) -> tuple[dict, ...]:
    """The variables of the code that called into gradtrace that hold one of the `recorded`
    tensors (a dict or set of the graph's), as they are now: the innermost frame outside
    gradtrace first, then its callers (a few frames). Looking for the names they give
    (`names_of_tensors`) waits until a trace is read, since a training loop calls backward()
    every step and reads few of its traces. Only the graph's tensors are kept: a Trace holding
    every variable would keep the previous step's Trace alive in a loop that writes
    `trace = loss.backward()`, and that one the step before, back to the first."""
    Tensor = _tensor.Tensor
    copies = []
    frame = sys._getframe(1)
    while frame is not None and len(copies) < _CALLER_FRAMES:
        module = frame.f_globals.get("__name__", "")
        if module != "gradtrace" and not module.startswith("gradtrace."):
            copies.append({name: value for name, value in frame.f_locals.items()
                           if isinstance(value, Tensor) and value in recorded})
            if frame.f_code.co_name == "<module>":  # a script's or a notebook cell's top level:
                break  # what called it is the interpreter's machinery, not the user's code
        frame = frame.f_back
    return tuple(copies)


def names_of_tensors(variables) -> dict:
    """Each tensor held in `variables` (caller_variables()) by the first variable name found,
    innermost frame first; names starting with _ are passed over."""
    Tensor = _tensor.Tensor
    found: dict = {}
    for frame_variables in variables:
        for name, value in frame_variables.items():
            if isinstance(value, Tensor) and value not in found and not name.startswith("_"):
                found[value] = name
    return found


def _step_names(named: list, taken: set[str], names: dict, labels: dict) -> dict:
    """Names for intermediate tensors given a .name (b.name = "q") or held in a variable, so
    the graph and the steps read q instead of h3: made unique with _2, _3... against the leaves
    and each other."""
    found: dict = {}
    taken = set(taken)
    for tensor_ in named:
        found[tensor_] = _unique(labels[tensor_][0] or names[tensor_], taken)
    return found


def _unique(base: str, taken: set[str]) -> str:
    """base, or base_2, base_3... when taken; the name returned is added to `taken`."""
    name, suffix = base, 1
    while name in taken:
        suffix += 1
        name = f"{base}_{suffix}"
    taken.add(name)
    return name


def _leaf_names(leaves: list, names: dict, labels: dict) -> dict:
    """Names for the leaves: their own or their variable's, made unique with _2, _3...; t1,
    t2... for the others."""
    found: dict = {}
    taken: set[str] = set()
    unnamed = 0
    for leaf in leaves:
        base = labels[leaf][0] or names.get(leaf)
        if not base:
            unnamed += 1
            base = f"t{unnamed}"
        found[leaf] = _unique(base, taken)
    return found
