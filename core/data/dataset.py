"""The face-mask data set: ImageFolder layout (``<split>/<class>/<file>``), listing its splits, hashing its content."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from core.files import sha256_file
from core.paths import DATA_ENV, MANIFEST

CLASSES = ("mask", "no_mask")
SPLITS = ("train", "val", "test")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff")


@dataclass(frozen=True)
class Sample:
    path: Path
    label: int  # index into CLASSES


def read_manifest(path: Path = MANIFEST) -> dict:
    return json.loads(Path(path).read_text())


def list_split(root: str | os.PathLike, split: str) -> list[Sample]:
    """The images of one split, sorted, labelled by folder (``mask`` = 0, ``no_mask`` = 1)."""
    root = Path(root)
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; expected one of {SPLITS}")
    folder = root / split
    if not folder.is_dir():
        raise FileNotFoundError(
            f"no {split}/ folder in {root}. Fetch the data set: python -m core fetch "
            f"(or --from ../shared/datasets/face-mask-410), or set {DATA_ENV}"
        )
    return [Sample(path, label) for label, name in enumerate(CLASSES) for path in _image_files(folder / name)]


def list_all(root: str | os.PathLike) -> list[Sample]:
    """Every image of every split, split by split (train, val, test)."""
    return [sample for split in SPLITS for sample in list_split(root, split)]


def _image_files(folder: Path) -> list[Path]:
    """The image files in ``folder``, sorted; one directory read, no call per file (a cold training lists 410 while
    other threads import, and each call that gives up the GIL waits to get it back)."""
    if not folder.is_dir():
        return []
    with os.scandir(folder) as entries:
        names = [e.name for e in entries if Path(e.name).suffix.lower() in IMAGE_SUFFIXES and e.is_file()]
    return [folder / name for name in sorted(names)]


def dataset_hash(root: str | os.PathLike) -> str:
    """The manifest's content hash (:func:`content_hash`) of the images under ``root``, each file read and hashed."""
    root = Path(root)
    return content_hash((s.path.relative_to(root).as_posix(), sha256_file(s.path)) for s in list_all(root))


def manifest_hash(manifest: dict) -> str:
    """The same hash as :func:`dataset_hash`, computed from a manifest without the images."""
    return content_hash((f["path"], f["sha256"]) for f in manifest["files"])


def content_hash(files: Iterable[tuple[str, str]]) -> str:
    """sha256 over the sorted "path sha256" lines of (path relative to the data set's root, the file's sha256) pairs."""
    return hashlib.sha256("\n".join(sorted(f"{path} {digest}" for path, digest in files)).encode()).hexdigest()
