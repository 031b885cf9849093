"""The dressed circuit as a parametric Qiskit circuit: the one translation the Aer sampler and the IBM path share."""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.circuit.definition import CircuitSpec, symbolic_ops

if TYPE_CHECKING:
    from qiskit import QuantumCircuit
    from qiskit.circuit import ParameterVector

# Qiskit is imported inside the function: the IBM panel imports this module on every explorer visit.


def qiskit_circuit(spec: CircuitSpec, clbits: int = 0) -> tuple[QuantumCircuit, ParameterVector]:
    """The circuit, unmeasured, and its parameters: ``theta[k]`` is entry k of [angles (n), weights (depth*n)].

    Built gate by gate from :func:`symbolic_ops`; the caller adds what it reads
    out (Aer saves probabilities or measures into ``clbits`` bits, IBM measures all).
    Qiskit numbers qubit 0 as the least significant bit of a bitstring.
    """
    from qiskit import QuantumCircuit
    from qiskit.circuit import ParameterVector

    theta = ParameterVector("theta", spec.n_params)
    circuit = QuantumCircuit(spec.n_qubits, clbits, name="dressed")
    for name, wires, index in symbolic_ops(spec):
        if name == "Hadamard":
            circuit.h(wires[0])
        elif name == "CNOT":
            circuit.cx(*wires)
        elif name == "RY":
            circuit.ry(theta[index], wires[0])
        else:
            raise ValueError(f"no Qiskit translation for gate {name}")
    return circuit, theta
