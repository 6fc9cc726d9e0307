"""Image datasets named by a spec string: `digits`, `tfds:<name>`, `mnist_idx:<dir>`, `npz:<path>`,
`folder:<dir>`.

Small datasets are read whole into an `ArrayDataset`; TFDS and folders of image files stay on disk
and are decoded only for the examples a batch asks for.
"""

from __future__ import annotations

import gzip
import pathlib

import numpy as np

from ganjax.data.images import ArrayDataset, ImageDataset, check_image_shape

SPECS = "digits, tfds:<name>, mnist_idx:<dir>, npz:<path>, folder:<dir>"
IDX_MAGIC = {"images": 2051, "labels": 2049}  # unsigned bytes, 3 and 1 dimensions
IDX_PREFIX = {"train": "train", "test": "t10k"}
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
GRAY_MODES = ("1", "L", "LA")
PREPARE_HINT = ("preparing a TFDS dataset the first time needs TensorFlow: "
                "pip install 'ganjax[tfds-prepare]'")


def load_dataset(spec: str, *, split: str = "train", data_dir: str | None = None) -> ImageDataset:
    """The dataset named by `spec` (one of SPECS); `data_dir` is TFDS's, used by `tfds:` only.

    `digits`, `npz:` and `folder:` are a single split, served as "train"; other splits are an error.
    """
    kind, _, arg = spec.partition(":")
    if kind == "digits" and not arg:
        return _single_split(spec, split, load_digits)
    if kind in ("tfds", "mnist_idx", "npz", "folder") and arg:
        if kind == "tfds":
            return load_tfds(arg, split=split, data_dir=data_dir)
        path = pathlib.Path(arg).expanduser()
        if not path.exists():
            raise FileNotFoundError(f"dataset {spec!r}: {path} does not exist")
        if kind == "mnist_idx":
            return load_mnist_idx(path, split)
        return _single_split(spec, split, load_npz if kind == "npz" else FolderDataset, path)
    raise ValueError(f"unknown dataset spec {spec!r}; known forms: {SPECS}")


def _single_split(spec, split, load, *args):
    if split != "train":
        raise ValueError(f"dataset {spec!r} has one split, 'train'; got split={split!r}")
    return load(*args)


def load_digits() -> ArrayDataset:
    """scikit-learn's bundled 8x8 digits, 1797 x [8, 8, 1], pixels 0..16 scaled to 0..255."""
    from sklearn.datasets import load_digits as sklearn_digits

    digits = sklearn_digits()
    images = np.round(digits.images * (255 / 16)).astype(np.uint8)
    return ArrayDataset(images, digits.target, num_classes=10, where="digits")


def read_idx(path: pathlib.Path, kind: str) -> np.ndarray:
    """An IDX file of unsigned bytes (`.gz` or not): images [N, rows, cols] or labels [N]."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        data = f.read()
    ndim = 3 if kind == "images" else 1
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f"{path}: too short for an IDX {kind} header ({len(data)} bytes)")
    magic, *dims = np.frombuffer(data, ">u4", count=1 + ndim).tolist()
    if magic != IDX_MAGIC[kind]:
        raise ValueError(f"{path}: magic number {magic}, expected {IDX_MAGIC[kind]} for IDX {kind}")
    if len(data) - header != int(np.prod(dims)):
        raise ValueError(f"{path}: header says {dims} = {int(np.prod(dims))} bytes of {kind}, "
                         f"file holds {len(data) - header}")
    return np.frombuffer(data, np.uint8, offset=header).reshape(dims)


def _find_idx(folder: pathlib.Path, prefix: str, kind: str) -> pathlib.Path:
    name = f"{prefix}-{kind}-idx{3 if kind == 'images' else 1}-ubyte"
    for candidate in (folder / name, folder / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"{folder}: found neither {name} nor {name}.gz")


def load_mnist_idx(folder: pathlib.Path | str, split: str = "train") -> ArrayDataset:
    """MNIST-format IDX files in `folder`: `train-*` for split "train", `t10k-*` for "test"."""
    if split not in IDX_PREFIX:
        raise ValueError(f"mnist_idx splits are {', '.join(IDX_PREFIX)}; got split={split!r}")
    folder = pathlib.Path(folder)
    images = read_idx(_find_idx(folder, IDX_PREFIX[split], "images"), "images")
    labels = read_idx(_find_idx(folder, IDX_PREFIX[split], "labels"), "labels")
    if len(images) != len(labels):
        raise ValueError(f"{folder}: {len(images)} images but {len(labels)} labels for {split!r}")
    return ArrayDataset(images, labels, num_classes=10, where=str(folder))


def load_npz(path: pathlib.Path | str) -> ArrayDataset:
    """Arrays `x` (uint8 [N, H, W] or [N, H, W, C]) and, optionally, int labels `y` [N]."""
    try:
        arrays = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as error:  # numpy suggests unpickling: never
        raise ValueError(f"{path} is not a valid .npz file ({_first_bytes(path)}); expected "
                         f"one written by numpy.savez with a uint8 array 'x' [N, H, W(, C)] "
                         f"and optionally int labels 'y' [N]") from error
    if not isinstance(arrays, np.lib.npyio.NpzFile):
        raise ValueError(f"{path} holds a single .npy array, not an .npz archive; save it with "
                         f"numpy.savez(path, x=images[, y=labels])")
    with arrays:
        if "x" not in arrays:
            raise ValueError(f"{path} has no array 'x' (uint8 images [N, H, W(, C)]); it holds "
                             f"{sorted(arrays.files)}: save it with numpy.savez(path, x=images)")
        return ArrayDataset(arrays["x"], arrays["y"] if "y" in arrays else None, where=str(path))


def _first_bytes(path: pathlib.Path | str) -> str:
    """What a file that is no .npz starts with, for the error message."""
    with open(path, "rb") as f:
        head = f.read(8)
    if not head:
        return "it is empty"
    if all(32 <= b < 127 or b in (9, 10, 13) for b in head):
        return "it looks like a text file"
    return f"it starts with bytes {head!r}, not a zip archive"


def _stack(images: list[np.ndarray], shape: tuple[int, int, int]) -> np.ndarray:
    """uint8 images [H, W, C] stacked as [n, *shape]; those of another size resized (bilinear)."""
    from PIL import Image

    height, width, _ = shape
    out = np.empty((len(images), *shape), np.uint8)
    for i, image in enumerate(images):
        if image.shape[:2] != (height, width):
            pil = Image.fromarray(image[..., 0] if image.shape[2] == 1 else image)
            image = np.asarray(pil.resize((width, height), Image.BILINEAR)).reshape(shape)
        out[i] = image
    return out


class FolderDataset:
    """Image files (PNG, JPEG) in `root`, flat (unlabelled) or one subfolder per class.

    Classes are numbered in sorted subfolder order. Images are grayscale if every file is, else
    RGB; all take the first image's size (others are resized as read). Headers are read up front,
    pixels only in `get`.
    """

    def __init__(self, root: pathlib.Path | str):
        from PIL import Image

        root = pathlib.Path(root)
        if not root.is_dir():
            raise NotADirectoryError(f"folder dataset: {root} is not a directory")
        flat = _image_files(root)
        classes = sorted(d for d in root.iterdir() if d.is_dir() and _image_files(d))
        if flat and classes:
            raise ValueError(f"{root}: holds both image files and class subfolders; use one layout")
        if classes:
            per_class = [_image_files(d) for d in classes]
            self.paths = [p for files in per_class for p in files]
            sizes = [len(files) for files in per_class]
            self.labels = np.repeat(np.arange(len(classes), dtype=np.int32), sizes)
        else:
            self.paths, self.labels = flat, np.zeros(len(flat), np.int32)
        if not self.paths:
            raise FileNotFoundError(f"{root}: no {'/'.join(IMAGE_SUFFIXES)} images found")
        self.class_names = [d.name for d in classes]
        self.num_classes = len(classes)
        headers = []
        for path in self.paths:
            with Image.open(path) as image:
                headers.append((image.mode, image.size))
        self.mode = "L" if all(mode in GRAY_MODES for mode, _ in headers) else "RGB"
        width, height = headers[0][1]
        channels = 1 if self.mode == "L" else 3
        self.image_shape = check_image_shape((height, width, channels), str(root))

    def __len__(self) -> int:
        return len(self.paths)

    def get(self, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        from PIL import Image

        images = []
        for i in np.asarray(indices).reshape(-1):
            with Image.open(self.paths[i]) as image:
                pixels = np.asarray(image.convert(self.mode))
            images.append(pixels.reshape(*pixels.shape[:2], -1))
        return _stack(images, self.image_shape), self.labels[indices]


def _image_files(folder: pathlib.Path) -> list[pathlib.Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


class TfdsDataset:
    """A `tfds.data_source` (array_record: random access, no TensorFlow), decoded per example.

    Images come from `image_key`, labels from `label_key` when the dataset has one (else 0).
    """

    def __init__(self, source, *, image_key: str = "image", label_key: str = "label"):
        features = source.dataset_info.features
        if image_key not in features:
            raise KeyError(f"TFDS {source.dataset_info.name}: no {image_key!r} feature; "
                           f"has {sorted(features.keys())}")
        image = features[image_key]
        if np.dtype(image.np_dtype) != np.uint8:
            raise ValueError(f"TFDS {source.dataset_info.name}: images are {image.np_dtype}, "
                             f"not uint8")
        shape = image.shape
        if None in shape:  # variable size: take the first example's and resize the others to it
            shape = np.shape(source[0][image_key])
        self.source, self.image_key = source, image_key
        self.image_shape = check_image_shape(shape, f"TFDS {source.dataset_info.name}")
        self.label_key = label_key if label_key in features else None
        self.num_classes = int(getattr(features[label_key], "num_classes", 0) or 0) \
            if self.label_key else 0

    def __len__(self) -> int:
        return len(self.source)

    def get(self, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        examples = [self.source[int(i)] for i in np.asarray(indices).reshape(-1)]
        images = _stack([np.asarray(e[self.image_key]) for e in examples], self.image_shape)
        labels = [e[self.label_key] if self.label_key else 0 for e in examples]
        return images, np.asarray(labels, np.int32).reshape(np.shape(indices))


def load_tfds(name: str, *, split: str = "train", data_dir: str | None = None) -> TfdsDataset:
    """TFDS dataset `name` (e.g. mnist, cifar10, celeb_a), already prepared in `data_dir`.

    Reading needs no TensorFlow; an unprepared dataset is an error that says how to prepare it.
    """
    import tensorflow_datasets as tfds

    with _absl_warnings_silenced():  # "Variant folder ... has no dataset_info.json" and the like
        try:
            source = tfds.data_source(name, split=split, data_dir=data_dir, download=False)
        except (KeyError, NotImplementedError) as error:
            if tfds.builder(name, data_dir=data_dir).is_prepared():
                raise
            raise FileNotFoundError(_not_prepared(name, data_dir)) from error
    return TfdsDataset(source)


def _not_prepared(name: str, data_dir: str | None) -> str:
    """The one-line explanation of a missing TFDS dataset: where it looked, how to prepare it,
    and the offline sources that need no TFDS at all."""
    from tensorflow_datasets.core import constants

    where = data_dir or constants.get_default_data_dir()
    arguments = repr(name) + (f", {data_dir!r}" if data_dir else "")
    return (f"TFDS dataset {name!r} is not prepared in {where} (data.data_dir). To prepare it: "
            f"pip install 'ganjax[tfds-prepare]' && python -c \"from ganjax.data import "
            f"prepare_tfds; prepare_tfds({arguments})\" (TensorFlow is needed once, to prepare); "
            f"or, offline, use data.source=mnist_idx:DIR (MNIST's idx files), npz:FILE (an "
            f"array 'x') or folder:DIR (PNG/JPEG files)")


class _absl_warnings_silenced:
    """absl's Python logging raised to ERROR for a block: TFDS warns through it about folders
    it probes, which only confuses a user whose real problem gets its own message."""

    def __enter__(self) -> None:
        from absl import logging as absl_logging

        self._level = absl_logging.get_verbosity()
        absl_logging.set_verbosity(absl_logging.ERROR)

    def __exit__(self, *exc: object) -> None:
        from absl import logging as absl_logging

        absl_logging.set_verbosity(self._level)


def prepare_tfds(name: str, data_dir: str | None = None) -> None:
    """Downloads TFDS dataset `name` into `data_dir` as array_record; needs TensorFlow."""
    try:
        import tensorflow  # noqa: F401  (TFDS writes its records through TensorFlow)
    except ImportError as error:
        raise ImportError(PREPARE_HINT) from error
    import tensorflow_datasets as tfds

    tfds.builder(name, data_dir=data_dir, file_format="array_record").download_and_prepare()
