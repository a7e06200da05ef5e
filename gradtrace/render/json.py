"""`--format json`: the whole trace as schema gradtrace.trace/1.

Later versions extend this schema and never break it. Keys are sorted and numbers are JSON
numbers at full float64 precision; inf, -inf and nan (not JSON numbers) are the strings
"inf", "-inf" and "nan". Arrays are nested lists.
"""

from __future__ import annotations

import json
import math

import numpy as np

SCHEMA = "gradtrace.trace/1"


def _number(value):
    if value is None:
        return None
    array = np.asarray(value, dtype=np.float64)
    if array.ndim:
        return [_number(x) for x in array]
    number = float(array)
    if math.isnan(number):
        return "nan"
    if math.isinf(number):
        return "inf" if number > 0 else "-inf"
    return number


def trace_document(trace) -> dict:
    """The trace as plain JSON-ready data."""
    document = {
        "schema": SCHEMA,
        "expression": trace.expression,
        "output": trace.output,
        "value": _number(trace.node[trace.output].value),
        "gradients": {name: _number(trace.node[name].grad) for name in trace.wrt},
        "inputs": {name: _number(trace.node[name].value) for name in trace.inputs},
        "defaults": list(trace.defaults),
        "fused": trace.fused,
        "nodes": [_node(record) for record in trace.nodes],
        "steps": [_forward(step) for step in trace.forward]
        + [_backward(step) for step in trace.backward],
        "problems": [{"node": node, "why": why} for node, why in trace.problems],
        "kinks": [{"node": node, "rule": rule} for node, rule in trace.kinks],
        "checks": None if trace.checks is None else {c.input: _check(c) for c in trace.checks},
        "ok": trace.ok,
    }
    return document


def render_json(trace) -> str:
    return json.dumps(trace_document(trace), sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def _node(record) -> dict:
    return {
        "id": record.id,
        "kind": record.kind,
        "op": record.op,
        "inputs": list(record.inputs),
        "value": _number(record.value),
        "grad": _number(record.grad),
        "shape": list(np.shape(record.value)),
    }


def _forward(step) -> dict:
    return {
        "phase": "forward",
        "node": step.node,
        "op": step.op,
        "inputs": list(step.inputs),
        "input_values": [_number(x) for x in step.input_values],
        "value": _number(step.value),
        "problem": step.problem,
        "kink": step.kink,
    }


def _backward(step) -> dict:
    return {
        "phase": "backward",
        "node": step.node,
        "input": step.input,
        "op": step.op,
        "upstream": _number(step.upstream),
        "local": {"formula": step.formula, "value": _number(step.local),
                  "at": {name: _number(value) for name, value in step.bindings}},
        "downstream": _number(step.downstream),
        "total": _number(step.total),
        "arrival": step.arrival,
        "gate": step.gate,
        "problem": step.problem,
    }


def _check(check) -> dict:
    return {
        "traced": _number(check.traced),
        "symbolic": None if check.symbolic_expr is None
        else {"expr": check.symbolic_expr, "value": _number(check.symbolic)},
        "numeric": _number(check.numeric),
        "agree": check.status == "agree",
        "status": check.status,
        "note": check.note,
        "tolerance": {"rtol": check.rtol, "atol": check.atol},
    }
