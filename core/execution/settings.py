"""Where a circuit runs: backend, shots, seed and noise, checked once in one object."""

from __future__ import annotations

import numbers
from dataclasses import dataclass

from core.execution.backends import Backend, get_backend

MAX_SHOTS = 100_000
MAX_SEED = 2**63 - 1


def check_shots(shots: object) -> int:
    """A shot count: a whole number from 1 to MAX_SHOTS, else a ValueError that says so."""
    if isinstance(shots, bool) or not isinstance(shots, numbers.Integral) or not 1 <= shots <= MAX_SHOTS:
        raise ValueError(f"shots must be a whole number between 1 and {MAX_SHOTS}, got {shots!r}")
    return int(shots)


def resolve_shots(backend: str, shots: int | str | None = "default") -> int | None:
    """``"default"`` gives the backend's default; 0 or None means analytic; else a checked count."""
    if shots == "default":
        return get_backend(backend).default_shots
    get_backend(backend)
    if shots is None or (shots == 0 and not isinstance(shots, bool)):
        return None
    return check_shots(shots)


def parse_shots(text: str) -> int | str | None:
    """A shot count as typed on a command line: a number, ``analytic`` (or ``0``, ``none``), or ``default``."""
    text = str(text).strip().lower()
    if text == "default":
        return "default"
    if text in ("0", "none", "analytic"):
        return None
    try:
        return check_shots(int(text))
    except ValueError:
        raise ValueError(f"shots must be a whole number between 1 and {MAX_SHOTS}, 'analytic' or 'default', "
                         f"got {text!r}") from None


def noise_unsupported(backend: str) -> str:
    return f"backend {backend!r} does not take a noise model; use qiskit.aer"


@dataclass(frozen=True)
class ExecutionSettings:
    """Backend, shots (None: analytic; ``"default"``: the backend's), seed and a fake device's noise.

    Every check happens here, on creation; whatever receives an ``ExecutionSettings`` can trust it.
    """

    backend: str = "default.qubit"
    shots: int | str | None = "default"
    seed: int | None = None
    noise: str | None = None

    def __post_init__(self) -> None:
        backend = get_backend(self.backend)
        object.__setattr__(self, "shots", resolve_shots(self.backend, self.shots))
        if self.seed is not None:
            if isinstance(self.seed, bool) or not isinstance(self.seed, numbers.Integral) or not 0 <= self.seed <= MAX_SEED:
                raise ValueError(f"seed must be a whole number from 0 to 2**63 - 1, got {self.seed!r}")
            object.__setattr__(self, "seed", int(self.seed))
        if self.noise:
            from core.execution.noise import describe

            describe(self.noise)  # an unknown device name is a ValueError naming the known ones
            if not backend.supports_noise:
                raise ValueError(noise_unsupported(self.backend))
            if self.shots is None:
                raise ValueError("a noisy simulation needs shots: give a shot count")
        else:
            object.__setattr__(self, "noise", None)

    @property
    def info(self) -> Backend:
        return get_backend(self.backend)

    @property
    def analytic(self) -> bool:
        return self.shots is None

    def describe(self) -> str:
        shots = "analytic" if self.shots is None else f"{self.shots} shots"
        return f"{self.backend} ({shots}{', noise ' + self.noise if self.noise else ''})"
