"""Issue 15: a trusting core and a training loop that reads like the math.

Validation happens once, at the boundary; `fit` is the epoch/mini-batch loop around `train_step`
with callbacks; every optimizer of chapter 8 is usable from the model and survives save/load;
observing a run never changes it; the package has no import cycle."""
import ast
import inspect
import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer

import mlp
from mlp.model import Multilayerperceptron
from mlp.optim import OPTIMIZERS, Adam, AdamW, RMSProp
from mlp.persistence import load_model, save_model

sys.path.insert(0, str(Path(__file__).parent))
import validation_share  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).parent / "data"
NAMES = ["sgd", "momentum", "rmsprop", "adam", "adamw"]
# learning rates at which each rule trains this small problem well (chapter 8: SGD-like rules
# want a rate about 100 times larger than the adaptive ones)
LR = {"sgd": 0.1, "momentum": 0.1, "rmsprop": 0.003, "adam": 0.003, "adamw": 0.003}


@pytest.fixture(scope="module")
def cancer():
    d = load_breast_cancer()
    X = (d.data - d.data.mean(0)) / d.data.std(0)
    return X.T, d.target


def cancer_model(name, **kw):
    layers = [(30, False, "ReLu", 1), (16, True, "ReLu", 0.9), (8, False, "tanh", 1), (1, False, "sigmoid", 1)]
    extra = {"weight_decay": 0.01} if name == "adamw" else {}
    return Multilayerperceptron(**({"layer_construct": layers, "epoch": 15, "lr": LR.get(name, 0.01), "minibatch_size": 32,
                                    "seed": 0, "optimizer": name} | extra | kw))


def same_run(a, b):
    return a.costs == b.costs and all(np.array_equal(a.parameters[k], b.parameters[k]) for k in a.parameters) \
        and all(np.array_equal(a.bn_state[k], b.bn_state[k]) for k in a.bn_state)


# ------------------------------------------------------------------ every optimizer from the model
@pytest.mark.parametrize("name", NAMES)
def test_each_optimizer_by_name_trains_breast_cancer(cancer, name):
    X, y = cancer
    model = cancer_model(name).fit(X, y)
    assert type(model.optimizer) is OPTIMIZERS[name]
    assert model.costs[-1] < 0.5 * model.costs[0], model.costs
    acc = np.mean(model.predict_class(X) == y)
    assert acc >= 0.95, acc


@pytest.mark.parametrize("name", NAMES)
def test_each_optimizer_round_trips_save_load_resume_bitwise(cancer, tmp_path, name):
    X, y = cancer
    a = cancer_model(name, epoch=3).fit(X, y)
    b = load_model(save_model(a, tmp_path / f"{name}.npz"))
    assert type(b.optimizer) is type(a.optimizer) and b.optimizer.config() == a.optimizer.config()
    assert b.get_config() == a.get_config()
    a.fit(X, y); b.fit(X, y)
    assert same_run(a, b)


def test_optimizer_object_and_hand_swapped_optimizer_save_and_load(cancer, tmp_path):
    X, y = cancer
    a = cancer_model("adam", optimizer=RMSProp(0.002, beta=0.8, epsilon=1e-7), epoch=2).fit(X, y)
    assert a.get_config()["optimizer"] == "rmsprop" and a.get_config()["rho"] == 0.8 and a.lr == 0.002
    a.optimizer = AdamW(0.001, weight_decay=0.05)          # swapped by hand
    a.fit(X, y)
    b = load_model(save_model(a, tmp_path / "swapped.npz"))
    assert type(b.optimizer) is AdamW and b.optimizer.weight_decay == 0.05
    a.fit(X, y); b.fit(X, y)
    assert same_run(a, b)


@pytest.mark.parametrize("flag, name", [(True, "adam"), (False, "sgd")])
def test_adam_flag_is_the_optimizer_name_bitwise(cancer, flag, name):
    X, y = cancer
    a = cancer_model(name, optimizer=None, adam=flag, lr=0.01).fit(X, y)
    b = cancer_model(name, lr=0.01).fit(X, y)
    assert same_run(a, b)


def test_adam_flag_and_optimizer_that_disagree_are_refused():
    with pytest.raises(ValueError, match="disagree"):
        cancer_model("sgd", adam=True)
    with pytest.raises(ValueError, match="weight_decay"):
        cancer_model("sgd", weight_decay=0.1)
    with pytest.raises(ValueError, match="weight_decay"):
        cancer_model("adamw", weight_decay=0.0)
    with pytest.raises(ValueError, match="did you mean 'rmsprop'"):
        cancer_model("rmsprp")
    with pytest.raises(TypeError, match="optimizer must be one of"):
        cancer_model("adam", optimizer=object())
    assert type(Multilayerperceptron(layer_construct=[(2, False, "ReLu", 1), (1, False, "sigmoid", 1)]).optimizer) is Adam


@pytest.mark.parametrize("make", [lambda: Adam(0.1, epsilon=0), lambda: RMSProp(0.1, epsilon=0),
                                  lambda: AdamW(0.1, epsilon=-1e-8), lambda: cancer_model("adam", epsilon=0),
                                  lambda: cancer_model("rmsprop", epsilon=0.0)])
def test_epsilon_zero_is_refused(make):
    with pytest.raises(ValueError, match="epsilon"):
        make()


def test_sklearn_estimators_take_the_five_names(cancer):
    from mlp.sklearn import MLPClassifier
    X, y = cancer
    for name in NAMES:
        est = MLPClassifier(hidden_layer_sizes=(8,), epochs=3, optimizer=name, lr=LR[name], random_state=0)
        if name == "adamw":
            with pytest.raises(ValueError, match="weight_decay"):   # the estimator has no weight_decay
                est.fit(X.T, y)
            continue
        assert type(est.fit(X.T, y).model_.optimizer) is OPTIMIZERS[name]


# ------------------------------------------------------------------ saving: format 1 still loads
@pytest.mark.parametrize("name", ["adam", "sgd"])
def test_format_1_files_load_and_train_on(name):
    model = mlp.load(DATA / f"model_format1_{name}.npz")
    expected = np.load(DATA / f"model_format1_{name}_expected.npz")
    assert type(model.optimizer).__name__ == name.upper().replace("ADAM", "Adam")
    assert np.array_equal(model.predict(expected["X"]), expected["predict"])
    assert model.n_epochs_trained_ == 2 and len(model.costs) == 2
    model.fit(expected["X"], expected["y"])
    assert model.n_epochs_trained_ == 4 and np.isfinite(model.costs).all()


# ------------------------------------------------------------------ the training loop
def test_fit_is_at_most_25_lines_and_train_step_reads_like_the_algorithm():
    src = inspect.getsource(Multilayerperceptron.fit)
    tree = ast.parse(src.lstrip() if src.startswith(" ") else src).body[0]
    doc = set(range(tree.body[0].lineno, tree.body[0].end_lineno + 1))
    lines = [l for i, l in enumerate(src.splitlines(), 1) if l.strip() and not l.strip().startswith(("#", "@"))
             and i not in doc]
    assert len(lines) <= 25, f"fit has {len(lines)} code lines (at most 25)"
    import mlp.network
    assert "network.train_step(" in inspect.getsource(Multilayerperceptron.train_step)   # written once, in chapter 7
    step = inspect.getsource(mlp.network.train_step).split('"""')[2]   # the body, after the docstring
    order = [step.index(word) for word in ("forward(", "compute_cost(", "backward(", "reg(", "update(")]
    assert order == sorted(order), "train_step: forward, cost, backward, L2, update, in that order"


def _validation_names():
    import mlp.checks
    names = {n for n, f in vars(mlp.checks).items() if inspect.isfunction(f)}
    return names | {"canonical_activation", "check_param", "check_params"}


def test_train_step_calls_no_validation_function():
    model = Multilayerperceptron(layer_construct=[(4, False, "ReLu", 1), (8, True, "ReLu", 0.8), (6, True, "tanh", 0.8),
                                                  (3, False, "softmax", 1)], Regularization=True, lamda=0.1, seed=0)
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((4, 16)), np.eye(3)[rng.integers(0, 3, 16)].T
    model.train_step(X, Y)           # warm up (optimizer state, buffers)
    called = []
    sys.setprofile(lambda frame, event, arg: called.append(frame.f_code.co_name) if event == "call" else None)
    try: model.train_step(X, Y)
    finally: sys.setprofile(None)
    bad = sorted({n for n in called if validation_share.CHECK_NAME.match(n) or n in _validation_names()})
    # the model's lean step (chapter 14) or chapter 7's forward and backward
    assert ("_lean_step" in called or "forward" in called and "backward" in called) and not bad, bad


class Watcher:
    "Looks at everything a callback can see, and calls every diagnostic, at every step and epoch."
    def __init__(self, X, Y): self.X, self.Y, self.events = X, Y, []
    def on_train_begin(self, model, logs): self.events.append("train_begin")
    def on_epoch_begin(self, model, logs): self.events.append(("epoch_begin", logs["epoch"]))
    def on_batch_end(self, model, logs):
        assert set(logs) == {"epoch", "batch", "cost", "grads"} and set(logs["grads"]) == {f"d{k}" for k in model.parameters}
        with pytest.raises(TypeError): logs["grads"]["dW1"] = None          # read-only
        model.gradients(self.X[:, :16], self.Y[:16])
    def on_epoch_end(self, model, logs):
        assert {"epoch", "cost", "val_cost", "val_metric"} <= set(logs)
        model.gradients(self.X, self.Y); model.cost(self.X, self.Y, training=True); model.cost(self.X, self.Y)
        model.predict(self.X); model.matrix_eval(self.Y, model.predict_class(self.X))
        self.events.append(("epoch_end", logs["epoch"]))
    def on_train_end(self, model, logs): self.events.append("train_end")


def test_an_observing_callback_leaves_training_bitwise_unchanged(cancer):
    X, y = cancer
    plain = cancer_model("adam", epoch=4).fit(X, y, validation_data=(X, y))
    watcher = Watcher(X, y)
    watched = cancer_model("adam", epoch=4).fit(X, y, validation_data=(X, y), callbacks=[watcher])
    assert same_run(plain, watched) and plain.history == watched.history
    assert watcher.events[0] == "train_begin" and watcher.events[-1] == "train_end"
    assert [e for e in watcher.events if e[0] == "epoch_end"] == [("epoch_end", i) for i in range(4)]


def test_diagnostics_see_the_same_masks_on_every_call(cancer):
    X, y = cancer
    model = cancer_model("adam")
    state = model.rng.bit_generator.state
    g1, g2 = model.gradients(X, y), model.gradients(X, y)
    assert all(np.array_equal(g1[k], g2[k]) for k in g1)
    assert model.cost(X, y, training=True) == model.cost(X, y, training=True)
    assert model.rng.bit_generator.state == state


def test_callbacks_can_stop_training_and_bad_callbacks_are_refused(cancer):
    X, y = cancer

    class StopAfterTwo:
        def on_epoch_end(self, model, logs):
            if logs["epoch"] == 1: model.stop_training = True
    model = cancer_model("adam").fit(X, y, callbacks=[StopAfterTwo()])
    assert model.n_epochs_trained_ == 2 and len(model.costs) == 2
    with pytest.raises(TypeError, match="at least one of the methods"):
        cancer_model("adam").fit(X, y, callbacks=[object()])


def test_readme_network_matches_the_first_edition_reference():
    """The README network, trained with a fixed seed, reproduces the stored reference run.
    Different BLAS builds (OpenBLAS picks its kernels by CPU) sum matrix products in another
    order, which changes the last bits: so each array is compared to 1e-12 of its own scale
    (max |entry|) plus a relative 1e-9, far below any change of the algorithm (a wrong
    step, epsilon or momentum moves the weights by 1e-4 or more)."""
    sys.path.insert(0, str(DATA))
    import make_reference
    model, X = make_reference.train()
    ref = np.load(DATA / "readme_reference.npz")

    def close(actual, key):
        r = ref[key]
        np.testing.assert_allclose(actual, r, rtol=1e-9, atol=1e-12 * np.abs(r).max(), err_msg=key)
    for k, v in model.parameters.items():
        close(v, f"param.{k}")
    for k, v in model.bn_state.items():
        close(v, f"bn.{k}")
    close(np.asarray(model.costs), "costs")
    close(model.predict(X[:, :20]), "predict")


# ------------------------------------------------------------------ the package's shape
def _imports(path):
    "Names of the mlp modules that `path` imports, at the top or inside functions (lazy)."
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1: out |= {node.module} if node.module else {a.name for a in node.names}
            elif (node.module or "").startswith("mlp."): out.add(node.module[4:])
            elif node.module == "mlp": out |= {a.name for a in node.names}
        elif isinstance(node, ast.Import):
            out |= {a.name[4:] for a in node.names if a.name.startswith("mlp.")}
    return {m.split(".")[0] for m in out}


def test_no_import_cycle_lazy_imports_included():
    modules = {p.stem for p in (ROOT / "mlp").glob("*.py") if p.stem not in ("__init__", "_modidx")}
    graph = {m: _imports(ROOT / "mlp" / f"{m}.py") & modules for m in modules}
    state = {}

    def visit(m, path):
        if state.get(m) == "done": return
        assert state.get(m) != "open", f"import cycle: {' -> '.join(path + [m])}"
        state[m] = "open"
        for n in sorted(graph[m]): visit(n, path + [m])
        state[m] = "done"
    for m in sorted(graph): visit(m, [])
    assert "persistence" not in graph["model"] and "model" in graph["persistence"]


def test_validation_is_at_most_a_fifth_of_the_package():
    per, share = validation_share.share()
    detail = ", ".join(f"{name} {v}/{c}" for name, (v, c) in per.items() if v)
    assert share <= 0.20, f"validation share {share:.1%} > 20% ({detail})"


def test_renamed_names_still_work_with_a_deprecation_warning():
    import mlp.model
    with pytest.warns(DeprecationWarning, match="private"):
        assert mlp.model.patch_to is mlp.model._patch_to
    assert "patch_to" not in mlp.model.__all__


def test_every_module_imports_with_numpy_alone():
    code = ("import sys, importlib, pkgutil; sys.modules.update({m: None for m in ('sklearn', 'matplotlib', "
            "'networkx', 'torch', 'tensorflow', 'tqdm', 'scipy')}); import mlp; "
            "names = [m.name for m in pkgutil.iter_modules(mlp.__path__) if m.name not in ('sklearn', '_modidx')]; "
            "[importlib.import_module('mlp.' + n) for n in names]; "
            "assert 'diagrams' in names, names; "   # drawing code imports matplotlib inside its functions
            "import mlp.diagrams as d; assert callable(d.draw_network) and 'matplotlib' not in vars(d)")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_exported_cells_are_short_enough_to_read():
    """An exported cell is read in one go, after the text that explains it: at most 42 lines
    when it holds several definitions (split it into cells otherwise), at most 60 when it is
    one function or class (code is wrapped at 88 columns, so a definition runs longer than it
    would at 110). A declarative table (one assignment of a literal dict, tuple or list, such
    as the parameter constraints or the error messages) is read row by row and has no limit."""
    import ast
    import json
    long = []
    for nb in sorted((ROOT / "nbs").glob("*.ipynb")):
        for i, cell in enumerate(json.loads(nb.read_text())["cells"]):
            src = "".join(cell["source"])
            if cell["cell_type"] != "code" or not src.startswith("#| export"):
                continue
            n, body = len(src.splitlines()), ast.parse(src).body
            table = len(body) == 1 and isinstance(body[0], (ast.Assign, ast.AnnAssign)) \
                and isinstance(body[0].value, (ast.Dict, ast.Tuple, ast.List))
            one_def = len(body) == 1 and isinstance(body[0], (ast.FunctionDef, ast.ClassDef))
            if not table and n > (60 if one_def else 42):
                long.append(f"{nb.name} cell {i}: {n} lines")
    assert not long, long
