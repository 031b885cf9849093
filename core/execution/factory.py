"""Pick the executor for a backend: the fast batched path where there is one, else PennyLane's."""

from __future__ import annotations

from core.circuit.definition import CircuitSpec
from core.execution.executor import CircuitExecutor
from core.execution.pennylane_executor import PennyLaneExecutor
from core.execution.settings import ExecutionSettings


def make_executor(spec: CircuitSpec, settings: ExecutionSettings, fast: bool = True) -> CircuitExecutor:
    """The executor the model uses to run ``spec`` where ``settings`` say.

    ``fast=False`` gives the plain PennyLane path, the reference the fast
    executors are tested against. ``qsharp`` always runs on Microsoft's QDK
    simulator, forward only (no training).
    """
    # Each simulator's module is imported only when chosen: importing them all would cost seconds.
    backend, analytic = settings.backend, settings.analytic
    if settings.info.family == "qsharp":
        from core.execution.qsharp_executor import QSharpExecutor

        return QSharpExecutor(spec, settings)
    if not fast:
        return PennyLaneExecutor(spec, settings)
    if backend == "default.qubit" and analytic:
        from core.execution.jax_executor import JaxDefaultQubitExecutor

        return JaxDefaultQubitExecutor(spec, settings)
    if backend == "lightning.qubit" and analytic:
        from core.execution.lightning_executor import LightningAdjointExecutor

        return LightningAdjointExecutor(spec, settings)
    if backend == "qiskit.aer" and settings.noise:
        from core.execution.noisy_density import NoisyDensitySampler
        from core.execution.shift_rule import ShiftRuleExecutor

        return ShiftRuleExecutor(spec, settings, NoisyDensitySampler(spec, settings.shots, settings.seed, settings.noise))
    if backend == "qiskit.aer":
        from core.execution.aer_sampler import AerBatchSampler
        from core.execution.shift_rule import ShiftRuleExecutor

        return ShiftRuleExecutor(spec, settings, AerBatchSampler(spec, settings.shots, settings.seed))
    if backend == "cirq.simulator":
        from core.execution.cirq_sampler import CirqBatchSampler
        from core.execution.shift_rule import ShiftRuleExecutor

        return ShiftRuleExecutor(spec, settings, CirqBatchSampler(spec, settings.shots, settings.seed))
    return PennyLaneExecutor(spec, settings)
