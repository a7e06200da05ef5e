"""torch.autograd.grad and torch.autograd.backward: the gradients of outputs with respect to
any tensors that made them (leaves or not), by the engine's lean reverse pass (`vjp_pass`:
nothing recorded for the narration, `.grad` left alone)."""

from __future__ import annotations

import numpy as np

from ..core.backprop import vjp_pass
from ..core.i18n import _
from ..core.tensor import PyTorchError, Tensor, recorded_ids, set_grad_enabled
from ..core.tensor.base import check_refusals
from ..core.tensor.errors import DiffersFromPyTorch


def _as_tuple(items) -> tuple:
    return (items,) if isinstance(items, (Tensor, np.ndarray)) else tuple(items)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph: bool = False,
         allow_unused: bool | None = None, materialize_grads: bool = False) -> tuple:
    """d(Σ grad_outputs · outputs)/d input for each input, as a tuple of tensors."""
    if create_graph:
        raise DiffersFromPyTorch(_("grad(create_graph=True): gradtrace records no graph of "
                                   "the backward pass, so no second derivatives"))
    outputs, inputs = _as_tuple(outputs), _as_tuple(inputs)
    seeds = (None,) * len(outputs) if grad_outputs is None else _as_tuple(grad_outputs)
    totals: list = [None] * len(inputs)
    for output, seed in zip(outputs, seeds):
        if not output.requires_grad:
            raise PyTorchError("element 0 of tensors does not require grad and does not have a "
                               "grad_fn")
        if seed is None and output._value.size != 1:
            raise PyTorchError("grad can be implicitly created only for scalar outputs")
        check_refusals(output)
        with set_grad_enabled(True):
            graph, values, ids = recorded_ids(output)
            wanted = [ids.get(x) for x in inputs]
            seed = None if seed is None else np.asarray(getattr(seed, "_value", seed))
            found = vjp_pass(graph, values, seed, [w for w in wanted if w is not None])
        for index, node in enumerate(wanted):
            if node is None:
                continue
            part = np.asarray(found[node], dtype=inputs[index]._value.dtype)
            totals[index] = part if totals[index] is None else totals[index] + part
    result = []
    for x, total in zip(inputs, totals):
        if total is None:
            if not (allow_unused or materialize_grads):
                raise PyTorchError("One of the differentiated Tensors appears to not have been "
                                   "used in the graph. Set allow_unused=True if this is the "
                                   "desired behavior.")
            result.append(Tensor(np.zeros_like(x._value)) if materialize_grads else None)
        else:
            result.append(Tensor(total))
    return tuple(result)


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph: bool = False,
             inputs=None):
    """torch.autograd.backward: backward() of each tensor (with its gradient), accumulating
    into .grad; returns the Trace of the last."""
    tensors = _as_tuple(tensors)
    seeds = (None,) * len(tensors) if grad_tensors is None else _as_tuple(grad_tensors)
    trace = None
    for tensor_, seed in zip(tensors, seeds):
        trace = tensor_.backward(seed, retain_graph, create_graph, inputs)
    return trace
