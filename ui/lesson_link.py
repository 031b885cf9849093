"""The explorer's settings in the page address: read a (lesson) link into the widgets, write the widgets back.

The address is the source only when it changed since the explorer last wrote it (a first visit, a
link opened from the Challenges page); on every other run the widgets are, and the address follows
them. A teacher's ``hide=``/``lock=`` controls are not drawn / drawn disabled.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import streamlit as st

from core.lessons.link_state import CONTROLS, ExplorerState, from_query, noise_possible, to_query
from ui.handoff import EXPLORER_STATE_KEY, explorer_state
from ui.shared import MODEL_KEY, quantum_models

WRITTEN_KEY = "explorer-address"  # the query the explorer last wrote into the address
WIDGETS = {"qubits": "explorer-qubits", "depth": "explorer-depth", "sim": "explorer-sim", "measure": "explorer-measure",
           "shots": "explorer-shots", "noise": "explorer-noise", "weights": "explorer-weights", "seed": "explorer-seed"}
LABELS = {"qubits": "qubits", "depth": "depth", "sim": "simulator", "measure": "measure with shots", "shots": "shots",
          "noise": "noise", "weights": "weights", "seed": "seed", "angles": "input angles", "photo": "photo upload"}


def angle_key(qubit: int) -> str:
    return f"explorer-angle{qubit}"


def _widget_values(state: ExplorerState) -> dict[str, Any]:
    values = {"qubits": state.n_qubits, "depth": state.depth, "sim": state.sim, "measure": state.sampled,
              "shots": state.shots, "noise": state.noise, "weights": state.weights, "seed": state.seed}
    return {WIDGETS[name]: value for name, value in values.items()} | {angle_key(q): a for q, a in enumerate(state.angles)}


def _current_query() -> dict[str, list[str]]:
    return {key: st.query_params.get_all(key) for key in st.query_params}


def start_state() -> ExplorerState:
    """The settings this run of the explorer starts from; a changed address is read (its problems shown as warnings)."""
    query, kept = _current_query(), explorer_state()
    if kept is not None and query == st.session_state.get(WRITTEN_KEY):
        return kept  # an ordinary rerun: the widgets hold the settings
    if kept is not None and not query:
        state = kept  # back from another page, whose address has no settings: as the explorer was left
    else:
        state, warnings = from_query(query)
        for warning in warnings:
            st.warning(warning, icon="🔗")
        state = _select_links_model(state)
    st.session_state.update(_widget_values(state))
    return state


def _select_links_model(state: ExplorerState) -> ExplorerState:
    """A link's ``model=`` file: select it in the sidebar (from the next run on), or say it is not here."""
    if state.weights != "model" or not state.model:
        return state
    paths = {Path(path).name: path for path, _, _ in quantum_models()}
    if state.model not in paths:
        st.warning(f"This link's model {state.model!r} is not on this server: the selected model is used.", icon="🔗")
        return replace(state, model="")
    if st.session_state.get(MODEL_KEY) != paths[state.model]:
        st.session_state[MODEL_KEY] = paths[state.model]
        st.rerun()  # the sidebar's picker has already been drawn this run
    return state


def control(start: ExplorerState, name: str, widget: Callable, *args: Any, disabled: bool = False, **kwargs: Any) -> Any:
    """One explorer control: its value from the link when hidden, else the widget (disabled when locked)."""
    key = WIDGETS[name]
    if name in start.hide:
        return _widget_values(start)[key]
    if key not in st.session_state:
        st.session_state[key] = _widget_values(start)[key]
    return widget(*args, key=key, disabled=disabled or name in start.lock, **kwargs)


def angle_sliders(start: ExplorerState, n_qubits: int, slider: Callable[[int, str], float]) -> tuple[float, ...]:
    """The input angles: ``slider(q, key)`` per qubit, or the link's when hidden (defaults for qubits it lacks)."""
    defaults = ExplorerState(n_qubits=n_qubits).angles
    kept = start.angles if len(start.angles) == n_qubits else defaults
    if "angles" in start.hide:
        return kept
    for q in range(n_qubits):
        st.session_state.setdefault(angle_key(q), kept[q])
    return tuple(slider(q, angle_key(q)) for q in range(n_qubits))


def set_angles(angles: Any) -> None:
    """New input angles (a photo's), for the sliders drawn after this call."""
    st.session_state.update({angle_key(q): round(float(a), 2) for q, a in enumerate(angles)})


def keep(start: ExplorerState, **settings: Any) -> ExplorerState:
    """The explorer's settings this run, with the link's lesson parts; written into the address and the session."""
    state = replace(start, **settings)
    query = to_query(state)
    written = {key: [value] for key, value in query.items()}
    if _current_query() != written:
        st.query_params.from_dict(query)
    st.session_state[WRITTEN_KEY] = written
    st.session_state[EXPLORER_STATE_KEY] = state
    return state


def noise_allowed(sim: str, sampled: bool, n_qubits: int) -> bool:
    """Whether the noise toggle can be on; when it cannot, it is switched off before it is drawn."""
    allowed = noise_possible(sim, "shots" if sampled else "exact", n_qubits)
    if not allowed:
        st.session_state[WIDGETS["noise"]] = False
    return allowed


def link_to(state: ExplorerState) -> str:
    """The full address of ``state`` (relative when the server's address is unknown)."""
    base = st.context.url or ""
    return f"{base}?{urlencode(to_query(state), safe=',')}"


def lesson_banner(state: ExplorerState) -> None:
    """What a student sees on a teacher's link: which controls are hidden or locked."""
    if not (state.hide or state.lock):
        return
    parts = [f"{verb}: {', '.join(LABELS[c] for c in CONTROLS if c in names)}"
             for verb, names in (("hidden", state.hide), ("locked", state.lock)) if names]
    st.info(f"**Lesson link**: some controls are set by your teacher ({'; '.join(parts)}).", icon="🎓")


def share_box(state: ExplorerState) -> None:
    """"Copy link": this view's address, and a lesson link with chosen controls hidden or locked."""
    with st.expander("🔗 Copy link · make a lesson link"):
        st.caption("This view's address: opening it shows exactly these settings. The copy button is at its right.")
        st.code(link_to(state), language=None, wrap_lines=True)
        # a popover: the browser draws its two multiselects only when opened (bench/bench_lighthouse.py)
        with st.popover("Make a lesson link", icon="🎓"):
            _lesson_link_maker(state)


def _lesson_link_maker(state: ExplorerState) -> None:
    st.markdown("**A lesson link**: the same settings, with the controls your students should not change hidden or locked.")
    hide = st.multiselect("Hide", CONTROLS, default=sorted(state.hide), format_func=LABELS.get, key="lesson-hide")
    lock = st.multiselect("Lock (shown, not changeable)", CONTROLS, default=sorted(state.lock), format_func=LABELS.get,
                          key="lesson-lock")
    st.code(link_to(replace(state, hide=frozenset(hide), lock=frozenset(lock))), language=None, wrap_lines=True)
