"""The explorer's live circuit, as a challenge sees it: its state, exact and measured numbers, the model's verdicts."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

from core.circuit.definition import CircuitSpec
from core.circuit.readout import expvals_from_counts
from core.circuit.state_steps import bloch_vectors, states_after_steps
from core.lessons.link_state import ExplorerState

if TYPE_CHECKING:  # torch loads only when a verdict is asked for
    from core.learning.heads import DressedQuantumHead

CLASSES = ("mask", "no_mask")
SAMPLE_SEED = 0  # the explorer's seed for its measured counts


def random_weights(spec: CircuitSpec, seed: int) -> np.ndarray:
    """The explorer's seeded random weights, (depth, n) uniform in [-π, π)."""
    return np.random.default_rng(int(seed)).uniform(-np.pi, np.pi, spec.weight_shape)


def model_fits(state: ExplorerState, head: DressedQuantumHead | None) -> bool:
    """Whether ``head``'s circuit has the state's shape (so its weights can be used)."""
    return head is not None and tuple(head.q_params.shape) == (state.depth, state.n_qubits)


def circuit_weights(state: ExplorerState, head: DressedQuantumHead | None = None) -> np.ndarray:
    """The weights the explorer runs: the model's when asked for and it fits, else the seeded random ones."""
    if state.weights == "model" and model_fits(state, head):
        return head.q_params.detach().double().numpy()
    return random_weights(CircuitSpec(state.n_qubits, state.depth), state.seed)


@dataclass
class LiveCircuit:
    """One explorer view: its settings, the weights it runs, the selected model's head (or None) and its counts.

    ``counts`` (the explorer's measured histogram) is sampled here on first use when not given.
    """

    state: ExplorerState
    head: DressedQuantumHead | None = None
    classes: tuple[str, ...] = CLASSES
    counts: dict[str, int] | None = None
    weights: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.weights = circuit_weights(self.state, self.head)

    @property
    def spec(self) -> CircuitSpec:
        return CircuitSpec(self.state.n_qubits, self.state.depth)

    @property
    def angles(self) -> np.ndarray:
        return np.array(self.state.angles)

    @property
    def uses_model(self) -> bool:
        """The selected model's trained weights are in the circuit."""
        return self.state.weights == "model" and model_fits(self.state, self.head)

    @cached_property
    def statevector(self) -> np.ndarray:
        return states_after_steps(self.spec, self.angles, self.weights)[-1]

    @cached_property
    def probabilities(self) -> np.ndarray:
        """Exact bitstring probabilities (2**n,), wire 0 leftmost."""
        return np.abs(self.statevector) ** 2

    @cached_property
    def expvals(self) -> np.ndarray:
        """Exact ⟨Z⟩ per qubit."""
        return bloch_vectors(self.statevector)[:, 2]

    def measured_counts(self) -> dict[str, int]:
        """The explorer's histogram: counts from its simulator, shots and noise (seed 0). A ValueError for an exact view."""
        if not self.state.sampled:
            raise ValueError("this view measures no shots (measure=exact)")
        if self.counts is None:
            self.counts = sample(self.state, self.weights, self.state.shots)
        return self.counts

    def measured_expvals(self) -> np.ndarray:
        return expvals_from_counts(self.measured_counts(), self.state.n_qubits)[0]

    def verdict(self, expvals: np.ndarray) -> tuple[str, float]:
        """The model's class and its probability for given ⟨Z⟩ values (its last layer only)."""
        import torch

        with torch.no_grad():
            logits = self.head.post_net(torch.as_tensor(np.asarray(expvals), dtype=self.head.q_params.dtype))
            probabilities = logits.softmax(-1).numpy()
        best = int(probabilities.argmax())
        return self.classes[best], float(probabilities[best])

    def model_probabilities(self) -> dict[str, float]:
        """The model's class probabilities for the state's input angles, through its own circuit executor."""
        import torch

        with torch.no_grad():
            out = self.head.from_angles(torch.as_tensor(self.angles[None], dtype=self.head.q_params.dtype))
            probabilities = out.logits.softmax(-1)[0].numpy()
        return {c: float(p) for c, p in zip(self.classes, probabilities)}


def sample(state: ExplorerState, weights: np.ndarray, shots: int) -> dict[str, int]:
    """Counts as the explorer measures them: the state's simulator and noise, seed 0."""
    from core.execution.noise import DEFAULT_NOISE_DEVICE
    from core.execution.settings import ExecutionSettings
    from core.execution.single_circuit import sample_counts

    settings = ExecutionSettings(state.sim, int(shots), seed=SAMPLE_SEED, noise=DEFAULT_NOISE_DEVICE if state.noise else None)
    return sample_counts(CircuitSpec(state.n_qubits, state.depth), np.array(state.angles), weights, settings)


def total_variation(counts: dict[str, int], probabilities: Any) -> float:
    """½ Σ |measured frequency − exact probability| over every bitstring (wire 0 leftmost)."""
    probabilities = np.asarray(probabilities, dtype=float)
    measured = np.zeros_like(probabilities)
    total = sum(counts.values())
    for bits, count in counts.items():
        measured[int(bits, 2)] = count / total
    return float(0.5 * np.abs(measured - probabilities).sum())
