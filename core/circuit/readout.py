"""From measurements to what the model reads: ⟨Z⟩ of each qubit from probabilities or counts."""

from __future__ import annotations

import numpy as np


def z_signs(n_qubits: int, big_endian: bool = True) -> np.ndarray:
    """(2**n, n) matrix of Z eigenvalues ±1 for each basis-state index and qubit.

    ``big_endian``: qubit 0 is the most significant bit (PennyLane, Cirq, this project's bitstrings);
    Qiskit's own order is the reverse.
    """
    index = np.arange(2**n_qubits)[:, None]
    qubit = np.arange(n_qubits)[None, :]
    shift = (n_qubits - 1 - qubit) if big_endian else qubit
    return 1.0 - 2.0 * ((index >> shift) & 1)


def expvals_from_probabilities(probs: np.ndarray, n_qubits: int) -> np.ndarray:
    """⟨Z⟩ per qubit from bitstring probabilities (..., 2**n), qubit 0 the leftmost bit."""
    return np.asarray(probs) @ z_signs(n_qubits)


def expvals_from_counts(counts: dict[str, int], n_qubits: int) -> tuple[np.ndarray, np.ndarray]:
    """⟨Z⟩ per qubit and its standard error, from bitstring counts (qubit 0 the leftmost bit)."""
    total = sum(counts.values())
    z = np.zeros(n_qubits)
    for bits, n in counts.items():
        z += n * np.array([1.0 - 2.0 * int(b) for b in bits])
    mean = z / total
    return mean, np.sqrt(np.clip(1.0 - mean**2, 0.0, None) / total)


def sample_expvals(probs: np.ndarray, shots: int | None, signs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """⟨Z⟩ per qubit from final-state probabilities (M, 2**n): exact, or from ``shots`` draws per row.

    A multinomial draw of ``shots`` outcomes is the same distribution as
    ``shots`` independent terminal measurements of that state.
    """
    probs = probs / probs.sum(axis=1, keepdims=True)
    if shots is None:
        return probs @ signs
    counts = np.stack([rng.multinomial(shots, p) for p in probs])
    return counts @ signs / shots

