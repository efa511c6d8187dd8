"""Chapter 20's comparisons against TensorFlow/Keras and PyTorch, on more random architectures.

The notebook `nbs/20_frameworks.ipynb` checks seeds 0-19 (every output type - softmax, sigmoid,
Linear, ReLu, tanh - x BatchNorm x L2); this runs the same checks on the next seeds (20 of them by
default, every combination once more; set MLP_FRAMEWORK_SEEDS=N for N seeds). There is one copy of the comparison code, the module
`mlp.frameworks` that the chapter exports and runs; the tolerances are written here, not taken from
the module, so that a change to the module cannot loosen them.

Skipped when TensorFlow (or, for the PyTorch tests, PyTorch) is not installed, except under CI
(CI=true), where a missing framework is a failure: CI installs both (`make venv` installs the
`compare` extra with TensorFlow, `make torch` PyTorch) and these comparisons must run there.
"""
import os

import pytest

from mlp import frameworks as fw

N_COMBOS = 2 * 2 * len(fw.OUTPUTS)   # output x BatchNorm x L2
SEEDS = list(range(N_COMBOS, N_COMBOS + int(os.environ.get("MLP_FRAMEWORK_SEEDS", str(N_COMBOS)))))


def _require(load, what):
    try:
        return load()
    except ImportError:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{what} is required under CI (CI=true) for the framework comparisons")
        pytest.skip(f"{what} is not installed")


@pytest.fixture(scope="module")
def tensorflow():
    return _require(fw.load_tensorflow, "TensorFlow")


@pytest.fixture(scope="module")
def torch():
    return _require(fw.load_torch, "PyTorch")


@pytest.fixture(scope="module")
def cases(tensorflow):
    return {seed: fw.random_case(seed) for seed in SEEDS}


def test_seeds_cover_every_combination(cases):
    assert set(fw.OUTPUTS) == {"softmax", "sigmoid", "Linear", "ReLu", "tanh"}, fw.OUTPUTS
    combos = {(c.out, c.bn, c.l2) for c in cases.values()}
    assert len(SEEDS) < N_COMBOS or len(combos) == N_COMBOS == 20, combos


@pytest.mark.parametrize("seed", SEEDS)
def test_gradients_match_keras(cases, seed):
    cost_rel, grads = fw.keras_gradient_check(cases[seed])
    assert cost_rel <= 1e-12, cost_rel
    assert max(grads.values()) <= 1e-12, grads


@pytest.mark.parametrize("seed", SEEDS)
def test_training_matches_keras(cases, seed):
    case = cases[seed]
    steps, trained = fw.optimizer_checks(case)
    assert set(steps) == {"adam1", "adam10", "sgd10"}, steps
    assert max(steps.values()) <= 1e-10, steps   # 1 and 10 Adam steps, 10 SGD steps
    stats, infer = fw.keras_inference_check(case, *trained)
    assert (stats is None) == (not case.bn), stats
    assert stats is None or stats <= 1e-10, stats
    assert infer <= 1e-10, infer


@pytest.mark.parametrize("seed", SEEDS)
def test_matches_pytorch(torch, cases, seed):
    case = cases[seed]
    cost_rel, grads = fw.torch_gradient_check(case)
    assert cost_rel <= 1e-12 and max(grads.values()) <= 1e-12, (cost_rel, grads)
    steps, trained = fw.optimizer_checks(case, fw.train_with_torch)
    assert set(steps) == {"adam1", "adam10", "sgd10"}, steps
    r = steps | fw.torch_inference_check(case, *trained)
    assert all(r[k] <= 1e-10 for k in ("adam1", "adam10", "sgd10", "infer")), r
    assert r["stats"] is None or r["stats"] <= 1e-10, r
    assert (r["stats"] is None) == (not case.bn), r
    assert r["raw"] is None or r["raw"] > 1e-10, r   # PyTorch's own unbiased variance differs


def test_the_harness_sees_every_parameter(cases):
    "The gradient check compares every parameter of the model, none skipped."
    for case in cases.values():
        _, grads = fw.keras_gradient_check(case)
        assert set(grads) == {"d" + k for k in case.model.parameters}, (case.seed, sorted(grads))


def test_a_planted_mismatch_fails_the_check(cases):
    "A binary cross-entropy without the factor n_L is caught far above the tolerance."
    case = next(c for c in cases.values() if c.out == "sigmoid" and c.layers[-1].neurons > 1)
    tf, keras = fw.load_tensorflow()
    X, Y, masks = case.batches[0]
    twin = fw.keras_twin(case.layers, case.model.parameters, lamda=case.lamda, m=case.m)
    wrong = lambda y, z, act: keras.losses.BinaryCrossentropy(from_logits=True)(y, z)
    _, kgrads = fw.keras_cost_and_grads(twin, case.layers, X, Y, masks, loss=wrong)
    diffs = fw.compare(case.model.gradients(X, Y, masks=masks), kgrads)
    assert max(diffs.values()) > 1e-6, diffs


def test_importing_the_harness_imports_no_framework():
    import subprocess, sys
    code = ("import sys; sys.modules.update({m: None for m in ('torch', 'tensorflow', 'keras')}); "
            "import mlp.frameworks as fw; assert callable(fw.keras_twin)")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=fw.__file__.rsplit("/mlp/", 1)[0])
