"""gradtrace.nn, nn.functional and optim against PyTorch's: each call written once in PyTorch's
order and names, run on both in float64, values and gradients compared; the optimisers' steps
compared on the same gradients. Without PyTorch the comparisons skip; the gradtrace-only
tests check the same calls against finite differences or hand formulas.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import gradtrace
import gradtrace.nn as gnn
import gradtrace.nn.functional as gF

try:
    import torch
    import torch.nn.functional as tF
except ImportError:
    torch = tF = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed (pip install "
                                 "torch==2.13.0, the CPU build): nothing to compare with")

def _ramp(t, x):
    """Targets shaped like x that do not depend on its values: −1 … 1."""
    return t.linspace(-1, 1, x.numel(), dtype=t.float64).reshape(x.shape)


# (name, call of (torch-like module, F, x, w, labels)), x (4, 3, 6, 6), w (5, 3, 3, 3)
CALLS = [
    ("linear", lambda t, F, x, w, y: F.linear(x[:, :, :3, :3].reshape(4, -1), w.reshape(5, -1),
                                              w[:, 0, 0, 0])),
    ("linear-no-bias", lambda t, F, x, w, y: F.linear(x[:, :, :3, :3].reshape(4, -1),
                                                      w.reshape(5, -1))),
    ("conv2d", lambda t, F, x, w, y: F.conv2d(x, w, w[:, 0, 1, 1], stride=2, padding=1)),
    ("conv2d-same", lambda t, F, x, w, y: F.conv2d(x, w, padding="same")),
    ("max_pool2d", lambda t, F, x, w, y: F.max_pool2d(x, 2)),
    ("max_pool2d-stride-padding", lambda t, F, x, w, y: F.max_pool2d(x, 3, stride=2, padding=1)),
    ("avg_pool2d-padding", lambda t, F, x, w, y: F.avg_pool2d(x, kernel_size=2, padding=1)),
    ("batch_norm-training", lambda t, F, x, w, y: F.batch_norm(
        x, t.zeros(3, dtype=t.float64), t.ones(3, dtype=t.float64), w[:3, 0, 0, 0],
        w[:3, 1, 0, 0], training=True)),
    ("batch_norm-eval", lambda t, F, x, w, y: F.batch_norm(
        x, t.linspace(-1, 1, 3, dtype=t.float64), t.linspace(0.5, 2, 3, dtype=t.float64),
        w[:3, 0, 0, 0], w[:3, 1, 0, 0])),
    ("activations", lambda t, F, x, w, y: F.relu(x) + F.sigmoid(x) * F.tanh(x)
     + F.leaky_relu(x, 0.2) + F.elu(x) + F.silu(x) + F.softplus(x) + F.softplus(x * 30, beta=2)
     + F.gelu(x)),
    ("gelu-approximate", lambda t, F, x, w, y: F.gelu(x, approximate="tanh") * 2
     + F.gelu(x * 3, approximate="none")),
    ("softmax", lambda t, F, x, w, y: F.softmax(x, dim=1) + F.log_softmax(x, dim=-1)),
    ("cross_entropy", lambda t, F, x, w, y: F.cross_entropy(x.reshape(4, -1), y)),
    ("cross_entropy-sum", lambda t, F, x, w, y: F.cross_entropy(x.reshape(4, -1), y, reduction="sum")),
    ("cross_entropy-none", lambda t, F, x, w, y: F.cross_entropy(x.reshape(4, -1), y, reduction="none")),
    ("cross_entropy-probabilities", lambda t, F, x, w, y: F.cross_entropy(
        x[:, 0, 0], F.softmax(x[:, 1, 1], dim=1).detach())),
    ("nll_loss", lambda t, F, x, w, y: F.nll_loss(F.log_softmax(x.reshape(4, -1), dim=1), y)),
    ("mse_loss", lambda t, F, x, w, y: F.mse_loss(x, _ramp(t, x))
     + F.mse_loss(x, _ramp(t, x) + 1, reduction="sum")),
    ("binary_cross_entropy", lambda t, F, x, w, y: F.binary_cross_entropy(
        t.sigmoid(x), (_ramp(t, x) > 0).to(t.float64))),
    ("binary_cross_entropy_with_logits", lambda t, F, x, w, y: F.binary_cross_entropy_with_logits(
        x, (_ramp(t, x) > 0.3).to(t.float64), reduction="none")),
    ("flatten-dropout-eval", lambda t, F, x, w, y: F.dropout(t.flatten(x, 1), 0.5, training=False)),
]


def _inputs(lib):
    lib.manual_seed(0)
    x = lib.randn(4, 3, 6, 6, dtype=lib.float64).requires_grad_()
    w = (0.3 * lib.randn(5, 3, 3, 3, dtype=lib.float64)).requires_grad_()
    return x, w, lib.tensor([0, 4, 107, 50])


def _run(lib, F, call):
    x, w, y = _inputs(lib)
    out = call(lib, F, x, w, y)
    weights = lib.linspace(-1, 1, out.numel(), dtype=lib.float64).reshape(out.shape)
    (out * weights).sum().backward()
    grads = [np.zeros(p.shape) if p.grad is None else p.grad.numpy() for p in (x, w)]
    return out.detach().numpy(), grads


@needs_torch
@pytest.mark.parametrize("name, call", CALLS, ids=[c[0] for c in CALLS])
def test_functional_agrees_with_pytorch(name, call):
    ours, our_grads = _run(gradtrace, gF, call)
    theirs, their_grads = _run(torch, tF, call)
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)
    for mine, reference in zip(our_grads, their_grads):
        np.testing.assert_allclose(mine, reference, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name, call", [c for c in CALLS if "eval" not in c[0]
                                        and "probabilities" not in c[0]],
                         ids=[c[0] for c in CALLS if "eval" not in c[0]
                              and "probabilities" not in c[0]])
def test_functional_gradients_agree_with_finite_differences(name, call):
    gradtrace.manual_seed(1)
    x = gradtrace.randn(2, 3, 4, 4, dtype=gradtrace.float64).requires_grad_()
    w = (0.3 * gradtrace.randn(5, 3, 3, 3, dtype=gradtrace.float64)).requires_grad_()
    y = gradtrace.tensor([3, 40])
    if "linear" in name or "cross" in name or "nll" in name:
        x = gradtrace.randn(4, 3, 3, 3, dtype=gradtrace.float64).requires_grad_()
        y = gradtrace.tensor([0, 4, 26, 10])
    assert gradtrace.autograd.gradcheck(lambda x, w: call(gradtrace, gF, x, w, y), (x, w))


def test_unsupported_options_say_they_differ():
    x = gradtrace.randn(2, 3, 5, 5)
    w = gradtrace.randn(4, 3, 3, 3)
    for call in (lambda: gF.conv2d(x, w, dilation=2), lambda: gF.conv2d(x, w, groups=3),
                 lambda: gF.max_pool2d(x, 2, ceil_mode=True),
                 lambda: gF.cross_entropy(x[:, :, 0, 0], gradtrace.tensor([0, 1]),
                                          weight=gradtrace.ones(3)),
                 lambda: gF.cross_entropy(x[:, :, 0, 0], gradtrace.tensor([0, -100]))):
        with pytest.raises(gradtrace.DiffersFromPyTorch, match="differs from PyTorch"):
            call()


# -- modules ------------------------------------------------------------------------------------

class SmallNet:
    """The same module tree built with either library's nn."""

    @staticmethod
    def build(nn):
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.features = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ReLU())
                self.head = nn.Linear(2 * 4 * 4, 3)

            def forward(self, x):
                return self.head(self.features(x).flatten(1))

        return Net()


@needs_torch
def test_module_bookkeeping_agrees_with_pytorch():
    gradtrace.manual_seed(2)
    torch.manual_seed(2)
    ours, theirs = SmallNet.build(gnn), SmallNet.build(torch.nn)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [type(m).__name__ for m in ours.modules()] == [type(m).__name__ for m in
                                                          theirs.modules()]
    assert [type(m).__name__ for m in ours.children()] == ["Sequential", "Linear"]
    for (name, mine), (_, reference) in zip(ours.state_dict().items(),
                                            theirs.state_dict().items()):
        np.testing.assert_array_equal(mine.numpy(), reference.numpy(), err_msg=name)


def test_state_dict_round_trip_and_train_eval():
    gradtrace.manual_seed(3)
    net, twin = SmallNet.build(gnn), SmallNet.build(gnn)
    x = gradtrace.randn(5, 1, 6, 6)
    net(x)  # training mode: updates the running statistics
    twin.load_state_dict(net.state_dict())
    net.eval(), twin.eval()
    assert not net.training and not net.features[1].training
    np.testing.assert_array_equal(net(x).detach().numpy(), twin(x).detach().numpy())
    with pytest.raises(gradtrace.PyTorchError, match="Missing key"):
        twin.load_state_dict({})
    assert twin.load_state_dict({}, strict=False).missing_keys


def test_zero_grad_and_apply():
    net = SmallNet.build(gnn)
    net(gradtrace.randn(2, 1, 6, 6)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    visited = []
    net.apply(lambda m: visited.append(type(m).__name__))
    assert visited[-1] == "Net" and visited[0] == "Conv2d"


# -- optimisers ---------------------------------------------------------------------------------

OPTIMISERS = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9, weight_decay=0.01)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.1, momentum=0.5, dampening=0.3)),
    ("Adam", dict(lr=0.05)),
    ("Adam", dict(lr=0.05, weight_decay=0.1, amsgrad=True)),
    ("AdamW", dict(lr=0.05)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, momentum=0.9, weight_decay=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01)),
]


def _optimise(lib, name, options, steps=5):
    theta = lib.tensor([[1.0, -2.0, 0.5], [0.3, 0.0, -1.5]], dtype=lib.float64,
                       requires_grad=True)
    other = lib.tensor([0.7, -0.2], dtype=lib.float64, requires_grad=True)
    opt = getattr(lib.optim, name)([{"params": [theta]}, {"params": [other], "lr": 0.01}],
                                   **options)
    for step in range(steps):
        opt.zero_grad()
        loss = (theta ** 4).sum() / 4 + (theta * other.reshape(2, 1)).sum() + (other ** 2).sum()
        loss.backward()
        opt.step()
        if step == 2:
            opt.param_groups[0]["lr"] *= 0.5  # a learning-rate schedule
    return theta.detach().numpy(), other.detach().numpy()


@needs_torch
@pytest.mark.parametrize("name, options", OPTIMISERS, ids=[f"{n}-{o}" for n, o in OPTIMISERS])
def test_optimiser_steps_agree_with_pytorch(name, options):
    for mine, reference in zip(_optimise(gradtrace, name, options),
                               _optimise(torch, name, options)):
        np.testing.assert_allclose(mine, reference, rtol=1e-13, atol=1e-15)


def test_sgd_momentum_by_hand():
    # b ← μ·b + g (b = g at first), θ ← θ − ε·b, on L = θ²/2 (g = θ)
    theta = gradtrace.tensor([1.0], dtype=gradtrace.float64, requires_grad=True)
    opt = gradtrace.optim.SGD([theta], lr=0.1, momentum=0.5)
    expected, buffer = 1.0, None
    for _ in range(3):
        opt.zero_grad()
        (theta * theta / 2).sum().backward()
        buffer = expected if buffer is None else 0.5 * buffer + expected
        expected -= 0.1 * buffer
        opt.step()
    assert theta.item() == pytest.approx(expected, rel=1e-15)


def test_optimizer_state_dict_names_parameters_by_position_and_round_trips():
    # positions found by identity: == between tensors compares elements, so list.index failed
    w = gradtrace.tensor([1.0, -2.0], dtype=gradtrace.float64, requires_grad=True)
    b = gradtrace.tensor([0.5], dtype=gradtrace.float64, requires_grad=True)
    opt = gradtrace.optim.SGD([{"params": [w]}, {"params": [b], "lr": 0.01}], lr=0.1,
                              momentum=0.9)
    (w * w).sum().backward()
    (b * 3).sum().backward()
    opt.step()
    state = opt.state_dict()
    assert [g["params"] for g in state["param_groups"]] == [[0], [1]]
    assert [g["lr"] for g in state["param_groups"]] == [0.1, 0.01]
    np.testing.assert_array_equal(state["state"][0]["momentum_buffer"].numpy(), [2.0, -4.0])
    np.testing.assert_array_equal(state["state"][1]["momentum_buffer"].numpy(), [3.0])
    fresh = gradtrace.optim.SGD([{"params": [w]}, {"params": [b]}], lr=0.5, momentum=0.9)
    fresh.load_state_dict(state)
    assert fresh.param_groups[1]["lr"] == 0.01
    buffer = fresh.state[w]["momentum_buffer"]
    np.testing.assert_array_equal(buffer, [2.0, -4.0])
    buffer[0] = 7  # a copy: the saved state is left alone
    assert state["state"][0]["momentum_buffer"].tolist() == [2.0, -4.0]


def test_clip_grad_norm_scales_all_gradients_by_one_norm():
    w = gradtrace.tensor([[3.0, 0.0]], dtype=gradtrace.float64, requires_grad=True)
    b = gradtrace.tensor([4.0], dtype=gradtrace.float64, requires_grad=True)
    ((w * w).sum() / 2 + (b * b).sum() / 2).backward()  # gradients w and b: norm 5
    total = gnn.utils.clip_grad_norm_([w, b], max_norm=1.0)
    assert total.item() == 5.0
    np.testing.assert_allclose(w.grad.numpy(), [[3 / (5 + 1e-6), 0.0]], rtol=1e-15)
    np.testing.assert_allclose(b.grad.numpy(), [4 / (5 + 1e-6)], rtol=1e-15)
    assert gnn.utils.clip_grad_norm_([w, b], max_norm=10.0).item() == pytest.approx(1.0)
    np.testing.assert_allclose(b.grad.numpy(), [4 / (5 + 1e-6)], rtol=1e-15)  # below: kept
    gnn.utils.clip_grad_value_(w, 0.1)
    np.testing.assert_allclose(w.grad.numpy(), [[0.1, 0.0]])
    assert gnn.utils.clip_grad_norm_(w, 1.0, norm_type="inf").item() == pytest.approx(0.1)


SCHEDULERS = [
    ("StepLR", dict(step_size=3, gamma=0.5), [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025]),
    ("MultiStepLR", dict(milestones=[2, 5, 5], gamma=0.1),
     [0.1, 0.1, 0.01, 0.01, 0.01, 1e-4, 1e-4]),
    ("ExponentialLR", dict(gamma=0.9), [0.1 * 0.9 ** k for k in range(7)]),
    ("LambdaLR", dict(lr_lambda=lambda epoch: 1 / (epoch + 1)), [0.1 / (k + 1) for k in range(7)]),
    ("CosineAnnealingLR", dict(T_max=4, eta_min=0.0),
     [0.05 * (1 + math.cos(math.pi * k / 4)) for k in range(7)]),
]


def _schedule(lib, name, options, epochs=6):
    p = lib.tensor([1.0], dtype=lib.float64, requires_grad=True)
    q = lib.tensor([2.0], dtype=lib.float64, requires_grad=True)
    opt = lib.optim.SGD([{"params": [p]}, {"params": [q], "lr": 0.3}], lr=0.1, momentum=0.9)
    scheduler = getattr(lib.optim.lr_scheduler, name)(opt, **options)
    rates = [scheduler.get_last_lr()]
    for _ in range(epochs):
        opt.zero_grad()
        (p * p + q * q * q).sum().backward()
        opt.step()
        scheduler.step()
        rates.append(scheduler.get_last_lr())
    return np.array(rates), p.detach().numpy(), q.detach().numpy()


@pytest.mark.parametrize("name, options, first_group", SCHEDULERS, ids=[s[0] for s in SCHEDULERS])
def test_schedulers_follow_their_formulas(name, options, first_group):
    rates, _, _ = _schedule(gradtrace, name, options)
    np.testing.assert_allclose(rates[:, 0], first_group, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(rates[:, 1], 3 * np.asarray(first_group), rtol=1e-12, atol=1e-15)


@needs_torch
@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("name, options, first_group", SCHEDULERS, ids=[s[0] for s in SCHEDULERS])
def test_schedulers_agree_with_pytorch_to_the_last_bit(name, options, first_group):
    ours, theirs = _schedule(gradtrace, name, options), _schedule(torch, name, options)
    np.testing.assert_array_equal(ours[0], theirs[0])  # the rates: every bit
    for mine, reference in zip(ours[1:], theirs[1:]):  # the parameters they moved
        np.testing.assert_allclose(mine, reference, rtol=1e-14, atol=0)


def test_a_scheduler_is_importable_as_in_pytorch():
    from gradtrace.optim.lr_scheduler import StepLR

    assert StepLR is gradtrace.optim.lr_scheduler.StepLR


@pytest.mark.parametrize("layer", [
    lambda nn: nn.Conv2d(2, 3, 3, padding=1), lambda nn: nn.MaxPool2d(2),
    lambda nn: nn.AvgPool2d(2), lambda nn: nn.Conv2d(2, 4, 2, stride=2),
])
def test_conv_and_pool_layers_take_one_image_as_pytorch_does(layer):
    # (C, H, W): a batch of one, its batch axis dropped again (PyTorch ≥ 1.11); it was refused
    # as if the channels did not match
    gradtrace.manual_seed(0)
    made = layer(gnn)
    image = gradtrace.randn(2, 6, 6)
    one = made(image)
    batched = made(image.unsqueeze(0))
    assert one.shape == batched.shape[1:]
    np.testing.assert_array_equal(one.value, batched.value[0])


@needs_torch
def test_one_image_gives_pytorchs_values_and_gradients():
    rng = np.random.default_rng(2)
    x, W, b = (rng.standard_normal((1, 5, 5)), rng.standard_normal((2, 1, 3, 3)),
               rng.standard_normal(2))
    found = []
    for lib in (gradtrace, torch):
        xs, Ws = lib.tensor(x, requires_grad=True), lib.tensor(W, requires_grad=True)
        F = lib.nn.functional
        out = F.conv2d(xs, Ws, lib.tensor(b), padding=1)
        (F.max_pool2d(out, 2).sum() + F.avg_pool2d(out, 2).sum()).backward()
        plain = (lambda t: t.value) if lib is gradtrace else (lambda t: t.detach().numpy())
        found.append([plain(t) for t in (out, xs.grad, Ws.grad)])
    for ours, theirs in zip(*found):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)
