"""Why this verdict: where the backbone looked, how each angle pushes P(mask) (by the parameter-shift rule), and what if."""

from __future__ import annotations

import math

import numpy as np
import streamlit as st

from core.data.images import load_rgb
from core.learning.explain import angle_attribution, overlay, saliency_map, what_if
from core.learning.predict import Predictor
from ui.figures import markdown_table
from ui.inside_input import Followed
from ui.svg_charts import Line, lines_svg

WHAT_IF_POINTS = 61


@st.cache_data(max_entries=32, show_spinner="Explaining …")
def _explanation(_predictor: Predictor, model: str, image_bytes: bytes, angles: tuple[float, ...]):
    """The saliency overlay and the angle attribution, once per model and image (keyed by ``model`` and the bytes)."""
    image = load_rgb(image_bytes)
    saliency = saliency_map(_predictor, image)
    return overlay(image, saliency.heat), saliency, angle_attribution(_predictor.head, np.array(angles))


def why_this_verdict(followed: Followed, predictor: Predictor) -> None:
    """Saliency beside the photo, the parameter-shift table, and the what-if sliders."""
    model = f"{predictor.checkpoint.path}#{id(predictor)}"
    shown, saliency, attribution = _explanation(predictor, model, followed.image_bytes, tuple(followed.angles))
    left, right, words = st.columns([1, 1, 2])
    left.image(followed.image, caption="What the model saw", width="stretch", alt=f"The face the model saw: {followed.name}")
    right.image(shown, caption=f"Where the backbone looked for “{saliency.label}” (Grad-CAM)", width="stretch",
                alt=f"The same face with a Grad-CAM heat map over it: red where the backbone looked for “{saliency.label}”")
    words.caption("Red marks the parts of the photo that pushed the verdict most (through the whole model: backbone, "
               "circuit and last layer). On a good model they lie on the mouth and nose, where a mask is or is not.")
    _parameter_shift(attribution, followed.spec.n_qubits)
    _what_if(followed, predictor)


def _parameter_shift(attribution, n_qubits: int) -> None:
    st.markdown("**How each input angle pushes P(mask): the parameter-shift rule**")
    st.caption("A quantum computer cannot backpropagate. It measures a gradient instead: run the circuit twice more "
               "with one angle moved by +π/2 and by −π/2; half the difference of ⟨Z⟩ is the exact derivative (for RY gates). "
               "The last column is PyTorch's autograd on the simulator: the two agree.")
    fmt = lambda z: "(" + ", ".join(f"{v:+.3f}" for v in z) + ")"  # noqa: E731
    st.markdown(markdown_table({
        "angle": [f"θ{q}" for q in range(n_qubits)],
        "⟨Z⟩ at θ + π/2": [fmt(z) for z in attribution.plus],
        "⟨Z⟩ at θ − π/2": [fmt(z) for z in attribution.minus],
        "∂P(mask)/∂θ, shift rule": [float(g) for g in attribution.shift_gradient],
        "∂P(mask)/∂θ, autograd": [float(g) for g in attribution.autograd_gradient],
    }, digits=4))


@st.fragment
def _what_if(followed: Followed, predictor: Predictor) -> None:
    st.markdown("**What if?** Move one input angle and watch P(mask).")
    n = followed.spec.n_qubits
    columns = st.columns([1, 2])
    qubit = columns[0].selectbox("Angle", range(n), format_func=lambda q: f"θ{q} (qubit {q})", key="what-if-qubit")
    own = float(followed.angles[qubit])
    value = columns[0].slider(f"θ{qubit}", -math.pi / 2, math.pi / 2, own, step=0.01, key=f"what-if-{qubit}-{own:.6f}")
    sweep = np.linspace(-math.pi / 2, math.pi / 2, WHAT_IF_POINTS)
    probabilities = what_if(predictor.head, followed.angles, qubit, np.append(sweep, value))
    moved = float(probabilities[-1])
    columns[0].metric("P(mask)", f"{moved:.1%}", delta=f"{moved - followed.prediction.probabilities['mask']:+.1%}",
                      help="Against the photo's own angle.")
    photo_p = float(followed.prediction.probabilities["mask"])
    lines = [Line("P(mask) as θ moves", "#1f77b4", [float(a) for a in sweep], [float(p) for p in probabilities[:-1]]),
             Line("the label changes at 0.5", "#888888", [-math.pi / 2, math.pi / 2], [0.5, 0.5], dash="4 4"),
             Line("the photo's angle", "#2ca02c", [own], [photo_p], dots=True),
             Line("your angle", "#d62728", [value], [moved], dots=True)]
    # an SVG, not a chart library: light for a phone's browser (bench/bench_lighthouse.py)
    columns[1].image(lines_svg(lines, f"P(mask) as θ{qubit} moves", f"θ{qubit} (rad)", "P(mask)", y_range=(0.0, 1.0)),
                     width="stretch", alt=f"Line chart: P(mask) as θ{qubit} runs from −π/2 to π/2, from "
                     f"{float(probabilities[0]):.2f} to {float(probabilities[-2]):.2f}; at the photo's angle {own:+.2f} it is "
                     f"{photo_p:.2f}, at your angle {value:+.2f} it is {moved:.2f}.")
