"""The JSON documents of every command but `explain` (whose trace document is in json.py):
forward mode, a whole Jacobian, one layer-by-layer step, gradcheck, check, train, optimize and
the op listing. Each has a schema name and version; later versions add keys, never remove them.
All follow json.py's one number rule: inf, -inf and nan as strings."""

from __future__ import annotations

import dataclasses

from ..layers.step import gradient_health, symmetric_units
from ..narrate.layers import notes_label
from .json import dumps, number


def forward_json(report) -> str:
    """`explain --mode forward`: schema gradtrace.forward/1."""
    return dumps({
        "schema": "gradtrace.forward/1",
        "mode": "forward",
        "expression": report.expression,
        "output": report.graph.output,
        "value": number(report.values[report.graph.output]),
        "inputs": {name: number(report.values[name]) for name in report.graph.inputs},
        "defaults": list(report.defaults),
        "passes": [_forward_pass(one) for one in report.passes],
        "derivatives": {one.input: number(one.derivative) for one in report.passes},
        "ok": report.ok,
    })


def _forward_pass(one) -> dict:
    steps = [{"node": step.node, "op": step.op, "inputs": list(step.inputs),
              "value": number(step.value), "tangent": number(step.tangent),
              "input_tangents": [number(t) for t in step.input_tangents]}
             for step in one.steps]
    return {"input": one.input, "seed": number(one.seed), "steps": steps,
            "derivative": number(one.derivative), "reverse": number(one.reverse)}


def jacobian_json(report, times: bool = False) -> str:
    """`gradtrace jacobian`: schema gradtrace.jacobian/1. "seconds" is there only with times,
    so that the document is otherwise the same from run to run."""
    result = report.jacobian
    document = {
        "schema": "gradtrace.jacobian/1",
        "expression": result.expression,
        "wrt": result.wrt,
        "inputs": {name: number(report.values[name]) for name in report.graph.inputs},
        "defaults": list(report.defaults),
        "value": number(report.values[report.graph.output]),
        "jacobian": number(result.reverse),
        "forward_jacobian": number(result.forward),
        "shape": list(result.reverse.shape),
        "output_shape": list(result.output_shape),
        "input_shape": list(result.input_shape),
        "passes": {"reverse": result.reverse_passes, "forward": result.forward_passes},
        "max_difference": number(result.max_difference),
        "structure": {"name": result.structure, "density": result.density,
                      "description": result.description},
    }
    if times:
        document["seconds"] = {"reverse": result.reverse_seconds,
                               "forward": result.forward_seconds}
    return dumps(document)


def layers_json(result, network: dict) -> str:
    """`gradtrace mlp` and `cnn`: schema gradtrace.layers/1. Later keys: "parameters" (the
    total; each layer's own), each layer's "activation" statistics and "window" coverage, and
    in "health" the verdict that reads them ("gradient_verdict" is the norms' own)."""
    from ..layers.diagnosis import (CHANCE, DEAD_SHARE, SATURATED, SATURATED_SHARE, coverage,
                                    diagnose)
    from ..layers.step import EXPLODING, VANISHING

    health = gradient_health(result.summaries)
    diagnosis = diagnose(result)
    stats = {a.layer: a for a in diagnosis.activity}
    windows = {c.layer: c for c in coverage(result)}
    return dumps({
        "schema": "gradtrace.layers/1", "network": network,
        "loss": result.loss, "loss_after": result.loss_after, "lr": result.lr,
        "parameters": sum(s.parameters for s in result.summaries),
        "layers": [_layer(summary, stats.get(summary.name), windows.get(summary.name))
                   for summary in result.summaries],
        "health": None if health is None else {
            "levels": list(health.levels), "delta_norms": list(health.delta_norms),
            "weight_grad_norms": list(health.weight_grad_norms),
            "ratio": health.ratio, "verdict": diagnosis.verdict,
            "gradient_verdict": health.verdict,
            "culprit": None if diagnosis.culprit is None else diagnosis.culprit.layer,
            "dead_layers": [a.layer for a in diagnosis.dead],
            "saturated_layers": [a.layer for a in diagnosis.saturated],
            "thresholds": {"saturated_slope": SATURATED, "saturated_share": SATURATED_SHARE,
                           "dead_share": DEAD_SHARE, "dead_chance": CHANCE,
                           "vanishing": VANISHING, "exploding": EXPLODING}},
        "symmetry": [{"layer": s.layer, "parameter": s.parameter,
                      "units": [list(group) for group in s.units]}
                     for s in symmetric_units(result)],
        "expanded": result.expanded,
    })


def _layer(s, activity=None, window=None) -> dict:
    return {"name": s.name, "op": s.op, "label": notes_label(s.symbol, s.level),
            "input_shape": list(s.input_shape), "output_shape": list(s.output_shape),
            "grad_norm": s.grad_norm, "output_grad_norm": s.output_grad_norm,
            "param_shapes": {k: list(v) for k, v in s.param_shapes.items()},
            "param_grad_norms": dict(s.param_grad_norms), "parameters": s.parameters,
            "activation": None if activity is None else {
                "samples": activity.samples, "units": activity.units,
                "saturated": activity.saturated, "off": activity.off, "dead": activity.dead,
                "dead_units": len(activity.dead_units), "mean": number(activity.mean),
                "std": number(activity.std)},
            "window": None if window is None else {
                "kernel": list(window.kernel), "stride": list(window.stride),
                "padding": list(window.padding), "input_size": list(window.input_size),
                "output_size": list(window.output_size), "unread_rows": list(window.rows),
                "unread_columns": list(window.columns)}}


def gradcheck_json(result) -> str:
    """`gradtrace gradcheck`: schema gradtrace.gradcheck/1."""
    return dumps({
        "schema": "gradtrace.gradcheck/1", "layer": result.layer, "attrs": result.attrs,
        "output_shape": list(result.output_shape), "step": result.step,
        "tolerance": result.tolerance, "passed": result.passed,
        "inputs_note": result.inputs_note,
        # status: "pass", "FAIL", or "not checked" (no element could be compared; not a failure)
        "tensors": [{"name": c.name, "shape": list(c.shape), "passed": c.passed,
                     "status": c.status, "not_checked": c.not_checked,
                     "settled_elements": c.settled_elements,
                     "max_difference": c.max_difference, "relative_error": c.relative_error}
                    for c in result.tensors],
    })


def check_json(report) -> str:
    """`gradtrace check`: schema gradtrace.check/1."""
    return dumps({"schema": "gradtrace.check/1", **dataclasses.asdict(report), "ok": report.ok})


def train_json(run) -> str:
    """`gradtrace train`: schema gradtrace.train/1, the epochs shown in the table."""
    history = run.history
    return dumps({
        "schema": "gradtrace.train/1", "data": run.data, "layers": list(run.sizes),
        "final_loss": history.losses[-1], "final_accuracy": history.accuracies[-1],
        "diverged_at": history.diverged_at,
        "epochs": [{"epoch": epoch, "loss": history.losses[epoch - 1],
                    "accuracy": history.accuracies[epoch - 1]} for epoch in run.shown],
    })


def optimize_json(surface, paths) -> str:
    """`gradtrace optimize`: schema gradtrace.optimize/1."""
    return dumps({
        "schema": "gradtrace.optimize/1",
        "expression": surface.graph.expression,
        "variables": list(surface.names),
        "optimisers": [{
            "name": p.optimiser, "lr": p.lr, "final": number(p.final),
            "value": number(p.values[-1]), "turns": [p.reversals(0), p.reversals(1)],
            "path": number(p.points), "diverged_at": p.diverged_at,
        } for p in paths],
    })


def ops_json(rows: list[dict]) -> str:
    """`gradtrace ops`: one object per op (a list, as the listing has always been)."""
    import json

    return json.dumps(rows, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
