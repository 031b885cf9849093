"""The dressed circuit's state after each of its steps, simulated in numpy from :func:`symbolic_ops`.

Cheap enough to follow one photo through the circuit on every page view: the whole circuit
for 8 qubits and depth 10 takes milliseconds. Wire 0 is the most significant (leftmost) bit,
as in PennyLane. The gates (H, RY, CNOT) are all real, so the amplitudes are real too:
their phases are 0 or π, and every Bloch vector lies in the x-z plane (y = 0).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.circuit.definition import CircuitSpec, checked_array, symbolic_ops

HADAMARD = np.array([[1, 1], [1, -1]], dtype=complex) / np.sqrt(2)
ZERO_AMPLITUDE = 1e-9  # below this an amplitude's phase is meaningless: it is reported as 0


@dataclass(frozen=True)
class Step:
    """One step of the circuit: the first ``end`` gates of :func:`symbolic_ops` applied."""

    label: str
    end: int
    description: str


@dataclass(frozen=True, eq=False)
class StepView:
    """The state after one step and what a learner can see of it."""

    step: Step
    state: np.ndarray  # (2**n,) complex amplitudes
    probabilities: np.ndarray  # (2**n,)
    phases: np.ndarray  # (2**n,) radians in (-π, π]; 0 where the amplitude is 0
    bloch: np.ndarray  # (n, 3): (x, y, z) per qubit
    purities: np.ndarray  # (n,): Tr ρ² of each qubit, 1/2 (fully entangled) to 1 (on its own)
    entropy: float  # bits of entanglement between qubits [0, n//2) and the rest

    @property
    def expvals(self) -> np.ndarray:
        """⟨Z⟩ per qubit: what the head reads after the last step."""
        return self.bloch[:, 2]


def circuit_steps(spec: CircuitSpec) -> list[Step]:
    """The start, the Hadamards, the RY(θ) embedding, then each entangling layer (CNOTs + RY(w))."""
    _check_spec(spec)
    n = spec.n_qubits
    # step 0 the Hadamards, 1 the embedding RY, 1 + L layer L; a CNOT belongs to the step of the RY after it
    ends: dict[int, int] = {}
    cnots: dict[int, list] = {}
    waiting: list = []
    for i, (name, wires, k) in enumerate(symbolic_ops(spec), start=1):
        if name == "CNOT":
            waiting.append(wires)
            continue
        group = 0 if k is None else 1 + k // n
        ends[group], cnots[group], waiting = i, cnots.get(group, []) + waiting, []
    steps = [Step(f"Start |{'0' * n}⟩", 0, "Every qubit starts in |0⟩: the photo has not reached the circuit yet."),
             Step("After the Hadamards", ends[0], "A Hadamard on each qubit puts it in an equal superposition of |0⟩ "
                                                  f"and |1⟩, so each of the {2**n} bitstrings is equally likely."),
             Step("After the embedding RY(θ)", ends[1], "Each qubit is turned about the y axis by its input angle θ, "
                                                        "computed from the photo: the photo is now written into the state, "
                                                        "one qubit at a time (no entanglement yet).")]
    for group in range(2, len(ends)):
        layer, pairs = group - 1, ", ".join(f"({c},{t})" for c, t in cnots[group])
        noun = "pairs" if len(cnots[group]) > 1 else "pair"
        if pairs:
            steps.append(Step(f"After layer {layer} (CNOTs + RY)", ends[group],
                              f"CNOTs on the neighbouring {noun} {pairs} entangle the qubits, then each qubit is turned "
                              f"by its trained weight RY(w) of layer {layer}."))
        else:
            steps.append(Step(f"After layer {layer} (RY)", ends[group],
                              f"The qubit is turned by its trained weight RY(w) of layer {layer} (one qubit: no CNOT)."))
    return steps


def _check_spec(spec: Any) -> None:
    if not isinstance(spec, CircuitSpec):
        raise ValueError(f"spec must be a CircuitSpec, got {type(spec).__name__}")


def check_values(spec: CircuitSpec, angles: Any, weights: Any) -> np.ndarray:
    """The flat gate angles [angles (n), weights (depth*n)] as floats, else a ValueError saying what is wrong."""
    _check_spec(spec)
    checked = [checked_array(name, value, shape, spec).reshape(-1)
               for name, value, shape in (("angles", angles, (spec.n_qubits,)), ("weights", weights, spec.weight_shape))]
    return np.concatenate(checked)


def ry_matrix(theta: float) -> np.ndarray:
    """RY(θ) = exp(-iθY/2), PennyLane's convention."""
    c, s = np.cos(theta / 2), np.sin(theta / 2)
    return np.array([[c, -s], [s, c]], dtype=complex)


def _apply(state: np.ndarray, n: int, name: str, wires: tuple[int, ...], theta: float | None) -> np.ndarray:
    """The flat ``state`` after one gate."""
    if name == "CNOT":
        control, target = wires
        psi = state.reshape((2,) * n)
        out = psi.copy()
        on = [slice(None)] * n
        on[control] = 1
        axis = target - (target > control)  # the target's axis once the control's is indexed away
        out[tuple(on)] = np.flip(psi[tuple(on)], axis=axis)
        return out.reshape(-1)
    matrix = HADAMARD if name == "Hadamard" else ry_matrix(theta)
    wire = wires[0]
    # (wires before, this wire, wires after): the 2x2 matrix multiplies the middle axis
    return (matrix @ state.reshape(2**wire, 2, -1)).reshape(-1)


def states_after_steps(spec: CircuitSpec, angles: Any, weights: Any) -> list[np.ndarray]:
    """The state vector (2**n,) after each of :func:`circuit_steps`, wire 0 the most significant bit."""
    return _states(spec, check_values(spec, angles, weights), {step.end for step in circuit_steps(spec)})


def _states(spec: CircuitSpec, values: np.ndarray, ends: set[int]) -> list[np.ndarray]:
    n = spec.n_qubits
    state = np.zeros(2**n, dtype=complex)
    state[0] = 1.0
    states = [state.copy()]  # the start: no gate applied
    for i, (name, wires, k) in enumerate(symbolic_ops(spec), start=1):
        state = _apply(state, n, name, wires, None if k is None else values[k])
        if i in ends:
            states.append(state.copy())
    return states


def _tensor(state: np.ndarray) -> np.ndarray:
    state = np.asarray(state, dtype=complex)
    n = int(np.log2(state.size)) if state.size else 0
    if state.ndim != 1 or state.size < 2 or 2**n != state.size:
        raise ValueError(f"a state vector must have 2**n amplitudes for n >= 1 qubits, got shape {state.shape}")
    return state.reshape((2,) * n)


def reduced_density_matrix(state: np.ndarray, qubit: int) -> np.ndarray:
    """ρ (2, 2) of one qubit, the others traced out."""
    psi = _tensor(state)
    if not 0 <= qubit < psi.ndim:
        raise ValueError(f"qubit must be between 0 and {psi.ndim - 1}, got {qubit}")
    rows = np.moveaxis(psi, qubit, 0).reshape(2, -1)
    return rows @ rows.conj().T


def bloch_vectors(state: np.ndarray) -> np.ndarray:
    """(n, 3): the Bloch vector (Tr ρX, Tr ρY, Tr ρZ) of each qubit; its length is 1 for a qubit on its own."""
    n = _tensor(state).ndim
    state = np.asarray(state, dtype=complex)
    vectors = np.empty((n, 3))
    for q in range(n):
        split = state.reshape(2**q, 2, -1)  # (qubits before, qubit q, qubits after)
        zero, one = split[:, 0], split[:, 1]
        off = np.vdot(one, zero)  # ρ01 = Σ over the other qubits of ψ(..0..) ψ*(..1..)
        vectors[q] = 2 * off.real, -2 * off.imag, np.vdot(zero, zero).real - np.vdot(one, one).real
    return vectors


def purities(bloch: np.ndarray) -> np.ndarray:
    """Tr ρ² = (1 + |r|²) / 2 per qubit, from its Bloch vector r."""
    return (1 + np.sum(np.asarray(bloch) ** 2, axis=-1)) / 2


def entanglement_entropy(state: np.ndarray, subsystem: Sequence[int]) -> float:
    """Von Neumann entropy in bits between the qubits ``subsystem`` and the rest (0: no entanglement)."""
    psi = _tensor(state)
    part = sorted(set(int(q) for q in subsystem))
    if any(not 0 <= q < psi.ndim for q in part):
        raise ValueError(f"subsystem qubits must be between 0 and {psi.ndim - 1}, got {list(subsystem)}")
    if not part or len(part) == psi.ndim:
        return 0.0
    matrix = np.moveaxis(psi, part, range(len(part))).reshape(2 ** len(part), -1)
    weights = np.linalg.svd(matrix, compute_uv=False) ** 2
    weights = weights[weights > 1e-15] / weights.sum()
    return max(0.0, float(-np.sum(weights * np.log2(weights))))


def phases(state: np.ndarray) -> np.ndarray:
    """Each amplitude's phase in radians, (-π, π]; 0 where the amplitude is (numerically) 0."""
    state = np.asarray(state, dtype=complex)
    return np.where(np.abs(state) > ZERO_AMPLITUDE, np.angle(state), 0.0)


def step_views(spec: CircuitSpec, angles: Any, weights: Any) -> list[StepView]:
    """Per step of :func:`circuit_steps`: the state, its probabilities, phases, Bloch vectors, purities and entropy."""
    values, steps = check_values(spec, angles, weights), circuit_steps(spec)
    views, half = [], list(range(spec.n_qubits // 2))
    for step, state in zip(steps, _states(spec, values, {step.end for step in steps})):
        bloch = bloch_vectors(state)
        views.append(StepView(step, state, np.abs(state) ** 2, phases(state), bloch, purities(bloch),
                              entanglement_entropy(state, half)))
    return views
