"""Shots and noise on this photo: rerun its circuit R times with S shots and see how much the verdict wobbles."""

from __future__ import annotations

import secrets

import streamlit as st

from core.execution.backends import get_backend, local_backends
from core.execution.noise import DEFAULT_NOISE_DEVICE, short_label
from core.learning.predict import Predictor
from core.results.shot_spread import shot_spread
from ui.bounds_note import bounds_note, run_heavy
from ui.inside_input import Followed

PAGE_MAX_REPEATS = 100  # bounds what one visitor's click costs the server
PAGE_MAX_SHOTS = 8192


def shots_and_noise(followed: Followed, predictor: Predictor) -> None:
    """The form, then the spread of P(mask), the label flips and the cost on a real device."""
    st.caption("A real quantum computer does not return ⟨Z⟩: it returns a few thousand 0/1 readouts, each run a "
               "little different, and noisy. Rerun this photo's circuit and see whether its verdict survives.")
    bounds_note("inside")
    # a popover: its form's four widgets are drawn only when opened, light for a phone (bench/bench_lighthouse.py)
    with st.popover("Rerun this photo's circuit with shots", icon=":material/replay:"), st.form("shot-spread"):
        columns = st.columns(4)
        repeats = columns[0].number_input("Reruns R", 1, PAGE_MAX_REPEATS, 50, key="shot-repeats")
        shots = columns[1].number_input("Shots per run S", 1, PAGE_MAX_SHOTS, 1024, step=256)
        # Q#'s simulator takes ~0.5 s a run: a hundred reruns would hold the server for a minute
        names = [b.name for b in local_backends() if b.family != "qsharp"]
        backend = columns[2].selectbox("Simulator", names, index=names.index("default.qubit"))
        noise = columns[3].toggle(f"{short_label(DEFAULT_NOISE_DEVICE)} noise",
                                  help="The fake IBM device's noise; qiskit.aer only.")
        run = st.form_submit_button("Rerun this photo's circuit", key="shot-run")
    key = (followed.name, tuple(followed.angles), predictor.checkpoint.path)
    if run:
        if noise and not get_backend(backend).supports_noise:
            st.error(f"{backend} takes no noise model: pick qiskit.aer for the fake device's noise.")
            return
        try:
            with st.spinner(f"{repeats} runs of {shots:,} shots on {backend} …"):
                spread = run_heavy("inside", shot_spread, predictor.head, followed.angles, int(repeats), int(shots), backend,
                                   DEFAULT_NOISE_DEVICE if noise else None, seed=secrets.randbelow(2**31))
        except (ValueError, RuntimeError) as exc:
            st.error(str(exc))
            return
        if spread is None:  # the heavy-work queue refused it; the page says why
            return
        st.session_state["shot-spread-result"] = (key, spread)
    kept = st.session_state.get("shot-spread-result")
    if kept is None or kept[0] != key:
        return
    _show(kept[1])


def _show(spread) -> None:
    columns = st.columns(3)
    columns[0].metric("P(mask), exact", f"{spread.exact:.1%}")
    columns[1].metric(f"P(mask) over {len(spread.values)} runs", f"{spread.mean:.1%} ± {spread.std:.1%}")
    columns[2].metric("Runs whose label flipped", f"{spread.flip_rate:.0%}")
    rows = [{"P(mask)": float(v)} for v in spread.values]
    st.vega_lite_chart({
        "height": 200,
        "layer": [
            {"data": {"values": rows}, "mark": {"type": "bar", "tooltip": True},
             "encoding": {"x": {"field": "P(mask)", "type": "quantitative", "bin": {"maxbins": 30}, "scale": {"domain": [0, 1]}},
                          "y": {"aggregate": "count", "type": "quantitative", "title": "runs"}}},
            {"data": {"values": [{"P(mask)": spread.exact}, {"P(mask)": 0.5}]}, "mark": {"type": "rule", "strokeDash": [4, 4]},
             "encoding": {"x": {"field": "P(mask)", "type": "quantitative"}}},
        ],
    }, width="stretch")
    noise = (f" With the {short_label(spread.noise)} noise the runs also drift away from the exact value: noise biases ⟨Z⟩, "
             "shots only scatter it." if spread.noise else "")
    st.caption(f"Dashed: the exact value and the 50 % line where the label changes.{noise} {spread.cost_sentence}")
