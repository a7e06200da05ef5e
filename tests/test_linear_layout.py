"""nn.Linear keeps its weight column-major (x·Wᵀ then multiplies two row-major arrays, BLAS's
fastest case): the layout must survive everything that fills or updates the weight, the
gradient must come in the same layout (so W -= lr·grad runs over one layout, with no copy),
and PyTorch's view semantics must not silently break where numpy has to copy."""

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


def layer(rng_seed: int = 0) -> nn.Linear:
    return nn.Linear(5, 3, rng=np.random.default_rng(rng_seed))


def test_a_linear_weight_is_column_major_however_it_is_started():
    assert column_major(nn.Linear(5, 3).weight.value)  # PyTorch's kaiming start
    for init in ("xavier", "he", "normal", "zeros", "constant"):
        lin = nn.Linear(5, 3, init=init, rng=np.random.default_rng(1))
        assert column_major(lin.weight.value), init
        assert lin.weight.shape == (3, 5)
    lin = layer()
    nn.init.xavier_uniform_(lin.weight)
    assert column_major(lin.weight.value)


def test_load_state_dict_and_copy_keep_the_layout_and_the_values():
    lin = layer()
    rows = np.arange(15, dtype=np.float64).reshape(3, 5)  # row-major, as a user writes it
    lin.load_state_dict({"weight": rows, "bias": np.zeros(3)})
    assert column_major(lin.weight.value)
    np.testing.assert_array_equal(lin.weight.value, rows)
    with gradtrace.no_grad():
        lin.weight.copy_(gradtrace.tensor(rows * 2))
    assert column_major(lin.weight.value)
    np.testing.assert_array_equal(lin.weight.value, rows * 2)


def test_the_layer_computes_x_times_w_transposed_plus_b():
    lin = layer()
    x = np.random.default_rng(2).standard_normal((4, 5))
    W, b = np.ascontiguousarray(lin.weight.value), lin.bias.value
    np.testing.assert_allclose(lin(gradtrace.tensor(x)).value, x @ W.T + b, rtol=1e-12)


@pytest.mark.parametrize("x_needs_grad", [False, True])
def test_the_weight_gradient_comes_in_the_weight_layout_with_the_right_values(x_needs_grad):
    lin = layer()
    x_values = np.random.default_rng(3).standard_normal((4, 5))
    x = gradtrace.tensor(x_values, requires_grad=x_needs_grad)
    lin(x).sum().backward()
    grad = lin.weight.grad.value
    assert column_major(grad)
    # d(sum of x·Wᵀ + b)/dW[i, j] = Σ over the batch of x[:, j], for every output i
    np.testing.assert_allclose(grad, np.tile(x_values.sum(axis=0), (3, 1)), rtol=1e-12)
    if x_needs_grad:  # d/dx[n, j] = Σ_i W[i, j]
        np.testing.assert_allclose(x.grad.value, np.tile(lin.weight.value.sum(axis=0), (4, 1)),
                                   rtol=1e-12)


@pytest.mark.parametrize("make", [
    lambda params: optim.SGD(params, lr=0.1),
    lambda params: optim.SGD(params, lr=0.1, momentum=0.9),
    lambda params: optim.Adam(params, lr=0.1),
])
def test_optimisers_keep_the_layout_while_each_kept_trace_keeps_the_weight_it_read(make):
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
        assert column_major(lin.weight.value)
        assert column_major(lin.weight.grad.value)
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


def test_a_trained_layer_matches_the_same_layer_kept_row_major():
    """The same steps on a row-major copy of the weights (a user's own arrays through
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
    assert not column_major(W.value)
    np.testing.assert_allclose(lin.weight.value, W.value, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(lin.bias.value, b.value, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("change", [
    lambda w: w.view(-1).__setitem__(0, 100.0),
    lambda w: w.flatten().mul_(0),
    lambda w: w.reshape(5, 3).fill_(1.0),
])
def test_writing_through_a_reshape_numpy_had_to_copy_is_refused(change):
    """PyTorch's weight.view(-1) is a view that writes through; here it is a copy, so a write
    would be silently lost: refused instead, saying what to do."""
    lin = layer()
    before = lin.weight.value.copy()
    with gradtrace.no_grad(), pytest.raises(DiffersFromPyTorch, match="column-major"):
        change(lin.weight)
    np.testing.assert_array_equal(lin.weight.value, before)


def test_writes_that_do_reach_the_weight_still_work():
    lin = layer()
    with gradtrace.no_grad():
        lin.weight.view(1, 3, 5).fill_(2.0)  # numpy can view this one
        lin.weight.data.mul_(3)
        lin.weight[0] = 1.0
    expected = np.full((3, 5), 6.0)
    expected[0] = 1.0
    np.testing.assert_array_equal(lin.weight.value, expected)


def test_an_in_place_change_of_a_recorded_reshape_of_the_weight_is_refused():
    lin = layer()
    reshaped = lin.weight.view(-1)  # recorded: PyTorch refuses the change below as well
    with pytest.raises(DiffersFromPyTorch, match="in-place change of a view"):
        reshaped[0] = 0.0


def test_filling_the_weight_while_a_trace_holds_it_keeps_the_layout_and_the_trace():
    lin = layer()
    trace = lin(gradtrace.tensor(np.ones((2, 5)))).sum().backward()
    read = lin.weight.value.copy()
    with gradtrace.no_grad():
        lin.weight.fill_(7.0)  # the trace holds the array: a fresh one is written
    assert column_major(lin.weight.value)
    np.testing.assert_array_equal(lin.weight.value, np.full((3, 5), 7.0))
    np.testing.assert_array_equal(trace.values["weight"], read)


# -- reshapes share memory exactly where PyTorch's do (core/tensor/layout.py) --------------

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
    """Whether writing into the reshape reaches the layer's weight: True, False, or "view
    refused" / "refused" where the library says no."""
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
    theirs = _shares(torch, reached, shape)
    mine = _shares(gradtrace, reached, shape)
    if theirs is True and mine == "refused":  # numpy had to copy: refused, never lost
        return
    assert mine == theirs


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


def test_tensor_keeps_an_arrays_layout_as_torch_tensor_does_and_a_weights_is_row_major():
    array = np.arange(6.0).reshape(2, 3).T  # column-major: torch.tensor keeps its strides
    made = gradtrace.tensor(array)
    assert made.value.flags.f_contiguous and not np.shares_memory(made.value, array)
    with gradtrace.no_grad():
        made.t().reshape(-1)[0] = 7.0  # made.t() is row-major: its reshape is a view
    assert made.value[0, 0] == 7.0
    copied = gradtrace.tensor(layer().weight)  # PyTorch's weight is row-major
    assert copied.value.flags.c_contiguous
    with gradtrace.no_grad():
        copied.view(-1)[0] = 9.0
    assert copied.value[0, 0] == 9.0


def test_strides_are_read_as_pytorch_lays_the_weight_out():
    from gradtrace.core.tensor import layout

    weight = np.asfortranarray(np.zeros((3, 5)))  # column-major, as nn.Linear keeps it
    w = weight  # the memory PyTorch keeps row-major, passed as `flipped`
    assert layout.pytorch_strides(weight, w) == (5, 1)  # PyTorch's row-major (3, 5)
    assert layout.pytorch_strides(weight) == (1, 3)  # any other array: as numpy has it
    assert layout.pytorch_strides(weight.T, w) == (1, 5)  # weight.t()
    assert layout.pytorch_strides(weight[1], w) == (1,)  # a row: contiguous in PyTorch
    assert layout.pytorch_strides(weight[:, 1:3], w) == (5, 1)
    assert layout.pytorch_strides(np.zeros((3, 5))[:, ::2]) == (5, 2)
    assert layout.pytorch_contiguous(weight, w) and not layout.pytorch_contiguous(weight.T, w)
    assert not layout.pytorch_contiguous(weight)
    # PyTorch's view rule: a transposed matrix cannot be flattened without a copy, a row can
    assert not layout.pytorch_views(weight.T, (15,), w)
    assert layout.pytorch_views(weight, (15,), w) and layout.pytorch_views(weight, (5, 3), w)
    assert layout.pytorch_views(weight.T, (5, 3, 1), w)
    assert layout.pytorch_views(weight[1], (1, 5), w)
    assert not layout.pytorch_views(weight[:, 1:3], (6,), w)


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
    assert column_major(lin.weight.value)
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


def test_what_an_op_makes_from_the_weight_is_row_major_and_other_layouts_stay_pytorchs():
    lin = layer()
    for made in (lin.weight * 2, gradtrace.stack([lin.weight, lin.weight]),
                 lin.weight.detach().exp()):
        assert made.value.flags.c_contiguous
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
