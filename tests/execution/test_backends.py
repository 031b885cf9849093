"""The backend registry, and every PennyLane device against the others: ⟨Z⟩, gradients, counts."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.circuit.definition import CircuitSpec
from core.execution.backends import BACKENDS, installed_backends, training_backends
from core.execution.settings import ExecutionSettings, resolve_shots


def test_registry_and_shots():
    assert list(BACKENDS) == ["default.qubit", "lightning.qubit", "qiskit.aer", "cirq.simulator", "qsharp", "ibm.quantum"]
    assert [b.name for b in training_backends()] == ["default.qubit", "lightning.qubit", "qiskit.aer", "cirq.simulator"]
    assert {b.name for b in installed_backends()} == set(BACKENDS)
    assert resolve_shots("qiskit.aer") == 1024 and resolve_shots("cirq.simulator") == 1024
    assert resolve_shots("default.qubit") is None and resolve_shots("qiskit.aer", 0) is None
    with pytest.raises(ValueError, match="between 1 and"):
        resolve_shots("qiskit.aer", 10**9)
    with pytest.raises(ValueError, match="unknown backend"):
        resolve_shots("ibm.nonexistent")


@pytest.mark.parametrize("backend", [n for n, b in BACKENDS.items() if b.device_name])
def test_pennylane_devices_agree_on_expvals_and_gradients(backend):
    """Through each plugin's PennyLane device: <Z> to 1e-5, gradients to 1e-5 (analytic)."""
    from core.execution.pennylane_executor import PennyLaneExecutor

    spec = CircuitSpec()
    gen = torch.Generator().manual_seed(11)
    angles = torch.rand(2, 4, generator=gen, dtype=torch.float64) * 3
    weights = torch.rand(6, 4, generator=gen, dtype=torch.float64) * 3

    def run(name):
        a, w = angles.clone().requires_grad_(), weights.clone().requires_grad_()
        out = PennyLaneExecutor(spec, ExecutionSettings(name, None)).expvals(a, w)
        (out * torch.arange(1.0, 5.0, dtype=torch.float64)).sum().backward()
        return out.detach(), a.grad, w.grad

    for got, want in zip(run(backend), run("default.qubit")):
        assert torch.allclose(got, want, atol=1e-5)


@pytest.mark.parametrize("backend", ["qiskit.aer", "cirq.simulator", "lightning.qubit"])
def test_sampled_expvals_within_five_standard_errors(backend):
    from core.circuit.readout import expvals_from_counts
    from core.execution.pennylane_executor import PennyLaneExecutor
    from core.execution.single_circuit import sample_counts

    spec, shots = CircuitSpec(), 2000
    angles, weights = torch.rand(2, 4, dtype=torch.float64), torch.rand(6, 4, dtype=torch.float64)
    exact = PennyLaneExecutor(spec, ExecutionSettings("default.qubit", None)).expvals(angles, weights)
    sampled = PennyLaneExecutor(spec, ExecutionSettings(backend, shots, 3)).expvals(angles, weights)
    stderr = torch.sqrt((1 - exact**2) / shots)
    assert ((sampled - exact).abs() <= 5 * stderr).all()
    counts = sample_counts(spec, angles[0].numpy(), weights.numpy(), ExecutionSettings(backend, shots, 5))
    assert sum(counts.values()) == shots
    z, err = expvals_from_counts(counts, 4)
    assert (np.abs(z - exact[0].numpy()) <= 5 * err + 1e-9).all()


def test_counts_follow_exact_probabilities_chi_square():
    from scipy.stats import chisquare

    from core.execution.single_circuit import exact_probabilities, sample_counts, statevector

    spec = CircuitSpec()
    angles, weights = np.linspace(-1, 1, 4), np.linspace(0, 2, 24).reshape(6, 4)
    probs = exact_probabilities(spec, angles, weights)
    assert probs.sum() == pytest.approx(1.0)
    assert np.allclose(np.abs(statevector(spec, angles, weights)) ** 2, probs)
    counts = sample_counts(spec, angles, weights, ExecutionSettings("qiskit.aer", 20000, 1))
    observed = np.array([counts.get(format(i, "04b"), 0) for i in range(16)])
    expected = probs * 20000
    keep = expected >= 5
    observed = np.append(observed[keep], observed[~keep].sum())
    expected = np.append(expected[keep], expected[~keep].sum())
    if expected[-1] == 0:
        observed, expected = observed[:-1], expected[:-1]
    assert chisquare(observed, expected * observed.sum() / expected.sum()).pvalue > 0.001
