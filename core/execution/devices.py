"""PennyLane devices for the backends that have one, configured from one :class:`ExecutionSettings`."""

from __future__ import annotations

from typing import Any

from core.execution.settings import ExecutionSettings

# PennyLane and Cirq are imported inside the functions that use them: checking settings must not wait for them.


def make_device(settings: ExecutionSettings, wires: int):
    """A PennyLane device where ``settings`` say (shots are set per circuit, not here).

    Analytic qiskit.aer gets Aer's state-vector method: its default one
    estimates expectations from samples even without shots.
    """
    import pennylane as qml

    backend = settings.info
    if not backend.device_name:
        raise ValueError(f"backend {backend.name!r} is not a PennyLane device: run it through core.execution "
                         "(single_circuit.sample_counts, factory.make_executor)")
    kwargs: dict[str, Any] = {}
    if settings.noise:
        from core.execution.noise import noise_model

        kwargs["noise_model"] = noise_model(settings.noise)
    elif settings.analytic and backend.family == "qiskit":
        kwargs["backend"] = "aer_simulator_statevector"
    if settings.seed is not None:
        if backend.family == "qiskit":
            kwargs["seed_simulator"] = settings.seed
        elif backend.family == "cirq":
            import cirq

            kwargs["simulator"] = cirq.Simulator(seed=settings.seed)
        else:
            kwargs["seed"] = settings.seed
    return qml.device(backend.device_name, wires=wires, **kwargs)
