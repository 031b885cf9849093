"""The data set: splits, its content hash, fetching by manifest (and the fetch command)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from core.data.dataset import dataset_hash, list_split, manifest_hash, read_manifest
from core.data.fetch import FetchError, fetch
from core.paths import PROJECT_ROOT

ROOT = PROJECT_ROOT


def test_splits_and_manifest_hash(face_mask_410):
    sizes = {split: len(list_split(face_mask_410, split)) for split in ("train", "val", "test")}
    assert sizes == {"train": 240, "val": 50, "test": 120}
    labels = [s.label for s in list_split(face_mask_410, "test")]
    assert labels.count(0) == labels.count(1) == 60
    assert dataset_hash(face_mask_410) == manifest_hash(read_manifest())


def test_fetch_copies_verifies_and_resumes(face_mask_410, tmp_path):
    dest = tmp_path / "data"
    assert fetch(dest, from_dir=face_mask_410) == {"kept": 0, "fetched": 410, "failed": 0}
    files = sorted(dest.rglob("*.jp*g"))
    files[0].unlink()
    files[1].unlink()
    files[2].write_bytes(b"corrupted")
    assert fetch(dest, from_dir=face_mask_410) == {"kept": 407, "fetched": 3, "failed": 0}
    assert not list(dest.rglob("*.part"))


def test_fetch_reports_each_failure_and_keeps_good_files(face_mask_410, tmp_path):
    manifest = read_manifest()
    entries = manifest["files"][:3]
    bad_hash = dict(entries[1], sha256="0" * 64)
    missing = dict(entries[2], path="train/mask/not-there.jpg")
    small = dict(manifest, files=[entries[0], bad_hash, missing])
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(small))
    with pytest.raises(FetchError) as err:
        fetch(tmp_path / "out", manifest_path=path, from_dir=face_mask_410)
    assert [p for p, _ in err.value.failures] == [bad_hash["path"], missing["path"]]
    assert "sha256 mismatch" in str(err.value) and "missing in the source folder" in str(err.value)
    assert (tmp_path / "out" / entries[0]["path"]).is_file()
    offline = dict(small, files=[entries[0]], url_template="http://127.0.0.1:9/{commit}/{source}")
    path.write_text(json.dumps(offline))
    with pytest.raises(FetchError, match="download failed"):
        fetch(tmp_path / "offline", manifest_path=path)
    assert not list(tmp_path.rglob("*.part"))


def test_fetch_cli(face_mask_410, tmp_path):
    ok = subprocess.run([sys.executable, "-m", "core", "fetch", "--from", str(face_mask_410), "--dest", str(tmp_path / "d")],
                        cwd=ROOT, capture_output=True, text=True)
    assert ok.returncode == 0 and "410 fetched" in ok.stdout
    bad = subprocess.run([sys.executable, "-m", "core", "fetch", "--from", str(tmp_path / "nowhere"),
                          "--dest", str(tmp_path / "e")], cwd=ROOT, capture_output=True, text=True)
    assert bad.returncode == 1 and "could not be fetched" in bad.stderr
