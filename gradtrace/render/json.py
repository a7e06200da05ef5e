"""JSON: the one number rule every document follows, and the whole trace as schema
gradtrace.trace/1 (`--format json`, `Trace.to_json()`).

Later versions extend this schema and never break it. Keys are sorted and numbers are JSON
numbers at full float64 precision; inf, -inf and nan (not JSON numbers) are the strings
"inf", "-inf" and "nan". Arrays are nested lists.

Extensions for arrays (absent from traces of scalars, so their bytes never change): an op
with attributes carries `attrs` ({"axis": 0}, {"shape": [2, 3]}, {"key": ["1:3", 0]}); in a
trace holding arrays every step carries shapes (`shape`, and `input_shapes` or
`upstream_shape`). With Jacobian views (`--jacobians`) every backward step carries
`jacobian`: {shape, structure, density, matrix (nested list, or null when not built or over
64 entries), pattern, vjp, max_difference}.

Added keys: `grad_output`, the gradient backprop started from (null for a number's 1; for an
array output, the output gradient given, or ones where none was given: the gradients are
those of Σ grad_output ⊙ output); `losses`, one entry per loss op in the trace: {node, op,
reduction, terms (how many were reduced), convention (the sentence the narration says), notes:
{form, value} (the course notes' form and its value here), warning (or null)}; `warnings`,
[{node, op, why}]: an input that looks meant for another loss (probabilities given to
cross_entropy, which takes logits). Warnings do not change `ok` or the exit code; `problems`
stay the non-finite values. The texts write numbers with four decimals.
"""

from __future__ import annotations

import json
import math

import numpy as np

from ..core.i18n import again, current, data
from ..narrate.lines import loss_readings
from ..narrate.pictures import sparsity_picture
from ..ops import REGISTRY

SCHEMA = "gradtrace.trace/1"
MAX_MATRIX_ENTRIES = 64  # a larger Jacobian is described (shape, structure), not listed
TEXT_PRECISION = 2  # the decimals of the narration's texts carried in JSON (losses are shown
# with two more: four)


def number(value):
    """The one JSON number rule: a float (or nested lists of them for an array) at full
    precision; inf, -inf and nan, which JSON has no numbers for, as those strings."""
    if value is None:
        return None
    array = np.asarray(value, dtype=np.float64)
    if array.size > MAX_LISTED_ELEMENTS:
        return _summary(array)
    if array.ndim:
        if np.all(np.isfinite(array)):
            return array.tolist()  # nested lists of floats in one call: fast for big arrays
        return [number(x) for x in array]
    as_float = float(array)
    if math.isnan(as_float):
        return "nan"
    if math.isinf(as_float):
        return "inf" if as_float > 0 else "-inf"
    return as_float


MAX_LISTED_ELEMENTS = 100_000  # a larger array is summarised: its JSON would run to megabytes


def _summary(array: np.ndarray) -> dict:
    """A large array in JSON: {"shape", "min", "max", "mean", "norm"}, not every number."""
    finite = array[np.isfinite(array)]
    with np.errstate(all="ignore"):
        return {"shape": list(array.shape),
                "min": number(np.min(array)), "max": number(np.max(array)),
                "mean": number(np.mean(array)),
                "norm": number(np.linalg.norm(array.ravel())),
                "not_finite": int(array.size - finite.size)}


def jsonable(data):
    """Plain data ready for json.dumps: every float through `number`, arrays as lists; ints,
    strings, booleans and None as they are."""
    if isinstance(data, dict):
        return {key: jsonable(value) for key, value in data.items()}
    if isinstance(data, (list, tuple)):
        return [jsonable(value) for value in data]
    if isinstance(data, (float, np.floating, np.ndarray)):
        return number(data)
    if isinstance(data, np.integer):
        return int(data)
    if isinstance(data, np.bool_):
        return bool(data)
    return data


def dumps(document: dict) -> str:
    """Sorted keys, two-space indent, UTF-8 text as is: the same bytes from run to run."""
    return json.dumps(jsonable(document), sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def with_language(text: str) -> str:
    """A JSON document (one object) with "lang" when its words are not English: the key
    names the language its texts (notes, problems, hints) are in; keys, numbers, names and
    the data's own words ("agree", "distributor") are the same in every language. English
    documents are left as they were."""
    if current() == "en":
        return text
    document = json.loads(text)
    if not isinstance(document, dict) or "lang" in document:
        return text
    return dumps({**document, "lang": current()})


def trace_document(trace, jacobians=None) -> dict:
    """The trace as plain JSON-ready data; `jacobians`: JacobianViews, one per backward step."""
    arrays = any(np.ndim(record.value) for record in trace.nodes)
    views = _views_by_step(trace, jacobians)
    attrs = {node.id: node.attrs for node in trace.graph.nodes}
    document = {
        "schema": SCHEMA,
        "expression": trace.expression,
        "output": trace.output,
        "value": number(trace.by_id[trace.output].value),
        "gradients": {name: number(trace.by_id[name].grad) for name in trace.wrt},
        "inputs": {name: number(trace.by_id[name].value) for name in trace.inputs},
        "defaults": list(trace.defaults),
        "fused": trace.fused,
        "nodes": [_with_attrs(_node(record), record.op, attrs[record.id])
                  for record in trace.nodes],
        "steps": [_with_attrs(_forward(step, arrays), step.op, step.attrs)
                  for step in trace.forward]
        + [_backward(step, arrays, view) for step, view in zip(trace.backward, views)],
        "problems": [{"node": node, "why": again(why)} for node, why in trace.problems],
        "kinks": [{"node": node, "rule": data(rule)} for node, rule in trace.kinks],
        "checks": None if trace.checks is None else {c.input: _check(c) for c in trace.checks},
        "ok": trace.ok,
        "grad_output": _grad_output(trace),
    }
    losses = [_loss(reading) for reading in loss_readings(trace, TEXT_PRECISION)]
    document["losses"] = losses
    document["warnings"] = [{"node": loss["node"], "op": loss["op"], "why": loss["warning"]}
                            for loss in losses if loss["warning"]]
    return document


def _grad_output(trace):
    """The gradient backprop started from: null for a number (d output / d output = 1)."""
    output = trace.by_id[trace.output].value
    if trace.grad_output is not None:
        return number(trace.grad_output)
    return number(np.ones(np.shape(output))) if np.ndim(output) else None


def _loss(reading) -> dict:
    line = reading.line
    return {
        "node": reading.node,
        "op": reading.op,
        "reduction": reading.reduction,
        "terms": reading.count,
        "convention": "".join(text for text, _ in line.parts),
        "notes": {"form": reading.notes, "value": number(reading.notes_value)},
        "warning": line.warning or None,
    }


def render_json(trace, jacobians=None) -> str:
    return with_language(dumps(trace_document(trace, jacobians)))


def _shape(value) -> list[int]:
    return list(np.shape(value))


def _with_attrs(entry: dict, op: str | None, attrs) -> dict:
    """Ops that take attributes (axis, shape, index) say which they were given."""
    if op is not None and REGISTRY[op].attrs:
        entry["attrs"] = {name: _attribute(name, value) for name, value in attrs}
    return entry


def _attribute(name: str, value):
    if name == "key":  # an index: integers, and slices written as "1:3" or "::2"
        return [_index_part(part) for part in value]
    if isinstance(value, tuple):
        return list(value)
    return value


def _index_part(part):
    if not isinstance(part, tuple):
        return part
    start, stop, step = ("" if bound is None else str(bound) for bound in part)
    return f"{start}:{stop}" + (f":{step}" if step else "")


def _node(record) -> dict:
    return {
        "id": record.id,
        "kind": record.kind,
        "op": record.op,
        "inputs": list(record.inputs),
        "value": number(record.value),
        "grad": number(record.grad),
        "shape": list(np.shape(record.value)),
    }


def _forward(step, arrays: bool) -> dict:
    entry = {
        "phase": "forward",
        "node": step.node,
        "op": step.op,
        "inputs": list(step.inputs),
        "input_values": [number(x) for x in step.input_values],
        "value": number(step.value),
        "problem": again(step.problem),
        "kink": data(step.kink),
    }
    if arrays:
        entry["shape"] = _shape(step.value)
        entry["input_shapes"] = [_shape(x) for x in step.input_values]
    return entry


def _backward(step, arrays: bool, view) -> dict:
    entry = {
        "phase": "backward",
        "node": step.node,
        "input": step.input,
        "op": step.op,
        "upstream": number(step.upstream),
        "local": {"formula": step.formula, "value": number(step.local),
                  "at": {name: number(value) for name, value in step.bindings}},
        "downstream": number(step.downstream),
        "total": number(step.total),
        "arrival": step.arrival,
        "gate": step.gate,
        "problem": again(step.problem),
    }
    if arrays:
        entry["shape"] = _shape(step.downstream)
        entry["upstream_shape"] = _shape(step.upstream)
    if view is not None:
        entry["jacobian"] = _jacobian(view)
    return entry


def _views_by_step(trace, jacobians) -> list:
    """The view of each backward step (None without views), matched by node and input in
    order, so a step the views leave out gets none."""
    if jacobians is None:
        return [None] * len(trace.backward)
    waiting: dict[tuple[str, str], list] = {}
    for view in jacobians:
        waiting.setdefault((view.node, view.input), []).append(view)
    return [(waiting.get((step.node, step.input)) or [None]).pop(0) for step in trace.backward]


def _jacobian(view) -> dict:
    rows, columns = view.shape
    listed = view.matrix is not None and rows * columns <= MAX_MATRIX_ENTRIES
    return {
        "shape": [int(rows), int(columns)],
        "structure": view.structure,
        "density": number(view.density),
        "matrix": number(np.reshape(view.matrix, (rows, columns))) if listed else None,
        "pattern": None if view.matrix is None else list(sparsity_picture(view.matrix)),
        "vjp": view.vjp_formula,
        "max_difference": number(view.max_difference),
    }


def _check(check) -> dict:
    return {
        "traced": number(check.traced),
        "symbolic": None if check.symbolic_expr is None
        else {"expr": again(check.symbolic_expr), "value": number(check.symbolic)},
        "numeric": number(check.numeric),
        "agree": check.status == "agree",
        "status": check.status,
        "note": again(check.note),
        "tolerance": {"rtol": check.rtol, "atol": check.atol},
    }
