"""Image datasets, their preprocessing to model range, and the deterministic per-host sampler."""

import gzip
import sys
import types

import numpy as np
import pytest

from ganjax.data import images as im
from ganjax.data.images import ArrayDataset, ImageDataset, to_model_range
from ganjax.data.sampler import BatchSampler, prefetch
from ganjax.data.sources import load_dataset, prepare_tfds



def write_idx(path, magic, array):
    header = np.array([magic, *array.shape], ">u4").tobytes()
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def write_png(path, array):
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)


def counting(n=12, shape=(4, 4, 1)):
    """N images whose pixels all equal their index, labelled index % 3."""
    x = np.broadcast_to(np.arange(n, dtype=np.uint8)[:, None, None, None], (n, *shape)).copy()
    return ArrayDataset(x, np.arange(n) % 3)


# --- sources ---

def test_digits_are_8x8_uint8_with_ten_classes():
    ds = load_dataset("digits")
    assert isinstance(ds, ImageDataset)
    assert len(ds) == 1797 and ds.image_shape == (8, 8, 1) and ds.num_classes == 10
    x, y = ds.get(np.arange(len(ds)))
    assert x.dtype == np.uint8 and x.shape == (1797, 8, 8, 1) and x.min() == 0 and x.max() == 255
    assert y.dtype == np.int32 and set(y.tolist()) == set(range(10))
    with pytest.raises(ValueError, match="one split, 'train'"):
        load_dataset("digits", split="test")


def test_real_mnist_test_split_from_idx_and_train_from_npz(mnist_dir):
    ds = load_dataset(f"mnist_idx:{mnist_dir}", split="test")
    assert len(ds) == 10_000 and ds.image_shape == (28, 28, 1) and ds.num_classes == 10
    x, y = ds.get(np.arange(10))
    assert y.tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9] and x.dtype == np.uint8
    train = load_dataset(f"npz:{mnist_dir / 'train-first10k.npz'}")
    assert train.get(np.arange(5))[1].tolist() == [5, 0, 4, 1, 9]
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte"):
        load_dataset(f"mnist_idx:{mnist_dir}", split="train")


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_synthetic_idx_round_trips(tmp_path, suffix):
    x = np.arange(3 * 5 * 4).reshape(3, 5, 4) % 256
    write_idx(tmp_path / f"train-images-idx3-ubyte{suffix}", 2051, x)
    write_idx(tmp_path / f"train-labels-idx1-ubyte{suffix}", 2049, np.array([2, 0, 1]))
    ds = load_dataset(f"mnist_idx:{tmp_path}")
    images, labels = ds.get(np.array([2, 0]))
    np.testing.assert_array_equal(images[..., 0], x[[2, 0]])
    assert labels.tolist() == [1, 2] and ds.image_shape == (5, 4, 1)


def test_idx_errors(tmp_path):
    write_idx(tmp_path / "train-images-idx3-ubyte", 2049, np.zeros((2, 3, 3)))
    write_idx(tmp_path / "train-labels-idx1-ubyte", 2049, np.zeros(3))
    with pytest.raises(ValueError, match="magic number 2049, expected 2051"):
        load_dataset(f"mnist_idx:{tmp_path}")
    write_idx(tmp_path / "train-images-idx3-ubyte", 2051, np.zeros((2, 3, 3)))
    with pytest.raises(ValueError, match="2 images but 3 labels"):
        load_dataset(f"mnist_idx:{tmp_path}")
    (tmp_path / "train-images-idx3-ubyte").write_bytes(np.array([2051, 5, 3, 3], ">u4").tobytes())
    with pytest.raises(ValueError, match="45 bytes of images, file holds 0"):
        load_dataset(f"mnist_idx:{tmp_path}")
    with pytest.raises(FileNotFoundError, match="t10k-images-idx3-ubyte.gz"):
        load_dataset(f"mnist_idx:{tmp_path}", split="test")


def test_npz_loads_and_validates(tmp_path):
    np.savez(tmp_path / "ok.npz", x=np.full((4, 6, 6, 3), 9, np.uint8), y=np.array([0, 4, 1, 1]))
    ds = load_dataset(f"npz:{tmp_path / 'ok.npz'}")
    assert ds.image_shape == (6, 6, 3) and ds.num_classes == 5 and len(ds) == 4
    np.savez(tmp_path / "unlabelled.npz", x=np.zeros((2, 5, 5), np.uint8))
    assert load_dataset(f"npz:{tmp_path / 'unlabelled.npz'}").num_classes == 0
    bad = {
        "no_x": (dict(images=np.zeros((2, 5, 5), np.uint8)), ValueError, "no array 'x'.*images"),
        "float": (dict(x=np.zeros((2, 5, 5))), ValueError, "must be uint8, got float64"),
        "flat": (dict(x=np.zeros((2, 25), np.uint8)), ValueError, r"\[N, H, W\].*\(2, 25\)"),
        "rgba": (dict(x=np.zeros((2, 5, 5, 4), np.uint8)), ValueError, r"\[H, W, 3\].*\(5, 5, 4\)"),
        "y_float": (dict(x=np.zeros((2, 5, 5), np.uint8), y=np.zeros(2)), ValueError, "integers"),
        "y_len": (dict(x=np.zeros((2, 5, 5), np.uint8), y=np.zeros(3, int)), ValueError, r"\[2\]"),
    }
    for name, (arrays, error, message) in bad.items():
        np.savez(tmp_path / f"{name}.npz", **arrays)
        with pytest.raises(error, match=message):
            load_dataset(f"npz:{tmp_path / name}.npz")


def test_a_file_that_is_no_npz_is_named_as_such_and_never_unpickled(tmp_path):
    (tmp_path / "notes.npz").write_text("x = [1, 2, 3]\n")
    (tmp_path / "empty.npz").write_bytes(b"")
    np.save(tmp_path / "single.npy", np.zeros((2, 5, 5), np.uint8))
    (tmp_path / "single.npy").rename(tmp_path / "single.npz")
    expected = {"notes": "not a valid .npz file \\(it looks like a text file\\).*numpy.savez.*'x'",
                "empty": "not a valid .npz file \\(it is empty\\)",
                "single": "single .npy array, not an .npz archive.*numpy.savez"}
    for name, message in expected.items():
        with pytest.raises(ValueError, match=message) as caught:
            load_dataset(f"npz:{tmp_path / name}.npz")
        assert "pickle" not in str(caught.value)


def test_folder_with_class_subfolders_is_lazy_and_labelled(tmp_path):
    rgb = np.zeros((6, 4, 3), np.uint8)
    rgb[..., 0] = 200
    write_png(tmp_path / "dogs" / "a.png", np.full((6, 4), 50, np.uint8))
    write_png(tmp_path / "cats" / "b.png", np.full((6, 4), 100, np.uint8))
    write_png(tmp_path / "cats" / "c.png", rgb)
    write_png(tmp_path / "cats" / "d.png", np.full((12, 8), 150, np.uint8))  # resized as read
    (tmp_path / "cats" / "notes.txt").write_text("not an image")
    ds = load_dataset(f"folder:{tmp_path}")
    assert ds.class_names == ["cats", "dogs"] and ds.num_classes == 2 and len(ds) == 4
    assert ds.image_shape == (6, 4, 3)  # one RGB file makes every image RGB
    x, y = ds.get(np.array([3, 1, 2]))
    assert y.tolist() == [1, 0, 0] and x.shape == (3, 6, 4, 3)
    assert (x[0] == 50).all() and (x[1] == [200, 0, 0]).all() and (x[2] == 150).all()


def test_flat_gray_folder_and_folder_errors(tmp_path):
    write_png(tmp_path / "flat" / "x.png", np.full((3, 3), 7, np.uint8))
    ds = load_dataset(f"folder:{tmp_path / 'flat'}")
    assert ds.num_classes == 0 and ds.image_shape == (3, 3, 1)
    x, y = ds.get(np.array([0]))
    assert x.shape == (1, 3, 3, 1) and (x == 7).all() and y.tolist() == [0]
    write_png(tmp_path / "flat" / "sub" / "y.png", np.zeros((3, 3), np.uint8))
    with pytest.raises(ValueError, match="both image files and class subfolders"):
        load_dataset(f"folder:{tmp_path / 'flat'}")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no .png/.jpg/.jpeg images"):
        load_dataset(f"folder:{tmp_path / 'empty'}")


def test_unknown_specs_and_missing_paths(tmp_path):
    for spec in ["mnist", "digits:8", "npz:", "hf:cifar10"]:
        with pytest.raises(ValueError, match="known forms: digits, tfds:<name>, mnist_idx:<dir>"):
            load_dataset(spec)
    for kind in ["mnist_idx", "npz", "folder"]:
        with pytest.raises(FileNotFoundError, match=f"{tmp_path / 'nope'} does not exist"):
            load_dataset(f"{kind}:{tmp_path / 'nope'}")


def test_tfds_reads_through_data_source_under_mock_data(tmp_path):
    import tensorflow_datasets as tfds

    with tfds.testing.mock_data(num_examples=9):
        ds = load_dataset("tfds:mnist", split="test", data_dir=str(tmp_path))
        assert type(ds.source).__name__ == "ArrayRecordDataSource"  # the real data_source path
        assert len(ds) == 9 and ds.image_shape == (28, 28, 1) and ds.num_classes == 10
        x, y = ds.get(np.array([4, 0, 4]))
        assert x.dtype == np.uint8 and x.shape == (3, 28, 28, 1) and y.dtype == np.int32
        np.testing.assert_array_equal(x[0], x[2])
        celeb = load_dataset("tfds:celeb_a", data_dir=str(tmp_path))  # no "label": unlabelled
        assert celeb.image_shape == (218, 178, 3) and celeb.num_classes == 0
        assert celeb.get(np.array([1, 2]))[1].tolist() == [0, 0]
        sampler = BatchSampler(celeb, batch_size=4, d_steps=1, seed=0, resolution=16, channels=3,
                               fit="crop")
        assert sampler.batch(0)["x"].shape == (1, 4, 16, 16, 3)


def test_unprepared_tfds_says_where_it_looked_and_the_offline_ways(tmp_path, monkeypatch, caplog):
    (tmp_path / "mnist" / "3.0.1").mkdir(parents=True)  # a half-made folder: absl warns about it
    with pytest.raises(FileNotFoundError) as caught:
        load_dataset("tfds:mnist", data_dir=str(tmp_path))
    message = str(caught.value)
    assert f"not prepared in {tmp_path} (data.data_dir)" in message
    # The README's command, with the user's data_dir; and the sources that need no TFDS.
    assert (f"pip install 'ganjax[tfds-prepare]' && python -c \"from ganjax.data import "
            f"prepare_tfds; prepare_tfds('mnist', {str(tmp_path)!r})\"") in message
    assert all(f"{kind}:" in message for kind in ("mnist_idx", "npz", "folder"))
    assert not [r for r in caplog.records if r.levelname == "WARNING"]
    monkeypatch.setenv("TFDS_DATA_DIR", str(tmp_path / "default"))
    with pytest.raises(FileNotFoundError, match="prepare_tfds\\('mnist'\\)"):  # no data_dir
        load_dataset("tfds:mnist")
    monkeypatch.setitem(sys.modules, "tensorflow", None)  # as if TensorFlow were not installed
    with pytest.raises(ImportError, match=r"needs TensorFlow: pip install 'ganjax\[tfds-prepare\]"):
        prepare_tfds("mnist", str(tmp_path))


def test_prepare_tfds_runs_download_and_prepare(tmp_path, monkeypatch):
    import tensorflow_datasets as tfds

    monkeypatch.setitem(sys.modules, "tensorflow", types.ModuleType("tensorflow"))
    with tfds.testing.mock_data(num_examples=2):  # mocks download_and_prepare to a no-op
        prepare_tfds("mnist", str(tmp_path))


# --- preprocessing ---

def test_pad_maps_0_and_255_to_the_ends_and_pads_with_background():
    images = np.zeros((2, 28, 28, 1), np.uint8)
    images[1] = 255
    x = to_model_range(images, 32, 1)
    assert x.dtype == np.float32 and x.shape == (2, 32, 32, 1)
    assert (x[0] == -1).all()
    assert (x[1, 2:30, 2:30] == 1).all() and x[1].sum() == 28 * 28 - (32 * 32 - 28 * 28)
    assert (to_model_range(images[1:], 32, 1, pad_value=0.0)[0, :2] == 0).all()
    with pytest.raises(ValueError, match="cannot fit 28x28 images into 16x16"):
        to_model_range(images, 16, 1)


def test_resize_matches_jax_antialiased_linear_and_keeps_constants():
    import jax

    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (2, 13, 10, 3), dtype=np.uint8)
    for size in [4, 8, 20]:
        x = to_model_range(images, size, 3, fit="resize")
        want = jax.image.resize(images / 127.5 - 1, (2, size, size, 3), "linear", antialias=True)
        np.testing.assert_allclose(x, np.asarray(want), atol=1e-5)
    flat = to_model_range(np.full((1, 9, 9, 1), 255, np.uint8), 4, 1, fit="resize")
    np.testing.assert_allclose(flat, 1.0, atol=1e-6)
    np.testing.assert_allclose(im.resize_weights(4, 2), np.array([[3, 3, 1, 0], [0, 1, 3, 3]]) / 7,
                               rtol=1e-6)


def test_crop_channels_and_flip():
    images = np.zeros((1, 4, 6, 3), np.uint8)
    images[0, :, :, 0] = np.arange(6) * 51  # red ramp along the width
    crop = to_model_range(images, 4, 3, fit="crop")  # the centred 4x4 square, columns 1..4
    np.testing.assert_allclose(crop[0, 0, :, 0], np.arange(1, 5) * 51 / 127.5 - 1, atol=1e-6)
    gray = to_model_range(np.full((1, 2, 2, 3), [255, 0, 0], np.uint8), 2, 1)
    np.testing.assert_allclose(gray, 0.299 * 2 - 1, atol=1e-6)
    rgb = to_model_range(np.full((1, 2, 2, 1), 255, np.uint8), 2, 3)
    assert rgb.shape == (1, 2, 2, 3) and (rgb == 1).all()
    two = np.concatenate([images, images])
    flipped = to_model_range(two, 4, 3, fit="crop", flip=np.array([False, True]))
    np.testing.assert_array_equal(flipped[1], flipped[0][:, ::-1])
    with pytest.raises(ValueError, match="unknown fit 'stretch'"):
        to_model_range(two, 4, 3, fit="stretch")


# --- sampler ---

def test_same_step_same_batch_and_resumable_at_step_1000():
    kwargs = dict(batch_size=5, d_steps=2, seed=3, resolution=4, channels=1, fit="resize",
                  random_flip=True)
    digits = load_dataset("digits")
    first = BatchSampler(digits, **kwargs)
    a = first.batch(1000)
    first.batch(7)
    b = first.batch(1000)
    c = BatchSampler(digits, **kwargs).batch(1000)
    assert a["x"].shape == (2, 5, 4, 4, 1) and a["y"].shape == (2, 5)
    assert a["y"].dtype == np.int32 and a["x"].dtype == np.float32
    for batch in (b, c):
        np.testing.assert_array_equal(a["x"], batch["x"])
        np.testing.assert_array_equal(a["y"], batch["y"])
    other = BatchSampler(digits, **{**kwargs, "seed": 4}).batch(1000)
    assert not np.array_equal(a["y"], other["y"])


def test_each_epoch_covers_every_example_once():
    ds = counting(12)
    sampler = BatchSampler(ds, batch_size=4, d_steps=3, seed=0, resolution=4, channels=1)
    for step in range(3):  # one step is one epoch: 3 * 4 = 12
        seen = sampler.indices(step).reshape(-1)
        assert sorted(seen.tolist()) == list(range(12))
        x = sampler.batch(step)["x"].reshape(12, -1)
        np.testing.assert_allclose(x[:, 0], seen / 127.5 - 1, atol=1e-6)  # pixel = index
    assert not np.array_equal(sampler.indices(0), sampler.indices(1))  # reshuffled
    single = BatchSampler(ds, batch_size=4, d_steps=1, seed=0, resolution=4, channels=1)
    assert sorted(np.concatenate([single.indices(s) for s in range(3)], None).tolist()) \
        == list(range(12))


def test_epochs_straddling_a_batch_and_stale_cache():
    ds = counting(10)
    sampler = BatchSampler(ds, batch_size=4, d_steps=1, seed=1, resolution=4, channels=1)
    positions = np.concatenate([sampler.indices(s)[0] for s in range(5)])  # 20 = 2 epochs
    assert sorted(positions[:10].tolist()) == sorted(positions[10:].tolist()) == list(range(10))
    later = sampler.indices(40)
    fresh = BatchSampler(ds, batch_size=4, d_steps=1, seed=1, resolution=4, channels=1)
    np.testing.assert_array_equal(fresh.indices(3), sampler.indices(3))  # after later epochs
    np.testing.assert_array_equal(fresh.indices(40), later)


class Recording:
    """A dataset that remembers which indices it was asked for."""

    def __init__(self, dataset):
        self.dataset, self.asked = dataset, []
        self.num_classes, self.image_shape = dataset.num_classes, dataset.image_shape

    def __len__(self):
        return len(self.dataset)

    def get(self, indices):
        self.asked.append(np.array(indices))
        return self.dataset.get(indices)


def test_host_slices_concatenate_to_the_global_batch():
    digits = load_dataset("digits")
    kwargs = dict(batch_size=8, d_steps=2, seed=5, resolution=8, channels=1, random_flip=True)
    whole = BatchSampler(digits, **kwargs).batch(11)
    parts = []
    for p in range(4):
        recording = Recording(digits)
        sampler = BatchSampler(recording, **kwargs, process_index=p, process_count=4)
        parts.append(sampler.batch(11))
        assert recording.asked[0].size == 2 * 2  # reads only its own rows
    for key in ("x", "y"):
        np.testing.assert_array_equal(np.concatenate([b[key] for b in parts], axis=1), whole[key])


def test_sampler_errors():
    ds = counting(300)
    with pytest.raises(ValueError, match=r"batch size 512 is larger than the dataset \(300 exam"):
        BatchSampler(ds, batch_size=512, d_steps=1, seed=0, resolution=4, channels=1)
    with pytest.raises(ValueError, match="batch size 10 is not divisible by the process count 4"):
        BatchSampler(ds, batch_size=10, d_steps=1, seed=0, resolution=4, channels=1,
                     process_count=4)
    with pytest.raises(ValueError, match=r"process_index 4 is not in \[0, 4\)"):
        BatchSampler(ds, batch_size=8, d_steps=1, seed=0, resolution=4, channels=1,
                     process_index=4, process_count=4)
    with pytest.raises(ValueError, match="step must be non-negative"):
        BatchSampler(ds, batch_size=8, d_steps=1, seed=0, resolution=4, channels=1).batch(-1)


def test_prefetch_yields_the_sampler_batches_in_order():
    sampler = BatchSampler(counting(12), batch_size=4, d_steps=1, seed=2, resolution=4, channels=1)
    stream = prefetch(sampler, 5)
    for want in (5, 6, 7):
        step, batch = next(stream)
        assert step == want
        np.testing.assert_array_equal(batch["x"], sampler.batch(want)["x"])
    stream.close()
    broken = prefetch(sampler, -1)
    with pytest.raises(ValueError, match="step must be non-negative"):
        next(broken)
