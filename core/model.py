"""The dressed quantum head (Linear -> tanh·π/2 -> circuit -> Linear) and the hybrid classifier."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from core.circuit import CircuitSpec
from core.quantum import CircuitExecutor

Q_DELTA = 0.01


@dataclass
class HeadOutput:
    """Everything the head computed for a batch: the inner values the app shows."""

    angles: torch.Tensor  # (B, n) fed to the circuit's RY embedding
    expvals: torch.Tensor  # (B, n) <Z> per qubit
    logits: torch.Tensor  # (B, classes)


class DressedQuantumHead(nn.Module):
    """Mari et al.'s dressed circuit: the trainable block B on top of the frozen backbone."""

    def __init__(self, in_features: int, spec: CircuitSpec, executor: CircuitExecutor | None, n_classes: int = 2, q_delta: float = Q_DELTA):
        super().__init__()
        self.spec = spec
        self.executor = executor
        self.pre_net = nn.Linear(in_features, spec.n_qubits)
        self.q_params = nn.Parameter(q_delta * torch.randn(spec.weight_shape))
        self.post_net = nn.Linear(spec.n_qubits, n_classes)

    def angles(self, features: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.pre_net(features)) * (math.pi / 2)

    def run(self, features: torch.Tensor) -> HeadOutput:
        if self.executor is None:
            raise RuntimeError("the head has no circuit executor; set head.executor = make_executor(...)")
        angles = self.angles(features)
        expvals = self.executor.expvals(angles, self.q_params)
        return HeadOutput(angles, expvals, self.post_net(expvals))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.run(features).logits
