"""Tests for mlp.data: the IDX parser and the MNIST loader's find / download / verify paths.

Every test runs on tiny IDX files it writes itself; the network is never touched (urlopen is
replaced by a function that fails the test, and each download test installs its own fake).
"""
import io
import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from mlp import data

NAMES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
         "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


@pytest.fixture(autouse=True)
def no_network(monkeypatch, tmp_path):
    """No test may reach the network, read the real MLP_DATA, or write to the real cache."""
    def refuse(*args, **kwargs):
        raise AssertionError("a test tried to open a URL")
    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    monkeypatch.delenv("MLP_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))


@pytest.fixture
def tiny_mnist(tmp_path, monkeypatch):
    """Four tiny MNIST-format files (3 train, 2 test images) and their checksums installed in MNIST_FILES."""
    rng = np.random.default_rng(0)
    arrays = {
        NAMES[0]: rng.integers(0, 256, (3, 28, 28), dtype=np.uint8),
        NAMES[1]: np.array([5, 0, 4], dtype=np.uint8),
        NAMES[2]: rng.integers(0, 256, (2, 28, 28), dtype=np.uint8),
        NAMES[3]: np.array([7, 2], dtype=np.uint8),
    }
    src = tmp_path / "data" / "mnist"
    src.mkdir(parents=True)
    for name, a in arrays.items():
        data.write_idx(src / name, a)
    monkeypatch.setattr(data, "MNIST_FILES", {n: data.md5_file(src / n) for n in NAMES})
    return src, arrays


def fake_urlopen(serve, calls):
    """An urlopen that serves serve(url) -> bytes, or raises what serve raises; records URLs."""
    def urlopen(request, timeout=None):
        url = request.full_url if isinstance(request, urllib.request.Request) else request
        calls.append(url)
        return io.BytesIO(serve(url))
    return urlopen


def leftovers(folder):
    return sorted(p.name for p in Path(folder).glob(".*.part")) if Path(folder).exists() else []


# --- the IDX format -------------------------------------------------------------------------

def test_idx_header_by_hand():
    raw = bytes([0, 0, 0x08, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 3]) + bytes(range(12))
    a = data.parse_idx(raw)
    assert a.shape == (2, 2, 3) and a.dtype == np.uint8 and a.ravel().tolist() == list(range(12))
    labels = data.parse_idx(bytes([0, 0, 0x08, 1, 0, 0, 0xEA, 0x60]) + bytes(60000))
    assert labels.shape == (60000,)           # 00 00 EA 60 big-endian = 60000
    b = data.parse_idx(bytes([0, 0, 0x0C, 1, 0, 0, 0, 2]) + (258).to_bytes(4, "big") + (-1).to_bytes(4, "big", signed=True))
    assert b.tolist() == [258, -1] and b.dtype.isnative and b.flags.writeable


@pytest.mark.parametrize("dtype", ["u1", "i1", "i2", "i4", "f4", "f8"])
@pytest.mark.parametrize("name", ["x.idx", "x.idx.gz"])
def test_idx_round_trip(tmp_path, dtype, name):
    x = (np.arange(60) - 7).reshape(3, 4, 5).astype(dtype)
    y = data.read_idx(data.write_idx(tmp_path / name, x))
    assert y.dtype == np.dtype(dtype) and np.array_equal(x, y)


@pytest.mark.parametrize("raw, words", [
    (b"\x00\x00", "4-byte"),
    (b"\x01\x00\x08\x01\x00\x00\x00\x01\x05", "first two bytes"),
    (b"\x00\x00\x07\x01\x00\x00\x00\x01\x05", "type code"),
    (b"\x00\x00\x08\x02\x00\x00\x00\x01", "truncated"),
    (b"\x00\x00\x08\x01\x00\x00\x00\x03\x05\x06", "truncated or corrupted"),
])
def test_idx_corruption_rejected(raw, words):
    with pytest.raises(ValueError, match=words):
        data.parse_idx(raw)


def test_read_idx_names_the_file_when_gzip_is_broken(tmp_path):
    p = data.write_idx(tmp_path / "x.gz", np.zeros((4, 4), np.uint8))
    p.write_bytes(p.read_bytes()[:-6])        # cut off the gzip trailer
    with pytest.raises(ValueError, match="x.gz"):
        data.read_idx(p)
    with pytest.raises(TypeError, match="uint8"):
        data.write_idx(tmp_path / "y.idx", np.zeros(3, np.complex128))


# --- finding, downloading and verifying MNIST -----------------------------------------------

def test_load_from_data_dir(tiny_mnist):
    src, arrays = tiny_mnist
    X_train, y_train, X_test, y_test = data.load_mnist(data_dir=src.parent)
    assert X_train.shape == (784, 3) and X_test.shape == (784, 2) and X_train.dtype == np.float64
    assert np.array_equal(X_train[:, 1], arrays[NAMES[0]][1].ravel() / 255)   # column i is image i
    assert y_train.tolist() == [5, 0, 4] and y_test.tolist() == [7, 2]
    X32, _, _, _ = data.load_mnist(data_dir=src.parent, dtype=np.float32)
    assert X32.dtype == np.float32 and np.allclose(X32, X_train, atol=1e-7)
    raw, _, _, _ = data.load_mnist(data_dir=src.parent, normalize=False)
    assert raw.dtype == np.uint8 and np.array_equal(raw[:, 2], arrays[NAMES[0]][2].ravel())


def test_load_from_MLP_DATA(tiny_mnist, monkeypatch):
    src, _ = tiny_mnist
    monkeypatch.setenv("MLP_DATA", str(src.parent))
    assert data.mnist_paths()[NAMES[0]] == src / NAMES[0]
    assert data.load_mnist()[1].tolist() == [5, 0, 4]


def test_corrupted_file_in_data_dir(tiny_mnist):
    src, _ = tiny_mnist
    p = src / NAMES[1]
    p.write_bytes(p.read_bytes()[:-1] + bytes([p.read_bytes()[-1] ^ 1]))   # flip one bit
    with pytest.raises(ValueError, match=r"corrupted: its MD5 is [0-9a-f]{32}, the published one is"):
        data.load_mnist(data_dir=src.parent)


def test_missing_files_without_download(tmp_path, tiny_mnist):
    with pytest.raises(FileNotFoundError, match="download=False"):
        data.load_mnist(data_dir=tmp_path / "empty", download=False)


def test_download_into_cache(tmp_path, tiny_mnist, monkeypatch):
    src, _ = tiny_mnist
    calls = []
    monkeypatch.setattr(urllib.request, "urlopen",
                        fake_urlopen(lambda url: (src / url.rsplit("/", 1)[1]).read_bytes(), calls))
    cache = tmp_path / "xdg-cache" / "mlp" / "mnist"          # default_cache_dir() under XDG_CACHE_HOME
    X_train, y_train, _, y_test = data.load_mnist()
    assert y_train.tolist() == [5, 0, 4] and y_test.tolist() == [7, 2]
    assert sorted(p.name for p in cache.iterdir()) == sorted(NAMES)   # no temporary files left
    assert calls == [data.MNIST_MIRRORS[0] + n for n in NAMES]
    data.load_mnist()                                                  # second time: from the cache
    assert len(calls) == 4


def test_falls_back_to_next_mirror(tmp_path, tiny_mnist, monkeypatch):
    src, _ = tiny_mnist
    def serve(url):
        if url.startswith(data.MNIST_MIRRORS[0]):
            raise urllib.error.HTTPError(url, 404, "Not Found", None, None)
        if url.startswith(data.MNIST_MIRRORS[1]):
            return b"<html>a captive portal</html>"                   # wrong bytes: rejected
        return (src / url.rsplit("/", 1)[1]).read_bytes()
    calls = []
    monkeypatch.setattr(urllib.request, "urlopen", fake_urlopen(serve, calls))
    paths = data.mnist_paths(cache_dir=tmp_path / "c")
    assert all(p.parent == tmp_path / "c" / "mnist" for p in paths.values())
    assert len(calls) == 12 and not leftovers(tmp_path / "c" / "mnist")


def test_download_checksum_failure(tmp_path, tiny_mnist, monkeypatch):
    monkeypatch.setattr(urllib.request, "urlopen", fake_urlopen(lambda url: b"not mnist", []))
    with pytest.raises(data.DownloadError, match="wrong checksum") as e:
        data.load_mnist(cache_dir=tmp_path / "c")
    assert all(m in str(e.value) for m in data.MNIST_MIRRORS)
    assert list((tmp_path / "c" / "mnist").iterdir()) == []           # nothing half-written kept


def test_offline(tmp_path, tiny_mnist, monkeypatch):
    def offline(request, timeout=None):
        raise urllib.error.URLError(OSError(-3, "Temporary failure in name resolution"))
    monkeypatch.setattr(urllib.request, "urlopen", offline)
    with pytest.raises(data.DownloadError, match="offline") as e:
        data.load_mnist(cache_dir=tmp_path / "c")
    assert "MLP_DATA" in str(e.value) and "name resolution" in str(e.value)
    assert isinstance(e.value, OSError)
    assert list((tmp_path / "c" / "mnist").iterdir()) == []


def test_corrupted_cache_file_is_downloaded_again(tmp_path, tiny_mnist, monkeypatch):
    src, _ = tiny_mnist
    cache = tmp_path / "c" / "mnist"
    cache.mkdir(parents=True)
    for n in NAMES:
        (cache / n).write_bytes((src / n).read_bytes())
    (cache / NAMES[2]).write_bytes(b"truncated")
    calls = []
    monkeypatch.setattr(urllib.request, "urlopen",
                        fake_urlopen(lambda url: (src / url.rsplit("/", 1)[1]).read_bytes(), calls))
    assert data.load_mnist(cache_dir=tmp_path / "c")[2].shape == (784, 2)
    assert calls == [data.MNIST_MIRRORS[0] + NAMES[2]]


def test_cache_dir_default(monkeypatch, tmp_path):
    assert data.default_cache_dir() == tmp_path / "xdg-cache" / "mlp"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert data.default_cache_dir() == Path.home() / ".cache" / "mlp"
    assert data.default_data_dir() is None


REAL = os.environ.get("MLP_DATA")


@pytest.mark.skipif(not (REAL and (Path(REAL) / "mnist" / NAMES[0]).is_file()),
                    reason="MLP_DATA does not point at a folder with the real MNIST files")
def test_real_mnist_published_facts():
    X_train, y_train, X_test, y_test = data.load_mnist(data_dir=REAL, dtype=np.float32)
    assert X_train.shape == (784, 60000) and X_test.shape == (784, 10000)
    assert y_train[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert y_test[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert abs(X_train.mean(dtype=np.float64) - 0.1307) < 5e-5


# --- the helpers ----------------------------------------------------------------------------

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


def test_import_does_not_need_scikit_learn():
    code = "import sys, mlp.data; assert 'sklearn' not in sys.modules and 'matplotlib' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
