"""Why this verdict: Grad-CAM through the hybrid model, parameter-shift attribution, what-if (trained model, real photos)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from core.circuit.definition import CircuitSpec
from core.execution.single_circuit import exact_probabilities
from core.learning.checkpoints import load_checkpoint
from core.learning.explain import angle_attribution, overlay, probability_of_mask, saliency_map, what_if
from core.learning.heads import ClassicalHead
from core.learning.predict import Predictor
from core.paths import PROJECT_ROOT

CHECKPOINT = PROJECT_ROOT / "checkpoints" / "best-efficientnet_lite0-default.qubit-analytic.pt"


@pytest.fixture(scope="module")
def predictor(lite0) -> Predictor:
    return Predictor(load_checkpoint(CHECKPOINT), extractor=lite0)


@pytest.fixture(scope="module")
def photos(face_mask_410) -> dict[str, list[Image.Image]]:
    """Three real test photos of each class."""
    return {c: [Image.open(p).convert("RGB") for p in sorted((face_mask_410 / "test" / c).glob("*.jpg"))[:3]]
            for c in ("mask", "no_mask")}


def expvals_from_probabilities(spec: CircuitSpec, angles: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """⟨Z_q⟩ from an independent exact run's bitstring probabilities (wire 0 is the leftmost bit)."""
    probs = exact_probabilities(spec, angles, weights)
    n = spec.n_qubits
    bits = (np.arange(2**n)[:, None] >> (n - 1 - np.arange(n))) & 1
    return probs @ (1 - 2 * bits)


def test_feature_maps_then_pool_are_the_features(lite0, photos):
    x = lite0.info.transform.build()(photos["mask"][0])[None]
    maps = lite0.feature_maps(x)
    assert maps.shape == (1, 1280, 7, 7)
    torch.testing.assert_close(lite0.pool(maps), lite0.features(x), rtol=0, atol=1e-6)
    moved = maps.clone().requires_grad_(True)
    lite0.pool(moved).sum().backward()
    assert moved.grad is not None and float(moved.grad.abs().sum()) > 0
    assert not any(p.requires_grad for p in lite0.parameters())


def test_resnet18_feature_maps_then_pool_are_the_features(tmp_path, monkeypatch):
    """The split on resnet18 (a randomly initialised state dict stands in for the ImageNet weights)."""
    from torchvision.models import resnet18

    from core.learning.backbones import load_backbone

    torch.manual_seed(0)
    path = tmp_path / "resnet18.pth"
    torch.save(resnet18(weights=None).state_dict(), path)
    monkeypatch.setenv("QTL_RESNET18_WEIGHTS", str(path))
    extractor = load_backbone("resnet18")
    x = torch.randn(2, 3, 224, 224)
    maps = extractor.feature_maps(x)
    assert maps.shape == (2, 512, 7, 7)
    torch.testing.assert_close(extractor.pool(maps), extractor.features(x), rtol=0, atol=1e-5)


def test_parameter_shift_equals_autograd_on_the_trained_model(predictor, photos):
    head = predictor.head
    weights = head.q_params.detach().double().numpy()
    for image in photos["mask"][:2] + photos["no_mask"][:2]:
        prediction = predictor.predict(image)
        attribution = angle_attribution(head, prediction.angles)
        assert attribution.max_difference < 1e-6
        assert np.max(np.abs(attribution.shift_gradient)) > 1e-4, "a zero gradient would make the comparison empty"
        assert attribution.probability == pytest.approx(prediction.probabilities["mask"], abs=1e-6)
        np.testing.assert_allclose(attribution.expvals, prediction.expvals, atol=1e-6)
        # the shifted circuits, checked against an independent exact run
        theta = np.asarray(prediction.angles)
        for i in (0, 3):
            shifted = theta.copy()
            shifted[i] += np.pi / 2
            np.testing.assert_allclose(attribution.plus[i], expvals_from_probabilities(head.spec, shifted, weights), atol=1e-9)
            shifted[i] -= np.pi
            np.testing.assert_allclose(attribution.minus[i], expvals_from_probabilities(head.spec, shifted, weights), atol=1e-9)
        np.testing.assert_allclose(attribution.d_expvals, (attribution.plus - attribution.minus) / 2)
        np.testing.assert_allclose(attribution.shift_gradient, attribution.d_expvals @ attribution.d_probability_d_expvals)
        assert attribution.circuits == 9


def test_saliency_map_has_the_photo_shape_and_points_somewhere(predictor, photos):
    mask, no_mask = photos["mask"][0], photos["no_mask"][0]
    before = predictor.head.executor.count.circuits
    saliency = saliency_map(predictor, mask)
    assert predictor.head.executor.count.circuits - before == saliency.steps, "the circuit ran once per path point"
    prediction = predictor.predict(mask)
    assert saliency.heat.shape == (mask.height, mask.width)
    assert saliency.heat.min() >= 0.0 and saliency.heat.max() == pytest.approx(1.0, abs=1e-6)
    assert saliency.heat.std() > 0.05
    left, top, right, bottom = saliency.seen
    assert 0 <= left < right <= mask.width and 0 <= top < bottom <= mask.height
    assert saliency.heat[:top].max(initial=0.0) == 0.0 and saliency.heat[:, right:].max(initial=0.0) == 0.0
    assert (saliency.label, saliency.class_index) == (prediction.label, 0)
    assert saliency.probability == pytest.approx(prediction.probability, abs=1e-5)
    np.testing.assert_allclose(saliency.angles, prediction.angles, atol=1e-5)
    other = saliency_map(predictor, no_mask)
    assert other.label == "no_mask" and other.heat.shape == (no_mask.height, no_mask.width)
    assert np.max(np.abs(saliency.cam / saliency.cam.max() - other.cam / other.cam.max())) > 0.2
    against = saliency_map(predictor, mask, class_index=1)
    assert against.label == "no_mask" and not np.allclose(against.cam, saliency.cam)
    plain = saliency_map(predictor, mask, steps=1)
    assert plain.steps == 1 and plain.heat.shape == saliency.heat.shape


def test_overlay_blends_a_colour_map_over_the_photo(predictor, photos):
    photo = photos["mask"][1]
    saliency = saliency_map(predictor, photo)
    blended = overlay(photo, saliency.heat)
    assert blended.size == photo.size and blended.mode == "RGB"
    added = np.asarray(blended, dtype=float) - 0.55 * np.asarray(photo, dtype=float)  # the colour map's share
    hot = np.unravel_index(np.argmax(saliency.heat), saliency.heat.shape)
    assert added[hot][0] > added[hot][2] + 20, "the hottest pixel is tinted red"
    assert added[0, 0][2] > added[0, 0][0] + 20, "a pixel the network never saw is tinted blue"
    np.testing.assert_array_equal(np.asarray(overlay(photo, saliency.heat, alpha=0.0)), np.asarray(photo))


def test_what_if_at_the_photos_own_angle_is_the_verdict(predictor, photos):
    head = predictor.head
    for image in (photos["mask"][2], photos["no_mask"][1]):
        prediction = predictor.predict(image)
        theta = np.asarray(prediction.angles)
        p_mask = prediction.probabilities["mask"]
        assert probability_of_mask(head, theta) == pytest.approx(p_mask, abs=1e-9)
        for qubit in range(4):
            sweep = what_if(head, theta, qubit, np.array([theta[qubit], -np.pi / 2, 0.0, np.pi / 2]))
            assert sweep.shape == (4,)
            assert sweep[0] == pytest.approx(p_mask, abs=1e-9)
            assert np.ptp(sweep) > 1e-3, f"P(mask) must move as angle {qubit} moves"
        # a small step each way agrees with the parameter-shift gradient
        gradient = angle_attribution(head, theta).shift_gradient
        step = 0.05
        for qubit in range(4):
            ahead, behind = what_if(head, theta, qubit, [theta[qubit] + step, theta[qubit] - step])
            assert (ahead - behind) / (2 * step) == pytest.approx(gradient[qubit], abs=2e-4)


def test_bad_input_is_refused_with_a_clear_message(predictor, photos):
    head = predictor.head
    good = [0.1, -0.2, 0.3, -0.4]
    with pytest.raises(ValueError, match="angles must be a vector of 4 numbers"):
        angle_attribution(head, [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="angles must be a vector of 4 numbers"):
        probability_of_mask(head, np.zeros((1, 4)))
    with pytest.raises(ValueError, match="angles must be finite"):
        what_if(head, [0.1, float("nan"), 0.3, 0.4], 0, [0.0])
    for qubit in (4, -1, 1.5, True):
        with pytest.raises(ValueError, match="qubit must be a whole number from 0 to 3"):
            what_if(head, good, qubit, [0.0, 1.0])
    with pytest.raises(ValueError, match="values must be a non-empty 1-D array"):
        what_if(head, good, 0, [])
    with pytest.raises(ValueError, match="needs a quantum head"):
        angle_attribution(ClassicalHead("mlp", 1280, head.spec), good)
    with pytest.raises(ValueError, match="needs a PIL image"):
        saliency_map(predictor, np.zeros((8, 8, 3)))
    with pytest.raises(ValueError, match="class_index must be a whole number from 0 to 1"):
        saliency_map(predictor, photos["mask"][0], class_index=2)
    with pytest.raises(ValueError, match="steps must be a whole number"):
        saliency_map(predictor, photos["mask"][0], steps=0)
    with pytest.raises(ValueError, match="heat map is 3×2"):
        overlay(photos["mask"][0], np.zeros((2, 3)))
