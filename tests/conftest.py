"""Shared test fixtures: where the offline MNIST files are, and a private cache folder."""

import os
import pathlib

import pytest

REPO = pathlib.Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session", autouse=True)
def private_cache(tmp_path_factory):
    """Real-data features and label classifiers are cached in a folder of this test session
    (never in the user's ~/.cache), unless $GANJAX_CACHE says where."""
    if os.environ.get("GANJAX_CACHE"):
        yield
        return
    os.environ["GANJAX_CACHE"] = str(tmp_path_factory.mktemp("ganjax_cache"))
    yield
    del os.environ["GANJAX_CACHE"]


@pytest.fixture
def mnist_dir() -> pathlib.Path:
    """Real MNIST subsets (../shared/data/mnist, or $GANJAX_MNIST_DIR); skips when absent."""
    path = pathlib.Path(os.environ.get("GANJAX_MNIST_DIR", REPO.parent / "shared/data/mnist"))
    if not (path / "t10k-images-idx3-ubyte.gz").exists():
        pytest.skip(f"no MNIST in {path} (set GANJAX_MNIST_DIR)")
    return path
