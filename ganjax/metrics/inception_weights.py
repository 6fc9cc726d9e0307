"""Loads pytorch-fid's FID Inception weights into `FIDInceptionV3`'s variables, without torch.

The weights are not downloaded here: the user passes the file (`--fid_weights PATH`). It is
the one pytorch-fid distributes, `pt_inception-2015-12-05-6726825d.pth`, from the
`fid_weights` release of https://github.com/mseitzer/pytorch-fid (the TF 2015 Inception graph
ported to a torch state_dict).

A `.pth` is read by a restricted unpickler that understands only what a state_dict of plain
tensors contains (OrderedDicts, `torch._utils._rebuild_tensor_v2`, storage references) and
rebuilds numpy arrays from the raw storages, so neither torch nor arbitrary code execution is
involved. Both torch serialisation formats are handled: the zip format (torch >= 1.6: a zip
with `data.pkl` plus one raw file per storage) and the legacy format (a sequence of pickles
followed by the raw storages) that older torch versions wrote. A `.npz` works too: either the
state_dict's arrays under their torch names, or the converted Flax variables under
"/"-joined paths (what `save_npz` writes).
"""

from __future__ import annotations

from ganjax.errors import WeightsError

import collections
import dataclasses
import functools
import hashlib
import io
import os
import pickle
import struct
import zipfile
from typing import Any, BinaryIO

import numpy as np

from ganjax.metrics.inception import variable_shapes

WEIGHTS_FILE = "pt_inception-2015-12-05-6726825d.pth"
WEIGHTS_URL = ("https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/"
               "pt_inception-2015-12-05-6726825d.pth")
# torch.hub names files <name>-<first hex digits of their SHA-256>.pth: the official file's
# `weights_sha256` starts with this (a check for callers; loading does not enforce it).
WEIGHTS_SHA256_PREFIX = "6726825d"
_WHERE = (f"expected pytorch-fid's FID Inception weights ({WEIGHTS_FILE}, from the fid_weights "
          f"release of github.com/mseitzer/pytorch-fid: {WEIGHTS_URL}) or a .npz converted from them")

# torch storage class name -> numpy dtype (bfloat16 has no numpy dtype and is not expected).
_STORAGE_DTYPES = {
    "FloatStorage": np.float32, "DoubleStorage": np.float64, "HalfStorage": np.float16,
    "LongStorage": np.int64, "IntStorage": np.int32, "ShortStorage": np.int16,
    "CharStorage": np.int8, "ByteStorage": np.uint8, "BoolStorage": np.bool_,
    "UntypedStorage": np.uint8,
}
_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_LEGACY_PROTOCOL = 1001


def weights_sha256(path: str | os.PathLike) -> str:
    """Hex SHA-256 of the weights file, recorded next to metrics for provenance."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


# --- Reading torch files without torch -------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _StorageRef:
    key: str
    dtype: Any
    offset: int = 0  # legacy storage views: element offset into the root storage
    size: int | None = None


@dataclasses.dataclass(frozen=True)
class _TensorRef:
    storage: _StorageRef
    offset: int
    shape: tuple[int, ...]
    stride: tuple[int, ...]


def _rebuild_tensor(storage, storage_offset, size, stride, *_unused) -> _TensorRef:
    """Stands in for torch._utils._rebuild_tensor_v2; storages are read later."""
    return _TensorRef(storage, int(storage_offset), tuple(size), tuple(stride))


def _rebuild_parameter(data, *_unused):
    """Stands in for torch._utils._rebuild_parameter: a Parameter is just its data here."""
    return data


def _decode(s: str | bytes) -> str:
    return s.decode("ascii") if isinstance(s, bytes) else s


class _StateDictUnpickler(pickle.Unpickler):
    """Unpickles a torch state_dict, allowing only the globals such a file needs."""

    def find_class(self, module: str, name: str):
        if module == "collections" and name == "OrderedDict":
            return collections.OrderedDict
        if module == "torch._utils" and name == "_rebuild_tensor_v2":
            return _rebuild_tensor
        if module == "torch._utils" and name == "_rebuild_parameter":
            return _rebuild_parameter
        if module == "torch" and name in _STORAGE_DTYPES:
            return name
        raise pickle.UnpicklingError(f"unexpected global {module}.{name} in a state_dict file")

    def __init__(self, file: BinaryIO):
        super().__init__(file)
        self.storage_dtypes: dict[str, Any] = {}  # root storage key -> dtype, seen while loading

    def persistent_load(self, pid):
        kind, storage_type, key, _location, _numel, *view = pid
        if _decode(kind) != "storage":
            raise pickle.UnpicklingError(f"unexpected persistent id {kind!r}")
        key, dtype = _decode(key), _STORAGE_DTYPES[storage_type]
        self.storage_dtypes.setdefault(key, dtype)
        if view and view[0] is not None:  # legacy storage view: (view key, offset, size)
            _, offset, size = view[0]
            return _StorageRef(key, dtype, int(offset), int(size))
        return _StorageRef(key, dtype)


def _materialise(obj: Any, storages: dict[str, bytes]) -> Any:
    """Replaces _TensorRefs inside (Ordered)dicts/lists by numpy arrays read from `storages`."""
    if isinstance(obj, _TensorRef):
        ref = obj.storage
        flat = np.frombuffer(storages[ref.key], dtype=ref.dtype)[ref.offset:]
        if ref.size is not None:
            flat = flat[:ref.size]
        flat = flat[obj.offset:]
        extent = 1 + sum((n - 1) * s for n, s in zip(obj.shape, obj.stride)) if all(obj.shape) else 0
        if extent > flat.size or min(obj.stride, default=0) < 0:  # truncated or corrupt file
            raise ValueError(f"a tensor of shape {obj.shape} overruns its storage")
        if not obj.shape:
            return np.array(flat[0])
        strides = tuple(s * flat.itemsize for s in obj.stride)
        return np.lib.stride_tricks.as_strided(flat, obj.shape, strides).copy()
    if isinstance(obj, dict):
        return {k: _materialise(v, storages) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_materialise(v, storages) for v in obj)
    return obj


def _load_zip(path: str | os.PathLike) -> Any:
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        pkl = next((n for n in names if n.endswith("data.pkl")), None)
        if pkl is None:
            raise WeightsError(f"{path}: a zip without data.pkl is not a torch state_dict; {_WHERE}")
        prefix = pkl[: -len("data.pkl")]
        if f"{prefix}byteorder" in names and zf.read(f"{prefix}byteorder").strip() != b"little":
            raise WeightsError(f"{path}: big-endian torch files are not supported")
        obj = _StateDictUnpickler(io.BytesIO(zf.read(pkl))).load()
        data = {n[len(prefix) + 5:]: n for n in names if n.startswith(f"{prefix}data/")}
        return _materialise(obj, {k: zf.read(n) for k, n in data.items()})


def _load_legacy(f: BinaryIO, path: str | os.PathLike) -> Any:
    """torch's pre-1.6 format: magic, protocol, sys info, the object, storage keys, raw storages."""
    if _StateDictUnpickler(f).load() != _LEGACY_MAGIC:
        raise WeightsError(f"{path}: not a torch file (bad magic number); {_WHERE}")
    if _StateDictUnpickler(f).load() != _LEGACY_PROTOCOL:
        raise WeightsError(f"{path}: unsupported torch legacy protocol version")
    sys_info = _StateDictUnpickler(f).load()
    if not sys_info.get("little_endian", True):
        raise WeightsError(f"{path}: big-endian torch files are not supported")
    unpickler = _StateDictUnpickler(f)
    obj = unpickler.load()
    storages = {}
    for key in _StateDictUnpickler(f).load():  # each record: int64 element count, raw bytes
        key = _decode(key)
        (numel,) = struct.unpack("<q", f.read(8))
        storages[key] = f.read(numel * np.dtype(unpickler.storage_dtypes[key]).itemsize)
    return _materialise(obj, storages)


def read_torch_state_dict(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """A torch-saved state_dict (zip or legacy format) as {name: numpy array}, without torch."""
    try:
        if zipfile.is_zipfile(path):
            obj = _load_zip(path)
        else:
            with open(path, "rb") as f:
                obj = _load_legacy(f, path)
    except WeightsError:
        raise
    except (pickle.UnpicklingError, EOFError, KeyError, ValueError, struct.error) as e:
        raise WeightsError(f"{path}: cannot read as a torch state_dict ({e}); {_WHERE}") from e
    if not isinstance(obj, dict):
        raise WeightsError(f"{path}: holds a {type(obj).__name__}, not a state_dict; {_WHERE}")
    return obj


# --- state_dict -> Flax variables ------------------------------------------------------------

_BN_LEAVES = {"weight": ("params", "scale"), "bias": ("params", "bias"),
              "running_mean": ("batch_stats", "mean"), "running_var": ("batch_stats", "var")}


def _flax_location(torch_key: str, value: np.ndarray) -> tuple[tuple[str, ...], np.ndarray] | None:
    """(variables path, value in Flax layout) for one state_dict entry, or None to skip it."""
    *modules, leaf = torch_key.split(".")
    if leaf == "num_batches_tracked" or not modules:
        return None
    if modules[-1] == "conv" and leaf == "weight":  # OIHW -> HWIO
        return ("params", *modules, "kernel"), np.transpose(value, (2, 3, 1, 0))
    if modules[-1] == "bn" and leaf in _BN_LEAVES:
        collection, name = _BN_LEAVES[leaf]
        return (collection, *modules, name), value
    if modules == ["fc"] and leaf == "weight":  # [out, in] -> [in, out]
        return ("params", "fc", "kernel"), value.T
    if modules == ["fc"] and leaf == "bias":
        return ("params", "fc", "bias"), value
    return None


def _flatten(tree: dict, prefix: tuple[str, ...] = ()) -> dict[tuple[str, ...], Any]:
    out = {}
    for k, v in tree.items():
        out.update(_flatten(v, (*prefix, k)) if isinstance(v, dict) else {(*prefix, k): v})
    return out


def _unflatten(flat: dict[tuple[str, ...], Any]) -> dict:
    tree: dict = {}
    for path, v in flat.items():
        node = tree
        for k in path[:-1]:
            node = node.setdefault(k, {})
        node[path[-1]] = v
    return tree


@functools.lru_cache(maxsize=1)
def _expected_shapes() -> dict[tuple[str, ...], tuple[int, ...]]:
    return {p: tuple(s.shape) for p, s in _flatten(variable_shapes()).items()}


def _check_against_model(flat: dict[tuple[str, ...], np.ndarray], source: str) -> None:
    """Raises WeightsError naming missing, unexpected and mis-shaped variables."""
    expected = _expected_shapes()
    missing = sorted("/".join(p) for p in expected.keys() - flat.keys())
    unexpected = sorted("/".join(p) for p in flat.keys() - expected.keys())
    mis_shaped = sorted(f"{'/'.join(p)} {flat[p].shape} != {expected[p]}"
                        for p in expected.keys() & flat.keys() if tuple(flat[p].shape) != expected[p])
    if missing or unexpected or mis_shaped:
        problems = [f"{label} ({len(items)}): {', '.join(items[:5])}{' ...' if len(items) > 5 else ''}"
                    for label, items in (("missing", missing), ("unexpected", unexpected),
                                         ("wrong shape", mis_shaped)) if items]
        raise WeightsError(f"{source}: does not match the FID Inception-v3: {'; '.join(problems)}; {_WHERE}")


def state_dict_to_flax(state_dict: dict[str, np.ndarray], source: str = "state_dict") -> dict:
    """pytorch-fid's FID Inception state_dict -> FIDInceptionV3 variables {"params", "batch_stats"}.

    Conv kernels go from OIHW to HWIO and the fc from [out, in] to [in, out]; BatchNorm's
    weight/bias/running stats become scale/bias/mean/var. `num_batches_tracked` is dropped.
    Entries that map nowhere, missing variables and wrong shapes raise WeightsError.
    """
    flat, unknown = {}, []
    for key, value in state_dict.items():
        loc = _flax_location(key, np.asarray(value))
        if loc is None:
            if not key.endswith("num_batches_tracked"):
                unknown.append(key)
            continue
        path, array = loc
        flat[path] = np.ascontiguousarray(array, dtype=np.float32)
    if unknown:
        raise WeightsError(f"{source}: unexpected state_dict keys {sorted(unknown)[:5]}; {_WHERE}")
    _check_against_model(flat, source)
    return _unflatten(flat)


# --- Files -----------------------------------------------------------------------------------


def save_npz(variables: dict, path: str | os.PathLike) -> None:
    """Writes converted variables as a .npz of "/"-joined paths (loadable by `load_fid_weights`)."""
    np.savez(path, **{"/".join(p): np.asarray(v) for p, v in _flatten(variables).items()})


def _load_npz(path: str | os.PathLike) -> dict:
    with np.load(path, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    if "fc.weight" in arrays:  # a state_dict saved with its torch names
        return state_dict_to_flax(arrays, source=str(path))
    flat = {tuple(k.split("/")): np.asarray(v, np.float32) for k, v in arrays.items()}
    _check_against_model(flat, str(path))
    return _unflatten(flat)


def load_fid_weights(path: str | os.PathLike) -> dict:
    """FIDInceptionV3 variables from pytorch-fid's .pth (read without torch) or a converted .npz."""
    if not os.path.isfile(path):
        raise WeightsError(f"FID Inception weights file not found: {path}; {_WHERE} "
                           f"(pass its local path with --fid_weights)")
    if str(path).endswith(".npz"):
        return _load_npz(path)
    return state_dict_to_flax(read_torch_state_dict(path), source=str(path))
