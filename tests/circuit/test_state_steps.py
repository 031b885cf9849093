"""The circuit's state step by step (numpy) against PennyLane and against states worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from core.circuit.definition import CircuitSpec, symbolic_ops
from core.circuit.state_steps import (
    bloch_vectors,
    circuit_steps,
    entanglement_entropy,
    phases,
    reduced_density_matrix,
    states_after_steps,
    step_views,
)
from core.execution.single_circuit import statevector

PAULI = {"X": np.array([[0, 1], [1, 0]]), "Y": np.array([[0, -1j], [1j, 0]]), "Z": np.diag([1, -1])}


def random_parameters(spec: CircuitSpec, seed: int):
    rng = np.random.default_rng(seed)
    return rng.uniform(-np.pi, np.pi, spec.n_qubits), rng.uniform(-np.pi, np.pi, spec.weight_shape)


def expectation(state: np.ndarray, pauli: str, qubit: int, n: int) -> float:
    """⟨ψ|P_qubit|ψ⟩ with the full 2**n operator (wire 0 the leftmost factor): an independent check."""
    factors = [PAULI[pauli] if q == qubit else np.eye(2) for q in range(n)]
    operator = factors[0]
    for factor in factors[1:]:
        operator = np.kron(operator, factor)
    return float(np.real(np.vdot(state, operator @ state)))


@pytest.mark.parametrize("n_qubits, depth", [(1, 0), (1, 3), (3, 2), (4, 1), (4, 3), (5, 2), (2, 0)])
def test_final_state_is_pennylanes(n_qubits, depth):
    spec = CircuitSpec(n_qubits, depth)
    angles, weights = random_parameters(spec, seed=10 * n_qubits + depth)
    states = states_after_steps(spec, angles, weights)
    assert len(states) == 3 + depth
    np.testing.assert_allclose(states[-1], statevector(spec, angles, weights), atol=1e-10)
    for state in states:
        assert state.shape == (2**n_qubits,)
        assert np.sum(np.abs(state) ** 2) == pytest.approx(1.0, abs=1e-12)


def test_steps_cover_the_circuit_in_order():
    spec = CircuitSpec(4, 2)
    steps = circuit_steps(spec)
    assert [s.label for s in steps] == ["Start |0000⟩", "After the Hadamards", "After the embedding RY(θ)",
                                        "After layer 1 (CNOTs + RY)", "After layer 2 (CNOTs + RY)"]
    assert [s.end for s in steps] == [0, 4, 8, 15, 22]
    assert steps[-1].end == len(symbolic_ops(spec))
    assert "(0,1), (2,3), (1,2)" in steps[3].description
    assert all(s.description.endswith(".") for s in steps)
    assert [s.label for s in circuit_steps(CircuitSpec(1, 1))][-1] == "After layer 1 (RY)"  # one qubit: no CNOT


def test_start_and_hadamards():
    spec = CircuitSpec(3, 1)
    views = step_views(spec, np.zeros(3), np.zeros((1, 3)))
    start, hadamards = views[0], views[1]
    assert start.probabilities[0] == 1.0 and start.entropy == 0.0
    np.testing.assert_allclose(start.bloch, [[0, 0, 1]] * 3, atol=1e-12)  # |0⟩ is the north pole
    np.testing.assert_allclose(hadamards.probabilities, np.full(8, 1 / 8), atol=1e-12)
    np.testing.assert_allclose(hadamards.bloch, [[1, 0, 0]] * 3, atol=1e-12)  # |+⟩ on the x axis


def test_embedding_makes_a_product_state_of_known_bloch_vectors():
    # By hand: H|0⟩ = (1, 1)/√2 and RY(θ) = [[c, -s], [s, c]] (c, s = cos θ/2, sin θ/2) give (c - s, c + s)/√2,
    # so x = 2 Re(a* b) = c² - s² = cos θ, y = 0, z = |a|² - |b|² = -2cs = -sin θ.
    spec = CircuitSpec(4, 2)
    angles = np.array([0.3, -1.2, 2.5, np.pi / 2])
    views = step_views(spec, angles, np.zeros((2, 4)))
    embedded = views[2]
    np.testing.assert_allclose(embedded.bloch, np.stack([np.cos(angles), np.zeros(4), -np.sin(angles)], axis=1), atol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(embedded.bloch, axis=1), 1.0, atol=1e-12)
    np.testing.assert_allclose(embedded.purities, 1.0, atol=1e-12)
    assert embedded.entropy == pytest.approx(0.0, abs=1e-9)
    # the product state's probabilities factor into the one-qubit ones: P(0000) = Π (1 + z)/2
    assert embedded.probabilities[0] == pytest.approx(np.prod((1 - np.sin(angles)) / 2), abs=1e-12)


def test_cnot_leaves_plus_plus_alone():
    # θ = 0 on both: H⊗H|00⟩ = |++⟩, which a CNOT does not change
    view = step_views(CircuitSpec(2, 1), np.zeros(2), np.zeros((1, 2)))[-1]
    np.testing.assert_allclose(view.bloch, [[1, 0, 0], [1, 0, 0]], atol=1e-12)
    np.testing.assert_allclose(view.probabilities, np.full(4, 0.25), atol=1e-12)
    assert view.entropy == pytest.approx(0.0, abs=1e-9)


def test_cnot_on_plus_zero_makes_a_bell_state():
    # θ0 = 0 leaves qubit 0 in |+⟩; θ1 = -π/2 turns |+⟩ into |0⟩ (c + s = 0); CNOT then gives (|00⟩ + |11⟩)/√2
    views = step_views(CircuitSpec(2, 1), [0.0, -np.pi / 2], np.zeros((1, 2)))
    np.testing.assert_allclose(views[2].bloch, [[1, 0, 0], [0, 0, 1]], atol=1e-12)
    bell = views[-1]
    np.testing.assert_allclose(bell.state, [2**-0.5, 0, 0, 2**-0.5], atol=1e-12)
    np.testing.assert_allclose(bell.bloch, np.zeros((2, 3)), atol=1e-12)
    np.testing.assert_allclose(bell.purities, [0.5, 0.5], atol=1e-12)
    assert bell.entropy == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(reduced_density_matrix(bell.state, 1), np.eye(2) / 2, atol=1e-12)


def test_bloch_vectors_match_pauli_expectations_of_a_random_state():
    spec = CircuitSpec(3, 2)
    angles, weights = random_parameters(spec, seed=7)
    for view in step_views(spec, angles, weights):
        for q in range(3):
            expected = [expectation(view.state, p, q, 3) for p in "XYZ"]
            np.testing.assert_allclose(view.bloch[q], expected, atol=1e-12)
            rho = reduced_density_matrix(view.state, q)
            assert view.purities[q] == pytest.approx(np.trace(rho @ rho).real, abs=1e-12)
        np.testing.assert_allclose(view.expvals, view.bloch[:, 2])
        assert view.probabilities.sum() == pytest.approx(1.0, abs=1e-12)


def test_entropy_of_a_known_split_and_a_complex_state():
    ghz = np.zeros(8)
    ghz[[0, 7]] = 2**-0.5
    assert entanglement_entropy(ghz, [0]) == pytest.approx(1.0)
    assert entanglement_entropy(ghz, [0, 2]) == pytest.approx(1.0)
    assert entanglement_entropy(ghz, []) == 0.0 and entanglement_entropy(ghz, [0, 1, 2]) == 0.0
    # (|0⟩ + i|1⟩)/√2 ⊗ |0⟩: on the y axis, a phase of π/2 on |10⟩
    state = np.array([1, 0, 1j, 0]) / np.sqrt(2)
    np.testing.assert_allclose(bloch_vectors(state), [[0, 1, 0], [0, 0, 1]], atol=1e-12)
    np.testing.assert_allclose(phases(state), [0, 0, np.pi / 2, 0])


def test_the_real_circuit_has_real_amplitudes():
    # H, RY and CNOT are real: phases are 0 or π and no qubit leaves the x-z plane
    spec = CircuitSpec(4, 3)
    for view in step_views(spec, *random_parameters(spec, seed=3)):
        assert np.allclose(view.state.imag, 0) and np.allclose(view.bloch[:, 1], 0)
        assert set(np.round(np.abs(view.phases), 12)) <= {0.0, round(np.pi, 12)}


@pytest.mark.parametrize("angles, weights, message", [
    (np.zeros(3), np.zeros((2, 4)), r"angles must have shape \(4,\) for 4 qubits and depth 2, got \(3,\)"),
    (np.zeros(4), np.zeros((4, 2)), r"weights must have shape \(2, 4\)"),
    (np.zeros((2, 4)), np.zeros((2, 4)), r"angles must have shape \(4,\)"),
    ([0, np.nan, 0, 0], np.zeros((2, 4)), "angles must be finite numbers"),
    (np.zeros(4), np.full((2, 4), np.inf), "weights must be finite numbers"),
    (["a", 0, 0, 0], np.zeros((2, 4)), "angles must be numbers"),
])
def test_bad_input_is_refused(angles, weights, message):
    with pytest.raises(ValueError, match=message):
        step_views(CircuitSpec(4, 2), angles, weights)
    with pytest.raises(ValueError, match=message):
        states_after_steps(CircuitSpec(4, 2), angles, weights)


def test_bad_states_are_refused():
    with pytest.raises(ValueError, match="spec must be a CircuitSpec"):
        step_views((4, 2), np.zeros(4), np.zeros((2, 4)))
    with pytest.raises(ValueError, match=r"2\*\*n amplitudes"):
        bloch_vectors(np.ones(3))
    with pytest.raises(ValueError, match="qubit must be between 0 and 1"):
        reduced_density_matrix(np.array([1, 0, 0, 0]), 2)
    with pytest.raises(ValueError, match="subsystem qubits must be between 0 and 1"):
        entanglement_entropy(np.array([1, 0, 0, 0]), [5])
