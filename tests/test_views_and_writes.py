"""Views and in-place writes as PyTorch has them: a write through a view (of a layer's weight,
of its gradient, of data) reaches the tensor viewed exactly where PyTorch's does, a copy stays
a copy, a Trace kept from backward() keeps the values it recorded whatever is written after,
and the optimiser's update (one BLAS pass for large arrays) keeps PyTorch's numbers."""

from __future__ import annotations

import math

import numpy as np
import pytest

import gradtrace
from gradtrace import nn, optim
from gradtrace.core.tensor import base as tensor_base
from gradtrace.core.tensor.errors import DiffersFromPyTorch


def column_major(array: np.ndarray) -> bool:
    return array.flags.f_contiguous and not array.flags.c_contiguous


def test_load_state_dict_and_copy_fill_the_weight_in_place():
    lin = layer()
    weight = lin.weight.value
    rows = np.arange(15, dtype=np.float64).reshape(3, 5)
    lin.load_state_dict({"weight": rows, "bias": np.zeros(3)})
    assert lin.weight.value is weight
    np.testing.assert_array_equal(lin.weight.value, rows)
    with gradtrace.no_grad():
        lin.weight.copy_(gradtrace.tensor(rows * 2))
    np.testing.assert_array_equal(lin.weight.value, rows * 2)


def layer(rng_seed: int = 0) -> nn.Linear:
    return nn.Linear(5, 3, rng=np.random.default_rng(rng_seed))


def test_the_layer_computes_x_times_w_transposed_plus_b():
    lin = layer()
    x = np.random.default_rng(2).standard_normal((4, 5))
    W, b = np.ascontiguousarray(lin.weight.value), lin.bias.value
    np.testing.assert_allclose(lin(gradtrace.tensor(x)).value, x @ W.T + b, rtol=1e-12)


@pytest.mark.parametrize("x_needs_grad", [False, True])
def test_a_column_major_weights_gradient_comes_in_its_layout_with_the_right_values(
        x_needs_grad):
    """functional.linear with the user's own column-major W (a transposed array): its
    gradient is laid out as W, so the optimiser's update runs over one layout."""
    W = gradtrace.tensor(np.asfortranarray(np.random.default_rng(7).standard_normal((3, 5))),
                         requires_grad=True)
    assert column_major(W.value)
    x_values = np.random.default_rng(3).standard_normal((4, 5))
    x = gradtrace.tensor(x_values, requires_grad=x_needs_grad)
    nn.functional.linear(x, W, gradtrace.zeros(3, dtype=W.dtype)).sum().backward()
    assert column_major(W.grad.value)
    # d(sum of x·Wᵀ + b)/dW[i, j] = Σ over the batch of x[:, j], for every output i
    np.testing.assert_allclose(W.grad.value, np.tile(x_values.sum(axis=0), (3, 1)), rtol=1e-12)
    if x_needs_grad:  # d/dx[n, j] = Σ_i W[i, j]
        np.testing.assert_allclose(x.grad.value, np.tile(W.value.sum(axis=0), (4, 1)),
                                   rtol=1e-12)


@pytest.mark.parametrize("make", [
    lambda params: optim.SGD(params, lr=0.1),
    lambda params: optim.SGD(params, lr=0.1, momentum=0.9),
    lambda params: optim.Adam(params, lr=0.1),
])
def test_optimisers_step_while_each_kept_trace_keeps_the_weight_it_read(make):
    lin = layer()
    sgd = make(lin.parameters())
    x = gradtrace.tensor(np.random.default_rng(4).standard_normal((4, 5)))
    kept = []
    for _ in range(3):
        sgd.zero_grad()
        trace = lin(x).pow(2).sum().backward()  # a live trace: the step must copy W first
        read = lin.weight.value.copy()
        kept.append((trace, read))
        sgd.step()
        assert not np.array_equal(lin.weight.value, read)
    for trace, read in kept:
        np.testing.assert_array_equal(trace.values["weight"], read)


def test_a_whole_transposed_gradient_is_a_leaf_grad_without_a_copy():
    given: set = set()
    fresh = np.ones((4, 3))
    assert tensor_base._unshared(fresh.T, given)  # all of a fresh array: its own memory
    assert not tensor_base._unshared(fresh, given)  # the same memory given twice
    assert not tensor_base._unshared(np.ones((4, 3))[1:], set())  # part of another array
    assert not tensor_base._unshared(np.ones((4, 3)).T[::2], set())  # every other row
    read_only = np.broadcast_to(np.ones(3), (4, 3))
    assert not tensor_base._unshared(read_only, set())


def test_a_trained_layer_matches_the_same_layer_written_with_functional_linear():
    """The same steps on copies of the weights (a user's own arrays through
    functional.linear) give the same numbers."""
    lin = layer()
    W = gradtrace.tensor(np.ascontiguousarray(lin.weight.value), requires_grad=True)
    b = gradtrace.tensor(lin.bias.value.copy(), requires_grad=True)
    x = gradtrace.tensor(np.random.default_rng(5).standard_normal((6, 5)))
    target = np.random.default_rng(6).integers(0, 3, 6)
    mine, theirs = optim.SGD(lin.parameters(), lr=0.1), optim.SGD([W, b], lr=0.1)
    for _ in range(5):
        for opt, logits in ((mine, lambda: lin(x)),
                            (theirs, lambda: nn.functional.linear(x, W, b))):
            opt.zero_grad()
            nn.functional.cross_entropy(logits(), target).backward()
            opt.step()
    np.testing.assert_allclose(lin.weight.value, W.value, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(lin.bias.value, b.value, rtol=1e-12, atol=1e-15)


def test_writes_that_do_reach_the_weight_still_work():
    lin = layer()
    with gradtrace.no_grad():
        lin.weight.view(1, 3, 5).fill_(2.0)
        lin.weight.data.mul_(3)
        lin.weight[0] = 1.0
        lin.weight.view(-1)[14] = 4.0
    expected = np.full((3, 5), 6.0)
    expected[0] = 1.0
    expected[2, 4] = 4.0
    np.testing.assert_array_equal(lin.weight.value, expected)


def test_an_in_place_change_of_a_view_of_a_leaf_outside_no_grad_is_pytorchs_error():
    lin = layer()
    for change in (lambda w: w.view(-1).__setitem__(0, 0.0), lambda w: w[0].zero_(),
                   lambda w: w.T.__setitem__(0, 1.0)):
        with pytest.raises(gradtrace.PyTorchError, match="a view of a leaf Variable"):
            change(lin.weight)
    doubled = lin.weight * 2  # a view of a step of the graph: gradtrace's own refusal
    with pytest.raises(DiffersFromPyTorch, match="in-place change of a view"):
        doubled.view(-1)[0] = 0.0


def test_filling_the_weight_while_a_trace_holds_it_keeps_the_trace():
    lin = layer()
    trace = lin(gradtrace.tensor(np.ones((2, 5)))).sum().backward()
    read = lin.weight.value.copy()
    with gradtrace.no_grad():
        lin.weight.fill_(7.0)  # the trace holds the array: a fresh one is written
    np.testing.assert_array_equal(lin.weight.value, np.full((3, 5), 7.0))
    np.testing.assert_array_equal(trace.values["weight"], read)


# -- reshapes share memory exactly where PyTorch's do ---------------------------------------

try:
    import torch
except ImportError:
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed (pip install "
                                 "torch==2.13.0, the CPU build): nothing to compare with")

# (how to reach a tensor from the weight W (3, 4) of a Linear(4, 3), then a reshape of it)
REACHED = {
    "W": lambda W: W, "W.t()": lambda W: W.t(), "W[1]": lambda W: W[1],
    "W[:, 1:3]": lambda W: W[:, 1:3], "W[1:]": lambda W: W[1:], "W.T[::2]": lambda W: W.T[::2],
    "W.unsqueeze(0)": lambda W: W.unsqueeze(0), "W.t()[1:3]": lambda W: W.t()[1:3],
    "W.view(-1)[2:8]": lambda W: W.view(-1)[2:8], "W.flatten()[::2]": lambda W: W.flatten()[::2],
    "W.view(1, 12).squeeze()": lambda W: W.view(1, 12).squeeze(),
    "W.data.t()": lambda W: W.data.t(), "W.detach()[1:]": lambda W: W.detach()[1:],
    "W.grad": lambda W: W.grad, "W.grad.t()": lambda W: W.grad.t(),
    "W.grad[1:]": lambda W: W.grad[1:],
    "stack([W, W])[0]": lambda W: _library(W).stack([W, W])[0],
    "(W * 2)": lambda W: W * 2, "W.relu().t()": lambda W: W.relu().t(),
}


def _library(tensor):
    return torch if type(tensor).__module__.startswith("torch") else gradtrace


SHAPES = [(-1,), (4, 3), (2, 6), (1, 12), (12, 1), (3, 4, 1), (2, 2, 3), (2, 3), (6, 1)]


def _shares(lib, reached, shape) -> bool | str:
    """Whether writing into the reshape reaches the layer's weight or gradient: True, False,
    "refused" where gradtrace says no, "n/a" where the shape does not fit."""
    lin = lib.nn.Linear(4, 3)
    with lib.no_grad():
        lin.weight.copy_(lib.tensor(np.arange(12.0, dtype=np.float32).reshape(3, 4)))
    lin(lib.ones(2, 4)).sum().backward()  # a gradient, laid out as the weight
    with lib.no_grad():
        lin.weight.grad.copy_(lib.tensor(np.arange(12.0, dtype=np.float32).reshape(3, 4)))
        source = REACHED[reached](lin.weight)
        if math.prod(n for n in shape if n != -1) and source.numel() % math.prod(
                n for n in shape if n != -1):
            return "n/a"
        try:
            shaped = source.reshape(shape)
        except RuntimeError:
            return "n/a"
        before = (lin.weight.detach().numpy().copy(), lin.weight.grad.numpy().copy())
        try:
            shaped.zero_()
        except DiffersFromPyTorch:
            return "refused"
        return not (np.array_equal(lin.weight.detach().numpy(), before[0])
                    and np.array_equal(lin.weight.grad.numpy(), before[1]))


@needs_torch
@pytest.mark.parametrize("reached", list(REACHED))
@pytest.mark.parametrize("shape", SHAPES)
def test_a_write_into_a_reshape_of_the_weight_reaches_it_exactly_when_pytorchs_does(
        reached, shape):
    assert _shares(gradtrace, reached, shape) == _shares(torch, reached, shape)


@pytest.mark.parametrize("write", [
    lambda x: x.permute(0, 2, 3, 1).reshape(2, -1).div_(255),
    lambda x: x[:, :, :, :2].reshape(-1).add_(1),
    lambda x: x.reshape(6, 16).t().flatten().zero_(),
    lambda x: x.transpose(1, 2).reshape(2, 4, -1).sub_(1),
])
def test_writing_into_a_reshape_copy_of_ordinary_data_is_allowed_and_leaves_it_alone(write):
    data = gradtrace.tensor(np.arange(96, dtype=np.float32).reshape(2, 3, 4, 4))
    before = data.value.copy()
    write(data)
    np.testing.assert_array_equal(data.value, before)


def test_a_transposed_weight_flattened_is_a_copy_as_in_pytorch():
    lin = layer()
    before = lin.weight.value.copy()
    with gradtrace.no_grad():
        flat = lin.weight.t().flatten()
        flat[0] = 100.0
        lin.weight.grad = gradtrace.zeros(3, 5, dtype=lin.weight.dtype)
        lin.weight.grad.t().flatten()[0] = 5.0
    np.testing.assert_array_equal(lin.weight.value, before)
    np.testing.assert_array_equal(lin.weight.grad.value, np.zeros((3, 5)))
    recorded = lin.weight.t().flatten()
    recorded.mul_(2)  # a copy in PyTorch too: the change is recorded, the gradient is 2
    recorded.sum().backward()
    np.testing.assert_array_equal(lin.weight.grad.value, np.full((3, 5), 2.0))


def test_contiguous_copies_where_pytorch_does():
    lin = layer()
    assert lin.weight.contiguous() is lin.weight  # row-major as PyTorch sees it
    data = gradtrace.tensor(np.arange(6.0).reshape(2, 3))
    assert data.contiguous() is data
    copied = data.t().contiguous()
    copied[0, 0] = 99.0
    assert data.value[0, 0] == 0.0
    expected = data.value.T.copy()
    expected[0, 0] = 99.0
    np.testing.assert_array_equal(copied.value, expected)
    assert copied.value.flags.c_contiguous


def test_tensor_keeps_an_arrays_layout_as_torch_tensor_does():
    array = np.arange(6.0).reshape(2, 3).T  # column-major: torch.tensor keeps its strides
    made = gradtrace.tensor(array)
    assert made.value.flags.f_contiguous and not np.shares_memory(made.value, array)
    with gradtrace.no_grad():
        made.t().reshape(-1)[0] = 7.0  # made.t() is row-major: its reshape is a view
    assert made.value[0, 0] == 7.0


# -- writes through views while a kept Trace holds the weight --------------------------------

# (the write, the same change on a numpy copy of the (3, 4) weight)
WRITES = {
    "w[0].fill_(0)": (lambda w: w[0].fill_(0), lambda a: a[0].fill(0)),
    "w[:, 1].zero_()": (lambda w: w[:, 1].zero_(), lambda a: a[:, 1].fill(0)),
    "w.data[0].mul_(2)": (lambda w: w.data[0].mul_(2), lambda a: a[0].__imul__(2)),
    "w.data[0] = 0": (lambda w: w.data.__setitem__(0, 0.0), lambda a: a.__setitem__(0, 0)),
    "w.detach()[0] = 0": (lambda w: w.detach().__setitem__(0, 0.0),
                          lambda a: a.__setitem__(0, 0)),
    "w.detach().mul_(2)": (lambda w: w.detach().mul_(2), lambda a: a.__imul__(2)),
    "w.T.mul_(2)": (lambda w: w.T.mul_(2), lambda a: a.__imul__(2)),
    "w.t()[1].fill_(0)": (lambda w: w.t()[1].fill_(0), lambda a: a[:, 1].fill(0)),
    "w.chunk(3)[2].zero_()": (lambda w: w.chunk(3)[2].zero_(), lambda a: a[2].fill(0)),
    "w.unsqueeze(0)[0, 1] = 3": (lambda w: w.unsqueeze(0).__setitem__((0, 1), 3.0),
                                 lambda a: a.__setitem__(1, 3)),
    "w[1] = 5": (lambda w: w.__setitem__(1, 5.0), lambda a: a.__setitem__(1, 5)),
}


@pytest.mark.parametrize("keep_trace", [True, False])
@pytest.mark.parametrize("name", list(WRITES))
def test_a_write_through_a_view_reaches_the_weight_and_a_kept_trace_keeps_its_values(
        name, keep_trace):
    write, same_in_numpy = WRITES[name]
    lin = nn.Linear(4, 3, rng=np.random.default_rng(0))
    trace = lin(gradtrace.tensor(np.ones((2, 4)))).sum().backward() if keep_trace else None
    recorded = lin.weight.value.copy()
    expected = recorded.copy()
    same_in_numpy(expected)
    with gradtrace.no_grad():
        write(lin.weight)
    np.testing.assert_array_equal(lin.weight.value, expected)
    if keep_trace:
        np.testing.assert_array_equal(trace.values["weight"], recorded)


def test_an_alias_taken_before_the_weight_moved_writes_into_the_weight_not_the_trace():
    """`.data` taken while a trace holds the weight, then the weight moves to a copy (a
    write through another alias, an optimiser's step): a write through the first alias still
    reaches the weight, as in PyTorch, and the trace keeps what it recorded."""
    lin = nn.Linear(3, 2, rng=np.random.default_rng(0))
    trace = lin(gradtrace.tensor(np.ones((1, 3)))).sum().backward()
    recorded = lin.weight.value.copy()
    whole, row = lin.weight.data, lin.weight.data[1]
    with gradtrace.no_grad():
        whole.mul_(2)
        row.add_(1000)
    expected = recorded * 2
    expected[1] += 1000
    np.testing.assert_array_equal(lin.weight.value, expected)
    np.testing.assert_array_equal(trace.values["weight"], recorded)

    lin = nn.Linear(3, 2, rng=np.random.default_rng(0))
    trace = lin(gradtrace.tensor(np.ones((1, 3)))).sum().backward()
    recorded, alias = lin.weight.value.copy(), lin.weight.data
    optim.SGD(lin.parameters(), lr=0.1).step()  # the step writes a copy: the trace holds W
    stepped = lin.weight.value.copy()
    with gradtrace.no_grad():
        alias[0, 0] = 1000.0
    stepped[0, 0] = 1000.0
    np.testing.assert_array_equal(lin.weight.value, stepped)
    np.testing.assert_array_equal(trace.values["weight"], recorded)


def test_contiguous_of_an_elementwise_result_of_a_transpose_copies_as_pytorchs_does():
    x = gradtrace.tensor(np.arange(6.0).reshape(2, 3))
    doubled = x.t() * 2  # column-major in PyTorch too
    copied = doubled.contiguous()
    assert copied is not doubled
    copied[0, 0] = 100.0
    assert doubled.value[0, 0] == 0.0


def test_sgd_with_a_zero_rate_keeps_nan_gradients_as_numpy_and_pytorch_do():
    for size in (10, 20000):  # below and above the BLAS path's size
        p = gradtrace.zeros(size, requires_grad=True)
        gradient = np.zeros(size)
        gradient[5] = np.nan
        p.grad = gradtrace.tensor(gradient.astype(p.value.dtype))
        optim.SGD([p], lr=0.0).step()
        assert np.isnan(p.value[5]) and np.count_nonzero(np.isnan(p.value)) == 1


def test_one_parameter_in_two_groups_is_refused_as_pytorch_refuses_it():
    shared = gradtrace.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="more than one parameter group"):
        optim.SGD([{"params": [shared]}, {"params": [shared], "lr": 0.5}], lr=0.1)


def test_a_gradient_of_another_float_type_is_refused_as_pytorch_refuses_it():
    p = gradtrace.zeros(3, dtype=gradtrace.float32, requires_grad=True)
    with pytest.raises(gradtrace.PyTorchError, match="attempting to assign a gradient"):
        p.grad = gradtrace.ones(3, dtype=gradtrace.float64)
    p.grad = gradtrace.ones(3, dtype=gradtrace.float32)
    np.testing.assert_array_equal(p.grad.value, np.ones(3))


def test_a_view_kept_for_later_shows_the_weight_and_gradient_as_they_change():
    """views = [p.view(-1) for p in net.parameters()] read after training, as PyTorch's."""
    lin = layer()
    flat = lin.weight.view(-1)
    sgd = optim.SGD(lin.parameters(), lr=1.0)
    x = gradtrace.tensor(np.ones((1, 5)))
    lin(x).sum().backward()
    grad_flat = lin.weight.grad.view(-1)
    lin(x).sum().backward()  # accumulates into the same .grad
    np.testing.assert_array_equal(grad_flat.value, np.full(15, 2.0))
    sgd.step()
    np.testing.assert_array_equal(flat.value, lin.weight.value.reshape(-1))


def test_is_contiguous_answers_as_pytorch_does():
    x = gradtrace.tensor(np.arange(6.0).reshape(2, 3))
    assert x.is_contiguous() and x[1].is_contiguous() and x.view(3, 2).is_contiguous()
    assert not x.t().is_contiguous() and not x[:, ::2].is_contiguous()
    assert x.t().contiguous().is_contiguous()
    assert layer().weight.is_contiguous()


def test_deepcopy_of_a_module_copies_values_without_gradients_as_pytorchs_does():
    import copy

    lin = layer()
    lin(gradtrace.tensor(np.ones((1, 5)))).sum().backward()
    copied = copy.deepcopy(lin)
    assert copied.weight.grad is None and lin.weight.grad is not None
    assert isinstance(copied.weight, nn.Parameter) and copied.weight.requires_grad
    np.testing.assert_array_equal(copied.weight.value, lin.weight.value)
    assert not np.shares_memory(copied.weight.value, lin.weight.value)
    tied = nn.Sequential(lin, lin)  # one parameter twice stays one parameter
    twin = copy.deepcopy(tied)
    assert twin[0].weight is twin[1].weight


def test_batch_norm_resets_its_running_statistics_and_parameters():
    bn = nn.BatchNorm1d(3)
    bn(gradtrace.tensor(np.arange(12.0).reshape(4, 3)))
    with gradtrace.no_grad():
        bn.weight.mul_(3)
    assert bn.num_batches_tracked.item() == 1 and bn.running_mean.value.any()
    bn.reset_running_stats()
    np.testing.assert_array_equal(bn.running_mean.value, np.zeros(3))
    np.testing.assert_array_equal(bn.running_var.value, np.ones(3))
    assert bn.num_batches_tracked.item() == 0
    np.testing.assert_array_equal(bn.weight.value, np.full(3, 3.0))
    bn.reset_parameters()
    np.testing.assert_array_equal(bn.weight.value, np.ones(3))
    np.testing.assert_array_equal(bn.bias.value, np.zeros(3))


def test_a_write_into_part_of_an_expanded_view_reaches_the_tensor_as_in_pytorch():
    x = gradtrace.zeros(2, 3)
    spread = x.expand(4, 2, 3)
    spread[1].fill_(7.0)
    np.testing.assert_array_equal(x.value, np.full((2, 3), 7.0))
    column = gradtrace.zeros(3, 1)
    column.expand(3, 4)[0].fill_(5.0)
    np.testing.assert_array_equal(column.value.ravel(), [5.0, 0.0, 0.0])
    lin = layer()
    with gradtrace.no_grad():
        lin.weight.unsqueeze(0).expand(2, 3, 5)[1].fill_(9.0)
    np.testing.assert_array_equal(lin.weight.value, np.full((3, 5), 9.0))
    # an update where several places share one number: PyTorch's refusal
    with pytest.raises(gradtrace.PyTorchError, match="more than one element"):
        spread.add_(1)
    np.testing.assert_array_equal(x.value, np.full((2, 3), 7.0))
