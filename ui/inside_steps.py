"""Step through the circuit: Bloch spheres, probabilities and entanglement after each step, the step marked on the drawing."""

from __future__ import annotations

import numpy as np
import streamlit as st

from core.circuit.state_steps import StepView, step_views
from ui.figures import markdown_table
from ui.inside_input import Followed
from ui.state_figures import bloch_spheres_svg, circuit_alt, circuit_svg, probabilities_svg

STEP_KEY = "inside-step"


@st.fragment
def step_through(followed: Followed) -> None:
    """The step slider and what the state looks like there; a fragment, so a step change reruns only this."""
    views = step_views(followed.spec, followed.angles, followed.weights)
    labels = [v.step.label for v in views]
    if st.session_state.get(STEP_KEY) not in labels:
        st.session_state[STEP_KEY] = labels[-1]
    label = st.select_slider("Step", labels, key=STEP_KEY)
    view = views[labels.index(label)]
    st.markdown(f"**{view.step.label}.** {view.step.description}")
    values = list(followed.angles) + list(np.asarray(followed.weights).ravel())
    st.image(circuit_svg(followed.spec, view.step.end, values), width="stretch",
             alt=f"{circuit_alt(followed.spec)} A dashed line marks this step: {view.step.label}.")
    left, right = st.columns([3, 2])
    with left:
        st.markdown("**One Bloch sphere per qubit**")
        with st.container(key="inside-bloch"):
            st.image(bloch_spheres_svg(view.bloch, view.purities, per_row=4), width="stretch", alt=_bloch_alt(view))
        st.caption("The arrow is the qubit's own state: at the top it reads 0 for sure, at the bottom 1. "
                   "An arrow shorter than the radius means the qubit is entangled with the others: alone, it is no longer "
                   "a definite state.")
    with right:
        _entanglement(view, followed.spec.n_qubits)
    svg, alt = probabilities_svg(view.probabilities, view.state, followed.spec.n_qubits,
                                 f"The {2 ** followed.spec.n_qubits} outcomes' probabilities at this step")
    st.image(svg, width="stretch", alt=alt)  # an SVG, not a chart library: light for a phone (bench/bench_lighthouse.py)


def _bloch_alt(view: StepView) -> str:
    """The Bloch spheres in words: each qubit's Bloch vector and its length."""
    return "Bloch spheres, one per qubit. " + "; ".join(
        f"qubit {q}: vector ({', '.join(f'{round(c, 2) + 0.0:+.2f}' for c in b)}), length {float(np.linalg.norm(b)):.2f}"
        for q, b in enumerate(view.bloch)) + "."


def _entanglement(view: StepView, n_qubits: int) -> None:
    st.markdown(markdown_table({
        "qubit": list(range(n_qubits)),
        # round, then + 0.0: a "-0.00" would read as a real negative number
        "Bloch vector (x, y, z)": ["(" + ", ".join(f"{round(c, 2) + 0.0:+.2f}" for c in b) + ")" for b in view.bloch],
        "length": [float(np.linalg.norm(b)) for b in view.bloch],
        "purity": [float(p) for p in view.purities],
    }, digits=3))
    if n_qubits > 1:
        half = n_qubits // 2
        st.metric(f"Entanglement between qubits 0–{half - 1} and {half}–{n_qubits - 1}", f"{view.entropy:.3f} bits",
                  help="The von Neumann entropy of either half's reduced state.")
        most = min(half, n_qubits - half)
        st.caption(f"0 bits: the two halves are independent. {most} bit{'s' if most > 1 else ''} is the most they can share: "
                   "then each half alone looks completely random. Purity 1 means a qubit is on its own; 0.5, fully entangled.")
