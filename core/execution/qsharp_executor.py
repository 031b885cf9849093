"""Microsoft's Quantum Development Kit (PyPI ``qdk``) as a backend for inference and exploring.

The dressed circuit goes to the QDK's simulator as OpenQASM 3 (:mod:`core.circuit.qasm`),
one program per circuit, and comes back as sampled bitstrings: there is no
analytic mode and no gradient, so models are not trained on it.
"""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

import numpy as np
import torch

from core.circuit.definition import CircuitSpec
from core.circuit.qasm import circuit_qasm3
from core.circuit.readout import expvals_from_counts
from core.execution.executor import CircuitExecutor
from core.execution.settings import ExecutionSettings

# The QDK sends usage telemetry unless told not to; the dashboard keeps it off (an explicit setting wins).
os.environ.setdefault("QDK_PYTHON_TELEMETRY", "none")


def run_qasm(source: str, shots: int, seed: int | None = None) -> dict[str, int]:
    """Bitstring counts (``c[0]`` leftmost) of an OpenQASM 3 program run ``shots`` times on the QDK simulator."""
    from qdk import openqasm
    from qdk.qsharp import QSharpError

    try:
        bitstrings = openqasm.run(source, shots=shots, seed=seed, as_bitstring=True)
    except (openqasm.QasmError, QSharpError) as exc:
        raise RuntimeError(f"the Q# simulator could not run the circuit: {exc}") from exc
    return dict(sorted(Counter(bitstrings).items()))


def sample_counts(spec: CircuitSpec, angles: Any, weights: Any, shots: int, seed: int | None = None) -> dict[str, int]:
    """Measured bitstring counts (wire 0 leftmost) of the dressed circuit on the QDK simulator."""
    return run_qasm(circuit_qasm3(spec, angles, weights), shots, seed)


class QSharpExecutor(CircuitExecutor):
    """⟨Z⟩ per qubit estimated from the counts of one Q# run per circuit (forward only).

    With ``seed`` every circuit gets its own seed from one generator, so a whole
    evaluation repeats exactly.
    """

    def __init__(self, spec: CircuitSpec, settings: ExecutionSettings):
        super().__init__(spec, settings)
        if self.shots is None:
            raise ValueError("qsharp samples bitstrings: give a shot count, it has no analytic mode")
        self._seeds = np.random.default_rng(self.seed)

    def expvals(self, angles: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        if torch.is_grad_enabled() and (angles.requires_grad or weights.requires_grad):
            raise RuntimeError("qsharp runs the circuit forward only (inference and exploring), not for gradients")
        a, w = angles.detach().double().numpy(), weights.detach().double().numpy()
        rows = []
        for row in a:
            counts = sample_counts(self.spec, row, w, self.shots, int(self._seeds.integers(2**63)))
            rows.append(expvals_from_counts(counts, self.spec.n_qubits)[0])
        self.count.add(len(a), self.shots)
        return torch.as_tensor(np.array(rows).reshape(len(a), self.spec.n_qubits), dtype=angles.dtype)
