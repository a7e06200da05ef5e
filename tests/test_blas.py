"""core/blas.py: y += α·x by numpy's own BLAS, or False (y untouched) for numpy to do it."""

from __future__ import annotations

import numpy as np
import pytest

from gradtrace import optim
from gradtrace.core import blas

N = blas.MIN_ELEMENTS  # the smallest array handed to BLAS


def arrays(dtype, order="C", shape=(128, N // 128)):
    rng = np.random.default_rng(0)
    x = np.asarray(rng.standard_normal(shape), dtype=dtype, order=order)
    y = np.asarray(rng.standard_normal(shape), dtype=dtype, order=order)
    return x, y


needs_blas = pytest.mark.skipif(not blas._load_routines(),
                                reason="numpy here is not built on its bundled OpenBLAS")


@needs_blas
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("order", ["C", "F"])
def test_axpy_adds_alpha_times_x_in_place(dtype, order):
    x, y = arrays(dtype, order)
    expected = y.astype(np.float64) + (-0.01) * x.astype(np.float64)
    before = y.copy()
    target = y
    assert blas.axpy(-0.01, x, y)
    assert target is y and not np.array_equal(y, before)
    # one rounding of the float type away from the exact result, at most two
    eps = np.finfo(dtype).eps
    np.testing.assert_allclose(y, expected, rtol=2 * eps, atol=2 * eps)


@pytest.mark.parametrize("make", [
    lambda: (np.ones(N - 1, np.float32), np.ones(N - 1, np.float32)),  # too small to gain
    lambda: (np.ones((128, N // 128), np.float32),
             np.ones((128, N // 128), np.float32, order="F")),  # two memory orders
    lambda: (np.ones(N, np.float32), np.ones(N, np.float64)),  # two float types
    lambda: (np.ones(2 * N, np.float32)[::2], np.ones(N, np.float32)),  # not one block
    lambda: (np.ones(N, np.int64), np.ones(N, np.int64)),  # not floats
    lambda: (np.ones(N, np.float32), np.ones(N + 1, np.float32)),  # two shapes
])
def test_axpy_leaves_what_it_cannot_do_safely_to_numpy(make):
    x, y = make()
    before = y.copy()
    assert not blas.axpy(2.0, x, y)
    np.testing.assert_array_equal(y, before)


def test_axpy_refuses_read_only_and_overlapping_arrays():
    x, y = arrays(np.float32)
    y.flags.writeable = False
    assert not blas.axpy(1.0, x, y)
    shared = np.ones(2 * N, np.float32)
    assert not blas.axpy(1.0, shared[:N], shared[N // 2:N // 2 + N])
    np.testing.assert_array_equal(shared, 1.0)


def test_without_numpys_openblas_the_optimiser_still_steps(monkeypatch):
    """A numpy built on another BLAS: axpy answers False and SGD uses numpy."""
    monkeypatch.setattr(blas, "_routines", {})
    x, y = arrays(np.float32)
    assert not blas.axpy(1.0, x, y)
    from gradtrace import tensor

    w = tensor(y.copy(), requires_grad=True)
    w.grad = tensor(x)
    optim.SGD([w], lr=0.5).step()
    np.testing.assert_allclose(w.value, y - np.float32(0.5) * x, rtol=1e-6)


@needs_blas
@pytest.mark.parametrize("settings", [{}, {"momentum": 0.9}])
def test_sgd_steps_a_large_layer_through_blas_as_numpy_would(monkeypatch, settings):
    calls = []
    real = blas._load_routines()
    monkeypatch.setattr(blas, "_routines", {
        dtype: (lambda *args, routine=routine: calls.append(args[0]) or routine(*args))
        for dtype, routine in real.items()})
    x, y = arrays(np.float32)
    from gradtrace import tensor

    w = tensor(y.copy(), requires_grad=True)
    w.grad = tensor(x)
    optim.SGD([w], lr=0.25, **settings).step()  # 0.25·x is exact: BLAS must equal numpy
    assert calls == [x.size]
    np.testing.assert_array_equal(w.value, y - np.float32(0.25) * x)
    np.testing.assert_array_equal(w.grad.value, x)  # .grad left as it was


def test_a_numpy_built_on_another_blas_is_not_searched_for_openblas(monkeypatch):
    config = {**np.__config__.CONFIG, "Build Dependencies": {"blas": {"name": "accelerate"}}}
    monkeypatch.setattr(np.__config__, "CONFIG", config)
    assert blas._load_routines() == {}
