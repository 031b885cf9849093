"""The Predict page's results: a photo with a box on each face, then a card per face with the circuit's inside view."""

from __future__ import annotations

import numpy as np
import streamlit as st
from PIL import Image

from core.circuit.definition import CircuitSpec
from core.data.images import ImageError, load_rgb
from core.execution.settings import ExecutionSettings
from core.execution.single_circuit import exact_probabilities, sample_counts
from core.faces.annotate import annotate
from core.faces.detector import MAX_FACES
from core.learning.predict import PhotoVerdict, Prediction, Predictor
from ui.figures import histogram_alt, histogram_svg, markdown_table
from ui.handoff import send_photo

PREVIEW_SIDE = 1280  # never send a 40-megapixel upload back to every browser


def photo_section(index: int, name: str, data: bytes, predictor: Predictor, sampler: str) -> None:
    """One upload: the annotated photo, a summary line, and a card per face (or the no-face message).

    ``sampler`` is the simulator that samples each histogram.
    """
    try:
        photo = load_rgb(data)
    except ImageError as exc:
        st.error(f"**{name}**: {exc}")
        return
    whole = st.session_state.get(f"whole-{index}", False)
    verdict = photo_verdict(predictor, f"{predictor.checkpoint.path}#{id(predictor)}", data, whole, photo)  # reloaded: new id
    with st.container(key=f"summary-{index}"):
        st.markdown(f"**{name}** — {verdict.summary}")
    # JPEG: a photo as PNG takes 0.4 s to encode and 1.2 MB to send, for every visitor (docs/benchmarks.md: load)
    st.image(annotate(photo, verdict.labelled_boxes, max_side=PREVIEW_SIDE), width="stretch", output_format="JPEG",
             alt=f"{name} with a numbered box on each face found: {verdict.summary}")
    if verdict.found > len(verdict.faces):
        st.caption(f"{verdict.found} faces found; the {len(verdict.faces)} largest are classified "
                   f"(at most {MAX_FACES} per photo, so that one crowded photo cannot hold up the room).")
    if not verdict.faces:
        st.info("No face found in this photo. The model was trained on face close-ups: if this photo is one, "
                "classify it whole.")
        st.toggle("Classify the whole image anyway", key=f"whole-{index}")
    if verdict.whole_image is not None:
        with st.container(border=True):
            prediction_card(f"{index}-whole", "The whole image", photo, verdict.whole_image, predictor, sampler, True)
    for number, face in enumerate(verdict.faces, 1):
        with st.container(border=True):
            crop = photo.crop(face.crop)
            # one histogram per photo unless asked: a room uploading group photos at once draws many charts
            prediction_card(f"{index}-{number}", f"Face {number}", crop, face.prediction, predictor, sampler, number == 1)


@st.cache_data(max_entries=64, show_spinner=False)
def photo_verdict(_predictor: Predictor, model: str, data: bytes, whole_image: bool, _photo: Image.Image) -> PhotoVerdict:
    """The photo's faces and verdicts, kept by upload for reruns: a histogram switched on must not find the faces again.

    Keyed by the upload's bytes; ``_photo`` is those bytes already decoded.
    """
    return _predictor.predict_faces(_photo, whole_image=whole_image)


def prediction_card(key: str, title: str, image: Image.Image, result: Prediction, predictor: Predictor,
                    sampler: str, histogram_shown: bool) -> None:
    """The crop the model saw, its verdict, the angles into the circuit, ⟨Z⟩ out, logits and the histogram."""
    spec = predictor.checkpoint.spec
    left, right = st.columns([1, 3])
    thumbnail = image.copy()
    thumbnail.thumbnail((320, 320))
    left.image(thumbnail, caption=f"{title}: what the model sees", width="stretch", output_format="JPEG",
               alt=f"{title}: the crop the model classified")
    if left.button("Inside the circuit →", key=f"inside-{key}", help="Follow this face through the circuit, step by step, "
                   "and see why it got its verdict"):
        send_photo(title, image)
        st.switch_page("views/inside.py")
    with right:
        # plain Markdown: HTML in it would make the browser fetch an HTML parser before it can show the verdict
        with st.container(key=f"prediction-{key}"):
            st.markdown(f"### {result.label} — {result.probability:.1%}")
        mask, no_mask = result.probabilities["mask"], result.probabilities["no_mask"]
        st.progress(mask, text=f"mask {mask:.1%} · no_mask {no_mask:.1%}")
        st.markdown(markdown_table({
            "qubit": list(range(spec.n_qubits)),
            "angle into the circuit (rad)": [float(a) for a in result.angles],
            "⟨Z⟩ out of the circuit": [float(z) for z in result.expvals],
        }))
        st.caption(f"Logits: mask {result.logits[0]:.3f}, no_mask {result.logits[1]:.3f}")
        if st.toggle("Measurement histogram (1,024 shots)", value=histogram_shown, key=f"show-hist-{key}"):
            histogram(key, result, predictor, sampler)


def histogram(key: str, result: Prediction, predictor: Predictor, sampler: str) -> None:
    spec = predictor.checkpoint.spec
    weights = predictor.head.q_params.detach().double().numpy()
    try:
        counts, probs = histogram_data(spec.n_qubits, spec.depth, tuple(result.angles), weights.tobytes(), sampler)
    except (ValueError, RuntimeError) as exc:
        st.error(f"{sampler} could not sample this circuit: {exc}")
        return
    title = f"This face's circuit on {sampler}: 1,024 shots vs exact"
    # an SVG image: twenty phones drawing a chart library's histogram at once is seconds each (docs/benchmarks.md)
    st.image(histogram_svg(counts, probs, spec.n_qubits, title), width="stretch",
             alt=histogram_alt(counts, probs, spec.n_qubits))


@st.cache_data(max_entries=256, show_spinner=False)
def histogram_data(n_qubits: int, depth: int, angles: tuple, weights: bytes, sampler: str) -> tuple[dict, np.ndarray]:
    """A face's 1,024 sampled shots and exact probabilities, kept: a rerun (another face's toggle) does not sample again."""
    spec = CircuitSpec(n_qubits, depth)
    w = np.frombuffer(weights, dtype=np.float64).reshape(spec.weight_shape)
    a = np.array(angles, dtype=np.float64)
    return sample_counts(spec, a, w, ExecutionSettings(sampler, 1024, seed=0)), exact_probabilities(spec, a, w)

