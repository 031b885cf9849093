"""qiskit.aer with shots: Aer computes every row's state, the shots are drawn from it (noise: core.execution.noisy_density)."""

from __future__ import annotations

import functools

import numpy as np
from qiskit import transpile
from qiskit_aer import AerSimulator

from core.circuit.definition import CircuitSpec, parameter_rows, symbolic_ops
from core.circuit.qiskit_circuit import qiskit_circuit
from core.circuit.readout import z_signs
from core.execution.noise import device_circuit, fake_backend
from core.execution.shift_rule import expvals_from_shots

SMALL_BATCH = 8  # up to this many rows (a step's forward pass), Aer binds them into the one assembled circuit
MAX_BRANCH_QUBITS = 10  # more rows than 2**10 go to Aer in chunks


class AerBatchSampler:
    """Noiseless: Aer's state-vector method computes every parameter row's final state; the shots are drawn from it.

    Aer's per-circuit cost (a state, a result record per circuit) was most of a
    step, so a step's rows go to Aer as one circuit of ``n + k`` qubits: a
    branch register of k qubits in uniform superposition, and every RY whose
    angle differs between rows applied as SX†·RZ·SX with the RZ controlled by
    the branch register (one diagonal gate: row b's angle in branch b). Branch b
    of Aer's final state is row b's circuit exactly (the tests compare with
    ``AerSimulator.run`` row by row), so its probabilities, times 2**k, are row
    b's. A few rows (a step's forward pass) are instead bound at run time into
    one assembled parametric circuit. Either way the circuit is built from
    Aer's own compiler calls without a Result object per row; qiskit-aer is
    pinned (requirements.txt), and the tests fail if those calls change.

    The shots are a multinomial draw from the probabilities: the distribution of
    that many terminal measurements (checked against Aer's own sampling in the tests).
    """

    def __init__(self, spec: CircuitSpec, shots: int | None, seed: int | None):
        from qiskit_aer.backends.aer_compiler import assemble_circuits
        from qiskit_aer.backends.controller_wrappers import aer_controller_execute

        self.spec, self.shots = spec, shots
        self.rng = np.random.default_rng(seed)
        self.ops = symbolic_ops(spec)
        circuit, theta = qiskit_circuit(spec)
        circuit.save_probabilities()
        # one thread: small states gain nothing from OpenMP, and its threads fight the training loop's
        self.simulator = AerSimulator(method="statevector", runtime_parameter_bind_enable=True, max_parallel_threads=1)
        self.circuit = transpile(circuit, self.simulator, optimization_level=0)
        (self._assembled,), (index_map,) = assemble_circuits([self.circuit])
        position = {p: k for k, p in enumerate(theta)}
        self._slots = [
            ((index_map[i] if index_map else i, pos), position[param])
            for i, instruction in enumerate(self.circuit.data) if instruction.operation.is_parameterized()
            for pos, param in enumerate(instruction.operation.params)
        ]
        self._controller = aer_controller_execute()
        self.signs = z_signs(spec.n_qubits, big_endian=False)  # Qiskit: qubit 0 is the least significant bit

    def probabilities(self, rows: np.ndarray) -> np.ndarray:
        """Final-state probabilities (M, 2**n) from Aer for parameter rows (M, n_params), qubit 0 the least significant bit."""
        rows = np.asarray(rows, dtype=float)
        if not len(rows):
            return np.zeros((0, 2**self.spec.n_qubits))
        if len(rows) <= SMALL_BATCH:
            return self._bound(rows)
        chunk = 2**MAX_BRANCH_QUBITS
        return np.concatenate([self._branched(rows[i : i + chunk]) for i in range(0, len(rows), chunk)])

    def run(self, rows: np.ndarray) -> np.ndarray:
        return expvals_from_shots(self.probabilities(rows), self.shots, self.signs, self.rng)

    def _bound(self, rows: np.ndarray) -> np.ndarray:
        """The rows bound at run time into the assembled circuit: one small state per row."""
        binds = [[slot, rows[:, k].tolist()] for slot, k in self._slots]
        output = self._execute(self._assembled, self.circuit, parameterizations=[binds])
        return np.stack([result["data"]["probabilities"] for result in output["results"]])

    def _branched(self, rows: np.ndarray) -> np.ndarray:
        """All rows as branches of one state: ``n`` circuit qubits, then ``k`` branch qubits."""
        from qiskit import QuantumCircuit
        from qiskit_aer.backends.aer_compiler import assemble_circuits
        from qiskit_aer.library import SaveProbabilities

        n, m = self.spec.n_qubits, len(rows)
        k = max(1, int(np.ceil(np.log2(m))))
        rows = np.concatenate([rows, np.repeat(rows[-1:], 2**k - m, axis=0)])  # padding branches, dropped below
        branch = list(range(n, n + k))
        start = QuantumCircuit(n + k)
        start.h(branch)
        (circuit,), _ = assemble_circuits([start])
        for name, wires, index in self.ops:
            if index is None:
                circuit.gate("h" if name == "Hadamard" else "cx", list(wires), [], [], -1, None, "")
            elif (rows[:, index] == rows[0, index]).all():
                circuit.gate("ry", list(wires), [float(rows[0, index])], [], -1, None, "")
            else:
                _branched_ry(circuit, wires[0], branch, rows[:, index])
        circuit.save_state(list(range(n + k)), "save_probabilities", SaveProbabilities(1)._subtype, "probabilities")
        output = self._execute(circuit, start)
        joint = np.asarray(output["results"][0]["data"]["probabilities"]).reshape(2**k, 2**n)
        return joint[:m] * 2**k  # each branch has weight 1/2**k

    def _execute(self, assembled, circuit, **run_options) -> dict:
        """Aer's controller on an assembled circuit: what ``AerSimulator.run`` calls, less its Result objects."""
        from qiskit_aer.backends.aer_compiler import generate_aer_config
        from qiskit_aer.backends.backend_utils import LIBRARY_DIR

        config = generate_aer_config([circuit], self.simulator.options, shots=1, **run_options)
        config.library_dir = LIBRARY_DIR
        output = self._controller.execute([assembled], {}, config)
        if not output.get("success"):
            raise RuntimeError(f"Aer failed: {output.get('status')}")
        return output


def _branched_ry(circuit, qubit: int, branch: list[int], angles: np.ndarray) -> None:
    """RY(angles[b]) on ``qubit`` in branch b: RY(θ) = SX†·RZ(θ)·SX, the RZ one diagonal gate over (qubit, branch)."""
    phase = np.exp(-0.5j * angles)
    diagonal = np.stack([phase, phase.conj()], axis=1).reshape(-1)  # index: qubit's bit + 2·branch value
    circuit.gate("sx", [qubit], [], [], -1, None, "")
    circuit.diagonal([qubit] + branch, diagonal.tolist(), -1, "diagonal")
    circuit.gate("sxdg", [qubit], [], [], -1, None, "")


class AerShotSampler:
    """Aer measures every shot itself; with a fake device, on the device circuit with its noise (the path before
    core.execution.noisy_density, and its reference in the tests and the benchmark).

    ``method``: Aer's simulation method. Its ``"automatic"`` choice, the old path, is the density matrix with
    Aer's own per-shot sampling and readout errors; ``"statevector"`` runs shot-by-shot noise trajectories.
    """

    def __init__(self, spec: CircuitSpec, shots: int, seed: int | None, noise: str | None = None, method: str = "automatic"):
        from qiskit import ClassicalRegister

        self.spec, self.shots = spec, shots
        self.rng = np.random.default_rng(seed)
        if noise:
            circuit, self.theta, layout = device_circuit(spec, noise)
            self.circuit = circuit.copy()
            self.circuit.add_register(ClassicalRegister(spec.n_qubits))
            self.circuit.measure(layout, range(spec.n_qubits))
            self.simulator = AerSimulator.from_backend(fake_backend(noise), method=method)
        else:
            self.circuit, self.theta = _measured_circuit(spec)
            self.simulator = AerSimulator(method=method)
        self.signs = z_signs(spec.n_qubits, big_endian=False)

    def counts(self, rows: np.ndarray) -> np.ndarray:
        """Measured counts (M, 2**n), qubit 0 the least significant bit."""
        binds = [{p: rows[:, j] for j, p in enumerate(self.theta)}]
        seed = int(self.rng.integers(2**31))
        result = self.simulator.run(self.circuit, parameter_binds=binds, shots=self.shots, seed_simulator=seed).result()
        counts = np.zeros((len(rows), 2**self.spec.n_qubits))
        for i in range(len(rows)):
            for bits, n in result.get_counts(i).items():
                counts[i, int(bits.replace(" ", ""), 2)] = n
        return counts

    def run(self, rows: np.ndarray) -> np.ndarray:
        return self.counts(rows) @ self.signs / self.shots


@functools.lru_cache(maxsize=32)
def _measured_circuit(spec: CircuitSpec):
    """The circuit measured into n bits, transpiled for Aer, and its parameters: once per shape (about 0.5 s: Aer
    builds its target anew for every transpile). Shared, so never modified."""
    circuit, theta = qiskit_circuit(spec, clbits=spec.n_qubits)
    circuit.measure(range(spec.n_qubits), range(spec.n_qubits))
    return transpile(circuit, AerSimulator(), optimization_level=0), list(theta)


def measured_counts(spec: CircuitSpec, angles: np.ndarray, weights: np.ndarray, shots: int, seed: int | None) -> dict[str, int]:
    """Counts of ``shots`` measurements by Aer of one circuit (wire 0 the leftmost bit, as PennyLane writes them).

    The pages' histograms: the transpiled circuit is kept per shape, so a slider's rerun only binds new angles.
    """
    circuit, theta = _measured_circuit(spec)
    bound = circuit.assign_parameters(dict(zip(theta, parameter_rows(angles, weights, spec)[0])))
    simulator = AerSimulator(method="statevector", max_parallel_threads=1)
    counts = simulator.run(bound, shots=shots, seed_simulator=seed).result().get_counts()
    return {bits.replace(" ", "")[::-1]: int(n) for bits, n in counts.items()}  # Qiskit writes qubit 0 rightmost
