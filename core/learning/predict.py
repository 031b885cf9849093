"""Photos in; for each face (or the whole image), the class, its probabilities and the circuit's inner values out."""

from __future__ import annotations

import io
import os
import time
from collections import Counter
from dataclasses import dataclass, field

import torch
from PIL import Image

from core.data.images import load_rgb
from core.execution.factory import make_executor
from core.execution.settings import ExecutionSettings
from core.faces.boxes import Box
from core.faces.crops import FRAMING, Framing, face_crop, is_close_up
from core.faces.detector import MAX_FACES, FaceDetector, default_detector
from core.learning.backbones import FeatureExtractor, load_backbone
from core.learning.checkpoints import Checkpoint
from core.learning.heads import DressedQuantumHead


@dataclass
class Prediction:
    label: str
    probability: float
    probabilities: dict[str, float]
    logits: list[float]
    angles: list[float]  # the RY embedding angles fed to the circuit
    expvals: list[float]  # ⟨Z⟩ of each qubit that came out


@dataclass
class FaceVerdict:
    """One face in a photo: where the detector found it, the region classified, and the verdict."""

    box: tuple[int, int, int, int]  # the detector's box: left, top, right, bottom (pixels)
    score: float  # the detector's confidence
    crop: tuple[int, int, int, int]  # the region classified (the box, or the whole photo for a close-up)
    prediction: Prediction


@dataclass
class PhotoVerdict:
    """Every face of a photo (at most ``MAX_FACES``, the largest), or the whole image when asked."""

    size: tuple[int, int]
    faces: list[FaceVerdict]
    found: int  # faces the detector found: more than ``len(faces)`` when the photo had too many
    whole_image: Prediction | None = None  # the photo classified as one face (no face found, or asked for)
    seconds: dict[str, float] = field(default_factory=dict)  # "detect", "classify"

    @property
    def summary(self) -> str:
        """E.g. "3 faces: 1 mask, 2 no mask" (or "no face found")."""
        if not self.faces:
            return "no face found"
        counts = Counter(f.prediction.label for f in self.faces)
        parts = ", ".join(f"{counts[c]} {c.replace('_', ' ')}" for c in sorted(counts))
        noun = "face" if len(self.faces) == 1 else "faces"
        more = f" (the {len(self.faces)} largest of {self.found} found)" if self.found > len(self.faces) else ""
        return f"{len(self.faces)} {noun}: {parts}{more}"

    @property
    def labelled_boxes(self) -> list[tuple[tuple[int, int, int, int], str, float]]:
        """Each face's (box, label, probability), as ``core.faces.annotate`` draws them."""
        return [(f.box, f.prediction.label, f.prediction.probability) for f in self.faces]


class Predictor:
    """A trained head on its backbone, ready for images.

    ``settings`` default to an exact (analytic) run on default.qubit so the
    same image always gets the same answer; any registered backend works.
    """

    def __init__(self, checkpoint: Checkpoint, extractor: FeatureExtractor | None = None,
                 settings: ExecutionSettings | None = None, detector: FaceDetector | None = None,
                 framing: Framing = FRAMING):
        self.checkpoint = checkpoint
        self._detector, self.framing = detector, framing
        self.classes = list(checkpoint.meta["classes"])
        self.extractor = extractor or load_backbone(checkpoint.meta["backbone"])
        if self.extractor.info.name != checkpoint.meta["backbone"]:
            raise ValueError(f"checkpoint needs backbone {checkpoint.meta['backbone']}, got {self.extractor.info.name}")
        self.transform = self.extractor.info.transform.build()
        executor = make_executor(checkpoint.spec, settings or ExecutionSettings("default.qubit", None))
        self.head: DressedQuantumHead = checkpoint.build_head(executor)

    @property
    def detector(self) -> FaceDetector:
        if self._detector is None:
            self._detector = default_detector()
        return self._detector

    def predict(self, image: Image.Image | bytes | str | os.PathLike | io.IOBase) -> Prediction:
        """The whole image as one face (PIL image, bytes, path or file); raises ImageError for unusable input."""
        return self.predict_many([image])[0]

    def predict_faces(self, image: Image.Image | bytes | str | os.PathLike | io.IOBase, whole_image: bool = False,
                      max_faces: int = MAX_FACES) -> PhotoVerdict:
        """Every face of a photo, each cut out (``core.faces.crops``) and classified on its own.

        At most ``max_faces`` faces are classified, the largest first; ``whole_image`` also (or, with no
        face found, instead) classifies the photo as one face. Raises ImageError for unusable input.
        """
        photo = image.convert("RGB") if isinstance(image, Image.Image) else load_rgb(image)
        started = time.perf_counter()
        found = self.detector.detect(photo)
        detected = time.perf_counter()
        largest = sorted(found, key=lambda f: -f.box.area)[:max_faces]
        chosen = sorted(largest, key=lambda f: (f.box.x0, f.box.y0))  # numbered left to right, as people read a photo
        close_up = len(found) == len(chosen) == 1 and is_close_up(chosen[0].box, photo.size)
        if close_up:  # the photo is framed as a training image is: classified whole, the one verdict both ways
            crops = [(photo, Box(0, 0, *photo.size))]
        else:
            crops = [face_crop(photo, face.box, self.framing) for face in chosen]
        inputs = [crop for crop, _ in crops] + ([photo] if whole_image and not close_up else [])
        predictions = self.predict_many(inputs) if inputs else []
        faces = [FaceVerdict(face.box.as_ints(), face.score, region.as_ints(), prediction)
                 for face, (_, region), prediction in zip(chosen, crops, predictions, strict=False)]
        seconds = {"detect": detected - started, "classify": time.perf_counter() - detected}
        return PhotoVerdict(photo.size, faces, len(found), predictions[-1] if whole_image else None, seconds)

    @torch.no_grad()
    def predict_many(self, images: list) -> list[Prediction]:
        rgb = [img.convert("RGB") if isinstance(img, Image.Image) else load_rgb(img) for img in images]
        features = self.extractor.features(torch.stack([self.transform(img) for img in rgb]))
        return self.predict_features(features)

    @torch.no_grad()
    def predict_features(self, features: torch.Tensor) -> list[Prediction]:
        out = self.head.run(features)
        probabilities = out.logits.softmax(-1)
        results = []
        for i in range(len(features)):
            best = int(probabilities[i].argmax())
            results.append(
                Prediction(
                    label=self.classes[best],
                    probability=float(probabilities[i, best]),
                    probabilities={c: float(p) for c, p in zip(self.classes, probabilities[i])},
                    logits=out.logits[i].tolist(),
                    angles=out.angles[i].tolist(),
                    expvals=out.expvals[i].tolist(),
                )
            )
        return results
