"""The lean training step (chapter 14) and the flat optimizer update (chapter 8): the same numbers
as the plain versions, and the contracts of `model.parameters` with a flat buffer behind it.

Nothing here measures speed (appendix A5 and benchmarks/ do); these are equalities and contracts.
"""
import copy
import pickle

import numpy as np
import pytest

from mlp.model import Multilayerperceptron
from mlp.optim import SGD, Momentum, RMSProp, Adam, AdamW

rng0 = np.random.default_rng(0)
X = rng0.standard_normal((12, 203))
y3 = rng0.integers(0, 3, 203)
y_reg = rng0.standard_normal((2, 203))

CONFIGS = {
    "readme-like f32": dict(layer_construct=[(12, False, "ReLu", 1), (16, True, "ReLu", 0.8),
                                             (8, True, "ReLu", 0.8), (3, False, "softmax", 1)],
                            minibatch_size=64, dtype="float32"),
    "L2, odd batch": dict(layer_construct=[(12, False, "ReLu", 1), (16, True, "ReLu", 0.7),
                                           (3, False, "softmax", 1)],
                          minibatch_size=50, Regularization=True, lamda=0.1),
    "adamw, tanh": dict(layer_construct=[(12, False, "ReLu", 1), (16, False, "tanh", 0.9),
                                         (3, False, "softmax", 1)],
                        minibatch_size=33, optimizer="adamw", weight_decay=0.01),
    "momentum, sigmoid BN": dict(layer_construct=[(12, False, "ReLu", 1), (16, True, "sigmoid", 1),
                                                  (3, False, "softmax", 1)],
                                 minibatch_size=37, optimizer="momentum", dtype="float32"),
    "rmsprop, sigmoid out": dict(layer_construct=[(12, False, "ReLu", 1), (16, False, "ReLu", 1),
                                                  (1, False, "sigmoid", 1)],
                                 minibatch_size=64, optimizer="rmsprop"),
    "sgd, regression, L2": dict(layer_construct=[(12, False, "ReLu", 1), (16, True, "ReLu", 0.8),
                                                 (2, False, "Linear", 1)],
                                minibatch_size=64, optimizer="sgd", Regularization=True,
                                lamda=0.01),
}


def _targets(cfg):
    out = cfg["layer_construct"][-1]
    if out[2] == "Linear": return y_reg
    return y3 % 2 if out[0] == 1 else y3


def _state(model):
    return {**{f"p.{k}": v for k, v in model.parameters.items()},
            **{f"bn.{k}": v for k, v in model.bn_state.items()},
            **{f"opt.{k}": v for k, v in model.optimizer.state_dict().items()}}


@pytest.mark.parametrize("name", list(CONFIGS))
def test_lean_step_is_chapter_7s_step_bitwise(name, monkeypatch):
    cfg = CONFIGS[name]
    lean = Multilayerperceptron(epoch=3, lr=1e-2, seed=1, **cfg).fit(X, _targets(cfg))
    monkeypatch.setattr(Multilayerperceptron, "_plan", lambda self: None)   # chapter 7's step
    plain = Multilayerperceptron(epoch=3, lr=1e-2, seed=1, **cfg).fit(X, _targets(cfg))
    assert lean.costs == plain.costs
    a, b = _state(lean), _state(plain)
    assert a.keys() == b.keys()
    assert all(np.array_equal(a[k], b[k]) for k in a), [k for k in a if not np.array_equal(a[k], b[k])]


def _model(**kw):
    return Multilayerperceptron(**dict(epoch=1, lr=1e-2, seed=0) | CONFIGS["readme-like f32"] | kw)


def test_parameters_are_views_of_one_buffer_and_assignment_copies():
    model = _model()
    W1 = model.parameters["W1"]
    assert np.shares_memory(W1, model._flat) and W1.shape == (16, 12)
    keys = list(model.parameters)
    new = np.full((16, 12), 0.5, np.float32)
    model.parameters["W1"] = new
    assert model.parameters["W1"] is W1 and np.array_equal(W1, new)
    new[...] = 7                                      # a copy: the model does not see this
    assert not np.any(W1 == 7)
    with pytest.raises(ValueError):
        model.parameters["W1"] = np.zeros((12, 16))
    with pytest.raises(KeyError):
        model.parameters["W9"] = np.zeros((2, 2))
    for op in (lambda p: p.pop("W1"), lambda p: p.clear(), lambda p: p.__delitem__("W1"),
               lambda p: p.setdefault("W1", None), lambda p: p.popitem()):
        with pytest.raises(TypeError):
            op(model.parameters)
    # update and |= copy in too (dict's own |= would bypass __setitem__ and detach W1)
    for op in (lambda p, v: p.update(W1=v), lambda p, v: p.update({"W1": v})):
        op(model.parameters, np.full((16, 12), 0.25, np.float32))
        assert model.parameters["W1"] is W1 and np.all(W1 == 0.25)
    params = model.parameters
    params |= {"W1": np.full((16, 12), 0.75, np.float32)}
    assert params is model.parameters and model.parameters["W1"] is W1
    assert np.all(W1 == 0.75) and np.shares_memory(model.parameters["W1"], model._flat)
    with pytest.raises(ValueError):
        params |= {"W1": np.zeros((12, 16))}
    with pytest.raises(KeyError):
        params |= {"W9": np.zeros((2, 2))}
    model.parameters = {k: np.zeros_like(v) for k, v in model.parameters.items()}
    assert model.parameters["W1"] is W1 and not W1.any()
    assert list(model.parameters) == keys
    # training updates the arrays the caller holds
    model = _model()
    W1, before = model.parameters["W1"], model.parameters["W1"].copy()
    model.fit(X, y3)
    assert model.parameters["W1"] is W1 and not np.array_equal(W1, before)


def test_gradients_given_out_are_never_overwritten():
    seen = []

    class Keep:
        def on_batch_end(self, model, logs): seen.append(dict(logs["grads"]))
    model = _model()
    model.fit(X, y3, callbacks=[Keep()])
    assert len(seen) == 4
    assert not any(np.array_equal(seen[0][k], seen[1][k]) for k in ("dW1", "dW2"))
    assert not any(np.shares_memory(g, model._grad_flat) for s in seen for g in s.values())
    Xv, Yv = model.check_inputs(X[:, :64], y3[:64])
    J, grads = model.train_step(Xv, Yv)
    assert not any(np.shares_memory(g, model._grad_flat) for g in grads.values())
    assert grads.keys() == {"d" + k for k in model.parameters}


@pytest.mark.parametrize("how", ["deepcopy", "pickle"])
def test_a_copy_has_its_own_buffer_and_trains_the_same(how):
    a = _model(epoch=2).fit(X, y3)
    b = copy.deepcopy(a) if how == "deepcopy" else pickle.loads(pickle.dumps(a))
    assert not np.shares_memory(b._flat, a._flat)
    assert all(np.shares_memory(v, b._flat) for v in b.parameters.values())
    a.fit(X, y3)
    b.fit(X, y3)
    sa, sb = _state(a), _state(b)
    assert all(np.array_equal(sa[k], sb[k]) for k in sa) and a.costs == b.costs


def test_same_seed_bitwise_whatever_callbacks_watch():
    class Watch:
        def on_batch_end(self, model, logs): np.linalg.norm(logs["grads"]["dW1"])
    a = _model(epoch=2).fit(X, y3)
    b = _model(epoch=2).fit(X, y3, callbacks=[Watch()])
    sa, sb = _state(a), _state(b)
    assert all(np.array_equal(sa[k], sb[k]) for k in sa) and a.costs == b.costs


# ------------------------------------------------------------------ chapter 8: step_flat

def _layout(shapes):
    layout, start = [], 0
    for k, s in shapes.items():
        layout.append((k, start, start + int(np.prod(s)), s))
        start += int(np.prod(s))
    return tuple(layout), start


def plain_adam(p, gs, lr, b1=0.9, b2=0.999, eps=1e-8, wd=0.0, n_decay=0):
    "The formulas of chapter 8, as written there, in float64 arithmetic."
    p, m, v = p.astype(np.float64), 0.0, 0.0
    for t, g in enumerate(gs, start=1):
        g = g.astype(np.float64)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g ** 2
        m_hat, v_hat = m / (1 - b1 ** t), v / (1 - b2 ** t)
        p = p.copy()
        p[:n_decay] = p[:n_decay] - lr * wd * p[:n_decay]
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
    return p


@pytest.mark.parametrize("wd", [0.0, 0.01])
def test_flat_adam_agrees_with_the_plain_formula(wd):
    """The exported update folds both bias corrections into two scalars; in float64 it agrees
    with the textbook formula to a few ulps of the parameters (the decay adds a few more)."""
    layout, n = _layout({"W1": (5, 4), "W2": (3, 5), "b1": (5, 1), "b2": (3, 1)})
    rng = np.random.default_rng(4)
    p0 = rng.standard_normal(n)
    gs = [rng.standard_normal(n) for _ in range(30)]
    opt = Adam(1e-2, weight_decay=wd) if wd == 0 else AdamW(1e-2, weight_decay=wd)
    p = p0.copy()
    for g in gs: opt.step_flat(p, g, layout)
    ref = plain_adam(p0, gs, 1e-2, wd=wd, n_decay=35)
    ulps = np.abs(p - ref) / np.spacing(np.abs(ref))
    assert ulps.max() <= 16, ulps.max()      # measured: 2 (Adam) and 8 (AdamW)


@pytest.mark.parametrize("cls", [SGD, Momentum, RMSProp, Adam, AdamW])
def test_step_flat_is_step_bitwise_and_resumes(cls):
    layout, n = _layout({"W1": (5, 4), "b1": (5, 1), "gamma2": (3, 1)})
    rng = np.random.default_rng(5)
    flat = rng.standard_normal(n).astype(np.float32)
    p = {k: flat[a:b].reshape(s).copy() for k, a, b, s in layout}
    gs = [rng.standard_normal(n).astype(np.float32) for _ in range(10)]
    a, f = cls(0.01), cls(0.01)
    for g in gs[:5]:
        a.step(p, {"d" + k: g[s:e].reshape(sh) for k, s, e, sh in layout})
        f.step_flat(flat, g, layout)
    assert all(np.array_equal(p[k], flat[s:e].reshape(sh)) for k, s, e, sh in layout)
    # save, load into a new optimizer, continue: bitwise the same as continuing
    r = cls(0.01)
    r.load_state_dict(f.state_dict())
    flat_r = flat.copy()
    for g in gs[5:]:
        f.step_flat(flat, g, layout)
        r.step_flat(flat_r, g, layout)
    assert np.array_equal(flat, flat_r)
    c = copy.deepcopy(f)
    assert all(not np.shares_memory(v, f._flat_state[s]) for s in f.slots for v in c.state.values())


def test_adamw_decays_the_weights_wherever_the_layout_puts_them():
    "step_flat reads the decayed entries ('W' keys) from the layout, as step does."
    layout, n = _layout({"b1": (5, 1), "W1": (5, 4), "gamma2": (3, 1), "W2": (3, 5)})
    rng = np.random.default_rng(6)
    flat = rng.standard_normal(n)
    p = {k: flat[a:b].reshape(s).copy() for k, a, b, s in layout}
    a, f = AdamW(0.01, weight_decay=0.1), AdamW(0.01, weight_decay=0.1)
    for _ in range(3):
        g = rng.standard_normal(n)
        a.step(p, {"d" + k: g[s:e].reshape(sh) for k, s, e, sh in layout})
        f.step_flat(flat, g, layout)
    assert all(np.array_equal(p[k], flat[s:e].reshape(sh)) for k, s, e, sh in layout)
