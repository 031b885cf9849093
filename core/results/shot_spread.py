"""Would this work on a real quantum computer, for this photo? Its circuit rerun R times with S shots each.

A device returns S readouts of 0/1 per qubit, not ⟨Z⟩: each run's ⟨Z⟩ estimate, and so the
model's P(mask), differs a little from the exact value. :func:`shot_spread` runs the photo's
circuit R times in one batched call on a registered simulator (optionally with a fake IBM
device's noise on qiskit.aer) and reports the spread, how often the label flips, and what the
same runs would cost on a cloud QPU (:mod:`core.results.qpu_estimate`).

Class index 0 is "mask" (``core.data``'s CLASSES order, which every checkpoint records).
"""

from __future__ import annotations

import numbers
import time
from dataclasses import dataclass

import numpy as np
import torch

from core.circuit.readout import expvals_from_probabilities
from core.data.dataset import CLASSES
from core.execution.backends import get_backend, local_backends
from core.execution.factory import make_executor
from core.execution.settings import ExecutionSettings, check_shots
from core.execution.single_circuit import exact_probabilities
from core.learning.heads import DressedQuantumHead
from core.results.qpu_estimate import QPUAssumptions, estimate, human_duration

MASK = 0  # index of "mask" in a checkpoint's classes
MAX_REPEATS = 200


@dataclass
class ShotSpread:
    """R sampled values of one photo's P(mask) beside the exact one, and the cost of the same runs on a QPU."""

    backend: str
    shots: int  # S, per run
    noise: str | None  # the fake device whose noise was simulated, or None
    seed: int
    exact: float  # P(mask) from the exact (analytic) state
    values: list[float]  # P(mask) of each of the R runs
    mean: float
    std: float  # sample standard deviation of ``values`` (0 for one run)
    exact_label: str
    flip_rate: float  # fraction of runs whose label differs from ``exact_label``
    qpu: dict  # core.results.qpu_estimate.estimate for the R circuits
    cost_sentence: str  # the estimate in one plain sentence
    seconds: float  # wall time of the R simulated runs here

    @property
    def repeats(self) -> int:
        return len(self.values)

    @property
    def standard_error(self) -> float:
        """Standard error of ``mean``: how far it may sit from the runs' true average."""
        return self.std / np.sqrt(self.repeats)

    @property
    def flips(self) -> int:
        """Runs whose label differs from the exact label."""
        return round(self.flip_rate * self.repeats)


def check_repeats(repeats: object) -> int:
    """A number of runs: a whole number from 1 to MAX_REPEATS, else a ValueError that says so."""
    if isinstance(repeats, bool) or not isinstance(repeats, numbers.Integral) or not 1 <= repeats <= MAX_REPEATS:
        raise ValueError(f"repeats must be a whole number between 1 and {MAX_REPEATS}, got {repeats!r}")
    return int(repeats)


def shot_spread(head: DressedQuantumHead, angles, repeats: int, shots: int, backend: str = "default.qubit",
                noise: str | None = None, seed: int = 0) -> ShotSpread:
    """Rerun the circuit of one photo (input ``angles``, shape (n,)) ``repeats`` times with ``shots`` shots each.

    All runs go to ``backend`` in one batched call of identical rows, each row sampled on its own; ``noise``
    names a fake IBM device (``core.execution.noise``; qiskit.aer only). Bad input is a ValueError saying why.
    """
    repeats, shots = check_repeats(repeats), check_shots(shots)
    a, weights = _check_head_and_angles(head, angles)
    settings = _settings(backend, shots, seed, noise)
    exact = float(_p_mask(head, expvals_from_probabilities(exact_probabilities(head.spec, a, weights), head.spec.n_qubits)))
    executor = make_executor(head.spec, settings)
    started = time.perf_counter()
    with torch.no_grad():
        expvals = executor.expvals(torch.tensor(np.tile(a, (repeats, 1))), head.q_params.detach())
    seconds = time.perf_counter() - started
    values = _p_mask(head, expvals.numpy())
    exact_is_mask = exact >= 0.5  # argmax of two logits: the first (mask) wins a tie, as P(mask) = 0.5 does
    qpu = estimate(repeats, QPUAssumptions(shots_per_circuit=shots))
    return ShotSpread(
        backend=backend, shots=shots, noise=settings.noise, seed=seed, exact=exact, values=values.tolist(),
        mean=float(values.mean()), std=float(values.std(ddof=1)) if repeats > 1 else 0.0,
        exact_label=CLASSES[MASK] if exact_is_mask else CLASSES[1 - MASK],
        flip_rate=float(np.mean((values >= 0.5) != exact_is_mask)), qpu=qpu, cost_sentence=cost_sentence(qpu),
        seconds=seconds,
    )


def cost_sentence(qpu: dict) -> str:
    """E.g. "On a cloud QPU these 50 runs of 1,024 shots would take about 51.0 min (…), by the project's estimate (…)"."""
    a = qpu["assumptions"]
    runs = "this run" if qpu["circuits"] == 1 else f"these {qpu['circuits']} runs"
    jobs = "1 job" if qpu["jobs"] == 1 else f"{qpu['jobs']} jobs"
    per_job = "1 circuit" if a["circuits_per_job"] == 1 else f"{a['circuits_per_job']} circuits"
    return (f"On a cloud QPU {runs} of {a['shots_per_circuit']:,} shots would take about {human_duration(qpu['total_s'])} "
            f"({human_duration(qpu['execution_s'])} on the device, {human_duration(qpu['queue_s'])} waiting in the queue "
            f"for {jobs}), by the project's estimate (assumptions: {a['queue_s_per_job']:g} s queue per job, "
            f"{a['shot_s'] * 1e6:g} µs per shot, {a['circuit_overhead_s']:g} s to load each circuit, {per_job} per job).")


def _check_head_and_angles(head, angles) -> tuple[np.ndarray, np.ndarray]:
    if not isinstance(head, DressedQuantumHead):
        raise ValueError(f"shot_spread needs a quantum head (DressedQuantumHead), got {type(head).__name__}")
    n = head.spec.n_qubits
    try:
        a = np.asarray(angles, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"angles must be {n} numbers, got {angles!r:.80}") from exc
    if a.shape != (n,):
        raise ValueError(f"angles must have shape ({n},): one angle per qubit, got shape {a.shape}")
    if not np.isfinite(a).all():
        raise ValueError(f"angles must be finite numbers (no NaN or infinity), got {a.tolist()}")
    return a, head.q_params.detach().double().numpy()


def _settings(backend: str, shots: int, seed: int, noise: str | None) -> ExecutionSettings:
    if get_backend(backend) not in local_backends():
        names = ", ".join(b.name for b in local_backends())
        raise ValueError(f"shot_spread runs on a local simulator; {backend!r} is not one (choose one of {names})")
    return ExecutionSettings(backend, shots, seed=seed, noise=noise)


def _p_mask(head: DressedQuantumHead, expvals: np.ndarray) -> np.ndarray:
    """P(mask) from ⟨Z⟩ (..., n): the head's last layer, then softmax."""
    weight = head.post_net.weight
    with torch.no_grad():
        logits = head.post_net(torch.as_tensor(np.asarray(expvals), dtype=weight.dtype))
    return logits.softmax(-1)[..., MASK].double().numpy()
