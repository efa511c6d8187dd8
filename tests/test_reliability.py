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
    assert out.dtype == np.float32 and np.array_equal(out, X4.astype(np.float32))
    XF = np.asfortranarray(X4)
    assert check_X(XF, 4) is XF                                     # memory order kept, no copy
    assert np.shares_memory(check_X(X4[:, ::3], 4), X4)
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
    ([(4, False, 'ReLu', 1), (0, False, 'softmax', 1)], ValueError, ['neurons', '>= 1']),
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


# ================================================================ the model at the boundary
import json
import os
import pickle
import warnings

import mlp
from mlp.model import Multilayerperceptron
from mlp.persistence import FORMAT_VERSION, load_model, read_metadata, save_model

LAYERS = [(4, False, 'ReLu', 1), (8, True, 'ReLu', 0.8), (6, False, 'tanh', 0.9), (3, False, 'softmax', 1)]
XM = np.random.default_rng(1).standard_normal((4, 60))
YM = (XM[0] > 0).astype(int) + (XM[1] > 0.5)


def make(**kw):
    return Multilayerperceptron(**(dict(epoch=3, lr=0.01, layer_construct=LAYERS, minibatch_size=16, seed=3) | kw))


@pytest.mark.parametrize('X, Y, exc, words', [
    (XM.T, YM, ValueError, ['transpose', 'X.T']),
    (XM, YM[:-1], ValueError, ['X has 60 examples but Y has 59']),
    (XM, np.ones((2, 60)), ValueError, ['2 rows', '3 units']),
    (XM, np.where(YM == 2, 3, YM), ValueError, ['label 3', 'outside [0, 3)']),
    (XM, np.full((3, 60), 1 / 3), ValueError, ['one-hot']),
    (np.where(np.arange(60) == 7, np.nan, XM), YM, ValueError, ['NaN', 'example 7']),
    (XM, np.where(np.arange(60) == 5, np.inf, YM), ValueError, ['inf', 'example 5']),
    (XM.astype(str), YM, TypeError, ['numeric']),
    (XM.astype(object), YM, TypeError, ['numeric']),
    (XM[:, :0], YM[:0], ValueError, ['empty']),
    (XM[:, 0], YM[:1], ValueError, ['1-D', 'reshape(4, -1)']),
])
def test_fit_rejects_bad_data(X, Y, exc, words):
    model = make()
    W1 = model.parameters['W1'].copy()
    with raises(exc, *words): model.fit(X, Y)
    assert np.array_equal(model.parameters['W1'], W1) and not model.is_fitted_   # nothing trained


def test_sigmoid_labels_message():
    model = make(layer_construct=[(4, False, 'ReLu', 1), (5, False, 'ReLu', 1), (1, False, 'sigmoid', 1)])
    y = (XM[0] > 0).astype(int); y[7] = 2
    with raises(ValueError, 'labels for a sigmoid output must be 0 or 1 (probabilities in [0, 1]); got 2 at example 7'):
        model.fit(XM, y)


@pytest.mark.parametrize('kw, exc, words', [
    (dict(lr=0), ValueError, ['lr', '0']), (dict(lr=-1.0), ValueError, ['lr']),
    (dict(epoch=0), ValueError, ['epoch']), (dict(epoch=True), TypeError, ['epoch', 'bool']),
    (dict(minibatch_size=0), ValueError, ['minibatch_size']), (dict(lamda=-0.5), ValueError, ['lamda']),
    (dict(layer_construct=[(4, False, 'ReLu', 1)]), ValueError, ['at least 2']),
    (dict(layer_construct=[(4, False, 'ReLu', 1), (3, False, 'softmax')]), ValueError, ['4 entries']),
    (dict(layer_construct=[(4, False, 'ReLu', 1), (8, False, 'Relu6', 1), (3, False, 'softmax', 1)]),
     ValueError, ['unknown activation', "did you mean 'ReLu'"]),
    (dict(layer_construct=[(4, False, 'ReLu', 1), (8, False, 'softmax', 1), (3, False, 'softmax', 1)]),
     ValueError, ['softmax', 'output layer']),
    (dict(layer_construct=[(4, False, 'ReLu', 1), (8, False, 'ReLu', 0.0), (3, False, 'softmax', 1)]),
     ValueError, ['keep_prob', '(0, 1]']),
    (dict(layer_construct=[(4, False, 'ReLu', 1), (8, False, 'ReLu', 1.1), (3, False, 'softmax', 1)]),
     ValueError, ['keep_prob']),
])
def test_constructor_rejects(kw, exc, words):
    with raises(exc, *words): make(**kw)


def test_predict_before_fit_is_allowed():
    model = make()
    P = model.predict(XM)
    assert P.shape == (3, 60) and np.isfinite(P).all() and np.allclose(P.sum(axis=0), 1)
    assert model.predict_class(XM).shape == (60,) and not model.is_fitted_


def test_batchnorm_single_example():
    with raises(ValueError, 'BatchNorm needs at least 2 examples per mini-batch in training'):
        make().fit(XM[:, :1], YM[:1])
    make(minibatch_size=29).fit(XM[:, :59], YM[:59])     # 29 + 29 + 1: the single one is merged
    make(layer_construct=[(4, False, 'ReLu', 1), (3, False, 'softmax', 1)]).fit(XM[:, :1], YM[:1])  # no BN: fine


def test_divergence_is_an_error_not_nan():
    X = np.random.default_rng(0).standard_normal((4, 50)); Y = X.sum(axis=0) * 10
    model = make(layer_construct=[(4, False, 'ReLu', 1), (8, False, 'ReLu', 1), (1, False, 'Linear', 1)],
                 lr=1e6, adam=False, epoch=10)
    with np.errstate(over='ignore', invalid='ignore'), pytest.raises(ValueError) as info:
        model.fit(X, Y)                             # overflow on the way to inf is expected
    assert re.search(r'in epoch \d+', str(info.value)) and 'smaller learning rate' in str(info.value)
    assert all(np.isfinite(model.costs))            # no NaN was recorded as a cost
    with pytest.raises(ValueError, match='NaN or inf'):
        with np.errstate(over='ignore', invalid='ignore'):
            model.predict(X)                        # never NaN predictions silently


# ---------------------------------------------------------------- reproducibility
def params_equal(a, b): return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


def test_same_seed_bitwise_identical_different_seed_differs():
    a, b, c = make().fit(XM, YM), make().fit(XM, YM), make(seed=4).fit(XM, YM)
    assert params_equal(a.parameters, b.parameters) and params_equal(a.bn_state, b.bn_state)
    assert a.costs == b.costs and np.array_equal(a.predict(XM), b.predict(XM))
    assert not np.array_equal(a.parameters['W1'], c.parameters['W1']) and a.costs != c.costs


def test_float32_same_seed_identical():
    a, b = make(dtype='float32').fit(XM, YM), make(dtype='float32').fit(XM, YM)
    assert a.parameters['W1'].dtype == np.float32 and params_equal(a.parameters, b.parameters)
    assert np.array_equal(a.predict(XM), b.predict(XM))


# ---------------------------------------------------------------- save / load
@pytest.mark.parametrize('kw', [dict(), dict(adam=False), dict(dtype='float32'), dict(Regularization=True, lamda=0.1),
                                dict(layer_construct=[(4, False, 'tanh', 1), (2, False, 'sigmoid', 1)])])
def test_save_load_round_trip_and_resume_bitwise(tmp_path, kw):
    Y = YM if 'layer_construct' not in kw else np.stack([XM[0] > 0, XM[1] > 0]).astype(int)
    a = make(**kw).fit(XM, Y)
    b = load_model(save_model(a, tmp_path / 'm.npz'))
    assert params_equal(a.parameters, b.parameters) and params_equal(a.bn_state, b.bn_state)
    assert params_equal(a.optimizer.state_dict(), b.optimizer.state_dict())
    assert np.array_equal(a.predict(XM), b.predict(XM)) and a.predict(XM).dtype == b.predict(XM).dtype
    assert a.costs == b.costs and a.history == b.history and a.get_config() == b.get_config()
    assert b.is_fitted_ and b.n_epochs_trained_ == a.n_epochs_trained_ == 3
    assert a.rng.bit_generator.state == b.rng.bit_generator.state
    a.fit(XM, Y); b.fit(XM, Y)                                   # continue both
    assert params_equal(a.parameters, b.parameters) and a.costs == b.costs
    never_saved = make(**kw).fit(XM, Y).fit(XM, Y)
    assert params_equal(never_saved.parameters, b.parameters)


def test_save_load_with_validation_history_and_untrained(tmp_path):
    a = make().fit(XM[:, :40], YM[:40], validation_data=(XM[:, 40:], YM[40:]))
    b = mlp.load(a.save(tmp_path / 'v.npz'))
    assert b.history == a.history and set(b.history) == {'cost', 'val_cost', 'val_metric'}
    u = make()
    v = load_model(save_model(u, tmp_path / 'u.npz'))
    assert not v.is_fitted_ and v.optimizer.state_dict().keys() == u.optimizer.state_dict().keys()
    assert np.array_equal(u.predict(XM), v.predict(XM))
    u.fit(XM, YM); v.fit(XM, YM)
    assert params_equal(u.parameters, v.parameters)


def test_save_path_handling_and_atomicity(tmp_path):
    a = make()
    p = save_model(a, str(tmp_path / 'model'))                # .npz added, as np.savez does
    assert p == tmp_path / 'model.npz' and p.exists()
    assert sorted(os.listdir(tmp_path)) == ['model.npz']       # no temporary file left behind
    assert load_model(tmp_path / 'model').get_config() == a.get_config()
    with raises(TypeError, 'path'): save_model(a, 3)
    with pytest.raises(FileNotFoundError): load_model(tmp_path / 'missing.npz')


def test_lr_schedule_is_not_saved_and_says_so(tmp_path):
    a = make(lr_schedule=lambda epoch: 0.01 * 0.5 ** epoch).fit(XM, YM)
    with pytest.warns(UserWarning, match='lr_schedule'):
        save_model(a, tmp_path / 's.npz')


def test_file_holds_only_numeric_arrays_and_json(tmp_path):
    p = save_model(make().fit(XM, YM), tmp_path / 'm.npz')
    with np.load(p, allow_pickle=False) as f:
        assert all(f[k].dtype != object for k in f.files)
        meta = json.loads(f['__meta__'].tobytes().decode('utf-8'))
    assert meta['format'] == 'mlp-model' and meta['version'] == FORMAT_VERSION == 1
    assert read_metadata(p) == meta


def _rewrite(src, dst, edit):
    with np.load(src) as f: arrays = {k: f[k] for k in f.files}
    edit(arrays)
    np.savez(dst, **arrays)
    return dst


def _set_meta(arrays, **changes):
    meta = json.loads(arrays['__meta__'].tobytes()) | changes
    arrays['__meta__'] = np.frombuffer(json.dumps(meta).encode(), np.uint8)


def _set_config(arrays, **changes):
    meta = json.loads(arrays['__meta__'].tobytes())
    _set_meta(arrays, config=meta['config'] | changes)


@pytest.mark.parametrize('edit, words', [
    (lambda a: a.pop('param.b3'), ["missing ['param.b3']"]),
    (lambda a: a.pop('param.W2'), ["'param.W2'", 'no array']),
    (lambda a: a.pop('opt.m.W1'), ["missing ['opt.m.W1']"]),
    (lambda a: a.pop('opt.t'), ["missing ['opt.t']"]),
    (lambda a: a.update(extra=np.zeros(2)), ["unexpected ['extra']"]),
    (lambda a: a.update({'param.W1': np.zeros((8, 5))}), ["'param.W1'", '(8, 4)']),
    (lambda a: a.update({'bn.running_var1': np.ones((7, 1))}), ["'bn.running_var1' has shape (7, 1)"]),
    (lambda a: a.update({'param.b2': a['param.b2'].astype(np.float32)}), ["'param.b2'", 'float32', 'float64']),
    (lambda a: a['param.W3'].fill(np.nan), ["'param.W3'", 'NaN']),
    (lambda a: a.update({'param.W1': np.array([print] * 32, dtype=object).reshape(8, 4)}), ['pickled']),
    (lambda a: a.pop('__meta__'), ['__meta__', 'not an mlp model file']),
    (lambda a: a.update(__meta__=np.frombuffer(b'{"format": ', np.uint8)), ['not valid UTF-8 JSON']),
    (lambda a: a.update(__meta__=np.array('{}')), ['uint8']),
    (lambda a: _set_meta(a, version=2), ['version 2', 'reads version 1']),
    (lambda a: _set_meta(a, format='keras'), ['not an mlp model file']),
    (lambda a: _set_meta(a, surprise=1), ["unexpected ['surprise']"]),
    (lambda a: _set_meta(a, is_fitted='yes'), ["'is_fitted'"]),
    (lambda a: _set_meta(a, rng={'bit_generator': 'MT19937', 'state': {}}), ['random generator state']),
    (lambda a: _set_meta(a, optimizer={'class': 'SGD', 'lr': 0.1}), ['optimizer state is for SGD']),
    (lambda a: _set_config(a, evil='os.system'), ["unknown constructor keywords ['evil']"]),
    (lambda a: _set_config(a, lr=-1), ['configuration is invalid', 'lr']),
    (lambda a: _set_config(a, layer_construct=[[4, False, 'ReLu', 1]]), ['layer list is invalid', 'at least 2']),
])
def test_load_rejects_damaged_files(tmp_path, edit, words):
    good = save_model(make().fit(XM, YM), tmp_path / 'good.npz')
    bad = _rewrite(good, tmp_path / 'bad.npz', edit)
    with raises(ValueError, *words): load_model(bad)


def test_load_never_unpickles(tmp_path):
    class Boom:
        def __reduce__(self): return (os.system, ('echo should never run',))
    p = tmp_path / 'evil.npz'
    p.write_bytes(pickle.dumps({'W1': Boom()}))
    with raises(ValueError, 'pickled', 'never loaded'): load_model(p)
    np.save(tmp_path / 'one.npy', np.zeros(3)); os.replace(tmp_path / 'one.npy', tmp_path / 'one.npz')
    with raises(ValueError, 'not an .npz archive'): load_model(tmp_path / 'one.npz')
    (tmp_path / 'junk.npz').write_bytes(b'PK\x03\x04 not really a zip')
    with raises(ValueError, 'not a readable mlp model file'): load_model(tmp_path / 'junk.npz')


def test_minibatch_size_one_with_batchnorm():
    model = make(minibatch_size=1)
    W1 = model.parameters['W1'].copy()
    with raises(ValueError, '2 examples', 'minibatch_size'):
        model.fit(XM, YM)
    assert np.array_equal(model.parameters['W1'], W1)          # refused before any step


# Found by the property tests (tests/test_properties.py); the fixes belong in nbs/14_model.ipynb.
def test_dtype_keyword_message():
    with raises(TypeError, 'dtype', 'float64', 'float32'):
        make(dtype=False)


def test_validation_data_without_targets():
    with raises((TypeError, ValueError), 'validation_data'):
        make().fit(XM, YM, validation_data=(XM, None))
