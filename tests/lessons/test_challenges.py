"""Each challenge's check on real circuits (and the shipped trained model): a state that passes, states that fail."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from core.circuit.definition import CircuitSpec
from core.execution.single_circuit import exact_probabilities, statevector
from core.lessons.challenges import CHALLENGES, NO_MASK, challenge_by_id
from core.lessons.link_state import from_query
from core.lessons.live import LiveCircuit, circuit_weights, total_variation
from core.lessons.plateau import batched_states, gradient_variance, z0
from core.paths import PROJECT_ROOT

SHIPPED = PROJECT_ROOT / "checkpoints" / "best-efficientnet_lite0-default.qubit-analytic.pt"


@pytest.fixture(scope="module")
def head():
    """The shipped trained model's head on its exact executor, as a Predictor builds it."""
    from core.execution.factory import make_executor
    from core.execution.settings import ExecutionSettings
    from core.learning.checkpoints import load_checkpoint

    checkpoint = load_checkpoint(SHIPPED)
    return checkpoint.build_head(make_executor(checkpoint.spec, ExecutionSettings("default.qubit", None)))


def live(challenge_id: str, head=None, **changes) -> LiveCircuit:
    return LiveCircuit(replace(challenge_by_id(challenge_id).start, **changes), head)


def test_there_are_at_least_8_challenges_each_with_a_working_lesson_link():
    assert len(CHALLENGES) >= 8 and len({c.id for c in CHALLENGES}) == len(CHALLENGES)
    for challenge in CHALLENGES:
        assert challenge.goal and challenge.hint and challenge.teaches and challenge.title
        state, warnings = from_query(challenge.lesson_query())
        assert warnings == [] and state == replace(challenge.start, challenge=challenge.id)
    with pytest.raises(ValueError, match="unknown challenge 'nope'; challenges: balance-qubit"):
        challenge_by_id("nope")


def test_no_challenge_is_solved_by_its_own_lesson_link(head):
    for challenge in CHALLENGES:
        verdict = challenge.check(LiveCircuit(challenge.start, head))
        assert not verdict.passed, (challenge.id, verdict.detail)


# each challenge: settings that solve it (reachable with the explorer's sliders, 0.01 steps) and what the detail then says
SOLUTIONS = [
    ("balance-qubit", {"angles": (-0.55, 0.0)}, "qubit 0's exact ⟨Z⟩ = -0.012"),
    ("all-zeros", {"angles": (-1.57, -1.57, -1.57)}, "P(|000⟩) = 1.000 on 3 qubits"),
    ("bell-pair", {"angles": (0.0, 1.57)}, "each alone Tr ρ² = 0.500, 0.500; together 1.000"),
    ("entangle-halves", {"angles": (1.57, 0.0, 1.57, 1.57)}, "1.000 bits of entanglement between qubits 0–1"),
    ("no-mask", {"angles": (-1.57, 1.57, -1.57, -1.57)}, "the model says no_mask with 87.1%"),
    ("barren-plateau", {"n_qubits": 8, "depth": 6, "angles": ()}, "depth 5: 0.138, depth 6: 0.071"),
    ("fewest-shots", {"shots": 2048}, "distance 0.025 with 2,048 shots (goal: < 0.05); with 1,024 shots it is 0.054"),
    ("noise-keeps-verdict", {"noise": True}, "verdict exact mask (55.9%), with noise mask (56.6%)"),
    ("noise-flips-verdict", {"angles": (-0.5, -0.2, -1.4, -0.4)}, "verdict exact no_mask (52.2%), with noise mask"),
]


def test_every_challenge_has_a_solution_here():
    assert {s[0] for s in SOLUTIONS} == {c.id for c in CHALLENGES}


@pytest.mark.parametrize(("challenge_id", "changes", "detail"), SOLUTIONS, ids=[s[0] for s in SOLUTIONS])
def test_a_solution_passes_and_says_what_it_measured(head, challenge_id, changes, detail):
    challenge = challenge_by_id(challenge_id)
    verdict = challenge.check(live(challenge_id, head if challenge.needs_model else None, **changes))
    assert verdict.passed and detail in verdict.detail, verdict.detail


@pytest.mark.parametrize(("challenge_id", "changes", "detail"), [
    ("balance-qubit", {"angles": (-0.5, 0.0)}, "⟨Z⟩ = +0.038 (goal: 0 ± 0.02)"),
    ("balance-qubit", {"angles": (-0.6, 0.0)}, "⟨Z⟩ = -0.062 (goal: 0 ± 0.02)"),
    ("all-zeros", {"n_qubits": 2, "angles": (-1.57, -1.57)}, "P(|00⟩) = 1.000 on 2 qubits (goal: ≥ 0.99 on at least 3"),
    ("bell-pair", {"angles": (0.0, 1.0)}, "together 1.000"),
    ("bell-pair", {"n_qubits": 1, "angles": ()}, "a pair needs at least 2 qubits"),
    ("entangle-halves", {"angles": (1.57, 0.5, 1.57, 1.57)}, "0.827 bits of entanglement between qubits 0–1 and the rest"),
    ("entangle-halves", {"n_qubits": 3, "angles": ()}, "3 qubits: this one needs at least 4"),
    ("barren-plateau", {"n_qubits": 8, "depth": 5, "angles": ()}, "depth 5: 0.138"),
    ("barren-plateau", {"n_qubits": 8, "depth": 7, "angles": ()}, "it is already below at a smaller depth"),
    ("barren-plateau", {"n_qubits": 4, "depth": 10, "angles": ()}, "depth 9: 0.108, depth 10: 0.123"),
    ("barren-plateau", {"n_qubits": 3, "angles": ()}, "3 qubits: measure it on 4 to 8 qubits"),
    ("fewest-shots", {"shots": 4096}, "with 2,048 shots it is 0.025: fewer shots are enough"),
    ("fewest-shots", {"measure": "exact"}, "measure with shots, without noise, on at least 3 qubits"),
])
def test_a_near_miss_fails_and_says_why(challenge_id, changes, detail):
    verdict = challenge_by_id(challenge_id).check(live(challenge_id, **changes))
    assert not verdict.passed and detail in verdict.detail, verdict.detail


def test_the_model_challenges_need_the_models_weights(head):
    no_mask = challenge_by_id("no-mask")
    assert "no model is selected" in no_mask.check(live("no-mask")).detail
    wrong_shape = no_mask.check(live("no-mask", head, depth=5, angles=()))
    assert not wrong_shape.passed and "choose 4 qubits, depth 6 and the selected model's weights" in wrong_shape.detail
    almost = no_mask.check(live("no-mask", head, angles=(-1.57, 1.57, 0.0, -1.57)))
    assert not almost.passed and f"(goal: ≥ {NO_MASK:.0%})" in almost.detail
    off = challenge_by_id("noise-keeps-verdict").check(live("noise-keeps-verdict", head))
    assert not off.passed and "switch the NISQ noise on" in off.detail


def test_the_live_circuit_is_the_explorers():
    state = challenge_by_id("fewest-shots").start
    circuit = LiveCircuit(state)
    spec = CircuitSpec(state.n_qubits, state.depth)
    np.testing.assert_array_equal(circuit.weights, np.random.default_rng(state.seed).uniform(-np.pi, np.pi, spec.weight_shape))
    np.testing.assert_allclose(circuit.probabilities, exact_probabilities(spec, circuit.angles, circuit.weights), atol=1e-12)
    counts = circuit.measured_counts()
    assert sum(counts.values()) == state.shots == 64
    assert total_variation({"0" * 5: 1}, circuit.probabilities) == pytest.approx(1 - circuit.probabilities[0] / 1, abs=1e-12)


def test_the_models_weights_are_used_only_when_they_fit(head):
    state = challenge_by_id("no-mask").start
    np.testing.assert_array_equal(circuit_weights(state, head), head.q_params.detach().double().numpy())
    assert circuit_weights(replace(state, depth=5, angles=()), head).shape == (5, 4)
    assert not LiveCircuit(replace(state, weights="random"), head).uses_model


def test_the_batched_simulation_matches_pennylane():
    rng = np.random.default_rng(7)
    for n, depth in [(1, 0), (2, 1), (3, 2), (5, 3), (8, 2)]:
        spec = CircuitSpec(n, depth)
        values = rng.uniform(-np.pi, np.pi, (3, spec.n_params))
        states = batched_states(spec, values)
        for row, state in zip(values, states):
            np.testing.assert_allclose(state, statevector(spec, row[:n], row[n:].reshape(depth, n)).real, atol=1e-10)


def test_the_gradient_is_the_slope_of_z0():
    """The parameter-shift gradient agrees with a finite difference of ⟨Z₀⟩ on the first layer's weight."""
    spec, rng = CircuitSpec(4, 3), np.random.default_rng(3)
    values = rng.uniform(-np.pi, np.pi, spec.n_params)
    step = 1e-6
    bumped = np.stack([values, values, values, values])
    bumped[0, 4] += np.pi / 2
    bumped[1, 4] -= np.pi / 2
    bumped[2, 4] += step
    bumped[3, 4] -= step
    z = z0(batched_states(spec, bumped))
    assert (z[0] - z[1]) / 2 == pytest.approx((z[2] - z[3]) / (2 * step), abs=1e-6)
    assert gradient_variance(4, 1, np.zeros(4)) > 10 * gradient_variance(8, 8, np.zeros(8))
    with pytest.raises(ValueError, match="depth must be at least 1"):
        gradient_variance(4, 0, np.zeros(4))
    with pytest.raises(ValueError, match="angles must have shape"):
        gradient_variance(4, 2, np.zeros(3))
