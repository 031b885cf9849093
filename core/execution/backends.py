"""The registry of simulators: one entry per backend the app and CLI offer."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass


@dataclass(frozen=True)
class Backend:
    name: str  # registry key, shown to users
    label: str
    family: str  # "pennylane" | "qiskit" | "cirq" | "qsharp": the article's colour groups
    device_name: str  # PennyLane device short name; "" for a backend run outside PennyLane
    module: str  # what must be importable
    default_shots: int | None  # None = analytic by default
    analytic_diff: str  # gradient method when analytic
    supports_noise: bool
    purpose: str
    trains: bool = True  # False: inference and exploring only (the reason is in ``purpose``)
    needs_account: bool = False  # a cloud service: hidden until its credentials are configured

    @property
    def installed(self) -> bool:
        return importlib.util.find_spec(self.module) is not None


BACKENDS: dict[str, Backend] = {
    b.name: b
    for b in [
        Backend(
            "default.qubit", "PennyLane default.qubit", "pennylane", "default.qubit", "pennylane",
            None, "backprop", False, "training, inference, exploring",
        ),
        Backend(
            "lightning.qubit", "PennyLane lightning.qubit (C++)", "pennylane", "lightning.qubit",
            "pennylane_lightning", None, "adjoint", False, "training, inference, exploring",
        ),
        Backend(
            "qiskit.aer", "Qiskit Aer (IBM)", "qiskit", "qiskit.aer", "qiskit_aer",
            1024, "parameter-shift", True, "training, inference, exploring, NISQ noise",
        ),
        Backend(
            "cirq.simulator", "Cirq simulator (Google)", "cirq", "cirq.simulator", "cirq",
            1024, "parameter-shift", False, "training, inference, exploring",
        ),
        Backend(
            # OpenQASM 3 (core/circuit/qasm.py) on the QDK's simulator (core/execution/qsharp_executor.py); sampled only
            "qsharp", "Microsoft Q# simulator (QDK)", "qsharp", "", "qdk", 1024, "", False,
            "inference and exploring (not training: a 30-epoch run needs 412,020 circuits with its "
            "parameter-shift gradients, about 46 hours at the 0.4 s a 1,024-shot circuit takes)",
            trains=False,
        ),
        Backend(
            # a real IBM device through Qiskit Runtime (core/ibm/, ui/ibm_panel.py): jobs queue, are sent once and cached
            "ibm.quantum", "IBM Quantum (cloud QPU)", "qiskit", "", "qiskit_ibm_runtime", 1024, "", False,
            "exploring and test-set evaluation on a real IBM device (not training: every job waits in the "
            "device's queue, and a 30-epoch run's 412,020 circuits would need far more QPU time than an account has)",
            trains=False, needs_account=True,
        ),
    ]
}


def get_backend(name: str) -> Backend:
    if name not in BACKENDS:
        raise ValueError(f"unknown backend {name!r}; choose one of {', '.join(BACKENDS)}")
    backend = BACKENDS[name]
    if not backend.installed:
        raise RuntimeError(f"backend {name!r} needs the Python module {backend.module!r}: pip install -r requirements.txt")
    return backend


def installed_backends() -> list[Backend]:
    """The registered backends whose simulator is importable here."""
    return [b for b in BACKENDS.values() if b.installed]


def training_backends() -> list[Backend]:
    """The installed backends a model can be trained on."""
    return [b for b in installed_backends() if b.trains]


def local_backends() -> list[Backend]:
    """The installed backends that run here, without an account (the simulators a visitor may pick)."""
    return [b for b in installed_backends() if not b.needs_account]
