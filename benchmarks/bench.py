"""How fast is it? Seconds per epoch of the book's MNIST network against PyTorch, Keras and
scikit-learn, and against the time of its matrix products alone (the floor).

    .venv/bin/python benchmarks/bench.py            # full run (~10 min on 2 shared cores)
    .venv/bin/python benchmarks/bench.py --quick    # fewer epochs and repeats, a smoke test
    .venv/bin/python benchmarks/bench.py --runs 3 --max-load 1.0   # three whole runs, medians
    .venv/bin/python benchmarks/bench.py --combine a.json b.json c.json   # medians of saved runs

The network is the seed's: 784-128-64-10, BatchNorm on both hidden layers, ReLU, dropout with
keep_prob 0.8, softmax + cross-entropy, Adam (lr 1e-3), float32, whole epochs of the 60,000 MNIST
training images (`mlp.datasets.load_mnist`, MLP_DATA=../shared/data when present). Every framework
trains the same layers on the same data, each in its own subprocess (so thread pools and peak
memory are its own), with the thread count fixed; runs alternate (ours, ours64, floor, torch,
keras, sklearn, ours, ...) and the table reports the median epoch time over all timed epochs, after one
warm-up epoch per run. scikit-learn's MLPClassifier has no BatchNorm or dropout: it trains the
same sizes without them. Peers that are not installed are skipped with a note.

Writes benchmarks/results.json (every measurement, the conditions: date, CPU model, cores, BLAS,
and the load averages and environment notes) and benchmarks/results.md (the reader's tables,
captioned with date, CPU model, cores, BLAS and threads; no load averages, no targets). Appendix
A5 reads results.json and captions its tables with `conditions(meta)`. The console also prints the issue-20 targets against the 1-thread CPU-time ratios
with the load averages (the lab notes, not the reader's table). With --runs N the whole benchmark
runs N times (each waiting, with --max-load, until the 1-minute load average is below that value);
every cell of the tables is then the median over the runs of each run's median, and each run is
kept as OUT_run<i>.json. Speed is never asserted in the test suite; this script only reports.
"""
import argparse, json, os, platform, subprocess, sys, time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SIZES = [784, 128, 64, 10]
KEEP_PROB, LR = 0.8, 1e-3
LAYERS = [(784, False, "ReLu", 1), (128, True, "ReLu", KEEP_PROB), (64, True, "ReLu", KEEP_PROB),
          (10, False, "softmax", 1)]
PEERS = ("torch", "keras", "sklearn")
# issue 20's targets, on the 1-thread CPU-time ratios (floor: per batch size); lab notes only,
# never printed in results.md
TARGETS = {"torch": 0.6, "sklearn": 0.8, "floor": {64: 2.5, 256: 1.8}, "float64": 2.2}
# OpenBLAS overrides some machines set; they pick a slower kernel for a current NumPy.
OPENBLAS_OVERRIDES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


# ----------------------------------------------------------------------------- worker side
def _reset_peak():
    "Reset the kernel's peak-RSS mark (Linux), so the peak measured is that of training."
    try:
        with open("/proc/self/clear_refs", "w") as f: f.write("5")
        return True
    except OSError:
        return False

def _peak_mb():
    try:
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"): return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

def _data(dtype="float32"):
    "MNIST as the book loads it: X (784, m) column-major in [0, 1], integer labels."
    import numpy as np
    from mlp.datasets import load_mnist
    X, y, X_test, y_test = load_mnist(dtype=np.dtype(dtype))
    return X, y.astype(np.int64), X_test, y_test.astype(np.int64)

def _blas():
    from threadpoolctl import threadpool_info
    return [{k: d.get(k) for k in ("internal_api", "version", "architecture", "num_threads", "threading_layer")}
            for d in threadpool_info()]

def _now():
    "(wall-clock, CPU time of this process): on a shared machine the CPU time is the steadier one."
    return time.perf_counter(), time.process_time()

def _result(marks, warmup, peak_ok, extra):
    "Per-epoch wall and CPU seconds from consecutive (wall, cpu) marks; the first `warmup` dropped."
    wall = [b[0] - a[0] for a, b in zip(marks, marks[1:])]
    cpu = [b[1] - a[1] for a, b in zip(marks, marks[1:])]
    return dict(epoch_seconds=wall[warmup:], epoch_cpu_seconds=cpu[warmup:], warmup_seconds=wall[:warmup],
                peak_rss_mb=_peak_mb(), peak_is_training_only=peak_ok, **extra)

def work_ours(bs, epochs, threads, dtype="float32"):
    import numpy as np
    from threadpoolctl import threadpool_limits
    from mlp.model import Multilayerperceptron
    X, y, X_test, y_test = _data(dtype)
    marks = []

    class Clock:                 # a callback: a time mark at the start of every epoch and at the end
        def on_epoch_begin(self, model, logs): marks.append(_now())
        def on_train_end(self, model, logs): marks.append(_now())
    with threadpool_limits(threads):
        model = Multilayerperceptron(epoch=epochs + 1, lr=LR, layer_construct=LAYERS, minibatch_size=bs,
                                     optimizer="adam", seed=0, dtype=dtype)
        peak_ok = _reset_peak()
        model.fit(X, y, callbacks=[Clock()])
        acc = float((model.predict_class(X_test) == y_test).mean())
        blas = _blas()
    return _result(marks, 1, peak_ok, dict(test_accuracy=acc, blas=blas, dtype=dtype,
                   final_cost=model.costs[-1]))

def work_floor(bs, epochs, threads):
    "The matrix products of one epoch alone, on arrays of the right shapes: no network can beat it."
    import numpy as np
    from threadpoolctl import threadpool_limits
    rng = np.random.default_rng(0)
    m, dt = 60000, np.float32
    X_rows = rng.random((m, SIZES[0]), dtype=dt)
    W = [rng.standard_normal((SIZES[l + 1], SIZES[l])).astype(dt) for l in range(3)]
    steps = [min(bs, m - s) for s in range(0, m, bs)]
    marks = [_now()]
    with threadpool_limits(threads):
        for _ in range(epochs + 1):
            for b in steps:
                A = [X_rows[:b].T]                       # (784, b), a transposed view as in fit
                for l in range(3): A.append(W[l] @ A[l])                  # forward: W A_prev
                dZ = A[1:]
                for l in range(3): dZ[l] @ A[l].T                         # backward: dZ A_prev^T
                for l in (1, 2): W[l].T @ dZ[l]                           # backward: W^T dZ (not layer 1)
            marks.append(_now())
        blas = _blas()
    return _result(marks, 1, False, dict(blas=blas, products_per_step=8))

def work_torch(bs, epochs, threads):
    import numpy as np, torch
    from torch import nn
    import torch.nn.functional as F
    torch.set_num_threads(threads)
    X, y, X_test, y_test = _data()
    Xt, yt = torch.from_numpy(np.ascontiguousarray(X.T)), torch.from_numpy(y)
    torch.manual_seed(0)
    p = 1 - KEEP_PROB
    model = nn.Sequential(nn.Linear(784, 128, bias=False), nn.BatchNorm1d(128, eps=1e-5, momentum=0.1),
                          nn.ReLU(), nn.Dropout(p), nn.Linear(128, 64, bias=False),
                          nn.BatchNorm1d(64, eps=1e-5, momentum=0.1), nn.ReLU(), nn.Dropout(p),
                          nn.Linear(64, 10))
    opt = torch.optim.Adam(model.parameters(), lr=LR, betas=(0.9, 0.999), eps=1e-8)
    m = Xt.shape[0]
    peak_ok = _reset_peak()
    model.train()
    marks = [_now()]
    for _ in range(epochs + 1):
        total = 0.0
        perm = torch.randperm(m)
        for s in range(0, m, bs):
            idx = perm[s:s + bs]
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(Xt[idx]), yt[idx])
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        marks.append(_now())
    model.eval()
    with torch.no_grad():
        acc = float((model(torch.from_numpy(np.ascontiguousarray(X_test.T))).argmax(1).numpy() == y_test).mean())
    return _result(marks, 1, peak_ok, dict(test_accuracy=acc, final_cost=total / m, version=torch.__version__,
                   threads=torch.get_num_threads(),
                   mode="eager; torch.optim.Adam default: on CPU a per-tensor loop, not foreach or fused"))

def work_keras(bs, epochs, threads):
    import numpy as np
    import tensorflow as tf
    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    import keras
    X, y, X_test, y_test = _data()
    Xr = np.ascontiguousarray(X.T)
    keras.utils.set_random_seed(0)
    L = keras.layers
    model = keras.Sequential([keras.Input((784,)),
        L.Dense(128, use_bias=False, kernel_initializer="he_normal"), L.BatchNormalization(momentum=0.9, epsilon=1e-5),
        L.ReLU(), L.Dropout(1 - KEEP_PROB),
        L.Dense(64, use_bias=False, kernel_initializer="he_normal"), L.BatchNormalization(momentum=0.9, epsilon=1e-5),
        L.ReLU(), L.Dropout(1 - KEEP_PROB), L.Dense(10, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(LR, beta_1=0.9, beta_2=0.999, epsilon=1e-8),
                  loss="sparse_categorical_crossentropy")
    marks = []
    class Clock(keras.callbacks.Callback):       # epoch boundaries: begin of each, end of the last
        def on_epoch_begin(self, epoch, logs=None): marks.append(_now())
        def on_train_end(self, logs=None): marks.append(_now())
    peak_ok = _reset_peak()
    hist = model.fit(Xr, y, batch_size=bs, epochs=epochs + 1, shuffle=True, verbose=0, callbacks=[Clock()])
    acc = float((model.predict(np.ascontiguousarray(X_test.T), verbose=0, batch_size=1000).argmax(1) == y_test).mean())
    return _result(marks, 1, peak_ok, dict(test_accuracy=acc, final_cost=float(hist.history["loss"][-1]),
                   version=f"keras {keras.__version__}, tensorflow {tf.__version__}",
                   mode=f"model.fit (compiled tf.function, jit_compile={getattr(model, 'jit_compile', '?')})"))

def work_sklearn(bs, epochs, threads):
    import numpy as np, sklearn, warnings
    from sklearn.neural_network import MLPClassifier
    from threadpoolctl import threadpool_limits
    X, y, X_test, y_test = _data()
    Xr = np.ascontiguousarray(X.T)
    clf = MLPClassifier(hidden_layer_sizes=(128, 64), activation="relu", solver="adam", alpha=0.0,
                        batch_size=bs, learning_rate_init=LR, beta_1=0.9, beta_2=0.999, epsilon=1e-8,
                        shuffle=True, random_state=0)
    with threadpool_limits(threads), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        peak_ok = _reset_peak()
        marks = [_now()]
        for _ in range(epochs + 1):        # partial_fit = one epoch of shuffled mini-batches
            clf.partial_fit(Xr, y, classes=np.arange(10))
            marks.append(_now())
        acc = float((clf.predict(np.ascontiguousarray(X_test.T)) == y_test).mean())
    return _result(marks, 1, peak_ok, dict(test_accuracy=acc, final_cost=float(clf.loss_),
                   version=sklearn.__version__, weights_dtype=str(clf.coefs_[0].dtype),
                   note="no BatchNorm, no dropout (MLPClassifier has neither)"))

WORKERS = {"ours": work_ours, "ours64": lambda bs, e, t: work_ours(bs, e, t, "float64"),
           "floor": work_floor, "torch": work_torch, "keras": work_keras, "sklearn": work_sklearn}

def worker_main(name, batches, epochs, threads):
    out = {}
    for bs in batches:
        out[str(bs)] = WORKERS[name](bs, epochs, threads)
    print("RESULT " + json.dumps(out))


# ----------------------------------------------------------------------------- driver side
def _available(name):
    mod = {"torch": "torch", "keras": "keras", "sklearn": "sklearn"}.get(name)
    if mod is None: return None
    import importlib.util
    if importlib.util.find_spec(mod) is None:
        return f"{name}: not installed, skipped (pip install -e '.[compare]' torch==2.13.0)"
    return None

def _env(threads, keep_env):
    env = dict(os.environ)
    for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "TF_NUM_INTRAOP_THREADS"):
        env[k] = str(threads)
    env["TF_NUM_INTEROP_THREADS"] = "1"
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    shared = ROOT.parent / "shared" / "data"
    if "MLP_DATA" not in env and shared.is_dir(): env["MLP_DATA"] = str(shared)
    if not keep_env:
        for k in OPENBLAS_OVERRIDES: env.pop(k, None)
    return env

def run_worker(name, batches, epochs, threads, keep_env):
    cmd = [sys.executable, __file__, "--worker", name, "--threads", str(threads), "--epochs", str(epochs),
           "--batch", *map(str, batches)]
    p = subprocess.run(cmd, capture_output=True, text=True, env=_env(threads, keep_env), timeout=3600)
    for line in p.stdout.splitlines():
        if line.startswith("RESULT "): return json.loads(line[7:]), None
    return None, f"{name} failed (exit {p.returncode}): {p.stderr.strip().splitlines()[-1:] or p.stdout[-300:]}"

def _load():
    try: return os.getloadavg()
    except OSError: return None

def median(v):
    v = sorted(v); n = len(v)
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2

def summarize(runs, batches, threads_list, names):
    "Median epoch seconds per (threads, batch, framework) and the ratios ours / peer."
    rows = []
    for th in threads_list:
        for bs in batches:
            row = dict(threads=th, batch=bs, seconds={}, cpu_seconds={}, n_epochs={}, peak_mb={}, accuracy={})
            for name in names:
                res = [r[str(bs)] for r in runs.get((name, th), []) if r and str(bs) in r]
                ep = [t for r in res for t in r["epoch_seconds"]]
                if not ep: continue
                row["seconds"][name], row["n_epochs"][name] = median(ep), len(ep)
                row["cpu_seconds"][name] = median([t for r in res for t in r["epoch_cpu_seconds"]])
                row["peak_mb"][name] = max(r["peak_rss_mb"] for r in res)
                if "test_accuracy" in res[-1]: row["accuracy"][name] = res[-1]["test_accuracy"]
            for key, s in (("ratios", row["seconds"]), ("cpu_ratios", row["cpu_seconds"])):
                row[key], ours = {}, s.get("ours")
                if not ours: continue
                for peer in ("torch", "keras", "sklearn", "floor"):
                    if s.get(peer): row[key][peer] = ours / s[peer]
                if s.get("ours64"): row[key]["float64"] = s["ours64"] / ours
            rows.append(row)
    return rows

LABELS = {"ours": "ours float32", "ours64": "ours float64", "torch": "PyTorch eager", "keras": "Keras (TF)",
          "sklearn": "sklearn MLP*", "floor": "matmul floor"}

RATIOS = (("floor", "ours/floor"), ("torch", "ours/PyTorch"), ("keras", "ours/Keras"),
          ("sklearn", "ours/sklearn"), ("float64", "f64/f32"))

def _table(rows, names, sec, rat_key, only=None):
    "A Markdown table: seconds per epoch of each implementation, then the ratios."
    peers = {"floor": "floor", "torch": "torch", "keras": "keras", "sklearn": "sklearn",
             "float64": "ours64"}
    rats = [(k, label) for k, label in RATIOS if peers[k] in names]
    out = ["| threads | batch | " + " | ".join(LABELS[n] for n in names) + " | "
           + " | ".join(label for _, label in rats) + " |",
           "|" + "---|" * (2 + len(names) + len(rats))]
    for r in rows:
        if only and r["threads"] not in only: continue
        cells = [f"{r[sec][n]:.3f}" if n in r[sec] else "--" for n in names]
        rat = [f"{r[rat_key][k]:.2f}" if r[rat_key].get(k) is not None else "--" for k, _ in rats]
        out.append(f"| {r['threads']} | {r['batch']} | " + " | ".join(cells + rat) + " |")
    return out

PEER_NAMES = {"torch": "PyTorch", "keras": "Keras", "sklearn": "scikit-learn"}

def _peers_line(runs):
    "One line naming each peer's version and mode, from the first result of each (JSON run keys)."
    out = []
    for key, rs in runs.items():
        name = key.split("@")[0]
        if name not in PEERS or key.endswith("@2threads") and f"{name}@1threads" in runs: continue
        r = next(iter(rs[0].values()))
        extra = r.get("mode") or (f"weights {r['weights_dtype']}" if "weights_dtype" in r else "")
        version = r.get("version", "?").replace("keras ", "").replace(", tensorflow ",
                                                                      " with TensorFlow ")
        out.append(f"{PEER_NAMES[name]} {version}" + (f" ({extra})" if extra else ""))
    return "Peers: " + "; ".join(out) + "." if out else ""

def _simple(rows, names, key, fmt):
    cols = [n for n in names if n != "floor"]
    out = ["| threads | batch | " + " | ".join(LABELS[n] for n in cols) + " |",
           "|" + "---|" * (2 + len(cols))]
    for r in rows:
        out.append(f"| {r['threads']} | {r['batch']} | " + " | ".join(
            fmt(r[key][n]) if n in r[key] else "--" for n in cols) + " |")
    return out

def markdown(rows, meta, runs=None):
    """The reader's tables: CPU time (1 thread), wall-clock, peak memory, test accuracy, and
    the conditions (date, CPU, cores, BLAS, versions). No load averages, no targets."""
    names = [n for n in ("ours", "ours64", "torch", "keras", "sklearn", "floor")
             if any(n in r["seconds"] for r in rows)]
    n_runs = meta.get("runs", 1)
    what = (f"the median over {n_runs} whole benchmark runs of each run's median" if n_runs > 1
            else "the median")
    where = conditions(meta)
    out = [f"CPU seconds per epoch with one thread ({what} of {meta['epochs']} timed epochs x "
           f"{meta['repeats']} alternating runs, after a warm-up epoch); MNIST, 60,000 images, "
           f"784-128-64-10, BatchNorm, keep_prob 0.8, Adam, float32 unless marked:", ""]
    out += _table(rows, names, "cpu_seconds", "cpu_ratios", only={1})
    out += ["", "Wall-clock seconds per epoch, 1 and 2 threads (same medians):", ""]
    out += _table(rows, names, "seconds", "ratios")
    out += ["", "Peak resident memory during training (MB, the whole process with the data "
            "and the library):", ""]
    out += _simple(rows, names, "peak_mb", lambda v: f"{v:.0f}")
    out += ["", "Test accuracy after the benchmark's epochs (a check that every run trains):", ""]
    out += _simple(rows, names, "accuracy", lambda v: f"{100 * v:.1f}%")
    foot = ["", "*scikit-learn's MLPClassifier has no BatchNorm and no dropout: it trains the "
            "same sizes without them.",
            f"Measured {where}; BLAS threads as in each table; Python "
            f"{meta.get('python', platform.python_version())}."]
    if runs: foot.append(_peers_line(runs))
    # environment notes (OpenBLAS overrides unset) stay in the JSON and on the console
    foot += [f"Note: {n}" for n in meta["notes"] if "OPENBLAS_" not in n]
    return "\n".join(out + foot) + "\n"

def lab_notes(rows, meta):
    "The measurer's notes: load averages and the issue's targets against the CPU-time ratios."
    out = [f"load average before/after each run: {meta.get('loads', [meta.get('load_before'), meta.get('load_after')])}"]
    for r in rows:
        if r["threads"] != 1: continue
        for k, target in TARGETS.items():
            t = target.get(r["batch"]) if isinstance(target, dict) else target
            v = r["cpu_ratios"].get(k)
            if t is None or v is None: continue
            out.append(f"  batch {r['batch']:>3} {k:8s} {v:.2f} (target <= {t}): "
                       + ("met" if v <= t else "not met"))
    return "\n".join(out)

def _cpu_model():
    "The CPU's model name (Linux /proc/cpuinfo, macOS sysctl); an error when neither says."
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"): return line.split(":", 1)[1].strip()
    except OSError:
        pass
    try:
        out = subprocess.run(["sysctl", "-n", "machdep.cpu.brand_string"], capture_output=True,
                             text=True).stdout.strip()
        if out: return out
    except OSError:
        pass
    raise RuntimeError("cannot find the CPU model (no 'model name' in /proc/cpuinfo, no sysctl "
                       "machdep.cpu.brand_string): the tables must name it")

BLAS_NAMES = {"openblas": "OpenBLAS", "mkl": "MKL", "blis": "BLIS", "accelerate": "Accelerate"}

def blas_label(meta):
    "'OpenBLAS 0.3.31 (kernel SkylakeX, pthreads)' from the metadata's BLAS string."
    import re
    out = []
    for part in meta["blas"].split("; "):
        m = re.fullmatch(r"(\w+) ([\w.+-]+) \(([^,]*), ([^)]*)\)", part)
        if not m: out.append(part); continue
        name, version, kernel, threading = m.groups()
        version = ".".join(version.split(".")[:3])
        out.append(f"{BLAS_NAMES.get(name, name)} {version} (kernel {kernel}, {threading})")
    return "; ".join(out)

def conditions(meta):
    """'2026-12-01, AMD EPYC (2 cores), OpenBLAS 0.3.31 (kernel SkylakeX, pthreads)': the
    measurement's date(s), CPU model, cores and BLAS. Fails loudly when one is missing."""
    missing = [k for k in ("date", "cpu", "cores", "blas") if not meta.get(k)]
    if missing:
        raise KeyError(f"benchmark metadata lacks {', '.join(missing)}: rerun benchmarks/bench.py "
                       "(it records them)")
    days = sorted({d[:10] for d in meta.get("dates") or [meta["date"]]})
    date = days[0] if len(days) == 1 else f"{days[0]} to {days[-1]}"
    return f"{date}, {meta['cpu']} ({meta['cores']} cores), {blas_label(meta)}"

def combine(results):
    """Median over whole runs: every seconds, ratio, peak and accuracy cell of the tables is
    the median of the runs' values for that cell (rows matched by threads and batch)."""
    base = results[0]
    rows = []
    for r0 in base["table"]:
        same = [next(r for r in res["table"] if (r["threads"], r["batch"]) == (r0["threads"], r0["batch"]))
                for res in results]
        row = dict(threads=r0["threads"], batch=r0["batch"])
        for key in ("seconds", "cpu_seconds", "n_epochs", "peak_mb", "accuracy", "ratios", "cpu_ratios"):
            row[key] = {n: median([r[key][n] for r in same if n in r[key]])
                        for n in r0[key]}
        rows.append(row)
    meta = dict(base["meta"], runs=len(results),
                loads=[(res["meta"].get("load_before"), res["meta"].get("load_after")) for res in results],
                dates=[res["meta"]["date"] for res in results])
    return rows, meta

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--batch", type=int, nargs="+", default=[64, 256])
    ap.add_argument("--epochs", type=int, default=3, help="timed epochs per run (after one warm-up epoch)")
    ap.add_argument("--repeats", type=int, default=2, help="alternating runs per framework")
    ap.add_argument("--only", nargs="+", default=None, help="subset of: ours ours64 floor torch keras sklearn")
    ap.add_argument("--quick", action="store_true", help="1 timed epoch, 1 run each: a smoke test")
    ap.add_argument("--keep-openblas-env", action="store_true",
                    help=f"keep {', '.join(OPENBLAS_OVERRIDES)} if set (default: unset them for the runs)")
    ap.add_argument("--out", default=str(HERE / "results"), help="path prefix of the .json and .md written")
    ap.add_argument("--render", action="store_true", help="only rewrite OUT.md from OUT.json (no measuring)")
    ap.add_argument("--runs", type=int, default=1,
                    help="whole benchmark runs; the tables report the median over the runs")
    ap.add_argument("--max-load", type=float, default=None,
                    help="before each run, wait until the 1-minute load average is below this")
    ap.add_argument("--combine", nargs="+", metavar="JSON",
                    help="only combine saved result files (medians over them) into OUT")
    a = ap.parse_args()
    if a.render:
        res = json.loads(Path(a.out + ".json").read_text())
        md = markdown(res["table"], res["meta"], res.get("runs"))
        Path(a.out + ".md").write_text(md); print(md)
        return
    if a.worker:
        return worker_main(a.worker, a.batch, a.epochs, a.threads[0])
    if a.combine or a.runs > 1:
        files = a.combine or []
        for i in range(a.runs if not a.combine else 0):
            if a.max_load is not None:
                while (_load() or (0,))[0] >= a.max_load:
                    print(f"load average {_load()[0]:.2f} >= {a.max_load}: waiting", flush=True)
                    time.sleep(30)
            out = f"{a.out}_run{i + 1}"
            argv, skip = [], 0                   # this command without --runs/--max-load/--out
            for x in sys.argv[1:]:
                if skip: skip -= 1; continue
                if x in ("--runs", "--max-load", "--out"): skip = 1; continue
                if x.startswith(("--runs=", "--max-load=", "--out=")): continue
                argv.append(x)
            subprocess.run([sys.executable, __file__, *argv, "--out", out], check=True)
            files.append(out + ".json")
        results = [json.loads(Path(f).read_text()) for f in files]
        rows, meta = combine(results)
        md = markdown(rows, meta, results[0].get("runs"))
        Path(a.out + ".json").write_text(json.dumps(dict(meta=meta, targets=TARGETS, table=rows,
                                                         runs=results[0].get("runs"),
                                                         files=files), indent=1) + "\n")
        Path(a.out + ".md").write_text(md)
        print("\n" + md + "\n" + lab_notes(rows, meta))
        print(f"wrote {a.out}.json and {a.out}.md (medians of {len(files)} runs)")
        return
    if a.quick: a.epochs, a.repeats = 1, 1
    names = a.only or ["ours", "ours64", "floor", "torch", "keras", "sklearn"]
    notes = [n for n in map(_available, names) if n]
    names = [n for n in names if not _available(n)]
    removed = [k for k in OPENBLAS_OVERRIDES if k in os.environ]
    if removed and not a.keep_openblas_env:
        notes.append(f"{' and '.join(removed)} unset for the benchmark runs (they select a slower OpenBLAS kernel)")
    if not os.cpu_count(): raise RuntimeError("os.cpu_count() is unknown: the tables must name the cores")
    meta = dict(date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), epochs=a.epochs, repeats=a.repeats,
                cpu=_cpu_model(), cores=os.cpu_count(), python=platform.python_version(),
                machine=f"{os.cpu_count()} CPUs, {platform.processor() or platform.machine()}, Python {platform.python_version()}",
                load_before=", ".join(f"{x:.1f}" for x in (_load() or ())), command=" ".join(sys.argv))
    runs = {}
    t0 = time.time()
    for th in a.threads:
        for rep in range(a.repeats):
            for name in names:                       # alternate: ours, peers, ours, peers, ...
                print(f"[{time.time() - t0:6.0f}s] threads={th} run {rep + 1}/{a.repeats}: {name} ...", flush=True)
                load = _load()
                res, err = run_worker(name, a.batch, a.epochs, th, a.keep_openblas_env)
                if err: notes.append(err); print("   " + err, flush=True); continue
                for r in res.values(): r["load_at_start"] = load
                runs.setdefault((name, th), []).append(res)
                print("   " + ", ".join(f"batch {bs}: " + " ".join(f"{t:.2f}" for t in r["epoch_seconds"]) + " s/epoch"
                                        for bs, r in res.items()), flush=True)
    meta["load_after"] = ", ".join(f"{x:.1f}" for x in (_load() or ()))
    blas = next((r[str(a.batch[0])]["blas"] for (n, _), rs in runs.items() if n == "ours" for r in rs), [])
    meta["blas"] = "; ".join(f"{b['internal_api']} {b['version']} ({b['architecture']}, {b['threading_layer']})"
                             for b in blas) or "unknown"
    meta["notes"] = notes
    rows = summarize(runs, a.batch, a.threads, names)
    runs = {f"{n}@{t}threads": v for (n, t), v in runs.items()}
    md = markdown(rows, meta, runs)
    Path(a.out + ".json").write_text(json.dumps(dict(meta=meta, targets=TARGETS, table=rows, runs=runs),
                                                indent=1) + "\n")
    Path(a.out + ".md").write_text(md)
    print("\n" + md + "\n" + lab_notes(rows, meta))
    print(f"wrote {a.out}.json and {a.out}.md ({time.time() - t0:.0f} s)")

if __name__ == "__main__":
    main()
