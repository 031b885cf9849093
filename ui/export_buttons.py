"""The explorer's "Take this circuit home": the current circuit as PennyLane, Qiskit and Cirq programs and OpenQASM 2 and 3."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import streamlit as st

from core.circuit.definition import CircuitSpec
from core.circuit.export import export_files


def weights_note(spec: CircuitSpec, weights_from: str | int) -> str:
    """Where the weights came from: a model's checkpoint (its path) or a seed of the explorer's random draw."""
    if isinstance(weights_from, str):
        return f"trained, from the model {Path(weights_from).name}"
    return f"random, numpy.random.default_rng({weights_from}).uniform(-pi, pi, {spec.weight_shape})"


def export_buttons(spec: CircuitSpec, angles: np.ndarray, weights: np.ndarray, weights_from: str | int) -> None:
    """A download button per export of the circuit; ``weights_from`` is the model's path or the random weights' seed."""
    # a popover, not an expander: the browser draws its buttons only when opened (bench/bench_lighthouse.py)
    with st.popover("Take this circuit home: Python (PennyLane, Qiskit, Cirq) and OpenQASM", icon=":material/download:"):
        st.caption("Runnable programs with this circuit's angles and weights: each prints the exact probability of every "
                   "bitstring (wire 0 leftmost), the numbers above. The OpenQASM files load with `qiskit.qasm2.load` / "
                   "`qiskit.qasm3.load`; OpenQASM 2 also pastes into IBM Quantum Composer.")
        files = export_files(spec, angles, weights, weights_note=weights_note(spec, weights_from))
        for column, file in zip(st.columns(len(files)), files):
            column.download_button(file.label, file.text, file_name=file.filename, mime=file.mime, on_click="ignore",
                                   key=f"export-{file.kind}", help=f"Download {file.filename}", width="stretch")
