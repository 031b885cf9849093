"""The feature cache: the frozen backbone runs once per image, never once per epoch.

Features are keyed by backbone, transform and the image file's sha256, and
kept in one file per (backbone, transform) under ``$QTL_CACHE/features/`` (default ``data/cache``).
"""

from __future__ import annotations

import functools
import io
import os
import threading
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import torch

from core.data.dataset import list_split
from core.data.images import ImageError, load_rgb
from core.files import atomic_write_bytes, sha256_file
from core.learning.backbones import FeatureExtractor, get_info, load_backbone, resolve_device
from core.paths import cache_dir

Progress = Callable[[int, int], None]

# Images per forward pass on a CPU: a lite0 batch of 4 keeps its activations in the caches, where 32 spilled
# them to memory at twice the time per image (docs/benchmarks.md, *Start-up*). A GPU wants large batches,
# a few in flight at once, decoded by as many threads.
CPU_BATCH, CUDA_BATCH, CUDA_WORKERS = 4, 64, 4


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
    batch_size: int | None = None,
    device: str = "cpu",
    hashes: Sequence[str] | None = None,
    workers: int | None = None,
) -> torch.Tensor:
    """Features (N, D) on the CPU for the image files, from the cache where present.

    Only images not in the cache are decoded and sent through the backbone,
    which is loaded (on ``device``: "auto", "cpu" or "cuda"; unless ``extractor``
    is given) only if there are any. ``hashes``: the files' sha256 (the cache's keys), where the caller has them;
    ``workers``: threads that decode and run the network (default one per core).
    """
    path = cache_path(backbone)
    cache = _read_cache(path)
    keys = list(hashes) if hashes is not None else [sha256_file(Path(p)) for p in paths]
    missing = sorted({k: i for i, k in enumerate(keys) if k not in cache}.values())  # a file twice runs once
    if missing:
        extractor = extractor or _loaded(backbone, resolve_device(device))
        vectors = backbone_features(extractor, [paths[i] for i in missing], progress, batch_size, workers)
        cache.update(zip((keys[i] for i in missing), vectors))
        _write_cache(path, cache)
    return torch.stack([cache[k] for k in keys])


@functools.lru_cache(maxsize=1)
def _loaded(backbone: str, device: str) -> FeatureExtractor:
    """The last backbone loaded here, kept: a training's three splits load it once."""
    return load_backbone(backbone, device=device)


def backbone_features(extractor: FeatureExtractor, paths: Sequence[str | os.PathLike], progress: Progress | None = None,
                      batch_size: int | None = None, workers: int | None = None) -> torch.Tensor:
    """The backbone's features (N, D), on the CPU, of image files, computed now (no cache).

    One thread per core (``workers``) takes a batch at a time: it decodes the
    images, transforms them and runs the network on one torch thread. Decoding
    and the network's kernels release the GIL, so the cores stay busy without
    torch's thread pool, which is slow on small batches and on a busy machine.
    """
    on_cuda = extractor.device.type == "cuda"
    batch_size = batch_size or (CUDA_BATCH if on_cuda else CPU_BATCH)
    workers = workers or (min(_cores(), CUDA_WORKERS) if on_cuda else _cores())
    transform = extractor.info.transform.build()

    def run(chunk: Sequence[str | os.PathLike]) -> torch.Tensor:
        batch = torch.stack([transform(_load_dataset_image(p)) for p in chunk])
        return extractor.features(batch).cpu()

    chunks = [paths[start : start + batch_size] for start in range(0, len(paths), batch_size)]
    out, done = [], 0
    with _one_torch_thread(), _exact_cuda(on_cuda), ThreadPoolExecutor(workers, thread_name_prefix="qtl-features") as pool:
        try:
            for vectors in pool.map(run, chunks):
                out.append(vectors)
                done += len(vectors)
                if progress:
                    progress(done, len(paths))
        except BaseException:
            pool.shutdown(cancel_futures=True)
            raise
    return torch.cat(out) if out else torch.empty(0, extractor.info.n_features)


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


@contextmanager
def _one_torch_thread() -> Iterator[None]:
    """torch's intra-op pool off while the workers run (each worker is a core's thread); restored after."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


@contextmanager
def _exact_cuda(on_cuda: bool) -> Iterator[None]:
    """No TF32 convolutions on a GPU: its features must match the CPU's, which share the cache."""
    if not on_cuda:
        yield
        return
    allowed = torch.backends.cudnn.allow_tf32
    torch.backends.cudnn.allow_tf32 = False
    try:
        yield
    finally:
        torch.backends.cudnn.allow_tf32 = allowed


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
    hashes: list[str] = field(default_factory=list)  # each image file's sha256, as the feature cache keys it


def load_split_features(data_dir: str | os.PathLike, backbone: str, split: str, progress: Progress | None = None,
                        device: str = "cpu", workers: int | None = None) -> SplitFeatures:
    """One split's backbone features (from the cache where present), labels and image paths."""
    samples = list_split(data_dir, split)
    paths = [str(s.path) for s in samples]
    hashes = [sha256_file(s.path) for s in samples]
    features = extract_features(paths, backbone, progress=progress, device=device, hashes=hashes, workers=workers)
    return SplitFeatures(features, torch.tensor([s.label for s in samples]), paths, hashes)


class _Stopped(Exception):
    pass


@contextmanager
def split_in_background(data_dir: str | os.PathLike, backbone: str, split: str,
                        device: str = "cpu") -> Iterator[Future[SplitFeatures]]:
    """One split's :func:`load_split_features` on one thread while the caller works: a training's test split, which
    only its end needs, extracted on one core while the fit runs on the other. Leaving the block stops an extraction
    still running after its current batch, and waits for it."""
    stop = threading.Event()

    def stop_when_asked(done: int, total: int) -> None:
        if stop.is_set():
            raise _Stopped

    pool = ThreadPoolExecutor(1, thread_name_prefix="qtl-split")
    try:
        yield pool.submit(load_split_features, data_dir, backbone, split, stop_when_asked, device, workers=1)
    finally:
        stop.set()
        pool.shutdown(wait=True)
