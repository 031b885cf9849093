"""Grid studies on the Backend comparison page: heatmaps over two training settings (e.g. qubits × depth)."""

from __future__ import annotations

import streamlit as st

from core.results import comparison
from ui.svg_charts import heatmap_alt, heatmap_svg


def show_grid_studies(studies: dict[str, list[dict]], heading: bool = True) -> None:
    """The page's grid section: per study (``comparison.grid_studies``), heatmaps of test accuracy and training time,
    and what they show.

    ``heading``: start with the section's header (not inside a tab that already names it).
    """
    if not studies:
        return
    if heading:
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
               "Grid runs are left out of the other curves and tables.")
