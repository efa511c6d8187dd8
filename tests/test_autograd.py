"""Chapter 19's autograd engine (`mlp.autograd`) against PyTorch and against the hand-derived network.

* Random expressions with broadcasting (full arrays, columns, rows, vectors, scalars; + - * / @,
  unary minus, sum, mean, .T, reshape, relu, sigmoid, tanh, exp, log, sqrt, log_softmax,
  log_sigmoid), evaluated by the engine and by PyTorch in float64: every leaf's gradient within
  1e-12 relative of PyTorch's, and of the leaf's own shape. Domains are kept away from log 0,
  sqrt 0 and division by 0 (the inputs of log and sqrt, and divisors, are x * x + 0.5).
* `network_gradients(model, X, Y, masks)` against `model.gradients(X, Y, masks=masks)` on random
  architectures (every output type x BatchNorm x L2 x dropout, masks given or drawn from the
  model's seed): same keys and shapes, and for every key
  ||g_engine - g_hand|| <= 1e-12 * max(||g_hand||, ||g_all||), g_all all hand gradients.

The PyTorch tests skip when PyTorch is not installed, except under CI (CI=true), where a missing
PyTorch is a failure: CI installs it (`make torch`) and these comparisons must run there.
"""
import itertools
import os

import numpy as np
import pytest

from mlp import autograd as ag
from mlp.model import Multilayerperceptron


@pytest.fixture(scope="module")
def torch():
    try:
        import torch
    except ImportError:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("PyTorch is required under CI (CI=true) for the autograd comparisons: make torch")
        pytest.skip("PyTorch is not installed (make torch)")
    return torch


# ---------------------------------------------------------------- random expressions

SHAPES = [(3, 4), (3, 1), (1, 4), (4,), (1, 1), ()]


class Ops:
    "The same operations for both engines, by name."
    def __init__(self, lib):
        self.lib = lib

    def unary(self, name, x):
        if self.lib == "engine":
            f = {"relu": ag.relu, "sigmoid": ag.sigmoid, "tanh": ag.tanh, "exp": ag.exp, "log": ag.log,
                 "sqrt": ag.sqrt, "log_softmax": ag.log_softmax,
                 "log_sigmoid": ag.log_sigmoid}[name]
        else:
            t = self.lib
            f = {"relu": t.relu, "sigmoid": t.sigmoid, "tanh": t.tanh, "exp": t.exp, "log": t.log,
                 "sqrt": t.sqrt, "log_softmax": lambda a: t.log_softmax(a, dim=0),
                 "log_sigmoid": t.nn.functional.logsigmoid}[name]
        return f(x)

    def reduce(self, name, x):
        eng = self.lib == "engine"
        kw = (lambda axis, keep: dict(axis=axis, keepdims=keep)) if eng else (lambda axis, keep: dict(dim=axis, keepdim=keep))
        if name == "sum0k": return x.sum(**kw(0, True))
        if name == "sum1k": return x.sum(**kw(1, True))
        if name == "mean0": return x.mean(**kw(0, False))
        if name == "mean1k": return x.mean(**kw(1, True))
        if name == "T_reshape": return x.T.reshape(4, 3).T
        raise KeyError(name)


def program(seed):
    "A random straight-line program over leaves of broadcasting shapes: a list of instructions."
    r = np.random.default_rng(seed)
    n_leaves = int(r.integers(3, 6))
    leaves = [SHAPES[0]] + [SHAPES[i] for i in r.integers(0, len(SHAPES), n_leaves - 1)]
    shapes, steps = list(leaves), []
    for _ in range(int(r.integers(6, 14))):
        kind = r.choice(["binary", "binary", "unary", "reduce", "matmul"])
        i, j = (int(k) for k in r.integers(0, len(shapes), 2))
        if kind == "binary":
            op = str(r.choice(["+", "-", "*", "/", "rconst", "neg"]))
            out = np.broadcast_shapes(shapes[i], shapes[j], *([(1, 4)] if op == "rconst" else []))
        elif kind == "unary":
            op = str(r.choice(["relu", "sigmoid", "tanh", "exp", "log", "sqrt", "log_softmax", "log_sigmoid"]))
            if op == "log_softmax" and len(shapes[i]) != 2: op = "tanh"
            out = shapes[i]
        elif kind == "reduce":
            op = str(r.choice(["sum0k", "sum1k", "mean0", "mean1k", "T_reshape"]))
            if shapes[i] != (3, 4): kind, op, out = "unary", "sigmoid", shapes[i]
            else: out = {"sum0k": (1, 4), "sum1k": (3, 1), "mean0": (4,), "mean1k": (3, 1), "T_reshape": (3, 4)}[op]
        else:   # (3, 4) @ (4, 4) keeps the shape; any operand broadcast to (3, 4) first
            op, out = "@", (3, 4)
        steps.append((kind, op, i, j))
        shapes.append(out)
    return leaves, steps, r, shapes


def run(leaves_values, steps, ops, lift, M, record=None):
    "Evaluate the program; returns the scalar sum over every value of value * weight (values into `record`)."
    vals = list(leaves_values)
    for kind, op, i, j in steps:
        a, b = vals[i], vals[j]
        if kind == "binary":
            if op == "+": v = a + b
            elif op == "-": v = a - b
            elif op == "*": v = a * b
            elif op == "/": v = a / (b * b + 0.5)                 # divisor >= 0.5
            elif op == "rconst": v = 2.0 - a / 3.0 + lift(np.full((1, 4), 0.25)) * b
            else: v = -a + b
        elif kind == "unary":
            if op in ("log", "sqrt"): a = a * a + 0.5              # argument >= 0.5
            if op == "exp": a = ops.unary("tanh", a)               # bounded exponent
            v = ops.unary(op, a)
        elif kind == "reduce":
            v = ops.reduce(op, a)
        else:
            v = (a + lift(np.zeros((3, 4)))) @ M
        vals.append(v)
    if record is not None: record.extend(vals)
    total = 0.0
    for k, v in enumerate(vals):
        w = np.random.default_rng(1000 + k).standard_normal(tuple(v.shape))
        total = total + (v * lift(w)).sum()
    return total


@pytest.mark.parametrize("seed", range(60))
def test_random_expressions_match_pytorch(torch, seed):
    leaves, steps, r, _ = program(seed)
    values = [r.standard_normal(s) for s in leaves]
    M_np = r.standard_normal((4, 4))
    # engine
    e_leaves = [ag.Tensor(v, requires_grad=True) for v in values]
    e_M = ag.Tensor(M_np, requires_grad=True)
    J = run(e_leaves, steps, Ops("engine"), lambda a: a, e_M)
    J.backward()
    # PyTorch
    t_leaves = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in values]
    t_M = torch.tensor(M_np, requires_grad=True)
    Jt = run(t_leaves, steps, Ops(torch), lambda a: torch.tensor(a), t_M)
    Jt.backward()
    assert abs(J.item() - Jt.item()) <= 1e-12 * max(1.0, abs(Jt.item()))
    for k, (e, t) in enumerate(zip(e_leaves + [e_M], t_leaves + [t_M])):
        g_t = np.zeros(e.shape) if t.grad is None else t.grad.numpy()
        g_e = np.zeros(e.shape) if e.grad is None else e.grad
        assert g_e.shape == e.shape == tuple(t.shape), (k, g_e.shape, e.shape)
        assert np.linalg.norm(g_e - g_t) <= 1e-12 * np.linalg.norm(g_t), (k, e.shape, g_e, g_t)


@pytest.mark.parametrize("seed", range(60))
def test_programs_record_the_shapes_they_compute(seed):
    "The shapes program() records (which choose the operations that follow) are the computed ones."
    leaves, steps, r, shapes = program(seed)
    vals = [ag.Tensor(r.standard_normal(s)) for s in leaves]
    M = ag.Tensor(r.standard_normal((4, 4)))
    seen = []
    run(vals, steps, Ops("engine"), lambda a: a, M, record=seen)
    assert [tuple(v.shape) for v in seen] == shapes


def test_programs_use_every_operation():
    used = {op for s in range(60) for _, op, _, _ in program(s)[1]}
    assert {"+", "-", "*", "/", "rconst", "neg", "relu", "sigmoid", "tanh", "exp", "log", "sqrt",
            "log_softmax", "log_sigmoid", "sum0k", "sum1k", "mean0", "mean1k", "T_reshape", "@"} <= used, used


def broadcast_column_case():
    r = np.random.default_rng(0)
    A, b = r.standard_normal((3, 5)), r.standard_normal((3, 1))
    eb = ag.Tensor(b, requires_grad=True)
    ag.tanh(A * eb + eb).sum().backward()
    return A, b, eb


def test_broadcast_column_gradient_has_the_column_shape():
    A, b, eb = broadcast_column_case()
    t = np.tanh(A * b + b)
    assert eb.grad.shape == (3, 1)
    assert np.allclose(eb.grad, ((1 - t * t) * (A + 1)).sum(axis=1, keepdims=True), rtol=1e-14, atol=0)


def test_broadcast_column_gradient_matches_pytorch(torch):
    A, b, eb = broadcast_column_case()
    tb = torch.tensor(b, requires_grad=True)
    torch.tanh(torch.tensor(A) * tb + tb).sum().backward()
    assert np.linalg.norm(eb.grad - tb.grad.numpy()) <= 1e-12 * np.linalg.norm(eb.grad)


def test_backward_grad_must_have_the_roots_shape():
    t = ag.Tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(ValueError, match=r"grad must have the root's shape \(2, 3\); got \(3,\)"):
        (t * 2).backward(np.ones(3))
    assert t.grad is None
    (t * 2).backward(np.full((2, 3), 0.5))            # the right shape: accepted
    assert np.array_equal(t.grad, np.ones((2, 3)))
    s = ag.Tensor(np.ones(3), requires_grad=True)
    (s * s).sum().backward(2.0)                       # a scalar root takes a scalar grad
    assert np.array_equal(s.grad, np.full(3, 4.0))


def test_accumulation_zero_grad_no_grad_and_freed_graph(torch):
    x_np = np.array([[1.0, -2.0], [0.5, 3.0]])
    x, xt = ag.Tensor(x_np, requires_grad=True), torch.tensor(x_np, requires_grad=True)
    J, Jt = (ag.exp(x) / (x * x + 1)).mean(), (torch.exp(xt) / (xt * xt + 1)).mean()
    for _ in range(2):   # the second pass adds
        J.backward(retain_graph=True); Jt.backward(retain_graph=True)
        assert np.linalg.norm(x.grad - xt.grad.numpy()) <= 1e-12 * np.linalg.norm(x.grad)
    J.backward(); Jt.backward()
    with pytest.raises(RuntimeError):
        J.backward()
    with pytest.raises(RuntimeError):
        Jt.backward()
    ag.zero_grad([x])
    assert x.grad is None
    with ag.no_grad():
        K = (x * x).sum()
    assert not K.requires_grad and K._parents == ()
    with pytest.raises(RuntimeError):
        K.backward()   # nothing was recorded: an error, as in PyTorch
    assert x.grad is None


def test_tensor_validates_at_the_boundary():
    assert ag.Tensor([1, 2]).data.dtype == np.float64
    assert ag.Tensor(np.ones(2, np.float32)).data.dtype == np.float32
    assert (ag.Tensor(np.ones(2, np.float32)) * 2).data.dtype == np.float32
    with pytest.raises(TypeError):
        ag.Tensor(["a", "b"])


# ---------------------------------------------------------------- the network

OUTPUTS, HIDDEN = ("softmax", "sigmoid", "Linear", "ReLu", "tanh"), ("ReLu", "sigmoid", "tanh", "Linear")
COMBOS = list(itertools.product(OUTPUTS, [False, True], [False, True], [False, True]))


def random_case(seed, out, bn, l2, drop):
    r = np.random.default_rng(10_000 + seed)
    n0, m = int(r.integers(2, 7)), int(r.integers(3, 20))
    hidden = [(int(r.integers(2, 8)), bool(bn and r.random() < 0.8), HIDDEN[r.integers(4)],
               float(r.choice([0.5, 0.8])) if drop else 1) for _ in range(r.integers(1, 5))]
    if bn and not any(h[1] for h in hidden):       # "BatchNorm on" means at least one BatchNorm layer
        k = int(r.integers(len(hidden)))
        hidden[k] = (hidden[k][0], True, *hidden[k][2:])
    layers = [(n0, False, "ReLu", 1), *hidden]
    nL = int(r.integers(2, 5)) if out == "softmax" else int(r.integers(1, 4))
    layers.append((nL, False, out, 1))
    model = Multilayerperceptron(layer_construct=layers, Regularization=l2, lamda=float(r.uniform(0.1, 2)),
                                 seed=seed, bn_epsilon=float(r.choice([1e-5, 1e-3])))
    for v in model.parameters.values():
        v += 0.3 * r.standard_normal(v.shape)
    X = r.standard_normal((n0, m)) * r.uniform(0.5, 3)
    Y = (np.eye(nL)[:, r.integers(nL, size=m)] if out == "softmax" else
         r.uniform(0, 1, (nL, m)) if out == "sigmoid" else r.standard_normal((nL, m)))
    masks = ({l: r.random((layers[l][0], m)) < layers[l][3] for l in range(1, len(layers) - 1)}
             if drop and r.random() < 0.7 else None)
    return model, X, Y, masks


def test_the_network_sweep_covers_what_it_claims():
    "Every case has BatchNorm exactly when its combination says so; every hidden activation occurs."
    hidden = set()
    for seed, combo in enumerate(COMBOS * 2):
        model = random_case(seed, *combo)[0]
        assert any(s.batchnorm for s in model.layers) == combo[1], (seed, combo)
        hidden |= {s.activation for s in model.layers[1:-1]}
    assert hidden == set(HIDDEN), hidden


@pytest.mark.parametrize("seed,combo", list(enumerate(COMBOS * 2)))
def test_network_gradients_match_model_gradients(seed, combo):
    model, X, Y, masks = random_case(seed, *combo)
    hand = model.gradients(X, Y, masks=masks)
    before = {k: v.copy() for k, v in model.parameters.items()}
    engine = ag.network_gradients(model, X, Y, masks=masks)
    assert all(np.array_equal(before[k], model.parameters[k]) for k in before)   # changes nothing
    assert hand.keys() == engine.keys()
    g_all = np.sqrt(sum(np.sum(g * g) for g in hand.values()))
    for k in hand:
        assert engine[k].shape == hand[k].shape, k
        diff = np.linalg.norm(engine[k] - hand[k])
        assert diff <= 1e-12 * max(np.linalg.norm(hand[k]), g_all), (k, diff, np.linalg.norm(hand[k]), g_all)


def test_network_cost_is_the_model_cost():
    for seed, combo in enumerate(COMBOS):
        model, X, Y, masks = random_case(seed, *combo)
        if masks is None and combo[3]:
            continue   # the model's own draw; compared through the gradients above
        params = {k: ag.Tensor(v) for k, v in model.parameters.items()}
        lamda = model.lamda if model.Regularization else 0.0
        J = ag.network_cost(params, model.layers, X, Y, masks, lamda, model.bn_epsilon)
        assert abs(J.item() - model.cost(X, Y, training=True, masks=masks)) <= 1e-12 * abs(J.item())


def test_network_gradients_with_masks_for_some_dropout_layers():
    "Masks given for some dropout layers: the others are drawn as model.gradients draws them."
    layers = [(3, False, "ReLu", 1), (5, True, "tanh", 0.7), (4, False, "ReLu", 0.6), (6, False, "sigmoid", 0.8),
              (2, False, "softmax", 1)]
    model = Multilayerperceptron(layer_construct=layers, seed=3)
    r = np.random.default_rng(3)
    X, Y = r.standard_normal((3, 9)), np.eye(2)[:, r.integers(2, size=9)]
    for given in ({2: r.random((4, 9)) < 0.6}, {1: r.random((5, 9)) < 0.7, 3: r.random((6, 9)) < 0.8}, {}):
        masks = model.diagnostic_masks(9, given)
        assert masks.keys() == {1, 2, 3} and all(masks[l] is given[l] for l in given)
        hand, engine = model.gradients(X, Y, masks=given), ag.network_gradients(model, X, Y, masks=given)
        assert all(np.linalg.norm(engine[k] - hand[k]) <= 1e-12 * np.linalg.norm(hand[k]) for k in hand)


def test_diagnostic_masks_change_nothing_and_check_m():
    model = Multilayerperceptron(layer_construct=[(3, False, "ReLu", 1), (5, False, "tanh", 0.7), (2, False, "softmax", 1)],
                                 seed=1)
    state = model.rng.bit_generator.state
    a, b = model.diagnostic_masks(4), model.diagnostic_masks(4)
    assert a.keys() == {1} and a[1].shape == (5, 4) and a[1].dtype == bool and np.array_equal(a[1], b[1])
    assert model.rng.bit_generator.state == state                     # the training generator is untouched
    with pytest.raises(TypeError, match="m must be the number of examples"):
        model.diagnostic_masks(4.0)
    with pytest.raises(ValueError, match="at least 1; got 0"):
        model.diagnostic_masks(0)
