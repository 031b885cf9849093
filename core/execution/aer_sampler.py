"""qiskit.aer with shots: one transpiled circuit, every parameter row bound in one Aer job."""

from __future__ import annotations

import numpy as np
from qiskit import transpile
from qiskit_aer import AerSimulator

from core.circuit.definition import CircuitSpec
from core.circuit.qiskit_circuit import qiskit_circuit
from core.circuit.readout import sample_expvals, z_signs
from core.execution.noise import noisy_simulator


class AerBatchSampler:
    """One transpiled Qiskit circuit, every parameter row bound in one Aer job.

    Noiseless: Aer computes each row's final-state probabilities and the shots
    are drawn from them. With a noise model, Aer itself runs every shot (gate
    noise, decoherence and readout errors happen per shot).
    """

    def __init__(self, spec: CircuitSpec, shots: int | None, seed: int | None, noise: str | None = None):
        self.spec, self.shots, self.noise = spec, shots, noise
        self.rng = np.random.default_rng(seed)
        circuit, self.theta = qiskit_circuit(spec, clbits=spec.n_qubits)
        if noise:
            circuit.measure(range(spec.n_qubits), range(spec.n_qubits))
            self.simulator = noisy_simulator(noise)
            layout = list(range(spec.n_qubits))
            self.circuit = transpile(circuit, self.simulator, initial_layout=layout, optimization_level=1, seed_transpiler=0)
        else:
            circuit.save_probabilities()
            self.simulator = AerSimulator(method="statevector")
            self.circuit = transpile(circuit, self.simulator, optimization_level=0)
        self.signs = z_signs(spec.n_qubits, big_endian=False)  # Qiskit: qubit 0 is the least significant bit

    def run(self, rows: np.ndarray) -> np.ndarray:
        binds = [{p: rows[:, j] for j, p in enumerate(self.theta)}]
        seed = int(self.rng.integers(2**31))
        if not self.noise:
            result = self.simulator.run(self.circuit, parameter_binds=binds, shots=1, seed_simulator=seed).result()
            probs = np.stack([np.asarray(result.data(i)["probabilities"]) for i in range(len(rows))])
            return sample_expvals(probs, self.shots, self.signs, self.rng)
        result = self.simulator.run(self.circuit, parameter_binds=binds, shots=self.shots, seed_simulator=seed).result()
        counts = np.zeros((len(rows), 2**self.spec.n_qubits))
        for i in range(len(rows)):
            for bits, n in result.get_counts(i).items():
                counts[i, int(bits.replace(" ", ""), 2)] = n
        return counts @ self.signs / self.shots

