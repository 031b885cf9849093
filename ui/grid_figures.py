"""Grid studies on the Backend comparison page: heatmaps over two training settings (e.g. qubits × depth)."""

from __future__ import annotations

import streamlit as st

from core.results import comparison
from ui.svg_charts import heatmap_alt, heatmap_svg

# sequential Vega schemes: darker is more accurate, darker is slower
ACCURACY_SCHEME, TIME_SCHEME = "greens", "oranges"


def heatmap_spec(rows: list[dict], value: str, title: str, legend: str, number_format: str, scheme: str) -> dict:
    """A Vega-Lite heatmap of ``value`` per grid cell (rows of :func:`core.results.comparison.grid_studies`).

    Each cell is labelled with its mean; the tooltip adds the spread over seeds and how many seeds.
    """
    first = rows[0]
    values = [{"row": r["row"], "column": r["column"], "value": r[value], "sd": r[f"{value}_sd"], "seeds": r["seeds"]}
              for r in rows]
    low, high = min(v["value"] for v in values), max(v["value"] for v in values)
    middle = (low + high) / 2
    kind = "ordinal" if all(isinstance(v["column"], (int, float)) for v in values) else "nominal"
    tooltip = [{"field": "row", "title": first["row_name"]}, {"field": "column", "title": first["column_name"]},
               {"field": "value", "title": legend, "format": number_format},
               {"field": "sd", "title": "± sd over seeds", "format": number_format}, {"field": "seeds", "title": "seeds"}]
    return {
        "title": title,
        "height": 260,
        "autosize": {"type": "fit-x", "contains": "padding"},
        "data": {"values": values},
        "encoding": {
            "x": {"field": "column", "type": kind, "title": first["column_name"], "axis": {"labelAngle": 0}},
            "y": {"field": "row", "type": "ordinal", "title": first["row_name"], "sort": "descending"},
        },
        "layer": [
            {"mark": {"type": "rect", "tooltip": True},
             "encoding": {"color": {"field": "value", "type": "quantitative", "title": legend,
                                    "scale": {"scheme": scheme}, "legend": {"orient": "right"}},
                          "tooltip": tooltip}},
            {"mark": {"type": "text", "fontSize": 12},
             "encoding": {"text": {"field": "value", "type": "quantitative", "format": number_format},
                          "color": {"condition": {"test": f"datum.value > {middle!r}", "value": "white"}, "value": "black"},
                          "tooltip": tooltip}},
        ],
    }


def show_grid_studies(records: list[dict]) -> None:
    """The page's grid section: per study, heatmaps of test accuracy and training time, and what they show."""
    studies = comparison.grid_studies(records)
    if not studies:
        return
    st.header("Grid studies: the circuit's shape")
    names = sorted(studies)
    study = st.selectbox("Study", names, key="grid_study") if len(names) > 1 else names[0]
    rows = studies[study]
    st.markdown(f"**{study}** (`python -m core experiments --grid …`), mean over the selected seeds. "
                + comparison.grid_finding(rows))
    g1, g2 = st.columns(2)
    # SVG images, not Vega-Lite charts: light for a phone's browser (bench/bench_lighthouse.py)
    for column, value, title, number_format, colour in ((g1, "test_acc", "Test accuracy (%)", ".1f", "#1e7b1e"),
                                                         (g2, "train_seconds", "Training time per run (s)", ".0f", "#d95f02")):
        column.image(heatmap_svg(rows, value, title, number_format, colour), width="stretch",
                     alt=heatmap_alt(rows, value, title, number_format))
    st.caption("Training time: the fit and the test score of one run, features not counted (computed once, shared by "
               "every run). Runs that ran side by side (on Ray) shared the machine: compare times within a study. "
               "Grid runs are left out of the curves and tables above.")
