"""Figures built from the real circuit code and real results (no static pictures)."""

from __future__ import annotations

import numpy as np
import streamlit as st

from core.circuit import CircuitSpec, symbolic_ops


@st.cache_resource(show_spinner=False)
def circuit_figure(spec: CircuitSpec, angles: tuple | None = None, weights: tuple | None = None):
    """The circuit the model runs, drawn gate by gate from :func:`core.circuit.symbolic_ops` (a matplotlib figure).

    With ``angles`` and ``weights`` the RY gates show their values, else their parameter names.
    """
    from matplotlib.figure import Figure

    n = spec.n_qubits
    values = None if angles is None else list(angles) + list(weights or [])
    placed, free = [], [0] * n
    for name, wires, k in symbolic_ops(spec):
        span = range(min(wires), max(wires) + 1)
        column = max(free[w] for w in span)
        for w in span:
            free[w] = column + 1
        placed.append((column, name, wires, k))
    columns = max(free) if placed else 1
    fig = Figure(figsize=(max(6.0, 0.62 * columns + 1.2), 0.6 * n + 0.6))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(-1.1, columns + 0.2)
    ax.set_ylim(n - 0.4, -0.6)
    ax.axis("off")
    for w in range(n):
        ax.plot([-0.5, columns], [w, w], color="#444", lw=1, zorder=0)
        ax.text(-0.65, w, f"q{w}", ha="right", va="center", fontsize=10)
    for column, name, wires, k in placed:
        x = column + 0.25
        if name == "CNOT":
            control, target = wires
            ax.plot([x, x], [control, target], color="#222", lw=1.2, zorder=1)
            ax.add_patch(_circle((x, control), 0.08, filled=True))
            ax.add_patch(_circle((x, target), 0.2, filled=False))
            ax.plot([x - 0.2, x + 0.2], [target, target], color="#222", lw=1.2, zorder=3)
            ax.plot([x, x], [target - 0.2, target + 0.2], color="#222", lw=1.2, zorder=3)
            continue
        label = "H" if name == "Hadamard" else _ry_label(k, n, values)
        colour = "#e8f1fb" if name == "Hadamard" else ("#eaf6ea" if k is not None and k < n else "#fff4e5")
        ax.text(x, wires[0], label, ha="center", va="center", fontsize=8 if len(label) > 2 else 10, zorder=4,
                bbox=dict(boxstyle="round,pad=0.3", facecolor=colour, edgecolor="#555"))
    return fig


def _circle(centre, radius: float, filled: bool):
    from matplotlib.patches import Circle

    return Circle(centre, radius, facecolor="#222" if filled else "white", edgecolor="#222", lw=1.2, zorder=2)


def _ry_label(k: int, n: int, values: list | None) -> str:
    if values is not None:
        return f"RY\n{float(values[k]):.2f}"
    return f"RY\nx{k}" if k < n else f"RY\nw{(k - n) // n},{(k - n) % n}"


HISTOGRAM_COLOURS = ("#2ca02c", "#1f77b4")  # exact, measured


def histogram_data(counts: dict[str, int] | None, probs: np.ndarray, n_qubits: int) -> tuple[list[str], dict[str, np.ndarray]]:
    """Bitstrings in counting order, and per series ("exact probability", "measured (N shots)") a probability each."""
    labels = [format(i, f"0{n_qubits}b") for i in range(2**n_qubits)]
    series = {"exact probability": np.asarray(probs, dtype=float)}
    if counts:
        total = sum(counts.values())
        series[f"measured ({total:,} shots)"] = np.array([counts.get(b, 0) / total for b in labels])
    return labels, series


def histogram_figure(counts: dict[str, int] | None, probs: np.ndarray, n_qubits: int, title: str):
    """Measured bitstring frequencies next to the exact probabilities (Plotly: zoom and hover, for the explorer)."""
    import plotly.graph_objects as go

    labels, series = histogram_data(counts, probs, n_qubits)
    fig = go.Figure()
    for (name, values), colour, opacity in zip(series.items(), HISTOGRAM_COLOURS, (0.55, 1.0)):
        fig.add_bar(x=labels, y=values, name=name, marker_color=colour, opacity=opacity)
    fig.update_layout(title=title, barmode="group", xaxis_title="bitstring (qubit 0 first)", yaxis_title="probability",
                      height=340, margin=dict(l=10, r=10, t=40, b=10), legend=dict(orientation="h", y=-0.3))
    fig.update_xaxes(type="category", categoryorder="array", categoryarray=labels)  # "0101" is a label, not the number 101
    return fig


def histogram_spec(counts: dict[str, int] | None, probs: np.ndarray, n_qubits: int, title: str) -> dict:
    """The same histogram as a Vega-Lite spec for ``st.vega_lite_chart``: what the Predict page shows.

    A browser draws it in about half the time a Plotly figure takes (0.7 s vs 1.5 s of main-thread work),
    which counts when a whole workshop uploads at once (bench/load_test.py).
    """
    labels, series = histogram_data(counts, probs, n_qubits)
    rows = [{"bitstring": b, "series": name, "probability": float(v[i])} for name, v in series.items() for i, b in enumerate(labels)]
    order = list(series)
    return {
        "title": title,
        "height": 300,
        "data": {"values": rows},
        "mark": {"type": "bar", "tooltip": True},
        "encoding": {
            "x": {"field": "bitstring", "type": "nominal", "sort": labels, "title": "bitstring (qubit 0 first)"},
            "xOffset": {"field": "series", "type": "nominal", "sort": order},
            "y": {"field": "probability", "type": "quantitative", "title": "probability"},
            "color": {"field": "series", "type": "nominal", "sort": order,
                      "scale": {"domain": order, "range": list(HISTOGRAM_COLOURS[: len(order)])},
                      "legend": {"orient": "bottom", "title": None}},
        },
    }


def markdown_table(columns: dict[str, list], digits: int = 4) -> str:
    """A small table as Markdown: it draws at once, where ``st.dataframe`` first fetches its grid's scripts."""
    names = list(columns)
    cell = lambda v: f"{v:.{digits}f}" if isinstance(v, float) else str(v)  # noqa: E731
    rows = zip(*(columns[n] for n in names))
    return "\n".join([f"| {' | '.join(names)} |", f"|{'---:|' * len(names)}"] + [f"| {' | '.join(cell(v) for v in row)} |" for row in rows])
