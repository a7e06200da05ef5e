"""gradtrace's tensors against PyTorch's: the same expression, written once, run on both, with
the same values and gradients (float64, so to rounding); the random stream, draw for draw; and
the autograd rules a course relies on (accumulation, no_grad, in-place updates, non-scalar
backward). Without PyTorch the comparisons skip; each expression is still checked against
central differences (gradcheck) and the rules against hand-worked numbers.
"""

from __future__ import annotations

import re
import warnings
from collections import OrderedDict

import numpy as np
import pytest

import gradtrace
import gradtrace.nn as gnn
import gradtrace.optim as goptim
from gradtrace.core.tensor.errors import NotInGradtrace

try:
    import torch
except ImportError:
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed (pip install "
                                 "torch==2.13.0, the CPU build): nothing to compare with")

# (name, expression of (library, x), shape of x); x is float64, requires grad, away from kinks
EXPRESSIONS = [
    ("exp-log-sqrt", lambda t, x: (x.exp() + (x * x + 1).log() + (x * x + 1).sqrt()).sum(), (3, 4)),
    ("trig-tanh-sigmoid", lambda t, x: (x.sin() * x.cos() + x.tanh() - x.sigmoid()).sum(), (3, 4)),
    ("relu-abs-neg-reciprocal", lambda t, x: (x.relu() + x.abs() - x.neg() + 1 / (x * x + 1)).sum(), (3, 4)),
    ("pow-square-rsqrt", lambda t, x: (x.pow(3) + x.square() + (x * x + 1).rsqrt()).sum(), (3, 4)),
    ("log1p-expm1", lambda t, x: ((x * x).log1p() + x.expm1()).sum(), (3, 4)),
    ("sum-dim-keepdim", lambda t, x: (x.sum(dim=1, keepdim=True) * x).sum(), (3, 4)),
    ("mean-dims", lambda t, x: x.mean(dim=(0, 2)).square().sum(), (2, 3, 4)),
    ("max-dim-values", lambda t, x: x.max(dim=1)[0].sum() + x.min(1, keepdim=True).values.sum(), (3, 4)),
    ("max-all", lambda t, x: x.max() * x.min(), (3, 4)),
    ("amax", lambda t, x: x.amax(dim=0).sum(), (3, 4)),
    ("std-var", lambda t, x: x.std() + x.var(dim=1).sum() + x.std(0, unbiased=False).sum(), (3, 4)),
    ("norm-logsumexp", lambda t, x: x.norm() + x.logsumexp(dim=1).sum(), (3, 4)),
    ("softmax-log_softmax", lambda t, x: (x.softmax(dim=1) * t.arange(4.0, dtype=t.float64)).sum()
     + x.log_softmax(0)[1].sum(), (3, 4)),
    ("reshape-view-flatten", lambda t, x: (x.reshape(4, 3) @ x.view(3, 4)).sum() + x.flatten()[2:7].sum(), (3, 4)),
    ("unsqueeze-squeeze", lambda t, x: (x.unsqueeze(1) * x.unsqueeze(0).squeeze(0)).sum(), (3, 4)),
    ("permute-transpose", lambda t, x: (x.permute(2, 0, 1) * t.arange(24.0, dtype=t.float64).reshape(4, 2, 3)).sum()
     + x.transpose(0, 2).sum(dim=0).square().sum(), (2, 3, 4)),
    ("T-t-matmul-mm", lambda t, x: (x.T @ x).sum() + t.mm(x, x.t()).trace_free() if False else
     (x.T @ x).sum() + t.mm(x, x.t()).sum() + t.matmul(x[0], x[1]), (3, 4)),
    ("cat-stack", lambda t, x: (t.cat([x, 2 * x], dim=1) * t.arange(8.0, dtype=t.float64)).sum()
     + (t.stack([x, x * x], dim=0)[1] * x).sum(), (3, 4)),
    ("where-clamp", lambda t, x: t.where(x > 0, x, 0.1 * x).sum() + x.clamp(-0.5, 0.5).sum()
     + t.clamp(x, min=0.2).sum(), (3, 4)),
    ("bool-index", lambda t, x: x[x > 0].square().sum(), (3, 4)),
    ("integer-index", lambda t, x: (x[t.tensor([0, 2, 2]), t.tensor([1, 3, 3])] * t.tensor([1.0, 2.0, 3.0], dtype=t.float64)).sum()
     + x[[1, 0]].sum() + x[:, -1].sum() + x[1:, ::2].sum(), (3, 4)),
    ("range-index", lambda t, x: -x.softmax(1)[range(3), t.tensor([0, 3, 1])].log().sum(), (3, 4)),
    ("expand-repeat", lambda t, x: (x[:1].expand(3, 4) * x).sum() + x.repeat(2, 1).sum(), (3, 4)),
    ("cumsum-outer-dot", lambda t, x: (x.cumsum(dim=1) * x).sum() + x[0].outer(x[1]).sum() + x[0].dot(x[2]), (3, 4)),
    ("sub-div-rsub", lambda t, x: ((2 - x) / (x * x + 1) - x / 3).sum() + (x ** 2).sum(), (3, 4)),
    ("maximum-minimum", lambda t, x: t.maximum(x, t.zeros_like(x) + 0.05).sum()
     + t.minimum(x, 0.1 * x).sum(), (3, 4)),
    ("gather-topk", lambda t, x: x.gather(1, t.tensor([[0, 1], [3, 3], [2, 0]])).sum()
     + t.topk(x, 2, dim=1)[0].square().sum(), (3, 4)),
    ("masked_fill-index_select", lambda t, x: x.masked_fill(x < 0, 0.0).sum()
     + x.index_select(1, t.tensor([0, 2])).square().sum(), (3, 4)),
]


def _input(lib, shape, seed=0):
    lib.manual_seed(seed)
    x = lib.randn(*shape, dtype=lib.float64)
    x = x + 0.05 * (x > 0).to(lib.float64) - 0.05 * (x <= 0).to(lib.float64)  # off the kinks
    return x.detach().requires_grad_()


@needs_torch
@pytest.mark.parametrize("name, expression, shape", EXPRESSIONS, ids=[e[0] for e in EXPRESSIONS])
def test_expression_values_and_gradients_agree_with_pytorch(name, expression, shape):
    ours, theirs = _input(gradtrace, shape), _input(torch, shape)
    np.testing.assert_array_equal(ours.detach().numpy(), theirs.detach().numpy())
    mine, reference = expression(gradtrace, ours), expression(torch, theirs)
    mine.backward()
    reference.backward()
    np.testing.assert_allclose(mine.item(), reference.item(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name, expression, shape", EXPRESSIONS, ids=[e[0] for e in EXPRESSIONS])
def test_expression_gradients_agree_with_finite_differences(name, expression, shape):
    x = _input(gradtrace, shape)
    assert gradtrace.autograd.gradcheck(lambda x: expression(gradtrace, x), (x,))


# -- the random stream -------------------------------------------------------------------------

DRAWS = [
    ("randn small", lambda t, d: t.randn(5, dtype=d)),
    ("randn twice", lambda t, d: t.cat([t.randn(3, dtype=d), t.randn(3, dtype=d)])),
    ("randn blocks", lambda t, d: t.randn(7, 5, dtype=d)),
    ("rand", lambda t, d: t.rand(4, 6, dtype=d)),
    ("normal", lambda t, d: t.normal(2.0, 3.0, (5, 7), dtype=d)),
    ("randint", lambda t, d: t.randint(3, 10, (4, 4))),
    ("randperm", lambda t, d: t.randperm(20)),
    ("uniform_", lambda t, d: t.zeros(18, dtype=d).uniform_(-2, 3)),
    ("normal_", lambda t, d: t.zeros(20, dtype=d).normal_(1.0, 0.5)),
    ("bernoulli", lambda t, d: t.bernoulli(t.full((12,), 0.3, dtype=d))),
]


@needs_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name, draw", DRAWS, ids=[d[0] for d in DRAWS])
def test_after_manual_seed_the_draws_are_pytorchs(name, draw, dtype):
    gradtrace.manual_seed(11)
    torch.manual_seed(11)
    ours = draw(gradtrace, getattr(gradtrace, dtype)).numpy()
    theirs = draw(torch, getattr(torch, dtype)).numpy()
    assert ours.dtype == theirs.dtype
    # float64 exactly but for normals with a mean and std (the last bit); float32 normals
    # within two units in the last place (PyTorch's vectorised log, sin and cos round
    # differently from numpy's)
    normal = "normal" in name or "randn" in name
    rtol = 1e-15 if dtype == "float64" and name.startswith("normal") else 0
    atol = 5e-7 if dtype == "float32" and normal else 0
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=atol)


@needs_torch
def test_layers_start_from_pytorchs_weights():
    for make in (lambda nn: nn.Linear(7, 3), lambda nn: nn.Conv2d(2, 4, 3),
                 lambda nn: nn.Linear(300, 20, bias=False)):
        gradtrace.manual_seed(3)
        torch.manual_seed(3)
        ours, theirs = make(gnn), make(torch.nn)
        for (name, mine), (_, reference) in zip(ours.named_parameters(),
                                                theirs.named_parameters()):
            np.testing.assert_array_equal(mine.detach().numpy(), reference.detach().numpy(),
                                          err_msg=name)


def test_recorded_pytorch_draws_without_pytorch():
    # printed by PyTorch 2.13 after torch.manual_seed(0): randn(3), rand(2), randint(0, 10, (4,))
    gradtrace.manual_seed(0)
    np.testing.assert_allclose(gradtrace.randn(3).numpy(), [1.5409961, -0.2934289, -2.1787894],
                               rtol=1e-7)
    gradtrace.manual_seed(0)
    np.testing.assert_allclose(gradtrace.rand(2).numpy(), [0.49625659, 0.76822180], rtol=1e-7)
    gradtrace.manual_seed(0)
    assert gradtrace.randint(0, 10, (4,)).tolist() == [4, 9, 3, 0]


def test_generators_are_independent_and_the_default_starts_the_same_every_run():
    first = gradtrace.Generator().manual_seed(4)
    second = gradtrace.Generator().manual_seed(4)
    gradtrace.manual_seed(99)
    np.testing.assert_array_equal(gradtrace.randn(6, generator=first).numpy(),
                                  gradtrace.randn(6, generator=second).numpy())
    fresh = gradtrace.Generator()  # seeded with gradtrace's fixed default seed, 0
    gradtrace.manual_seed(0)
    np.testing.assert_array_equal(gradtrace.rand(3, generator=fresh).numpy(),
                                  gradtrace.rand(3).numpy())


# -- autograd rules --------------------------------------------------------------------------

def test_gradients_accumulate_until_zeroed_or_cleared():
    w = gradtrace.tensor([1.0, -2.0], requires_grad=True)
    (w * w).sum().backward()
    (3 * w).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [2 + 3, -4 + 3])  # 2w + 3
    w.grad.zero_()
    np.testing.assert_array_equal(w.grad.numpy(), [0, 0])
    w.grad = None
    (w * 2).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [2, 2])


def test_no_grad_updates_the_same_leaf_in_place():
    # d2l's sgd: param -= lr * param.grad rebinding nothing
    w = gradtrace.tensor([1.0, -2.0], requires_grad=True)
    array = w.numpy(force=True)
    (w * w).sum().backward()
    same = w
    with gradtrace.no_grad():
        w -= 0.25 * w.grad
        assert not (w * 2).requires_grad
    assert w is same and w.requires_grad and w.is_leaf
    np.testing.assert_array_equal(w.detach().numpy(), [0.5, -1.0])
    assert w.numpy(force=True) is array  # no trace held: written in place


def test_in_place_change_of_a_leaf_needing_grad_is_pytorchs_error():
    w = gradtrace.tensor([1.0], requires_grad=True)
    with pytest.raises(gradtrace.PyTorchError, match="leaf Variable that requires grad"):
        w += 1


def test_a_tensor_changed_after_an_op_read_it_stops_backward():
    w = gradtrace.tensor([1.0, 2.0], requires_grad=True)
    x = gradtrace.tensor([3.0, 4.0])
    y = (w * x).sum()
    x += 1  # mul needs x for w's gradient: it would now get 4, 5 instead of 3, 4
    with pytest.raises(gradtrace.PyTorchError, match="modified by an inplace operation"):
        y.backward()


def test_in_place_on_an_intermediate_is_recorded():
    w = gradtrace.tensor([1.0, 2.0], requires_grad=True)
    h = w * 3
    h += w * w  # h = 3w + w²
    h.relu_()
    h.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [3 + 2, 3 + 4])


@pytest.mark.parametrize("made, write, expected", [
    # x = [1, 2]; the gradient of sum(h) after the write, worked by hand
    (lambda x: x.clone(), lambda h: h.__setitem__(0, 0.0), [0.0, 1.0]),
    (lambda x: x * 2, lambda h: h.__setitem__(h < 3, 0.0), [0.0, 2.0]),  # a hand ReLU mask
    (lambda x: x * x, lambda h: h.__setitem__(1, 5.0), [2.0, 0.0]),
    (lambda x: x * 3, lambda h: h.__setitem__(slice(None), 1.0), [0.0, 0.0]),
    (lambda x: x * 3, lambda h: h.__iadd__(h), [6.0, 6.0]),  # h + h: 2·3 each
])
def test_writing_into_an_intermediate_is_recorded_as_pytorch_records_it(made, write,
                                                                        expected):
    x = gradtrace.tensor([1.0, 2.0], requires_grad=True)
    h = made(x)
    write(h)
    h.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), expected)


def test_backward_of_a_vector_needs_its_gradient():
    x = gradtrace.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * x
    with pytest.raises(gradtrace.PyTorchError,
                       match="grad can be implicitly created only for scalar outputs"):
        y.backward()
    trace = y.backward(gradient=gradtrace.tensor([1.0, 0.1, 0.01]), retain_graph=True)
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 0.4, 0.06])
    np.testing.assert_allclose(trace.grad_output, [1.0, 0.1, 0.01])
    with pytest.raises(gradtrace.PyTorchError, match="does not require grad"):
        gradtrace.tensor([1.0]).sum().backward()


def test_autograd_grad_leaves_grad_alone_and_reaches_intermediates():
    x = gradtrace.tensor([1.0, 2.0], requires_grad=True)
    h = x * x
    y = (h * 3).sum()
    dx, dh = gradtrace.autograd.grad(y, (x, h))
    np.testing.assert_array_equal(dx.numpy(), [6.0, 12.0])
    np.testing.assert_array_equal(dh.numpy(), [3.0, 3.0])
    assert x.grad is None


def test_data_detach_and_requires_grad():
    w = gradtrace.tensor([1.0, 2.0], requires_grad=True)
    w.data -= 1  # the old style of update: no error, w itself changes
    np.testing.assert_array_equal(w.detach().numpy(), [0.0, 1.0])
    assert not w.detach().requires_grad and w.requires_grad
    w.data = gradtrace.tensor([5.0, 6.0])
    assert w.tolist() == [5.0, 6.0]
    with pytest.raises(gradtrace.PyTorchError, match="detach"):
        w.numpy()
    with pytest.raises(gradtrace.PyTorchError, match="floating point"):
        gradtrace.tensor([1, 2], requires_grad=True)


def test_types_follow_pytorch():
    assert gradtrace.tensor([1.0]).dtype == gradtrace.float32 == np.float32
    assert gradtrace.tensor([1, 2]).dtype == gradtrace.int64
    assert gradtrace.arange(5).dtype == gradtrace.int64
    assert gradtrace.arange(0, 1, 0.5).dtype == gradtrace.float32
    assert (gradtrace.arange(3) * 2.5).dtype == gradtrace.float32  # int × float number
    assert (gradtrace.arange(3) + 1).dtype == gradtrace.int64
    assert (gradtrace.arange(3) / 2).dtype == gradtrace.float32
    assert (gradtrace.ones(2) * 2).dtype == gradtrace.float32
    assert (gradtrace.ones(2, dtype=gradtrace.float64) + gradtrace.ones(2)).dtype == np.float64
    assert (gradtrace.ones(2) == 1).dtype == np.bool_
    assert gradtrace.tensor(2.0, name="w").dtype == np.float64  # gradtrace's variables
    gradtrace.set_default_dtype(gradtrace.float64)
    try:
        assert gradtrace.randn(2).dtype == np.float64
    finally:
        gradtrace.set_default_dtype(gradtrace.float32)


def test_max_with_a_dim_gives_values_and_indices():
    x = gradtrace.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 7.0]], requires_grad=True)
    values, indices = x.max(dim=1)
    assert indices.tolist() == [1, 0]  # the first of a tie, as PyTorch's CPU max
    values.sum().backward()
    assert x.grad.tolist() == [[0, 1, 0], [1, 0, 0]]
    assert x.argmax().item() == 3


def test_where_pytorch_would_split_a_tie_gradtrace_refuses():
    x = gradtrace.tensor([1.0, 3.0, 3.0], requires_grad=True)
    top = x.max()  # the value is PyTorch's; only a gradient through the tie is refused
    assert top.item() == 3.0
    with pytest.raises(gradtrace.DiffersFromPyTorch, match="splits the gradient"):
        (2 * top).backward()
    with pytest.raises(gradtrace.DiffersFromPyTorch, match="splits the gradient"):
        gradtrace.autograd.grad(top, x)
    pair = gradtrace.maximum(x, gradtrace.tensor([1.0, 0.0, 0.0]))
    np.testing.assert_array_equal(pair.detach().numpy(), [1.0, 3.0, 3.0])
    with pytest.raises(gradtrace.DiffersFromPyTorch, match="half the gradient"):
        pair.sum().backward()
    assert x.grad is None  # nothing was accumulated by the refused passes


def test_a_tied_max_that_no_gradient_passes_through_is_just_a_value():
    # CS231n's check of a hand gradient: the largest difference, ties of zeros and all
    x = gradtrace.tensor([[0.5, -1.0], [2.0, 0.25]], requires_grad=True)
    by_hand = 2 * x
    (x * x).sum().backward()
    assert (x.grad - by_hand).abs().max().item() == 0.0  # every difference is 0: a tie
    y = gradtrace.tensor([1.5, 1.5], requires_grad=True)
    top = y.max()
    top.detach_()
    (top * y).sum().backward()  # the detached maximum is a constant: no refusal
    np.testing.assert_array_equal(y.grad.numpy(), [1.5, 1.5])


def test_a_trace_still_held_keeps_its_values_through_in_place_updates():
    w = gradtrace.tensor([1.0, -2.0], requires_grad=True)
    trace = (w * w).sum().backward()
    with gradtrace.no_grad():
        w -= 0.25 * w.grad
        w.grad.zero_()
    np.testing.assert_array_equal(trace.values["w"], [1.0, -2.0])
    np.testing.assert_array_equal(trace.gradients["w"], [2.0, -4.0])
    np.testing.assert_array_equal(w.detach().numpy(), [0.5, -1.0])


def test_the_trace_names_leaves_and_steps_after_the_callers_variables():
    weights = gradtrace.tensor([0.5, -1.0], requires_grad=True)
    inputs = gradtrace.tensor([2.0, 1.0])
    scores = weights * inputs
    total = scores.sum()
    trace = total.backward()
    assert trace.graph.inputs == ("weights",)
    assert [node.id for node in trace.graph.ops] == ["scores", "total"]


def test_a_trace_read_after_later_steps_shows_the_step_it_was_made_in():
    # backward() names the nodes and builds the graph only when the trace is first read: by
    # then the leaf has been updated, renamed and used again, and an intermediate changed in place
    w = gradtrace.tensor(2.0, requires_grad=True)
    w.name = "w"
    x = gradtrace.tensor(3.0)
    h = w * x
    loss = h * h  # 36; d loss / d h = 2h = 12, d loss / d w = 12 · x = 36
    trace = loss.backward()
    with gradtrace.no_grad():
        w -= 0.1 * w.grad  # 2 − 3.6
    w.name = "renamed"
    h += 1  # h is now the result of an add
    again = (w * x) * (w * x)
    again.backward()
    assert trace.graph.inputs == ("w",)
    assert trace.graph.by_id["h"].op == "mul" and trace.output == "loss"
    assert float(trace.values["h"]) == 6.0 and trace.value == 36.0
    assert trace.gradients == {"w": 36.0}
    assert [(step.node, step.input, float(step.downstream)) for step in trace.backward] == [
        ("loss", "h", 6.0), ("loss", "h", 6.0), ("h", "w", 36.0)]
    assert trace.graph is trace.graph  # built once
    np.testing.assert_allclose(w.detach().numpy(), -1.6)


def test_a_kept_trace_keeps_its_values_when_later_backward_calls_come_before_the_step():
    w = gradtrace.tensor(2.0, requires_grad=True)
    optimiser = gradtrace.optim.SGD([w], lr=0.1)
    loss = w * 3.0
    kept = loss.backward()  # held on to; the traces made below are thrown away
    loss.backward()
    optimiser.step()  # w.grad is 3 + 3 = 6: w = 2 − 0.6
    for _ in range(3):
        optimiser.zero_grad()
        (w * 3.0).backward()
        optimiser.step()
    assert float(kept.values["w"]) == 2.0 and kept.value == 6.0
    assert w.item() == pytest.approx(2.0 - 0.6 - 3 * 0.3)


@pytest.mark.parametrize("make", [
    lambda x: x.sum(),               # a read-only broadcast view as the gradient
    lambda x: (x + 1.0).sum(),
    lambda x: x.reshape(2, 2).sum(),
    lambda x: x.T.sum(),
])
def test_a_gradient_can_be_changed_in_place_and_accumulated(make):
    x = gradtrace.arange(4.0, requires_grad=True)
    out = make(x)
    out.backward()
    out.backward()  # accumulates, as in PyTorch
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0, 2.0, 2.0])
    x.grad.add_(1.0)
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0, 3.0, 3.0])
    x.grad.zero_()
    optimiser = gradtrace.optim.SGD([x], lr=0.5)
    optimiser.zero_grad(set_to_none=False)
    make(x).backward()
    optimiser.step()
    np.testing.assert_array_equal(x.detach().numpy(), [-0.5, 0.5, 1.5, 2.5])


def test_leaves_fed_by_one_array_get_gradients_of_their_own():
    w = gradtrace.ones(2, requires_grad=True)
    b = gradtrace.ones(2, requires_grad=True)
    weights = np.array([1.0, 2.0])
    (w + b).backward(gradient=weights)  # add sends the same array to both inputs
    w.grad.add_(1.0)
    np.testing.assert_array_equal(w.grad.numpy(), [2.0, 3.0])
    np.testing.assert_array_equal(b.grad.numpy(), [1.0, 2.0])
    np.testing.assert_array_equal(weights, [1.0, 2.0])


def test_a_trace_keeps_the_data_steps_and_buffers_it_read_when_they_change_in_place_later():
    w = gradtrace.tensor(2.0, requires_grad=True)
    data = gradtrace.tensor([1.0, 2.0])
    scaled = w * data
    trace = scaled.sum().backward()  # read only after the changes below
    with gradtrace.no_grad():
        data -= 1.0
        scaled += 100.0  # an intermediate, outside the recording
    data.mul_(0.0)
    data[0] = 77.0
    norm = gradtrace.nn.BatchNorm1d(2)
    norm.eval()
    normed = norm(gradtrace.tensor([[1.0, -1.0], [3.0, 5.0]], requires_grad=True)).sum()
    kept = normed.backward()
    norm.train()
    for _ in range(3):
        norm(gradtrace.tensor([[4.0, 4.0], [6.0, 8.0]]))  # moves the running statistics
    def constants(made):
        return [list(np.atleast_1d(made.values[node.id])) for node in made.graph.nodes
                if node.kind == "const"]

    assert constants(trace) == [[1.0, 2.0]]
    np.testing.assert_array_equal(trace.values["scaled"], [2.0, 4.0])
    assert trace.value == 6.0 and trace.gradients == {"w": 3.0}
    assert [0.0, 0.0] in constants(kept) and [1.0, 1.0] in constants(kept)  # as at the start
    np.testing.assert_allclose(data.numpy(), [77.0, 0.0])
    assert norm.running_mean.numpy()[0] > 0.0


def test_a_trace_from_backward_pickles_and_copies_as_plain_data():
    import copy
    import pickle

    w = gradtrace.tensor([1.0, -2.0], requires_grad=True)
    trace = (w * w).sum().backward()
    for made in (pickle.loads(pickle.dumps(trace)), copy.deepcopy(trace), copy.copy(trace)):
        assert type(made) is gradtrace.Trace and made.graph.inputs == ("w",)
        np.testing.assert_array_equal(made.gradients["w"], [2.0, -4.0])
        assert made.to_text() == trace.to_text()


def test_a_trace_names_tensors_after_the_variables_held_when_backward_ran():
    weight = gradtrace.tensor(2.0, requires_grad=True)
    scaled = weight * 3.0
    trace = scaled.backward()
    weight, scaled = gradtrace.tensor(9.0, requires_grad=True), None  # rebound afterwards
    renamed = trace  # noqa: F841  (the trace itself in a variable changes nothing)
    assert trace.graph.inputs == ("weight",)
    assert [node.id for node in trace.graph.ops] == ["scaled"]
    assert trace.gradients == {"weight": 3.0}


def test_names_come_from_the_user_code_up_to_a_scripts_top_level(tmp_path):
    import runpy

    script = tmp_path / "script.py"
    script.write_text("loss = _w * 3.0\ntrace = loss.backward()\n")
    weights = gradtrace.tensor(2.0, requires_grad=True)  # held here, beyond the script's top
    found = runpy.run_path(str(script), init_globals={"_w": weights})
    # _w is passed over (a private name), and the frames above the script are not searched
    assert found["trace"].graph.inputs == ("t1",)
    assert [node.id for node in found["trace"].graph.ops] == ["loss"]


def test_backward_through_part_of_the_graph_traces_only_those_leaves():
    a = gradtrace.tensor(1.5, requires_grad=True)
    b = gradtrace.tensor(-2.0, requires_grad=True)
    out = a * b + a
    trace = out.backward(inputs=[b])
    assert b.grad.item() == 1.5 and a.grad is None
    assert trace.wrt == ("b",) and trace.gradients == {"b": 1.5}
    trace = out.backward(wrt="a")
    assert a.grad.item() == -1.0 and trace.gradients == {"a": -1.0}
    with pytest.raises(ValueError, match=r"'c' is not an input of this graph; its inputs are a, b"):
        out.backward(wrt="c")


@pytest.mark.parametrize("call, error, says", [
    (lambda z, h: z.backward(inputs=[]), RuntimeError, "'inputs' argument to backward() cannot "
                                                        "be empty."),        # PyTorch's words
    (lambda z, h: z.backward(inputs=[h]), gradtrace.DiffersFromPyTorch, "retain_grad()"),
    (lambda z, h: z.backward(inputs=[3]), TypeError, "takes tensors, not int"),
    (lambda z, h: z.backward(wrt=[]), ValueError, "names no input"),
    (lambda z, h: z.backward(wrt=5), TypeError, "an input's name or a list of names, not 5"),
])
def test_backward_refuses_inputs_it_cannot_trace(call, error, says):
    x = gradtrace.tensor(2.0, requires_grad=True)
    h = x * 3.0
    z = h * h
    with pytest.raises(error) as caught:
        call(z, h)
    assert says in str(caught.value)
    assert x.grad is None


@pytest.mark.parametrize("make", [
    lambda: gradtrace.zeros("a"), lambda: gradtrace.ones(2, "b"), lambda: gradtrace.randn("x"),
    lambda: gradtrace.rand(2, "x"), lambda: gradtrace.zeros(size=("a", 2)),
])
def test_a_size_that_is_not_a_number_is_named(make):
    with pytest.raises(ValueError, match=r"a size must be a whole number ≥ 0, not '[abx]'"):
        make()


@pytest.mark.parametrize("weights, shown", [("abc", "'abc'"), ([1.0, None], "[1.0, None]")])
def test_backward_gradient_must_be_numbers(weights, shown):
    x = gradtrace.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match=r"takes numbers .* not " + re.escape(shown)):
        (x * 2.0).backward(gradient=weights)
    assert x.grad is None


def test_printing_reads_like_pytorch():
    assert repr(gradtrace.tensor([0.1, 2.0])) == "tensor([0.1000, 2.0000])"
    assert repr(gradtrace.tensor([1.0, 2.0], requires_grad=True)) == (
        "tensor([1., 2.], requires_grad=True)")
    assert repr(gradtrace.tensor([1, 2])) == "tensor([1, 2])"
    x = gradtrace.tensor([1.0], requires_grad=True)
    assert repr(x.exp()) == "tensor([2.7183], grad_fn=<ExpBackward0>)"
    assert f"{gradtrace.tensor(2.5):.2f}" == "2.50"


def test_devices_other_than_the_cpu_are_refused():
    assert not gradtrace.cuda.is_available()
    x = gradtrace.ones(2).to("cpu")
    with pytest.raises(gradtrace.DiffersFromPyTorch, match="CPU only"):
        x.to("cuda")


def test_a_pytorch_name_gradtrace_lacks_is_an_attribute_error_saying_so():
    assert not hasattr(gradtrace, "fft")
    with pytest.raises(AttributeError, match="covers the part of PyTorch"):
        gradtrace.fft


@pytest.mark.parametrize("lookup, offered", [
    (lambda: gradtrace.optim.LBFGS,                                   # says what it has
     "has PyTorch's SGD, Adagrad, RMSprop, Adam, AdamW, and the notes' own Momentum, "
     "Nesterov, AdaGrad, RMSProp"),
    (lambda: gradtrace.optim.lr_scheduler.OneCycleLR, "StepLR"),
    (lambda: gradtrace.utils.tensorboard, "covers the part of PyTorch"),
    (lambda: gradtrace.nn.init.orthogonal_, "gradtrace has calculate_gain, uniform_"),
    (lambda: gradtrace.nn.init.trunc_normal_, "kaiming_normal_"),
    (lambda: gradtrace.nn.utils.parameters_to_vector, "has clip_grad_norm_, clip_grad_value_"),
])
def test_missing_optimisers_schedules_and_utilities_say_what_gradtrace_has(lookup, offered):
    with pytest.raises(NotInGradtrace, match=offered):
        lookup()


def test_data_loaders_import_and_then_say_how_to_batch_by_slicing():
    from gradtrace.utils.data import DataLoader, Dataset, TensorDataset, random_split

    X, y = gradtrace.randn(10, 3), gradtrace.zeros(10)
    for use in (lambda: TensorDataset(X, y), lambda: DataLoader([1, 2], batch_size=2),
                lambda: random_split(range(10), [8, 2]), lambda: gradtrace.utils.data.Subset(X, [0])):
        with pytest.raises(NotInGradtrace, match=r"randperm\(len\(X\)\)"):
            use()

    class Points(Dataset):  # course code subclasses it; making one says the same
        def __init__(self):
            super().__init__()

    with pytest.raises(NotInGradtrace, match="batch by slicing"):
        Points()
    # the advice works as written
    order = gradtrace.randperm(len(X))
    batch = order[0:0 + 4]
    assert X[batch].shape == (4, 3) and y[batch].shape == (4,)


# -- ranges rounded as PyTorch rounds them --------------------------------------------------------

# printed by PyTorch 2.13 (CPU): elements where start + i·step rounded once, as numpy's arange
# and linspace compute them, differs in the last bit
PYTORCH_RANGES = [
    ("arange", (-8.0, 8.0, 0.1), "float64", {80: 4.440892098500626e-16}),
    ("arange", (0, 1, 0.01), "float64", {14: 0.13999999999999999, 21: 0.21000000000000002,
                                         29: 0.29000000000000004}),
    ("arange", (-3.3, 7.1, 0.37), "float64", {6: -1.0799999999999998, 7: -0.7099999999999999,
                                              9: 0.030000000000000138}),
    ("arange", (-8.0, 8.0, 0.1), "float32", {11: -6.899999618530273, 12: -6.799999713897705,
                                             18: -6.200000286102295, 80: 2.0 ** -51}),
    ("linspace", (-1, 1, 100), "float64", {3: -0.9393939393939393, 15: -0.6969696969696969,
                                           22: -0.5555555555555555}),
    ("linspace", (0, 1, 7), "float64", {4: 0.6666666666666667, 5: 0.8333333333333334}),
    ("linspace", (-1, 1, 100), "float32", {16: -0.6767677068710327, 49: -0.010101011022925377,
                                           50: 0.010101011022925377}),
    ("linspace", (2.5, -3.1, 11), "float32", {5: -0.2999998927116394, 6: -0.8599998950958252,
                                              7: -1.4199998378753662}),
]


@pytest.mark.parametrize("function, args, dtype, printed", PYTORCH_RANGES,
                         ids=[f"{f}{a}-{d}" for f, a, d, _ in PYTORCH_RANGES])
def test_ranges_hold_pytorchs_numbers(function, args, dtype, printed):
    values = getattr(gradtrace, function)(*args, dtype=getattr(gradtrace, dtype)).numpy()
    assert values.dtype == np.dtype(dtype)
    for index, number in printed.items():
        assert values[index] == number, index


def test_d2l_relu_derivative_is_1_at_the_81st_point_as_in_pytorch():
    x = gradtrace.arange(-8.0, 8.0, 0.1, requires_grad=True)  # d2l 4.1's plot
    gradtrace.relu(x).backward(gradtrace.ones_like(x))
    assert x[80].item() > 0 and x.grad[80].item() == 1.0


def _nearest_float32(exact) -> np.float32:
    """The float32 nearest to a Fraction (ties to even), found by comparing exactly."""
    from fractions import Fraction

    guess = np.float32(float(exact))
    candidates = [np.nextafter(guess, np.float32(-np.inf)), guess,
                  np.nextafter(guess, np.float32(np.inf))]
    return min(candidates, key=lambda c: (abs(Fraction(float(c)) - exact),
                                          int(c.view(np.uint32)) & 1))


def test_fused_multiply_add_is_rounded_once():
    from fractions import Fraction

    from gradtrace.core.tensor.ranges import _float32_fma, fused_multiply_add

    rng = np.random.default_rng(0)
    a, b, c = rng.standard_normal(2000), rng.integers(-3000, 3000, 2000).astype(float), (
        rng.standard_normal(2000) * 10.0 ** rng.integers(-3, 4, 2000))
    exact = [float(Fraction(x) * Fraction(y) + Fraction(z)) for x, y, z in zip(a, b, c)]
    np.testing.assert_array_equal(fused_multiply_add(a, b, c), exact)
    a32, b32, c32 = (v.astype(np.float32) for v in (a, b / 7, c))
    exact32 = [_nearest_float32(Fraction(float(x)) * Fraction(float(y)) + Fraction(float(z)))
               for x, y, z in zip(a32, b32, c32)]
    np.testing.assert_array_equal(_float32_fma(a32, b32, c32), exact32)
    # where rounding twice (to float64, then to float32) is wrong: (2¹⁸+1)·2⁻³⁰ × −(2¹⁸−1)·2⁻³⁰
    # + (1 + 2⁻²³) is 1 + 2⁻²⁴ + 2⁻⁶⁰, just above the midpoint of 1 and 1 + 2⁻²³; float64
    # rounds it onto the midpoint and float32 then to 1 (even)
    a, b = np.float32((2 ** 18 + 1) * 2.0 ** -30), np.float32(-(2 ** 18 - 1) * 2.0 ** -30)
    c = np.float32(1 + 2.0 ** -23)
    assert np.float32(float(a) * float(b) + float(c)) == 1.0
    assert _float32_fma(a, b, c) == np.float32(1 + 2.0 ** -23)


def test_arange_refuses_bounds_that_contradict_the_step():
    with pytest.raises(gradtrace.PyTorchError, match="inconsistent with step sign"):
        gradtrace.arange(5, 0)
    assert gradtrace.arange(5, 0, -2).tolist() == [5, 3, 1]
    assert gradtrace.arange(0, 0).numel() == 0


@needs_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_random_ranges_are_pytorchs_to_the_last_bit(dtype):
    rng = np.random.default_rng(7)
    for _ in range(200):
        start = float(np.round(rng.uniform(-50, 50), int(rng.integers(0, 4))))
        step = float(np.round(rng.uniform(0.01, 2), int(rng.integers(2, 5)))) * rng.choice([-1, 1])
        end = start + step * float(rng.integers(1, 2000))
        ours = gradtrace.arange(start, end, step, dtype=getattr(gradtrace, dtype)).numpy()
        theirs = torch.arange(start, end, step, dtype=getattr(torch, dtype)).numpy()
        np.testing.assert_array_equal(ours, theirs, err_msg=f"arange({start}, {end}, {step})")
        count = int(rng.integers(1, 2000))
        ours = gradtrace.linspace(start, end, count, dtype=getattr(gradtrace, dtype)).numpy()
        theirs = torch.linspace(start, end, count, dtype=getattr(torch, dtype)).numpy()
        np.testing.assert_array_equal(ours, theirs, err_msg=f"linspace({start}, {end}, {count})")


# -- scatter, PyTorch's older constructors, torch.Size ------------------------------------------

def test_scatter_writes_at_the_index_along_dim():
    y = gradtrace.tensor([2, 0, 1, 2])
    one_hot = gradtrace.zeros(4, 3).scatter_(1, y.unsqueeze(1), 1)
    np.testing.assert_array_equal(one_hot.numpy(), np.eye(3)[[2, 0, 1, 2]])
    src = gradtrace.arange(1, 11).reshape(2, 5).float()
    # PyTorch's documented example: scatter_(0, [[0, 1, 2, 0]], src) into zeros(3, 5)
    placed = gradtrace.zeros(3, 5).scatter_(0, gradtrace.tensor([[0, 1, 2, 0]]), src)
    np.testing.assert_array_equal(placed.numpy(), [[1, 0, 0, 4, 0], [0, 2, 0, 0, 0],
                                                   [0, 0, 3, 0, 0]])
    added = gradtrace.zeros(2, 3).scatter(1, gradtrace.tensor([[0, 0], [2, 0]]), src,
                                          reduce="add")
    np.testing.assert_array_equal(added.numpy(), [[3, 0, 0], [7, 0, 6]])
    w = gradtrace.zeros(2, 3, requires_grad=True)
    with pytest.raises(gradtrace.DiffersFromPyTorch, match="no scatter op"):
        w.scatter(1, gradtrace.tensor([[0], [1]]), 1.0)


@pytest.mark.parametrize("make, values, dtype", [  # as PyTorch 2.13 gives them
    (lambda t: t.tensor([16777217, 1]).cumsum(0), [16777217, 16777218], "int64"),
    (lambda t: t.tensor([[16777217, 1], [0, 1]]) @ t.tensor([[1, 0], [1, 1]]),
     [[16777218, 1], [1, 1]], "int64"),
    (lambda t: t.mv(t.tensor([[3, 1], [0, 2]]), t.tensor([1, 1])), [4, 2], "int64"),
    (lambda t: t.div(t.tensor([7, -7, 6, -6]), 2, rounding_mode="floor"), [3, -4, 3, -3],
     "int64"),
    (lambda t: t.div(t.tensor([7, -7, 6, -6]), 2, rounding_mode="trunc"), [3, -3, 3, -3],
     "int64"),
    (lambda t: t.div(t.tensor([2**62 + 1]), 1, rounding_mode="trunc"), [2**62 + 1], "int64"),
    (lambda t: t.div(t.tensor([7.0, -7.0]), 2, rounding_mode="trunc"), [3.0, -3.0], "float32"),
    (lambda t: t.div(t.tensor([7, -7]), 2.5, rounding_mode="floor"), [2.0, -3.0], "float32"),
    (lambda t: t.cat([t.tensor([1, 2]), t.tensor([0.5])]), [1.0, 2.0, 0.5], "float32"),
    (lambda t: t.stack([t.tensor([1, 2]), t.tensor([0.5, 1.5])]), [[1.0, 2.0], [0.5, 1.5]],
     "float32"),
    (lambda t: t.cat([t.tensor([1.0], requires_grad=True), t.tensor([3])]), [1.0, 3.0],
     "float32"),
])
def test_integer_results_stay_integers_and_mixed_joins_take_pytorchs_type(make, values, dtype):
    made = make(gradtrace)
    assert made.tolist() == values and made.dtype == np.dtype(dtype)
    assert isinstance(made[(0,) * made.ndim].item(), int if dtype == "int64" else float)


def test_an_integer_division_by_zero_with_rounding_is_pytorchs_error():
    with pytest.raises(gradtrace.PyTorchError, match="ZeroDivisionError"):
        gradtrace.div(gradtrace.tensor([1, 2]), 0, rounding_mode="floor")


def test_legacy_constructors_and_size():
    assert gradtrace.FloatTensor([1, 2, 3]).dtype == np.float32
    assert gradtrace.FloatTensor([1, 2, 3]).tolist() == [1.0, 2.0, 3.0]
    assert gradtrace.LongTensor([1.0, 2.0]).dtype == np.int64
    assert gradtrace.DoubleTensor(2, 3).shape == (2, 3)  # sizes, not data
    assert gradtrace.BoolTensor([1, 0]).tolist() == [True, False]
    assert gradtrace.Size([2, 3]) == gradtrace.ones(2, 3).shape
    assert repr(gradtrace.Size([2, 3])) == "gradtrace.Size([2, 3])"


# -- torch.save and torch.load ---------------------------------------------------------------------

def test_save_and_load_round_trip_a_checkpoint(tmp_path):
    path = tmp_path / "checkpoint.pt"
    weights = gradtrace.tensor([[1.5, -2.0]], requires_grad=True)
    state = OrderedDict(weight=weights, steps=gradtrace.arange(3), lr=0.1, name="run",
                        betas=(0.9, 0.999), moments=np.ones(2))
    gradtrace.save(state, path)
    loaded = gradtrace.load(path)
    assert list(loaded) == list(state) and isinstance(loaded, OrderedDict)
    assert loaded["weight"].tolist() == [[1.5, -2.0]] and loaded["weight"].requires_grad
    assert loaded["weight"].dtype == np.float32 and loaded["steps"].dtype == np.int64
    assert loaded["lr"] == 0.1 and loaded["name"] == "run" and loaded["betas"] == (0.9, 0.999)
    np.testing.assert_array_equal(loaded["moments"], np.ones(2))
    assert loaded["weight"] is not weights and loaded["weight"].is_leaf
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint.pt"]  # no partial file left


def test_load_runs_no_code_from_the_file_unless_told(tmp_path):
    import pickle

    path = tmp_path / "model.pt"
    gradtrace.save(gnn.Linear(2, 3), path)  # a whole model: its class would have to be run
    with pytest.raises(pickle.UnpicklingError, match="weights_only"):
        gradtrace.load(path)
    assert gradtrace.load(path, weights_only=False).weight.shape == (3, 2)  # trusted: allowed
    (tmp_path / "plain.pkl").write_bytes(pickle.dumps([1, 2]))
    with pytest.raises(pickle.UnpicklingError, match="not a file written by gradtrace.save"):
        gradtrace.load(tmp_path / "plain.pkl")


def test_a_whole_module_loads_back_with_its_parameters_as_parameters(tmp_path):
    # as torch.load(weights_only=False) of torch.save(model): Parameters, named, one object
    # per parameter however many attributes hold it, and trainable at once
    path = tmp_path / "model.pt"
    net = gnn.Sequential(gnn.Linear(3, 2), gnn.ReLU(), gnn.Linear(2, 1))
    gradtrace.save(net, path)
    loaded = gradtrace.load(path, weights_only=False)
    parameters = list(loaded.parameters())
    assert [type(p) for p in parameters] == [gnn.Parameter] * 4
    assert [p.name for p in parameters] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert loaded[0].weight is loaded._modules["0"]._parameters["weight"]
    for mine, theirs in zip(parameters, net.parameters()):
        np.testing.assert_array_equal(mine.detach().numpy(), theirs.detach().numpy())
        assert mine.grad is None and mine.requires_grad
    trace = loaded(gradtrace.ones(4, 3)).sum().backward()
    assert set(trace.wrt) == {"0.weight", "0.bias", "2.weight", "2.bias"}
    before = loaded[2].bias.tolist()
    goptim.SGD(loaded.parameters(), lr=0.5).step()
    assert loaded[2].bias.tolist() == [before[0] - 0.5 * 4.0]  # d(sum)/d(bias) = 4 rows


def test_a_saved_parameter_loads_as_a_parameter_and_a_name_is_kept(tmp_path):
    frozen = gnn.Parameter(gradtrace.tensor([1.0, 2.0]), requires_grad=False)
    named = gradtrace.tensor([3.0], requires_grad=True, name="w")
    gradtrace.save({"frozen": frozen, "named": named}, tmp_path / "both.pt")
    loaded = gradtrace.load(tmp_path / "both.pt")  # weights only, as PyTorch's default
    assert type(loaded["frozen"]) is gnn.Parameter and not loaded["frozen"].requires_grad
    assert type(loaded["named"]) is gradtrace.Tensor and loaded["named"].name == "w"
    assert loaded["named"].requires_grad


def _written_by_hand(path, arguments) -> None:
    """A gradtrace file whose one tensor is rebuilt from `arguments`, as a file written by an
    earlier gradtrace (two arguments) or a crafted one would hold it."""
    import io
    import pickle

    from gradtrace.core.tensor import serialization

    class Marker:
        pass

    class Saving(pickle.Pickler):
        def reducer_override(self, obj):
            if isinstance(obj, Marker):
                return serialization._rebuild_tensor, arguments
            return NotImplemented

    buffer = io.BytesIO()
    Saving(buffer).dump([Marker()])
    path.write_bytes(serialization.HEADER + buffer.getvalue())


def test_files_from_before_names_were_saved_still_load_and_unknown_kinds_are_refused(tmp_path):
    import pickle

    _written_by_hand(tmp_path / "old.pt", (np.array([1.5, 2.5]), True))
    (old,) = gradtrace.load(tmp_path / "old.pt")
    assert type(old) is gradtrace.Tensor and old.tolist() == [1.5, 2.5] and old.requires_grad
    _written_by_hand(tmp_path / "odd.pt", (np.array([1.0]), True, None, "Buffer"))
    with pytest.raises(pickle.UnpicklingError, match="'Buffer', which this gradtrace"):
        gradtrace.load(tmp_path / "odd.pt")
    _written_by_hand(tmp_path / "number.pt", (np.array([1.0]), True, "2", None))
    with pytest.raises(pickle.UnpicklingError):  # a name that reads as a number
        gradtrace.load(tmp_path / "number.pt")


def test_a_damaged_or_cut_off_checkpoint_is_refused_never_loaded_with_other_numbers(tmp_path):
    import pickle

    path = tmp_path / "model.pt"
    gradtrace.save(gnn.Sequential(gnn.Linear(3, 4), gnn.Linear(4, 2)).state_dict(), path)
    data = path.read_bytes()
    bad = tmp_path / "bad.pt"
    for position in range(0, len(data), 5):  # one bit flipped at every fifth byte
        damaged = bytearray(data)
        damaged[position] ^= 1 << (position % 8)
        bad.write_bytes(bytes(damaged))
        with pytest.raises(pickle.UnpicklingError, match="damaged|not a file written"):
            gradtrace.load(bad)
    for length in (len(data) - 1, len(data) // 2, 40):
        bad.write_bytes(data[:length])
        with pytest.raises(pickle.UnpicklingError, match="damaged or cut off"):
            gradtrace.load(bad)
    assert list(gradtrace.load(path)) == ["0.weight", "0.bias", "1.weight", "1.bias"]


def test_a_damaged_file_from_before_checksums_says_it_may_be_damaged(tmp_path):
    import pickle

    _written_by_hand(tmp_path / "old.pt", (np.array([1.5, 2.5]), True))
    data = (tmp_path / "old.pt").read_bytes()
    (tmp_path / "old.pt").write_bytes(data[:-3])
    with pytest.raises(pickle.UnpicklingError, match="may be damaged or cut off"):
        gradtrace.load(tmp_path / "old.pt")


def test_save_into_a_missing_folder_says_so_and_a_failed_save_leaves_no_file(tmp_path):
    with pytest.raises(gradtrace.PyTorchError, match="Parent directory .*nowhere does not exist"):
        gradtrace.save({"w": gradtrace.ones(2)}, tmp_path / "nowhere" / "w.pt")
    (tmp_path / "taken").mkdir()  # a folder where the file would go: the rename fails
    with pytest.raises(OSError):
        gradtrace.save({"w": gradtrace.ones(2)}, tmp_path / "taken")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]  # no partial file


def test_an_optimiser_state_of_another_shape_is_refused_in_pytorchs_words():
    # PyTorch 2.13's sentences, one for each mismatch
    a, b = gnn.Linear(2, 2), gnn.Linear(2, 2)
    two_groups = goptim.SGD([{"params": [a.weight]}, {"params": [a.bias]}], lr=0.1)
    with pytest.raises(ValueError, match="has a different number of parameter groups"):
        goptim.SGD(b.parameters(), lr=0.1).load_state_dict(two_groups.state_dict())
    with pytest.raises(ValueError, match="doesn't match the size of optimizer's group"):
        goptim.SGD(b.parameters(), lr=0.1).load_state_dict(
            goptim.SGD([a.weight], lr=0.1).state_dict())


def test_a_pytorch_file_is_refused_as_a_difference(tmp_path):
    import zipfile

    path = tmp_path / "from_pytorch.pt"
    with zipfile.ZipFile(path, "w") as archive:  # torch.save writes a zip archive
        archive.writestr("archive/data.pkl", b"")
    with pytest.raises(gradtrace.DiffersFromPyTorch, match="written by PyTorch"):
        gradtrace.load(path)


# -- shapes that do not fit, in PyTorch's words (printed by PyTorch 2.13, CPU) -------------------

SHAPE_REFUSALS = [
    (lambda t, F: t.randn(3) @ t.randn(4, 2),
     "mat1 and mat2 shapes cannot be multiplied (1x3 and 4x2)"),
    (lambda t, F: t.randn(3, 4) @ t.randn(5),
     "size mismatch, got input (3), mat (3x4), vec (5)"),
    (lambda t, F: t.randn(3) @ t.randn(4),
     "inconsistent tensor size, expected tensor [3] and src [4] to have the same number of "
     "elements, but got 3 and 4 elements respectively"),
    (lambda t, F: t.randn(2, 3, 4) @ t.randn(5, 2),
     "mat1 and mat2 shapes cannot be multiplied (6x4 and 5x2)"),
    (lambda t, F: t.randn(2, 3, 4) @ t.randn(2, 5, 2),
     "Expected size for first two dimensions of batch2 tensor to be: [2, 4] but got: [2, 5]."),
    (lambda t, F: t.randn(3, 4) * t.randn(5, 2),
     "The size of tensor a (4) must match the size of tensor b (2) at non-singleton dimension 1"),
    (lambda t, F: t.randn(2, 3, 4) + t.randn(3, 1, 5),
     "The size of tensor a (4) must match the size of tensor b (5) at non-singleton dimension 2"),
    (lambda t, F: t.randn(4, requires_grad=True) - t.randn(5),
     "The size of tensor a (4) must match the size of tensor b (5) at non-singleton dimension 0"),
    (lambda t, F: F.linear(t.randn(2, 3, 4), t.randn(2, 5)),
     "mat1 and mat2 shapes cannot be multiplied (6x4 and 5x2)"),
    (lambda t, F: F.linear(t.randn(3, 5), t.randn(2, 5), t.randn(3)),
     "The expanded size of the tensor (2) must match the existing size (3) at non-singleton "
     "dimension 1.  Target sizes: [3, 2].  Tensor sizes: [3]"),
    (lambda t, F: F.mse_loss(t.randn(3, 4), t.randn(5)),
     "The size of tensor a (4) must match the size of tensor b (5) at non-singleton dimension 1"),
]


@pytest.mark.filterwarnings("ignore:Using a target size")
@pytest.mark.parametrize("library", ["gradtrace", pytest.param("torch", marks=needs_torch)])
@pytest.mark.parametrize("make, pytorch_says", SHAPE_REFUSALS)
def test_shapes_that_do_not_fit_are_refused_in_pytorchs_words(library, make, pytorch_says):
    module = gradtrace if library == "gradtrace" else torch  # PyTorch itself: the oracle
    with pytest.raises(RuntimeError) as caught:
        make(module, module.nn.functional)
    assert str(caught.value) == pytorch_says
    if library == "gradtrace":  # as numpy's refusal was: code catching ValueError still does
        assert isinstance(caught.value, ValueError)


def test_a_refusal_pytorch_words_differently_keeps_gradtraces_words():
    with pytest.raises(ValueError, match="class indices of shape"):
        gradtrace.nn.functional.cross_entropy(gradtrace.randn(3, 4), np.array([0, 1, 2, 3, 1]))


# a (3, 4) tensor given dims it does not have: PyTorch 2.13's errors (not a silently wrong shape)
DIM_REFUSALS = [
    (lambda a: a.unsqueeze(5), IndexError,
     "Dimension out of range (expected to be in range of [-3, 2], but got 5)"),
    (lambda a: a.unsqueeze(-4), IndexError,
     "Dimension out of range (expected to be in range of [-3, 2], but got -4)"),
    (lambda a: a.transpose(0, 2), IndexError,
     "Dimension out of range (expected to be in range of [-2, 1], but got 2)"),
    (lambda a: a.squeeze(5), IndexError,
     "Dimension out of range (expected to be in range of [-2, 1], but got 5)"),
    (lambda a: a.squeeze((0, 5)), IndexError,
     "Dimension out of range (expected to be in range of [-2, 1], but got 5)"),
    (lambda a: a.flatten(3), IndexError,
     "Dimension out of range (expected to be in range of [-2, 1], but got 3)"),
    (lambda a: a.flatten(1, 0), RuntimeError,
     "flatten() has invalid args: start_dim cannot come after end_dim"),
    (lambda a: a.permute(2, 0), IndexError,
     "Dimension out of range (expected to be in range of [-2, 1], but got 2)"),
    (lambda a: a.permute(0, 0), RuntimeError, "permute(): duplicate dims are not allowed."),
    (lambda a: a.permute(0, 1, 2), RuntimeError,
     "permute(sparse_coo): number of dimensions in the tensor input does not match the length "
     "of the desired ordering of dimensions i.e. input.dim() = 2 is not equal to len(dims) = 3"),
    (lambda a: a.movedim(0, 3), IndexError,
     "Dimension out of range (expected to be in range of [-2, 1], but got 3)"),
    (lambda a: a.unflatten(2, (2, 2)), IndexError,
     "Dimension out of range (expected to be in range of [-2, 1], but got 2)"),
    (lambda a: a.softmax(dim=2), IndexError,
     "Dimension out of range (expected to be in range of [-2, 1], but got 2)"),
    (lambda a: a.log_softmax(dim=-3), IndexError,
     "Dimension out of range (expected to be in range of [-2, 1], but got -3)"),
    (lambda a: a.view(5, 3), RuntimeError, "shape '[5, 3]' is invalid for input of size 12"),
    (lambda a: a.reshape(5, -1), RuntimeError, "shape '[5, -1]' is invalid for input of size 12"),
    (lambda a: a.view(-1, -1), RuntimeError, "only one dimension can be inferred"),
    (lambda a: a.reshape(-2, 6), RuntimeError, "invalid shape dimension -2 at index 0 of shape "
                                               "[-2, 6]"),
    (lambda a: a[:0].reshape(0, -1), RuntimeError,
     "cannot reshape tensor of 0 elements into shape [0, -1] because the unspecified dimension "
     "size -1 can be any value and is ambiguous"),
]


@pytest.mark.parametrize("library", ["gradtrace", pytest.param("torch", marks=needs_torch)])
@pytest.mark.parametrize("use, kind, pytorch_says", DIM_REFUSALS)
def test_dims_a_tensor_does_not_have_are_refused_in_pytorchs_words(library, use, kind,
                                                                   pytorch_says):
    module = gradtrace if library == "gradtrace" else torch
    with pytest.raises(kind) as caught:
        use(module.randn(3, 4))
    assert str(caught.value).strip("'") == pytorch_says


def test_dims_in_range_still_work_from_either_end():
    a = gradtrace.randn(3, 4)
    assert a.unsqueeze(2).shape == (3, 4, 1) and a.unsqueeze(-3).shape == (1, 3, 4)
    assert a.transpose(-1, 0).shape == (4, 3) and a.permute(-1, -2).shape == (4, 3)
    assert a.flatten(-2, -1).shape == (12,) and a.movedim(-1, 0).shape == (4, 3)


def test_a_step_mistaken_for_a_parameter_is_pointed_out_as_pytorch_does():
    w = gradtrace.randn(5, 3, requires_grad=True) * 0.01  # a step: its .grad stays None
    (w * w).sum().backward()
    with pytest.warns(UserWarning, match="not a leaf Tensor is being accessed"):
        assert w.grad is None
    with pytest.raises(ValueError, match="can't optimize a non-leaf Tensor"):
        gradtrace.optim.SGD([w], lr=0.1)
    kept = gradtrace.randn(3, requires_grad=True) * 2
    kept.retain_grad()
    (kept * kept).sum().backward()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a retained step's .grad: no warning
        assert kept.grad is not None


@pytest.mark.parametrize("library", ["gradtrace", pytest.param("torch", marks=needs_torch)])
@pytest.mark.parametrize("probabilities", [[1.5, 0.2], [float("nan"), 0.2], [-0.1, 0.5]])
def test_binary_cross_entropy_of_numbers_outside_zero_one_is_refused(library, probabilities):
    module = gradtrace if library == "gradtrace" else torch
    with pytest.raises(RuntimeError, match="all elements of input should be between 0 and 1"):
        module.nn.functional.binary_cross_entropy(module.tensor(probabilities),
                                                  module.tensor([1.0, 0.0]))


JOIN_REFUSALS = [
    (lambda t: t.cat([t.randn(2, 3), t.randn(4, 5)]), RuntimeError,
     "Sizes of tensors must match except in dimension 0. Expected size 3 but got size 5 for "
     "tensor number 1 in the list."),
    (lambda t: t.cat([t.randn(2, 3), t.randn(4, 5)], dim=1), RuntimeError,
     "Sizes of tensors must match except in dimension 1. Expected size 2 but got size 4 for "
     "tensor number 1 in the list."),
    (lambda t: t.cat([t.randn(2, 3), t.randn(3)]), RuntimeError,
     "Tensors must have same number of dimensions: got 2 and 1"),
    (lambda t: t.cat([t.randn(2, 3)], dim=2), IndexError,
     "Dimension out of range (expected to be in range of [-2, 1], but got 2)"),
    (lambda t: t.stack([t.randn(2, 3), t.randn(2, 4)]), RuntimeError,
     "stack expects each tensor to be equal size, but got [2, 3] at entry 0 and [2, 4] at "
     "entry 1"),
    (lambda t: t.stack([]), RuntimeError, "stack expects a non-empty TensorList"),
    (lambda t: t.tensor([[1, 2], [3]]), ValueError, "expected sequence of length 2 at dim 1 (got 1)"),
    (lambda t: t.tensor([[[1], [2]], [[3], [4, 5]]]), ValueError,
     "expected sequence of length 1 at dim 2 (got 2)"),
]


@pytest.mark.parametrize("library", ["gradtrace", pytest.param("torch", marks=needs_torch)])
@pytest.mark.parametrize("make, kind, pytorch_says", JOIN_REFUSALS)
def test_tensors_that_do_not_join_are_refused_in_pytorchs_words(library, make, kind,
                                                                pytorch_says):
    with pytest.raises(kind) as caught:
        make(gradtrace if library == "gradtrace" else torch)
    assert str(caught.value).strip("'") == pytorch_says


@pytest.mark.parametrize("call, error, says", [
    (lambda x: x.topk(4), gradtrace.PyTorchError, "selected index k out of range"),
    (lambda x: x.split([1, 1]), gradtrace.PyTorchError,
     "split_with_sizes expects split_sizes to sum exactly to 3"),
    (lambda x: x.chunk(0), gradtrace.PyTorchError, "chunk expects `chunks` to be greater than 0"),
    (lambda x: x.register_hook(print), gradtrace.DiffersFromPyTorch, "register_hook"),
    (lambda x: x.unfold_everything(), AttributeError,
     "gradtrace's Tensor has no 'unfold_everything'"),
])
def test_sorting_and_splitting_refuse_as_pytorch_does(call, error, says):
    x = gradtrace.tensor([3.0, 1.0, 2.0], requires_grad=True)
    with pytest.raises(error, match=re.escape(says)):
        call(x)
    assert not hasattr(x, "unfold_everything")


def test_split_and_chunk_cut_as_pytorch_cuts():
    x = gradtrace.arange(7.0)
    assert [p.numpy().tolist() for p in x.split(3)] == [[0, 1, 2], [3, 4, 5], [6]]
    assert [len(p) for p in x.chunk(3)] == [3, 3, 1]  # ⌈7/3⌉ = 3 each
    assert [len(p) for p in gradtrace.arange(6.0).chunk(4)] == [2, 2, 2]  # fewer than asked
    values, indices = x.topk(2, largest=False)
    assert values.numpy().tolist() == [0, 1] and indices.numpy().tolist() == [0, 1]


@pytest.mark.parametrize("write", [
    lambda y: y[0:2].mul_(10),
    lambda y: y.view(2, 2).__setitem__((0, 1), 0.0),
    lambda y: y.reshape(2, 2).t().mul_(3),
    lambda y: y[1:].relu_(),
    lambda y: y.view(2, 2)[0].fill_(gradtrace.tensor(0.0, requires_grad=True)),
])
def test_an_in_place_change_through_a_view_is_refused_not_lost(write):
    # PyTorch writes it through to y (and its gradient); recorded on the view alone, y would
    # silently keep its old values
    x = gradtrace.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    y = x * 2
    with pytest.raises(gradtrace.DiffersFromPyTorch, match="an in-place change of a view"):
        write(y)


def test_a_copy_made_by_advanced_indexing_may_change_as_in_pytorch():
    # y[[0, 1]] is a copy in PyTorch too: changing it leaves y as it was
    x = gradtrace.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    y = x * 2
    picked = y[[0, 1]]
    picked.mul_(10)
    (y.sum() + picked.sum()).backward()
    np.testing.assert_array_equal(y.detach().numpy(), [2, 4, 6, 8])
    np.testing.assert_array_equal(x.grad.numpy(), [22, 22, 2, 2])


def test_augmented_assignment_to_an_element_says_what_python_does():
    y = gradtrace.tensor([1.0, 2.0], requires_grad=True) * 2
    with pytest.raises(gradtrace.DiffersFromPyTorch, match=re.escape(
            "also what x[key] *= 3 does: Python reads x[key], changes it and writes it back")):
        y[1] *= 3


@pytest.mark.parametrize("values, reduce", [
    ([1.0, 1.0], lambda x: gradtrace.amax(x, dim=0)),
    ([1.0, 1.0, 2.0], lambda x: gradtrace.amin(x)),
    ([[2.0, 2.0], [1.0, 3.0]], lambda x: x.amax(dim=1)),
])
def test_amax_and_amin_of_a_tie_refuse_the_gradient_pytorch_would_split(values, reduce):
    x = gradtrace.tensor(values, requires_grad=True)
    result = reduce(x)
    with pytest.raises(gradtrace.DiffersFromPyTorch, match=r"meets a tie .*PyTorch splits"):
        result.sum().backward()


def test_amax_without_a_tie_sends_the_gradient_to_the_extreme():
    x = gradtrace.tensor([[2.0, 1.0], [1.0, 3.0]], requires_grad=True)
    x.amax(dim=1).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[1, 0], [0, 1]])


@pytest.mark.parametrize("call, error, says", [
    (lambda t: t.zeros(2, 3).sum(dim=(0, 0)), gradtrace.PyTorchError,
     "dim 0 appears multiple times in the list of dims"),
    (lambda t: t.zeros(2, 3, 4).expand(3, 3, 4), gradtrace.PyTorchError,
     "The expanded size of the tensor (3) must match the existing size (2) at non-singleton "
     "dimension 0"),
    (lambda t: t.zeros(2, 3, 4).repeat(-1, 1, 1), gradtrace.PyTorchError,
     "Trying to create tensor with negative dimension -1"),
    (lambda t: t.arange(6.0)[1.5], IndexError, "only integers, slices (`:`), ellipsis (`...`), "
                                               "None and long or byte Variables are valid "
                                               "indices (got float)"),
    (lambda t: t.arange(6.0)["a"], IndexError, "are valid indices (got str)"),
    (lambda t: t.arange(6.0)[10], IndexError, "index 10 is out of bounds for dimension 0 with "
                                              "size 6"),
    (lambda t: t.randperm(-1), ValueError, "a size must be a whole number ≥ 0, not -1"),
])
def test_shape_and_index_mistakes_get_pytorchs_words(call, error, says):
    with pytest.raises(error, match=re.escape(says)):
        call(gradtrace)


def test_masked_fill_in_place_is_recorded_and_writes_data():
    y = gradtrace.tensor([1.0, 2.0, 3.0], requires_grad=True)
    h = y * 2
    h.masked_fill_(h > 3, 0.0)  # h = [2, 0, 0]: only the first element still depends on y
    h.sum().backward()
    np.testing.assert_array_equal(y.grad.numpy(), [2.0, 0.0, 0.0])
    data = gradtrace.ones(3)
    data.masked_fill_(gradtrace.tensor([True, False, True]), 5.0)
    np.testing.assert_array_equal(data.numpy(), [5.0, 1.0, 5.0])


def test_conv2d_refuses_a_padding_word_or_kernel_it_cannot_read():
    with pytest.raises(ValueError, match=re.escape("Invalid padding string 'foo', should be one "
                                                   "of {'valid', 'same'}")):
        gradtrace.nn.Conv2d(1, 2, 3, padding="foo")
    with pytest.raises(ValueError, match=re.escape("kernel_size must be one whole number or a "
                                                   "pair, not (3,)")):
        gradtrace.nn.Conv2d(1, 2, (3,))
    same = gradtrace.nn.Conv2d(1, 2, 3, padding="same")
    assert "padding='same'" in repr(same)
    assert same(gradtrace.zeros(1, 1, 5, 5)).shape == (1, 2, 5, 5)


@pytest.mark.parametrize("data", [2**63, 2**64 - 1, [1, 2**63], 2**70, [[0], [-2**63 - 1]]])
def test_an_int_past_int64_is_pytorchs_overflow_not_a_wrapped_value(data):
    # numpy would make 2**63 a uint64, then -2**63 once cast to int64
    with pytest.raises(gradtrace.PyTorchError, match="Overflow when unpacking long"):
        gradtrace.tensor(data)


def test_ints_at_int64s_ends_and_big_ints_among_floats_are_kept():
    assert gradtrace.tensor([2**63 - 1, -2**63]).value.tolist() == [2**63 - 1, -2**63]
    assert gradtrace.tensor([1.5, 2**63]).value.tolist() == [1.5, 2.0**63]
