"""Course code as it is written for PyTorch, to be run on gradtrace and on PyTorch.

Each program takes `L`, the library as the course imports it (L.torch, L.nn, L.F: `import
gradtrace as torch`, or PyTorch itself), and returns what a student would look at (the
parameters after training, losses, gradients) as numpy arrays. The code inside is the courses'
own: d2l's from-scratch chapters (linear regression 3.2, softmax regression 3.6, MLP 4.2) on
data drawn with the library's own random functions after manual_seed (Fashion-MNIST is
replaced by random images of the same shape), CS231n's two-layer net with its hand-written
backward as an autograd.Function, an nn.Module CNN, and a hand-written sigmoid Function.
"""

from __future__ import annotations

import random
from typing import NamedTuple

import numpy as np


class Library(NamedTuple):
    torch: object
    nn: object
    F: object
    name: str


def gradtrace_library() -> Library:
    import gradtrace
    import gradtrace.nn
    import gradtrace.nn.functional

    return Library(gradtrace, gradtrace.nn, gradtrace.nn.functional, "gradtrace")


def torch_library() -> Library | None:
    try:
        import torch
    except ImportError:
        return None
    return Library(torch, torch.nn, torch.nn.functional, "torch")


def numpy_of(tensor) -> np.ndarray:
    return np.array(tensor.detach().numpy(), dtype=np.float64)


def with_dtype(L: Library, dtype: str, program, *args):
    """Run `program` with the library's default float type set to `dtype`, as a script that
    starts with torch.set_default_dtype(torch.float64) would."""
    before = L.torch.get_default_dtype()
    L.torch.set_default_dtype(getattr(L.torch, dtype))
    try:
        return program(L, *args)
    finally:
        L.torch.set_default_dtype(before)


# -- d2l 3.2: linear regression from scratch --------------------------------------------------

def d2l_linear_regression(L: Library, epochs: int = 3) -> dict:
    torch = L.torch
    torch.manual_seed(0)
    random.seed(0)

    def synthetic_data(w, b, num_examples):
        """Generate y = Xw + b + noise."""
        X = torch.normal(0, 1, (num_examples, len(w)))
        y = torch.matmul(X, w) + b
        y += torch.normal(0, 0.01, y.shape)
        return X, y.reshape((-1, 1))

    true_w = torch.tensor([2, -3.4])
    true_b = 4.2
    features, labels = synthetic_data(true_w, true_b, 1000)

    def data_iter(batch_size, features, labels):
        num_examples = len(features)
        indices = list(range(num_examples))
        random.shuffle(indices)
        for i in range(0, num_examples, batch_size):
            batch_indices = torch.tensor(indices[i: min(i + batch_size, num_examples)])
            yield features[batch_indices], labels[batch_indices]

    w = torch.normal(0, 0.01, size=(2, 1), requires_grad=True)
    b = torch.zeros(1, requires_grad=True)

    def linreg(X, w, b):
        return torch.matmul(X, w) + b

    def squared_loss(y_hat, y):
        return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2

    def sgd(params, lr, batch_size):
        with torch.no_grad():
            for param in params:
                param -= lr * param.grad / batch_size
                param.grad.zero_()

    lr, num_epochs, net, loss, batch_size = 0.03, epochs, linreg, squared_loss, 10
    first_grads, losses = None, []
    for epoch in range(num_epochs):
        for X, y in data_iter(batch_size, features, labels):
            l = loss(net(X, w, b), y)
            l.sum().backward()
            if first_grads is None:
                first_grads = [numpy_of(w.grad), numpy_of(b.grad)]
            sgd([w, b], lr, batch_size)
        with torch.no_grad():
            train_l = loss(net(features, w, b), labels)
            losses.append(float(train_l.mean()))
    return {"w": numpy_of(w), "b": numpy_of(b), "losses": np.array(losses),
            "first_grad_w": first_grads[0], "first_grad_b": first_grads[1],
            "features": numpy_of(features[:5])}


# -- d2l 3.6: softmax regression from scratch ------------------------------------------------

def d2l_softmax_regression(L: Library, epochs: int = 2) -> dict:
    torch = L.torch
    torch.manual_seed(1)
    images = torch.rand(192, 1, 28, 28)
    targets = torch.randint(0, 10, (192,))
    batch_size, num_inputs, num_outputs = 64, 784, 10
    W = torch.normal(0, 0.01, size=(num_inputs, num_outputs), requires_grad=True)
    b = torch.zeros(num_outputs, requires_grad=True)

    def softmax(X):
        X_exp = torch.exp(X)
        partition = X_exp.sum(1, keepdim=True)
        return X_exp / partition

    def net(X):
        return softmax(torch.matmul(X.reshape((-1, W.shape[0])), W) + b)

    def cross_entropy(y_hat, y):
        return - torch.log(y_hat[range(len(y_hat)), y])

    def accuracy(y_hat, y):
        if len(y_hat.shape) > 1 and y_hat.shape[1] > 1:
            y_hat = y_hat.argmax(axis=1)
        cmp = y_hat.type(y.dtype) == y
        return float(cmp.type(y.dtype).sum())

    def sgd(params, lr, batch_size):
        with torch.no_grad():
            for param in params:
                param -= lr * param.grad / batch_size
                param.grad.zero_()

    lr, losses, correct = 0.1, [], []
    for epoch in range(epochs):
        for start in range(0, len(images), batch_size):
            X, y = images[start:start + batch_size], targets[start:start + batch_size]
            y_hat = net(X)
            l = cross_entropy(y_hat, y)
            l.sum().backward()
            sgd([W, b], lr, X.shape[0])
            losses.append(float(l.sum()))
            correct.append(accuracy(y_hat, y))
    return {"W": numpy_of(W), "b": numpy_of(b), "losses": np.array(losses),
            "correct": np.array(correct)}


# -- d2l 4.2: MLP from scratch ------------------------------------------------------------------

def d2l_mlp(L: Library, epochs: int = 2) -> dict:
    torch, nn = L.torch, L.nn
    torch.manual_seed(2)
    images = torch.rand(128, 1, 28, 28)
    targets = torch.randint(0, 10, (128,))
    num_inputs, num_outputs, num_hiddens = 784, 10, 32
    W1 = nn.Parameter(torch.randn(num_inputs, num_hiddens, requires_grad=True) * 0.01)
    b1 = nn.Parameter(torch.zeros(num_hiddens, requires_grad=True))
    W2 = nn.Parameter(torch.randn(num_hiddens, num_outputs, requires_grad=True) * 0.01)
    b2 = nn.Parameter(torch.zeros(num_outputs, requires_grad=True))
    params = [W1, b1, W2, b2]

    def relu(X):
        a = torch.zeros_like(X)
        return torch.max(X, a)

    def net(X):
        X = X.reshape((-1, num_inputs))
        H = relu(X @ W1 + b1)  # '@' stands for matrix multiplication
        return (H @ W2 + b2)

    loss = nn.CrossEntropyLoss(reduction="none")
    updater = torch.optim.SGD(params, lr=0.5)
    losses, grads = [], None
    for epoch in range(epochs):
        for start in range(0, len(images), 32):
            X, y = images[start:start + 32], targets[start:start + 32]
            l = loss(net(X), y)
            updater.zero_grad()
            l.mean().backward()
            if grads is None:
                grads = [numpy_of(p.grad) for p in params]
            updater.step()
            losses.append(float(l.mean()))
    return {**{f"param{i}": numpy_of(p) for i, p in enumerate(params)},
            **{f"grad{i}": g for i, g in enumerate(grads)}, "losses": np.array(losses)}


# -- CS231n assignment 1: the two-layer net, its backward written by hand ----------------------

def two_layer_function(L: Library):
    torch = L.torch

    class TwoLayerNetLoss(torch.autograd.Function):
        """affine - relu - affine - softmax loss with L2 regularisation, CS231n's TwoLayerNet."""

        @staticmethod
        def forward(ctx, X, W1, b1, W2, b2, y, reg):
            h = X.mm(W1) + b1
            hr = h.clamp(min=0)
            scores = hr.mm(W2) + b2
            shifted = scores - scores.max(dim=1, keepdim=True)[0]
            exp = shifted.exp()
            probs = exp / exp.sum(dim=1, keepdim=True)
            N = X.shape[0]
            loss = -probs[range(N), y].log().sum() / N + reg * ((W1 * W1).sum() + (W2 * W2).sum())
            ctx.save_for_backward(X, W1, W2, h, hr, probs)
            ctx.y, ctx.reg = y, reg
            return loss

        @staticmethod
        def backward(ctx, grad_loss):
            X, W1, W2, h, hr, probs = ctx.saved_tensors
            N = X.shape[0]
            dscores = probs.clone()
            dscores[range(N), ctx.y] -= 1
            dscores /= N
            dW2 = hr.t().mm(dscores) + 2 * ctx.reg * W2
            db2 = dscores.sum(dim=0)
            dh = dscores.mm(W2.t()) * (h > 0).to(dscores.dtype)
            dW1 = X.t().mm(dh) + 2 * ctx.reg * W1
            db1 = dh.sum(dim=0)
            return (None, grad_loss * dW1, grad_loss * db1, grad_loss * dW2, grad_loss * db2,
                    None, None)

    return TwoLayerNetLoss


def two_layer_inputs(L: Library):
    torch = L.torch
    torch.manual_seed(3)
    N, D, H, C = 5, 4, 10, 3
    X = torch.randn(N, D, dtype=torch.float64)
    W1 = (1e-1 * torch.randn(D, H, dtype=torch.float64)).requires_grad_()
    b1 = torch.zeros(H, dtype=torch.float64, requires_grad=True)
    W2 = (1e-1 * torch.randn(H, C, dtype=torch.float64)).requires_grad_()
    b2 = torch.zeros(C, dtype=torch.float64, requires_grad=True)
    y = torch.tensor([0, 1, 2, 2, 1])
    return X, W1, b1, W2, b2, y, 0.05


def cs231n_two_layer_net(L: Library) -> dict:
    torch = L.torch
    TwoLayerNetLoss = two_layer_function(L)
    inputs = two_layer_inputs(L)
    checked = torch.autograd.gradcheck(TwoLayerNetLoss.apply, inputs)
    loss = TwoLayerNetLoss.apply(*inputs)
    loss.backward()
    _, W1, b1, W2, b2, _, _ = inputs
    return {"gradcheck": np.array(checked), "loss": numpy_of(loss),
            **{name: numpy_of(p.grad) for name, p in
               (("W1", W1), ("b1", b1), ("W2", W2), ("b2", b2))}}


def two_layer_autograd(L: Library) -> dict:
    """The same loss written as a plain forward, differentiated by the library itself."""
    X, W1, b1, W2, b2, y, reg = two_layer_inputs(L)
    scores = (X.mm(W1) + b1).clamp(min=0).mm(W2) + b2
    loss = L.F.cross_entropy(scores, y) + reg * ((W1 * W1).sum() + (W2 * W2).sum())
    loss.backward()
    return {"loss": numpy_of(loss), **{name: numpy_of(p.grad) for name, p in
                                       (("W1", W1), ("b1", b1), ("W2", W2), ("b2", b2))}}


# -- an nn.Module CNN, a few training steps ---------------------------------------------------------

def cnn_steps(L: Library, steps: int = 3) -> dict:
    torch, nn, F = L.torch, L.nn, L.F

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 4, 3, padding=1)
            self.bn = nn.BatchNorm2d(4)
            self.pool = nn.MaxPool2d(2, 2)
            self.conv2 = nn.Conv2d(4, 6, kernel_size=3, stride=1)
            self.dropout = nn.Dropout(0.25)
            self.fc = nn.Linear(6 * 2 * 2, 10)

        def forward(self, x):
            x = self.pool(F.relu(self.bn(self.conv1(x))))
            x = F.avg_pool2d(F.relu(self.conv2(x)), 1)
            x = torch.flatten(x, 1)
            x = self.dropout(x)
            return self.fc(x)

    torch.manual_seed(4)
    net = Net()
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    x = torch.randn(8, 1, 8, 8)
    y = torch.randint(0, 10, (8,))
    losses = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = F.cross_entropy(net(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    net.eval()
    with torch.no_grad():
        evaluated = net(x)
    return {"losses": np.array(losses), "eval": numpy_of(evaluated),
            **{name: numpy_of(value) for name, value in net.state_dict().items()}}


# -- a hand-written sigmoid as a custom Function ---------------------------------------------------

def sigmoid_function(L: Library):
    class MySigmoid(L.torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            out = 1 / (1 + (-x).exp())
            ctx.save_for_backward(out)
            return out

        @staticmethod
        def backward(ctx, grad_output):
            (out,) = ctx.saved_tensors
            return grad_output * out * (1 - out)

    return MySigmoid


def custom_sigmoid(L: Library) -> dict:
    torch = L.torch
    MySigmoid = sigmoid_function(L)
    torch.manual_seed(5)
    x = torch.randn(6, dtype=torch.float64, requires_grad=True)
    checked = torch.autograd.gradcheck(MySigmoid.apply, (x,))
    y = MySigmoid.apply(x)
    (y * torch.arange(6, dtype=torch.float64)).sum().backward()
    return {"gradcheck": np.array(checked), "y": numpy_of(y), "grad": numpy_of(x.grad),
            "x": numpy_of(x)}
