"""Contract of `Multilayerperceptron` that chapter 14 states and other chapters rely on."""
import numpy as np
import pytest
from sklearn import metrics as skm

import mlp


def test_multilabel_matrix_eval_is_micro_average_over_labels():
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((4, 50)), rng.integers(0, 2, (3, 50))
    model = mlp.Multilayerperceptron(layer_construct=[(4, False, 'ReLu', 1), (8, False, 'tanh', 1),
                                                      (3, False, 'sigmoid', 1)], epoch=3, seed=0).fit(X, Y)
    P = model.predict_class(X)
    assert P.shape == (3, 50)
    acc, precision, recall, f1 = model.matrix_eval(Y, P)
    assert acc == pytest.approx(np.mean(Y == P), abs=1e-12)
    for ours, theirs in ((precision, skm.precision_score), (recall, skm.recall_score), (f1, skm.f1_score)):
        assert ours == pytest.approx(theirs(Y.T, P.T, average="micro", zero_division=0), abs=1e-12)
    with pytest.raises(ValueError, match="one row per"):
        model.matrix_eval(Y[0], P)


def test_fit_returns_self_and_history_lengths():
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((5, 40)), rng.integers(0, 3, 40)
    model = mlp.Multilayerperceptron(layer_construct=[(5, False, 'ReLu', 1), (6, True, 'ReLu', 0.8),
                                                      (3, False, 'softmax', 1)], epoch=4, seed=2)
    assert model.fit(X, y, validation_data=(X, y)) is model
    assert len(model.costs) == len(model.history["cost"]) == len(model.history["val_cost"]) == 4
    assert model.n_epochs_trained_ == 4 and model.is_fitted_


def test_training_diverges_loudly_without_numpy_warnings(recwarn):
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((3, 64)) * 100, rng.standard_normal((1, 64)) * 100
    model = mlp.Multilayerperceptron(layer_construct=[(3, False, 'ReLu', 1), (16, False, 'ReLu', 1),
                                                      (1, False, 'Linear', 1)], lr=1e6, adam=False, epoch=50, seed=0)
    with pytest.raises(ValueError, match=r"epoch \d+.*smaller learning rate"):
        model.fit(X, Y)
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]
