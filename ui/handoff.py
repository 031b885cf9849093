"""What one page hands another: a face's crop (Predict), a test image (the atlas), the explorer's circuit and settings."""

from __future__ import annotations

import io

import numpy as np
import streamlit as st
from PIL import Image

from core.circuit.definition import CircuitSpec
from core.lessons.link_state import ExplorerState

HANDOFF_KEY = "inside-handoff"  # what another page sends: ("photo", name, JPEG bytes), ("test", path) or ("explorer", …)
EXPLORER_KEY = "explorer-circuit"  # the explorer's current (n_qubits, depth, angles, weights), kept by the explorer
EXPLORER_STATE_KEY = "explorer-state"  # the explorer's current ExplorerState: every setting, for Challenges and a return visit
SOURCE_KEY = "inside-source"
TEST_IMAGE_KEY = "inside-test-image"
SOURCES = ("a photo", "a test-set image", "the explorer's circuit")


def send_photo(name: str, image: Image.Image) -> None:
    """Hand a face's crop to the Inside page (called by Predict before it switches page)."""
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=92)
    st.session_state[HANDOFF_KEY] = ("photo", name, buffer.getvalue())
    st.session_state[SOURCE_KEY] = SOURCES[0]


def send_test_image(path: str) -> None:
    st.session_state[TEST_IMAGE_KEY] = path
    st.session_state[SOURCE_KEY] = SOURCES[1]


def remember_explorer(spec: CircuitSpec, angles: np.ndarray, weights: np.ndarray, state: ExplorerState | None = None) -> None:
    """The explorer keeps its current circuit here on every run, for the Inside page's third input (and its settings)."""
    st.session_state[EXPLORER_KEY] = (spec.n_qubits, spec.depth, np.asarray(angles).tolist(), np.asarray(weights).tolist())
    if state is not None:
        st.session_state[EXPLORER_STATE_KEY] = state


def explorer_state() -> ExplorerState | None:
    """The explorer's settings as it last ran in this session, or None before a first visit."""
    state = st.session_state.get(EXPLORER_STATE_KEY)
    return state if isinstance(state, ExplorerState) else None
