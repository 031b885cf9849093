"""The executor contract: angles (B, n) and weights (depth, n) in, ⟨Z⟩ (B, n) out, differentiable, with a tally.

Concrete executors (one module each) subclass :class:`CircuitExecutor`;
:func:`core.execution.factory.make_executor` picks one. Imports run that way
only: base ← executors ← factory.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from core.circuit.definition import CircuitSpec
from core.execution.settings import ExecutionSettings


@dataclass
class ExecutionCount:
    """Circuits the simulator ran and shots it drew (a batch of N circuits counts N)."""

    circuits: int = 0
    shots: int = 0
    batches: int = 0

    def add(self, circuits: int, shots_per_circuit: int | None) -> None:
        self.circuits += circuits
        self.shots += circuits * (shots_per_circuit or 0)
        self.batches += 1


class CircuitExecutor:
    """Base: the circuit's shape, where it runs, and the tally."""

    def __init__(self, spec: CircuitSpec, settings: ExecutionSettings):
        self.spec = spec
        self.settings = settings
        self.backend = settings.info
        self.shots = settings.shots
        self.seed = settings.seed
        self.count = ExecutionCount()

    def expvals(self, angles: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        """⟨Z⟩ of every qubit, (B, n), differentiable in angles and weights."""
        raise NotImplementedError

    def warm_up(self) -> None:
        """Do the one-off work of a first call (a compilation) now, without counting circuits; most have none."""

    def describe(self) -> str:
        shots = "analytic" if self.shots is None else f"{self.shots} shots"
        return f"{self.backend.name} ({shots}, {type(self).__name__})"


def split_gradient(grad_params: np.ndarray, spec: CircuitSpec) -> tuple[np.ndarray, np.ndarray]:
    """Per-row gradients (B, P) into d/d angles (B, n) and d/d weights (depth, n), summed over the batch."""
    n = spec.n_qubits
    return grad_params[:, :n], grad_params[:, n:].sum(axis=0).reshape(spec.weight_shape)


class _NumpyVJPFunction(torch.autograd.Function):
    """Torch glue: forward and backward delegate to an executor's numpy methods."""

    @staticmethod
    def forward(ctx, angles, weights, executor):
        a = angles.detach().double().cpu().numpy()
        w = weights.detach().double().cpu().numpy()
        ctx.executor, ctx.saved = executor, (a, w)
        ctx.dtype = angles.dtype
        return torch.from_numpy(executor._forward(a, w)).to(angles.dtype)

    @staticmethod
    def backward(ctx, grad_out):
        a, w = ctx.saved
        ga, gw = ctx.executor._vjp(a, w, grad_out.detach().double().cpu().numpy())
        return torch.from_numpy(ga).to(ctx.dtype), torch.from_numpy(gw).to(ctx.dtype), None


class NumpyVJPExecutor(CircuitExecutor):
    """Base for executors that provide ``_forward(a, w)`` and ``_vjp(a, w, g)`` on numpy arrays."""

    def expvals(self, angles: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        if torch.is_grad_enabled() and (angles.requires_grad or weights.requires_grad):
            return _NumpyVJPFunction.apply(angles, weights, self)
        a = angles.detach().double().cpu().numpy()
        return torch.from_numpy(self._forward(a, weights.detach().double().cpu().numpy())).to(angles.dtype)

    def _forward(self, a: np.ndarray, w: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _vjp(self, a: np.ndarray, w: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError
