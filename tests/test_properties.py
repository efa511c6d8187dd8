"""Property-based tests (issue 11), with hypothesis.

Over random valid architectures (depth 1-4, widths 1-32, every activation / output / BatchNorm /
keep_prob / L2 combination): the analytic gradients of `model.gradients` pass a central-difference
gradient check, and `fit` on random data never raises and never produces NaN. Over random
invalid inputs: the model raises TypeError or ValueError from one of our own `raise` statements,
never an internal error (IndexError, a NumPy broadcasting error, ...).

Budgets are small and derandomized so the file runs in well under two minutes on two cores
and gives the same examples on every run."""
import os
import re
import traceback

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings, strategies as st
from hypothesis.extra import numpy as hnp

from mlp.gradcheck import check_gradients, numerical_gradients, relative_error
from mlp.model import Multilayerperceptron

SETTINGS = dict(deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
HIDDEN = ['ReLu', 'sigmoid', 'tanh', 'Linear']
OUTPUTS = ['softmax', 'sigmoid', 'Linear', 'ReLu', 'tanh']
MLP_DIR = os.path.dirname(os.path.abspath(__import__('mlp').__file__))


@st.composite
def architectures(draw, max_width=32, dropout=True):
    "A valid layer list: input, 0-3 hidden layers (depth 1-4 weight layers), output."
    layers = [(draw(st.integers(1, 5)), False, draw(st.sampled_from(HIDDEN)), 1)]
    for _ in range(draw(st.integers(0, 3))):
        keep = draw(st.sampled_from([1.0, 0.9, 0.5])) if dropout else 1.0
        layers.append((draw(st.integers(1, max_width)), draw(st.booleans()), draw(st.sampled_from(HIDDEN)), keep))
    out = draw(st.sampled_from(OUTPUTS))
    layers.append((draw(st.integers(2, 4)) if out == 'softmax' else draw(st.integers(1, 3)), False, out, 1))
    return layers


def random_data(layers, m, rng):
    "X (n_0, m) standard normal and targets valid for the output layer."
    n0, (nL, _, out, _) = layers[0][0], layers[-1]
    X = rng.standard_normal((n0, m))
    Y = {'softmax': lambda: rng.integers(0, nL, m),
         'sigmoid': lambda: rng.integers(0, 2, (nL, m)),
         'Linear': lambda: rng.standard_normal((nL, m)),
         'ReLu': lambda: np.abs(rng.standard_normal((nL, m))),
         'tanh': lambda: rng.uniform(-0.9, 0.9, (nL, m))}[out]()
    return X, Y


def has_bn(layers): return any(l[1] for l in layers)


# ------------------------------------------------------------------ gradient check
@settings(max_examples=120, **SETTINGS)
@given(layers=architectures(max_width=32), m=st.integers(3, 6), seed=st.integers(0, 2**16),
       l2=st.sampled_from([0.0, 0.05, 0.7]))
def test_gradients_match_central_differences(layers, m, seed, l2):
    # BatchNorm makes the cost invariant to scaling the incoming weights of each unit, so dW is
    # orthogonal to W: for a single input unit, dW is 0 up to eps and any relative error is
    # noise. (Likewise m = 2 normalizes every unit to +-1 whatever the inputs.) Skip those.
    assume(not any(layers[l][1] and layers[l - 1][0] == 1 for l in range(1, len(layers))))
    rng = np.random.default_rng(seed)
    X, Y = random_data(layers, m, rng)
    model = Multilayerperceptron(layer_construct=layers, seed=seed, Regularization=l2 > 0,
                                 lamda=l2 if l2 else 0.001, dtype='float64')
    # Biases and betas start at exactly 0, so a dead ReLU layer feeds exact zeros into the next
    # ReLU: a kink, where central differences and the (sub)gradient legitimately disagree.
    # Moving them off zero keeps the check on differentiable points.
    for k, v in model.parameters.items():
        if k[0] in 'b': v += rng.choice([-1, 1], v.shape) * rng.uniform(0.05, 0.3, v.shape)
    # Dropout masks of gradients() and cost(training=True) come from a diagnostic generator made
    # afresh from the seed on every call, so the analytic gradient and every numerical cost see
    # the very same masks (and training's generator is never touched).
    grads = model.gradients(X, Y)

    def cost():
        return model.cost(X, Y, training=True)

    try:
        check_gradients(cost, model.parameters, grads, eps=1e-6, tol=1e-6)
    except AssertionError:
        # A relative error is meaningless for a gradient that is 0 up to rounding (BatchNorm's
        # scale invariance makes some exactly so): there, require an absolute agreement far
        # below any real bug (a wrong factor or sign changes the gradient by its own size).
        num, J = numerical_gradients(cost, model.parameters, eps=1e-6), abs(cost())
        for k in model.parameters:
            g, gn = grads[f'd{k}'], num[f'd{k}']
            assert relative_error(g, gn) <= 1e-6 or np.abs(g - gn).max() <= 1e-8 * max(1.0, J), (
                k, relative_error(g, gn), np.abs(g - gn).max(), np.abs(g).max())


# ------------------------------------------------------------------ fit never fails on valid data
@settings(max_examples=120, **SETTINGS)
@given(layers=architectures(), m=st.integers(2, 40), seed=st.integers(0, 2**16),
       batch=st.integers(2, 64), adam=st.booleans(), l2=st.booleans(),
       dtype=st.sampled_from(['float64', 'float32']))
def test_fit_on_random_data_is_finite(layers, m, seed, batch, adam, l2, dtype):
    rng = np.random.default_rng(seed)
    X, Y = random_data(layers, m, rng)
    model = Multilayerperceptron(layer_construct=layers, seed=seed, epoch=2, lr=1e-3,
                                 minibatch_size=batch, adam=adam, Regularization=l2, dtype=dtype)
    model.fit(X, Y)
    P = model.predict(X)
    assert P.shape == (layers[-1][0], m) and P.dtype == np.dtype(dtype)
    assert np.isfinite(P).all() and np.isfinite(model.costs).all() and len(model.costs) >= 2


# ------------------------------------------------------------------ invalid inputs: only our errors
def assert_our_error(exc):
    "`exc` is a TypeError/ValueError raised by a `raise` statement inside the mlp package."
    assert isinstance(exc, (TypeError, ValueError)), f"internal error {type(exc).__name__}: {exc}"
    last = traceback.extract_tb(exc.__traceback__)[-1]
    assert last.filename.startswith(MLP_DIR) and re.search(r'(^|:)\s*raise\b', last.line), (
        f"{type(exc).__name__} not raised by a check of ours ({last.filename}:{last.lineno}: "
        f"{last.line}): {exc}")
    assert len(str(exc)) > 20


def ours_or_ok(f):
    "Run f(); anything it raises must be one of our documented errors. True if it raised."
    try: f()
    except Exception as e:  # noqa: BLE001 -- that is the point of the test
        assert_our_error(e)
        return True
    return False


SMALL = [(3, False, 'ReLu', 1), (4, True, 'tanh', 0.8), (2, False, 'softmax', 1)]
XS, YS = np.random.default_rng(1).standard_normal((3, 10)), np.arange(10) % 2

anything = st.one_of(st.none(), st.booleans(), st.integers(-3, 300), st.floats(allow_nan=True, allow_infinity=True),
                     st.text(max_size=8), st.lists(st.integers(-2, 5), max_size=3),
                     st.tuples(st.integers(-2, 5), st.booleans()), st.complex_numbers(max_magnitude=2))


KEYWORDS = ['epoch', 'lr', 'cost_history', 'Regularization', 'lamda', 'layer_construct', 'minibatch_size',
            'adam', 'beta1', 'beta2', 'epsilon', 'seed', 'bn_momentum', 'bn_epsilon',
            'early_stopping', 'patience', 'lr_schedule', 'progress', 'optimizer', 'momentum', 'rho',
            'weight_decay']


@settings(max_examples=250, **SETTINGS)
@given(key=st.sampled_from(KEYWORDS), value=anything)
def test_fuzzed_constructor_keywords(key, value):
    def build_and_fit():
        Multilayerperceptron(**{'layer_construct': SMALL, 'epoch': 1, key: value}).fit(XS, YS)
    ours_or_ok(build_and_fit)


@settings(max_examples=60, **SETTINGS)
@given(value=anything)
def test_fuzzed_dtype_keyword(value):
    ours_or_ok(lambda: Multilayerperceptron(layer_construct=SMALL, epoch=1, dtype=value).fit(XS, YS))


@settings(max_examples=60, **SETTINGS)
@given(value=st.one_of(anything, st.tuples(st.just(XS), anything), st.tuples(anything, st.just(YS))))
def test_fuzzed_validation_data(value):
    model = Multilayerperceptron(layer_construct=SMALL, epoch=1, seed=0)
    ours_or_ok(lambda: model.fit(XS, YS, validation_data=value))


layer_entry = st.tuples(st.one_of(st.integers(-2, 6), st.floats(-1, 5), st.booleans(), st.text(max_size=3)),
                        st.one_of(st.booleans(), st.integers(0, 2), st.text(max_size=3)),
                        st.one_of(st.sampled_from(OUTPUTS + ['relu', 'SIGMOID', 'sigmod', 'soft_max', '']),
                                  st.integers(0, 3), st.none()),
                        st.one_of(st.floats(-0.5, 1.5), st.sampled_from([0, 1, 0.5]), st.none()))


@settings(max_examples=150, **SETTINGS)
@given(layers=st.lists(st.one_of(layer_entry, st.tuples(st.integers(1, 4)), st.integers(1, 4)), max_size=4))
def test_fuzzed_layer_lists(layers):
    def build():
        model = Multilayerperceptron(layer_construct=layers, epoch=1, minibatch_size=4)
        n0 = model.layers[0].neurons
        out = model.layers[-1]
        X, Y = random_data([tuple(l) for l in model.layers], 6, np.random.default_rng(0))
        model.fit(X, Y)
        assert X.shape[0] == n0 and np.isfinite(model.predict(X)).all() and out.neurons >= 1
    ours_or_ok(build)


@settings(max_examples=120, **SETTINGS)
@given(X=hnp.arrays(dtype=st.sampled_from([np.float64, np.float32, np.int64, np.bool_, np.complex128, '<U2']),
                    shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=5)),
       Y=hnp.arrays(dtype=st.sampled_from([np.float64, np.int64, np.bool_, '<U2']),
                    shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=5)),
       out=st.sampled_from(OUTPUTS))
def test_fuzzed_arrays_to_fit_and_predict(X, Y, out):
    n_out = 3 if out == 'softmax' else 1
    model = Multilayerperceptron(layer_construct=[(3, False, 'ReLu', 1), (4, False, 'ReLu', 1),
                                                  (n_out, False, out, 1)], epoch=1, minibatch_size=4, seed=0)
    ours_or_ok(lambda: model.fit(X, Y))
    ours_or_ok(lambda: model.predict(X))


CORRUPTIONS = ['transpose', 'extra_row', 'nan', 'inf', 'strings', 'one_d', 'empty', 'y_count',
               'y_label', 'y_rows', 'y_nan']


@settings(max_examples=60, **SETTINGS)
@given(layers=architectures(max_width=8), seed=st.integers(0, 2**16), how=st.sampled_from(CORRUPTIONS))
def test_corrupted_data_is_refused(layers, seed, how):
    rng = np.random.default_rng(seed)
    m = 7
    X, Y = random_data(layers, m, rng)
    n0, (nL, _, out, _) = layers[0][0], layers[-1]
    Y = np.asarray(Y, dtype=float)
    i, j = rng.integers(0, n0), rng.integers(0, m)
    if how == 'transpose': X = X.T
    elif how == 'extra_row': X = np.vstack([X, X[:1]])
    elif how == 'nan': X[i, j] = np.nan
    elif how == 'inf': X[i, j] = -np.inf
    elif how == 'strings': X = X.astype(str)
    elif how == 'one_d': X = X.ravel()
    elif how == 'empty': X, Y = X[:, :0], Y[..., :0]
    elif how == 'y_count': Y = Y[..., :-1]
    elif how == 'y_label':
        if out == 'softmax': Y[j] = nL
        elif out == 'sigmoid': Y[0, j] = 2
        else: Y[0, j] = np.nan
    elif how == 'y_rows': Y = np.vstack([np.atleast_2d(Y)] * 2) if out != 'softmax' else np.ones((nL + 1, m))
    elif how == 'y_nan': Y = np.atleast_2d(Y); Y[0, j] = np.nan
    model = Multilayerperceptron(layer_construct=layers, epoch=1, seed=seed)
    assert ours_or_ok(lambda: model.fit(X, Y)), f"{how} was accepted"
