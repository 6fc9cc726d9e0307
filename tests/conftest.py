"""Shared test fixtures: where the offline MNIST files are."""

import os
import pathlib

import pytest

REPO = pathlib.Path(__file__).resolve().parent.parent


@pytest.fixture
def mnist_dir() -> pathlib.Path:
    """Real MNIST subsets (../shared/data/mnist, or $GANJAX_MNIST_DIR); skips when absent."""
    path = pathlib.Path(os.environ.get("GANJAX_MNIST_DIR", REPO.parent / "shared/data/mnist"))
    if not (path / "t10k-images-idx3-ubyte.gz").exists():
        pytest.skip(f"no MNIST in {path} (set GANJAX_MNIST_DIR)")
    return path
