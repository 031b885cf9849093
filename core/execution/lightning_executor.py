"""lightning.qubit, analytic: its C++ state vector and adjoint Jacobian, called directly with the gate list serialised once."""

from __future__ import annotations

from contextlib import nullcontext

import numpy as np
from pennylane_lightning.lightning_qubit_ops import MeasurementsC128, StateVectorC128
from pennylane_lightning.lightning_qubit_ops.algorithms import AdjointJacobianC128, create_ops_listC128
from pennylane_lightning.lightning_qubit_ops.observables import NamedObsC128
from threadpoolctl import ThreadpoolController

from core.circuit.definition import CircuitSpec, parameter_rows, symbolic_ops
from core.execution.executor import NumpyVJPExecutor, split_gradient
from core.execution.settings import ExecutionSettings
from core.execution.threads import limited


class LightningAdjointExecutor(NumpyVJPExecutor):
    """lightning.qubit, analytic, through the C++ kernels its PennyLane device uses.

    PennyLane's device layer re-serialises every tape in Python, which costs
    more than simulating a 4-qubit circuit; the gate list is fixed, so it is
    serialised once and each row only binds its angles. Outputs and the adjoint gradients are checked
    against the PennyLane device in the tests.
    """

    def __init__(self, spec: CircuitSpec, settings: ExecutionSettings):
        super().__init__(spec, settings)
        self._state_type, self._measurements = StateVectorC128, MeasurementsC128
        self._create_ops, self._adjoint = create_ops_listC128, AdjointJacobianC128()
        self.ops = symbolic_ops(spec)
        self.observables = [NamedObsC128("PauliZ", [w]) for w in range(spec.n_qubits)]
        self._no_matrix = [np.zeros(0, dtype=np.complex128)] * len(self.ops)
        self._threads: ThreadpoolController | None = None

    def _single_thread(self):
        """torch and lightning each bring an OpenMP runtime; on a 4-qubit state their threads only fight (a step many
        times slower: docs/benchmarks.md), so lightning runs on one. A training has limited every pool already; else
        the pools are found on the first call, not at construction, which may be in a thread beside imports
        (:mod:`core.execution.threads`)."""
        if limited():
            return nullcontext()
        if self._threads is None:
            self._threads = ThreadpoolController()
        return self._threads.limit(limits=1, user_api="openmp")

    def _final_state(self, row: np.ndarray):
        state = self._state_type(self.spec.n_qubits)
        state.resetStateVector()
        for name, wires, index in self.ops:
            getattr(state, name)(list(wires), False, [] if index is None else [float(row[index])])
        return state

    def _forward(self, a, w):
        with self._single_thread():
            return self._expvals(a, w)

    def _expvals(self, a, w):
        self.count.add(len(a), None)
        out = np.empty_like(a)
        for i, row in enumerate(parameter_rows(a, w, self.spec)):
            state = self._final_state(row)  # keep a reference: the measurement object does not
            measure = self._measurements(state)
            out[i] = [measure.expval("PauliZ", [q]) for q in range(self.spec.n_qubits)]
        return out

    def _vjp(self, a, w, g):
        with self._single_thread():
            return self._adjoint_vjp(a, w, g)

    def _adjoint_vjp(self, a, w, g):
        n_ops, n_params = len(self.ops), self.spec.n_params
        grads = np.empty((len(a), n_params))
        for i, row in enumerate(parameter_rows(a, w, self.spec)):
            params = [[] if index is None else [float(row[index])] for _, _, index in self.ops]
            op_list = self._create_ops(
                [name for name, _, _ in self.ops], params, [list(wires) for _, wires, _ in self.ops],
                [False] * n_ops, self._no_matrix, [[]] * n_ops, [[]] * n_ops,
            )
            jacobian = np.asarray(self._adjoint(self._final_state(row), self.observables, op_list, list(range(n_params))))
            grads[i] = g[i] @ jacobian.reshape(self.spec.n_qubits, n_params)
        return split_gradient(grads, self.spec)

