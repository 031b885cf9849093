"""Inside the circuit: follow one photo through the model, step by step, and see why it got its verdict."""

import streamlit as st

from core.data.dataset import CLASSES, list_split
from core.paths import data_dir
from ui.inside_atlas import decision_atlas
from ui.inside_input import choose_input
from ui.inside_shots import shots_and_noise
from ui.inside_steps import step_through
from ui.inside_why import why_this_verdict
from ui.shared import backbone_available, load_predictor, selected_model

st.title("Inside the circuit")
st.caption("A photo → 1,280 backbone features → one angle per qubit → the dressed circuit → ⟨Z⟩ → mask or no mask. "
           "Pick what to follow, then step through it.")

model = selected_model()
predictor = None
if model is not None and backbone_available(model[1]["backbone"])[0]:
    predictor = load_predictor(model[0])
try:
    test_images = [(str(s.path), CLASSES[s.label]) for s in list_split(data_dir(), "test")]
except FileNotFoundError:
    test_images = []

st.header("What to follow")
followed = choose_input(predictor, test_images)
if followed is None:
    st.stop()
if followed.prediction is not None:
    truth = f" (truly {followed.truth})" if followed.truth else ""
    with st.container(key="inside-verdict"):
        st.markdown(f"### {followed.name}: {followed.prediction.label} — {followed.prediction.probability:.1%}{truth}")
    st.caption("Input angles: " + ", ".join(f"θ{q} = {a:+.2f}" for q, a in enumerate(followed.angles)) + " rad.")

st.header("1 · Step through the circuit")
step_through(followed)

if followed.prediction is None:
    st.info("The explanation, the shot spread and the atlas need a trained model's verdict: follow a photo or a test image.")
    st.stop()

st.header("2 · Why this verdict")
why_this_verdict(followed, predictor)

st.header("3 · Shots and noise: would it work on a real quantum computer?")
shots_and_noise(followed, predictor)

st.header("4 · Decision atlas: this photo among the test set")
decision_atlas(followed, predictor, str(data_dir()))
