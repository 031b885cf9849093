"""NISQ noise: Qiskit Aer noise models taken from fake IBM devices (qiskit-ibm-runtime)."""

from __future__ import annotations

from functools import cache

# Qiskit's packages are imported inside the functions that use them: naming a noise device must not wait seconds for them.

# FakeManilaV2: a 5-qubit Falcon with a linear coupling map 0-1-2-3-4, so the
# circuit's nearest-neighbour CNOTs need no SWAPs; its calibrated gate errors,
# T1/T2 and readout errors become the noise.
NOISE_DEVICES = {
    "fake_manila": ("FakeManilaV2", "IBM Manila (5-qubit Falcon r5.11L, linear coupling map: no SWAPs for this circuit)"),
    "fake_lima": ("FakeLimaV2", "IBM Lima (5-qubit Falcon r4T, T-shaped coupling map)"),
    "fake_belem": ("FakeBelemV2", "IBM Belem (5-qubit Falcon r4T, T-shaped coupling map)"),
}
DEFAULT_NOISE_DEVICE = "fake_manila"
NOISY_MAX_QUBITS = 5  # every device above has 5 qubits


def noise_device_names() -> list[str]:
    return list(NOISE_DEVICES)


def describe(name: str) -> str:
    return NOISE_DEVICES[_check(name)][1]


def short_label(name: str) -> str:
    """E.g. "fake IBM Manila": what a widget calls the noise."""
    return "fake " + describe(name).split(" (")[0]


WHY = ("a real IBM device's calibrated gate, T1/T2 and readout errors, shipped with qiskit-ibm-runtime so it works "
       "offline; 5 qubits fit the 4-qubit circuit and the linear coupling map needs no SWAPs for its nearest-neighbour CNOTs")


def noise_record(name: str) -> dict:
    """What a run record says about its noise model: which device, and why this one."""
    return {"name": name, "device": NOISE_DEVICES[_check(name)][0], "description": describe(name), "why": WHY}


def _check(name: str) -> str:
    if name not in NOISE_DEVICES:
        raise ValueError(f"unknown noise device {name!r}; choose one of {', '.join(NOISE_DEVICES)}")
    return name


@cache
def fake_backend(name: str):
    """The fake IBM backend object (calibration data shipped with qiskit-ibm-runtime)."""
    from qiskit_ibm_runtime import fake_provider

    return getattr(fake_provider, NOISE_DEVICES[_check(name)][0])()


@cache
def noisy_simulator(name: str):
    """An AerSimulator that mimics the fake device: its noise model, basis gates and coupling map."""
    from qiskit_aer import AerSimulator

    return AerSimulator.from_backend(fake_backend(name))


@cache
def noise_model(name: str):
    """The fake device's Aer noise model: gate, T1/T2 and readout errors."""
    from qiskit_aer.noise import NoiseModel

    return NoiseModel.from_backend(fake_backend(name))


@cache
def device_circuit(spec, name: str):
    """The dressed circuit transpiled for the fake device, unmeasured: (circuit, theta, layout).

    ``layout[v]`` is the device qubit that carries circuit qubit ``v`` at the end. Transpiled once per
    (spec, device); the callers copy it before adding measurements.
    """
    from qiskit import transpile

    from core.circuit.qiskit_circuit import qiskit_circuit

    circuit, theta = qiskit_circuit(spec)
    layout = list(range(spec.n_qubits))
    compiled = transpile(circuit, noisy_simulator(name), initial_layout=layout, optimization_level=1, seed_transpiler=0)
    return compiled, theta, list(compiled.layout.final_index_layout())


def check_exact_noise(name: str, model=None) -> None:
    """A ValueError unless the device's noise (or ``model``, an Aer NoiseModel) is what the exact path reproduces.

    That is: gate errors local to their gate, none on RZ (the parameterised
    gate) and none on measurement beyond readout errors, which flip each
    measured bit on its own.
    """
    for error in _error_records(name) if model is None else model.to_dict()["errors"]:
        operations = set(error.get("operations", []))
        if error["type"] == "qerror" and (operations & {"rz", "measure"} or "noise_qubits" in error):
            raise ValueError(f"noise device {name!r} has an error on {', '.join(sorted(operations))} that the exact noisy "
                             "path does not reproduce: it needs noiseless RZ and measurement, and errors local to their gate")
        if error["type"] == "roerror" and any(len(qubits) != 1 for qubits in error.get("gate_qubits", [[0]])):
            raise ValueError(f"noise device {name!r} has a correlated readout error: the exact noisy path does not reproduce it")


def readout_confusion(name: str, qubits) -> list:
    """Per device qubit in ``qubits``: its readout error as a 2×2 matrix, entry [a, b] = P(read b | the qubit is a)."""
    import numpy as np

    local, default = {}, np.eye(2)
    for error in _error_records(name):
        if error["type"] != "roerror":
            continue
        matrix = np.asarray(error["probabilities"], dtype=float)
        if "gate_qubits" not in error:
            default = matrix
        for (qubit,) in error.get("gate_qubits", []):
            local[qubit] = matrix
    return [local.get(q, default) for q in qubits]


@cache
def _error_records(name: str) -> list[dict]:
    """The noise model's errors as plain records (type, operations, gate_qubits, probabilities)."""
    return noise_model(name).to_dict()["errors"]
