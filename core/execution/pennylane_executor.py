"""The plain PennyLane path: the reference every fast executor is tested against, and the fallback."""

from __future__ import annotations

import torch

from core.circuit.definition import CircuitSpec
from core.circuit.pennylane_ops import PENNYLANE_LOCK, circuit_tape, make_qnode
from core.execution.devices import make_device
from core.execution.executor import CircuitExecutor
from core.execution.settings import ExecutionSettings


class PennyLaneExecutor(CircuitExecutor):
    """Through a PennyLane device: broadcasting when analytic, tape batches with shots."""

    def __init__(self, spec: CircuitSpec, settings: ExecutionSettings):
        super().__init__(spec, settings)
        self.device = make_device(settings, spec.n_qubits)
        self.diff_method = self.backend.analytic_diff if self.shots is None else "parameter-shift"
        # parameter-shift refuses broadcast trainable inputs: those run as a batch of tapes
        broadcast = self.diff_method in ("backprop", "adjoint")
        self._qnode = make_qnode(self.device, spec, self.diff_method) if broadcast else None

    def expvals(self, angles: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        with PENNYLANE_LOCK:
            return self._expvals(angles, weights)

    def _expvals(self, angles: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        import pennylane as qml

        batch = angles.shape[0]
        if self._qnode is not None:
            out = torch.stack(list(self._qnode(angles, weights)), dim=-1)
            self.count.add(batch, None)
            return out.to(angles.dtype)
        tapes = [circuit_tape(angles[i], weights, self.spec, shots=self.shots) for i in range(batch)]
        results = qml.execute(tapes, self.device, diff_method="parameter-shift")
        self.count.add(batch, self.shots)
        out = torch.stack([torch.stack(list(r)) for r in results]).to(angles.dtype)
        if torch.is_grad_enabled() and (angles.requires_grad or weights.requires_grad):
            # parameter-shift: two shifted circuits per gate angle, per sample
            self._pending_gradient_circuits = 2 * self.spec.n_params * batch
            return _CountOnBackward.apply(out, self)
        return out


class _CountOnBackward(torch.autograd.Function):
    """Identity that tallies the parameter-shift circuits when the gradient is taken."""

    @staticmethod
    def forward(ctx, out, executor):
        ctx.executor = executor
        return out.view_as(out)

    @staticmethod
    def backward(ctx, grad):
        ex = ctx.executor
        ex.count.add(ex._pending_gradient_circuits, ex.shots)
        return grad, None
