"""Shared pytest setup: import this checkout's `mlp`, and point the data loaders at the local
copies of the datasets (../shared/data on the build machines) unless already set, exactly as
`make test` does, so that `pytest tests/` alone behaves the same."""
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

_shared = (ROOT.parent / "shared" / "data").resolve()
if _shared.is_dir():
    os.environ.setdefault("MLP_DATA", str(_shared))
    os.environ.setdefault("SCIKIT_LEARN_DATA", str(_shared / "scikit_learn_data"))
