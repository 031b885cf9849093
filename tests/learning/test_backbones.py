"""Backbones: really pre-trained, ResNet-18's offline message and local weights file."""

from __future__ import annotations

import pytest
import torch
from PIL import Image

from core.learning.backbones import BackboneUnavailable, load_backbone


def test_offline_backbone_is_really_imagenet_pretrained(lite0):
    from skimage import data as skdata

    coffee = Image.fromarray(skdata.coffee())
    x = lite0.info.transform.build()(coffee)[None]
    logits = lite0(x)
    assert int(logits.argmax()) == 967, "scikit-image's coffee photo must be ImageNet class 967, espresso"
    assert lite0.features(x).shape == (1, 1280)
    assert not any(p.requires_grad for p in lite0.parameters())


def test_resnet18_offline_names_both_ways_out(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch-home"))
    monkeypatch.delenv("QTL_RESNET18_WEIGHTS", raising=False)
    with pytest.raises(BackboneUnavailable) as err:
        load_backbone("resnet18")
    message = str(err.value)
    assert "QTL_RESNET18_WEIGHTS" in message and "efficientnet_lite0" in message


def test_resnet18_local_weights_file(tmp_path, monkeypatch):
    """The local-file path (a randomly initialised state dict stands in: not ImageNet weights)."""
    from torchvision.models import resnet18

    path = tmp_path / "resnet18.pth"
    torch.save(resnet18(weights=None).state_dict(), path)
    monkeypatch.setenv("QTL_RESNET18_WEIGHTS", str(path))
    extractor = load_backbone("resnet18")
    assert extractor.features(torch.zeros(1, 3, 224, 224)).shape == (1, 512)
    (tmp_path / "garbage.pth").write_bytes(b"not a checkpoint")
    monkeypatch.setenv("QTL_RESNET18_WEIGHTS", str(tmp_path / "garbage.pth"))
    with pytest.raises(BackboneUnavailable, match="could not be read"):
        load_backbone("resnet18")
    monkeypatch.setenv("QTL_RESNET18_WEIGHTS", str(tmp_path / "missing.pth"))
    with pytest.raises(BackboneUnavailable, match="does not exist"):
        load_backbone("resnet18")
