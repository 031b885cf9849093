"""The sidebar's checkpoint listing kept in JSON: the same as reading the checkpoints, no torch while none changed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

from core.learning.checkpoint_listing import LISTING_FILE, listed_checkpoints
from core.learning.checkpoints import list_checkpoints
from core.paths import PROJECT_ROOT

LIST_IN_A_FRESH_PROCESS = (
    "import json, sys\n"
    "from core.learning.checkpoint_listing import listed_checkpoints\n"
    "found = listed_checkpoints(sys.argv[1])\n"
    "print(json.dumps({'torch': 'torch' in sys.modules, 'labels': [c[1] for c in found[0]], 'problems': found[1]}))\n"
)


def _fresh_listing(directory, cache) -> dict:
    env = {**os.environ, "QTL_CACHE": str(cache)}
    out = subprocess.run([sys.executable, "-c", LIST_IN_A_FRESH_PROCESS, str(directory)], env=env, cwd=PROJECT_ROOT,
                         capture_output=True, text=True, timeout=120, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_kept_listing_equals_reading_the_checkpoints_and_needs_no_torch(short_run, tmp_path, monkeypatch):
    folder = tmp_path / "checkpoints"
    shutil.copytree(short_run[1] / "ckpt", folder)
    (folder / "broken.pt").write_bytes(b"not a checkpoint")
    monkeypatch.setenv("QTL_CACHE", str(tmp_path / "cache"))
    truth = list_checkpoints(folder)

    first = listed_checkpoints(folder)
    assert first == ([(str(c.path), c.label, c.meta) for c in truth.checkpoints], truth.problems)
    assert (tmp_path / "cache" / LISTING_FILE).is_file()
    assert listed_checkpoints(folder) == first, "the kept listing reads back equal, tuples included"

    again = _fresh_listing(folder, tmp_path / "cache")
    assert again == {"torch": False, "labels": [c[1] for c in first[0]], "problems": first[1]}


def test_a_changed_folder_or_a_spoilt_file_lists_again(short_run, tmp_path, monkeypatch):
    folder = tmp_path / "checkpoints"
    shutil.copytree(short_run[1] / "ckpt", folder)
    monkeypatch.setenv("QTL_CACHE", str(tmp_path / "cache"))
    before = listed_checkpoints(folder)
    assert before[0]

    (folder / "broken.pt").write_bytes(b"not a checkpoint")
    after = _fresh_listing(folder, tmp_path / "cache")
    assert after["torch"] is True, "a new file is read with torch"
    assert len(after["problems"]) == len(before[1]) + 1 and "broken.pt" in after["problems"][-1]

    (tmp_path / "cache" / LISTING_FILE).write_text('{"directory": 3, "half a file')
    assert listed_checkpoints(folder)[0] == before[0], "an unreadable listing is replaced, not trusted"
    assert json.loads((tmp_path / "cache" / LISTING_FILE).read_text())["directory"] == str(folder)
