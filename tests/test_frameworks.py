"""Chapter 19's comparisons against TensorFlow/Keras and PyTorch, on more random architectures.

The notebook `nbs/19_behind_backward.ipynb` checks seeds 0-11 (every output type x BatchNorm x L2);
this runs the same checks on the next seeds (12 of them by default, every combination once more;
set MLP_FRAMEWORK_SEEDS=N for N seeds). There is one copy of the comparison code: the notebook's
definitions (imports, functions, classes, UPPER_CASE constants, the import guard and the
TensorFlow set-up of its first cell) are executed from the notebook itself, its experiments are not.
Skipped when TensorFlow (or, for the PyTorch tests, PyTorch) is not installed.
"""
import ast
import os
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
pytest.importorskip("tensorflow")

NB = Path(__file__).resolve().parent.parent / "nbs" / "19_behind_backward.ipynb"
SEEDS = list(range(12, 12 + int(os.environ.get("MLP_FRAMEWORK_SEEDS", "12"))))


def _names(target):
    return target.elts if isinstance(target, ast.Tuple) else [target]


def _is_definition(node):
    "Imports, defs, classes, UPPER_CASE constants, and if/try blocks made only of those."
    if isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.ClassDef)):
        return True
    if isinstance(node, ast.Assign):
        # constants: UPPER_CASE names bound without calling anything (not X = rng.standard_normal(...))
        return (all(isinstance(n, ast.Name) and n.id.isupper() for t in node.targets for n in _names(t))
                and not any(isinstance(n, ast.Call) for n in ast.walk(node.value)))
    if isinstance(node, ast.If):   # e.g. `if torch is not None:` around class definitions
        return all(_is_definition(n) for n in node.body + node.orelse)
    if isinstance(node, ast.Try):  # the `try: import torch` guard
        return all(isinstance(n, (ast.Import, ast.ImportFrom)) for n in node.body)
    return False


@pytest.fixture(scope="module")
def nb():
    "The notebook's definitions, executed in a fresh namespace."
    cells = [c.source for c in nbformat.read(NB, as_version=4).cells if c.cell_type == "code"]
    ns, where = {"__name__": "behind_backward"}, f"<definitions of {NB.name}>"
    for node in ast.parse(cells[0]).body:   # set-up cell: environment, imports, TF configuration
        try:
            exec(compile(ast.Module(body=[node], type_ignores=[]), where, "exec"), ns)
        except RuntimeError:   # TF threads can only be set before TF first runs an op
            if "tf.config" not in ast.unparse(node): raise
    body = [n for src in cells[1:] for n in ast.parse(src).body if _is_definition(n)]
    exec(compile(ast.Module(body=body, type_ignores=[]), where, "exec"), ns)
    return ns


@pytest.fixture(scope="module")
def cases(nb):
    return {seed: nb["random_case"](seed) for seed in SEEDS}


def test_seeds_cover_every_combination(cases):
    combos = {(c.out, c.bn, c.l2) for c in cases.values()}
    assert len(SEEDS) < 12 or len(combos) == 12, combos


@pytest.mark.parametrize("seed", SEEDS)
def test_gradients_match_keras(nb, cases, seed):
    cost_rel, grads = nb["keras_gradient_check"](cases[seed])
    assert cost_rel <= 1e-12, cost_rel
    assert max(grads.values()) <= 1e-12, grads


@pytest.mark.parametrize("seed", SEEDS)
def test_training_matches_keras(nb, cases, seed):
    case = cases[seed]
    steps, trained = nb["optimizer_checks"](case)
    assert max(steps.values()) <= 1e-10, steps   # 1 and 10 Adam steps, 10 SGD steps
    stats, infer = nb["keras_inference_check"](case, *trained)
    assert stats is None or stats <= 1e-10, stats
    assert infer <= 1e-10, infer


@pytest.mark.parametrize("seed", SEEDS)
def test_matches_pytorch(nb, cases, seed):
    pytest.importorskip("torch")
    case = cases[seed]
    cost_rel, grads = nb["torch_gradient_check"](case)
    assert cost_rel <= 1e-12 and max(grads.values()) <= 1e-12, (cost_rel, grads)
    r = nb["torch_training_checks"](case)
    assert all(r[k] <= 1e-10 for k in ("adam1", "adam10", "sgd10", "infer")), r
    assert r["stats"] is None or r["stats"] <= 1e-10, r
