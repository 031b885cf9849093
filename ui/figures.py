"""Figures built from the real circuit code and real results (no static pictures)."""

from __future__ import annotations

import numpy as np
import streamlit as st

from core.circuit.definition import CircuitSpec, symbolic_ops

# matplotlib and Plotly are imported inside the functions that use them: a page draws only the figures it shows.

# The article plotted Cirq, Qiskit and PennyLane in blue, orange and green.
FAMILY_COLOURS = {"cirq": "#1f77b4", "qiskit": "#ff7f0e", "pennylane": "#2ca02c", "qsharp": "#9467bd", "classical": "#7f7f7f",
                  "article": "#d62728"}


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

    A browser draws it in about half the time a Plotly figure takes (docs/benchmarks.md, *Load*),
    which counts when a whole workshop uploads at once (bench/load_test.py).
    """
    labels, series = histogram_data(counts, probs, n_qubits)
    rows = [{"bitstring": b, "series": name, "probability": float(v[i])}
            for name, v in series.items() for i, b in enumerate(labels)]
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
    header = [f"| {' | '.join(names)} |", f"|{'---:|' * len(names)}"]
    return "\n".join(header + [f"| {' | '.join(cell(v) for v in row)} |" for row in rows])


def curves_spec(groups: dict[str, list[dict]], series: list[str], metric: str, title: str, axis: str,
                article_log: list[dict] | None = None, article_name: str = "the article") -> dict:
    """Per series, the mean over its runs (seeds) of ``metric`` per epoch with a ± one standard deviation band.

    A Vega-Lite spec (lighter for browsers than Plotly); ``article_log`` adds the article's published epochs, dashed.
    """
    from core.results.comparison import epoch_curves, family

    rows, order, colours = [], [], []
    for label in series:
        runs = groups[label]
        name = f"{label} (n={len(runs)})"
        order.append(name)
        colours.append(FAMILY_COLOURS[family(runs[0])])
        for r in epoch_curves(runs):
            mean, sd = r[metric], r[f"{metric}_sd"]
            low, high = mean - sd, mean + sd
            if metric.endswith("_acc"):  # an accuracy band stays within [0, 1]
                low, high = max(low, 0.0), min(high, 1.0)
            rows.append({"epoch": r["epoch"], "series": name, "value": mean, "low": low, "high": high, "runs": len(runs)})
    if article_log and metric in ("train_acc", "val_acc", "train_loss", "val_loss"):
        order.append(article_name)
        colours.append(FAMILY_COLOURS["article"])
        rows += [{"epoch": e["epoch"], "series": article_name, "value": e[metric], "runs": 1} for e in article_log]
    colour = {"field": "series", "type": "nominal", "sort": order, "scale": {"domain": order, "range": colours},
              "legend": {"orient": "bottom", "direction": "vertical", "title": None, "labelLimit": 400,
                         "symbolType": "stroke", "symbolOpacity": 1, "symbolStrokeWidth": 2}}
    y = {"type": "quantitative", "title": axis, "scale": {"zero": False}}
    tooltip = [{"field": "series"}, {"field": "epoch"}, {"field": "value", "format": ".4f"}]
    return {
        "title": title,
        "height": 300,
        "autosize": {"type": "fit-x", "contains": "padding"},  # the height is the plot's; the legend comes on top of it
        "data": {"values": rows},
        "encoding": {"x": {"field": "epoch", "type": "quantitative", "title": "epoch"}, "color": colour},
        "layer": [
            {"transform": [{"filter": "datum.runs > 1"}], "mark": {"type": "area", "opacity": 0.15},
             "encoding": {"y": {"field": "low", **y}, "y2": {"field": "high"}}},
            {"mark": {"type": "line", "point": {"size": 18}},
             "encoding": {"y": {"field": "value", **y}, "tooltip": tooltip,
                          "strokeDash": {"field": "series", "type": "nominal", "sort": order, "legend": None}}},
        ],
    }
