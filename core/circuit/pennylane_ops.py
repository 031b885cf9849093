"""The dressed circuit as PennyLane operations, tapes and QNodes, translated from :func:`symbolic_ops`."""

from __future__ import annotations

import importlib.util
import sys
import threading
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any

from core.circuit.definition import CircuitSpec, symbolic_ops

if TYPE_CHECKING:
    import pennylane as qml

# PennyLane takes seconds to import: each function imports it when called, so the first page
# (which only draws the gate list) never waits for it.

# PennyLane records the gates of a circuit being built on one stack per process (QueuingManager), not one per thread:
# two sessions building circuits at once put gates on each other's tapes, and a failed pop leaves PennyLane's own lock
# held, so every later circuit in the server waits for ever (the 20-visitor load test hit it). Whatever builds or runs
# a PennyLane circuit in a process with threads holds this lock; circuits here take milliseconds.
PENNYLANE_LOCK = threading.RLock()


def import_pennylane() -> ModuleType:
    """PennyLane, imported without two optional modules that its first import loads and this project never uses.

    ``pennylane.io`` imports cirq (0.7-1.3 s) only to look for qualtran, and ``pennylane.drawer`` imports matplotlib
    (0.5-0.8 s) for ``qml.draw_mpl``: a cold training waits for both on one core. Each is skipped unless already
    loaded (cirq also when qualtran is installed); both import normally afterwards (the cirq backend, charts), only
    ``qml.draw_mpl`` is off in this process. While it runs, the two cannot be imported from any thread: call it where
    nothing else imports, as a training process does before its threads start.
    """
    if "pennylane" in sys.modules:
        return sys.modules["pennylane"]
    skipped = [name for name in ("cirq", "matplotlib") if name not in sys.modules]
    if "cirq" in skipped and importlib.util.find_spec("qualtran") is not None:
        skipped.remove("cirq")
    for name in skipped:
        sys.modules[name] = None  # type: ignore[assignment]  # an import of it raises ImportError, as if absent
    try:
        import pennylane
    finally:
        for name in skipped:
            if name in sys.modules and sys.modules[name] is None:
                del sys.modules[name]
    return pennylane


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

    return [gates[name](value(k), wires=wires) if k is not None else gates[name](wires=wires)
            for name, wires, k in symbolic_ops(spec)]


def expval_measurements(spec: CircuitSpec) -> list[qml.measurements.MeasurementProcess]:
    import pennylane as qml

    return [qml.expval(qml.PauliZ(w)) for w in range(spec.n_qubits)]


def circuit_tape(angles: Any, weights: Any, spec: CircuitSpec, shots: int | None = None) -> qml.tape.QuantumScript:
    """The circuit as a PennyLane tape measuring <Z> on every qubit."""
    import pennylane as qml

    with PENNYLANE_LOCK, qml.QueuingManager.stop_recording():
        ops = circuit_ops(angles, weights, spec)
        return qml.tape.QuantumScript(ops, expval_measurements(spec), shots=shots)



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
