"""Held-out course snippets (issue 10: "a held-out set of course-style PyTorch snippets will be
run both ways, as a new user would; they must agree or fail with gradtrace's clear 'differs
from PyTorch' error").

Each snippet below is short course code as its course writes it: d2l's chapters (concise
linear and softmax regression, dropout, weight decay, batch norm from scratch, LeNet, autograd,
parameters, custom layers, file I/O, the optimisers from scratch), PyTorch's 60-minute blitz,
CS231n's hand-written backward passes, 《深度学习入门》's layer classes (the book behind the
notes' seed 003) and the idioms students write around them. None of them is in
tests/torch_courses.py. A snippet takes `L`, the library as the course imports it (L.torch,
L.nn, L.F: `import gradtrace as torch` or PyTorch itself), and returns what a student would
look at, as arrays.

With PyTorch installed, every snippet runs on both with the default float type set to float64
(torch.set_default_dtype(torch.float64) at the top of the script) and must agree to float64
rounding; the data, weights and dropout masks come from each library's own random functions
after manual_seed. Without PyTorch those comparisons skip with the same reason as
test_torch_courses.py, and every snippet is still checked on gradtrace alone against numbers
that do not come from gradtrace: the values the course itself prints, hand formulas worked in
numpy, or central differences.
"""

from __future__ import annotations

import math
import os
import tempfile

import numpy as np
import pytest

from torch_courses import gradtrace_library, numpy_of, torch_library, with_dtype

GRADTRACE = gradtrace_library()
TORCH = torch_library()
needs_torch = pytest.mark.skipif(TORCH is None, reason="PyTorch is not installed (pip install "
                                 "torch==2.13.0, the CPU build): nothing to compare with")
TOLERANCE = dict(rtol=1e-9, atol=1e-12)  # float64: agreement to rounding


# == d2l ======================================================================================

def d2l_linear_regression_concise(L) -> dict:
    """d2l 3.3: nn.Sequential(nn.Linear(2, 1)), weights set through .data, nn.MSELoss,
    optim.SGD (the batches taken in order: gradtrace has no torch.utils.data)."""
    torch, nn = L.torch, L.nn
    torch.manual_seed(0)
    true_w, true_b = torch.tensor([2, -3.4]), 4.2
    features = torch.normal(0, 1, (1000, len(true_w)))
    labels = torch.matmul(features, true_w) + true_b
    labels += torch.normal(0, 0.01, labels.shape)
    labels = labels.reshape((-1, 1))
    net = nn.Sequential(nn.Linear(2, 1))
    net[0].weight.data.normal_(0, 0.01)
    net[0].bias.data.fill_(0)
    start = numpy_of(net[0].weight)
    loss = nn.MSELoss()
    trainer = torch.optim.SGD(net.parameters(), lr=0.03)
    losses = []
    for epoch in range(3):
        for i in range(0, 1000, 10):
            X, y = features[i:i + 10], labels[i:i + 10]
            l = loss(net(X), y)
            trainer.zero_grad()
            l.backward()
            trainer.step()
        l = loss(net(features), labels)
        losses.append(l.item())
    w, b = net[0].weight.data, net[0].bias.data
    return {"w_error": numpy_of(true_w - w.reshape(true_w.shape)),
            "b_error": np.array(true_b - b.item()), "losses": np.array(losses), "start": start,
            "features": numpy_of(features), "labels": numpy_of(labels)}


def d2l_softmax_regression_concise(L) -> dict:
    """d2l 3.7: nn.Flatten + nn.Linear, net.apply(init_weights), CrossEntropyLoss(reduction=
    'none') averaged by hand, and 3.6's accuracy."""
    torch, nn = L.torch, L.nn
    torch.manual_seed(1)
    X, y = torch.rand(64, 1, 28, 28), torch.randint(0, 10, (64,))
    net = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))

    def init_weights(m):
        if type(m) == nn.Linear:
            nn.init.normal_(m.weight, std=0.01)

    net.apply(init_weights)
    start = [numpy_of(p) for p in net.parameters()]
    loss = nn.CrossEntropyLoss(reduction='none')
    trainer = torch.optim.SGD(net.parameters(), lr=0.1)
    losses = []
    for _ in range(3):
        l = loss(net(X), y)
        trainer.zero_grad()
        l.mean().backward()
        trainer.step()
        losses.append(float(l.sum().detach()))

    def accuracy(y_hat, y):
        if len(y_hat.shape) > 1 and y_hat.shape[1] > 1:
            y_hat = y_hat.argmax(axis=1)
        cmp = y_hat.type(y.dtype) == y
        return float(cmp.type(y.dtype).sum())

    return {"losses": np.array(losses), "correct": np.array(accuracy(net(X), y)),
            "W": numpy_of(net[1].weight), "W_start": start[0], "b_start": start[1],
            "X": numpy_of(X), "y": y.numpy()}


def d2l_dropout_from_scratch(L) -> dict:
    """d2l 4.6: dropout_layer (mask from torch.rand, kept elements scaled by 1/(1 − p)) tried
    with p = 0, 0.5, 1, then the MLP that applies it in training only."""
    torch, nn = L.torch, L.nn

    def dropout_layer(X, dropout):
        assert 0 <= dropout <= 1
        if dropout == 1:
            return torch.zeros_like(X)
        if dropout == 0:
            return X
        mask = (torch.rand(X.shape) > dropout).float()
        return mask * X / (1.0 - dropout)

    torch.manual_seed(2)
    X = torch.arange(16, dtype=torch.float32).reshape((2, 8))
    tried = {"p0": numpy_of(dropout_layer(X, 0.)), "p05": numpy_of(dropout_layer(X, 0.5)),
             "p1": numpy_of(dropout_layer(X, 1.))}
    num_inputs, num_outputs, num_hiddens1, num_hiddens2 = 20, 3, 16, 8
    dropout1, dropout2 = 0.2, 0.5

    class Net(nn.Module):
        def __init__(self, num_inputs, num_outputs, num_hiddens1, num_hiddens2, is_training=True):
            super(Net, self).__init__()
            self.num_inputs = num_inputs
            self.training = is_training
            self.lin1 = nn.Linear(num_inputs, num_hiddens1)
            self.lin2 = nn.Linear(num_hiddens1, num_hiddens2)
            self.lin3 = nn.Linear(num_hiddens2, num_outputs)
            self.relu = nn.ReLU()

        def forward(self, X):
            H1 = self.relu(self.lin1(X.reshape((-1, self.num_inputs))))
            if self.training == True:
                H1 = dropout_layer(H1, dropout1)
            H2 = self.relu(self.lin2(H1))
            if self.training == True:
                H2 = dropout_layer(H2, dropout2)
            return self.lin3(H2)

    net = Net(num_inputs, num_outputs, num_hiddens1, num_hiddens2)
    data, labels = torch.randn(6, num_inputs), torch.tensor([0, 1, 2, 2, 1, 0])
    l = nn.CrossEntropyLoss()(net(data), labels)
    l.backward()
    return {**tried, "loss": numpy_of(l), "grad": numpy_of(net.lin1.weight.grad)}


def d2l_dropout_concise(L) -> dict:
    """d2l 4.6 concise: nn.Dropout after each hidden layer; train() draws masks, eval() is the
    identity."""
    torch, nn = L.torch, L.nn
    torch.manual_seed(3)
    net = nn.Sequential(nn.Flatten(), nn.Linear(16, 32), nn.ReLU(), nn.Dropout(0.2),
                        nn.Linear(32, 32), nn.ReLU(), nn.Dropout(0.5), nn.Linear(32, 4))

    def init_weights(m):
        if type(m) == nn.Linear:
            nn.init.normal_(m.weight, std=0.01)

    net.apply(init_weights)
    bias_start = numpy_of(net[7].bias)
    X, y = torch.rand(8, 1, 4, 4), torch.randint(0, 4, (8,))
    trainer = torch.optim.SGD(net.parameters(), lr=0.5)
    loss = nn.CrossEntropyLoss()
    losses = []
    for _ in range(2):
        trainer.zero_grad()
        l = loss(net(X), y)
        l.backward()
        trainer.step()
        losses.append(l.item())
    net.eval()
    first, second = net(X), net(X)
    return {"losses": np.array(losses), "eval": numpy_of(first), "eval_again": numpy_of(second),
            "W": numpy_of(net[1].weight), "bias_start": bias_start, "y": y.numpy()}


def d2l_weight_decay_from_scratch(L) -> dict:
    """d2l 4.5: high-dimensional linear regression, l2_penalty(w) = Σw²/2 added to the loss,
    d2l.sgd under no_grad."""
    torch = L.torch
    torch.manual_seed(4)
    n_train, num_inputs, batch_size = 20, 200, 5
    true_w, true_b = torch.ones((num_inputs, 1)) * 0.01, 0.05
    X = torch.normal(0, 1, (n_train, num_inputs))
    y = torch.matmul(X, true_w) + true_b + torch.normal(0, 0.01, (n_train, 1))

    def init_params():
        w = torch.normal(0, 1, size=(num_inputs, 1), requires_grad=True)
        b = torch.zeros(1, requires_grad=True)
        return [w, b]

    def l2_penalty(w):
        return torch.sum(w.pow(2)) / 2

    def sgd(params, lr, batch_size):
        with torch.no_grad():
            for param in params:
                param -= lr * param.grad / batch_size
                param.grad.zero_()

    w, b = init_params()
    start = numpy_of(w)
    lambd, lr, norms = 3, 0.003, []
    for epoch in range(5):
        for i in range(0, n_train, batch_size):
            y_hat = torch.matmul(X[i:i + batch_size], w) + b
            l = (y_hat - y[i:i + batch_size]) ** 2 / 2 + lambd * l2_penalty(w)
            l.sum().backward()
            sgd([w, b], lr, batch_size)
        norms.append(torch.norm(w).item())
    return {"norms": np.array(norms), "w": numpy_of(w), "b": numpy_of(b), "start": start,
            "X": numpy_of(X), "y": numpy_of(y)}


def d2l_weight_decay_concise(L) -> dict:
    """d2l 4.5 concise: weight_decay on the weight's parameter group only, against the same
    penalty λ/2·‖w‖² added to the loss by hand."""
    torch, nn = L.torch, L.nn
    found = {}
    for how in ("optimizer", "penalty"):
        torch.manual_seed(5)
        net = nn.Sequential(nn.Linear(4, 1))
        for param in net.parameters():
            param.data.normal_()
        found["start"] = np.concatenate([numpy_of(p).ravel() for p in net.parameters()])
        X, y = torch.randn(10, 4), torch.randn(10, 1)
        found["X"], found["y"] = numpy_of(X), numpy_of(y)
        wd, lr = 0.3, 0.05
        if how == "optimizer":
            trainer = torch.optim.SGD([{"params": net[0].weight, 'weight_decay': wd},
                                       {"params": net[0].bias}], lr=lr)
        else:
            trainer = torch.optim.SGD(net.parameters(), lr=lr)
        for _ in range(5):
            trainer.zero_grad()
            l = nn.MSELoss()(net(X), y)
            if how == "penalty":
                l = l + wd / 2 * net[0].weight.pow(2).sum()
            l.backward()
            trainer.step()
        found[how] = numpy_of(net[0].weight)
    return found


def d2l_batch_norm_from_scratch(L) -> dict:
    """d2l 7.5: batch_norm written by hand (is_grad_enabled tells training from prediction),
    moving averages kept through .data, the BatchNorm module and a small network with it."""
    torch, nn = L.torch, L.nn

    def batch_norm(X, gamma, beta, moving_mean, moving_var, eps, momentum):
        if not torch.is_grad_enabled():
            X_hat = (X - moving_mean) / torch.sqrt(moving_var + eps)
        else:
            assert len(X.shape) in (2, 4)
            if len(X.shape) == 2:
                mean = X.mean(dim=0)
                var = ((X - mean) ** 2).mean(dim=0)
            else:
                mean = X.mean(dim=(0, 2, 3), keepdim=True)
                var = ((X - mean) ** 2).mean(dim=(0, 2, 3), keepdim=True)
            X_hat = (X - mean) / torch.sqrt(var + eps)
            moving_mean = momentum * moving_mean + (1.0 - momentum) * mean
            moving_var = momentum * moving_var + (1.0 - momentum) * var
        Y = gamma * X_hat + beta
        return Y, moving_mean.data, moving_var.data

    class BatchNorm(nn.Module):
        def __init__(self, num_features, num_dims):
            super().__init__()
            shape = (1, num_features) if num_dims == 2 else (1, num_features, 1, 1)
            self.gamma = nn.Parameter(torch.ones(shape))
            self.beta = nn.Parameter(torch.zeros(shape))
            self.moving_mean = torch.zeros(shape)
            self.moving_var = torch.ones(shape)

        def forward(self, X):
            Y, self.moving_mean, self.moving_var = batch_norm(
                X, self.gamma, self.beta, self.moving_mean,
                self.moving_var, eps=1e-5, momentum=0.9)
            return Y

    torch.manual_seed(6)
    net = nn.Sequential(nn.Conv2d(1, 3, kernel_size=3), BatchNorm(3, num_dims=4), nn.Sigmoid(),
                        nn.Flatten(), nn.Linear(3 * 4 * 4, 5), BatchNorm(5, num_dims=2),
                        nn.Sigmoid(), nn.Linear(5, 2))
    X, y = torch.randn(6, 1, 6, 6), torch.tensor([0, 1, 1, 0, 1, 0])
    start = {i: [numpy_of(p) for p in net[i].parameters()] for i in (0, 4, 7)}
    trainer = torch.optim.SGD(net.parameters(), lr=1.0)
    loss = nn.CrossEntropyLoss()
    losses = []
    for _ in range(3):
        trainer.zero_grad()
        l = loss(net(X), y)
        l.backward()
        trainer.step()
        losses.append(l.item())
    with torch.no_grad():
        predicted = net(X)
    return {"losses": np.array(losses), "gamma": numpy_of(net[1].gamma),
            "moving_mean": numpy_of(net[1].moving_mean), "moving_var": numpy_of(net[5].moving_var),
            "predicted": numpy_of(predicted), "X": numpy_of(X), "y": y.numpy(),
            **{f"start{i}_{k}": array for i, arrays in start.items()
               for k, array in enumerate(arrays)}}


def d2l_lenet(L) -> dict:
    """d2l 6.6: LeNet as nn.Sequential, the shape printed layer by layer, xavier_uniform_ on
    every Linear and Conv2d, two SGD steps."""
    torch, nn = L.torch, L.nn
    torch.manual_seed(7)
    net = nn.Sequential(
        nn.Conv2d(1, 6, kernel_size=5, padding=2), nn.Sigmoid(),
        nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Conv2d(6, 16, kernel_size=5), nn.Sigmoid(),
        nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120), nn.Sigmoid(),
        nn.Linear(120, 84), nn.Sigmoid(),
        nn.Linear(84, 10))
    X = torch.rand(size=(1, 1, 28, 28))
    shapes = []
    for layer in net:
        X = layer(X)
        shapes.append(tuple(X.shape))

    def init_weights(m):
        if type(m) == nn.Linear or type(m) == nn.Conv2d:
            nn.init.xavier_uniform_(m.weight)

    net.apply(init_weights)
    conv1_start = numpy_of(net[0].weight)
    optimizer = torch.optim.SGD(net.parameters(), lr=0.9)
    loss = nn.CrossEntropyLoss()
    X, y = torch.rand(4, 1, 28, 28), torch.tensor([3, 1, 4, 1])
    losses = []
    for _ in range(2):
        optimizer.zero_grad()
        l = loss(net(X), y)
        l.backward()
        optimizer.step()
        losses.append(l.item())
    return {"shapes": np.array([list(s) + [0] * (4 - len(s)) for s in shapes]),
            "losses": np.array(losses), "conv1_start": conv1_start,
            "conv1": numpy_of(net[0].weight),
            "fc3_grad": numpy_of(net[11].weight.grad)}


def d2l_autograd(L) -> dict:
    """d2l 2.5: y = 2xᵀx, clearing x.grad, backward of a non-scalar through sum(), detach, and
    gradients through Python control flow."""
    torch = L.torch
    x = torch.arange(4.0)
    x.requires_grad_(True)
    y = 2 * torch.dot(x, x)
    y.backward()
    dot = numpy_of(x.grad)
    x.grad.zero_()
    y = x.sum()
    y.backward()
    total = numpy_of(x.grad)
    x.grad.zero_()
    y = x * x
    y.sum().backward()
    square = numpy_of(x.grad)
    x.grad.zero_()
    y = x * x
    u = y.detach()
    z = u * x
    z.sum().backward()
    detached = numpy_of(x.grad)
    x.grad.zero_()
    y.sum().backward()
    again = numpy_of(x.grad)

    def f(a):
        b = a * 2
        while b.norm() < 1000:
            b = b * 2
        if b.sum() > 0:
            c = b
        else:
            c = 100 * b
        return c

    torch.manual_seed(8)
    a = torch.randn(size=(), requires_grad=True)
    d = f(a)
    d.backward()
    return {"dot": dot, "sum": total, "square": square, "detached": detached, "u": numpy_of(u),
            "again": again, "a_grad": numpy_of(a.grad), "d_over_a": numpy_of(d / a)}


def d2l_activation_gradients(L) -> dict:
    """d2l 4.1: relu, sigmoid and tanh and their derivatives on arange(-8, 8, 0.1), x.grad
    cleared through .data between them (the derivative plots)."""
    torch = L.torch
    x = torch.arange(-8.0, 8.0, 0.1, requires_grad=True)
    y = torch.relu(x)
    y.backward(torch.ones_like(x), retain_graph=True)
    relu_grad = numpy_of(x.grad)
    y = torch.sigmoid(x)
    x.grad.data.zero_()
    y.backward(torch.ones_like(x), retain_graph=True)
    sigmoid_grad = numpy_of(x.grad)
    y = torch.tanh(x)
    x.grad.data.zero_()
    y.backward(torch.ones_like(x), retain_graph=True)
    return {"x": numpy_of(x), "relu": relu_grad, "sigmoid": sigmoid_grad,
            "tanh": numpy_of(x.grad)}


def d2l_exploding_products(L) -> dict:
    """d2l 4.8 (the notes' 梯度爆炸 experiment): a product of 100 Gaussian random matrices."""
    torch = L.torch
    torch.manual_seed(9)
    M = torch.normal(0, 1, size=(4, 4))
    factors = [numpy_of(M)]
    for i in range(100):
        factor = torch.normal(0, 1, size=(4, 4))
        factors.append(numpy_of(factor))
        M = torch.mm(M, factor)
    return {"M": numpy_of(M), "factors": np.array(factors)}


def d2l_parameters(L) -> dict:
    """d2l 5.2: parameters by index and name, state_dict, .grad before backward, and a layer
    shared twice (its weights are one tensor; its gradient adds both uses)."""
    torch, nn = L.torch, L.nn
    torch.manual_seed(10)
    net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
    X = torch.rand(size=(2, 4))
    out = net(X)
    names = [name for name, param in net.named_parameters()]
    no_grad_yet = net[2].weight.grad is None
    shared = nn.Linear(8, 8)
    net2 = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), shared, nn.ReLU(), shared, nn.ReLU(),
                         nn.Linear(8, 1))
    net2(X).sum().backward()
    grad = numpy_of(shared.weight.grad)
    net2[2].weight.data[0, 0] = 100
    same = bool((net2[2].weight.data[0] == net2[4].weight.data[0]).all())
    return {"out": numpy_of(out), "bias": numpy_of(net[2].state_dict()['bias']),
            "names": np.array(names), "no_grad_yet": np.array(no_grad_yet),
            "shared_grad": grad, "same": np.array(same),
            "count": np.array(len(list(net2.parameters()))),
            "state_bias": numpy_of(net.state_dict()['2.bias'].data),
            "X": numpy_of(X),
            "params": np.concatenate([numpy_of(p).ravel() for p in net2.parameters()])}


def d2l_initialisation(L) -> dict:
    """d2l 5.2.3: nn.init inside net.apply (normal, constant, xavier, 42), a custom init that
    zeroes the small weights through .data, in-place edits of .data[:], kaiming_normal_."""
    torch, nn = L.torch, L.nn
    torch.manual_seed(11)
    net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))

    def init_normal(m):
        if type(m) == nn.Linear:
            nn.init.normal_(m.weight, mean=0, std=0.01)
            nn.init.zeros_(m.bias)

    def init_constant(m):
        if type(m) == nn.Linear:
            nn.init.constant_(m.weight, 1)
            nn.init.zeros_(m.bias)

    def init_xavier(m):
        if type(m) == nn.Linear:
            nn.init.xavier_uniform_(m.weight)

    def init_42(m):
        if type(m) == nn.Linear:
            nn.init.constant_(m.weight, 42)

    def my_init(m):
        if type(m) == nn.Linear:
            nn.init.uniform_(m.weight, -10, 10)
            m.weight.data *= m.weight.data.abs() >= 5

    net.apply(init_normal)
    normal = numpy_of(net[0].weight)
    net.apply(init_constant)
    constant = numpy_of(net[0].weight)
    net[0].apply(init_xavier)
    net[2].apply(init_42)
    xavier, fortytwo = numpy_of(net[0].weight), numpy_of(net[2].weight)
    net.apply(my_init)
    mine = numpy_of(net[0].weight)
    net[0].weight.data[:] += 1
    net[0].weight.data[0, 0] = 42
    edited = numpy_of(net[0].weight)
    wide = nn.Linear(500, 300)
    nn.init.kaiming_normal_(wide.weight, nonlinearity='relu')
    return {"normal": normal, "constant": constant, "xavier": xavier, "fortytwo": fortytwo,
            "mine": mine, "edited": edited, "kaiming": numpy_of(wide.weight)}


def d2l_custom_layers(L) -> dict:
    """d2l 5.4 and 5.1: CenteredLayer (fed a torch.FloatTensor, as d2l writes it), MyLinear
    computing from .data (so nothing reaches its parameters), FixedHiddenMLP with a constant
    weight, a shared layer and a while loop."""
    torch, nn, F = L.torch, L.nn, L.F

    class CenteredLayer(nn.Module):
        def __init__(self):
            super().__init__()

        def forward(self, X):
            return X - X.mean()

    class MyLinear(nn.Module):
        def __init__(self, in_units, units):
            super().__init__()
            self.weight = nn.Parameter(torch.randn(in_units, units))
            self.bias = nn.Parameter(torch.randn(units,))

        def forward(self, X):
            linear = torch.matmul(X, self.weight.data) + self.bias.data
            return F.relu(linear)

    class FixedHiddenMLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.rand_weight = torch.rand((20, 20), requires_grad=False)
            self.linear = nn.Linear(20, 20)

        def forward(self, X):
            X = self.linear(X)
            X = F.relu(torch.mm(X, self.rand_weight) + 1)
            X = self.linear(X)
            while X.abs().sum() > 1:
                X /= 2
            return X.sum()

    torch.manual_seed(12)
    centered = CenteredLayer()(torch.FloatTensor([1, 2, 3, 4, 5]))
    linear = MyLinear(5, 3)
    out = linear(torch.rand(2, 5))
    net = FixedHiddenMLP()
    o = net(torch.rand(2, 20))
    o.backward()
    return {"centered": numpy_of(centered), "out": numpy_of(out),
            "out_requires_grad": np.array(out.requires_grad), "o": numpy_of(o),
            "grad": numpy_of(net.linear.weight.grad)}


def d2l_file_io(L) -> dict:
    """d2l 5.5 读写文件: torch.save / torch.load of a tensor, a list, a dict and a state_dict,
    loaded into a clone that then computes the same outputs."""
    torch, nn, F = L.torch, L.nn, L.F

    class MLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.hidden = nn.Linear(20, 16)
            self.output = nn.Linear(16, 10)

        def forward(self, x):
            return self.output(F.relu(self.hidden(x)))

    torch.manual_seed(13)
    with tempfile.TemporaryDirectory() as folder:
        x = torch.arange(4)
        torch.save(x, os.path.join(folder, 'x-file'))
        x2 = torch.load(os.path.join(folder, 'x-file'))
        y = torch.zeros(4)
        torch.save([x, y], os.path.join(folder, 'x-files'))
        x3, y2 = torch.load(os.path.join(folder, 'x-files'))
        mydict = {'x': x, 'y': y}
        torch.save(mydict, os.path.join(folder, 'mydict'))
        mydict2 = torch.load(os.path.join(folder, 'mydict'))
        net = MLP()
        X = torch.randn(size=(2, 20))
        Y = net(X)
        torch.save(net.state_dict(), os.path.join(folder, 'mlp.params'))
        clone = MLP()
        clone.load_state_dict(torch.load(os.path.join(folder, 'mlp.params')))
        clone.eval()
        Y_clone = clone(X)
    return {"x2": x2.numpy(), "x3": x3.numpy(), "y2": numpy_of(y2), "dict_x": mydict2['x'].numpy(),
            "Y": numpy_of(Y), "same": numpy_of((Y_clone == Y).float())}


def d2l_momentum_from_scratch(L) -> dict:
    """d2l 11.6: sgd_momentum with states v ← βv + g written through v[:] and p[:] under
    no_grad, p.grad.data.zero_()."""
    torch = L.torch
    torch.manual_seed(14)
    X, y = torch.randn(10, 3), torch.randn(10, 1)
    w = torch.zeros(3, 1, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    states = [torch.zeros_like(w), torch.zeros_like(b)]

    def sgd_momentum(params, states, hyperparams):
        for p, v in zip(params, states):
            with torch.no_grad():
                v[:] = hyperparams['momentum'] * v + p.grad
                p[:] -= hyperparams['lr'] * v
            p.grad.data.zero_()

    for _ in range(5):
        l = ((X @ w + b - y) ** 2 / 2).mean()
        l.backward()
        sgd_momentum([w, b], states, {'lr': 0.1, 'momentum': 0.5})
    return {"w": numpy_of(w), "b": numpy_of(b), "v": numpy_of(states[0]), "X": numpy_of(X),
            "y": numpy_of(y)}


def d2l_adam_from_scratch(L) -> dict:
    """d2l 11.10: adam with bias-corrected moments, the step count kept in hyperparams['t']."""
    torch = L.torch
    torch.manual_seed(15)
    X, y = torch.randn(10, 3), torch.randn(10, 1)
    w = torch.normal(0, 0.01, (3, 1), requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    start = numpy_of(w)

    def init_adam_states(feature_dim):
        v_w, v_b = torch.zeros((feature_dim, 1)), torch.zeros(1)
        s_w, s_b = torch.zeros((feature_dim, 1)), torch.zeros(1)
        return ((v_w, s_w), (v_b, s_b))

    def adam(params, states, hyperparams):
        beta1, beta2, eps = 0.9, 0.999, 1e-6
        for p, (v, s) in zip(params, states):
            with torch.no_grad():
                v[:] = beta1 * v + (1 - beta1) * p.grad
                s[:] = beta2 * s + (1 - beta2) * torch.square(p.grad)
                v_bias_corr = v / (1 - beta1 ** hyperparams['t'])
                s_bias_corr = s / (1 - beta2 ** hyperparams['t'])
                p[:] -= hyperparams['lr'] * v_bias_corr / (torch.sqrt(s_bias_corr) + eps)
            p.grad.data.zero_()
        hyperparams['t'] += 1

    states, hyperparams = init_adam_states(3), {'lr': 0.01, 't': 1}
    for _ in range(5):
        l = ((X @ w + b - y) ** 2 / 2).mean()
        l.backward()
        adam([w, b], states, hyperparams)
    return {"w": numpy_of(w), "b": numpy_of(b), "s": numpy_of(states[0][1]), "start": start,
            "X": numpy_of(X), "y": numpy_of(y)}


def d2l_grad_clipping(L) -> dict:
    """d2l 8.5: grad_clipping by hand, norm = sqrt(Σ Σ g²), param.grad[:] *= θ/norm."""
    torch, nn = L.torch, L.nn
    torch.manual_seed(16)
    net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
    X, y = torch.randn(6, 3) * 10, torch.randn(6, 1) * 10
    ((net(X) - y) ** 2).mean().backward()

    def grad_clipping(net, theta):
        params = [p for p in net.parameters() if p.requires_grad]
        norm = torch.sqrt(sum(torch.sum((p.grad ** 2)) for p in params))
        if norm > theta:
            for param in params:
                param.grad[:] *= theta / norm
        return norm

    norm = grad_clipping(net, 1.0)
    after = torch.sqrt(sum(torch.sum(p.grad ** 2) for p in net.parameters()))
    return {"norm": numpy_of(norm), "after": numpy_of(after), "grad": numpy_of(net[0].weight.grad)}


def d2l_accuracy(L) -> dict:
    """d2l 3.6: y_hat[[0, 1], y] picks each row's class; accuracy counts argmax hits."""
    torch = L.torch
    y_hat = torch.tensor([[0.1, 0.3, 0.6], [0.3, 0.2, 0.5]])
    y = torch.tensor([0, 2])

    def accuracy(y_hat, y):
        if len(y_hat.shape) > 1 and y_hat.shape[1] > 1:
            y_hat = y_hat.argmax(axis=1)
        cmp = y_hat.type(y.dtype) == y
        return float(cmp.type(y.dtype).sum())

    torch.manual_seed(17)
    logits, labels = torch.randn(10, 4), torch.randint(0, 4, (10,))
    rate = (logits.argmax(dim=1) == labels).float().mean()
    return {"picked": numpy_of(y_hat[[0, 1], y]), "accuracy": np.array(accuracy(y_hat, y) / len(y)),
            "rate": numpy_of(rate), "logits": numpy_of(logits), "labels": labels.numpy()}


# == PyTorch's tutorials ====================================================================

def blitz_autograd(L) -> dict:
    """The 60-minute blitz, autograd: out = mean(3(x + 2)²) gives x.grad = 4.5; a vector-
    Jacobian product through a while loop on y.data.norm(); requires_grad inside no_grad."""
    torch = L.torch
    x = torch.ones(2, 2, requires_grad=True)
    y = x + 2
    z = y * y * 3
    out = z.mean()
    out.backward()
    grad = numpy_of(x.grad)
    torch.manual_seed(18)
    x = torch.randn(3, requires_grad=True)
    y = x * 2
    while y.data.norm() < 1000:
        y = y * 2
    v = torch.tensor([0.1, 1.0, 0.0001], dtype=torch.float)
    y.backward(v)
    flags = [x.requires_grad, (x ** 2).requires_grad]
    with torch.no_grad():
        flags.append((x ** 2).requires_grad)
    return {"out": numpy_of(out), "grad": grad, "y": numpy_of(y), "x": numpy_of(x),
            "vjp": numpy_of(x.grad), "flags": np.array(flags)}


def blitz_neural_network(L) -> dict:
    """The 60-minute blitz, neural networks: the LeNet-like Net with num_flat_features,
    out.backward(torch.randn(1, 10)), MSELoss, the hand update f.data.sub_(f.grad.data * lr),
    then optim.SGD."""
    torch, nn, F = L.torch, L.nn, L.F

    class Net(nn.Module):
        def __init__(self):
            super(Net, self).__init__()
            self.conv1 = nn.Conv2d(1, 6, 3)
            self.conv2 = nn.Conv2d(6, 16, 3)
            self.fc1 = nn.Linear(16 * 6 * 6, 120)
            self.fc2 = nn.Linear(120, 84)
            self.fc3 = nn.Linear(84, 10)

        def forward(self, x):
            x = F.max_pool2d(F.relu(self.conv1(x)), (2, 2))
            x = F.max_pool2d(F.relu(self.conv2(x)), 2)
            x = x.view(-1, self.num_flat_features(x))
            x = F.relu(self.fc1(x))
            x = F.relu(self.fc2(x))
            x = self.fc3(x)
            return x

        def num_flat_features(self, x):
            size = x.size()[1:]
            num_features = 1
            for s in size:
                num_features *= s
            return num_features

    torch.manual_seed(19)
    net = Net()
    params = list(net.parameters())
    input = torch.randn(1, 1, 32, 32)
    out = net(input)
    net.zero_grad()
    out.backward(torch.randn(1, 10))
    first = numpy_of(net.conv1.bias.grad)
    output = net(input)
    target = torch.randn(10).view(1, -1)
    criterion = nn.MSELoss()
    loss = criterion(output, target)
    net.zero_grad()
    before = net.conv1.bias.grad
    loss.backward()
    after = numpy_of(net.conv1.bias.grad)
    learning_rate = 0.01
    for f in net.parameters():
        f.data.sub_(f.grad.data * learning_rate)
    optimizer = torch.optim.SGD(net.parameters(), lr=0.01)
    optimizer.zero_grad()
    loss2 = criterion(net(input), target)
    loss2.backward()
    optimizer.step()
    return {"count": np.array(len(params)), "size0": np.array(params[0].size()),
            "out": numpy_of(out), "first": first, "before_is_none": np.array(before is None),
            "after": after, "loss": numpy_of(loss), "loss2": numpy_of(loss2),
            "fc3": numpy_of(net.fc3.weight)}


def cifar_tutorial_accuracy(L) -> dict:
    """The CIFAR-10 tutorial's test loop: _, predicted = torch.max(outputs.data, 1), per-class
    counts from (predicted == labels).squeeze()."""
    torch, nn = L.torch, L.nn
    torch.manual_seed(20)
    net = nn.Sequential(nn.Flatten(), nn.Linear(12, 5))
    correct, total, class_correct = 0, 0, [0.] * 5
    with torch.no_grad():
        for _ in range(3):
            images, labels = torch.randn(4, 3, 2, 2), torch.randint(0, 5, (4,))
            outputs = net(images)
            _, predicted = torch.max(outputs.data, 1)
            total += labels.size(0)
            correct += (predicted == labels).sum().item()
            c = (predicted == labels).squeeze()
            for i in range(4):
                label = labels[i]
                class_correct[label] += c[i].item()
    return {"accuracy": np.array(100 * correct / total), "class_correct": np.array(class_correct)}


def regression_on_linspace(L) -> dict:
    """The classic first regression (x = unsqueeze(linspace(-1, 1, 100)), y = x² + noise), a
    two-layer Net, 50 SGD steps."""
    torch, nn, F = L.torch, L.nn, L.F
    torch.manual_seed(21)
    x = torch.unsqueeze(torch.linspace(-1, 1, 100), dim=1)
    y = x.pow(2) + 0.2 * torch.rand(x.size())

    class Net(nn.Module):
        def __init__(self, n_feature, n_hidden, n_output):
            super(Net, self).__init__()
            self.hidden = nn.Linear(n_feature, n_hidden)
            self.predict = nn.Linear(n_hidden, n_output)

        def forward(self, x):
            return self.predict(F.relu(self.hidden(x)))

    net = Net(1, 10, 1)
    optimizer = torch.optim.SGD(net.parameters(), lr=0.2)
    loss_func = nn.MSELoss()
    losses = []
    for t in range(50):
        loss = loss_func(net(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return {"x": numpy_of(x), "losses": np.array(losses), "w": numpy_of(net.predict.weight)}


# == CS231n ===================================================================================

def cs231n_softmax_loss(L) -> dict:
    """softmax_loss_vectorized: scores shifted by their row max, loss with L2 regularisation,
    dW by hand (dscores[range(N), y] -= 1) beside autograd's."""
    torch = L.torch
    torch.manual_seed(22)
    W = torch.randn(5, 3) * 0.01
    W.requires_grad_()
    X, y, reg = torch.randn(6, 5), torch.tensor([0, 1, 2, 2, 1, 0]), 0.1
    scores = X.mm(W)
    scores = scores - scores.max(dim=1, keepdim=True)[0]
    probs = scores.exp() / scores.exp().sum(dim=1, keepdim=True)
    loss = -probs[torch.arange(6), y].log().mean() + reg * (W * W).sum()
    loss.backward()
    dscores = probs.detach().clone()
    dscores[torch.arange(6), y] -= 1
    dW = X.t().mm(dscores) / 6 + 2 * reg * W.detach()
    return {"loss": numpy_of(loss), "grad": numpy_of(W.grad), "dW": numpy_of(dW),
            "W": numpy_of(W), "X": numpy_of(X)}


def cs231n_batchnorm_backward(L) -> dict:
    """batchnorm_backward_alt: the one-line dx formula against autograd, dgamma, dbeta."""
    torch = L.torch
    torch.manual_seed(23)
    x = torch.randn(4, 3, requires_grad=True)
    gamma, beta = torch.randn(3, requires_grad=True), torch.randn(3, requires_grad=True)
    eps, N = 1e-5, 4
    mu = x.mean(dim=0)
    xc = x - mu
    var = (xc ** 2).mean(dim=0)
    std = torch.sqrt(var + eps)
    xhat = xc / std
    out = gamma * xhat + beta
    dout = torch.randn(4, 3)
    out.backward(dout)
    with torch.no_grad():
        dxhat = dout * gamma
        dx = (1.0 / N) / std * (N * dxhat - dxhat.sum(dim=0) - xhat * (dxhat * xhat).sum(dim=0))
    return {"dx": numpy_of(x.grad), "dx_by_hand": numpy_of(dx), "dgamma": numpy_of(gamma.grad),
            "dbeta": numpy_of(beta.grad), "x": numpy_of(x), "g": numpy_of(gamma),
            "dout": numpy_of(dout)}


def cs231n_layer_functions(L) -> dict:
    """affine_forward/affine_backward and relu_forward/relu_backward as autograd.Functions
    (x reshaped to rows, the cache in ctx), each checked with gradcheck, then a two-layer score
    written with them."""
    torch = L.torch

    class Affine(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, w, b):
            ctx.save_for_backward(x, w)
            return x.reshape(x.shape[0], -1).mm(w) + b

        @staticmethod
        def backward(ctx, dout):
            x, w = ctx.saved_tensors
            dx = dout.mm(w.t()).reshape(x.shape)
            dw = x.reshape(x.shape[0], -1).t().mm(dout)
            db = dout.sum(dim=0)
            return dx, dw, db

    class ReLU(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.clamp(min=0)

        @staticmethod
        def backward(ctx, dout):
            x, = ctx.saved_tensors
            dx = dout.clone()
            dx[x <= 0] = 0
            return dx

    torch.manual_seed(24)
    x = torch.randn(3, 2, 2, dtype=torch.float64, requires_grad=True)
    w = torch.randn(4, 5, dtype=torch.float64, requires_grad=True)
    b = torch.randn(5, dtype=torch.float64, requires_grad=True)
    checked = [torch.autograd.gradcheck(Affine.apply, (x, w, b)),
               torch.autograd.gradcheck(ReLU.apply, (x,))]
    w2 = torch.randn(5, 2, dtype=torch.float64, requires_grad=True)
    scores = ReLU.apply(Affine.apply(x, w, b)).mm(w2)
    scores.sum().backward()
    return {"checked": np.array(checked), "scores": numpy_of(scores), "x_grad": numpy_of(x.grad),
            "w_grad": numpy_of(w.grad)}


# == 《深度学习入门》 (the book of the notes' seed 003) =========================================

def book_layer_classes(L) -> dict:
    """§5.4–5.6: MulLayer for the apples (100 yen × 2 × tax 1.1), then Affine, Sigmoid and
    SoftmaxWithLoss with hand backward passes, beside autograd on the same tensors."""
    torch = L.torch

    class MulLayer:
        def forward(self, x, y):
            self.x, self.y = x, y
            return x * y

        def backward(self, dout):
            return dout * self.y, dout * self.x

    apple = torch.tensor(100.0, requires_grad=True)
    apple_num = torch.tensor(2.0, requires_grad=True)
    tax = torch.tensor(1.1, requires_grad=True)
    mul_apple_layer, mul_tax_layer = MulLayer(), MulLayer()
    price = mul_tax_layer.forward(mul_apple_layer.forward(apple, apple_num), tax)
    dapple_price, dtax = mul_tax_layer.backward(1)
    dapple, dapple_num = mul_apple_layer.backward(dapple_price)
    price.backward()

    class Sigmoid:
        def forward(self, x):
            out = 1 / (1 + torch.exp(-x))
            self.out = out
            return out

        def backward(self, dout):
            return dout * (1.0 - self.out) * self.out

    class Affine:
        def __init__(self, W, b):
            self.W, self.b = W, b

        def forward(self, x):
            self.x = x
            return torch.mm(x, self.W) + self.b

        def backward(self, dout):
            dx = torch.mm(dout, self.W.T)
            self.dW = torch.mm(self.x.T, dout)
            self.db = torch.sum(dout, dim=0)
            return dx

    class SoftmaxWithLoss:
        def forward(self, x, t):
            self.t = t
            self.y = torch.softmax(x, dim=1)
            return -torch.sum(t * torch.log(self.y + 1e-7)) / x.shape[0]

        def backward(self, dout=1):
            return (self.y - self.t) / self.t.shape[0]

    torch.manual_seed(25)
    W, b = torch.randn(4, 3, requires_grad=True), torch.zeros(3, requires_grad=True)
    x, t = torch.randn(5, 4), torch.eye(3)[torch.tensor([0, 2, 1, 1, 0])]
    affine, sigmoid, last = Affine(W, b), Sigmoid(), SoftmaxWithLoss()
    loss = last.forward(sigmoid.forward(affine.forward(x)), t)
    with torch.no_grad():
        affine.backward(sigmoid.backward(last.backward()))
    loss.backward()
    return {"price": numpy_of(price),
            "by_hand": np.array([float(dapple), float(dapple_num), float(dtax)]),
            "autograd": np.array([apple.grad.item(), apple_num.grad.item(), tax.grad.item()]),
            "dW": numpy_of(affine.dW), "W_grad": numpy_of(W.grad), "db": numpy_of(affine.db),
            "b_grad": numpy_of(b.grad)}


def book_numerical_gradient(L) -> dict:
    """§4.3–4.4: numerical_gradient by central differences written into grad[idx], then
    gradient_descent on x0² + x1² from (−3, 4), lr 0.1, 100 steps."""
    torch = L.torch

    def function_2(x):
        return x[0] ** 2 + x[1] ** 2

    def numerical_gradient(f, x):
        h = 1e-4
        grad = torch.zeros_like(x)
        for idx in range(x.numel()):
            tmp_val = x[idx].item()
            x[idx] = tmp_val + h
            fxh1 = f(x)
            x[idx] = tmp_val - h
            fxh2 = f(x)
            grad[idx] = (fxh1 - fxh2) / (2 * h)
            x[idx] = tmp_val
        return grad

    def gradient_descent(f, init_x, lr=0.01, step_num=100):
        x = init_x
        for i in range(step_num):
            x -= lr * numerical_gradient(f, x)
        return x

    gradient = numerical_gradient(function_2, torch.tensor([3.0, 4.0]))
    found = gradient_descent(function_2, torch.tensor([-3.0, 4.0]), lr=0.1, step_num=100)
    x = torch.tensor([3.0, 4.0], requires_grad=True)
    function_2(x).backward()
    return {"numerical": numpy_of(gradient), "descent": numpy_of(found),
            "autograd": numpy_of(x.grad)}


def book_softmax_overflow(L) -> dict:
    """§3.5.2: softmax of [1010, 1000, 990] overflows; subtracting the max fixes it."""
    torch, F = L.torch, L.F
    a = torch.tensor([1010., 1000., 990.])
    naive = torch.exp(a) / torch.sum(torch.exp(a))
    c = torch.max(a)
    stable = torch.exp(a - c) / torch.sum(torch.exp(a - c))
    return {"naive": numpy_of(naive), "stable": numpy_of(stable),
            "functional": numpy_of(F.softmax(a, dim=0))}


def book_perceptron_gates(L) -> dict:
    """§2.3–2.5: AND, NAND and OR as perceptrons with weights and a bias; XOR by stacking."""
    torch = L.torch

    def gate(w, b):
        def perceptron(x1, x2):
            x = torch.tensor([x1, x2], dtype=torch.float)
            return 0 if torch.sum(torch.tensor(w) * x) + b <= 0 else 1
        return perceptron

    AND, NAND, OR = gate([0.5, 0.5], -0.7), gate([-0.5, -0.5], 0.7), gate([0.5, 0.5], -0.2)

    def XOR(x1, x2):
        return AND(NAND(x1, x2), OR(x1, x2))

    points = [(0, 0), (1, 0), (0, 1), (1, 1)]
    return {name: np.array([g(*p) for p in points])
            for name, g in (("AND", AND), ("NAND", NAND), ("OR", OR), ("XOR", XOR))}


def book_dropout(L) -> dict:
    """§6.4.3: the book's Dropout (mask = rand > ratio, no scaling in training; scaled by
    1 − ratio at test time), its backward routing dout through the mask."""
    torch = L.torch

    class Dropout:
        def __init__(self, dropout_ratio=0.5):
            self.dropout_ratio = dropout_ratio
            self.mask = None

        def forward(self, x, train_flg=True):
            if train_flg:
                self.mask = torch.rand(*x.shape) > self.dropout_ratio
                return x * self.mask
            return x * (1.0 - self.dropout_ratio)

        def backward(self, dout):
            return dout * self.mask

    torch.manual_seed(26)
    layer = Dropout(0.5)
    x = torch.randn(3, 4, requires_grad=True)
    y = layer.forward(x)
    y.sum().backward()
    return {"x": numpy_of(x), "y": numpy_of(y), "grad": numpy_of(x.grad),
            "by_hand": numpy_of(layer.backward(torch.ones(3, 4))),
            "test": numpy_of(layer.forward(x, train_flg=False)),
            "mask": layer.mask.numpy().astype(float)}


# == the idioms around them =====================================================================

def custom_functions(L) -> dict:
    """torch.autograd.Function for exp (saving its result), tanh written with exp, and clamp
    with non-tensor arguments (None gradients for them), each through gradcheck."""
    torch = L.torch

    class Exp(torch.autograd.Function):
        @staticmethod
        def forward(ctx, i):
            result = i.exp()
            ctx.save_for_backward(result)
            return result

        @staticmethod
        def backward(ctx, grad_output):
            result, = ctx.saved_tensors
            return grad_output * result

    class MyTanh(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            y = (x.exp() - (-x).exp()) / (x.exp() + (-x).exp())
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, grad_output):
            y, = ctx.saved_tensors
            return grad_output * (1 - y * y)

    class MyClamp(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, lo, hi):
            ctx.save_for_backward(x)
            ctx.lo, ctx.hi = lo, hi
            return x.clamp(lo, hi)

        @staticmethod
        def backward(ctx, grad_output):
            x, = ctx.saved_tensors
            inside = (x >= ctx.lo) & (x <= ctx.hi)
            return grad_output * inside.to(grad_output.dtype), None, None

    torch.manual_seed(27)
    x = torch.randn(5, dtype=torch.float64, requires_grad=True)
    checked = [torch.autograd.gradcheck(Exp.apply, (x,)),
               torch.autograd.gradcheck(MyTanh.apply, (x,)),
               torch.autograd.gradcheck(lambda x: MyClamp.apply(x, -0.5, 0.5), (x,))]
    y = Exp.apply(x) + MyTanh.apply(x) * MyClamp.apply(x, -0.5, 0.5)
    y.sum().backward()
    return {"checked": np.array(checked), "x": numpy_of(x), "y": numpy_of(y),
            "grad": numpy_of(x.grad)}


def gradient_accumulation(L) -> dict:
    """Two half-batches, each loss / 2, backward twice before one step: the same gradient as
    the whole batch at once (zero_grad between)."""
    torch, nn = L.torch, L.nn
    torch.manual_seed(28)
    net = nn.Linear(3, 2)
    X, y = torch.randn(8, 3), torch.randn(8, 2)
    loss = nn.MSELoss()
    net.zero_grad()
    for i in range(2):
        l = loss(net(X[4 * i:4 * i + 4]), y[4 * i:4 * i + 4]) / 2
        l.backward()
    accumulated = [numpy_of(p.grad) for p in net.parameters()]
    net.zero_grad()
    loss(net(X), y).backward()
    return {"accumulated_w": accumulated[0], "accumulated_b": accumulated[1],
            "whole_w": numpy_of(net.weight.grad), "whole_b": numpy_of(net.bias.grad),
            "W": numpy_of(net.weight), "b": numpy_of(net.bias), "X": numpy_of(X), "y": numpy_of(y)}


def masks_cat_stack_where(L) -> dict:
    """Boolean-mask indexing, torch.cat, torch.stack, torch.where, integer-list columns,
    x.max(dim=1) values and indices: one loss through all of them."""
    torch = L.torch
    torch.manual_seed(29)
    x = torch.randn(4, 5, requires_grad=True)
    mask = x > 0
    loss = (x[mask].sum() + torch.cat((x, x * 2), dim=0).mean()
            + torch.stack([x, x ** 2], dim=1)[:, 1].sum()
            + (torch.where(x > 0, x, torch.zeros_like(x)) ** 2).sum() + x[:, [0, 2]].sum())
    loss.backward()
    values, indices = x.max(dim=1)
    return {"loss": numpy_of(loss), "grad": numpy_of(x.grad), "values": numpy_of(values),
            "indices": indices.numpy(), "positives": np.array(mask.sum().item()), "x": numpy_of(x)}


def gather_and_nll(L) -> dict:
    """Picking each row's class three ways: gather(1, y.view(-1, 1)), y_hat[range(n), y], and
    log_softmax + gather as a hand-made cross-entropy, against F.cross_entropy."""
    torch, F = L.torch, L.F
    torch.manual_seed(30)
    y_hat = torch.randn(4, 3, requires_grad=True)
    y = torch.tensor([0, 2, 1, 1])
    a = y_hat.gather(1, y.view(-1, 1)).sum()
    b = y_hat[range(len(y_hat)), y].sum()
    c = y_hat.log_softmax(dim=1).gather(1, y.unsqueeze(1)).squeeze(1).neg().mean()
    (a + b + c).backward()
    return {"a": numpy_of(a), "c": numpy_of(c),
            "cross_entropy": numpy_of(F.cross_entropy(y_hat, y)),
            "grad": numpy_of(y_hat.grad), "y_hat": numpy_of(y_hat)}


def train_and_eval_modes(L) -> dict:
    """model.train() / model.eval() with BatchNorm1d and Dropout: two training passes draw two
    masks and move the running statistics; evaluation is deterministic."""
    torch, nn = L.torch, L.nn
    torch.manual_seed(31)
    net = nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1d(6), nn.ReLU(), nn.Dropout(0.5),
                        nn.Linear(6, 2))
    X = torch.randn(8, 4)
    net.train()
    first, second = net(X), net(X)
    net.eval()
    third, fourth = net(X), net(X)
    return {"first": numpy_of(first), "second": numpy_of(second), "eval": numpy_of(third),
            "eval_again": numpy_of(fourth), "running_mean": numpy_of(net[1].running_mean),
            "running_var": numpy_of(net[1].running_var),
            "tracked": np.array(net[1].num_batches_tracked.item()),
            "dropout_training": np.array(net[3].training)}


def logistic_regression_bce(L) -> dict:
    """Logistic regression with nn.BCEWithLogitsLoss, then nn.BCELoss on the probabilities and
    the accuracy of prob > 0.5."""
    torch, nn = L.torch, L.nn
    torch.manual_seed(32)
    X = torch.randn(40, 2)
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).to(X.dtype).reshape(-1, 1)
    model = nn.Linear(2, 1)
    start = np.concatenate([numpy_of(model.weight).ravel(), numpy_of(model.bias)])
    criterion = nn.BCEWithLogitsLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    losses = []
    for _ in range(20):
        optimizer.zero_grad()
        loss = criterion(model(X), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    prob = torch.sigmoid(model(X))
    accuracy = ((prob > 0.5).to(y.dtype) == y).to(y.dtype).mean()
    return {"losses": np.array(losses), "accuracy": numpy_of(accuracy),
            "bce": numpy_of(nn.BCELoss()(prob, y)), "w": numpy_of(model.weight),
            "start": start, "X": numpy_of(X)}


def cross_entropy_sum_by_hand(L) -> dict:
    """F.cross_entropy(reduction='sum') and its gradient softmax − one_hot, checked the way
    CS231n checks: the largest absolute difference (of a tensor that requires grad)."""
    torch, F = L.torch, L.F
    torch.manual_seed(33)
    logits = torch.randn(5, 4, requires_grad=True)
    target = torch.tensor([1, 0, 3, 3, 2])
    loss = F.cross_entropy(logits, target, reduction='sum')
    loss.backward()
    by_hand = F.softmax(logits, dim=1) - F.one_hot(target, 4)
    return {"loss": numpy_of(loss), "grad": numpy_of(logits.grad),
            "largest_difference": numpy_of((logits.grad - by_hand).abs().max()),
            "logits": numpy_of(logits)}


def optimisers_on_xor(L) -> dict:
    """One 2-8-1 tanh network on XOR trained 30 steps by each of Adam, RMSprop, Adagrad and
    SGD with momentum, from the same start."""
    torch, nn = L.torch, L.nn
    found = {}
    for name, make in (("adam", lambda p: torch.optim.Adam(p, lr=0.01)),
                       ("rmsprop", lambda p: torch.optim.RMSprop(p, lr=0.01)),
                       ("adagrad", lambda p: torch.optim.Adagrad(p, lr=0.1)),
                       ("momentum", lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9))):
        torch.manual_seed(34)
        net = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1))
        X = torch.tensor([[0., 0.], [0., 1.], [1., 0.], [1., 1.]])
        y = torch.tensor([[0.], [1.], [1.], [0.]])
        optimizer = make(net.parameters())
        losses = []
        for _ in range(30):
            optimizer.zero_grad()
            loss = nn.MSELoss()(net(X), y)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        found[name] = np.array(losses)
        found[name + "_W"] = numpy_of(net[0].weight)
    return found


def learning_rate_by_hand(L) -> dict:
    """Three parameter groups (weight decay on one, its own lr on another), every group's lr
    halved by hand each epoch through param_groups."""
    torch, nn = L.torch, L.nn
    torch.manual_seed(35)
    net = nn.Sequential(nn.Linear(3, 3), nn.ReLU(), nn.Linear(3, 1))
    trainer = torch.optim.SGD([{"params": net[0].weight, 'weight_decay': 0.1},
                               {"params": net[0].bias},
                               {"params": net[2].parameters(), "lr": 0.01}], lr=0.1)
    X, y = torch.randn(5, 3), torch.randn(5, 1)
    for epoch in range(4):
        trainer.zero_grad()
        ((net(X) - y) ** 2).mean().backward()
        trainer.step()
        for param_group in trainer.param_groups:
            param_group['lr'] *= 0.5
    return {"W0": numpy_of(net[0].weight), "b0": numpy_of(net[0].bias),
            "W2": numpy_of(net[2].weight), "lrs": np.array([g['lr'] for g in trainer.param_groups])}


def frozen_layer(L) -> dict:
    """Fine-tuning style: the first layer's requires_grad set False, the optimiser given only
    the parameters that still require a gradient."""
    torch, nn = L.torch, L.nn
    torch.manual_seed(36)
    net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    for param in net[0].parameters():
        param.requires_grad = False
    optimizer = torch.optim.SGD(filter(lambda p: p.requires_grad, net.parameters()), lr=0.1)
    X, y = torch.randn(5, 3), torch.tensor([0, 1, 1, 0, 1])
    before = numpy_of(net[0].weight)
    for _ in range(2):
        optimizer.zero_grad()
        nn.functional.cross_entropy(net(X), y).backward()
        optimizer.step()
    return {"W0": numpy_of(net[0].weight), "before": before, "W2": numpy_of(net[2].weight),
            "frozen_grad_is_none": np.array(net[0].weight.grad is None)}


def one_hot_targets(L) -> dict:
    """One-hot rows three ways: zeros(n, c).scatter_(1, y.unsqueeze(1), 1), eye(c)[y] and
    F.one_hot(y).float()."""
    torch, F = L.torch, L.F
    y = torch.tensor([2, 0, 1, 2])
    return {"scatter": numpy_of(torch.zeros(4, 3).scatter_(1, y.unsqueeze(1), 1)),
            "eye": numpy_of(torch.eye(3)[y]),
            "one_hot": numpy_of(F.one_hot(y, num_classes=3).float())}


def clip_grad_norm_builtin(L) -> dict:
    """nn.utils.clip_grad_norm_ between backward and step: returns the norm before clipping."""
    torch, nn = L.torch, L.nn
    torch.manual_seed(37)
    net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
    X, y = torch.randn(6, 3) * 10, torch.randn(6, 1) * 10
    nn.MSELoss()(net(X), y).backward()
    before = [numpy_of(p.grad) for p in net.parameters()]
    total = nn.utils.clip_grad_norm_(net.parameters(), max_norm=1.0)
    return {"total": numpy_of(total), "before": np.concatenate([g.ravel() for g in before]),
            "after": np.concatenate([numpy_of(p.grad).ravel() for p in net.parameters()])}


def step_decay_scheduler(L) -> dict:
    """The notes' step decay as torch.optim.lr_scheduler.StepLR, stepped once per epoch after
    optimizer.step()."""
    torch, nn = L.torch, L.nn
    torch.manual_seed(38)
    net = nn.Linear(2, 1)
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
    X, y = torch.randn(8, 2), torch.randn(8, 1)
    rates = [scheduler.get_last_lr()[0]]
    for epoch in range(6):
        optimizer.zero_grad()
        nn.MSELoss()(net(X), y).backward()
        optimizer.step()
        scheduler.step()
        rates.append(scheduler.get_last_lr()[0])
    return {"rates": np.array(rates), "w": numpy_of(net.weight)}


def checkpoint_and_resume(L) -> dict:
    """A checkpoint dict of the model's and the optimiser's state_dict (Adam's moments),
    saved, loaded into fresh objects, and training resumed: the same steps as never stopping."""
    torch, nn = L.torch, L.nn
    torch.manual_seed(39)
    X, y = torch.randn(8, 3), torch.randn(8, 1)

    def train(net, optimizer, steps):
        for _ in range(steps):
            optimizer.zero_grad()
            nn.MSELoss()(net(X), y).backward()
            optimizer.step()

    net = nn.Linear(3, 1)
    optimizer = torch.optim.Adam(net.parameters(), lr=0.1)
    train(net, optimizer, 3)
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, 'checkpoint.pt')
        torch.save({'epoch': 3, 'model_state_dict': net.state_dict(),
                    'optimizer_state_dict': optimizer.state_dict()}, path)
        train(net, optimizer, 2)
        checkpoint = torch.load(path)
    resumed = nn.Linear(3, 1)
    resumed_optimizer = torch.optim.Adam(resumed.parameters(), lr=0.5)
    resumed.load_state_dict(checkpoint['model_state_dict'])
    resumed_optimizer.load_state_dict(checkpoint['optimizer_state_dict'])
    train(resumed, resumed_optimizer, 2)
    return {"straight": numpy_of(net.weight), "resumed": numpy_of(resumed.weight),
            "epoch": np.array(checkpoint['epoch']),
            "lr": np.array(resumed_optimizer.param_groups[0]['lr'])}


def no_grad_decorator(L) -> dict:
    """@torch.no_grad() on an evaluation function: its outputs need no gradient."""
    torch, nn = L.torch, L.nn
    torch.manual_seed(40)
    net = nn.Linear(3, 1)

    @torch.no_grad()
    def evaluate(x):
        return net(x)

    x = torch.randn(4, 3)
    found = evaluate(x)
    return {"found": numpy_of(found), "requires_grad": np.array(found.requires_grad),
            "detached": numpy_of(net(x).detach()),
            "enabled_after": np.array(torch.is_grad_enabled())}


def numpy_bridge(L) -> dict:
    """torch.from_numpy shares the array (a change shows), torch.tensor copies it; view, .T,
    contiguous, size(0), numel()."""
    torch = L.torch
    a = np.arange(6.0).reshape(2, 3)
    shared, copied = torch.from_numpy(a), torch.tensor(a)
    a[0, 0] = 100
    return {"shared": numpy_of(shared), "copied": numpy_of(copied),
            "view": numpy_of(shared.view(3, 2)), "transposed": numpy_of(shared.T.contiguous()),
            "sizes": np.array([shared.size(0), shared.numel()])}


def topk_sort_chunk_split(L) -> dict:
    """The top-3 scores of each row (torch.topk, as a top-k accuracy reads them), a row
    ranked (torch.sort), an LSTM's gates cut from one product (chunk) and rows split by sizes,
    all differentiated together."""
    torch = L.torch
    torch.manual_seed(0)
    x = torch.randn(4, 6, requires_grad=True)
    values, indices = x.topk(3, dim=1)
    ranked, order = torch.sort(x[0], descending=True)
    i, f, g = x.chunk(3, dim=1)
    a, b = torch.split(x, [1, 3])
    loss = (values * 2).sum() + ranked[0] + (i * f).sum() + g.tanh().sum() + a.sum() - b.mean()
    loss.backward()
    return {"x": numpy_of(x.detach()), "values": numpy_of(values),
            "indices": numpy_of(indices), "order": numpy_of(order), "grad": numpy_of(x.grad)}


def writing_into_intermediates(L) -> dict:
    """A ReLU written as a mask assignment (h[h < 0] = 0) and an element of a clone zeroed,
    before backward: PyTorch records both writes."""
    torch = L.torch
    torch.manual_seed(1)
    x = torch.randn(5, requires_grad=True)
    h = x * 2
    h[h < 0] = 0
    y = x.clone()
    y[0] = 0.0
    (h.sum() + (y * y).sum()).backward()
    return {"x": numpy_of(x.detach()), "h": numpy_of(h.detach()), "grad": numpy_of(x.grad)}


SNIPPETS = [
    d2l_linear_regression_concise, d2l_softmax_regression_concise, d2l_dropout_from_scratch,
    d2l_dropout_concise, d2l_weight_decay_from_scratch, d2l_weight_decay_concise,
    d2l_batch_norm_from_scratch, d2l_lenet, d2l_autograd, d2l_activation_gradients,
    d2l_exploding_products, d2l_parameters, d2l_initialisation, d2l_custom_layers, d2l_file_io,
    d2l_momentum_from_scratch, d2l_adam_from_scratch, d2l_grad_clipping, d2l_accuracy,
    blitz_autograd, blitz_neural_network, cifar_tutorial_accuracy, regression_on_linspace,
    cs231n_softmax_loss, cs231n_batchnorm_backward, cs231n_layer_functions,
    book_layer_classes, book_numerical_gradient, book_softmax_overflow, book_perceptron_gates,
    book_dropout, custom_functions, gradient_accumulation, masks_cat_stack_where,
    gather_and_nll, train_and_eval_modes, logistic_regression_bce, cross_entropy_sum_by_hand,
    optimisers_on_xor, learning_rate_by_hand, frozen_layer, one_hot_targets,
    clip_grad_norm_builtin, step_decay_scheduler, checkpoint_and_resume, no_grad_decorator,
    numpy_bridge, topk_sort_chunk_split, writing_into_intermediates,
]


# == the tests ==================================================================================

def _compare(ours: dict, theirs: dict, label: str) -> None:
    assert sorted(ours) == sorted(theirs), label
    for name, expected in theirs.items():
        mine, expected = np.asarray(ours[name]), np.asarray(expected)
        if expected.dtype.kind in "US":
            np.testing.assert_array_equal(mine, expected, err_msg=f"{label}: {name}")
        else:
            np.testing.assert_allclose(np.asarray(mine, dtype=float),
                                       np.asarray(expected, dtype=float), **TOLERANCE,
                                       err_msg=f"{label}: {name}")


@needs_torch
@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("snippet", SNIPPETS, ids=lambda snippet: snippet.__name__)
def test_snippet_agrees_with_pytorch(snippet):
    ours = with_dtype(GRADTRACE, "float64", snippet)
    theirs = with_dtype(TORCH, "float64", snippet)
    _compare(ours, theirs, snippet.__name__)


# -- gradtrace alone: each snippet against numbers that do not come from gradtrace ------------

def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _check_linear_regression(r):
    # d2l prints errors of about 1e-4..1e-3: the data is y = X·[2, −3.4] + 4.2 + N(0, 0.01²)
    assert np.all(np.abs(r["w_error"]) < 2e-3) and abs(r["b_error"]) < 2e-3
    assert r["losses"][-1] < 2e-4  # MSELoss of the noise alone: 0.01² = 1e-4
    X, y, w, b = r["features"], r["labels"], r["start"].T, np.zeros(1)
    for _ in range(3):  # the same 300 steps in numpy: MSELoss's gradient 2·Xᵀr/10
        for i in range(0, 1000, 10):
            residual = X[i:i + 10] @ w + b - y[i:i + 10]
            w, b = w - 0.03 * 2 * X[i:i + 10].T @ residual / 10, b - 0.03 * 2 * residual.mean()
    np.testing.assert_allclose(r["w_error"], [2, -3.4] - w.ravel(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(r["b_error"], 4.2 - b[0], rtol=1e-9, atol=1e-12)


def _check_softmax_regression(r):
    # weights of N(0, 0.01²) on pixels in [0, 1): every class about 1/10 at the start
    assert r["losses"][0] == pytest.approx(64 * math.log(10), rel=0.02)
    X, y, W, b = r["X"].reshape(64, -1), r["y"], r["W_start"], r["b_start"]
    onehot = np.eye(10)[y]
    for step in range(3):  # the same steps in numpy: the mean loss's gradient (ŷ − y)/N
        probs = _softmax(X @ W.T + b)
        assert r["losses"][step] == pytest.approx(-np.log(probs[range(64), y]).sum(), rel=1e-12)
        delta = (probs - onehot) / 64
        W, b = W - 0.1 * delta.T @ X, b - 0.1 * delta.sum(axis=0)
    np.testing.assert_allclose(r["W"], W, rtol=1e-10, atol=1e-15)
    assert r["correct"] == np.sum((X @ W.T + b).argmax(axis=1) == y)


def _check_dropout_from_scratch(r):
    X = np.arange(16.0).reshape(2, 8)
    np.testing.assert_array_equal(r["p0"], X)  # d2l: p = 0 gives X back
    np.testing.assert_array_equal(r["p1"], np.zeros((2, 8)))  # p = 1 drops everything
    kept = r["p05"] != 0
    np.testing.assert_array_equal(r["p05"][kept], 2 * X[kept])  # survivors scaled by 1/(1−p)
    assert 0 < kept.sum() < 15 and r["loss"] > 0


def _check_dropout_concise(r):
    np.testing.assert_array_equal(r["eval"], r["eval_again"])  # eval(): no masks
    # weights of N(0, 0.01²): the logits are about the last layer's bias alone
    expected = -np.log(_softmax(r["bias_start"][None, :])[0, r["y"]]).mean()
    assert r["losses"][0] == pytest.approx(expected, rel=0.01)


def _check_weight_decay_from_scratch(r):
    # the same five epochs of minibatch SGD on ½(Xw + b − y)² + (λ/2)‖w‖², written in numpy
    w, b, X, y = r["start"].copy(), np.zeros(1), r["X"], r["y"]
    for _ in range(5):
        for i in range(0, 20, 5):
            residual = X[i:i + 5] @ w + b - y[i:i + 5]
            grad_w = X[i:i + 5].T @ residual + 5 * 3 * w  # the penalty is added to each example
            grad_b = residual.sum(axis=0)
            w, b = w - 0.003 * grad_w / 5, b - 0.003 * grad_b / 5
    np.testing.assert_allclose(r["w"], w, rtol=1e-10)
    np.testing.assert_allclose(r["b"], b, rtol=1e-10)
    assert np.all(np.diff(r["norms"]) < 0)  # d2l: ‖w‖ shrinks under the penalty


def _check_weight_decay_concise(r):
    X, y = r["X"], r["y"]
    w, b = r["start"][:4].reshape(1, 4), r["start"][4:]
    for _ in range(5):  # MSELoss's gradient, and λw on the weight only
        residual = X @ w.T + b - y
        w, b = (w - 0.05 * (2 * residual.T @ X / 10 + 0.3 * w),
                b - 0.05 * 2 * residual.mean(axis=0))
    np.testing.assert_allclose(r["optimizer"], w, rtol=1e-12)
    np.testing.assert_allclose(r["penalty"], w, rtol=1e-12)


def _check_batch_norm_from_scratch(r):
    assert r["losses"][-1] < r["losses"][0]
    # the first loss, forward in numpy: conv 3×3 → batch norm (γ = 1, β = 0) → σ → linear →
    # batch norm → σ → linear → cross-entropy
    X, W, b = r["X"][:, 0], r["start0_0"][:, 0], r["start0_1"]
    conv = np.array([[[[np.sum(image[i:i + 3, j:j + 3] * kernel) for j in range(4)]
                       for i in range(4)] for kernel in W] for image in X]) + b[:, None, None]

    def normalised(h, axes):
        return (h - h.mean(axis=axes, keepdims=True)) / np.sqrt(h.var(axis=axes, keepdims=True)
                                                                + 1e-5)

    hidden = _sigmoid(normalised(conv, (0, 2, 3))).reshape(6, -1)
    hidden = _sigmoid(normalised(hidden @ r["start4_0"].T + r["start4_1"], 0))
    scores = hidden @ r["start7_0"].T + r["start7_1"]
    expected = -np.log(_softmax(scores)[range(6), r["y"]]).mean()
    assert r["losses"][0] == pytest.approx(expected, rel=1e-10)
    # moving_mean ← 0.9·moving_mean + 0.1·batch mean, from 0: small after three batches
    assert np.all(np.abs(r["moving_mean"]) < 1) and r["moving_mean"].shape == (1, 3, 1, 1)
    assert r["moving_var"].shape == (1, 5) and np.all(r["moving_var"] > 0)
    assert np.all(np.isfinite(r["predicted"]))


def _check_lenet(r):
    # the shapes d2l 6.6 prints, layer by layer (zero-padded to four numbers)
    expected = [(1, 6, 28, 28), (1, 6, 28, 28), (1, 6, 14, 14), (1, 16, 10, 10),
                (1, 16, 10, 10), (1, 16, 5, 5), (1, 400), (1, 120), (1, 120), (1, 84),
                (1, 84), (1, 10)]
    np.testing.assert_array_equal(r["shapes"], [list(s) + [0] * (4 - len(s)) for s in expected])
    bound = math.sqrt(6 / (25 + 150))  # xavier_uniform_ of a (6, 1, 5, 5) filter bank
    assert np.all(np.abs(r["conv1_start"]) <= bound) and r["conv1_start"].std() > bound / 3
    assert not np.array_equal(r["conv1"], r["conv1_start"])


def _check_autograd(r):
    x = np.arange(4.0)  # the numbers d2l 2.5 prints
    np.testing.assert_array_equal(r["dot"], 4 * x)
    np.testing.assert_array_equal(r["sum"], np.ones(4))
    np.testing.assert_array_equal(r["square"], 2 * x)
    np.testing.assert_array_equal(r["detached"], x * x)
    np.testing.assert_array_equal(r["again"], 2 * x)
    assert r["a_grad"] == r["d_over_a"]  # f is linear in a: d = k·a


def _check_activation_gradients(r):
    x = r["x"]
    assert len(x) == 160 and x[80] == 2.0 ** -51  # PyTorch's 81st number (4.4e-16), not 0
    np.testing.assert_array_equal(r["relu"], (x > 0).astype(float))  # 1 at that 81st point
    np.testing.assert_allclose(r["sigmoid"], _sigmoid(x) * (1 - _sigmoid(x)), rtol=1e-12)
    np.testing.assert_allclose(r["tanh"], 1 - np.tanh(x) ** 2, rtol=1e-12, atol=1e-15)


def _check_exploding_products(r):
    product = r["factors"][0]
    for factor in r["factors"][1:]:
        product = product @ factor
    np.testing.assert_allclose(r["M"], product, rtol=1e-9)
    assert np.abs(r["M"]).max() > 1e15  # d2l: "the matrix product explodes"


def _check_parameters(r):
    assert r["names"].tolist() == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert r["no_grad_yet"] and r["same"] and r["count"] == 6  # shared: counted once
    assert r["out"].shape == (2, 1) and r["bias"].shape == (1,)
    np.testing.assert_array_equal(r["bias"], r["state_bias"])


def _check_initialisation(r):
    assert np.abs(r["normal"]).max() < 0.06  # N(0, 0.01²)
    np.testing.assert_array_equal(r["constant"], np.ones((8, 4)))
    assert np.abs(r["xavier"]).max() <= math.sqrt(6 / (4 + 8))
    np.testing.assert_array_equal(r["fortytwo"], np.full((1, 8), 42.0))
    assert np.all((r["mine"] == 0) | (np.abs(r["mine"]) >= 5))  # d2l's custom init
    assert r["edited"][0, 0] == 42
    np.testing.assert_array_equal(r["edited"].ravel()[1:], r["mine"].ravel()[1:] + 1)
    assert r["kaiming"].std() == pytest.approx(math.sqrt(2 / 500), rel=0.02)  # He: √(2/n)


def _check_custom_layers(r):
    np.testing.assert_array_equal(r["centered"], [-2, -1, 0, 1, 2])  # d2l 5.4 prints this
    assert not r["out_requires_grad"] and np.all(r["out"] >= 0)  # .data: nothing recorded
    assert abs(r["o"]) <= 1 and r["grad"].shape == (20, 20)


def _check_file_io(r):
    np.testing.assert_array_equal(r["x2"], np.arange(4))
    np.testing.assert_array_equal(r["x3"], np.arange(4))
    np.testing.assert_array_equal(r["y2"], np.zeros(4))
    np.testing.assert_array_equal(r["dict_x"], np.arange(4))
    np.testing.assert_array_equal(r["same"], np.ones((2, 10)))


def _check_momentum(r):
    X, y = r["X"], r["y"]
    w, b, v_w, v_b = np.zeros((3, 1)), np.zeros(1), np.zeros((3, 1)), np.zeros(1)
    for _ in range(5):  # v ← βv + g; p ← p − ε·v, the loss mean(½(Xw + b − y)²)
        residual = X @ w + b - y
        v_w, v_b = 0.5 * v_w + X.T @ residual / 10, 0.5 * v_b + residual.mean(axis=0)
        w, b = w - 0.1 * v_w, b - 0.1 * v_b
    np.testing.assert_allclose(r["w"], w, rtol=1e-12)
    np.testing.assert_allclose(r["b"], b, rtol=1e-12)
    np.testing.assert_allclose(r["v"], v_w, rtol=1e-12)


def _check_adam(r):
    X, y = r["X"], r["y"]
    params = [r["start"].copy(), np.zeros(1)]
    states = [[np.zeros_like(p), np.zeros_like(p)] for p in params]
    for t in range(1, 6):
        residual = X @ params[0] + params[1] - y
        grads = [X.T @ residual / 10, residual.mean(axis=0)]
        for p, g, s in zip(params, grads, states):
            s[0][...] = 0.9 * s[0] + 0.1 * g
            s[1][...] = 0.999 * s[1] + 0.001 * g * g
            p -= 0.01 * (s[0] / (1 - 0.9 ** t)) / (np.sqrt(s[1] / (1 - 0.999 ** t)) + 1e-6)
    np.testing.assert_allclose(r["w"], params[0], rtol=1e-10)
    np.testing.assert_allclose(r["b"], params[1], rtol=1e-10)
    np.testing.assert_allclose(r["s"], states[0][1], rtol=1e-10)


def _check_grad_clipping(r):
    assert r["norm"] > 1 and r["after"] == pytest.approx(1.0, rel=1e-12)


def _check_accuracy(r):
    np.testing.assert_allclose(r["picked"], [0.1, 0.5])  # d2l 3.6 prints tensor([0.1, 0.5])
    assert r["accuracy"] == 0.5
    # .float().mean(): a float32 number
    assert r["rate"] == np.float32(np.mean(r["logits"].argmax(axis=1) == r["labels"]))


def _check_blitz_autograd(r):
    assert r["out"] == 27.0  # the tutorial: out = 27, x.grad = 4.5 everywhere
    np.testing.assert_array_equal(r["grad"], np.full((2, 2), 4.5))
    scale = r["y"] / r["x"]  # y = x·2ᵏ, so the product with v is 2ᵏ·v (v given as float32)
    v = np.array([0.1, 1.0, 0.0001], dtype=np.float32).astype(float)
    np.testing.assert_allclose(r["vjp"], scale * v, rtol=1e-12)
    assert np.all(scale == scale[0]) and math.log2(scale[0]).is_integer()
    assert r["flags"].tolist() == [True, True, False]


def _check_blitz_network(r):
    assert r["count"] == 10 and r["size0"].tolist() == [6, 1, 3, 3]  # the tutorial's numbers
    assert r["before_is_none"] and r["out"].shape == (1, 10)
    assert not np.allclose(r["first"], r["after"])


def _check_cifar_accuracy(r):
    assert r["accuracy"] == pytest.approx(100 * r["class_correct"].sum() / 12)


def _check_regression(r):
    np.testing.assert_allclose(r["x"].ravel(), np.linspace(-1, 1, 100), rtol=0, atol=1e-15)
    assert r["losses"][-1] < r["losses"][0] / 2


def _check_cs231n_softmax(r):
    X, W = r["X"], r["W"]
    probs = _softmax(X @ W)
    onehot = np.eye(3)[[0, 1, 2, 2, 1, 0]]
    np.testing.assert_allclose(r["grad"], X.T @ (probs - onehot) / 6 + 2 * 0.1 * W, rtol=1e-10)
    np.testing.assert_allclose(r["dW"], r["grad"], rtol=1e-10)
    expected = -np.log(probs[range(6), [0, 1, 2, 2, 1, 0]]).mean() + 0.1 * (W * W).sum()
    assert r["loss"] == pytest.approx(expected, rel=1e-12)


def _check_batchnorm_backward(r):
    x, gamma, dout = r["x"], r["g"], r["dout"]
    std = np.sqrt(x.var(axis=0) + 1e-5)
    xhat = (x - x.mean(axis=0)) / std
    dxhat = dout * gamma  # CS231n's formula, in numpy
    dx = (4 * dxhat - dxhat.sum(axis=0) - xhat * (dxhat * xhat).sum(axis=0)) / (4 * std)
    np.testing.assert_allclose(r["dx"], dx, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(r["dx_by_hand"], dx, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(r["dgamma"], (dout * xhat).sum(axis=0), rtol=1e-10)
    np.testing.assert_allclose(r["dbeta"], dout.sum(axis=0), rtol=1e-12)


def _check_layer_functions(r):
    assert r["checked"].all() and r["scores"].shape == (3, 2)


def _check_book_layers(r):
    assert r["price"] == pytest.approx(220)  # the book's apples: 100 × 2 × 1.1
    np.testing.assert_allclose(r["by_hand"], [2.2, 110, 200])  # dapple, dapple_num, dtax
    np.testing.assert_allclose(r["autograd"], [2.2, 110, 200])
    # the book's (y − t)/N leaves out the 1e-7 its loss adds inside log: agreement to ~1e-6
    np.testing.assert_allclose(r["dW"], r["W_grad"], rtol=1e-5, atol=1e-9)
    np.testing.assert_allclose(r["db"], r["b_grad"], rtol=1e-5, atol=1e-9)


def _check_numerical_gradient(r):
    np.testing.assert_allclose(r["numerical"], [6.0, 8.0], rtol=1e-9)  # the book: [6. 8.]
    # the book: gradient_descent(function_2, [-3, 4], lr=0.1) → [-6.1e-10, 8.1e-10]
    np.testing.assert_allclose(r["descent"], [-6.11110793e-10, 8.14814391e-10], rtol=1e-6)
    np.testing.assert_array_equal(r["autograd"], [6.0, 8.0])


def _check_softmax_overflow(r):
    assert np.all(np.isnan(r["naive"]))  # the book: array([nan, nan, nan])
    expected = [9.99954600e-01, 4.53978686e-05, 2.06106005e-09]  # the book's numbers
    np.testing.assert_allclose(r["stable"], expected, rtol=1e-8)
    np.testing.assert_allclose(r["functional"], expected, rtol=1e-8)


def _check_perceptron(r):
    assert r["AND"].tolist() == [0, 0, 0, 1] and r["NAND"].tolist() == [1, 1, 1, 0]
    assert r["OR"].tolist() == [0, 1, 1, 1] and r["XOR"].tolist() == [0, 1, 1, 0]


def _check_book_dropout(r):
    np.testing.assert_array_equal(r["y"], r["x"] * r["mask"])
    np.testing.assert_array_equal(r["grad"], r["mask"])
    np.testing.assert_array_equal(r["by_hand"], r["mask"])
    np.testing.assert_allclose(r["test"], r["x"] * 0.5)


def _check_custom_functions(r):
    x = r["x"]
    assert r["checked"].all()
    clamp = np.clip(x, -0.5, 0.5)
    np.testing.assert_allclose(r["y"], np.exp(x) + np.tanh(x) * clamp, rtol=1e-12)
    inside = (np.abs(x) <= 0.5).astype(float)
    expected = np.exp(x) + (1 - np.tanh(x) ** 2) * clamp + np.tanh(x) * inside
    np.testing.assert_allclose(r["grad"], expected, rtol=1e-12)


def _check_accumulation(r):
    residual = r["X"] @ r["W"].T + r["b"] - r["y"]  # MSELoss: mean over the 8 × 2 elements
    np.testing.assert_allclose(r["whole_w"], 2 * residual.T @ r["X"] / 16, rtol=1e-12)
    np.testing.assert_allclose(r["whole_b"], 2 * residual.sum(axis=0) / 16, rtol=1e-12)
    np.testing.assert_allclose(r["accumulated_w"], r["whole_w"], rtol=1e-12)
    np.testing.assert_allclose(r["accumulated_b"], r["whole_b"], rtol=1e-12)


def _check_masks(r):
    x = r["x"]
    positive = (x > 0).astype(float)
    columns = np.zeros_like(x)
    columns[:, [0, 2]] = 1
    # x[mask].sum, cat(x, 2x).mean over 40, Σ(x²) of the stacked rows, Σ where(x>0, x, 0)²
    expected = positive + 3 / 40 + 2 * x + 2 * x * positive + columns
    np.testing.assert_allclose(r["grad"], expected, rtol=1e-12)
    np.testing.assert_array_equal(r["values"], x.max(axis=1))
    np.testing.assert_array_equal(r["indices"], x.argmax(axis=1))
    assert r["positives"] == positive.sum()


def _check_gather(r):
    y_hat, y = r["y_hat"], [0, 2, 1, 1]
    assert r["a"] == pytest.approx(y_hat[range(4), y].sum(), rel=1e-14)
    expected = -np.log(_softmax(y_hat)[range(4), y]).mean()
    assert r["c"] == pytest.approx(expected, rel=1e-12)
    assert r["cross_entropy"] == pytest.approx(expected, rel=1e-12)
    onehot = np.eye(3)[y]
    np.testing.assert_allclose(r["grad"], 2 * onehot + (_softmax(y_hat) - onehot) / 4, rtol=1e-12)


def _check_modes(r):
    assert not np.array_equal(r["first"], r["second"])  # two training passes, two masks
    np.testing.assert_array_equal(r["eval"], r["eval_again"])
    assert r["tracked"] == 2 and not r["dropout_training"]


def _check_logistic(r):
    assert r["losses"][-1] < r["losses"][0] and r["accuracy"] >= 0.8
    assert np.all(r["w"] > 0)  # the labels come from x0 + 0.5·x1 > 0
    X = r["X"]
    t = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(float)
    w, b = r["start"][:2], r["start"][2]
    for step in range(20):  # gradient descent on the mean of softplus(z) − t·z, in numpy
        z = X @ w + b
        assert r["losses"][step] == pytest.approx(np.mean(np.logaddexp(0, z) - t * z), rel=1e-12)
        delta = (_sigmoid(z) - t) / 40
        w, b = w - 0.5 * X.T @ delta, b - 0.5 * delta.sum()
    np.testing.assert_allclose(r["w"].ravel(), w, rtol=1e-10)
    p = _sigmoid(X @ w + b)
    assert r["bce"] == pytest.approx(-np.mean(t * np.log(p) + (1 - t) * np.log(1 - p)), rel=1e-10)


def _check_cross_entropy_sum(r):
    logits = r["logits"]
    target = [1, 0, 3, 3, 2]
    probs = _softmax(logits)
    assert r["loss"] == pytest.approx(-np.log(probs[range(5), target]).sum(), rel=1e-12)
    np.testing.assert_allclose(r["grad"], probs - np.eye(4)[target], rtol=1e-12, atol=1e-15)
    assert r["largest_difference"] < 1e-15


def _check_xor(r):
    for name in ("adam", "rmsprop", "adagrad", "momentum"):
        assert r[name][-1] < r[name][0], name
    assert r["adam"][0] == r["momentum"][0]  # the same start


def _check_learning_rates(r):
    np.testing.assert_allclose(r["lrs"], [0.1 / 16, 0.1 / 16, 0.01 / 16])


def _check_frozen(r):
    np.testing.assert_array_equal(r["W0"], r["before"])
    assert r["frozen_grad_is_none"]


def _check_one_hot(r):
    expected = np.eye(3)[[2, 0, 1, 2]]
    for name in ("scatter", "eye", "one_hot"):
        np.testing.assert_array_equal(r[name], expected)


def _check_clip_grad_norm(r):
    total = np.sqrt(np.sum(r["before"] ** 2))
    assert r["total"] == pytest.approx(total, rel=1e-12)
    np.testing.assert_allclose(r["after"], r["before"] / (total + 1e-6), rtol=1e-12)


def _check_step_decay(r):
    np.testing.assert_array_equal(r["rates"], [0.1, 0.1, 0.05, 0.05, 0.025, 0.025, 0.0125])


def _check_checkpoint(r):
    np.testing.assert_array_equal(r["resumed"], r["straight"])
    assert r["epoch"] == 3 and r["lr"] == 0.1  # the saved lr replaces the fresh 0.5


def _check_no_grad_decorator(r):
    assert not r["requires_grad"] and r["enabled_after"]
    np.testing.assert_array_equal(r["found"], r["detached"])


def _check_numpy_bridge(r):
    a = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(r["copied"], a)
    a[0, 0] = 100
    np.testing.assert_array_equal(r["shared"], a)
    np.testing.assert_array_equal(r["view"], a.reshape(3, 2))
    np.testing.assert_array_equal(r["transposed"], a.T)
    assert r["sizes"].tolist() == [2, 6]


def _check_topk_sort_chunk_split(r):
    x = r["x"]
    order = np.argsort(-x, axis=1, kind="stable")
    np.testing.assert_array_equal(r["indices"], order[:, :3])
    np.testing.assert_array_equal(r["values"], np.take_along_axis(x, order[:, :3], axis=1))
    np.testing.assert_array_equal(r["order"], order[0])
    grad = np.zeros_like(x)
    np.put_along_axis(grad, order[:, :3], 2.0, axis=1)  # d Σ 2·top3
    grad[0, order[0, 0]] += 1.0  # ranked[0]: the largest of row 0
    grad[:, 0:2] += x[:, 2:4]  # Σ i·f: each gate gets the other
    grad[:, 2:4] += x[:, 0:2]
    grad[:, 4:6] += 1 - np.tanh(x[:, 4:6]) ** 2
    grad[0] += 1.0  # a.sum()
    grad[1:] -= 1 / 18  # b.mean() over 3 × 6
    np.testing.assert_allclose(r["grad"], grad, rtol=1e-12)


def _check_writing_into_intermediates(r):
    x = r["x"]
    np.testing.assert_array_equal(r["h"], np.maximum(2 * x, 0))
    expected = 2.0 * (x > 0) + 2 * x * (np.arange(5) != 0)
    np.testing.assert_allclose(r["grad"], expected, rtol=1e-12)


CHECKS = {
    d2l_linear_regression_concise: _check_linear_regression,
    d2l_softmax_regression_concise: _check_softmax_regression,
    d2l_dropout_from_scratch: _check_dropout_from_scratch,
    d2l_dropout_concise: _check_dropout_concise,
    d2l_weight_decay_from_scratch: _check_weight_decay_from_scratch,
    d2l_weight_decay_concise: _check_weight_decay_concise,
    d2l_batch_norm_from_scratch: _check_batch_norm_from_scratch,
    d2l_lenet: _check_lenet,
    d2l_autograd: _check_autograd,
    d2l_activation_gradients: _check_activation_gradients,
    d2l_exploding_products: _check_exploding_products,
    d2l_parameters: _check_parameters,
    d2l_initialisation: _check_initialisation,
    d2l_custom_layers: _check_custom_layers,
    d2l_file_io: _check_file_io,
    d2l_momentum_from_scratch: _check_momentum,
    d2l_adam_from_scratch: _check_adam,
    d2l_grad_clipping: _check_grad_clipping,
    d2l_accuracy: _check_accuracy,
    blitz_autograd: _check_blitz_autograd,
    blitz_neural_network: _check_blitz_network,
    cifar_tutorial_accuracy: _check_cifar_accuracy,
    regression_on_linspace: _check_regression,
    cs231n_softmax_loss: _check_cs231n_softmax,
    cs231n_batchnorm_backward: _check_batchnorm_backward,
    cs231n_layer_functions: _check_layer_functions,
    book_layer_classes: _check_book_layers,
    book_numerical_gradient: _check_numerical_gradient,
    book_softmax_overflow: _check_softmax_overflow,
    book_perceptron_gates: _check_perceptron,
    book_dropout: _check_book_dropout,
    custom_functions: _check_custom_functions,
    gradient_accumulation: _check_accumulation,
    masks_cat_stack_where: _check_masks,
    gather_and_nll: _check_gather,
    train_and_eval_modes: _check_modes,
    logistic_regression_bce: _check_logistic,
    cross_entropy_sum_by_hand: _check_cross_entropy_sum,
    optimisers_on_xor: _check_xor,
    learning_rate_by_hand: _check_learning_rates,
    frozen_layer: _check_frozen,
    one_hot_targets: _check_one_hot,
    clip_grad_norm_builtin: _check_clip_grad_norm,
    step_decay_scheduler: _check_step_decay,
    checkpoint_and_resume: _check_checkpoint,
    no_grad_decorator: _check_no_grad_decorator,
    numpy_bridge: _check_numpy_bridge,
    topk_sort_chunk_split: _check_topk_sort_chunk_split,
    writing_into_intermediates: _check_writing_into_intermediates,
}


def test_every_snippet_has_a_check_of_its_own():
    assert list(CHECKS) == SNIPPETS


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("snippet", SNIPPETS, ids=lambda snippet: snippet.__name__)
def test_snippet_on_gradtrace_alone(snippet):
    CHECKS[snippet](with_dtype(GRADTRACE, "float64", snippet))


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("snippet", [d2l_activation_gradients, regression_on_linspace],
                         ids=lambda snippet: snippet.__name__)
def test_snippet_with_pytorchs_default_float32(snippet):
    # the float32 ranges too: arange and linspace round each number as PyTorch's float kernels
    ours = with_dtype(GRADTRACE, "float32", snippet)
    if snippet is d2l_activation_gradients:
        x = ours["x"]
        assert np.array_equal(x.astype(np.float32), x) and x[80] == 2.0 ** -51  # not 0
        np.testing.assert_array_equal(ours["relu"], (x > 0).astype(float))
    if TORCH is not None:
        theirs = with_dtype(TORCH, "float32", snippet)
        np.testing.assert_array_equal(ours["x"], theirs["x"])
        for name in theirs:
            np.testing.assert_allclose(np.asarray(ours[name], float),
                                       np.asarray(theirs[name], float), rtol=2e-5, atol=1e-6,
                                       err_msg=name)
