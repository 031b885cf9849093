"""Cut a face out of a photo so that it looks like the training images: the detector's box plus a margin.

The data set's images are face crops with some forehead, chin and background
around the face; a detector's box is tighter. ``FRAMING`` widens the box to
the data set's framing, as measured by running the detector on the training
images: ``python bench/bench_faces.py --calibrate`` (docs/benchmarks.md,
*Faces in photos*). Where the framed region runs past the photo's edge, the
edge pixels are repeated, so the face stays where the training images have it.
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
FRAMING = Framing(width=1.73, height=1.62, shift_y=0.04)


def crop_region(box: Box, framing: Framing = FRAMING) -> Box:
    """The region around a face at ``box`` that is framed like the training images (may run past the photo)."""
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
