"""cirq.simulator with shots: Cirq's state-vector kernel applied to every parameter row of a batch at once."""

from __future__ import annotations

import cirq
import numpy as np

from core.circuit.definition import CircuitSpec, symbolic_ops
from core.circuit.readout import sample_expvals, z_signs


class CirqBatchSampler:
    """Cirq's state-vector kernel applied to every parameter row of a batch at once.

    ``cirq.Simulator`` applies each gate with ``cirq.apply_unitary`` to one
    state; here the same protocol acts on a stack of states (an extra tensor
    axis), so a step's 228 circuits cost one pass over the gate list. A gate
    whose angle differs between rows is applied once per distinct angle to the
    rows that have it (parameter-shift rows share most angles). Checked
    against ``cirq.Simulator`` in the tests; the shots are drawn from the
    final states' probabilities (see :func:`sample_expvals`).
    """

    def __init__(self, spec: CircuitSpec, shots: int | None, seed: int | None):
        self.spec, self.shots = spec, shots
        self.rng = np.random.default_rng(seed)
        self.qubits = cirq.LineQubit.range(spec.n_qubits)
        self.ops = symbolic_ops(spec)
        self._fixed = {
            i: cirq.H(self.qubits[wires[0]]) if name == "Hadamard" else cirq.CNOT(*(self.qubits[w] for w in wires))
            for i, (name, wires, index) in enumerate(self.ops)
            if index is None
        }
        self.signs = z_signs(spec.n_qubits, big_endian=True)  # Cirq: qubit 0 is the most significant bit

    def final_states(self, rows: np.ndarray) -> np.ndarray:
        """Final state vectors (M, 2**n) of the circuit for each parameter row."""
        n = self.spec.n_qubits
        state = np.zeros((len(rows),) + (2,) * n, dtype=np.complex128)
        state[(slice(None),) + (0,) * n] = 1.0
        for i, (_, wires, index) in enumerate(self.ops):
            axes = [1 + w for w in wires]
            if index is None:
                state = _apply(self._fixed[i], state, axes)
                continue
            values, which = np.unique(rows[:, index], return_inverse=True)
            if len(values) == 1:
                state = _apply(self._ry(values[0], wires[0]), state, axes)
                continue
            for k, value in enumerate(values):
                chosen = which == k
                state[chosen] = _apply(self._ry(value, wires[0]), state[chosen], axes)
        return state.reshape(len(rows), -1)

    def _ry(self, angle: float, wire: int):
        return cirq.ry(float(angle)).on(self.qubits[wire])

    def run(self, rows: np.ndarray) -> np.ndarray:
        probs = np.abs(self.final_states(rows)) ** 2
        return sample_expvals(probs, self.shots, self.signs, self.rng)


def _apply(operation, state: np.ndarray, axes: list[int]) -> np.ndarray:
    args = cirq.ApplyUnitaryArgs(target_tensor=state, available_buffer=np.empty_like(state), axes=axes)
    return cirq.apply_unitary(operation, args)
