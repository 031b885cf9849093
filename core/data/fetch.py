"""Fetch the article-sized 410-image set by its manifest: download from the public source, or copy from a folder.

Every file's sha256 is verified; files already present and verified are kept,
so an interrupted fetch resumes where it stopped.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path

from core.data.dataset import read_manifest
from core.files import atomic_write_bytes, sha256_file
from core.paths import FETCHED_DATA_DIR, MANIFEST


class FetchError(RuntimeError):
    """Some files could not be fetched or verified; ``failures`` lists them."""

    def __init__(self, failures: list[tuple[str, str]]):
        self.failures = failures
        lines = "\n".join(f"  {path}: {why}" for path, why in failures[:20])
        more = f"\n  … and {len(failures) - 20} more" if len(failures) > 20 else ""
        super().__init__(f"{len(failures)} file(s) could not be fetched:\n{lines}{more}")


def source_url(manifest: dict, entry: dict) -> str:
    return manifest["url_template"].format(commit=manifest["commit"], source=urllib.parse.quote(entry["source"]))


def fetch(
    dest: str | os.PathLike = FETCHED_DATA_DIR,
    manifest_path: Path = MANIFEST,
    from_dir: str | os.PathLike | None = None,
    progress: Callable[[int, int, str], None] | None = None,
    timeout: float = 30.0,
) -> dict[str, int]:
    """Bring every manifest file into ``dest``, verified; return counts of kept/fetched files.

    Raises :class:`FetchError` naming each file that failed; files that did
    arrive stay, so calling again resumes.
    """
    manifest = read_manifest(manifest_path)
    dest = Path(dest)
    counts = {"kept": 0, "fetched": 0, "failed": 0}
    failures: list[tuple[str, str]] = []
    files = manifest["files"]
    for i, entry in enumerate(files):
        target = dest / entry["path"]
        if progress:
            progress(i, len(files), entry["path"])
        if target.is_file() and sha256_file(target) == entry["sha256"]:
            counts["kept"] += 1
            continue
        try:
            if from_dir is not None:
                _copy_verified(Path(from_dir) / entry["path"], target, entry["sha256"])
            else:
                _download_verified(source_url(manifest, entry), target, entry["sha256"], timeout)
            counts["fetched"] += 1
        except (OSError, ValueError) as exc:
            failures.append((entry["path"], str(exc)))
            counts["failed"] += 1
    if progress:
        progress(len(files), len(files), "")
    if dest.is_dir():
        shutil.copyfile(manifest_path, dest / "MANIFEST.json")
    if failures:
        raise FetchError(failures)
    return counts


def _copy_verified(source: Path, target: Path, sha256: str) -> None:
    if not source.is_file():
        raise OSError(f"missing in the source folder ({source})")
    _write_verified(target, source.read_bytes(), sha256)


def _download_verified(url: str, target: Path, sha256: str, timeout: float) -> None:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            data = response.read()
    except OSError as exc:  # URLError, HTTPError, timeouts
        raise OSError(f"download failed from {url}: {exc}") from exc
    _write_verified(target, data, sha256)


def _write_verified(target: Path, data: bytes, sha256: str) -> None:
    actual = hashlib.sha256(data).hexdigest()
    if actual != sha256:
        raise ValueError(f"sha256 mismatch (expected {sha256[:12]}…, got {actual[:12]}…)")
    atomic_write_bytes(target, data)
