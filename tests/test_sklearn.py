"""scikit-learn conformance of `mlp.sklearn` (appendix A4, nbs/a4_sklearn.ipynb).

The estimators must pass scikit-learn's own estimator checks (`check_estimator`), run here one
pytest test per check through `parametrize_with_checks`, for the default hyperparameters and
for a second configuration that switches every other option (SGD, dropout, L2, tanh, no
BatchNorm). No check is expected to fail: `EXPECTED_FAILED_CHECKS` is where a check that
cannot apply would be listed with its reason. Checks that scikit-learn itself skips in this
environment (pandas data frames when pandas is absent, array API without SCIPY_ARRAY_API)
show up as pytest skips with scikit-learn's reason (`pytest -rs`).

The remaining tests pin the behaviour the chapter promises: labels of any type, sigmoid for
two classes, softmax for more and one sigmoid per label for multi-label data, 1-D and 2-D
regression targets, hyperparameter errors named
in the estimator's vocabulary, and `import mlp` staying free of scikit-learn."""
import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("sklearn", reason="mlp.sklearn needs scikit-learn (pip install scikit-learn)")

from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import check_estimator, parametrize_with_checks

from mlp.model import Multilayerperceptron
from mlp.sklearn import MLPClassifier, MLPRegressor

ROOT = Path(__file__).resolve().parent.parent
OTHER = dict(batchnorm=False, keep_prob=0.8, optimizer="sgd", lamda=0.01, activation="tanh")
ESTIMATORS = [MLPClassifier(), MLPRegressor(), MLPClassifier(**OTHER), MLPRegressor(**OTHER)]

# estimator class name -> {check name: reason it cannot pass}. Empty: every check applies and passes.
EXPECTED_FAILED_CHECKS = {"MLPClassifier": {}, "MLPRegressor": {}}


def expected_failed_checks(estimator):
    return EXPECTED_FAILED_CHECKS[type(estimator).__name__]


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failed_checks)
def test_sklearn_estimator_check(estimator, check):
    check(estimator)


@pytest.mark.parametrize("estimator", [MLPClassifier(), MLPRegressor()], ids=lambda e: type(e).__name__)
def test_check_estimator_public_entry_point(estimator):
    "The whole suite through check_estimator itself: no failure, and the skips are only scikit-learn's own."
    results = check_estimator(estimator, expected_failed_checks=expected_failed_checks(estimator),
                              on_fail=None, on_skip=None)
    failed = [(r["check_name"], repr(r["exception"])) for r in results if r["status"] == "failed"]
    assert not failed, failed
    skipped = {r["check_name"]: str(r["exception"]) for r in results if r["status"] == "skipped"}
    environment = ("pandas", "SCIPY_ARRAY_API", "does not have a decision_function")
    assert all(any(w in why for w in environment) for why in skipped.values()), skipped
    assert sum(r["status"] == "passed" for r in results) >= 45


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((240, 4))
    y = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 0.5)  # 3 classes
    return X, y


@pytest.mark.parametrize("labels", [["a", "b", "c"], [-3, 7, 42], [2.0, 10.0, 11.0]])
def test_any_labels_map_through_classes(data, labels):
    X, y = data
    yl = np.array(labels)[y]
    est = MLPClassifier(epochs=10, random_state=0).fit(X, yl)
    assert np.array_equal(est.classes_, np.unique(yl))
    P = est.predict_proba(X)
    assert P.shape == (len(X), 3) and np.allclose(P.sum(axis=1), 1)
    pred = est.predict(X)
    assert pred.dtype == yl.dtype and np.array_equal(pred, est.classes_[P.argmax(axis=1)])
    assert est.score(X, yl) > 0.8


def test_binary_uses_one_sigmoid_unit(data):
    X, _ = data
    y = np.where(X[:, 0] > 0, "pos", "neg")
    est = MLPClassifier(epochs=10, random_state=0).fit(X, y)
    assert est.model_.layers[-1] == (1, False, "sigmoid", 1.0) and est.out_activation_ == "sigmoid"
    P = est.predict_proba(X)
    assert P.shape == (len(X), 2)
    assert np.allclose(P[:, 1], est.model_.predict(X.T)[0]) and np.allclose(P.sum(axis=1), 1)
    assert est.score(X, y) > 0.9


def test_multiclass_uses_softmax(data):
    X, y = data
    est = MLPClassifier(hidden_layer_sizes=(8,), epochs=3, random_state=0).fit(X, y)
    assert est.model_.layers[-1] == (3, False, "softmax", 1.0)
    assert [s.neurons for s in est.model_.layers] == [4, 8, 3] and est.model_.layers[1].batchnorm


def test_multilabel_uses_one_sigmoid_per_label(data):
    X, _ = data
    Y = np.c_[X[:, 0] > 0, X[:, 1] > 0, X[:, 0] + X[:, 3] > 1].astype(int)
    est = MLPClassifier(epochs=20, random_state=0).fit(X, Y)
    assert est.model_.layers[-1] == (3, False, "sigmoid", 1.0)
    assert np.array_equal(est.classes_, [0, 1, 2])
    P = est.predict_proba(X)
    assert P.shape == (len(X), 3) and np.array_equal(est.predict(X), (P >= 0.5).astype(int))
    assert est.score(X, Y) > 0.7  # subset accuracy: every label of a sample right


def test_two_d_multiclass_targets_are_refused(data):
    X, y = data
    with pytest.raises(ValueError, match="indicator matrix"):
        MLPClassifier().fit(X, np.c_[y, y])


def test_column_of_labels_warns_and_matches_1d(data):
    from sklearn.exceptions import DataConversionWarning
    X, y = data
    est = MLPClassifier(epochs=3, random_state=0)
    with pytest.warns(DataConversionWarning):
        col = clone(est).fit(X, y[:, None])
    assert np.array_equal(col.predict(X), clone(est).fit(X, y).predict(X))


def test_adapter_is_the_model_on_transposed_data(data):
    "Same seed, same arithmetic: the estimator's outputs are bit-identical to the model's."
    X, y = data
    est = MLPClassifier(hidden_layer_sizes=(16,), keep_prob=0.9, lamda=0.1, epochs=4,
                        minibatch_size=32, random_state=5).fit(X, y)
    model = Multilayerperceptron(
        layer_construct=[(4, False, "ReLu", 1), (16, True, "ReLu", 0.9), (3, False, "softmax", 1)],
        epoch=4, lr=0.01, minibatch_size=32, Regularization=True, lamda=0.1, seed=5).fit(X.T, y)
    assert np.array_equal(est.predict_proba(X), model.predict(X.T).T)
    assert est.loss_curve_ == model.history["cost"] and est.n_iter_ == 4


@pytest.mark.parametrize("shape", ["1d", "column", "2d"])
def test_regressor_targets_keep_their_shape(data, shape):
    X, _ = data
    t = X[:, 0] - 2 * X[:, 1]
    y = {"1d": t, "column": t[:, None], "2d": np.c_[t, X[:, 2] ** 2]}[shape]
    est = MLPRegressor(epochs=40, random_state=0).fit(X, y)
    assert est.predict(X).shape == y.shape
    assert est.n_outputs_ == (1 if y.ndim == 1 else y.shape[1]) == est.model_.layers[-1].neurons
    assert est.model_.layers[-1].activation == "Linear" and est.score(X, y) > 0.8


def test_params_clone_pickle(data):
    X, y = data
    est = MLPClassifier(hidden_layer_sizes=(8,), epochs=2, random_state=0)
    assert est.get_params()["hidden_layer_sizes"] == (8,)
    with pytest.raises(NotFittedError):
        est.predict(X)
    est.fit(X, y)
    c = clone(est)
    assert c.get_params() == est.get_params() and not hasattr(c, "model_")
    again = pickle.loads(pickle.dumps(est))
    assert np.array_equal(again.predict_proba(X), est.predict_proba(X))
    refit = clone(est).fit(X, y)  # same random_state -> same network
    assert np.array_equal(refit.predict_proba(X), est.predict_proba(X))


@pytest.mark.parametrize("params, error, words", [
    (dict(hidden_layer_sizes=(8, 0)), ValueError, "hidden_layer_sizes"),
    (dict(hidden_layer_sizes="64"), ValueError, "hidden_layer_sizes"),
    (dict(optimizer="rmsprp"), ValueError, "optimizer"),
    (dict(epochs=0), ValueError, "epochs"),
    (dict(epochs=2.5), TypeError, "epochs"),
    (dict(batchnorm="yes"), TypeError, "batchnorm"),
    (dict(random_state=-1), ValueError, "random_state"),
    (dict(random_state="abc"), ValueError, "random_state"),
    (dict(lr=-0.1), ValueError, "lr"),
    (dict(minibatch_size=0), ValueError, "minibatch_size"),
    (dict(lamda=-1.0), ValueError, "lamda"),
    (dict(keep_prob=1.5), ValueError, "keep_prob"),
    (dict(activation="relux"), ValueError, "relux"),
])
def test_bad_hyperparameters_fail_in_fit_by_name(data, params, error, words):
    X, y = data
    est = MLPClassifier().set_params(**params)  # storing never fails (sklearn's rule)
    with pytest.raises(error, match=words):
        est.fit(X, y)


def test_one_class_and_one_sample_are_refused_clearly(data):
    X, y = data
    with pytest.raises(ValueError, match="one class"):
        MLPClassifier().fit(X, np.zeros(len(X)))
    with pytest.raises(ValueError, match="n_samples = 1"):
        MLPRegressor().fit(X[:1], np.ones(1))
    assert MLPRegressor(batchnorm=False, epochs=2).fit(X[:1], np.ones(1)).predict(X).shape == (len(X),)


def test_random_state_generators(data):
    X, y = data
    fit = lambda rs: MLPClassifier(hidden_layer_sizes=(8,), epochs=2, random_state=rs).fit(X, y).predict_proba(X)
    assert np.array_equal(fit(np.random.default_rng(1)), fit(np.random.default_rng(1)))
    assert np.array_equal(fit(np.random.RandomState(1)), fit(np.random.RandomState(1)))
    assert not np.array_equal(fit(None), fit(None))  # fresh entropy each fit


def test_float32_and_wrong_feature_count(data):
    X, y = data
    est = MLPClassifier(epochs=2, random_state=0).fit(X.astype(np.float32), y)
    assert est.predict_proba(X.astype(np.float32)).dtype == np.float64
    with pytest.raises(ValueError, match="features"):
        est.predict(X[:, :3])


def test_pipeline_cross_val_and_grid_search():
    from sklearn.datasets import load_breast_cancer
    data = load_breast_cancer()
    X, y = data.data, data.target_names[data.target]
    pipe = make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(16,), epochs=10, random_state=0))
    assert cross_val_score(pipe, X, y, cv=3).mean() > 0.93
    search = GridSearchCV(pipe, {"mlpclassifier__lamda": [0.0, 1.0]}, cv=3).fit(X, y)
    assert search.best_params_["mlpclassifier__lamda"] in (0.0, 1.0) and search.best_score_ > 0.93


def _python(src):
    env = os.environ | {"PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, "-c", src], capture_output=True, text=True, env=env, cwd=ROOT)


def test_import_mlp_does_not_import_sklearn():
    p = _python("import sys, mlp, mlp.model, mlp.data, mlp.persistence; print('sklearn' in sys.modules)")
    assert p.returncode == 0 and p.stdout.strip() == "False", p.stderr


def test_missing_sklearn_gives_install_hint():
    p = _python("import sys; sys.modules['sklearn'] = None\nimport mlp\nimport mlp.sklearn")
    assert p.returncode != 0
    assert "ImportError" in p.stderr and "pip install scikit-learn" in p.stderr, p.stderr
