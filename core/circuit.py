"""The dressed variational circuit: the one place that defines it.

The circuit (Mari et al. 2019; the article's defaults): a Hadamard on every
qubit, RY(angle) embedding, then ``depth`` x [CNOT on (0,1),(2,3)...,
CNOT on (1,2),(3,4)..., RY(weight) on every qubit], and <Z> on each qubit.

Everything else (PennyLane QNodes, the native Qiskit / Cirq circuits, the
drawing, OpenQASM) is derived from :func:`symbolic_ops`, so the circuit is
written down exactly once.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # PennyLane takes seconds to import: only the functions that build circuits load it
    import pennylane as qml

MAX_QUBITS = 8
MAX_DEPTH = 10


@dataclass(frozen=True)
class CircuitSpec:
    """Shape of the dressed circuit."""

    n_qubits: int = 4
    depth: int = 6

    def __post_init__(self) -> None:
        # plain ints only (numpy integers are converted): no floats, bools, strings or None
        for name, low, high in (("n_qubits", 1, MAX_QUBITS), ("depth", 0, MAX_DEPTH)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not low <= value <= high:
                raise ValueError(f"{name} must be a whole number between {low} and {high}, got {value!r}")
            object.__setattr__(self, name, int(value))

    @property
    def n_params(self) -> int:
        """Gate angles per circuit: the inputs then the weights, layer by layer."""
        return self.n_qubits * (1 + self.depth)

    @property
    def weight_shape(self) -> tuple[int, int]:
        return (self.depth, self.n_qubits)


def entangling_pairs(n_qubits: int) -> list[tuple[int, int]]:
    """The CNOT pairs of one entangling layer: even pairs, then odd pairs."""
    even = [(i, i + 1) for i in range(0, n_qubits - 1, 2)]
    odd = [(i, i + 1) for i in range(1, n_qubits - 1, 2)]
    return even + odd


def circuit_ops(angles: Any, weights: Any, spec: CircuitSpec) -> list[qml.operation.Operator]:
    """The circuit's gates as PennyLane operations, for input ``angles`` (..., n) and ``weights`` (depth, n).

    ``angles`` may carry a leading batch dimension (PennyLane broadcasting).
    Works in a queuing context (inside a QNode) and outside one.
    """
    import pennylane as qml

    n = spec.n_qubits
    gates = {"Hadamard": qml.Hadamard, "RY": qml.RY, "CNOT": qml.CNOT}

    def value(k: int):
        return angles[..., k] if k < n else weights[(k - n) // n][(k - n) % n]

    return [gates[name](value(k), wires=wires) if k is not None else gates[name](wires=wires) for name, wires, k in symbolic_ops(spec)]


def expval_measurements(spec: CircuitSpec) -> list[qml.measurements.MeasurementProcess]:
    import pennylane as qml

    return [qml.expval(qml.PauliZ(w)) for w in range(spec.n_qubits)]


def circuit_tape(angles: Any, weights: Any, spec: CircuitSpec, shots: int | None = None) -> qml.tape.QuantumScript:
    """The circuit as a PennyLane tape measuring <Z> on every qubit."""
    import pennylane as qml

    with qml.QueuingManager.stop_recording():
        ops = circuit_ops(angles, weights, spec)
    return qml.tape.QuantumScript(ops, expval_measurements(spec), shots=shots)


def symbolic_ops(spec: CircuitSpec) -> list[tuple[str, tuple[int, ...], int | None]]:
    """The dressed circuit itself: its gates as (name, wires, parameter index or None), in order.

    Parameter index k refers to the flat vector [angles (n), weights (depth*n)],
    the layout every translation (PennyLane, Qiskit, Cirq, OpenQASM, the drawing)
    binds into. Plain Python, so drawing the circuit needs no simulator.
    """
    n = spec.n_qubits
    ops: list[tuple[str, tuple[int, ...], int | None]] = [("Hadamard", (w,), None) for w in range(n)]
    ops += [("RY", (w,), w) for w in range(n)]
    for layer in range(spec.depth):
        ops += [("CNOT", pair, None) for pair in entangling_pairs(n)]
        ops += [("RY", (w,), n + layer * n + w) for w in range(n)]
    return ops


def make_qnode(
    device: qml.devices.Device,
    spec: CircuitSpec,
    diff_method: str = "best",
    shots: int | None = None,
    measurement: Callable[[CircuitSpec], Sequence[Any]] = expval_measurements,
) -> qml.QNode:
    """A torch QNode ``f(angles, weights)`` of the circuit on ``device``."""
    import pennylane as qml

    def dressed_circuit(angles, weights):
        circuit_ops(angles, weights, spec)
        return list(measurement(spec))

    qnode = qml.QNode(dressed_circuit, device, interface="torch", diff_method=diff_method)
    return qml.set_shots(qnode, shots=shots) if shots else qnode


def draw_text(spec: CircuitSpec, angles: Any = None, weights: Any = None, decimals: int | None = 2) -> str:
    """A text drawing of the circuit, from the same ops the model runs."""
    import numpy as np
    import pennylane as qml

    angles = np.zeros(spec.n_qubits) if angles is None else angles
    weights = np.zeros(spec.weight_shape) if weights is None else weights
    tape = circuit_tape(np.asarray(angles), np.asarray(weights), spec)
    return qml.drawer.tape_text(tape, decimals=decimals, max_length=1000)
