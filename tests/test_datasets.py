"""Tests for mlp.datasets: the IDX parser, the MNIST loader's find / download / verify paths, and
the scikit-learn loaders.

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

from mlp import data, datasets

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
        datasets.write_idx(src / name, a)
    monkeypatch.setattr(datasets, "MNIST_FILES", {n: datasets.md5_file(src / n) for n in NAMES})
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
    a = datasets.parse_idx(raw)
    assert a.shape == (2, 2, 3) and a.dtype == np.uint8 and a.ravel().tolist() == list(range(12))
    labels = datasets.parse_idx(bytes([0, 0, 0x08, 1, 0, 0, 0xEA, 0x60]) + bytes(60000))
    assert labels.shape == (60000,)           # 00 00 EA 60 big-endian = 60000
    b = datasets.parse_idx(bytes([0, 0, 0x0C, 1, 0, 0, 0, 2]) + (258).to_bytes(4, "big") + (-1).to_bytes(4, "big", signed=True))
    assert b.tolist() == [258, -1] and b.dtype.isnative and b.flags.writeable


@pytest.mark.parametrize("dtype", ["u1", "i1", "i2", "i4", "f4", "f8"])
@pytest.mark.parametrize("name", ["x.idx", "x.idx.gz"])
def test_idx_round_trip(tmp_path, dtype, name):
    x = (np.arange(60) - 7).reshape(3, 4, 5).astype(dtype)
    y = datasets.read_idx(datasets.write_idx(tmp_path / name, x))
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
        datasets.parse_idx(raw)


def test_read_idx_names_the_file_when_gzip_is_broken(tmp_path):
    p = datasets.write_idx(tmp_path / "x.gz", np.zeros((4, 4), np.uint8))
    p.write_bytes(p.read_bytes()[:-6])        # cut off the gzip trailer
    with pytest.raises(ValueError, match="x.gz"):
        datasets.read_idx(p)
    with pytest.raises(TypeError, match="uint8"):
        datasets.write_idx(tmp_path / "y.idx", np.zeros(3, np.complex128))


# --- finding, downloading and verifying MNIST -----------------------------------------------

def test_load_from_data_dir(tiny_mnist):
    src, arrays = tiny_mnist
    X_train, y_train, X_test, y_test = datasets.load_mnist(data_dir=src.parent)
    assert X_train.shape == (784, 3) and X_test.shape == (784, 2) and X_train.dtype == np.float64
    assert np.array_equal(X_train[:, 1], arrays[NAMES[0]][1].ravel() / 255)   # column i is image i
    assert y_train.tolist() == [5, 0, 4] and y_test.tolist() == [7, 2]
    X32, _, _, _ = datasets.load_mnist(data_dir=src.parent, dtype=np.float32)
    assert X32.dtype == np.float32 and np.allclose(X32, X_train, atol=1e-7)
    raw, _, _, _ = datasets.load_mnist(data_dir=src.parent, normalize=False)
    assert raw.dtype == np.uint8 and np.array_equal(raw[:, 2], arrays[NAMES[0]][2].ravel())


def test_load_from_MLP_DATA(tiny_mnist, monkeypatch):
    src, _ = tiny_mnist
    monkeypatch.setenv("MLP_DATA", str(src.parent))
    assert datasets.mnist_paths()[NAMES[0]] == src / NAMES[0]
    assert datasets.load_mnist()[1].tolist() == [5, 0, 4]


def test_corrupted_file_in_data_dir(tiny_mnist):
    src, _ = tiny_mnist
    p = src / NAMES[1]
    p.write_bytes(p.read_bytes()[:-1] + bytes([p.read_bytes()[-1] ^ 1]))   # flip one bit
    with pytest.raises(ValueError, match=r"corrupted: its MD5 is [0-9a-f]{32}, the published one is"):
        datasets.load_mnist(data_dir=src.parent)


def test_missing_files_without_download(tmp_path, tiny_mnist):
    with pytest.raises(FileNotFoundError, match="download=False"):
        datasets.load_mnist(data_dir=tmp_path / "empty", download=False)


def test_download_into_cache(tmp_path, tiny_mnist, monkeypatch):
    src, _ = tiny_mnist
    calls = []
    monkeypatch.setattr(urllib.request, "urlopen",
                        fake_urlopen(lambda url: (src / url.rsplit("/", 1)[1]).read_bytes(), calls))
    cache = tmp_path / "xdg-cache" / "mlp" / "mnist"          # default_cache_dir() under XDG_CACHE_HOME
    X_train, y_train, _, y_test = datasets.load_mnist()
    assert y_train.tolist() == [5, 0, 4] and y_test.tolist() == [7, 2]
    assert sorted(p.name for p in cache.iterdir()) == sorted(NAMES)   # no temporary files left
    assert calls == [datasets.MNIST_MIRRORS[0] + n for n in NAMES]
    datasets.load_mnist()                                                  # second time: from the cache
    assert len(calls) == 4


def test_falls_back_to_next_mirror(tmp_path, tiny_mnist, monkeypatch):
    src, _ = tiny_mnist
    def serve(url):
        if url.startswith(datasets.MNIST_MIRRORS[0]):
            raise urllib.error.HTTPError(url, 404, "Not Found", None, None)
        if url.startswith(datasets.MNIST_MIRRORS[1]):
            return b"<html>a captive portal</html>"                   # wrong bytes: rejected
        return (src / url.rsplit("/", 1)[1]).read_bytes()
    calls = []
    monkeypatch.setattr(urllib.request, "urlopen", fake_urlopen(serve, calls))
    paths = datasets.mnist_paths(cache_dir=tmp_path / "c")
    assert all(p.parent == tmp_path / "c" / "mnist" for p in paths.values())
    assert len(calls) == 12 and not leftovers(tmp_path / "c" / "mnist")


def test_download_checksum_failure(tmp_path, tiny_mnist, monkeypatch):
    monkeypatch.setattr(urllib.request, "urlopen", fake_urlopen(lambda url: b"not mnist", []))
    with pytest.raises(datasets.DownloadError, match="wrong checksum") as e:
        datasets.load_mnist(cache_dir=tmp_path / "c")
    assert all(m in str(e.value) for m in datasets.MNIST_MIRRORS)
    assert list((tmp_path / "c" / "mnist").iterdir()) == []           # nothing half-written kept


def test_offline(tmp_path, tiny_mnist, monkeypatch):
    def offline(request, timeout=None):
        raise urllib.error.URLError(OSError(-3, "Temporary failure in name resolution"))
    monkeypatch.setattr(urllib.request, "urlopen", offline)
    with pytest.raises(datasets.DownloadError, match="offline") as e:
        datasets.load_mnist(cache_dir=tmp_path / "c")
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
    assert datasets.load_mnist(cache_dir=tmp_path / "c")[2].shape == (784, 2)
    assert calls == [datasets.MNIST_MIRRORS[0] + NAMES[2]]


def test_cache_dir_default(monkeypatch, tmp_path):
    assert datasets.default_cache_dir() == tmp_path / "xdg-cache" / "mlp"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert datasets.default_cache_dir() == Path.home() / ".cache" / "mlp"
    assert datasets.default_data_dir() is None


REAL = os.environ.get("MLP_DATA")


@pytest.mark.skipif(not (REAL and (Path(REAL) / "mnist" / NAMES[0]).is_file()),
                    reason="MLP_DATA does not point at a folder with the real MNIST files")
def test_real_mnist_published_facts():
    X_train, y_train, X_test, y_test = datasets.load_mnist(data_dir=REAL, dtype=np.float32)
    assert X_train.shape == (784, 60000) and X_test.shape == (784, 10000)
    assert y_train[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert y_test[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert abs(X_train.mean(dtype=np.float64) - 0.1307) < 5e-5


# --- the scikit-learn loaders and the module's imports -------------------------------------

def test_columns_is_to_columns():
    "The transpose the tabular loaders write out is chapter 13's to_columns, bit for bit."
    T = np.arange(12.0).reshape(4, 3)
    for dtype in (np.float64, np.float32):
        a, b = datasets._columns(T, dtype), data.to_columns(T, dtype)
        assert a.dtype == b.dtype and a.flags.c_contiguous and np.array_equal(a, b)


def test_breast_cancer_loader():
    pytest.importorskip("sklearn")
    bc = datasets.load_breast_cancer_data(dtype=np.float32)
    assert bc.X.shape == (30, 569) and bc.X.dtype == np.float32 and bc.X.flags.c_contiguous
    assert np.bincount(bc.y).tolist() == [357, 212] and bc.target_names == ("benign", "malignant")


def test_california_housing_offline_message(tmp_path):
    pytest.importorskip("sklearn")
    with pytest.raises(datasets.DownloadError, match="SCIKIT_LEARN_DATA"):
        datasets.load_california_housing_data(data_home=tmp_path / "empty", download=False)


def test_import_does_not_need_scikit_learn_or_mlp_data():
    code = ("import sys, mlp.datasets; loaded = [m for m in ('sklearn', 'matplotlib', 'mlp.data') "
            "if m in sys.modules]; assert not loaded, loaded")
    subprocess.run([sys.executable, "-c", code], check=True)
