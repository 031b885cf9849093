"""What the Inside page follows: a photo (through the selected model), a test-set image, or the explorer's circuit."""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import streamlit as st
from PIL import Image

from core.circuit.definition import CircuitSpec
from core.data.images import ImageError, load_rgb
from core.learning.predict import Prediction, Predictor
from ui.handoff import EXPLORER_KEY, HANDOFF_KEY, SOURCE_KEY, SOURCES, TEST_IMAGE_KEY
from ui.verdicts import photo_verdict


@dataclass
class Followed:
    """The input followed through the circuit: its angles, and the photo and verdict when there is one."""

    name: str
    spec: CircuitSpec
    angles: np.ndarray
    weights: np.ndarray
    image: Image.Image | None = None  # what the model saw (a face's crop, or a test image)
    image_bytes: bytes | None = None  # the same, encoded once: the key of the cached explanation
    prediction: Prediction | None = None
    truth: str | None = None  # a test image's true class


def choose_input(predictor: Predictor | None, test_images: list[tuple[str, str]]) -> Followed | None:
    """The input picker; ``test_images`` are (path, true class). None when nothing is chosen yet (with a hint shown)."""
    if SOURCE_KEY not in st.session_state:  # a first visit opens on a test image, so there is something to step through
        st.session_state[SOURCE_KEY] = SOURCES[1] if predictor is not None and test_images else SOURCES[0]
    source = st.radio("Follow", SOURCES, horizontal=True, key=SOURCE_KEY)
    if source == SOURCES[2]:
        return _from_explorer()
    if predictor is None:
        st.info("A photo needs a trained model: pick one in the sidebar (or train one), or follow the explorer's circuit.")
        return None
    if source == SOURCES[1]:
        return _from_test_set(predictor, test_images)
    return _from_photo(predictor)


def _from_explorer() -> Followed | None:
    kept = st.session_state.get(EXPLORER_KEY)
    if kept is None:
        st.info("Open the Circuit explorer and set the circuit up there: this page follows whatever it shows.")
        st.page_link("views/explorer.py", label="Open the Circuit explorer", icon="🎛")
        return None
    n_qubits, depth, angles, weights = kept
    return Followed("the explorer's circuit", CircuitSpec(n_qubits, depth), np.array(angles), np.array(weights))


def _from_test_set(predictor: Predictor, test_images: list[tuple[str, str]]) -> Followed | None:
    if not test_images:
        st.info("The data set is not on this server (`python -m core fetch` puts it in data/).")
        return None
    truth = dict(test_images)
    paths = list(truth)
    if st.session_state.get(TEST_IMAGE_KEY) not in truth:
        st.session_state[TEST_IMAGE_KEY] = paths[0]
    path = st.selectbox("Test image", paths, key=TEST_IMAGE_KEY, format_func=lambda p: f"{truth[p]} · {p.rsplit('/', 1)[-1]}")
    image = load_rgb(path)
    with open(path, "rb") as file:
        data = file.read()
    return _followed(predictor, path.rsplit("/", 1)[-1], image, data, truth[path])


def _from_photo(predictor: Predictor) -> Followed | None:
    upload = st.file_uploader("A photo (JPEG, PNG, WebP, BMP): its largest face is followed, or pick another",
                              type=["jpg", "jpeg", "png", "webp", "bmp"], key="inside-upload")
    handoff = st.session_state.get(HANDOFF_KEY)
    if upload is None:
        if handoff is None or handoff[0] != "photo":
            st.info("Upload a photo, send a face here from Predict, or follow a test-set image.")
            return None
        _, name, data = handoff
        return _followed(predictor, name, load_rgb(data), data, None)
    try:
        photo = load_rgb(upload.getvalue())
    except ImageError as exc:
        st.error(f"{upload.name}: {exc}")
        return None
    verdict = photo_verdict(predictor, f"{predictor.checkpoint.path}#{id(predictor)}", upload.getvalue(), False, photo)
    if not verdict.faces:
        st.caption("No face found in this photo: it is followed whole, as a close-up.")
        return _followed(predictor, upload.name, photo, upload.getvalue(), None)
    number = 1
    if len(verdict.faces) > 1:
        number = st.selectbox(f"Face ({verdict.summary}; numbered left to right)", range(1, len(verdict.faces) + 1))
    face = verdict.faces[number - 1]
    crop = photo.crop(face.crop)
    buffer = io.BytesIO()
    crop.save(buffer, format="PNG")
    return Followed(f"{upload.name}, face {number}", predictor.checkpoint.spec, np.array(face.prediction.angles),
                    _weights(predictor), crop, buffer.getvalue(), face.prediction)


def _followed(predictor: Predictor, name: str, image: Image.Image, data: bytes, truth: str | None) -> Followed:
    prediction = predictor.predict(image)
    return Followed(name, predictor.checkpoint.spec, np.array(prediction.angles), _weights(predictor), image, data,
                    prediction, truth)


def _weights(predictor: Predictor) -> np.ndarray:
    return predictor.head.q_params.detach().double().numpy()
