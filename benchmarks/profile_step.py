"""Where one training step goes: NumPy calls per step and a per-function CPU profile.

    .venv/bin/python benchmarks/profile_step.py                 # batch 64 and 256, float32
    .venv/bin/python benchmarks/profile_step.py --batch 64 --steps 300 --top 25

The network is the benchmark's (784-128-64-10, BatchNorm, dropout 0.8, Adam, float32), trained by
`Multilayerperceptron.fit` on the first `steps * batch` MNIST images (or random data with --random).

* NumPy calls per step: `count_calls(model, X, Y)` runs one step as `fit` runs it (the lean step)
  under a counter,
  after a warm-up step, and counts every entry from non-NumPy code into NumPy: a ufunc (operators
  such as `*`, `+=` and `@` included, reductions such as `.sum()` too), a NumPy function or array
  method, a random-generator draw. Calls NumPy makes inside itself are not counted again. It also
  counts the Python-level `mlp` function calls of the step. Counting works on views of the model's
  arrays (an ndarray subclass that reports ufunc calls), so the model trains exactly as usual.
* Per-function profile: cProfile over `fit` (tottime per step, the `steps` mini-batches of one
  epoch), the top `--top` functions by own time, CPU clock (time.process_time).

Nothing here is asserted; it only reports. Speed is never part of the test suite.
"""
import argparse, cProfile, os, pstats, sys, time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
NUMPY_DIR = os.path.dirname(np.__file__)
LAYERS = [(784, False, "ReLu", 1), (128, True, "ReLu", 0.8), (64, True, "ReLu", 0.8),
          (10, False, "softmax", 1)]


# ----------------------------------------------------------------------------- call counting
class _Counting(np.ndarray):
    "A view of an array whose ufunc calls (operators, reductions, @) are counted."
    counter = None

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        c = _Counting.counter
        if c is not None and not _in_numpy(sys._getframe(1)):
            c["ufunc"] += 1
            key = ufunc.__name__ + ("" if method == "__call__" else "." + method)
            c["by_name"][key] = c["by_name"].get(key, 0) + 1
        inputs = tuple(x.view(np.ndarray) if isinstance(x, _Counting) else x for x in inputs)
        if "out" in kwargs:
            kwargs["out"] = tuple(x.view(np.ndarray) if isinstance(x, _Counting) else x
                                  for x in kwargs["out"])
            outs = kwargs["out"]
        else:
            outs = None
        result = getattr(ufunc, method)(*inputs, **kwargs)
        if outs is not None:   # return the caller's own out arrays (views of them)
            result = tuple(o.view(_Counting) if isinstance(o, np.ndarray) else o for o in outs)
            return result[0] if len(result) == 1 else result
        if isinstance(result, tuple):
            return tuple(r.view(_Counting) if type(r) is np.ndarray else r for r in result)
        return result.view(_Counting) if type(result) is np.ndarray else result


def _in_numpy(frame):
    "True inside NumPy's own Python code (or this harness): calls from there are not counted."
    if frame is None: return False
    f = frame.f_code.co_filename
    return f.startswith(NUMPY_DIR) or f == __file__ or _DEPTH[0] > 0


_DEPTH = [0]   # > 0 while a counted NumPy builtin runs (its inner calls are NumPy's own)


class _CountingRNG:
    "A numpy Generator whose draws are counted and returned as counting views."
    def __init__(self, rng): self._rng = rng

    def __getattr__(self, name):
        f = getattr(self._rng, name)
        if not callable(f): return f
        def call(*a, **k):
            c = _Counting.counter
            if c is not None:
                c["rng"] += 1
                c["by_name"]["rng." + name] = c["by_name"].get("rng." + name, 0) + 1
            r = f(*a, **k)
            return r.view(_Counting) if type(r) is np.ndarray else r
        return call


def _numpy_callable(f):
    mod = getattr(f, "__module__", None) or ""
    if mod.startswith("numpy"): return True
    owner = getattr(f, "__self__", None)
    return isinstance(owner, (np.ndarray, np.random.Generator)) or owner is np


def _as_counting(obj, seen):
    "Replace every ndarray reachable through dicts/lists/attributes of obj by a counting view."
    if id(obj) in seen: return obj
    seen.add(id(obj))
    if type(obj) is np.ndarray: return obj.view(_Counting)
    if isinstance(obj, dict):
        for k, v in list(obj.items()):
            new = _as_counting(v, seen)
            if new is not v: dict.__setitem__(obj, k, new)
        return obj
    if isinstance(obj, list):
        obj[:] = [_as_counting(v, seen) for v in obj]
        return obj
    if hasattr(obj, "__dict__") and type(obj).__module__.startswith(("mlp", "types")):
        for k, v in list(vars(obj).items()):
            if isinstance(v, np.random.Generator):
                vars(obj)[k] = _CountingRNG(v)
                continue
            new = _as_counting(v, seen)
            if new is not v: vars(obj)[k] = new
    return obj


def one_step(model, X, Y):
    "One training step as `fit` runs it: the lean step when the model has one, else train_step."
    plan = model._plan() if hasattr(model, "_lean_step") else None
    return model._lean_step(X, Y, plan) if plan is not None else model.train_step(X, Y)[0]


def count_calls(model, X, Y, step=one_step):
    """NumPy calls and mlp function calls of ONE training step `step(model, X, Y)` on
    validated X, Y, by default as `fit` runs it (after a warm-up step, so lazily created
    state and work arrays exist). The model keeps training as usual (its arrays are viewed,
    never copied). Returns a dict of counts."""
    step(model, X, Y)                            # warm-up: optimizer state, work arrays
    _as_counting(model, set())
    _as_counting(model.optimizer, set())
    Xc, Yc = np.asarray(X).view(_Counting), np.asarray(Y).view(_Counting)
    c = dict(ufunc=0, function=0, rng=0, mlp=0, by_name={}, mlp_by_name={})
    mlp_dir = str(ROOT / "mlp")

    def prof(frame, event, arg):
        if event == "c_call":
            if _DEPTH[0]: _DEPTH[0] += 1
            elif _numpy_callable(arg) and not _in_numpy(frame):
                c["function"] += 1
                name = getattr(arg, "__qualname__", getattr(arg, "__name__", "?"))
                c["by_name"][name] = c["by_name"].get(name, 0) + 1
                _DEPTH[0] = 1
        elif event in ("c_return", "c_exception"):
            if _DEPTH[0]: _DEPTH[0] -= 1
        elif event == "call":
            code = frame.f_code
            if code.co_filename.startswith(NUMPY_DIR) and not _in_numpy(frame.f_back):
                c["function"] += 1
                c["by_name"][code.co_name] = c["by_name"].get(code.co_name, 0) + 1
            elif code.co_filename.startswith(mlp_dir):
                c["mlp"] += 1
                c["mlp_by_name"][code.co_name] = c["mlp_by_name"].get(code.co_name, 0) + 1

    def keep_counting(name, f):
        "np.asarray & co. return a plain ndarray; during counting they keep the counting view."
        def wrapper(a, *args, **kwargs):
            c["function"] += 1
            c["by_name"][name] = c["by_name"].get(name, 0) + 1
            r = f(a, *args, **kwargs)
            return r.view(_Counting) if type(r) is np.ndarray else r
        return wrapper
    saved = {n: getattr(np, n) for n in ("asarray", "asanyarray", "ascontiguousarray")}
    _Counting.counter = c
    for n, f in saved.items(): setattr(np, n, keep_counting(n, f))
    sys.setprofile(prof)
    try:
        step(model, Xc, Yc)
    finally:
        sys.setprofile(None)
        for n, f in saved.items(): setattr(np, n, f)
        _Counting.counter, _DEPTH[0] = None, 0
    c["numpy"] = c["ufunc"] + c["function"] + c["rng"]
    return c


# ----------------------------------------------------------------------------- profiling
def _data(n, random=False, dtype="float32"):
    if random:
        rng = np.random.default_rng(0)
        return rng.random((784, n), dtype=np.float32).astype(dtype), rng.integers(0, 10, n)
    from mlp.datasets import load_mnist
    X, y, _, _ = load_mnist(dtype=np.dtype(dtype))
    return np.asfortranarray(X[:, :n]), y[:n].astype(np.int64)


def _model(batch, dtype="float32", seed=0):
    from mlp.model import Multilayerperceptron
    return Multilayerperceptron(epoch=1, lr=1e-3, layer_construct=LAYERS, minibatch_size=batch,
                                optimizer="adam", seed=seed, dtype=dtype)


def profile_fit(batch, steps, random=False, dtype="float32", top=20):
    "(cProfile stats of one fit over `steps` mini-batches, CPU seconds per step)."
    from threadpoolctl import threadpool_limits
    X, y = _data(batch * steps, random, dtype)
    model = _model(batch, dtype)
    with threadpool_limits(1):
        model.fit(X[:, :2 * batch], y[:2 * batch])        # warm-up: allocations, state
        pr = cProfile.Profile(time.process_time)
        t = time.process_time()
        pr.enable()
        model.fit(X, y)
        pr.disable()
        total = time.process_time() - t
    return pstats.Stats(pr), total / steps


def print_profile(stats, steps, top):
    stats.sort_stats("tottime")
    width = 60
    print(f"{'function (own time)':{width}s} {'calls/step':>10s} {'us/step':>9s} {'share':>6s}")
    total = stats.total_tt
    rows = sorted(stats.stats.items(), key=lambda kv: -kv[1][2])[:top]
    for (file, line, name), (cc, nc, tt, ct, callers) in rows:
        where = (f"{Path(file).parent.name}/{Path(file).name}:{name}" if file != "~"
                 else name.strip("<>"))
        print(f"{where[-width:]:{width}s} {nc / steps:10.1f} {1e6 * tt / steps:9.1f} "
              f"{100 * tt / total:5.1f}%")
    ncalls = sum(v[1] for v in stats.stats.values())
    print(f"{'all functions':{width}s} {ncalls / steps:10.1f} {1e6 * total / steps:9.1f} "
          f"100.0%  (cProfile's own overhead included)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--batch", type=int, nargs="+", default=[64, 256])
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--top", type=int, default=20)
    ap.add_argument("--dtype", default="float32")
    ap.add_argument("--random", action="store_true", help="random data instead of MNIST")
    ap.add_argument("--no-profile", action="store_true", help="only count NumPy calls")
    ap.add_argument("--names", action="store_true", help="list the counted calls by name")
    a = ap.parse_args()
    print(f"load average {', '.join(f'{x:.2f}' for x in os.getloadavg())}; "
          f"numpy {np.__version__}; {os.cpu_count()} CPUs")
    for b in a.batch:
        X, y = _data(b, a.random, a.dtype)
        model = _model(b, a.dtype)
        Xv, Yv = model.check_inputs(X, y)
        c = count_calls(model, Xv, Yv)
        print(f"\nbatch {b}: one train_step = {c['numpy']} NumPy calls ({c['ufunc']} ufuncs, "
              f"{c['function']} functions/methods, {c['rng']} random draws), "
              f"{c['mlp']} mlp function calls")
        if a.names:
            print("  numpy: " + ", ".join(f"{k} {v}" for k, v in
                                          sorted(c["by_name"].items(), key=lambda kv: -kv[1])))
            print("  mlp:   " + ", ".join(f"{k} {v}" for k, v in
                                          sorted(c["mlp_by_name"].items(), key=lambda kv: -kv[1])))
        if not a.no_profile:
            stats, per_step = profile_fit(b, a.steps, a.random, a.dtype)
            print(f"batch {b}: fit, {a.steps} steps under cProfile: {1e3 * per_step:.3f} ms CPU "
                  f"per step")
            print_profile(stats, a.steps, a.top)
    print(f"\nload average {', '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
