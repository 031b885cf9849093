"""What a training run is asked to do: one dataclass, every bound checked in one place."""

from __future__ import annotations

import copy
import math
import numbers
from dataclasses import dataclass, fields

from core.circuit.definition import CircuitSpec
from core.execution.backends import get_backend, training_backends
from core.execution.settings import ExecutionSettings
from core.learning.backbones import get_info, resolve_device
from core.learning.heads import HEAD_KINDS, Q_DELTA
from core.paths import data_dir

MAX_EPOCHS = 200  # a bound for requests from the app; the article uses 30


@dataclass
class TrainConfig:
    """The article's protocol by default: Adam 4e-4, StepLR(10, 0.1), batch 4, 30 epochs, 4 qubits, depth 6."""

    backbone: str = "efficientnet_lite0"
    backend: str = "default.qubit"
    shots: int | None | str = "default"
    epochs: int = 30
    batch_size: int = 4
    lr: float = 4e-4
    step_size: int = 10
    gamma: float = 0.1
    q_delta: float = Q_DELTA
    n_qubits: int = 4
    depth: int = 6
    seed: int = 0
    data_dir: str | None = None
    noise: str | None = None
    head: str = "quantum"  # or a classical reference: "linear", "mlp"
    device: str = "auto"  # where the backbone runs: "cpu", "cuda", or "auto" (a CUDA GPU where torch sees one)

    @classmethod
    def from_dict(cls, settings: dict) -> TrainConfig:
        """From a request's dict (the retrain panel's): unknown keys are a ValueError, not a TypeError."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(settings) - known)
        if unknown:
            raise ValueError(f"unknown training setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        return cls(**settings)

    @property
    def spec(self) -> CircuitSpec:
        return CircuitSpec(self.n_qubits, self.depth)

    @property
    def execution(self) -> ExecutionSettings:
        """Where the circuit runs while training (checked by :class:`ExecutionSettings`)."""
        return ExecutionSettings(self.backend, self.shots, self.seed, self.noise)

    def resolved(self) -> TrainConfig:
        """A copy with defaults filled in and every bound checked."""
        cfg = copy.copy(self)
        whole = (("epochs", 1, MAX_EPOCHS), ("batch_size", 1, 256), ("step_size", 1, 10_000), ("seed", 0, 2**31 - 1))
        for name, low, high in whole:
            _check_whole(name, getattr(cfg, name), low, high)
        for name, low, high in (("lr", 1e-8, 10.0), ("gamma", 1e-6, 1.0), ("q_delta", 0.0, 10.0)):
            _check_real(name, getattr(cfg, name), low, high)
        cfg.shots = cfg.execution.shots
        backend = get_backend(cfg.backend)
        if not backend.trains:
            raise ValueError(f"{cfg.backend} is for {backend.purpose}; train on one of "
                             f"{', '.join(b.name for b in training_backends())}")
        cfg.data_dir = str(cfg.data_dir or data_dir())
        get_info(cfg.backbone)
        _ = cfg.spec
        if cfg.head not in HEAD_KINDS:
            raise ValueError(f"unknown head {cfg.head!r}; choose one of {', '.join(HEAD_KINDS)}")
        if cfg.device != "auto":  # "auto" is settled where the backbone loads (a sweep's worker may have a GPU)
            resolve_device(cfg.device)  # an unknown name, or "cuda" without a GPU, fails here: in the request
        return cfg


def _check_whole(name: str, value, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not low <= value <= high:
        raise ValueError(f"{name} must be a whole number between {low} and {high}, got {value!r}")


def _check_real(name: str, value, low: float, high: float) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or not low <= value <= high:
        raise ValueError(f"{name} must be a number between {low:g} and {high:g}, got {value!r}")
