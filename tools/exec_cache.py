"""Is the executed-notebook cache still valid for this checkout? (used by `make book`, `make pdf`)

Jupyter Book keeps executed notebooks in a jupyter-cache (book/_build/.jupyter_cache) and reuses
a notebook's outputs when its code cells are unchanged. It cannot see anything else a notebook
depends on: the package mlp/, _toc.yml (the landing page draws it), benchmark results, the test
flags (which cells run), the installed packages. This script keys the cache on all of those:

    python tools/exec_cache.py save    # after a build that executed into the cache: record the key
    python tools/exec_cache.py check   # exit 0 if the recorded key is the current one, else 1

The key hashes every file of the checkout except the notebooks themselves (git's tracked and
untracked files, without ignored ones; every file outside .venv and book/_build when this is
not a git checkout), $MLP_FLAGS, the Python version and the installed distributions.
"""
import hashlib
import importlib.metadata
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "book" / "_build" / ".jupyter_cache"
KEYFILE = CACHE / "mlp-cache-key"
SKIP_DIRS = {".git", ".venv", "_build", "__pycache__", ".pytest_cache", ".hypothesis", ".ipynb_checkpoints",
             "_artifacts", "_scratch"}


def files():
    try:
        out = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT,
                             capture_output=True, check=True).stdout.decode()
        paths = [p for p in out.split("\0") if p]
    except (OSError, subprocess.CalledProcessError):
        paths = [str(p.relative_to(ROOT)) for p in ROOT.rglob("*")
                 if p.is_file() and not SKIP_DIRS & set(p.relative_to(ROOT).parts)]
    # the notebooks are hashed by the cache itself (their code cells)
    return sorted(p for p in paths if not (p.startswith("nbs/") and p.endswith(".ipynb")) and (ROOT / p).is_file())


def key():
    h = hashlib.sha256()
    for p in files():
        h.update(p.encode() + b"\0" + hashlib.sha256((ROOT / p).read_bytes()).digest())
    h.update(("flags:" + " ".join(sorted(os.environ.get("MLP_FLAGS", "").split()))).encode())
    h.update(("python:" + sys.version).encode())
    dists = sorted(f"{d.metadata['Name']}=={d.version}" for d in importlib.metadata.distributions())
    h.update("\n".join(dists).encode())
    return h.hexdigest()


def main():
    cmd = sys.argv[1] if len(sys.argv) > 1 else "check"
    if cmd == "save":
        CACHE.mkdir(parents=True, exist_ok=True)
        KEYFILE.write_text(key() + "\n")
        print(f"executed-notebook cache: key recorded ({KEYFILE.relative_to(ROOT)})")
    elif cmd == "check":
        if not KEYFILE.exists():
            print("executed-notebook cache: none recorded (run make book first to reuse it); every chapter runs")
            sys.exit(1)
        if KEYFILE.read_text().strip() != key():
            print("executed-notebook cache: mlp/, other files, flags or packages changed since it was filled; "
                  "every chapter runs again")
            sys.exit(1)
        print("executed-notebook cache: valid; chapters whose code is unchanged are not executed again")
    else:
        sys.exit(f"usage: {sys.argv[0]} save|check")


if __name__ == "__main__":
    main()
