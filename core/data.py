"""The face-mask data set: ImageFolder layout, fetching by manifest, listing splits.

``python -m core.data fetch`` downloads the article-sized 410-image set from its
public source, verifying every sha256; ``--from DIR`` copies it from a local
folder instead. Existing verified files are kept, so an interrupted fetch
resumes where it stopped.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import tempfile
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MANIFEST = PROJECT_ROOT / "data" / "face-mask-410.manifest.json"
DEFAULT_DATA_DIR = PROJECT_ROOT / "data" / "face-mask-410"
SHARED_DATA_DIR = PROJECT_ROOT.parent / "shared" / "datasets" / "face-mask-410"
DATA_ENV = "QTL_DATA"
CLASSES = ("mask", "no_mask")
SPLITS = ("train", "val", "test")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff")


@dataclass(frozen=True)
class Sample:
    path: Path
    label: int  # index into CLASSES


class FetchError(RuntimeError):
    """Some files could not be fetched or verified; ``failures`` lists them."""

    def __init__(self, failures: list[tuple[str, str]]):
        self.failures = failures
        lines = "\n".join(f"  {path}: {why}" for path, why in failures[:20])
        more = f"\n  … and {len(failures) - 20} more" if len(failures) > 20 else ""
        super().__init__(f"{len(failures)} file(s) could not be fetched:\n{lines}{more}")


def default_data_dir() -> Path:
    """``$QTL_DATA``, else ``data/face-mask-410`` if fetched, else ``../shared``'s copy."""
    if os.environ.get(DATA_ENV):
        return Path(os.environ[DATA_ENV])
    if (DEFAULT_DATA_DIR / "train").is_dir():
        return DEFAULT_DATA_DIR
    return SHARED_DATA_DIR


def read_manifest(path: Path = MANIFEST) -> dict:
    return json.loads(Path(path).read_text())


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def list_split(root: str | os.PathLike, split: str) -> list[Sample]:
    """The images of one split, sorted, labelled by folder (``mask`` = 0, ``no_mask`` = 1)."""
    root = Path(root)
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; expected one of {SPLITS}")
    folder = root / split
    if not folder.is_dir():
        raise FileNotFoundError(
            f"no {split}/ folder in {root}. Fetch the data set: python -m core.data fetch "
            f"(or --from ../shared/datasets/face-mask-410), or set {DATA_ENV}"
        )
    samples = []
    for label, name in enumerate(CLASSES):
        for path in sorted((folder / name).glob("*")):
            if path.suffix.lower() in IMAGE_SUFFIXES and path.is_file():
                samples.append(Sample(path, label))
    return samples


def dataset_hash(root: str | os.PathLike) -> str:
    """sha256 over the sorted "path sha256" lines of every image: the manifest's content hash."""
    root = Path(root)
    lines = []
    for split in SPLITS:
        for sample in list_split(root, split):
            lines.append(f"{sample.path.relative_to(root).as_posix()} {sha256_file(sample.path)}")
    return hashlib.sha256("\n".join(sorted(lines)).encode()).hexdigest()


def manifest_hash(manifest: dict) -> str:
    """The same hash as :func:`dataset_hash`, computed from a manifest without the images."""
    lines = sorted(f"{f['path']} {f['sha256']}" for f in manifest["files"])
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def source_url(manifest: dict, entry: dict) -> str:
    return manifest["url_template"].format(commit=manifest["commit"], source=urllib.parse.quote(entry["source"]))


def fetch(
    dest: str | os.PathLike = DEFAULT_DATA_DIR,
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


def atomic_write_bytes(target: Path, data: bytes) -> None:
    """Write to a temporary file beside ``target`` and rename it into place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m core.data", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    fetch_cmd = sub.add_parser("fetch", help="download (or copy) the 410-image set, verified by sha256")
    fetch_cmd.add_argument("--dest", default=str(DEFAULT_DATA_DIR), help="where to put it (default: %(default)s)")
    fetch_cmd.add_argument("--from", dest="from_dir", help="copy from this local folder instead of downloading")
    fetch_cmd.add_argument("--manifest", default=str(MANIFEST))
    args = parser.parse_args(argv)

    from tqdm import tqdm

    bar = tqdm(total=len(read_manifest(Path(args.manifest))["files"]), unit="file")

    def progress(done: int, total: int, name: str) -> None:
        bar.n = done
        bar.set_postfix_str(name[-40:])
        bar.refresh()

    try:
        counts = fetch(args.dest, Path(args.manifest), args.from_dir, progress)
    except FetchError as exc:
        bar.close()
        print(f"error: {exc}\nRun the same command again to resume; verified files are kept.", file=sys.stderr)
        return 1
    bar.close()
    print(f"{args.dest}: {counts['fetched']} fetched, {counts['kept']} already present and verified")
    return 0


if __name__ == "__main__":
    sys.exit(main())
