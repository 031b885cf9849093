"""``python -m core crop-faces``: a data set's images cut to their face, in the same layout, with a record of each cut."""

from __future__ import annotations

import json
import shutil

from PIL import Image

from core.commands.crop_faces import main as crop_faces
from core.data.dataset import SPLITS, list_split
from core.files import sha256_file


def test_a_data_set_is_cut_to_its_faces_and_a_missing_one_is_reported(face_mask_410, tmp_path, capsys):
    source = tmp_path / "source"
    for split in SPLITS:
        for sample in list_split(face_mask_410, split)[:: 60]:
            target = source / sample.path.relative_to(face_mask_410)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(sample.path, target)
    Image.new("RGB", (300, 300), (90, 160, 90)).save(source / "test" / "mask" / "plain-green.png")  # no face in it

    assert crop_faces(["--from", str(source), "--to", str(tmp_path / "faces")]) == 0
    record = json.loads((tmp_path / "faces" / "CROPS.json").read_text())
    originals = [s for split in SPLITS for s in list_split(source, split)]
    assert record["cropped"] + record["kept"] == len(originals) and record["kept"] >= 1
    assert record["framing"] == {"width": 1.0, "height": 1.0, "shift_y": 0.0}
    green = record["images"]["test/mask/plain-green.png"]
    assert green["region"] is None and green["sha256"] == sha256_file(source / "test" / "mask" / "plain-green.png")
    for split in SPLITS:  # the same images, labels and splits, each no larger than its original
        cut = list_split(tmp_path / "faces", split)
        assert [(s.path.stem, s.label) for s in cut] == [(s.path.stem, s.label) for s in list_split(source, split)]
    face = next(v for v in record["images"].values() if v["region"])
    x0, y0, x1, y1 = face["region"]
    with Image.open(source / face["source"]) as original:
        assert 0 <= x0 < x1 <= original.width and 0 <= y0 < y1 <= original.height
    assert "cropped to their face" in capsys.readouterr().out

    assert crop_faces(["--from", str(tmp_path / "nowhere"), "--to", str(tmp_path / "none")]) == 1
    assert "no train/ folder" in capsys.readouterr().err
