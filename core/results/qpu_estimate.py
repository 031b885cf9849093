"""What a recorded training would need on a cloud QPU: jobs, shots and time.

From a run record's circuit and shot counts and a few assumptions the user can
change (queue wait per job, execution time per shot, circuits a job may hold).
The article sent one circuit per job and estimated up to a week per epoch.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class QPUAssumptions:
    """Assumed cloud QPU figures (not measurements): change them to your provider's."""

    queue_s_per_job: float = 60.0  # wait in a shared queue before a job runs
    shot_s: float = 250e-6  # one shot: reset, gates, readout, repetition delay
    circuit_overhead_s: float = 0.05  # loading and compiling one circuit on the device
    circuits_per_job: int = 1  # the article: one circuit per job
    shots_per_circuit: int = 1024


def estimate(circuits: int, assumptions: QPUAssumptions = QPUAssumptions()) -> dict:
    """Jobs, shots and seconds for ``circuits`` circuits under ``assumptions``."""
    a = assumptions
    if a.circuits_per_job < 1:
        raise ValueError("circuits_per_job must be at least 1")
    jobs = math.ceil(circuits / a.circuits_per_job)
    shots = circuits * a.shots_per_circuit
    execution = circuits * (a.circuit_overhead_s + a.shots_per_circuit * a.shot_s)
    queue = jobs * a.queue_s_per_job
    return {"circuits": circuits, "jobs": jobs, "shots": shots, "execution_s": execution, "queue_s": queue,
            "total_s": execution + queue, "assumptions": asdict(a)}


def circuits_for_training(record: dict) -> dict[str, int]:
    """Circuits a QPU would run for the recorded training: per epoch and in all.

    Analytic runs record the circuits their simulator ran (backprop or adjoint
    need no extra ones); on hardware every gradient needs the parameter-shift
    circuits, so those are counted here from the protocol: per training image
    1 + 2·P circuits, per validation image 1, P = qubits·(1 + depth).
    """
    cfg, sizes = record["config"], record["dataset"]["sizes"]
    params = cfg["n_qubits"] * (1 + cfg["depth"])
    per_epoch = sizes["train"] * (1 + 2 * params) + sizes["val"]
    epochs = len(record["epochs"])
    return {"per_epoch": per_epoch, "training": per_epoch * epochs + sizes["test"], "epochs": epochs}


def human_duration(seconds: float) -> str:
    """Seconds as the largest sensible unit: '42 s', '3.5 h', '6.2 days', '2.1 weeks'."""
    for unit, size in (("weeks", 604800), ("days", 86400), ("h", 3600), ("min", 60)):
        if seconds >= 2 * size or (unit == "min" and seconds >= 120):
            return f"{seconds / size:.1f} {unit}"
    return f"{seconds:.0f} s"
