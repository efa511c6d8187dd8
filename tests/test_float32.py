"""Issue 9: the fast path is correct. float32 training computes in float32 throughout (no silent
promotion to float64), its gradients agree with float64 to float32 precision, it reaches the
float64 accuracy on MNIST within 0.3 points, and the speed-ups of `fit` (rows gathered from a
once-per-fit (m, n_0) array, layer 1's unused dA_prev skipped) change no result.
Speed itself is never asserted here: benchmarks/bench.py measures it."""
import numpy as np
import pytest

from mlp.layers import dense_backward, dense_forward
from mlp.model import Multilayerperceptron
from mlp.network import forward

SEED_LAYERS = [(784, False, "ReLu", 1), (128, True, "ReLu", 0.8), (64, True, "ReLu", 0.8), (10, False, "softmax", 1)]
SMALL_LAYERS = [(6, False, "ReLu", 1), (8, True, "ReLu", 0.8), (5, False, "tanh", 0.5), (3, False, "softmax", 1)]


@pytest.fixture(scope="module")
def mnist():
    from mlp.datasets import load_mnist
    X, y, X_test, y_test = load_mnist(dtype=np.float32)
    return X, y, X_test, y_test


def _small_data(seed=0, m=200):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((6, m))
    y = (X[0] + X[1] > 0).astype(int) + (X[2] > 1)
    return X, y


def _arrays(obj):
    "Every ndarray inside nested tuples/lists/dicts/NamedTuples."
    if isinstance(obj, np.ndarray): yield obj
    elif isinstance(obj, dict):
        for v in obj.values(): yield from _arrays(v)
    elif isinstance(obj, (tuple, list)):
        for v in obj: yield from _arrays(v)


def test_float32_computes_in_float32_throughout():
    "One float64 array anywhere in a step would silently make the whole step float64 (and slow)."
    X, y = _small_data()
    model = Multilayerperceptron(epoch=2, lr=0.01, layer_construct=SMALL_LAYERS, minibatch_size=32,
                                 seed=0, dtype="float32", Regularization=True).fit(X, y)
    X32 = X.astype(np.float32)
    A, Z, caches = forward(X32[:, :32], model.parameters, model.layers, True, rng=model.rng,
                           state=None)
    grads = model.gradients(X[:, :32], y[:32])
    float_arrays = [a for a in _arrays([A, Z, caches, grads, model.parameters, model.bn_state,
                                        model.optimizer.state]) if a.dtype.kind == "f"]
    assert float_arrays and all(a.dtype == np.float32 for a in float_arrays), \
        sorted({str(a.dtype) for a in float_arrays})
    assert model.predict(X).dtype == np.float32
    assert all(np.isfinite(c) for c in model.costs)


def test_float32_gradients_agree_with_float64(mnist):
    """Same parameters (rounded to float32), same mini-batch of 256 MNIST images, same dropout
    masks: every gradient of the seed's network agrees to float32 precision (measured ~4e-7,
    a few float32 epsilons of 1.2e-7), and is not bitwise the float64 one (it really is float32)."""
    X, y, _, _ = mnist
    rng = np.random.default_rng(0)
    idx = rng.choice(X.shape[1], 256, replace=False)
    X64 = X[:, idx].astype(np.float64)
    masks = {1: rng.random((128, 256)) < 0.8, 2: rng.random((64, 256)) < 0.8}
    m64 = Multilayerperceptron(layer_construct=SEED_LAYERS, seed=1, epoch=1, minibatch_size=128)
    m64.fit(X64, y[idx])                      # move away from the initial gamma = 1, beta = 0
    m32 = Multilayerperceptron(layer_construct=SEED_LAYERS, seed=1, dtype="float32")
    for k, v in m64.parameters.items():
        m32.parameters[k][...] = v
        v[...] = m32.parameters[k]            # evaluate both at exactly the same point
    g64 = m64.gradients(X64, y[idx], masks=masks)
    g32 = m32.gradients(X[:, idx], y[idx], masks=masks)
    assert g64.keys() == g32.keys()
    for k in g64:
        assert g32[k].dtype == np.float32
        err = np.linalg.norm(g32[k] - g64[k]) / np.linalg.norm(g64[k])
        assert 1e-9 < err <= 1e-5, (k, err)


def test_float32_accuracy_matches_float64_on_mnist(mnist):
    """The seed's network (BatchNorm, dropout, Adam) for 3 epochs on the 60,000 MNIST images, two
    seeds each: mean test accuracy of float32 within 0.3 points of float64. (Dropout masks are
    drawn in the model's dtype, so the two runs are different random trainings of one model.)"""
    from threadpoolctl import threadpool_limits
    X32, y, X_test32, y_test = mnist
    X64, X_test64 = X32.astype(np.float64), X_test32.astype(np.float64)
    acc = {"float32": [], "float64": []}
    with threadpool_limits(1):      # 2 threads on a busy 2-core machine thrash
        for seed in (0, 1):
            for dtype, X, X_test in (("float32", X32, X_test32), ("float64", X64, X_test64)):
                model = Multilayerperceptron(epoch=3, lr=0.001, layer_construct=SEED_LAYERS,
                                             minibatch_size=128, seed=seed, dtype=dtype).fit(X, y)
                acc[dtype].append(100 * float(np.mean(model.predict_class(X_test) == y_test)))
    a32, a64 = np.mean(acc["float32"]), np.mean(acc["float64"])
    assert a64 > 96, acc                       # both actually learned
    assert abs(a32 - a64) <= 0.3, acc
    print(f"MNIST test accuracy float32 {a32:.2f}% vs float64 {a64:.2f}%: |diff| {abs(a32 - a64):.2f} <= 0.3")


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_fit_same_result_whatever_the_memory_layout(dtype):
    """fit gathers mini-batches from an (m, n_0) array of example rows; a column-major X of the
    model's dtype is used without any copy. Every layout of the same numbers trains identically."""
    X, y = _small_data(1)
    runs = []
    for Xi in (np.ascontiguousarray(X, dtype=dtype), np.asfortranarray(X, dtype=dtype), X.tolist(),
               np.asfortranarray(X)):
        before = np.array(Xi, copy=True)
        model = Multilayerperceptron(epoch=3, lr=0.01, layer_construct=SMALL_LAYERS, minibatch_size=16,
                                     seed=5, dtype=dtype).fit(Xi, y)
        assert np.array_equal(np.asarray(Xi), before)       # the caller's array is never written
        runs.append(model)
    for other in runs[1:]:
        assert other.costs == runs[0].costs
        assert all(np.array_equal(other.parameters[k], runs[0].parameters[k]) for k in other.parameters)


def test_fit_does_not_copy_a_column_major_training_set():
    X, y = _small_data(2)
    XF = np.asfortranarray(X, dtype=np.float32)
    model = Multilayerperceptron(layer_construct=SMALL_LAYERS, dtype="float32")
    rows = model._training_rows(XF, y)[0]
    assert rows.base is XF and rows.flags.c_contiguous and rows.shape == (X.shape[1], 6)
    XC = np.ascontiguousarray(X, dtype=np.float32)
    rows = model._training_rows(XC, y)[0]
    assert rows.flags.c_contiguous and np.array_equal(rows, XC.T) and not np.shares_memory(rows, XC)


def test_layer_one_skips_dA_prev_without_changing_dW_db():
    rng = np.random.default_rng(3)
    for dtype in (np.float32, np.float64):
        A_prev, W, b = (rng.standard_normal(s).astype(dtype) for s in ((7, 9), (4, 7), (4, 1)))
        dZ = rng.standard_normal((4, 9)).astype(dtype)
        cache = dense_forward(A_prev, W, b)[1]
        full, skipped = dense_backward(dZ, cache), dense_backward(dZ, cache, need_dA_prev=False)
        assert skipped[0] is None and np.allclose(full[0], W.T @ dZ)
        assert all(np.array_equal(a, c) and a.dtype == dtype for a, c in zip(full[1:], skipped[1:]))


def test_float32_dropout_keeps_the_right_fraction():
    "Masks drawn in float32 keep units with probability keep_prob (0.8 +- 4 standard errors)."
    from mlp.dropout import dropout_forward
    A = np.ones((128, 4096), np.float32)
    out, scaled = dropout_forward(A, 0.8, rng=np.random.default_rng(0))
    kept = float(np.mean(out != 0))
    assert out.dtype == np.float32 and abs(kept - 0.8) < 4 * np.sqrt(0.8 * 0.2 / A.size)
    assert np.allclose(out[out != 0], 1 / np.float32(0.8))
