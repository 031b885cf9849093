"""The circuit's one definition and its PennyLane translation."""

from __future__ import annotations

import numpy as np
import pytest

from core.circuit.definition import CircuitSpec, entangling_pairs, symbolic_ops
from core.circuit.pennylane_ops import circuit_ops, draw_text


def test_circuit_shape_and_bounds():
    spec = CircuitSpec()
    assert entangling_pairs(4) == [(0, 1), (2, 3), (1, 2)]
    names = [op.name for op in circuit_ops(np.zeros(4), np.zeros((6, 4)), spec)]
    assert names.count("Hadamard") == 4 and names.count("RY") == 28 and names.count("CNOT") == 18
    assert [i for _, _, i in symbolic_ops(spec) if i is not None] == list(range(28))
    text = draw_text(spec)
    assert "RY" in text and "<Z>" in text
    for bad in (dict(n_qubits=0), dict(n_qubits=9), dict(depth=-1), dict(depth=11)):
        with pytest.raises(ValueError, match="between"):
            CircuitSpec(**bad)
