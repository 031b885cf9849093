"""Figures built from the real circuit code and real results (no static pictures)."""

from __future__ import annotations

import math

import numpy as np

# The article plotted Cirq, Qiskit and PennyLane in blue, orange and green.
FAMILY_COLOURS = {"cirq": "#1f77b4", "qiskit": "#ff7f0e", "pennylane": "#2ca02c", "qsharp": "#9467bd", "classical": "#7f7f7f",
                  "article": "#d62728"}


HISTOGRAM_COLOURS = ("#2ca02c", "#1f77b4")  # exact, measured


def histogram_data(counts: dict[str, int] | None, probs: np.ndarray, n_qubits: int) -> tuple[list[str], dict[str, np.ndarray]]:
    """Bitstrings in counting order, and per series ("exact probability", "measured (N shots)") a probability each."""
    labels = [format(i, f"0{n_qubits}b") for i in range(2**n_qubits)]
    series = {"exact probability": np.asarray(probs, dtype=float)}
    if counts:
        total = sum(counts.values())
        series[f"measured ({total:,} shots)"] = np.array([counts.get(b, 0) / total for b in labels])
    return labels, series


def histogram_svg(counts: dict[str, int] | None, probs: np.ndarray, n_qubits: int, title: str) -> str:
    """Measured bitstring frequencies next to the exact probabilities, as a plain SVG for ``st.image``: no chart
    library for the browser to load and run, which keeps a page light on a phone. Pair it with :func:`histogram_alt`."""
    from html import escape

    labels, series = histogram_data(counts, probs, n_qubits)
    left, top, plot_w, plot_h, bottom = 46, 34, 640, 220, 70 if n_qubits > 4 else 52
    width, height = left + plot_w + 12, top + plot_h + bottom
    top_value = max(0.05, float(max(v.max() for v in series.values())))
    y_max = math.ceil(top_value * 10) / 10 if top_value > 0.1 else math.ceil(top_value * 20) / 20
    group = plot_w / len(labels)
    bar = group * 0.8 / len(series)
    y = lambda v: top + plot_h * (1 - v / y_max)  # noqa: E731
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
             f'font-family="sans-serif"><title>{escape(title)}</title>',
             f'<text x="{left}" y="16" font-size="14" fill="#222">{escape(title)}</text>']
    for tick in np.linspace(0, y_max, 5):
        parts.append(f'<line x1="{left}" y1="{y(tick):.1f}" x2="{left + plot_w}" y2="{y(tick):.1f}" stroke="#ddd"/>'
                     f'<text x="{left - 5}" y="{y(tick) + 4:.1f}" font-size="11" text-anchor="end" fill="#333">{tick:.3g}</text>')
    for s, (values, colour) in enumerate(zip(series.values(), HISTOGRAM_COLOURS)):
        for i, v in enumerate(values):
            x = left + i * group + group * 0.1 + s * bar
            parts.append(f'<rect x="{x:.1f}" y="{y(v):.1f}" width="{bar:.1f}" height="{top + plot_h - y(v):.1f}" '
                         f'fill="{colour}"/>')
    every = max(1, len(labels) // 32)
    for i in range(0, len(labels), every):
        x, base = left + (i + 0.5) * group, top + plot_h + 12
        turn = f' transform="rotate(-90 {x:.1f} {base + 20:.1f})"' if n_qubits > 4 else ""
        parts.append(f'<text x="{x:.1f}" y="{base + (20 if n_qubits > 4 else 0):.1f}" font-size="10" text-anchor="middle" '
                     f'fill="#333"{turn}>{labels[i]}</text>')
    legend_y = height - 10
    for s, (name, colour) in enumerate(zip(series, HISTOGRAM_COLOURS)):
        x = left + s * 220
        parts.append(f'<rect x="{x}" y="{legend_y - 9}" width="10" height="10" fill="{colour}"/>'
                     f'<text x="{x + 14}" y="{legend_y}" font-size="11" fill="#333">{escape(name)}</text>')
    parts.append(f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#444"/></svg>')
    return "".join(parts)


def histogram_alt(counts: dict[str, int] | None, probs: np.ndarray, n_qubits: int, shown: int = 4) -> str:
    """What :func:`histogram_svg` shows, in words: the most likely bitstrings with their probabilities."""
    labels, series = histogram_data(counts, probs, n_qubits)
    parts = []
    for name, values in series.items():
        top = np.argsort(-values, kind="stable")[:shown]
        parts.append(f"{name}: " + ", ".join(f"{labels[i]} {values[i]:.3f}" for i in top))
    return (f"Bar chart of the {len(labels)} bitstrings (qubit 0 first); the most likely, per series — "
            + "; ".join(parts) + ".")


def markdown_table(columns: dict[str, list], digits: int = 4) -> str:
    """A small table as Markdown: it draws at once, where ``st.dataframe`` first fetches its grid's scripts."""
    names = list(columns)
    cell = lambda v: f"{v:.{digits}f}" if isinstance(v, float) else str(v)  # noqa: E731
    rows = zip(*(columns[n] for n in names))
    header = [f"| {' | '.join(names)} |", f"|{'---:|' * len(names)}"]
    return "\n".join(header + [f"| {' | '.join(cell(v) for v in row)} |" for row in rows])


def curve_lines(groups: dict[str, list[dict]], series: list[str], metric: str, article_log: list[dict] | None = None,
                article_name: str = "the article") -> list:
    """Per series, the mean over its runs (seeds) of ``metric`` per epoch, with a ± one standard deviation band, as
    :class:`ui.svg_charts.Line` objects for ``lines_svg``; ``article_log`` adds the article's published epochs, dashed."""
    from core.results.comparison import epoch_curves, family
    from ui.svg_charts import Line

    lines, seen = [], []
    for label in series:
        runs = groups[label]
        points = epoch_curves(runs)
        mean = [r[metric] for r in points]
        low = [r[metric] - r[f"{metric}_sd"] for r in points]
        high = [r[metric] + r[f"{metric}_sd"] for r in points]
        if metric.endswith("_acc"):  # an accuracy band stays within [0, 1]
            low, high = [max(v, 0.0) for v in low], [min(v, 1.0) for v in high]
        band = len(runs) > 1
        colour = FAMILY_COLOURS[family(runs[0])]
        seen.append(colour)
        dash = ("", "4 3", "1 3", "8 3")[(seen.count(colour) - 1) % 4]  # series of one family: told apart by the stroke
        lines.append(Line(f"{label} (n={len(runs)})", colour, [r["epoch"] for r in points], mean,
                          low if band else None, high if band else None, dash))
    if article_log and metric in ("train_acc", "val_acc", "train_loss", "val_loss"):
        lines.append(Line(article_name, FAMILY_COLOURS["article"], [e["epoch"] for e in article_log],
                          [e[metric] for e in article_log], dash="6 4"))
    return lines
