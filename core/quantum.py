"""Run the dressed circuit for a batch of inputs on a backend, differentiably.

An executor turns angles (B, n) and weights (depth, n) into <Z> values (B, n)
with torch autograd, and counts the circuits and shots it used. The whole
batch goes to the simulator in one call: broadcast when analytic, a batch of
tapes when sampled with shots.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from core.backends import MAX_SHOTS, get_backend, make_device, resolve_shots
from core.circuit import CircuitSpec, circuit_tape, make_qnode


@dataclass
class ExecutionCount:
    """Circuits the simulator ran and shots it drew (a batch of N circuits counts N)."""

    circuits: int = 0
    shots: int = 0
    batches: int = field(default=0)

    def add(self, circuits: int, shots_per_circuit: int | None) -> None:
        self.circuits += circuits
        self.shots += circuits * (shots_per_circuit or 0)
        self.batches += 1


class CircuitExecutor:
    """Base: the backend, the circuit's shape, the shot count and the tally."""

    def __init__(self, backend: str, spec: CircuitSpec, shots: int | str | None = "default", seed: int | None = None):
        self.backend = get_backend(backend)
        self.spec = spec
        self.shots = resolve_shots(backend, shots)
        self.seed = seed
        self.count = ExecutionCount()

    def expvals(self, angles: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        """<Z> of every qubit, (B, n), differentiable in angles and weights."""
        raise NotImplementedError

    def describe(self) -> str:
        shots = "analytic" if self.shots is None else f"{self.shots} shots"
        return f"{self.backend.name} ({shots}, {type(self).__name__})"


class PennyLaneExecutor(CircuitExecutor):
    """Through a PennyLane device: broadcasting when analytic, tape batches with shots."""

    def __init__(self, backend: str, spec: CircuitSpec, shots: int | str | None = "default", seed: int | None = None, noise_model=None):
        super().__init__(backend, spec, shots, seed)
        self.device = make_device(backend, spec.n_qubits, seed=seed, noise_model=noise_model, analytic=self.shots is None)
        self.diff_method = self.backend.analytic_diff if self.shots is None else "parameter-shift"
        # parameter-shift refuses broadcast trainable inputs: those run as a batch of tapes
        broadcast = self.diff_method in ("backprop", "adjoint")
        self._qnode = make_qnode(self.device, spec, self.diff_method) if broadcast else None

    def expvals(self, angles: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        import pennylane as qml

        batch = angles.shape[0]
        if self._qnode is not None:
            out = torch.stack(list(self._qnode(angles, weights)), dim=-1)
            self.count.add(batch, None)
            return out.to(angles.dtype)
        tapes = [circuit_tape(angles[i], weights, self.spec, shots=self.shots) for i in range(batch)]
        results = qml.execute(tapes, self.device, diff_method="parameter-shift")
        self.count.add(batch, self.shots)
        if torch.is_grad_enabled() and (angles.requires_grad or weights.requires_grad):
            # parameter-shift: two shifted circuits per gate angle, per sample
            n_trainable = self.spec.n_params
            self._pending_gradient_circuits = 2 * n_trainable * batch
            out = torch.stack([torch.stack(list(r)) for r in results]).to(angles.dtype)
            return _CountOnBackward.apply(out, self)
        return torch.stack([torch.stack(list(r)) for r in results]).to(angles.dtype)


class _CountOnBackward(torch.autograd.Function):
    """Identity that tallies the parameter-shift circuits when the gradient is taken."""

    @staticmethod
    def forward(ctx, out, executor):
        ctx.executor = executor
        return out.view_as(out)

    @staticmethod
    def backward(ctx, grad):
        ex = ctx.executor
        ex.count.add(ex._pending_gradient_circuits, ex.shots)
        return grad, None


def make_executor(
    backend: str,
    spec: CircuitSpec,
    shots: int | str | None = "default",
    seed: int | None = None,
    noise: str | None = None,
    fast: bool = True,
) -> CircuitExecutor:
    """The executor the model uses for ``backend``.

    ``noise`` names a fake IBM device (qiskit.aer only). ``fast=False`` gives
    the plain PennyLane path, the reference the fast executors are tested against.
    ``qsharp`` always runs on Microsoft's QDK simulator, forward only (no training).
    """
    shots = resolve_shots(backend, shots)
    if noise and not get_backend(backend).supports_noise:
        raise ValueError(f"backend {backend!r} does not take a noise model; use qiskit.aer")
    if get_backend(backend).family == "qsharp":
        from core.qsharp_backend import QSharpExecutor

        return QSharpExecutor(spec, shots, seed)
    if not fast:
        return PennyLaneExecutor(backend, spec, shots=shots, seed=seed, noise_model=_noise_model(noise))
    from core import fast as fast_paths

    if backend == "default.qubit" and shots is None:
        return fast_paths.JaxDefaultQubitExecutor(spec, seed)
    if backend == "lightning.qubit" and shots is None:
        return fast_paths.LightningAdjointExecutor(spec, seed)
    if backend == "qiskit.aer":
        sampler = fast_paths.AerBatchSampler(spec, shots, seed, noise)
        return fast_paths.ShiftRuleExecutor(backend, spec, shots, seed, sampler)
    if backend == "cirq.simulator":
        sampler = fast_paths.CirqBatchSampler(spec, shots, seed)
        return fast_paths.ShiftRuleExecutor(backend, spec, shots, seed, sampler)
    return PennyLaneExecutor(backend, spec, shots=shots, seed=seed)


# --- single-circuit views for the circuit explorer and the predict page ---------------------------


def _single_qnode(backend: str, spec: CircuitSpec, measurement, shots: int | None, seed: int | None, noise: str | None):
    import pennylane as qml

    from core.circuit import circuit_ops

    device = make_device(backend, spec.n_qubits, seed=seed, noise_model=_noise_model(noise))

    def circuit(angles, weights):
        circuit_ops(angles, weights, spec)
        return measurement()

    qnode = qml.QNode(circuit, device, interface="numpy", diff_method=None)
    return qml.set_shots(qnode, shots=shots) if shots else qnode


def _noise_model(noise: str | None):
    if not noise:
        return None
    from qiskit_aer.noise import NoiseModel

    from core.noise import fake_backend

    return NoiseModel.from_backend(fake_backend(noise))


def check_parameters(spec: CircuitSpec, angles: Any, weights: Any) -> tuple[np.ndarray, np.ndarray]:
    """``angles`` (n,) or (batch, n) and ``weights`` (depth, n) as finite float arrays, else a ValueError saying what is wrong."""
    if not isinstance(spec, CircuitSpec):
        raise ValueError(f"spec must be a CircuitSpec, got {type(spec).__name__}")
    checked = []
    for name, value, shape in (("angles", angles, (spec.n_qubits,)), ("weights", weights, spec.weight_shape)):
        try:
            array = np.asarray(value, dtype=float)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{name} must be numbers, got {value!r:.80}") from exc
        batched = name == "angles" and array.ndim == 2 and array.shape[1:] == shape  # (batch, n): broadcast
        if array.shape != shape and not batched:
            raise ValueError(f"{name} must have shape {shape} for {spec.n_qubits} qubits and depth {spec.depth}, got {array.shape}")
        if not np.isfinite(array).all():
            raise ValueError(f"{name} must be finite numbers (no NaN or infinity), got {array.tolist()}")
        checked.append(array)
    return checked[0], checked[1]


def check_shots(shots: Any) -> int:
    """A shot count: a whole number from 1 to MAX_SHOTS, else a ValueError that says so."""
    if isinstance(shots, bool) or not isinstance(shots, numbers.Integral) or not 1 <= shots <= MAX_SHOTS:
        raise ValueError(f"shots must be a whole number between 1 and {MAX_SHOTS}, got {shots!r}")
    return int(shots)


def exact_probabilities(spec: CircuitSpec, angles: Any, weights: Any) -> np.ndarray:
    """Exact bitstring probabilities (2**n,), wire 0 as the leftmost bit, from default.qubit."""
    import pennylane as qml

    angles, weights = check_parameters(spec, angles, weights)
    qnode = _single_qnode("default.qubit", spec, lambda: qml.probs(wires=range(spec.n_qubits)), None, None, None)
    return np.asarray(qnode(angles, weights))


def statevector(spec: CircuitSpec, angles: Any, weights: Any) -> np.ndarray:
    """The final state's amplitudes (2**n,), from default.qubit."""
    import pennylane as qml

    angles, weights = check_parameters(spec, angles, weights)
    qnode = _single_qnode("default.qubit", spec, qml.state, None, None, None)
    return np.asarray(qnode(angles, weights))


def sample_counts(
    backend: str, spec: CircuitSpec, angles: Any, weights: Any, shots: int, seed: int | None = None, noise: str | None = None
) -> dict[str, int]:
    """Measured bitstring counts (wire 0 leftmost) from ``shots`` runs on ``backend``."""
    import pennylane as qml

    angles, weights = check_parameters(spec, angles, weights)
    shots = resolve_shots(backend, check_shots(shots))
    if get_backend(backend).family == "qsharp":
        if noise:
            raise ValueError(f"backend {backend!r} does not take a noise model; use qiskit.aer")
        from core import qsharp_backend

        return qsharp_backend.sample_counts(spec, angles, weights, shots, seed)
    qnode = _single_qnode(backend, spec, lambda: qml.counts(wires=range(spec.n_qubits)), shots, seed, noise)
    counts = qnode(angles, weights)
    return {str(k): int(v) for k, v in counts.items()}


def expvals_from_counts(counts: dict[str, int], n_qubits: int) -> tuple[np.ndarray, np.ndarray]:
    """<Z> per qubit and its standard error, from bitstring counts."""

    total = sum(counts.values())
    z = np.zeros(n_qubits)
    for bits, n in counts.items():
        z += n * np.array([1.0 - 2.0 * int(b) for b in bits])
    mean = z / total
    return mean, np.sqrt(np.clip(1.0 - mean**2, 0.0, None) / total)
