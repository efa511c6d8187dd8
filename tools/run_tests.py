"""Run every notebook in nbs/ as a test (nbdev's test_nb, in parallel) and then pytest on
tests/, and end with one line `N passed, N failed[, N skipped]` counting notebooks and tests.
Exit status 1 if anything failed. Used by `make test`; flags come from MLP_FLAGS."""
import argparse
import os
import re
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

root = Path(__file__).resolve().parent.parent


def run_notebooks(files, flags, n_workers):
    from concurrent.futures import ProcessPoolExecutor
    from functools import partial
    from nbdev.config import get_config
    from nbdev.test import test_nb

    # nbdev 2 splits tst_flags on spaces only; older settings wrote `slow|torch` (nbdev 1 style),
    # so split on both, or flagged cells would run unasked.
    skip_flags = [f for f in re.split(r"[|\s]+", get_config().tst_flags) if f]
    os.chdir(root / "nbs")
    # Every notebook in a fresh process, as a reader runs it in a fresh kernel: nbdev's test_nb
    # executes in the worker's own interpreter, so a worker that ran chapter 10 before another
    # notebook would hand it chapter 10's state (e.g. the step registry of mlp.network).
    run = partial(test_nb, skip_flags=skip_flags, force_flags=flags, basepath=root)
    with ProcessPoolExecutor(max_workers=n_workers, max_tasks_per_child=1) as pool:
        results = list(pool.map(run, files))
    os.chdir(root)
    return [ok for ok, _ in results], [t for _, t in results]


def run_pytest(paths, extra):
    junit = root / "tests" / "_artifacts" / "pytest.xml"
    junit.parent.mkdir(parents=True, exist_ok=True)
    junit.unlink(missing_ok=True)
    rc = subprocess.call([sys.executable, "-m", "pytest", "-q", "-rs", f"--junitxml={junit}", *paths, *extra], cwd=root)
    if rc == 5 or not junit.exists():  # no tests collected
        return 0, 0 if rc in (0, 5) else 1, 0
    suite = ET.parse(junit).getroot()
    suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
    n = int(suite.get("tests", 0))
    failed = int(suite.get("failures", 0)) + int(suite.get("errors", 0))
    skipped = int(suite.get("skipped", 0))
    if rc not in (0, 5) and failed == 0:  # pytest itself failed (usage error, crash)
        failed = 1
    return n - failed - skipped, failed, skipped


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--flags", default=os.environ.get("MLP_FLAGS", ""), help="test flags to run, space separated")
    ap.add_argument("--nbs", default="nbs/*.ipynb", help="notebooks to test (glob)")
    ap.add_argument("--workers", type=int, default=int(os.environ.get("MLP_TEST_WORKERS", 2)))
    ap.add_argument("--no-pytest", action="store_true", help="notebooks only")
    ap.add_argument("--no-notebooks", action="store_true", help="pytest only")
    ap.add_argument("pytest_args", nargs="*", help="pytest paths and options (default: tests)")
    args = ap.parse_args()

    files = [] if args.no_notebooks else sorted(p.resolve() for p in root.glob(args.nbs) if not p.name.startswith("."))
    flags = args.flags.split()
    nb_pass = nb_fail = 0
    if not args.no_notebooks:
        print(f"testing {len(files)} notebooks (flags: {' '.join(flags) or 'none'}) with {args.workers} workers ...", flush=True)
        t0 = time.time()
        oks, times = run_notebooks(files, flags, args.workers) if files else ([], [])
        for f, ok, t in zip(files, oks, times):
            print(f"{'ok  ' if ok else 'FAIL'} {f.relative_to(root)} ({t:.1f} s)")
        nb_pass, nb_fail = sum(oks), len(oks) - sum(oks)
        print(f"notebooks: {nb_pass} passed, {nb_fail} failed in {time.time() - t0:.0f} s", flush=True)

    py_pass = py_fail = py_skip = 0
    paths = [a for a in args.pytest_args if not a.startswith("-")] or ["tests"]
    opts = [a for a in args.pytest_args if a.startswith("-")]
    if not args.no_pytest and all((root / p).exists() for p in paths):
        py_pass, py_fail, py_skip = run_pytest(paths, opts)
    passed, failed = nb_pass + py_pass, nb_fail + py_fail
    print(f"{passed} passed, {failed} failed" + (f", {py_skip} skipped" if py_skip else ""))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
