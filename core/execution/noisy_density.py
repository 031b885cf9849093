"""qiskit.aer with a fake device's noise, exactly: the noisy circuit's density matrix for every parameter row, then shots.

Transpiled for the device, the dressed circuit's parameters all sit in RZ
rotations, which the device's noise model leaves noiseless (checked, not
assumed); every other gate (SX, X, CX with their noise) is fixed. So the noisy
circuit is a chain: fixed noisy blocks, each computed once as a quantum channel
by Aer's superoperator method with the device's noise model, alternating with
layers of parameterised RZs. Per parameter row only the rotations change: the
state evolves as its Pauli transfer vector (real, 4**n entries) through that
chain, which is exactly Aer's density-matrix evolution of the same circuit
(the tests compare them to 1e-10). Readout errors act on measured bits: each
qubit's confusion matrix is applied to the final probabilities. The shots are
drawn from that distribution, the one Aer's shot-by-shot trajectories sample.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from core.circuit.definition import CircuitSpec
from core.circuit.readout import z_signs
from core.execution.noise import check_exact_noise, device_circuit, noise_model, readout_confusion
from core.execution.shift_rule import expvals_from_shots

PAULIS = np.array([[[1, 0], [0, 1]], [[0, 1], [1, 0]], [[0, -1j], [1j, 0]], [[1, 0], [0, -1]]], dtype=complex)  # I X Y Z


@dataclass(frozen=True)
class Rotation:
    """A parameterised RZ: angle = slope * row[param] + offset, on qubit ``qubit`` of the simulated width."""

    qubit: int
    param: int
    slope: float
    offset: float


class NoisyChannels:
    """The device circuit of ``spec`` under ``noise``: exact probabilities (M, 2**n) for parameter rows (M, n_params).

    Qubit order of the probabilities: qubit 0 is the least significant bit (Qiskit's order).
    """

    def __init__(self, spec: CircuitSpec, noise: str):
        check_exact_noise(noise)
        circuit, theta, layout = device_circuit(spec, noise)
        self.spec, self.layout = spec, layout
        stages = _stages(circuit, {p: k for k, p in enumerate(theta)})
        self.width = max([q for fixed, _ in stages for _, qubits in fixed for q in qubits] + list(layout)) + 1
        transfers = _stage_transfers([fixed for fixed, _ in stages], self.width, noise)
        self.rotations = [rotations for _, rotations in stages]
        start = np.zeros(4**self.width)
        start[_z_string_indices(range(self.width))] = 1.0  # |0…0⟩⟨0…0| = (I+Z)⊗…/2**w: every I/Z string has value 1
        self.start = transfers[0] @ start
        self.middle = transfers[1:-1]
        measured = _z_string_indices(layout)
        self.readout_rows = transfers[-1][measured]  # only the Z strings on measured qubits are read out
        n = spec.n_qubits
        self.walsh = _walsh(n) / 2**n
        self.confusion = readout_confusion(noise, layout)

    def probabilities(self, rows: np.ndarray, readout: bool = True) -> np.ndarray:
        """Bitstring probabilities (M, 2**n) of the measured qubits; ``readout=False`` leaves out the readout errors."""
        rows = np.asarray(rows, dtype=float)
        state = np.broadcast_to(self.start, (len(rows), self.start.size)).copy()
        for stage, rotations in enumerate(self.rotations[:-1]):  # the last stage has no rotations
            if stage:
                state = state @ self.middle[stage - 1].T
            state = self._rotate(state, rotations, rows)
        probs = (state @ self.readout_rows.T) @ self.walsh
        if readout:
            probs = _apply_confusion(probs, self.confusion)
        return np.clip(probs, 0.0, None)

    def _rotate(self, state: np.ndarray, rotations: list[Rotation], rows: np.ndarray) -> np.ndarray:
        """RZ(φ) per row: the qubit's X and Y components turn by φ (its Bloch vector about z)."""
        for r in rotations:
            # Pauli index digits: qubit w-1 first, as in the Kronecker product, so qubit q's digit has stride 4**q
            tensor = state.reshape(len(rows), 4 ** (self.width - 1 - r.qubit), 4, 4**r.qubit)
            angle = (r.slope * rows[:, r.param] + r.offset)[:, None, None]
            cos, sin = np.cos(angle), np.sin(angle)
            x, y = tensor[:, :, 1, :], tensor[:, :, 2, :]
            turned_x = cos * x - sin * y
            tensor[:, :, 2, :] = sin * x + cos * y
            tensor[:, :, 1, :] = turned_x
        return state


def _stages(circuit, param_index: dict) -> list[tuple[list, list[Rotation]]]:
    """The circuit as stages (fixed instructions, then parameterised RZs), in an order the gates' dependencies allow.

    A gate's stage is the number of parameterised gates on its longest path from the start, so each
    stage's fixed gates depend only on earlier stages and on each other, and one block of them is one channel.
    """
    from qiskit.converters import circuit_to_dag

    dag = circuit_to_dag(circuit)
    stage: dict = {}
    stages: list[tuple[list, list[Rotation]]] = []
    for node in dag.topological_op_nodes():
        parameterised = node.op.is_parameterized()
        stage[node] = max((stage[p] + p.op.is_parameterized() for p in dag.op_predecessors(node)), default=0)
        while len(stages) <= stage[node]:
            stages.append(([], []))
        qubits = tuple(circuit.find_bit(q).index for q in node.qargs)
        if not parameterised:
            stages[stage[node]][0].append((node.op, qubits))
        else:
            stages[stage[node]][1].append(_rotation(node.op, qubits, param_index))
    if len(stages) < 2 or stages[-1][1]:
        stages.append(([], []))  # the block after the last rotation (maybe empty): the chain starts and ends with a block
    return stages


def _rotation(op, qubits: tuple[int, ...], param_index: dict) -> Rotation:
    """A parameterised RZ as slope·θ + offset, checked to be affine in exactly one parameter."""
    if op.name != "rz" or len(op.params[0].parameters) != 1:
        raise ValueError(f"the exact noisy path needs every parameter in a single-parameter RZ; the device circuit has "
                         f"{op.name}({op.params[0]})")
    expr = op.params[0]
    (param,) = expr.parameters
    value = [float(expr.bind({param: x})) for x in (0.0, 1.0, 2.5)]
    slope, offset = value[1] - value[0], value[0]
    if abs(value[2] - (offset + 2.5 * slope)) > 1e-9:
        raise ValueError(f"the exact noisy path needs RZ angles affine in their parameter, got {expr}")
    return Rotation(qubits[0], param_index[param], slope, offset)


def _stage_transfers(blocks: list[list], width: int, noise: str) -> list[np.ndarray]:
    """Each block's noisy channel as a Pauli transfer matrix (4**w, 4**w), from Aer's superoperator method."""
    from qiskit import QuantumCircuit
    from qiskit_aer import AerSimulator

    circuits = []
    for block in blocks:
        circuit = QuantumCircuit(width)
        for op, qubits in block:
            circuit.append(op, qubits)
        circuit.save_superop()
        circuits.append(circuit)
    # one thread: on a busy 2-core machine, OpenMP threads made these small blocks several times slower
    simulator = AerSimulator(method="superop", noise_model=noise_model(noise), max_parallel_threads=1)
    result = simulator.run(circuits, shots=1).result()
    basis = _pauli_basis(width)  # columns: each Pauli string column-stacked, Qiskit's superoperator convention
    transfers = []
    for i in range(len(circuits)):
        superop = np.asarray(result.data(i)["superop"])
        transfer = (basis.conj().T @ superop @ basis) / 2**width
        if np.abs(transfer.imag).max() > 1e-9:
            raise ValueError("a noisy block's Pauli transfer matrix is not real: not a physical channel")
        transfers.append(transfer.real)
    return transfers


def _pauli_basis(width: int) -> np.ndarray:
    """(4**w, 4**w): column j is the Pauli string with digits of j (base 4, qubit 0 lowest) as a column-stacked matrix."""
    strings = np.ones((1, 1, 1), dtype=complex)
    for _ in range(width):  # each pass puts one more qubit in front: Kronecker order, qubit w-1 leftmost (Qiskit's)
        size = 2 * strings.shape[1]
        strings = np.einsum("aij,bkl->abikjl", PAULIS, strings).reshape(4 * len(strings), size, size)
    return strings.transpose(0, 2, 1).reshape(len(strings), -1).T


def _z_string_indices(qubits) -> np.ndarray:
    """Pauli-string indices of the 2**k strings made of I and Z on ``qubits`` (k of them), in subset order.

    Subset z (bit i set: Z on ``qubits[i]``) comes at position z.
    """
    qubits = list(qubits)
    return np.array([sum(3 * 4**q for i, q in enumerate(qubits) if z >> i & 1) for z in range(2 ** len(qubits))])


def _walsh(n: int) -> np.ndarray:
    """(2**n, 2**n): entry (z, x) is (-1)**popcount(z & x), from Z-string values to bitstring probabilities (×2**n)."""
    index = np.arange(2**n)
    bits = np.bitwise_and(index[:, None], index[None, :])
    parity = np.zeros_like(bits)
    for q in range(n):
        parity ^= (bits >> q) & 1
    return 1.0 - 2.0 * parity


def _apply_confusion(probs: np.ndarray, confusion: list[np.ndarray]) -> np.ndarray:
    """Readout errors: bit v (qubit v, the least significant first) is read as b with probability confusion[v][a, b]."""
    n = len(confusion)
    tensor = probs.reshape((len(probs),) + (2,) * n)
    for v, matrix in enumerate(confusion):
        axis = 1 + (n - 1 - v)
        tensor = np.moveaxis(np.tensordot(tensor, matrix, axes=([axis], [0])), -1, axis)
    return tensor.reshape(len(probs), -1)


@lru_cache(maxsize=4)  # a 5-qubit deep circuit's channels take about 100 MB
def noisy_channels(spec: CircuitSpec, noise: str) -> NoisyChannels:
    """The device circuit's channels, built once per (spec, device): they hold no per-run state."""
    return NoisyChannels(spec, noise)


class NoisyDensitySampler:
    """⟨Z⟩ per qubit from ``shots`` draws of each row's exact noisy distribution (gate noise, decoherence, readout)."""

    def __init__(self, spec: CircuitSpec, shots: int, seed: int | None, noise: str):
        self.spec, self.shots, self.noise = spec, shots, noise
        self.rng = np.random.default_rng(seed)
        self.channels = noisy_channels(spec, noise)
        self.signs = z_signs(spec.n_qubits, big_endian=False)

    def run(self, rows: np.ndarray) -> np.ndarray:
        return expvals_from_shots(self.channels.probabilities(rows), self.shots, self.signs, self.rng)
