"""14 — Dropout in training and in evaluation (d2l's 暂退法, 《深度学习入门》 §6.4.3, CS231n).

In training each hidden unit is zeroed with probability p. Inverted dropout (d2l, PyTorch)
scales the survivors by 1/(1 − p), so a unit's expected value is unchanged and evaluation simply
uses every unit as it is: "暂退法将活性值 h 替换为具有期望值 h 的随机变量". The book keeps the
survivors as they are and multiplies by (1 − p) at test time instead: the same expectation.

d2l's own check: X = arange(16) as 2×8, dropped with p = 0, 0.5 and 1. Backward goes through
the same mask: a dropped unit gets no gradient, a kept one its upstream × 1/(1 − p). d2l's
network drops 0.2 after the first hidden layer and 0.5 after the second, 256 units each.
"""

import numpy as np

import gradtrace
import gradtrace.nn as nn
import gradtrace.nn.functional as F

gradtrace.manual_seed(0)
X = gradtrace.arange(16, dtype=gradtrace.float64).reshape(2, 8)
for p in (0.0, 0.5, 1.0):
    print(f"p = {p}:\n{F.dropout(X, p, training=True).numpy()}")
dropped = F.dropout(X, 0.5, training=True).numpy()
kept = dropped != 0
print(f"kept elements × 1/(1 − 0.5) = 2: {np.array_equal(dropped[kept], 2 * X.numpy()[kept])}")
assert np.array_equal(dropped[kept], 2 * X.numpy()[kept]) and 0 < kept.sum() < 16

# train() draws a new mask each call; eval() is the identity
layer = nn.Dropout(0.5)
h = gradtrace.tensor(np.ones((1, 10)), name="h")
print("\ntrain:", layer(h).detach().numpy(), "\ntrain:", layer(h).detach().numpy())
layer.eval()
print("eval: ", layer(h).detach().numpy())
assert np.array_equal(layer(h).detach().numpy(), h.detach().numpy())

# the expectation is kept: averaged over many masks, inverted dropout gives h back
layer.train()
h = gradtrace.tensor(np.linspace(1.0, 2.0, 5))
average = np.mean([layer(h).numpy() for _ in range(20000)], axis=0)
print(f"\nh = {h.numpy()}; mean of 20000 dropped copies = {average.round(2)}")
assert np.allclose(average, h.numpy(), rtol=0.05)

# the book's form: no scaling in training, × (1 − p) at test: the same mean
masks = [(gradtrace.rand(5) > 0.5).numpy() for _ in range(20000)]
mask_mean = np.mean(masks, axis=0) * h.numpy()
print(f"the book's: training mean {mask_mean.round(2)}, test output h × (1 − 0.5) = "
      f"{h.numpy() * 0.5}")
assert np.allclose(mask_mean, h.numpy() * 0.5, rtol=0.05)

# backward through the mask
h = gradtrace.tensor(np.arange(1.0, 9.0), name="h")
out = F.dropout(h, 0.5, training=True)
out.sum().backward()
print(f"\nforward {out.detach().numpy()}\n∂L/∂h    {h.grad.numpy()}  "
      "(2 where kept, 0 where dropped)")
assert np.array_equal(h.grad.numpy(), np.where(out.detach().numpy() != 0, 2.0, 0.0))

# d2l's network: dropout 0.2 and 0.5 after the two hidden layers of 256 units
net = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Dropout(0.2),
                    nn.Linear(256, 256), nn.ReLU(), nn.Dropout(0.5), nn.Linear(256, 10))
images = gradtrace.rand(64, 1, 28, 28)
a1 = net[2](net[1](net[0](images)))  # the first hidden layer, after relu
d1 = net[3](a1)  # ... after dropout 0.2
a2 = net[5](net[4](d1))
d2 = net[6](a2)


def share_dropped(before, after):
    """The share of the active units (> 0) that dropout zeroed."""
    active = before.detach().numpy() > 0
    return np.mean(after.detach().numpy()[active] == 0)


print(f"\nd2l's MLP in training: {share_dropped(a1, d1):.3f} of the first hidden layer dropped "
      f"(p = 0.2), {share_dropped(a2, d2):.3f} of the second (p = 0.5)")
assert abs(share_dropped(a1, d1) - 0.2) < 0.02 and abs(share_dropped(a2, d2) - 0.5) < 0.03
net.eval()  # evaluation: every unit, the same output every time
assert np.array_equal(net(images).detach().numpy(), net(images).detach().numpy())
