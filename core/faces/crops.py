"""Cut a face out of a photo for the model: the detector's box (``FRAMING``), or the whole photo for a close-up.

The data set's images frame the face more loosely than the detector's box:
``TRAINING_FRAMING``, measured by ``python bench/bench_faces.py --calibrate``.
Classifying that wider region was measured worse on faces in photos (79 % of
faces right against 95 % for the box itself; docs/benchmarks.md, *Faces in
photos*): around a face in a photo lies the photo — other people, a street —
not the plain surroundings the training faces have, and retraining on the
training images' own detector crops did not change that. So the box itself is
classified, unless the photo is already framed like a training image (one
face, ``is_close_up``): then the whole photo is, as before faces were found.
Where a region runs past the photo's edge, the edge pixels are repeated.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from core.faces.boxes import Box


@dataclass(frozen=True)
class Framing:
    """The crop around a detected face: ``width`` × and ``height`` × the box's size, moved down by ``shift_y`` heights."""

    width: float
    height: float
    shift_y: float = 0.0


# Median framing of the training images around the detector's box (bench/bench_faces.py --calibrate).
TRAINING_FRAMING = Framing(width=1.71, height=1.63, shift_y=0.01)
FRAMING = Framing(width=1.0, height=1.0)  # what is classified in a photo: the detector's box
CLOSE_UP = 0.5  # a lone face whose training framing covers this share of the photo: the photo is a close-up


def is_close_up(box: Box, photo_size: tuple[int, int], share: float = CLOSE_UP) -> bool:
    """Whether a photo's only face fills it as a training image's face does (then the whole photo is classified):
    its training framing covers ``share`` of the photo or more."""
    width, height = photo_size
    return crop_region(box, TRAINING_FRAMING).clipped(width, height).area >= share * width * height


def crop_region(box: Box, framing: Framing = FRAMING) -> Box:
    """The region ``framing`` puts around a face at ``box`` (it may run past the photo)."""
    cx, cy = box.centre
    cy += framing.shift_y * box.height
    half_w, half_h = framing.width * box.width / 2, framing.height * box.height / 2
    return Box(cx - half_w, cy - half_h, cx + half_w, cy + half_h)


def face_crop(photo: Image.Image, box: Box, framing: Framing = FRAMING) -> tuple[Image.Image, Box]:
    """The face's crop (what the model sees, edge pixels repeated past the photo) and its region in the photo."""
    region = crop_region(box, framing)
    x0, y0, x1, y1 = region.as_ints()
    x1, y1 = max(x1, x0 + 1), max(y1, y0 + 1)
    inside = photo.crop((max(x0, 0), max(y0, 0), min(x1, photo.width), min(y1, photo.height)))
    pad = ((max(0, -y0), max(0, y1 - photo.height)), (max(0, -x0), max(0, x1 - photo.width)), (0, 0))
    if any(p for pair in pad[:2] for p in pair):
        if inside.width == 0 or inside.height == 0:  # a box wholly outside the photo: nothing to repeat
            return Image.new("RGB", (x1 - x0, y1 - y0)), region.clipped(*photo.size)
        inside = Image.fromarray(np.pad(np.asarray(inside), pad, mode="edge"))
    return inside, region.clipped(*photo.size)
