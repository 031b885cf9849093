"""One image in; the class, its probabilities and the circuit's inner values out."""

from __future__ import annotations

import io
import os
from dataclasses import dataclass

import torch
from PIL import Image

from core.data.images import load_rgb
from core.execution.factory import make_executor
from core.execution.settings import ExecutionSettings
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
    expvals: list[float]  # <Z> of each qubit that came out


class Predictor:
    """A trained head on its backbone, ready for images.

    ``settings`` default to an exact (analytic) run on default.qubit so the
    same image always gets the same answer; any registered backend works.
    """

    def __init__(self, checkpoint: Checkpoint, extractor: FeatureExtractor | None = None,
                 settings: ExecutionSettings | None = None):
        self.checkpoint = checkpoint
        self.classes = list(checkpoint.meta["classes"])
        self.extractor = extractor or load_backbone(checkpoint.meta["backbone"])
        if self.extractor.info.name != checkpoint.meta["backbone"]:
            raise ValueError(f"checkpoint needs backbone {checkpoint.meta['backbone']}, got {self.extractor.info.name}")
        self.transform = self.extractor.info.transform.build()
        executor = make_executor(checkpoint.spec, settings or ExecutionSettings("default.qubit", None))
        self.head: DressedQuantumHead = checkpoint.build_head(executor)

    def predict(self, image: Image.Image | bytes | str | os.PathLike | io.IOBase) -> Prediction:
        """Predict one image (PIL image, bytes, path or file); raises ImageError for unusable input."""
        return self.predict_many([image])[0]

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
