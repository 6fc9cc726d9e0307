"""Image datasets as random-access uint8 arrays, and the preprocessing to model range [-1, 1].

A dataset only answers `get(indices)`, so samplers can pick any examples in any order (a
permutation per epoch, a slice per host) and large datasets are decoded one batch at a time.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

FITS = ("pad", "resize", "crop")
# ITU-R BT.601 luma, the weights Pillow uses for RGB -> L.
LUMA = np.array([0.299, 0.587, 0.114], np.float32)


@runtime_checkable
class ImageDataset(Protocol):
    """Random access to labelled images; `num_classes` is 0 for unlabelled data (labels all 0)."""

    num_classes: int
    image_shape: tuple[int, int, int]

    def __len__(self) -> int: ...

    def get(self, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """uint8 images [n, H, W, C] and int32 labels [n] of the examples at `indices` [n]."""
        ...


def check_image_shape(shape: tuple[int, ...], where: str) -> tuple[int, int, int]:
    """`shape` as (H, W, C); a ValueError naming `where` unless it has 1 or 3 channels."""
    if len(shape) != 3 or shape[2] not in (1, 3) or min(shape) < 1:
        raise ValueError(f"{where}: images must be [H, W, 1] or [H, W, 3], got {tuple(shape)}")
    return tuple(int(d) for d in shape)


class ArrayDataset:
    """A dataset in memory: uint8 images [N, H, W] or [N, H, W, C], optional int labels [N]."""

    def __init__(self, images: np.ndarray, labels: np.ndarray | None = None,
                 num_classes: int | None = None, *, where: str = "ArrayDataset"):
        images = np.asarray(images)
        if images.dtype != np.uint8:
            raise ValueError(f"{where}: images must be uint8, got {images.dtype}")
        if images.ndim == 3:
            images = images[..., None]
        if images.ndim != 4:
            raise ValueError(f"{where}: images must be [N, H, W] or [N, H, W, C], "
                             f"got shape {images.shape}")
        self.image_shape = check_image_shape(images.shape[1:], where)
        if labels is None:
            labels, num_classes = np.zeros(len(images), np.int32), 0
        labels = np.asarray(labels)
        if not np.issubdtype(labels.dtype, np.integer):
            raise ValueError(f"{where}: labels must be integers, got {labels.dtype}")
        if labels.shape != (len(images),):
            raise ValueError(f"{where}: labels must be [{len(images)}] to match the images, "
                             f"got shape {labels.shape}")
        labels = labels.astype(np.int32)
        if labels.size and labels.min() < 0:
            raise ValueError(f"{where}: labels must be non-negative, got {labels.min()}")
        self.images, self.labels = images, labels
        self.num_classes = int(labels.max(initial=-1)) + 1 if num_classes is None else num_classes

    def __len__(self) -> int:
        return len(self.images)

    def get(self, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.images[indices], self.labels[indices]


def resize_weights(in_size: int, out_size: int) -> np.ndarray:
    """The [out, in] matrix of linear interpolation, widened to an area-like filter when shrinking.

    The same triangle filter as `jax.image.resize(..., "linear", antialias=True)` and Pillow's
    BILINEAR: each row sums to 1, and in_size == out_size gives the identity.
    """
    scale = out_size / in_size
    support = max(1.0, 1.0 / scale)
    centers = (np.arange(out_size) + 0.5) / scale - 0.5
    weights = np.maximum(0.0, 1.0 - np.abs(np.arange(in_size)[None] - centers[:, None]) / support)
    return (weights / weights.sum(1, keepdims=True)).astype(np.float32)


def resize(images: np.ndarray, height: int, width: int) -> np.ndarray:
    """Float images [n, H, W, C] resized to [n, height, width, C] by `resize_weights`."""
    rows = resize_weights(images.shape[1], height)
    cols = resize_weights(images.shape[2], width)
    return np.einsum("pw,nhwc->nhpc", cols, np.einsum("oh,nhwc->nowc", rows, images))


def convert_channels(images: np.ndarray, channels: int) -> np.ndarray:
    """Float images [n, H, W, C] given `channels` channels: gray -> RGB repeats the gray,
    RGB -> gray is the BT.601 luma (as Pillow's convert("L"))."""
    have = images.shape[-1]
    if have == channels:
        return images
    if (have, channels) == (1, 3):
        return np.repeat(images, 3, axis=-1)
    if (have, channels) == (3, 1):
        return images @ LUMA[:, None]
    raise ValueError(f"cannot convert {have}-channel images to {channels} channels")


def fit_square(images: np.ndarray, resolution: int, fit: str, pad_value: float) -> np.ndarray:
    """Float images [n, H, W, C] made [n, R, R, C].

    "pad" centres them on a `pad_value` canvas (28 -> 32 for MNIST; larger images are an error),
    "resize" stretches them to R x R, "crop" takes the centred square and resizes it.
    """
    n, height, width, channels = images.shape
    if fit == "pad":
        if height > resolution or width > resolution:
            raise ValueError(f"fit='pad' cannot fit {height}x{width} images into {resolution}x"
                             f"{resolution}; use fit='resize' or fit='crop'")
        top, left = (resolution - height) // 2, (resolution - width) // 2
        out = np.full((n, resolution, resolution, channels), pad_value, np.float32)
        out[:, top:top + height, left:left + width] = images
        return out
    if fit == "crop":
        side = min(height, width)
        top, left = (height - side) // 2, (width - side) // 2
        images = images[:, top:top + side, left:left + side]
    elif fit != "resize":
        raise ValueError(f"unknown fit {fit!r}; known: {', '.join(FITS)}")
    return resize(images, resolution, resolution)


def random_flips(rng: np.random.Generator, n: int) -> np.ndarray:
    """A bool mask [n] choosing each image for a horizontal flip with probability 1/2."""
    return rng.random(n) < 0.5


def to_unit_range(images: np.ndarray) -> np.ndarray:
    """Images in the model's range [-1, 1] as float32 in [0, 1] (exports, feature networks)."""
    x = np.asarray(images, np.float32)
    return np.clip((x + 1.0) / 2.0, 0.0, 1.0).astype(np.float32, copy=False)


def to_model_range(images: np.ndarray, resolution: int, channels: int, *, fit: str = "pad",
                   pad_value: float = -1.0, flip: np.ndarray | None = None) -> np.ndarray:
    """uint8 images [n, H, W, C] as float32 [n, R, R, channels] in [-1, 1] (0 -> -1, 255 -> 1).

    Channels are converted first, then the images are fitted to R x R (`fit_square`), then
    those where the bool mask `flip` [n] is set (see `random_flips`) are mirrored left-right.
    """
    images = np.asarray(images)
    if images.dtype != np.uint8 or images.ndim != 4:
        raise ValueError(f"expected uint8 images [n, H, W, C], got {images.dtype} {images.shape}")
    x = images.astype(np.float32) / np.float32(127.5) - np.float32(1.0)
    x = fit_square(convert_channels(x, channels), resolution, fit, pad_value)
    if flip is not None:
        x[flip] = x[flip][:, :, ::-1]
    return x.astype(np.float32, copy=False)
