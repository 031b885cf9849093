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
