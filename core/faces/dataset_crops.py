"""A data set's images passed through the face detector: each becomes its face, cut out as ``framing`` says.

Training on these crops makes the training images look like what the
Predict page classifies in a group photo, whatever margin each original had
(measured in docs/benchmarks.md, *Faces in photos*).
An image in which no face is found is kept as it is (a close-up the detector
cannot see). ``python -m core crop-faces --from DIR --to DIR`` runs it.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Callable
from pathlib import Path

from core.data.dataset import CLASSES, list_all
from core.data.images import load_rgb
from core.faces.crops import FRAMING, Framing, face_crop
from core.faces.detector import FaceDetector
from core.files import atomic_write_bytes, sha256_file


def crop_data_set(source: str | os.PathLike, dest: str | os.PathLike, detector: FaceDetector, framing: Framing = FRAMING,
                  progress: Callable[[int, int], None] | None = None) -> dict[str, int]:
    """Write ``source``'s splits as face crops into ``dest`` (same layout, PNG); counts of cropped and kept images.

    ``dest/CROPS.json`` records, per image, its source's sha256 and the region cut out (or none).
    """
    source, dest = Path(source), Path(dest)
    samples = list_all(source)
    counts, regions = {"cropped": 0, "kept": 0}, {}
    for done, sample in enumerate(samples, 1):
        photo = load_rgb(sample.path)
        faces = detector.detect(photo)
        relative = sample.path.relative_to(source)
        if faces:
            crop, region = face_crop(photo, max(faces, key=lambda f: f.box.area).box, framing)
            counts["cropped"] += 1
        else:
            crop, region = photo, None
            counts["kept"] += 1
        buffer = io.BytesIO()
        crop.save(buffer, "PNG")
        target = dest / relative.with_suffix(".png")
        atomic_write_bytes(target, buffer.getvalue())
        regions[target.relative_to(dest).as_posix()] = {"source": relative.as_posix(), "sha256": sha256_file(sample.path),
                                                         "region": None if region is None else list(region.as_ints())}
        if progress:
            progress(done, len(samples))
    manifest = {"framing": vars(framing), "classes": list(CLASSES), "images": regions, **counts}
    atomic_write_bytes(dest / "CROPS.json", json.dumps(manifest, indent=1).encode())
    return counts
