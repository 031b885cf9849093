"""Figures built from the real circuit code and real results (no static pictures)."""

from __future__ import annotations

import numpy as np
import streamlit as st

from core.circuit import CircuitSpec, circuit_tape


@st.cache_resource(show_spinner=False)
def circuit_figure(spec: CircuitSpec, angles: tuple | None = None, weights: tuple | None = None):
    """PennyLane's drawing of the circuit the model runs (a matplotlib figure)."""
    import matplotlib

    matplotlib.use("Agg")
    import pennylane as qml

    a = np.zeros(spec.n_qubits) if angles is None else np.asarray(angles)
    w = np.zeros(spec.weight_shape) if weights is None else np.asarray(weights).reshape(spec.weight_shape)
    tape = circuit_tape(a, w, spec)
    fig, _ = qml.drawer.tape_mpl(tape, decimals=2 if angles is not None else None, style="pennylane")
    fig.set_size_inches(max(6, 1.1 * len(tape.operations) / max(spec.n_qubits, 1)), 0.7 * spec.n_qubits + 1)
    return fig


def histogram_figure(counts: dict[str, int] | None, probs: np.ndarray, n_qubits: int, title: str):
    """Measured bitstring frequencies next to the exact probabilities (Plotly)."""
    import plotly.graph_objects as go

    labels = [format(i, f"0{n_qubits}b") for i in range(2**n_qubits)]
    fig = go.Figure()
    fig.add_bar(x=labels, y=probs, name="exact probability", marker_color="#2ca02c", opacity=0.55)
    if counts:
        total = sum(counts.values())
        fig.add_bar(x=labels, y=[counts.get(b, 0) / total for b in labels], name=f"measured ({total:,} shots)", marker_color="#1f77b4")
    fig.update_layout(title=title, barmode="group", xaxis_title="bitstring (qubit 0 first)", yaxis_title="probability",
                      height=340, margin=dict(l=10, r=10, t=40, b=10), legend=dict(orientation="h", y=-0.3))
    fig.update_xaxes(type="category", categoryorder="array", categoryarray=labels)  # "0101" is a label, not the number 101
    return fig
