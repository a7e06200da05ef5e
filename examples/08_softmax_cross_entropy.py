"""08 — Softmax with cross-entropy (《深度学习入门》 §5.2.3): the gradient with respect to the logits
is (softmax(z) − onehot(t)) / N, the reason the two are fused into one layer.

A batch of N = 4 examples over 3 classes, traced with the Python API and compared with the
formula written out in numpy.
"""

import numpy as np

import gradtrace

rng = np.random.default_rng(3)
logits = gradtrace.tensor(rng.standard_normal((4, 3)), name="z")
classes = np.array([0, 2, 1, 2])

loss = gradtrace.cross_entropy(logits, classes)
trace = loss.backward()

probabilities = np.exp(logits.value) / np.exp(logits.value).sum(axis=1, keepdims=True)
formula = (probabilities - np.eye(3)[classes]) / len(classes)
print(f"loss = {trace.value:.4f}")
print("traced dL/dz:\n", np.round(logits.grad, 4))
print("(softmax(z) - onehot(t)) / N:\n", np.round(formula, 4))
print("largest difference:", float(np.max(np.abs(logits.grad - formula))))
