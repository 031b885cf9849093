"""The decision atlas: every test image as a point in the plane of its angles, the model's regions behind, this photo a star."""

from __future__ import annotations

import streamlit as st

from core.learning.predict import Predictor
from core.results.atlas import Atlas, atlas
from ui.handoff import send_test_image
from ui.inside_input import Followed

CLASS_COLOURS = {"mask": "#2ca02c", "no_mask": "#d62728"}
ATLAS_KEY = "inside-atlas"


@st.cache_data(max_entries=8, show_spinner="Mapping the test set …")
def _atlas(_predictor: Predictor, model: str, data_dir: str) -> Atlas:
    from core.learning.features import load_split_features

    split = load_split_features(data_dir, _predictor.checkpoint.meta["backbone"], "test")
    return atlas(_predictor.head, split)


def decision_atlas(followed: Followed, predictor: Predictor, data_dir: str) -> None:
    """The atlas chart, once asked for; clicking a point follows that test image."""
    # behind a toggle: the chart draws some 1,700 shapes, seconds of a phone's main thread (bench/bench_lighthouse.py)
    if not st.toggle("Draw the decision atlas (every test image)", key="inside-atlas-on"):
        st.caption("Every test image as a dot in the plane of its input angles, the model's verdict shaded behind, "
                   "the photo you follow a star; click a dot to follow that image.")
        return
    try:
        mapped = _atlas(predictor, f"{predictor.checkpoint.path}#{id(predictor)}", data_dir)
    except FileNotFoundError as exc:
        st.info(f"The atlas needs the test set: {exc}")
        return
    star = mapped.project(followed.angles)
    st.vega_lite_chart(atlas_spec(mapped, star), width="stretch", key=ATLAS_KEY, on_select=_follow_clicked,
                       selection_mode="picked")
    share = mapped.explained_variance[:2].sum()
    wrong = sum(p.truth != p.predicted for p in mapped.points)
    st.caption(f"Each dot is a test image, placed by its {followed.spec.n_qubits} input angles squeezed onto the two "
               f"directions along which they vary most (PCA: {share:.1%} of their spread). Colour: the true class; "
               f"✕: one of the {wrong} the model gets wrong. The shading is the model's own verdict across the plane, "
               "the star is the photo you follow. Click a dot to follow that image.")


def _follow_clicked() -> None:
    selection = st.session_state[ATLAS_KEY].selection.get("picked") or []
    if selection and "path" in selection[0]:
        send_test_image(selection[0]["path"])


def atlas_spec(mapped: Atlas, star: tuple[float, float]) -> dict:
    """A Vega-Lite spec: the regions as a heat map of P(mask), the points, the star."""
    cells = [{"x": x, "y": y, "P(mask)": p, "x2": x + mapped.cell[0], "y2": y + mapped.cell[1]}
             for x, y, p in mapped.grid_cells()]
    points = [{"x": p.x, "y": p.y, "true class": p.truth, "predicted": p.predicted, "P(mask)": p.p_mask,
               "path": p.path, "wrong": p.truth != p.predicted} for p in mapped.points]
    axis = {"type": "quantitative", "scale": {"zero": False, "nice": False}}
    return {
        "height": 420,
        "layer": [
            {"data": {"values": cells}, "mark": {"type": "rect", "opacity": 0.35},
             "encoding": {"x": {"field": "x", **axis, "title": "first direction (PC 1)"}, "x2": {"field": "x2"},
                          "y": {"field": "y", **axis, "title": "second direction (PC 2)"}, "y2": {"field": "y2"},
                          "color": {"field": "P(mask)", "type": "quantitative",
                                    "scale": {"domain": [0, 0.5, 1], "range": ["#d62728", "#f7f7f7", "#2ca02c"]},
                                    "legend": {"title": "model's P(mask)"}}}},
            {"data": {"values": points}, "params": [{"name": "picked", "select": {"type": "point", "fields": ["path"]}}],
             "mark": {"type": "point", "filled": True, "size": 60, "stroke": "#222", "strokeWidth": 0.5},
             "encoding": {"x": {"field": "x", "type": "quantitative"}, "y": {"field": "y", "type": "quantitative"},
                          "color": {"field": "true class", "type": "nominal",
                                    "scale": {"domain": list(CLASS_COLOURS), "range": list(CLASS_COLOURS.values())}},
                          "shape": {"field": "wrong", "type": "nominal", "scale": {"domain": [False, True],
                                                                                     "range": ["circle", "cross"]},
                                    "legend": {"title": "misclassified"}},
                          "tooltip": [{"field": "path"}, {"field": "true class"}, {"field": "predicted"},
                                      {"field": "P(mask)", "format": ".1%"}]}},
            {"data": {"values": [{"x": star[0], "y": star[1]}]},
             "mark": {"type": "point", "shape": "M0,-1L0.24,-0.31L0.95,-0.31L0.38,0.12L0.59,0.81L0,0.38L-0.59,0.81L-0.38,0.12"
                                                "L-0.95,-0.31L-0.24,-0.31Z",
                      "size": 420, "filled": True, "color": "#ffbf00", "stroke": "#222", "strokeWidth": 1},
             "encoding": {"x": {"field": "x", "type": "quantitative"}, "y": {"field": "y", "type": "quantitative"}}},
        ],
    }
