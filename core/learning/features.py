"""The feature cache: the frozen backbone runs once per image, never once per epoch.

Features are keyed by backbone, transform and the image file's sha256, and
kept in one file per (backbone, transform) under ``$QTL_CACHE/features/`` (default ``data/cache``).
"""

from __future__ import annotations

import io
import os
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from core.data.dataset import list_split
from core.data.images import ImageError, load_rgb
from core.files import atomic_write_bytes, sha256_file
from core.learning.backbones import FeatureExtractor, get_info, load_backbone
from core.paths import cache_dir

Progress = Callable[[int, int], None]


def cache_path(backbone: str) -> Path:
    info = get_info(backbone)
    return cache_dir() / "features" / f"{backbone}-{info.transform.key}.pt"


def _read_cache(path: Path) -> dict[str, torch.Tensor]:
    if not path.is_file():
        return {}
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
        return dict(zip(blob["keys"], blob["features"]))
    except Exception as exc:  # a corrupt or half-written cache is rebuilt, not trusted
        warnings.warn(f"feature cache {path} is unreadable ({exc}); rebuilding it", stacklevel=2)
        return {}


def _write_cache(path: Path, cache: dict[str, torch.Tensor]) -> None:
    buffer = io.BytesIO()
    torch.save({"keys": list(cache), "features": torch.stack(list(cache.values()))}, buffer)
    atomic_write_bytes(path, buffer.getvalue())


def extract_features(
    paths: Sequence[str | os.PathLike],
    backbone: str,
    extractor: FeatureExtractor | None = None,
    progress: Progress | None = None,
    batch_size: int = 32,
) -> torch.Tensor:
    """Features (N, D) for the image files, from the cache where present.

    Only images not in the cache are decoded and sent through the backbone,
    which is loaded only if there are any.
    """
    path = cache_path(backbone)
    cache = _read_cache(path)
    keys = [sha256_file(Path(p)) for p in paths]
    missing = [i for i, k in enumerate(keys) if k not in cache]
    if missing:
        extractor = extractor or load_backbone(backbone)
        transform = extractor.info.transform.build()
        for start in range(0, len(missing), batch_size):
            chunk = missing[start : start + batch_size]
            batch = torch.stack([transform(_load_dataset_image(paths[i])) for i in chunk])
            for i, vector in zip(chunk, extractor.features(batch)):
                cache[keys[i]] = vector.clone()
            if progress:
                progress(min(start + batch_size, len(missing)), len(missing))
        _write_cache(path, cache)
    return torch.stack([cache[k] for k in keys])


def _load_dataset_image(path: str | os.PathLike):
    try:
        return load_rgb(path)
    except ImageError as exc:
        raise ImageError(f"{path}: {exc}") from exc


@dataclass
class SplitFeatures:
    features: torch.Tensor
    labels: torch.Tensor
    paths: list[str]


def load_split_features(data_dir: str | os.PathLike, backbone: str, split: str,
                        progress: Progress | None = None) -> SplitFeatures:
    """One split's backbone features (from the cache where present), labels and image paths."""
    samples = list_split(data_dir, split)
    paths = [str(s.path) for s in samples]
    features = extract_features(paths, backbone, progress=progress)
    return SplitFeatures(features, torch.tensor([s.label for s in samples]), paths)
