"""The dressed quantum head (Linear -> tanh·π/2 -> circuit -> Linear) and the hybrid classifier."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from core.circuit.definition import CircuitSpec
from core.execution.executor import CircuitExecutor

Q_DELTA = 0.01


@dataclass
class HeadOutput:
    """Everything the head computed for a batch: the inner values the app shows."""

    angles: torch.Tensor  # (B, n) fed to the circuit's RY embedding
    expvals: torch.Tensor  # (B, n) ⟨Z⟩ per qubit
    logits: torch.Tensor  # (B, classes)


class DressedQuantumHead(nn.Module):
    """Mari et al.'s dressed circuit: the trainable block B on top of the frozen backbone."""

    def __init__(self, in_features: int, spec: CircuitSpec, executor: CircuitExecutor | None, n_classes: int = 2,
                 q_delta: float = Q_DELTA):
        super().__init__()
        self.spec = spec
        self.executor = executor
        self.pre_net = nn.Linear(in_features, spec.n_qubits)
        self.q_params = nn.Parameter(q_delta * torch.randn(spec.weight_shape))
        self.post_net = nn.Linear(spec.n_qubits, n_classes)

    def angles(self, features: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.pre_net(features)) * (math.pi / 2)

    def run(self, features: torch.Tensor) -> HeadOutput:
        return self.from_angles(self.angles(features))

    def from_angles(self, angles: torch.Tensor) -> HeadOutput:
        """The circuit and the last layer on given input angles (B, n): what-if questions skip the features."""
        if self.executor is None:
            raise RuntimeError("the head has no circuit executor; set head.executor = make_executor(spec, settings)")
        expvals = self.executor.expvals(angles, self.q_params)
        return HeadOutput(angles, expvals, self.post_net(expvals))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.run(features).logits


HEAD_KINDS = ("quantum", "linear", "mlp")


class ClassicalHead(nn.Module):
    """Classical reference heads, trained by the same loop as the dressed circuit.

    ``linear``: one Linear(features → classes), the usual transfer-learning head.
    ``mlp``: the dressed circuit's shape with the circuit swapped for a classical
    layer: Linear(→n) → tanh·π/2 → Linear(n→n) → tanh → Linear(n→classes); it has
    n²+n parameters where the circuit has depth·n (20 against 24 for the defaults).
    """

    def __init__(self, kind: str, in_features: int, spec: CircuitSpec, n_classes: int = 2):
        super().__init__()
        if kind not in ("linear", "mlp"):
            raise ValueError(f"unknown classical head {kind!r}; choose linear or mlp")
        self.kind, self.spec, self.executor = kind, spec, None
        if kind == "linear":
            self.post_net = nn.Linear(in_features, n_classes)
        else:
            self.pre_net = nn.Linear(in_features, spec.n_qubits)
            self.middle = nn.Linear(spec.n_qubits, spec.n_qubits)
            self.post_net = nn.Linear(spec.n_qubits, n_classes)

    def run(self, features: torch.Tensor) -> HeadOutput:
        if self.kind == "linear":
            empty = features.new_zeros(len(features), 0)
            return HeadOutput(empty, empty, self.post_net(features))
        angles = torch.tanh(self.pre_net(features)) * (math.pi / 2)
        hidden = torch.tanh(self.middle(angles))
        return HeadOutput(angles, hidden, self.post_net(hidden))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.run(features).logits


def build_head(kind: str, in_features: int, spec: CircuitSpec, executor: CircuitExecutor | None, n_classes: int = 2,
               q_delta: float = Q_DELTA) -> nn.Module:
    """A head of ``kind`` ("quantum", "linear" or "mlp")."""
    if kind == "quantum":
        return DressedQuantumHead(in_features, spec, executor, n_classes, q_delta)
    return ClassicalHead(kind, in_features, spec, n_classes)


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters() if p.requires_grad)
