"""The dressed variational circuit: the one place that defines it.

The circuit (Mari et al. 2019; the article's defaults): a Hadamard on every
qubit, RY(angle) embedding, then ``depth`` x [CNOT on (0,1),(2,3)...,
CNOT on (1,2),(3,4)..., RY(weight) on every qubit], and <Z> on each qubit.

Everything else (PennyLane operations, the Qiskit and Cirq circuits, the
drawing, OpenQASM) is translated from :func:`symbolic_ops`, so the circuit is
written down exactly once. Plain Python: drawing it needs no simulator.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

MAX_QUBITS = 8
MAX_DEPTH = 10


@dataclass(frozen=True)
class CircuitSpec:
    """Shape of the dressed circuit."""

    n_qubits: int = 4
    depth: int = 6

    def __post_init__(self) -> None:
        # plain ints only (numpy integers are converted): no floats, bools, strings or None
        for name, low, high in (("n_qubits", 1, MAX_QUBITS), ("depth", 0, MAX_DEPTH)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not low <= value <= high:
                raise ValueError(f"{name} must be a whole number between {low} and {high}, got {value!r}")
            object.__setattr__(self, name, int(value))

    @property
    def n_params(self) -> int:
        """Gate angles per circuit: the inputs then the weights, layer by layer."""
        return self.n_qubits * (1 + self.depth)

    @property
    def weight_shape(self) -> tuple[int, int]:
        return (self.depth, self.n_qubits)


def entangling_pairs(n_qubits: int) -> list[tuple[int, int]]:
    """The CNOT pairs of one entangling layer: even pairs, then odd pairs."""
    even = [(i, i + 1) for i in range(0, n_qubits - 1, 2)]
    odd = [(i, i + 1) for i in range(1, n_qubits - 1, 2)]
    return even + odd


def symbolic_ops(spec: CircuitSpec) -> list[tuple[str, tuple[int, ...], int | None]]:
    """The dressed circuit itself: its gates as (name, wires, parameter index or None), in order.

    Parameter index k refers to the flat vector [angles (n), weights (depth*n)],
    the layout every translation (PennyLane, Qiskit, Cirq, OpenQASM, the drawing)
    binds into. Plain Python, so drawing the circuit needs no simulator.
    """
    n = spec.n_qubits
    ops: list[tuple[str, tuple[int, ...], int | None]] = [("Hadamard", (w,), None) for w in range(n)]
    ops += [("RY", (w,), w) for w in range(n)]
    for layer in range(spec.depth):
        ops += [("CNOT", pair, None) for pair in entangling_pairs(n)]
        ops += [("RY", (w,), n + layer * n + w) for w in range(n)]
    return ops


def parameter_rows(angles, weights, spec: CircuitSpec):
    """Rows of gate angles [angles (n), weights (depth*n)], one per input row: what parameter index k points into.

    ``angles`` is (n,) or (B, n); ``weights`` (depth, n). Returns a float array (B, n_params).
    """
    import numpy as np

    a = np.atleast_2d(np.asarray(angles, dtype=float))
    w = np.asarray(weights, dtype=float).reshape(-1)
    if a.shape[1] != spec.n_qubits:
        raise ValueError(f"angles need {spec.n_qubits} columns, got {a.shape[1]}")
    return np.concatenate([a, np.broadcast_to(w.reshape(1, -1), (len(a), w.size))], axis=1)


def checked_array(name: str, value, shape: tuple[int, ...], spec: CircuitSpec, batched: bool = False):
    """``value`` as a finite float array of ``shape`` (or (batch, *shape) when ``batched``), else a ValueError saying why."""
    import numpy as np

    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numbers, got {value!r:.80}") from exc
    if array.shape != shape and not (batched and array.ndim == len(shape) + 1 and array.shape[1:] == shape):
        raise ValueError(f"{name} must have shape {shape} for {spec.n_qubits} qubits and depth {spec.depth}, got {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} must be finite numbers (no NaN or infinity), got {array.tolist()}")
    return array
