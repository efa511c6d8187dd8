"""Tests for mlp.data: the pure transforms (one-hot, standardization, splits), the deprecated
names that moved to mlp.datasets, and the promise that mlp.data does no input or output.

The file and network code (IDX, MNIST, the scikit-learn loaders) is tested in test_datasets.py.
"""
import ast
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import mlp
from mlp import data, datasets
from mlp.metrics import to_labels

PACKAGE = Path(mlp.__file__).resolve().parent


# --- the transforms --------------------------------------------------------------------------

def test_one_hot():
    Y = data.one_hot(np.array([2, 0, 1, 2]))
    assert Y.shape == (3, 4) and np.array_equal(Y.argmax(axis=0), [2, 0, 1, 2]) and Y.sum() == 4
    assert data.one_hot([[1, 0]], n_classes=3, dtype=np.float32).dtype == np.float32
    with pytest.raises(ValueError, match="n_classes"):
        data.one_hot([3], n_classes=2)
    with pytest.raises(TypeError, match="integer"):
        data.one_hot([0.5])


def test_standardizer_uses_training_statistics():
    rng = np.random.default_rng(1)
    Xtr, Xte = rng.normal(5, 3, (4, 100)), rng.normal(5, 3, (4, 30))
    Xtr[2] = 7.0                                       # a constant feature: 0, not NaN
    s = data.Standardizer().fit(Xtr)
    Z = s.transform(Xtr)
    assert np.allclose(Z[[0, 1, 3]].mean(axis=1), 0) and np.allclose(Z[[0, 1, 3]].std(axis=1), 1)
    assert np.all(Z[2] == 0)
    assert np.allclose(s.transform(Xte), (Xte - Xtr.mean(1, keepdims=True)) / s.std_)
    assert np.allclose(s.inverse_transform(s.transform(Xte)), Xte)
    assert s.transform(Xte.astype(np.float32)).dtype == np.float32
    with pytest.raises(ValueError, match="features"):
        s.transform(Xte[:3])
    with pytest.raises(ValueError, match="not fitted"):
        data.Standardizer().transform(Xte)


@pytest.mark.parametrize("seed", range(5))
def test_stratified_split(seed):
    y = np.repeat([0, 1, 2], [50, 30, 7])
    X = np.vstack([np.arange(87), y])
    Xtr, Xte, ytr, yte = data.train_test_split(X, y, test_size=0.25, seed=seed)
    assert yte.size == 22 and ytr.size == 65                      # ceil(0.25 * 87), as scikit-learn
    assert np.array_equal(Xtr[1], ytr) and np.array_equal(Xte[1], yte)   # columns stay paired
    assert sorted(np.concatenate([Xtr[0], Xte[0]]).tolist()) == list(range(87))
    for c, n in enumerate([50, 30, 7]):
        assert abs((yte == c).sum() - n * 22 / 87) < 1
    again = data.train_test_split(X, y, test_size=0.25, seed=seed)
    assert np.array_equal(again[1], Xte)


def test_regression_split_and_errors():
    X, y = np.arange(20.0).reshape(2, 10), np.linspace(0, 1, 10)
    Xtr, Xte, ytr, yte = data.train_test_split(X, y, test_size=0.2, seed=3, stratify=False)
    assert Xte.shape == (2, 2) and np.array_equal(Xte[0] / 9, yte)
    with pytest.raises(ValueError, match="stratify=False"):
        data.train_test_split(X, y, test_size=0.2)
    with pytest.raises(ValueError, match="examples"):
        data.train_test_split(X, y[:5])
    with pytest.raises(ValueError, match="test_size"):
        data.train_test_split(X, y, test_size=1.0, stratify=False)


def test_stratified_kfold():
    y = np.repeat([0, 1], [40, 23])
    folds = data.stratified_kfold(y, n_splits=10, seed=0)
    tests = np.concatenate([t for _, t in folds])
    assert np.array_equal(np.sort(tests), np.arange(63))
    assert all(np.intersect1d(tr, te).size == 0 and tr.size + te.size == 63 for tr, te in folds)
    assert {t.size for _, t in folds} <= {6, 7}
    assert all(abs(y[t].sum() - 23 * t.size / 63) < 1.5 for _, t in folds)


def test_stratification_reads_labels_like_the_metrics():
    "Classes come from mlp.metrics.to_labels: labels, a (1, m) row, one-hot columns, booleans."
    y = np.repeat([0, 1, 2], [20, 12, 5])
    X = np.arange(37)[None, :]
    split = data.train_test_split(X, y, test_size=0.25, seed=4)
    for same in (y[None, :], data.one_hot(y), y.astype(np.float64)):
        assert np.array_equal(data.train_test_split(X, same, test_size=0.25, seed=4)[1], split[1])
    folds = data.stratified_kfold(y, n_splits=5, seed=2)
    again = data.stratified_kfold(data.one_hot(y), n_splits=5, seed=2)
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(folds, again))
    yb = np.arange(37) % 3 == 0
    assert np.array_equal(data.train_test_split(X, yb, test_size=0.25, seed=4)[1],
                          data.train_test_split(X, to_labels(yb), test_size=0.25, seed=4)[1])


def test_stratification_refuses_what_to_labels_refuses():
    X = np.arange(10)[None, :]
    with pytest.raises(ValueError, match=">= 0.*stratify=False"):
        data.train_test_split(X, np.array([-1, 1] * 5), test_size=0.2)   # not the 0..k-1 vocabulary
    with pytest.raises(TypeError, match="numeric"):
        data.train_test_split(X, np.array(list("ab") * 5), test_size=0.2)
    with pytest.raises(ValueError, match="array_split"):
        data.stratified_kfold(np.linspace(0, 1, 10), n_splits=2)


# --- the names that moved to mlp.datasets ----------------------------------------------------

@pytest.mark.parametrize("name", datasets.__all__)
def test_moved_name_warns_and_is_the_same_object(name):
    with pytest.warns(DeprecationWarning, match=rf"mlp\.datasets\.{name}\b"):
        old = getattr(data, name)
    assert old is getattr(datasets, name)


def test_from_import_of_a_moved_name_warns():
    namespace = {}
    with pytest.warns(DeprecationWarning, match=r"from mlp\.datasets import load_mnist") as record:
        exec("from mlp.data import load_mnist", namespace)
    assert namespace["load_mnist"] is datasets.load_mnist
    assert record[0].filename == "<string>"          # the warning points at the importing line


def test_moved_names_are_exactly_the_datasets_names():
    assert set(data._MOVED) == set(datasets.__all__)
    assert not set(data.__all__) & set(datasets.__all__)
    assert set(data.__all__) == {"to_columns", "one_hot", "Standardizer", "train_test_split",
                                 "stratified_kfold"}


def test_unknown_names_are_still_attribute_errors():
    with warnings.catch_warnings():
        warnings.simplefilter("error")               # and no warning on the way
        with pytest.raises(AttributeError, match="no_such_name"):
            data.no_such_name
        assert not hasattr(data, "_sklearn_datasets")   # private names did not move with a shim


# --- mlp.data does no input or output ----------------------------------------------------------

IO_MODULES = ("urllib.request", "http.client", "gzip", "hashlib", "tempfile")


def test_import_loads_no_io_modules():
    """`import mlp.data` (and with it `import mlp`) loads no network, compression, hashing or
    temporary-file module, nor mlp.datasets, scikit-learn or matplotlib. (NumPy itself imports
    urllib.parse, so `urllib` as such is no sign of I/O and is not checked.)"""
    code = ("import sys, mlp.data; loaded = [m for m in %r if m in sys.modules]; "
            "assert not loaded, loaded" % (IO_MODULES + ("mlp.datasets", "sklearn", "matplotlib"),))
    subprocess.run([sys.executable, "-c", code], check=True)


def _imports(path):
    "Every module a file imports, at the top or inside a function, as absolute names."
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = ("mlp." * (node.level > 0)) + (node.module or "")
            base = base.rstrip(".")
            found |= {f"{base}.{a.name}" if base == "mlp" else base for a in node.names}
    return found


def test_source_imports():
    "What the two modules import, lazily included: data needs no I/O; datasets never needs data."
    assert _imports(PACKAGE / "data.py") == {"math", "warnings", "numpy", "mlp.metrics", "mlp.datasets"}
    assert not {m for m in _imports(PACKAGE / "datasets.py") if m.startswith("mlp")}


def test_no_import_cycle_through_data_or_datasets():
    "No chain of imports in mlp/ (lazy ones included) leads from data or datasets back to itself."
    graph = {f"mlp.{p.stem}": {m for m in _imports(p) if m.startswith("mlp.")}
             for p in PACKAGE.glob("*.py") if not p.stem.startswith("_")}
    for start in ("mlp.data", "mlp.datasets"):
        seen, todo = set(), list(graph[start])
        while todo:
            m = todo.pop()
            assert m != start, f"{start} imports itself through {sorted(seen)}"
            if m not in seen:
                seen.add(m)
                todo += graph.get(m, ())
