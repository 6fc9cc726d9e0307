"""The Flax FID Inception matches pytorch-fid's network, sharing random weights through a .pth file.

Nothing is downloaded: pytorch-fid's network is built with random weights (its weight loader
is patched to hand back the fresh model's own state_dict), saved with torch.save, and read
back by ganjax's torch-free loader. Needs torch, torchvision and pytorch-fid; skipped without.
"""

import hashlib
import os
import subprocess
import sys
import textwrap
from unittest import mock

import jax
import jax.numpy as jnp
import numpy as np
import pytest

torch = pytest.importorskip("torch")
F = torch.nn.functional

from ganjax.metrics import inception as inc  # noqa: E402
from ganjax.metrics import inception_weights as iw  # noqa: E402
from ganjax.metrics.features import make_feature_extractor  # noqa: E402

# Held for the whole session: dropping the Library object would unregister the schemas.
_TORCHVISION_SCHEMAS = []


def _import_pytorch_fid_inception():
    """pytorch_fid.inception, even where torchvision's C++ ops cannot load.

    PyPI's torchvision wheels are CUDA builds; next to torch's CPU build their extension does
    not load, and torchvision 0.28's import then dies registering fake kernels for nms/qnms
    ("operator torchvision::nms does not exist"). pytorch-fid only uses torchvision's
    pure-Python Inception blocks, so declaring those two schemas lets the import through.
    """
    try:
        import torchvision  # noqa: F401
    except ImportError:
        pytest.skip("torchvision is not installed")
    except RuntimeError as e:
        if "torchvision::nms" not in str(e):
            raise
        for name in [m for m in sys.modules if m == "torchvision" or m.startswith("torchvision.")]:
            del sys.modules[name]
        lib = torch.library.Library("torchvision", "DEF")
        for op in ("nms", "qnms"):
            lib.define(f"{op}(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
        _TORCHVISION_SCHEMAS.append(lib)
    return pytest.importorskip("pytorch_fid.inception")


def _build_random_pytorch_fid(seed: int):
    """pytorch-fid's InceptionV3 (block 3: pool3) and its inner torchvision model, random weights.

    With torch's default init and arbitrary BatchNorm statistics the activations die out and
    pool3 barely depends on the image (features differ by ~1e-8 between images), which would
    make any comparison vacuous. So: He-normal convs, BN scale U(0.5, 1.5) and shift
    U(0.5, 1), running statistics calibrated on one batch of random images and then
    perturbed (so inference BN is not an identity on that batch), and a random fc bias.
    """
    pfi = _import_pytorch_fid_inception()
    built = {}

    def capture(*args, **kwargs):
        built["model"] = real(*args, **kwargs)
        return built["model"]

    real = pfi._inception_v3
    with mock.patch.object(pfi, "_inception_v3", capture), \
            mock.patch.object(pfi, "load_state_dict_from_url",
                              lambda *a, **k: built["model"].state_dict()):
        net = pfi.InceptionV3([pfi.InceptionV3.BLOCK_INDEX_BY_DIM[2048]])
    inception = built["model"]
    g = torch.Generator().manual_seed(seed)
    bns = [m for m in inception.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    with torch.no_grad():
        for m in inception.modules():
            if isinstance(m, torch.nn.Conv2d):
                torch.nn.init.kaiming_normal_(m.weight, nonlinearity="relu", generator=g)
        for bn in bns:
            bn.weight.uniform_(0.5, 1.5, generator=g)
            bn.bias.uniform_(0.5, 1.0, generator=g)
            bn.reset_running_stats()
            bn.momentum = None  # running stats = plain average over the calibration pass
        inception.fc.bias.normal_(0.0, 1.0, generator=g)
        net.train()
        net(torch.rand(4, 3, 32, 32, generator=g))
        net.eval()
        for bn in bns:
            bn.running_var.mul_(torch.empty_like(bn.running_var).uniform_(0.8, 1.25, generator=g))
            bn.running_mean.add_(0.1 * bn.running_var.sqrt() * torch.randn(bn.running_mean.shape, generator=g))
    return net, inception


def _torch_features(net, inception, images_nhwc: np.ndarray) -> dict[str, np.ndarray]:
    x = torch.from_numpy(images_nhwc).permute(0, 3, 1, 2)
    if x.shape[1] == 1:
        x = x.repeat(1, 3, 1, 1)  # pytorch-fid reads images as RGB
    with torch.no_grad():
        pool3 = net(x)[0].flatten(1)
        unbiased = pool3 @ inception.fc.weight.T
        return {"pool3": pool3.numpy(), "logits": inception.fc(pool3).numpy(),
                "logits_unbiased": unbiased.numpy()}


def _max_diff(a, b) -> float:
    return float(np.max(np.abs(np.asarray(a) - np.asarray(b))))


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """(pytorch-fid net, its inner model, .pth path in zip format, Flax variables loaded from it)."""
    net, inception = _build_random_pytorch_fid(seed=0)
    path = tmp_path_factory.mktemp("fid") / "random_fid_inception.pth"
    torch.save(inception.state_dict(), path)
    return net, inception, path, iw.load_fid_weights(path)


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(0).uniform(size=(3, 32, 32, 3)).astype(np.float32)


@pytest.mark.parametrize("shape", [(2, 32, 32, 3), (1, 17, 300, 1), (1, 512, 384, 3), (1, 64, 640, 2)])
def test_resize_matches_torch_interpolate(shape):
    x = np.random.default_rng(1).uniform(size=shape).astype(np.float32)
    ref = F.interpolate(torch.from_numpy(x).permute(0, 3, 1, 2), size=(299, 299), mode="bilinear",
                        align_corners=False).permute(0, 2, 3, 1).numpy()
    ours = inc.resize_bilinear_torch(jnp.asarray(x), (299, 299))
    assert _max_diff(ours, ref) < 1e-6


def test_pools_match_torch():
    x = np.random.default_rng(2).normal(size=(2, 5, 7, 3)).astype(np.float32)
    xt = torch.from_numpy(x).permute(0, 3, 1, 2)
    avg = F.avg_pool2d(xt, 3, stride=1, padding=1, count_include_pad=False).permute(0, 2, 3, 1)
    mx = F.max_pool2d(xt, 3, stride=1, padding=1).permute(0, 2, 3, 1)
    assert _max_diff(inc.avg_pool_3x3_exclude_pad(jnp.asarray(x)), avg.numpy()) < 1e-6
    assert _max_diff(inc.max_pool_3x3_same(jnp.asarray(x)), mx.numpy()) == 0.0
    included = F.avg_pool2d(xt, 3, stride=1, padding=1).permute(0, 2, 3, 1).numpy()
    assert _max_diff(inc.avg_pool_3x3_exclude_pad(jnp.asarray(x)), included) > 1e-2  # borders differ


def test_features_match_pytorch_fid_in_padded_batches(reference, images):
    net, inception, _, variables = reference
    expected = _torch_features(net, inception, images)
    extract = make_feature_extractor(variables, batch_size=2)
    got = extract(images)  # batches [0, 1] and [2, zero padding]
    diffs = {k: _max_diff(got[k], expected[k]) for k in expected}
    print(f"max abs diff vs pytorch-fid: {diffs}")
    assert {k: v.shape for k, v in got.items()} == {k: v.shape for k, v in expected.items()}
    assert diffs["pool3"] < 1e-4
    assert diffs["logits"] < 1e-4 and diffs["logits_unbiased"] < 1e-4
    # The comparison means something only if the features depend on the image.
    pool3 = expected["pool3"]
    assert np.abs(pool3[0] - pool3[1]).mean() > 0.05 * np.abs(pool3).mean()
    assert _max_diff(expected["logits"] - expected["logits_unbiased"], inception.fc.bias.detach()[None]) < 1e-5
    # Same images in other batch positions (image 2 now unpadded): the same features.
    again = extract(images[[2, 0]])
    for k in got:
        np.testing.assert_allclose(again[k], got[k][[2, 0]], rtol=0, atol=1e-6)
    empty = extract(images[:0])
    assert empty["pool3"].shape == (0, 2048) and empty["logits"].shape == (0, 1008)


def test_grayscale_non_square_matches_pytorch_fid(reference):
    net, inception, _, variables = reference
    gray = np.random.default_rng(3).uniform(size=(1, 40, 24, 1)).astype(np.float32)
    expected = _torch_features(net, inception, gray)
    got = jax.jit(inc.FIDInceptionV3().apply)(variables, jnp.asarray(gray))
    print(f"grayscale 40x24 max abs diff: pool3 {_max_diff(got['pool3'], expected['pool3']):.2e}")
    assert _max_diff(got["pool3"], expected["pool3"]) < 1e-4
    assert _max_diff(got["logits"], expected["logits"]) < 1e-4


def test_legacy_pth_and_npz_load_identically(reference, tmp_path):
    _, inception, path, variables = reference
    state_dict = inception.state_dict()
    legacy = tmp_path / "legacy.pth"
    torch.save(state_dict, legacy, _use_new_zipfile_serialization=False)
    converted, torch_named = tmp_path / "converted.npz", tmp_path / "torch_named.npz"
    iw.save_npz(variables, converted)
    np.savez(torch_named, **{k: v.numpy() for k, v in state_dict.items()})
    for other in (legacy, converted, torch_named):
        loaded = iw.load_fid_weights(other)
        assert jax.tree.structure(loaded) == jax.tree.structure(variables)
        for a, b in zip(jax.tree.leaves(loaded), jax.tree.leaves(variables)):
            np.testing.assert_array_equal(a, b)
    assert iw.weights_sha256(path) == hashlib.sha256(path.read_bytes()).hexdigest()
    kernel = variables["params"]["Mixed_6b"]["branch7x7_2"]["conv"]["kernel"]
    assert kernel.shape == (1, 7, 128, 128)  # HWIO from torch's OIHW [128, 128, 1, 7]


def test_missing_weights_file_says_what_and_where(tmp_path):
    with pytest.raises(iw.WeightsError) as err:
        iw.load_fid_weights(tmp_path / "nope.pth")
    message = str(err.value)
    assert "nope.pth" in message and "pt_inception-2015-12-05-6726825d.pth" in message
    assert "github.com/mseitzer/pytorch-fid" in message


def test_wrong_keys_are_named(reference, tmp_path):
    _, inception, _, _ = reference
    state_dict = {k: v.numpy() for k, v in inception.state_dict().items()}
    del state_dict["Mixed_7c.branch_pool.bn.running_var"]
    state_dict["fc.weight"] = state_dict["fc.weight"][:1000]
    with pytest.raises(iw.WeightsError, match="Mixed_7c/branch_pool/bn/var.*fc/kernel"):
        iw.state_dict_to_flax(state_dict)
    other = tmp_path / "resnet_like.pth"
    torch.save(torch.nn.Linear(3, 2).state_dict(), other)
    with pytest.raises(iw.WeightsError, match="resnet_like.pth.*pt_inception-2015-12-05"):
        iw.load_fid_weights(other)


SUBPROCESS_SCRIPT = textwrap.dedent("""
    import os, sys
    os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=2"
    sys.modules["torch"] = None  # any `import torch` from here on fails
    import jax, numpy as np
    from jax.sharding import Mesh
    from ganjax.metrics.inception_weights import load_fid_weights
    from ganjax.metrics.features import make_feature_extractor

    assert jax.device_count() == 2
    variables = load_fid_weights(sys.argv[1])
    legacy = load_fid_weights(sys.argv[2])
    assert all(np.array_equal(a, b) for a, b in zip(jax.tree.leaves(variables), jax.tree.leaves(legacy)))
    images = np.random.default_rng(0).uniform(size=(5, 16, 16, 3)).astype(np.float32)
    sharded = make_feature_extractor(variables, batch_size=3)(images)  # 2 devices: batches of 4
    one_device = Mesh(np.array(jax.devices()[:1]), ("data",))
    single = make_feature_extractor(variables, batch_size=3, mesh=one_device)(images)
    assert sharded["pool3"].shape == (5, 2048), sharded["pool3"].shape
    for k in single:
        np.testing.assert_allclose(sharded[k], single[k], rtol=1e-5, atol=1e-5)
    print("OK")
""")


def test_torch_free_loading_and_sharded_extraction(reference, tmp_path):
    """In a process where torch cannot be imported: both .pth formats load, 2-device extraction agrees."""
    _, inception, path, _ = reference
    legacy = tmp_path / "legacy.pth"
    torch.save(inception.state_dict(), legacy, _use_new_zipfile_serialization=False)
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    result = subprocess.run([sys.executable, "-c", SUBPROCESS_SCRIPT, str(path), str(legacy)],
                            capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "OK" in result.stdout
