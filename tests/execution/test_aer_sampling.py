"""Noiseless qiskit.aer: Aer computes each row's state (batched two ways), and numpy's shots follow Aer's own sampling."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import chi2_contingency, chisquare

from core.circuit.definition import CircuitSpec
from core.execution.aer_sampler import SMALL_BATCH, AerBatchSampler, AerShotSampler
from core.execution.shift_rule import draw_counts
from core.execution.single_circuit import exact_probabilities


def _aer_run(sampler: AerBatchSampler, rows: np.ndarray) -> np.ndarray:
    """Aer's public path, one Result per row."""
    from qiskit_aer import AerSimulator

    by_name = {p.name: p for p in sampler.circuit.parameters}
    binds = [{by_name[f"theta[{j}]"]: rows[:, j] for j in range(rows.shape[1])}]
    result = AerSimulator(method="statevector").run(sampler.circuit, parameter_binds=binds, shots=1).result()
    return np.stack([np.asarray(result.data(i)["probabilities"]) for i in range(len(rows))])


@pytest.mark.parametrize("spec", [CircuitSpec(4, 6), CircuitSpec(3, 2), CircuitSpec(1, 0), CircuitSpec(6, 1)], ids=str)
@pytest.mark.parametrize("batch", [1, SMALL_BATCH, SMALL_BATCH + 1, 228])
def test_batched_rows_are_aers_own_states(spec, batch):
    """Bound rows and rows as branches of one state give what Aer gives circuit by circuit, and the exact values."""
    rows = np.random.default_rng(batch).uniform(-np.pi, np.pi, (batch, spec.n_params))
    if batch > 2:
        rows[2] = rows[1]  # identical rows, as a batch's parameter-shift rows share most angles
        rows[:, -1] = 0.25  # one angle the same in every row
    sampler = AerBatchSampler(spec, 1024, 0)
    got = sampler.probabilities(rows)
    assert got.shape == (batch, 2**spec.n_qubits)
    assert np.abs(got - _aer_run(sampler, rows)).max() < 1e-12
    n = spec.n_qubits
    for i in (0, batch - 1):
        exact = exact_probabilities(spec, rows[i, :n], rows[i, n:].reshape(spec.weight_shape))  # wire 0 leftmost
        reordered = exact.reshape((2,) * n).transpose(*reversed(range(n))).reshape(-1)  # Qiskit: qubit 0 rightmost
        assert np.abs(got[i] - reordered).max() < 1e-10


def test_numpy_shots_agree_with_aers_own_sampling():
    """Shots drawn from Aer's final-state probabilities are distributed as Aer's own measured shots."""
    spec, shots = CircuitSpec(), 20_000
    rows = np.random.default_rng(4).uniform(-np.pi, np.pi, (2, spec.n_params))
    sampler = AerBatchSampler(spec, shots, 1)
    probs = sampler.probabilities(rows)
    ours = draw_counts(probs, shots, np.random.default_rng(2))
    measured = AerShotSampler(spec, shots, 3)
    theirs = measured.counts(rows)
    for i in range(len(rows)):
        assert chisquare(theirs[i], probs[i] * shots).pvalue > 1e-3
        seen = (ours[i] + theirs[i]) > 0
        assert chi2_contingency(np.stack([ours[i][seen], theirs[i][seen]])).pvalue > 1e-3
    z_ours, z_theirs = ours @ sampler.signs / shots, theirs @ measured.signs / shots
    stderr = np.sqrt((2 - z_ours**2 - z_theirs**2) / shots)
    assert (np.abs(z_ours - z_theirs) <= 4.5 * stderr).all()
    expvals = sampler.run(rows)
    assert (np.abs(expvals - probs @ sampler.signs) <= 4.5 * np.sqrt(1 / shots)).all()
    assert not np.allclose(expvals, probs @ sampler.signs), "with shots, ⟨Z⟩ carries shot noise"


def test_a_pages_histogram_on_aer_is_aers_measurement_of_that_circuit():
    """single_circuit.sample_counts on qiskit.aer: wire 0 leftmost, seeded, distributed as the exact probabilities,
    and the transpiled circuit is kept per shape (a new angle reuses it)."""
    from core.execution import aer_sampler
    from core.execution.settings import ExecutionSettings
    from core.execution.single_circuit import sample_counts

    half = np.pi / 2  # after the Hadamard layer, RY(+π/2) makes |1⟩ and RY(-π/2) makes |0⟩
    basis = sample_counts(CircuitSpec(4, 0), [half, -half, -half, half], np.zeros((0, 4)), ExecutionSettings("qiskit.aer", 50, 0))
    assert basis == {"1001": 50}

    spec, shots = CircuitSpec(3, 2), 20_000
    angles, weights = np.array([0.3, -1.1, 0.7]), np.random.default_rng(5).uniform(-np.pi, np.pi, spec.weight_shape)
    settings = ExecutionSettings("qiskit.aer", shots, 7)
    aer_sampler._measured_circuit.cache_clear()
    counts = sample_counts(spec, angles, weights, settings)
    assert counts == sample_counts(spec, angles, weights, settings), "the same seed, the same counts"
    assert counts != sample_counts(spec, angles, weights, ExecutionSettings("qiskit.aer", shots, 8))
    sample_counts(spec, angles + 0.1, weights, settings)
    assert aer_sampler._measured_circuit.cache_info().misses == 1
    probs = exact_probabilities(spec, angles, weights)
    observed = np.array([counts.get(format(i, "03b"), 0) for i in range(8)])
    assert observed.sum() == shots and chisquare(observed, probs * shots).pvalue > 1e-3
