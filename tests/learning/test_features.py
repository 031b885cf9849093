"""The feature cache: the backbone runs once per image; a corrupt cache is rebuilt."""

from __future__ import annotations

import pytest
import torch

from core.data.dataset import list_split


def test_feature_cache_runs_the_backbone_once(face_mask_410, lite0, monkeypatch):
    from core.learning import features

    paths = [s.path for s in list_split(face_mask_410, "val")[:6]]
    first = features.extract_features(paths, "efficientnet_lite0", extractor=lite0)
    cache = features.cache_path("efficientnet_lite0")
    stamp = cache.stat().st_mtime_ns

    def must_not_load(name):
        raise AssertionError("the backbone ran although every image was cached")

    monkeypatch.setattr(features, "load_backbone", must_not_load)
    second = features.extract_features(paths, "efficientnet_lite0")
    assert torch.equal(first, second) and cache.stat().st_mtime_ns == stamp
    assert first.shape == (6, 1280)


def test_corrupt_feature_cache_is_rebuilt(face_mask_410, lite0, tmp_path, monkeypatch):
    from core.learning import features

    monkeypatch.setenv("QTL_CACHE", str(tmp_path))
    paths = [s.path for s in list_split(face_mask_410, "val")[:2]]
    features.cache_path("efficientnet_lite0").parent.mkdir(parents=True)
    features.cache_path("efficientnet_lite0").write_bytes(b"half-written")
    with pytest.warns(UserWarning, match="rebuilding"):
        out = features.extract_features(paths, "efficientnet_lite0", extractor=lite0)
    assert out.shape == (2, 1280)
