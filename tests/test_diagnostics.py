"""Issue 19: the observing diagnostics of chapter 15 (`mlp.diagnostics`) leave training bitwise unchanged.

Each callback alone, attached at every mini-batch to a network whose training draws random numbers
at every step (dropout) and keeps running statistics (BatchNorm), must give the same costs, history,
parameters, running statistics, generator state and predictions as the run without it; and the
learning-rate range test must leave the model it tests exactly as it was."""
import numpy as np
import pytest

from mlp.diagnostics import ActivationStats, GradientStats, UpdateRatio, lr_range_test
from mlp.model import Multilayerperceptron

LAYERS = [(6, False, 'ReLu', 1), (16, True, 'ReLu', 0.8), (8, False, 'tanh', 0.9), (3, False, 'softmax', 1)]


def data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((6, 150))
    y = (X[0] + X[1] > 0).astype(int) + (X[2] > 0.5)
    return X, y


def model(**kw):
    return Multilayerperceptron(**(dict(layer_construct=LAYERS, epoch=3, lr=0.01, minibatch_size=16, seed=3) | kw))


def state(m, X):
    return dict(costs=list(m.costs), history={k: list(v) for k, v in m.history.items()},
                params={k: v.copy() for k, v in m.parameters.items()}, bn={k: v.copy() for k, v in m.bn_state.items()},
                rng=m.rng.bit_generator.state, opt={k: np.array(v, copy=True) for k, v in m.optimizer.state_dict().items()},
                pred=m.predict(X))


def assert_bitwise_equal(a, b):
    assert a["costs"] == b["costs"] and a["history"] == b["history"] and a["rng"] == b["rng"]
    for key in ("params", "bn", "opt"):
        assert a[key].keys() == b[key].keys()
        for k in a[key]:
            assert np.array_equal(a[key][k], b[key][k]), (key, k)
    assert np.array_equal(a["pred"], b["pred"])


@pytest.mark.parametrize("make", [lambda X: ActivationStats(X[:, :40], every=1), lambda X: GradientStats(every=1),
                                  lambda X: UpdateRatio(every=1), lambda X: ActivationStats(X[:, :40], every=3),
                                  lambda X: UpdateRatio(every=2)],
                         ids=["ActivationStats", "GradientStats", "UpdateRatio", "ActivationStats-every3", "UpdateRatio-every2"])
def test_observing_callback_leaves_training_bitwise_unchanged(make):
    X, y = data()
    plain = model().fit(X[:, :120], y[:120], validation_data=(X[:, 120:], y[120:]))
    cb = make(X)
    watched = model().fit(X[:, :120], y[:120], validation_data=(X[:, 120:], y[120:]), callbacks=[cb])
    assert_bitwise_equal(state(plain, X), state(watched, X))
    assert cb.history and all(len(v) == len(cb.history["step"]) for v in cb.history.values())


def test_all_callbacks_together_and_a_second_fit():
    X, y = data()
    plain = model().fit(X, y)
    plain.fit(X, y)
    cbs = [ActivationStats(X[:, :30], every=1), GradientStats(every=1), UpdateRatio(every=1)]
    watched = model().fit(X, y, callbacks=cbs)
    watched.fit(X, y, callbacks=cbs)
    assert_bitwise_equal(state(plain, X), state(watched, X))
    n_steps = 2 * 3 * 10                                     # 2 fits x 3 epochs x ceil(150 / 16) mini-batches
    assert len(cbs[1].history["step"]) == len(cbs[2].history["step"]) == n_steps
    assert len(cbs[0].history["step"]) == 1 + n_steps        # plus the record before the first step


def test_records_are_copies():
    X, y = data()
    grads, ratios = GradientStats(every=1), UpdateRatio(every=1)
    m = model(epoch=1).fit(X, y, callbacks=[grads, ratios])
    before = [r.copy() for r in grads.history["rms"]]
    m.fit(X, y)                                              # further training must not change what was recorded
    assert all(np.array_equal(a, b) for a, b in zip(before, grads.history["rms"]))
    assert all(b is not m.parameters[f"W{l + 1}"] for l, b in enumerate(ratios.before))


def test_lr_range_test_leaves_the_model_unchanged():
    X, y = data()
    m = model()
    m.fit(X, y)                                              # with optimizer state, history and a used generator
    before = state(m, X)
    lr, n_epochs = m.optimizer.lr, m.n_epochs_trained_
    result = lr_range_test(m, X, y, lr_min=1e-5, lr_max=10.0, steps=60)
    assert_bitwise_equal(before, state(m, X))
    assert m.optimizer.lr == lr and m.n_epochs_trained_ == n_epochs and m.epoch == 3
    assert 0 < len(result["loss"]) <= 60 and len(result["lr"]) == len(result["loss"]) == len(result["smoothed"])
    assert np.all(np.diff(result["lr"]) > 0) and result["lr"][0] == pytest.approx(1e-5)
    assert 1e-6 <= result["suggested"] <= 1.0


def test_every_must_be_a_positive_int():
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="every"):
            GradientStats(every=bad)


def test_lr_range_test_applies_each_learning_rate_in_turn(monkeypatch):
    from mlp.optim import SGD
    seen, begin = [], SGD._begin_step

    # on the class: the deep copy's optimizer uses it too. _begin_step starts every update,
    # whether the model calls step or step_flat (all parameters at once, chapter 8)
    def recording_begin(self):
        seen.append((self, self.lr))
        return begin(self)
    monkeypatch.setattr(SGD, "_begin_step", recording_begin)
    X, y = data()
    m = model(optimizer="sgd", minibatch_size=150)          # one mini-batch per epoch
    result = lr_range_test(m, X, y, lr_min=1e-4, lr_max=1e-2, steps=5, stop_factor=1e9)
    assert np.allclose(result["lr"], np.geomspace(1e-4, 1e-2, 5), rtol=1e-12)
    assert [lr for _, lr in seen] == list(result["lr"])      # lr[k] before mini-batch k, every one of them
    assert all(opt is not m.optimizer for opt, _ in seen) and m.optimizer.lr == 0.01   # on the copy only


def test_histograms_count_what_falls_outside_and_the_zeros():
    X, y = data()
    acts = ActivationStats(X[:, :40], every=1, bins=np.linspace(-0.5, 0.5, 11))
    grads = GradientStats(every=1, log_bins=np.linspace(-3, -1, 11))
    m = model(epoch=1).fit(X, y, callbacks=[acts, grads])
    sizes = np.array([m.parameters[f"W{l}"].size for l in range(1, len(m.layers))])
    total = grads.array("hist").sum(axis=2) + grads.array("zeros") + grads.array("below") + grads.array("above")
    assert np.all(total == sizes)                            # every entry of every dW counted once
    assert grads.array("below").sum() > 0 and grads.array("above").sum() > 0
    n_entries = np.array([s.neurons for s in m.layers[1:-1]]) * 40
    assert np.all(acts.array("hist").sum(axis=2) + acts.array("below") + acts.array("above") == n_entries)
    assert acts.array("above").sum() > 0                     # ReLU outputs above 0.5 are counted, not dropped
