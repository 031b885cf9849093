"""The dressed circuit as an OpenQASM 3 program, translated from :func:`core.circuit.circuit_tape`.

Gates with a standard OpenQASM 3 name are written as they are; any other is
decomposed by PennyLane until it has one. Every qubit is measured into the bit
register ``c`` (``c[i]`` is wire i), so a simulator that prints the register
with ``c[0]`` first gives bitstrings with wire 0 leftmost, the project's order.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pennylane as qml

from core.circuit.definition import CircuitSpec
from core.circuit.pennylane_ops import circuit_tape

# PennyLane operator name -> gate of OpenQASM 3's stdgates.inc
QASM3_GATES = {
    "Hadamard": "h", "PauliX": "x", "PauliY": "y", "PauliZ": "z", "S": "s", "T": "t",
    "RX": "rx", "RY": "ry", "RZ": "rz", "PhaseShift": "p", "CNOT": "cx", "CZ": "cz", "SWAP": "swap",
}


def _statements(op: qml.operation.Operator) -> list[str]:
    gate = QASM3_GATES.get(op.name)
    if gate is None:
        return [line for sub in op.decomposition() for line in _statements(sub)]
    params = f"({', '.join(repr(float(p)) for p in op.parameters)})" if op.parameters else ""
    return [f"{gate}{params} {', '.join(f'q[{int(w)}]' for w in op.wires)};"]


def tape_to_qasm3(tape: qml.tape.QuantumScript, n_qubits: int | None = None) -> str:
    """An OpenQASM 3 program of ``tape``'s gates (integer wires) that measures every qubit into ``c``.

    The tape's own measurements are not translated: the program samples bitstrings.
    """
    n = n_qubits if n_qubits is not None else max((int(w) for w in tape.wires), default=-1) + 1
    lines = ["OPENQASM 3.0;", 'include "stdgates.inc";', f"qubit[{n}] q;", f"bit[{n}] c;"]
    for op in tape.operations:
        lines += _statements(op)
    lines.append("c = measure q;")
    return "\n".join(lines) + "\n"


def circuit_qasm3(spec: CircuitSpec, angles: Any, weights: Any) -> str:
    """The dressed circuit for input ``angles`` (n,) and ``weights`` (depth, n) as OpenQASM 3."""
    tape = circuit_tape(np.asarray(angles, dtype=float), np.asarray(weights, dtype=float), spec)
    return tape_to_qasm3(tape, spec.n_qubits)
