"""A loaded backbone: the frozen ImageNet network as the feature extractor the head and Grad-CAM read.

:func:`core.learning.backbones.load_backbone` builds one. The network runs with
its batch norms folded into the convolutions and in channels-last layout: the
published network's function to float rounding (features within 1e-5), with
fewer passes over memory (docs/benchmarks.md, *Start-up*).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn


class FeatureExtractor(nn.Module):
    """A frozen ImageNet network: ``features(x)`` for the head, ``forward`` for ImageNet logits.

    ``features`` is ``pool(feature_maps(x))`` split in two for Grad-CAM: ``feature_maps`` gives the last
    convolutional block's activations, ``pool`` turns them into the features and lets gradients reach them.
    Inputs move to the network's device; outputs stay there.
    """

    def __init__(self, info, network: nn.Module, features: Callable, classifier: nn.Module, *,
                 maps: Callable, pool: Callable):
        super().__init__()
        self.info = info  # core.learning.backbones.BackboneInfo
        self.network = network
        self._features = features
        self._maps, self._pool = maps, pool
        self.classifier = classifier
        self.eval()
        fold_batch_norms(network)
        network.to(memory_format=torch.channels_last)
        self.requires_grad_(False)

    @property
    def device(self) -> torch.device:
        return next(self.network.parameters()).device

    def _input(self, images: torch.Tensor) -> torch.Tensor:
        images = images.to(self.device)
        return images.contiguous(memory_format=torch.channels_last) if images.dim() == 4 else images

    @torch.no_grad()
    def features(self, images: torch.Tensor) -> torch.Tensor:
        return self._features(self._input(images))

    @torch.no_grad()
    def feature_maps(self, images: torch.Tensor) -> torch.Tensor:
        """The last convolutional block's activations, (B, C, h, w): 512×7×7 (resnet18), 1280×7×7 (lite0)."""
        return self._maps(self._input(images))

    def pool(self, maps: torch.Tensor) -> torch.Tensor:
        """``feature_maps`` to ``features`` (global average pooling), differentiable in ``maps``; weights stay frozen."""
        return self._pool(maps)

    @torch.no_grad()
    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(images))


# (convolution, batch norm) pairs that run back to back in a block's forward, by the block's class name
_CONV_BN = {
    "EfficientNet": (("conv_stem", "bn1"), ("conv_head", "bn2")),  # timm
    "DepthwiseSeparableConv": (("conv_dw", "bn1"), ("conv_pw", "bn2")),
    "InvertedResidual": (("conv_pw", "bn1"), ("conv_dw", "bn2"), ("conv_pwl", "bn3")),
    "ResNet": (("conv1", "bn1"),),  # torchvision
    "BasicBlock": (("conv1", "bn1"), ("conv2", "bn2")),
}


def fold_batch_norms(network: nn.Module) -> nn.Module:
    """Fold each eval-mode batch norm into the convolution before it, in place; returns ``network``.

    The same function (to float rounding) with one pass over the activations
    less per convolution. timm's batch norms carry their activation, which
    stays; a ``Sequential(conv, batch norm)`` (ResNet's shortcut) is folded too.
    """
    from torch.nn.utils.fusion import fuse_conv_bn_eval

    for block in list(network.modules()):
        pairs = _CONV_BN.get(type(block).__name__, ())
        if isinstance(block, nn.Sequential) and len(block) == 2 and isinstance(block[0], nn.Conv2d) \
                and isinstance(block[1], nn.BatchNorm2d) and not hasattr(block[1], "act"):
            pairs = (("0", "1"),)
        for conv_name, norm_name in pairs:
            conv, norm = getattr(block, conv_name), getattr(block, norm_name)
            if isinstance(conv, nn.Conv2d) and isinstance(norm, nn.BatchNorm2d):  # not folded yet
                setattr(block, conv_name, fuse_conv_bn_eval(conv, norm))
                setattr(block, norm_name, nn.Sequential(norm.drop, norm.act) if hasattr(norm, "act") else nn.Identity())
    return network
