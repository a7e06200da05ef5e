"""16 — PyTorch course code, run on gradtrace with only the import changed, then explained.

The code is d2l 3.2 (线性回归的从零开始实现) as the book writes it: synthetic data from
y = Xw + b + noise with w = [2, −3.4] and b = 4.2, minibatches of 10, squared loss, the
hand-written sgd under torch.no_grad(), three epochs. Only the first line differs from the
book: `import gradtrace as torch` instead of `import torch`.

Then one step of the same functions at the notes' worked example (x = 1.5, w = 0.8, b = 0.2,
y = 0.8: y_pred = 1.4, L = 0.18, ∂L/∂w = 0.9, ∂L/∂b = 0.6): `l.sum().backward()` fills w.grad
and b.grad as in PyTorch, and returns the Trace that tells the step op by op.
"""

import random

import gradtrace as torch  # the book: import torch

torch.manual_seed(0)  # (the book leaves the data random; seeded here to print the same run)
random.seed(0)


def synthetic_data(w, b, num_examples):
    """生成y=Xw+b+噪声"""
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
    """线性回归模型"""
    return torch.matmul(X, w) + b


def squared_loss(y_hat, y):
    """均方损失"""
    return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2


def sgd(params, lr, batch_size):
    """小批量随机梯度下降"""
    with torch.no_grad():
        for param in params:
            param -= lr * param.grad / batch_size
            param.grad.zero_()


lr = 0.03
num_epochs = 3
net = linreg
loss = squared_loss
batch_size = 10

for epoch in range(num_epochs):
    for X, y in data_iter(batch_size, features, labels):
        l = loss(net(X, w, b), y)  # X和y的小批量损失
        l.sum().backward()
        sgd([w, b], lr, batch_size)  # 使用参数的梯度更新参数
    with torch.no_grad():
        train_l = loss(net(features, w, b), labels)
        print(f'epoch {epoch + 1}, loss {float(train_l.mean()):f}')

print(f'w的估计误差: {true_w - w.reshape(true_w.shape)}')
print(f'b的估计误差: {true_b - b}')
assert (true_w - w.reshape(true_w.shape)).abs().max().item() < 2e-3
assert abs(true_b - b.item()) < 2e-3

# -- the same functions at the notes' worked example, explained step by step --------------------
w = torch.tensor([[0.8]], requires_grad=True)
b = torch.tensor([0.2], requires_grad=True)
X, y = torch.tensor([[1.5]]), torch.tensor([0.8])
l = loss(net(X, w, b), y)
trace = l.sum().backward()  # as in PyTorch it fills w.grad and b.grad; it also returns the trace
print(f"\none step at x = 1.5, w = 0.8, b = 0.2, y = 0.8: L = {l.item():.2f}, "
      f"w.grad = {w.grad.item():.2f}, b.grad = {b.grad.item():.2f}\n")
print(trace.to_text())
assert abs(l.item() - 0.18) < 1e-6
assert abs(w.grad.item() - 0.9) < 1e-6 and abs(b.grad.item() - 0.6) < 1e-6
