"""``python -m core predict``: one line per face with its box, JSON, annotated copies, clear refusals."""

from __future__ import annotations

import json
import random
import subprocess
import sys

from PIL import Image

from core.data.dataset import list_split
from core.paths import PROJECT_ROOT
from tools.scenes import make_scene


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "core", "predict", *args], cwd=PROJECT_ROOT, capture_output=True,
                          text=True, timeout=300)


def test_predict_prints_every_face_and_writes_annotated_copies(face_mask_410, tmp_path):
    samples = list_split(face_mask_410, "test")
    pool = {label: [s.path for s in samples if s.label == label] for label in (0, 1)}
    scene = make_scene(random.Random(5), pool, 3, (1280, 720), "coffee", heights=(140, 260))
    photo = tmp_path / "group.png"
    scene.image.save(photo)
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8\xff not a jpeg")

    text = run(str(photo), str(tmp_path / "broken.jpg"), "--out", str(tmp_path / "out"))
    assert text.returncode == 1, "one unreadable photo: exit status 1, the others still printed"
    faces = [line for line in text.stdout.splitlines() if "  face " in line]
    assert len(faces) == 3 and all(" box (" in line and ("mask" in line) for line in faces)
    assert text.stdout.splitlines()[0].startswith(f"{photo}: 3 faces: ")
    assert "broken.jpg: this is not an image format we can read" in text.stderr
    annotated = Image.open(tmp_path / "out" / "group.faces.png")
    assert annotated.size == (1280, 720)

    answer = json.loads(run(str(photo), "--json").stdout)
    assert answer["faces_found"] == 3 and len(answer["faces"]) == 3
    assert all(len(f["box"]) == 4 and len(f["expvals"]) == 4 and f["label"] in ("mask", "no_mask") for f in answer["faces"])
