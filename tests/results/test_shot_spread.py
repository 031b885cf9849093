"""One photo's circuit rerun R times with S shots: the trained model, real test images, real simulators."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.paths import PROJECT_ROOT


@pytest.fixture(scope="module")
def test_angles(head, face_mask_410, lite0):
    """Input angles (120, 4) of the real test images, with the head's exact P(mask) for each."""
    from core.data.dataset import list_split
    from core.learning.features import extract_features

    features = extract_features([s.path for s in list_split(face_mask_410, "test")], lite0.info.name, extractor=lite0)
    with torch.no_grad():
        out = head.run(features)
    return out.angles.double().numpy(), out.logits.softmax(-1)[:, 0].double().numpy()


@pytest.fixture(scope="module")
def borderline(test_angles):
    """The test image the model is least sure about: a photo whose label shots could flip."""
    angles, p_mask = test_angles
    return angles[np.abs(p_mask - 0.5).argmin()]


def test_exact_value_is_the_models_and_the_sampled_mean_sits_on_it(head, test_angles, borderline):
    from core.results.shot_spread import shot_spread

    angles, p_mask = test_angles
    spread = shot_spread(head, borderline, 50, 1024)
    assert spread.exact == pytest.approx(p_mask[np.abs(p_mask - 0.5).argmin()], abs=1e-5)
    assert spread.exact_label == ("mask" if spread.exact >= 0.5 else "no_mask")
    assert len(spread.values) == spread.repeats == 50 and all(0.0 <= v <= 1.0 for v in spread.values)
    assert spread.mean == pytest.approx(np.mean(spread.values)) and spread.std == pytest.approx(np.std(spread.values, ddof=1))
    assert 0 < spread.std < 0.1
    assert abs(spread.mean - spread.exact) < 4 * spread.standard_error
    flips = np.mean([(v >= 0.5) != (spread.exact >= 0.5) for v in spread.values])
    assert spread.flip_rate == pytest.approx(flips)


def test_repeats_are_independent_and_spread_shrinks_with_shots(head, borderline):
    from core.results.shot_spread import shot_spread

    few = shot_spread(head, borderline, 40, 64, seed=5)
    many = shot_spread(head, borderline, 40, 4096, seed=5)
    # one batched call of identical rows: each row must still draw its own shots
    assert len(set(few.values)) > 20
    assert few.std > 4 * many.std  # ~ 1/sqrt(S): sqrt(4096 / 64) = 8
    assert shot_spread(head, borderline, 40, 64, seed=5).values == few.values  # a seed repeats exactly
    assert shot_spread(head, borderline, 40, 64, seed=6).values != few.values


def test_a_far_label_never_flips_and_a_near_one_can(head, test_angles):
    from core.results.shot_spread import shot_spread

    angles, p_mask = test_angles
    sure = shot_spread(head, angles[np.abs(p_mask - 0.5).argmax()], 30, 16)
    assert sure.flip_rate == 0.0
    shaky = shot_spread(head, angles[np.abs(p_mask - 0.5).argmin()], 100, 4)
    assert 0.0 < shaky.flip_rate < 1.0 and shaky.flips == round(shaky.flip_rate * 100)


def test_noise_on_qiskit_aer_gives_probabilities(head, borderline):
    from core.execution.noise import DEFAULT_NOISE_DEVICE
    from core.results.shot_spread import shot_spread

    noisy = shot_spread(head, borderline, 20, 512, "qiskit.aer", DEFAULT_NOISE_DEVICE)
    assert noisy.noise == DEFAULT_NOISE_DEVICE and noisy.backend == "qiskit.aer"
    assert len(noisy.values) == 20 and all(0.0 <= v <= 1.0 for v in noisy.values) and noisy.std > 0
    clean = shot_spread(head, borderline, 20, 512, "qiskit.aer")
    assert clean.exact == noisy.exact and all(0.0 <= v <= 1.0 for v in clean.values)


def test_qpu_cost_counts_one_circuit_per_run(head, borderline):
    from core.results.qpu_estimate import QPUAssumptions, estimate
    from core.results.shot_spread import shot_spread

    spread = shot_spread(head, borderline, 50, 1024)
    assert spread.qpu == estimate(50, QPUAssumptions(shots_per_circuit=1024))
    assert spread.qpu["circuits"] == 50 and spread.qpu["shots"] == 50 * 1024
    sentence = spread.cost_sentence
    assert sentence.startswith("On a cloud QPU these 50 runs of 1,024 shots would take about ")
    assert "by the project's estimate (assumptions: 60 s queue per job" in sentence and "50 jobs" in sentence


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"repeats": 0}, "repeats must be a whole number between 1 and 200, got 0"),
    ({"repeats": 201}, "repeats must be a whole number between 1 and 200"),
    ({"repeats": 2.5}, "repeats must be a whole number"),
    ({"repeats": True}, "repeats must be a whole number"),
    ({"shots": 0}, "shots must be a whole number between 1 and 100000, got 0"),
    ({"shots": 100_001}, "shots must be a whole number between 1 and 100000"),
    ({"shots": None}, "shots must be a whole number"),
    ({"backend": "nowhere"}, "unknown backend 'nowhere'"),
    ({"backend": "ibm.quantum"}, "shot_spread runs on a local simulator"),
    ({"noise": "fake_manila"}, "does not take a noise model; use qiskit.aer"),
    ({"backend": "qiskit.aer", "noise": "fake_moon"}, "unknown noise device 'fake_moon'"),
    ({"seed": -1}, "seed must be a whole number"),
    ({"angles": [0.1, 0.2, 0.3]}, r"angles must have shape \(4,\)"),
    ({"angles": [[0.1, 0.2, 0.3, 0.4]]}, r"angles must have shape \(4,\)"),
    ({"angles": [0.1, float("nan"), 0.3, 0.4]}, "angles must be finite numbers"),
    ({"angles": ["a", "b", "c", "d"]}, "angles must be 4 numbers"),
])
def test_bad_input_is_a_clear_value_error(head, kwargs, message):
    from core.results.shot_spread import shot_spread

    call = {"angles": [0.1, 0.2, 0.3, 0.4], "repeats": 3, "shots": 16, **kwargs}
    with pytest.raises(ValueError, match=message):
        shot_spread(head, **call)


def test_a_classical_head_is_refused():
    from core.learning.checkpoints import load_checkpoint
    from core.results.shot_spread import shot_spread

    linear = load_checkpoint(PROJECT_ROOT / "checkpoints" / "best-efficientnet_lite0-mlp.pt").build_head()
    with pytest.raises(ValueError, match="needs a quantum head"):
        shot_spread(linear, [0.1, 0.2, 0.3, 0.4], 3, 16)
