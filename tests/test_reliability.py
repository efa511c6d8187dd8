"""Issue 11: every bad input is refused at the boundary with the documented error type and a
message naming what was expected, what was given and the fix; divergence is an error, not NaN;
same seed => bitwise-identical results; save/load round-trips are exact and safe."""
import re

import numpy as np
import pytest

from mlp.checks import check_X, check_Y, check_hyperparameters, check_minibatch_for_batchnorm
from mlp.layers import parse_layers
from mlp.activations import canonical_activation

RNG = np.random.default_rng(0)
X4 = RNG.standard_normal((4, 12))


def raises(exc, *words):
    "pytest.raises(exc) whose message must contain every one of `words` (plain substrings)."
    return pytest.raises(exc, match='(?s)' + ''.join(f'(?=.*{re.escape(w)})' for w in words))


# ---------------------------------------------------------------- check_X
def test_check_X_valid_no_copy_and_dtypes():
    assert check_X(X4, 4) is X4
    out = check_X(X4, 4, dtype=np.float32)
    assert out.dtype == np.float32 and out.flags.c_contiguous and np.array_equal(out, X4.astype(np.float32))
    assert check_X(np.asfortranarray(X4), 4).flags.c_contiguous
    assert check_X(X4[:, ::3], 4).flags.c_contiguous
    assert check_X([[1, 2, 3]], 1).dtype == np.float64              # lists and ints are fine
    assert check_X(np.array([[True, False]]), 1).tolist() == [[1.0, 0.0]]  # bools are 0/1
    assert check_X(np.full((2, 2), 1e308), 2).shape == (2, 2)       # finite although the sum overflows


@pytest.mark.parametrize('X, n, exc, words', [
    (X4.T, 4, ValueError, ['(examples, features)', 'X.T', 'transpose']),
    (X4, 5, ValueError, ['4 rows', '5 units', '(5, m)']),
    (X4[:, 0], 4, ValueError, ['1-D', 'reshape(4, -1)']),
    (np.ones(9), 1, ValueError, ['1-D', 'X[None, :]']),
    (np.ones(8), 4, ValueError, ['1-D', 'reshape(4, -1)']),
    (np.ones(7), 4, ValueError, ['not a whole number']),
    (np.float64(3.0), 4, ValueError, ['scalar']),
    (np.ones((5, 2, 2)), 4, ValueError, ['3-D', 'reshape(len(X), -1).T']),
    (np.ones((4, 0)), 4, ValueError, ['empty', 'no examples']),
    (np.ones((0, 4)), 4, ValueError, ['transpose']),
    (X4.astype(str), 4, TypeError, ['numeric', '<U', 'astype(float)']),
    (X4.astype(object), 4, TypeError, ['numeric', 'object']),
    (X4 + 1j, 4, TypeError, ['complex', '.real']),
    ('abc', 4, TypeError, ['numeric', 'str']),
    ([[1.0, 2.0], [3.0]], 2, ValueError, ['rectangular']),
    (np.array(['2020-01-01'], dtype='datetime64[D]')[None], 1, TypeError, ['numeric']),
])
def test_check_X_rejects(X, n, exc, words):
    with raises(exc, *words): check_X(X, n)


def test_check_X_nan_inf_counted_and_located():
    X = X4.copy(); X[1, 5] = np.nan; X[3, 2] = np.nan; X[0, 9] = -np.inf
    with raises(ValueError, '2 NaN and 1 inf', 'X[0, 9]', 'feature 0, example 9', 'impute'):
        check_X(X, 4)
    with raises(ValueError, 'too large for float32', 'float64'):
        check_X(np.full((2, 2), 1e300), 2, dtype=np.float32)


def test_check_X_name_and_dtype_arguments():
    with raises(ValueError, 'X_val.T'): check_X(X4.T, 4, name='X_val')
    with raises(TypeError, 'floating dtype'): check_X(X4, 4, dtype=np.int64)


# ---------------------------------------------------------------- check_Y
def test_check_Y_softmax_labels_and_onehot():
    y = np.array([2, 0, 1, 2, 1])
    Y = check_Y(y, 3, 'softmax', 5)
    assert Y.shape == (3, 5) and Y.dtype == np.float64 and np.array_equal(Y.argmax(0), y)
    assert np.array_equal(check_Y(y[None], 3, 'softmax', 5), Y)
    assert np.array_equal(check_Y(y.astype(float), 3, 'softmax', 5), Y)
    assert check_Y(Y, 3, 'softmax', 5) is Y                       # valid one-hot: no copy
    assert check_Y(y, 3, 'SOFTMAX', 5, dtype=np.float32).dtype == np.float32
    assert check_Y(np.array([True, False]), 2, 'softmax', 2).tolist() == [[0, 1], [1, 0]]


def test_check_Y_sigmoid_and_regression():
    assert check_Y(np.array([0, 1, 1]), 1, 'sigmoid', 3).shape == (1, 3)
    assert check_Y(np.array([[0.2, 1.0]]), 1, 'sigmoid', 2).shape == (1, 2)  # probabilities ok
    assert check_Y(np.array([[0, 1], [1, 1]]), 2, 'sigmoid', 2).shape == (2, 2)
    for act in ('Linear', 'relu', 'tanh'):
        assert check_Y(np.array([-5.0, 3e6]), 1, act, 2).shape == (1, 2)
    assert check_Y(np.ones((1, 7)), 1, 'Linear', None).shape == (1, 7)       # m=None: no count check


@pytest.mark.parametrize('Y, n, act, m, exc, words', [
    (np.array([0, 1, 1, 0, 0, 1, 1, 2]), 1, 'sigmoid', 8, ValueError,
     ['labels for a sigmoid output must be 0 or 1 (probabilities in [0, 1]); got 2 at example 7']),
    (np.array([[0, 1], [1, -1]]), 2, 'sigmoid', 2, ValueError, ['must be 0 or 1', 'example 1', 'output 1']),
    (np.arange(10), 1, 'sigmoid', 10, ValueError, ['0 or 1', 'softmax']),
    (np.ones(99), 1, 'Linear', 100, ValueError, ['X has 100 examples but Y has 99']),
    (np.zeros(99, int), 3, 'softmax', 100, ValueError, ['X has 100 examples but Y has 99']),
    (np.ones((2, 5)), 3, 'Linear', 5, ValueError, ['2 rows', '3 units']),
    (np.ones((5, 3)), 3, 'Linear', 5, ValueError, ['(examples, outputs)', 'transpose']),
    (np.ones(5), 3, 'Linear', 5, ValueError, ['1-D', '3 units']),
    (np.ones((5, 3)), 3, 'softmax', 5, ValueError, ['(examples, classes)', 'transpose']),
    (np.ones((5, 1)), 3, 'softmax', 5, ValueError, ['ravel']),
    (np.ones((4, 5)), 3, 'softmax', 5, ValueError, ['4 rows', '3 units']),
    (np.array([0, 3, 1]), 3, 'softmax', 3, ValueError, ['label 3 at example 1', '[0, 3)', 'np.unique']),
    (np.array([0, -1, 1]), 3, 'softmax', 3, ValueError, ['label -1', 'outside']),
    (np.array([0, 1.5, 1]), 3, 'softmax', 3, ValueError, ['integers', '1.5', 'example 1']),
    (np.array([[1, 0], [1, 0], [0, 1.]]), 3, 'softmax', 2, ValueError, ['one-hot', 'column 0', 'np.eye(3)']),
    (np.full((3, 2), 1 / 3), 3, 'softmax', 2, ValueError, ['one-hot']),
    (np.zeros((3, 2)), 3, 'softmax', 2, ValueError, ['one-hot']),
    (np.array([[np.nan, 1.0]]), 1, 'Linear', 2, ValueError, ['1 NaN', 'Y[0, 0]']),
    (np.array([0, np.inf]), 1, 'sigmoid', 2, ValueError, ['inf', 'Y[0, 1]']),
    (np.array([0, np.nan, 1]), 3, 'softmax', 3, ValueError, ['NaN', 'Y[1]']),
    (np.ones((1, 0)), 1, 'Linear', None, ValueError, ['empty']),
    (np.ones((1, 2, 3)), 1, 'Linear', 2, ValueError, ['3-D']),
    (np.array(['a', 'b']), 2, 'softmax', 2, TypeError, ['numeric']),
    (np.array([1 + 1j]), 1, 'Linear', 1, TypeError, ['complex']),
    (np.ones(3), 1, 'relux', 3, ValueError, ['unknown activation', "'ReLu'"]),
    (np.ones(3), 1, 3, 3, TypeError, ['str']),
])
def test_check_Y_rejects(Y, n, act, m, exc, words):
    with raises(exc, *words): check_Y(Y, n, act, m)


# ---------------------------------------------------------------- hyperparameters
GOOD = dict(epoch=3, lr=0.01, minibatch_size=16, lamda=0.0)


def test_check_hyperparameters_valid():
    assert check_hyperparameters(**GOOD) is None
    assert check_hyperparameters(np.int64(1), np.float32(1e-4), np.int8(1), 0, beta1=0, beta2=0.5,
                                 epsilon=1e-12) is None


@pytest.mark.parametrize('bad, exc', [
    (dict(epoch=0), ValueError), (dict(epoch=-3), ValueError), (dict(epoch=2.0), TypeError),
    (dict(epoch=True), TypeError), (dict(epoch=None), TypeError),
    (dict(lr=0), ValueError), (dict(lr=-0.1), ValueError), (dict(lr=float('nan')), ValueError),
    (dict(lr=float('inf')), ValueError), (dict(lr='0.1'), TypeError), (dict(lr=True), TypeError),
    (dict(minibatch_size=0), ValueError), (dict(minibatch_size=8.0), TypeError),
    (dict(minibatch_size=False), TypeError),
    (dict(lamda=-0.01), ValueError), (dict(lamda=float('inf')), ValueError), (dict(lamda=None), TypeError),
    (dict(beta1=1.0), ValueError), (dict(beta1=-0.1), ValueError), (dict(beta2=1.5), ValueError),
    (dict(epsilon=0.0), ValueError), (dict(epsilon=-1e-8), ValueError),
])
def test_check_hyperparameters_rejects(bad, exc):
    (key, value), = bad.items()
    rng_words = {'epoch': '>= 1', 'minibatch_size': '>= 1', 'lr': '(0, inf)', 'lamda': '[0, inf)',
                 'beta1': '[0, 1)', 'beta2': '[0, 1)', 'epsilon': '(0, inf)'}[key]
    with raises(exc, key, repr(value), rng_words):
        check_hyperparameters(**(GOOD | bad))


def test_check_minibatch_for_batchnorm():
    bn = parse_layers([(3, False, 'ReLu', 1), (4, True, 'ReLu', 1), (1, False, 'sigmoid', 1)])
    plain = parse_layers([(3, False, 'ReLu', 1), (4, False, 'ReLu', 1), (1, False, 'sigmoid', 1)])
    check_minibatch_for_batchnorm(2, bn)
    check_minibatch_for_batchnorm(1, plain)
    with raises(ValueError, 'BatchNorm needs at least 2 examples per mini-batch in training', 'layer(s) [1]'):
        check_minibatch_for_batchnorm(1, bn)


# ---------------------------------------------------------------- layer list and activation names
@pytest.mark.parametrize('layers, exc, words', [
    ([(4, False, 'ReLu', 1)], ValueError, ['at least 2']),
    ([], ValueError, ['at least 2']),
    ('784-10', TypeError, ['list']),
    ([(4, False, 'ReLu', 1), (3, False, 'softmax')], ValueError, ['layer 1', '4 entries']),
    ([(4, False, 'ReLu', 1), 3], TypeError, ['layer 1', 'tuple']),
    ([(4, False, 'ReLu', 1), (0, False, 'softmax', 1)], ValueError, ['neurons', 'positive']),
    ([(4, False, 'ReLu', 1), (2.5, False, 'softmax', 1)], TypeError, ['neurons']),
    ([(4, False, 'ReLu', 1), (8, 'yes', 'ReLu', 1), (3, False, 'softmax', 1)], TypeError, ['batchnorm']),
    ([(4, False, 'ReLu', 1), (8, False, 'relux', 1), (3, False, 'softmax', 1)], ValueError,
     ['unknown activation', "did you mean 'ReLu'"]),
    ([(4, False, 'ReLu', 1), (8, False, 'sigmod', 1), (3, False, 'softmax', 1)], ValueError,
     ["did you mean 'sigmoid'"]),
    ([(4, False, 'ReLu', 1), (8, False, 'softmax', 1), (3, False, 'softmax', 1)], ValueError,
     ['softmax', 'output layer']),
    ([(4, False, 'ReLu', 1), (8, False, 'ReLu', 0), (3, False, 'softmax', 1)], ValueError, ['keep_prob', '(0, 1]']),
    ([(4, False, 'ReLu', 1), (8, False, 'ReLu', 1.5), (3, False, 'softmax', 1)], ValueError, ['keep_prob']),
    ([(4, False, 'ReLu', 1), (8, False, 'ReLu', -0.2), (3, False, 'softmax', 1)], ValueError, ['keep_prob']),
    ([(4, False, 'ReLu', 1), (8, False, 'ReLu', float('nan')), (3, False, 'softmax', 1)], ValueError, ['keep_prob']),
    ([(4, False, 'ReLu', 1), (3, True, 'softmax', 1)], ValueError, ['output layer', 'batchnorm']),
    ([(4, True, 'ReLu', 1), (3, False, 'softmax', 1)], ValueError, ['input layer', 'standardize']),
    ([(4, False, 'ReLu', 1), (1, False, 'softmax', 1)], ValueError, ['softmax', 'sigmoid']),
])
def test_parse_layers_rejects(layers, exc, words):
    with raises(exc, *words): parse_layers(layers)


def test_canonical_activation():
    assert {canonical_activation(s) for s in ('relu', 'RELU', 'ReLU', 'ReLu')} == {'ReLu'}
    with raises(ValueError, 'unknown activation', "did you mean 'tanh'"): canonical_activation('tahn')
    with raises(TypeError, 'str'): canonical_activation(None)
