"""Predict: upload photos or use the camera; every face gets its own verdict and the circuit's inside view."""

from pathlib import Path

import pandas as pd
import streamlit as st

from core.data.images import ImageError
from core.execution.backends import local_backends
from core.faces.detector import MAX_FACES
from core.server.uploads import UploadLimits, accept_uploads
from ui.bounds_note import bounds_note, run_heavy
from ui.ibm_panel import ibm_evaluation_panel
from ui.model_download import model_downloads
from ui.shared import backbone_available, checkpoint_options, load_predictor, selected_model
from ui.verdicts import photo_section

st.title("Predict: mask or no mask?")
for problem in checkpoint_options()[1]:
    st.warning(f"Skipped a file in checkpoints/: {problem}")
model = selected_model()
if model is None:
    st.info("No trained model is available. A maintainer can train one from the sidebar's Retrain panel, "
            "or run `python -m core train` (about 20 s with the offline backbone).")
    st.stop()
path, meta = model
ok, why = backbone_available(meta["backbone"])
if not ok:
    st.warning(f"This model needs the {meta['backbone']} backbone. {why} Pick a model marked without ⚠ in the sidebar.")
    st.stop()
predictor = load_predictor(path)
spec = predictor.checkpoint.spec
st.caption(f"Model: {meta['backbone']} features → dressed circuit ({spec.n_qubits} qubits, depth {spec.depth}), trained on "
           f"{meta['backend']}; test accuracy {meta['metrics'].get('test_accuracy', 0):.1%}. "
           "The circuit runs exactly on default.qubit here.")
model_downloads(path, meta)

try:
    limits = UploadLimits.from_env()
except ValueError as exc:
    st.error(f"Uploads are off: {exc}")
    st.stop()


def accepted_photos() -> list[tuple[str, bytes]]:
    """The uploader and the camera; (name, bytes) of the photos within this session's upload limits."""
    max_mb = st.get_option("server.maxUploadSize")  # one file; .streamlit/config.toml
    uploads = st.file_uploader("Photos (JPEG, PNG, WebP, BMP): group photos, selfies, close-ups",
                               type=["jpg", "jpeg", "png", "webp", "bmp"], accept_multiple_files=True,
                               help=f"{limits.describe().capitalize()}, up to {max_mb} MB per photo.")
    use_camera = st.toggle("… or use the camera", help="Your browser asks for permission first.")
    camera = st.camera_input("Take a photo") if use_camera else None
    files = list(uploads or []) + ([camera] if camera else [])
    decision = accept_uploads([("camera" if f is camera else f.name, f.size) for f in files], limits)
    if decision.message:
        st.error(decision.message)
    st.caption(f"Every face is found and judged on its own (at most {MAX_FACES} per photo, the largest): the model was "
               "trained on face close-ups, so each face is cut out first. A photo that already is a close-up is judged whole. "
               f"Each visitor's page reads {limits.describe()} ({max_mb} MB per photo).")
    bounds_note("predict")
    # only the accepted files are copied out and decoded
    return [("camera" if f is camera else f.name, f.getvalue()) for f in files[: decision.accepted]]


def histogram_sampler() -> str:
    """The simulator the verdict cards sample their histograms on."""
    # default.qubit samples fast; qiskit.aer transpiles each circuit, which adds up when a room uploads at once
    # (docs/benchmarks.md: time per circuit); Q# runs shot by shot holding Python's GIL, ~0.8 s per histogram during which
    # every visitor's page waits (core.server.bounds)
    samplers = [b.name for b in local_backends() if b.family != "qsharp"]
    return st.columns([1, 2])[0].selectbox("Histograms sampled on", samplers, index=samplers.index("default.qubit"),
                                           help="Any simulator gives the same distribution, up to shot noise.")


@st.fragment
def uploads_and_verdicts() -> None:
    """The uploader and a section per photo. A fragment: an upload reruns only this part of the page, so neither the
    server nor the visitor's browser redoes the rest of it (docs/benchmarks.md, *A fragment for the uploads*)."""
    photos = accepted_photos()
    sampler = histogram_sampler()
    if photos:
        st.header("Verdicts")
    for index, (name, data) in enumerate(photos):
        with st.container(border=True):
            photo_section(index, name, data, predictor, sampler)


uploads_and_verdicts()

st.divider()
st.header("Run the test set")
st.caption("Top-1 error over the 120 held-out test images, as the article reports it, with the misclassified photos.")
bounds_note("predict-test-set")


def score_test_set(backbone: str):
    """The test split's features (from the cache) and the head's scores on them."""
    from core.learning.evaluate import evaluate_head
    from core.learning.features import load_split_features
    from core.paths import data_dir

    split = load_split_features(data_dir(), backbone, "test")
    return split, evaluate_head(predictor.head, split)


if st.button("Run the test set"):
    try:
        with st.spinner("Scoring 120 images …"):
            scored = run_heavy("predict-test-set", score_test_set, meta["backbone"])
    except (FileNotFoundError, ImageError) as exc:
        st.error(str(exc))
        scored = None
    if scored is not None:
        split, result = scored
        wrong = [(p, g, t) for p, g, t in zip(split.paths, result["predictions"], split.labels.tolist()) if g != t]
        st.metric("top-1 error", f"{result['top1_error']:.2%}", help=f"{len(wrong)} of {len(split.paths)} wrong")
        st.table(pd.DataFrame(result["confusion"], index=["true mask", "true no_mask"],
                              columns=["pred mask", "pred no_mask"]))
        if wrong:
            st.markdown("**Misclassified**")
            cols = st.columns(4)
            for i, (p, guess, truth) in enumerate(wrong):
                caption = f"{predictor.classes[truth]} → predicted {predictor.classes[guess]}"
                cols[i % 4].image(str(p), caption=caption, width="stretch", alt=f"Test image {Path(p).name}: {caption}")

st.divider()
ibm_evaluation_panel(path, shots=1024)
