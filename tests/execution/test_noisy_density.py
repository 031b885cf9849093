"""Noisy training's exact path: the fake device's density matrix, readout errors, then shots.

Checked against Aer's density-matrix method (exactly) and against Aer's
shot-by-shot noise trajectories (within shot noise), for the trained noisy
checkpoint's circuit.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.stats import chisquare

from core.circuit.definition import CircuitSpec, parameter_rows
from core.execution.factory import make_executor
from core.execution.noise import check_exact_noise, device_circuit, fake_backend, readout_confusion
from core.execution.noisy_density import NoisyDensitySampler, noisy_channels
from core.execution.settings import ExecutionSettings
from core.paths import PROJECT_ROOT

NOISY_CHECKPOINT = PROJECT_ROOT / "checkpoints" / "best-efficientnet_lite0-qiskit.aer-1024shots-fake_manila.pt"
# input angles as the head makes them (tanh · π/2): a spread, and one near zero
ANGLES = np.array([[-1.2, 0.4, 1.0, -0.3], [0.7, -0.9, 0.2, 1.4]])


def _trained_rows() -> tuple[CircuitSpec, np.ndarray]:
    from core.learning.checkpoints import load_checkpoint

    checkpoint = load_checkpoint(NOISY_CHECKPOINT)
    assert checkpoint.meta["noise"] == "fake_manila"
    weights = checkpoint.state_dict["q_params"].double().numpy()
    return checkpoint.spec, parameter_rows(ANGLES, weights, checkpoint.spec)


def _aer_density_matrix(spec: CircuitSpec, noise: str, rows: np.ndarray) -> np.ndarray:
    """Aer's density-matrix method on the same device circuit, probabilities before readout."""
    from qiskit_aer import AerSimulator

    circuit, theta, layout = device_circuit(spec, noise)
    circuit = circuit.copy()
    circuit.save_probabilities(layout)
    simulator = AerSimulator.from_backend(fake_backend(noise), method="density_matrix")
    result = simulator.run(circuit, parameter_binds=[{p: rows[:, j] for j, p in enumerate(theta)}], shots=1).result()
    assert result.results[0].metadata["method"] == "density_matrix"
    return np.stack([np.asarray(result.data(i)["probabilities"]) for i in range(len(rows))])


@pytest.mark.parametrize("spec, noise", [(CircuitSpec(4, 6), "fake_manila"), (CircuitSpec(5, 1), "fake_lima")], ids=str)
def test_exact_channels_equal_aer_density_matrix(spec, noise):
    """The chain of Aer-computed channels and RZ layers is Aer's density-matrix evolution, to rounding.

    fake_lima's T-shaped coupling map makes the transpiler route: its circuit ends on permuted qubits.
    """
    rows = np.random.default_rng(2).uniform(-np.pi, np.pi, (6, spec.n_params))
    rows[1] = rows[0]
    channels = noisy_channels(spec, noise)
    got = channels.probabilities(rows, readout=False)
    assert np.abs(got - _aer_density_matrix(spec, noise, rows)).max() < 1e-10
    assert got.sum(axis=1) == pytest.approx(np.ones(len(rows)))
    if noise == "fake_lima":
        assert channels.layout != list(range(spec.n_qubits)), "the routed case must end on permuted qubits"
    noiseless = make_executor(spec, ExecutionSettings("qiskit.aer", None)).sampler.probabilities(rows)
    assert 0.5 * np.abs(got - noiseless).sum(axis=1).min() > 0.01, "the noise must change the distribution"


def test_readout_errors_are_the_devices():
    backend = fake_backend("fake_manila")
    for qubit, matrix in enumerate(readout_confusion("fake_manila", range(5))):
        assert matrix.sum(axis=1) == pytest.approx([1.0, 1.0])
        assert (matrix[0, 1] + matrix[1, 0]) / 2 == pytest.approx(backend.target["measure"][(qubit,)].error)
    assert readout_confusion("fake_manila", [2])[0][0, 1] > 0.09  # qubit 2 misreads nearly one shot in ten


@pytest.mark.slow
def test_noisy_density_agrees_with_trajectories():
    """The trained noisy checkpoint's circuit: shot-by-shot trajectories follow the exact noisy distribution."""
    from core.execution.aer_sampler import AerShotSampler

    spec, rows = _trained_rows()
    channels = noisy_channels(spec, "fake_manila")
    exact, before_readout = channels.probabilities(rows), channels.probabilities(rows, readout=False)
    trajectories = AerShotSampler(spec, 10_000, 11, "fake_manila", method="statevector")
    assert trajectories.simulator.options.method == "statevector"  # noise sampled per shot, not a density matrix
    counts = trajectories.counts(rows)
    ours = NoisyDensitySampler(spec, 20_000, 12, "fake_manila").run(rows)
    theirs = counts @ trajectories.signs / 10_000
    noiseless = make_executor(spec, ExecutionSettings("qiskit.aer", None)).sampler.run(rows)
    for i in range(len(rows)):
        assert chisquare(counts[i], exact[i] * 10_000).pvalue > 1e-3
        # the test is sharp: leaving out the readout errors is rejected outright
        assert chisquare(counts[i], np.clip(before_readout[i], 1e-12, None) * 10_000).pvalue < 1e-6
    stderr = np.sqrt((1 - ours**2) / 20_000 + (1 - theirs**2) / 10_000)
    assert (np.abs(ours - theirs) <= 4.5 * stderr).all(), (ours - theirs) / stderr
    assert (np.abs(ours - noiseless) / stderr).max() > 10, "the noise must be visible at these shot counts"


def test_noisy_training_runs_on_the_exact_path():
    spec = CircuitSpec()
    settings = ExecutionSettings("qiskit.aer", 1024, 5, "fake_manila")
    angles = torch.tensor(ANGLES, requires_grad=True)
    weights = torch.zeros(spec.weight_shape, dtype=torch.float64, requires_grad=True)
    first, second = make_executor(spec, settings), make_executor(spec, settings)
    assert isinstance(first.sampler, NoisyDensitySampler)
    out = first.expvals(angles, weights)
    out.sum().backward()
    assert torch.equal(out, second.expvals(angles, weights)), "same seed, same shots"
    assert first.count.circuits == 2 * (1 + 2 * spec.n_params) and first.count.shots == first.count.circuits * 1024
    assert angles.grad.shape == angles.shape and weights.grad.abs().sum() > 0


def test_exact_path_refuses_noise_it_cannot_reproduce():
    from qiskit_aer.noise import NoiseModel, ReadoutError, depolarizing_error

    noisy_rz = NoiseModel()
    noisy_rz.add_all_qubit_quantum_error(depolarizing_error(0.01, 1), ["rz"])
    with pytest.raises(ValueError, match="error on rz that the exact noisy path does not reproduce"):
        check_exact_noise("custom", noisy_rz)
    correlated = NoiseModel()
    correlated.add_readout_error(ReadoutError([[0.9, 0.1, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]), [0, 1])
    with pytest.raises(ValueError, match="correlated readout error"):
        check_exact_noise("custom", correlated)
    for device in ("fake_manila", "fake_lima", "fake_belem"):
        check_exact_noise(device)
