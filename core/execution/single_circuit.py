"""One circuit at a time, for the pages: exact probabilities, the state vector, and measured counts on any backend."""

from __future__ import annotations

from typing import Any

import numpy as np

from core.circuit.definition import CircuitSpec, checked_array
from core.circuit.pennylane_ops import PENNYLANE_LOCK
from core.execution.devices import make_device
from core.execution.settings import MAX_SHOTS, ExecutionSettings

# PennyLane and the simulators are imported inside the functions that use them: the pages import this module before they need one.

EXACT = ExecutionSettings("default.qubit", None)


def check_parameters(spec: CircuitSpec, angles: Any, weights: Any) -> tuple[np.ndarray, np.ndarray]:
    """``angles`` (n,) or (batch, n) and ``weights`` (depth, n) as finite float arrays, else a ValueError saying what is wrong."""
    if not isinstance(spec, CircuitSpec):
        raise ValueError(f"spec must be a CircuitSpec, got {type(spec).__name__}")
    return (checked_array("angles", angles, (spec.n_qubits,), spec, batched=True),  # (batch, n): broadcast
            checked_array("weights", weights, spec.weight_shape, spec))


def _qnode(spec: CircuitSpec, settings: ExecutionSettings, measurement):
    import pennylane as qml

    from core.circuit.pennylane_ops import circuit_ops

    device = make_device(settings, spec.n_qubits)

    def circuit(angles, weights):
        circuit_ops(angles, weights, spec)
        return measurement()

    qnode = qml.QNode(circuit, device, interface="numpy", diff_method=None)
    return qml.set_shots(qnode, shots=settings.shots) if settings.shots else qnode


def exact_probabilities(spec: CircuitSpec, angles: Any, weights: Any) -> np.ndarray:
    """Exact bitstring probabilities (2**n,), wire 0 as the leftmost bit, from default.qubit."""
    import pennylane as qml

    angles, weights = check_parameters(spec, angles, weights)
    with PENNYLANE_LOCK:
        return np.asarray(_qnode(spec, EXACT, lambda: qml.probs(wires=range(spec.n_qubits)))(angles, weights))


def statevector(spec: CircuitSpec, angles: Any, weights: Any) -> np.ndarray:
    """The final state's amplitudes (2**n,), from default.qubit."""
    import pennylane as qml

    angles, weights = check_parameters(spec, angles, weights)
    with PENNYLANE_LOCK:
        return np.asarray(_qnode(spec, EXACT, qml.state)(angles, weights))


def sample_counts(spec: CircuitSpec, angles: Any, weights: Any, settings: ExecutionSettings) -> dict[str, int]:
    """Measured bitstring counts (wire 0 leftmost) from ``settings.shots`` runs where ``settings`` say."""
    import pennylane as qml

    angles, weights = check_parameters(spec, angles, weights)
    if settings.shots is None:
        raise ValueError(f"shots must be a whole number between 1 and {MAX_SHOTS}, got None: an analytic run has no counts")
    if settings.info.family == "qsharp":
        from core.execution import qsharp_executor

        return qsharp_executor.sample_counts(spec, angles, weights, settings.shots, settings.seed)
    if settings.backend == "qiskit.aer" and not settings.noise and angles.ndim == 1:
        from core.execution.aer_sampler import measured_counts  # PennyLane's device transpiles every circuit anew

        return measured_counts(spec, angles, weights, settings.shots, settings.seed)
    with PENNYLANE_LOCK:
        counts = _qnode(spec, settings, lambda: qml.counts(wires=range(spec.n_qubits)))(angles, weights)
    return {str(k): int(v) for k, v in counts.items()}
