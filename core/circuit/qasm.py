"""The dressed circuit as an OpenQASM 3 or OpenQASM 2 program.

:func:`circuit_qasm3` and :func:`circuit_qasm2` write the gate list of
:func:`core.circuit.definition.symbolic_ops` (plain Python: no simulator is
imported); :func:`tape_to_qasm3` translates any PennyLane tape, decomposing a
gate without a standard OpenQASM 3 name until it has one. Every qubit is
measured into the bit register ``c`` (``c[i]`` is wire i), so a simulator that
prints the register with ``c[0]`` first gives bitstrings with wire 0 leftmost,
the project's order (Qiskit prints ``c[0]`` rightmost).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from core.circuit.definition import CircuitSpec, parameter_rows, symbolic_ops

if TYPE_CHECKING:
    import pennylane as qml

# PennyLane operator name -> gate of OpenQASM 3's stdgates.inc
QASM3_GATES = {
    "Hadamard": "h", "PauliX": "x", "PauliY": "y", "PauliZ": "z", "S": "s", "T": "t",
    "RX": "rx", "RY": "ry", "RZ": "rz", "PhaseShift": "p", "CNOT": "cx", "CZ": "cz", "SWAP": "swap",
}
# The same names in OpenQASM 2's qelib1.inc (the dressed circuit needs h, ry and cx)
QASM2_GATES = {name: gate for name, gate in QASM3_GATES.items() if gate not in ("p", "swap")}

_HEADERS = {
    2: lambda n: ["OPENQASM 2.0;", 'include "qelib1.inc";', f"qreg q[{n}];", f"creg c[{n}];"],
    3: lambda n: ["OPENQASM 3.0;", 'include "stdgates.inc";', f"qubit[{n}] q;", f"bit[{n}] c;"],
}
_MEASURE = {2: "measure q -> c;", 3: "c = measure q;"}


def _statement(gate: str, params: list[float], wires: list[int]) -> str:
    text = f"({', '.join(repr(float(p)) for p in params)})" if params else ""
    return f"{gate}{text} {', '.join(f'q[{w}]' for w in wires)};"


def _statements(op: qml.operation.Operator) -> list[str]:
    gate = QASM3_GATES.get(op.name)
    if gate is None:
        return [line for sub in op.decomposition() for line in _statements(sub)]
    return [_statement(gate, list(op.parameters), [int(w) for w in op.wires])]


def tape_to_qasm3(tape: qml.tape.QuantumScript, n_qubits: int | None = None) -> str:
    """An OpenQASM 3 program of ``tape``'s gates (integer wires) that measures every qubit into ``c``.

    The tape's own measurements are not translated: the program samples bitstrings.
    """
    n = n_qubits if n_qubits is not None else max((int(w) for w in tape.wires), default=-1) + 1
    lines = _HEADERS[3](n)
    for op in tape.operations:
        lines += _statements(op)
    lines.append(_MEASURE[3])
    return "\n".join(lines) + "\n"


def parameter_values(spec: CircuitSpec, angles: Any, weights: Any) -> list[float]:
    """The circuit's gate angles [angles (n), weights (depth*n)] as floats, checked: finite, of the spec's shape."""
    import numpy as np

    a, w = np.asarray(angles, dtype=float), np.asarray(weights, dtype=float)
    if a.shape != (spec.n_qubits,):
        raise ValueError(f"angles must have shape ({spec.n_qubits},), got {a.shape}")
    if w.shape != spec.weight_shape:
        raise ValueError(f"weights must have shape {spec.weight_shape}, got {w.shape}")
    values = [float(v) for v in parameter_rows(a, w, spec)[0]]
    if not all(math.isfinite(v) for v in values):
        raise ValueError("angles and weights must be finite numbers")
    return values


def circuit_qasm(spec: CircuitSpec, angles: Any, weights: Any, version: int = 3) -> str:
    """The dressed circuit for input ``angles`` (n,) and ``weights`` (depth, n) as OpenQASM ``version`` (2 or 3).

    Angles are written in full precision (``repr``); every qubit is measured into ``c``.
    """
    if version not in _HEADERS:
        raise ValueError(f"OpenQASM version must be 2 or 3, got {version!r}")
    gates = QASM2_GATES if version == 2 else QASM3_GATES
    values = parameter_values(spec, angles, weights)
    lines = _HEADERS[version](spec.n_qubits)
    lines += [_statement(gates[name], [values[k]] if k is not None else [], list(wires)) for name, wires, k in symbolic_ops(spec)]
    lines.append(_MEASURE[version])
    return "\n".join(lines) + "\n"


def circuit_qasm3(spec: CircuitSpec, angles: Any, weights: Any) -> str:
    """The dressed circuit for input ``angles`` (n,) and ``weights`` (depth, n) as OpenQASM 3."""
    return circuit_qasm(spec, angles, weights, 3)


def circuit_qasm2(spec: CircuitSpec, angles: Any, weights: Any) -> str:
    """The dressed circuit for input ``angles`` (n,) and ``weights`` (depth, n) as OpenQASM 2 (``qelib1.inc``)."""
    return circuit_qasm(spec, angles, weights, 2)
