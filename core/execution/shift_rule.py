"""Sampling backends with shots: the parameter-shift rule done by us, every forward and shifted row in one batch.

A sampler (``core.execution.aer_sampler``, ``core.execution.cirq_sampler``)
turns parameter rows into ⟨Z⟩ per row; this executor builds the rows.
"""

from __future__ import annotations

import math
from typing import Protocol

import numpy as np

from core.circuit.definition import CircuitSpec, parameter_rows
from core.execution.executor import NumpyVJPExecutor, split_gradient
from core.execution.settings import ExecutionSettings

SHIFT = math.pi / 2  # RY's generator is Y/2: the two-term shift rule is exact


def draw_counts(probs: np.ndarray, shots: int, rng: np.random.Generator) -> np.ndarray:
    """Counts (M, 2**n) of ``shots`` measurements per row of probabilities (M, 2**n), all rows in one call.

    A multinomial draw of ``shots`` outcomes is the distribution of ``shots``
    independent terminal measurements of that state.
    """
    probs = np.clip(probs, 0.0, None)
    return rng.multinomial(shots, probs / probs.sum(axis=1, keepdims=True))


def expvals_from_shots(probs: np.ndarray, shots: int | None, signs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """⟨Z⟩ per qubit (M, n) from probabilities (M, 2**n) and Z signs (2**n, n): exact when ``shots`` is None, else sampled."""
    if shots is None:
        probs = np.clip(probs, 0.0, None)
        return probs / probs.sum(axis=1, keepdims=True) @ signs
    return draw_counts(probs, shots, rng) @ signs / shots


class BatchSampler(Protocol):
    def run(self, rows: np.ndarray) -> np.ndarray:
        """⟨Z⟩ per qubit (M, n) for parameter rows (M, n_params)."""


class ShiftRuleExecutor(NumpyVJPExecutor):
    """Forward rows and all 2·P shifted rows of a step go to the simulator as one batch."""

    def __init__(self, spec: CircuitSpec, settings: ExecutionSettings, sampler: BatchSampler):
        super().__init__(spec, settings)
        self.sampler = sampler

    def _forward(self, a, w):
        rows = parameter_rows(a, w, self.spec)
        self.count.add(len(rows), self.shots)
        return self.sampler.run(rows)

    def _vjp(self, a, w, g):
        rows = parameter_rows(a, w, self.spec)  # (B, P)
        batch, n_params = rows.shape
        eye = np.eye(n_params) * SHIFT
        shifted = np.concatenate([rows[:, None, :] + eye, rows[:, None, :] - eye], axis=1)  # (B, 2P, P)
        self.count.add(batch * 2 * n_params, self.shots)
        values = self.sampler.run(shifted.reshape(-1, n_params)).reshape(batch, 2, n_params, -1)
        jacobian = (values[:, 0] - values[:, 1]) / 2.0  # (B, P, n_out)
        return split_gradient(np.einsum("bpo,bo->bp", jacobian, g), self.spec)
