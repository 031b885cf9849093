"""Predict: upload photos or use the camera; see what the hybrid model decides and why."""

import numpy as np
import pandas as pd
import streamlit as st

from core.data.images import ImageError, load_rgb
from core.execution.backends import local_backends
from core.execution.settings import ExecutionSettings
from core.execution.single_circuit import exact_probabilities, sample_counts
from ui.figures import histogram_spec, markdown_table
from ui.ibm_panel import ibm_evaluation_panel
from ui.shared import backbone_available, checkpoint_options, load_predictor, selected_model

st.title("Predict: mask or no mask?")
for problem in checkpoint_options()[1]:
    st.warning(f"Skipped a file in checkpoints/: {problem}")
model = selected_model()
if model is None:
    st.info("No trained model is available. A maintainer can train one from the sidebar's Retrain panel, "
            "or run `python -m core train` (about 30 s with the offline backbone).")
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

uploads = st.file_uploader("Photos (JPEG, PNG, WebP, BMP)", type=["jpg", "jpeg", "png", "webp", "bmp"],
                           accept_multiple_files=True)
use_camera = st.toggle("… or use the camera", help="Your browser asks for permission first.")
camera = st.camera_input("Take a photo") if use_camera else None
inputs = [(u.name, u.getvalue()) for u in uploads or []] + ([("camera", camera.getvalue())] if camera else [])
toggle_column, sampler_column = st.columns([2, 1], vertical_alignment="center")
show_histogram = toggle_column.toggle("Show each image's measurement histogram (1,024 shots)", value=True)
# default.qubit samples fast; qiskit.aer transpiles each circuit, which adds up when a room uploads at once
# (docs/benchmarks.md: time per circuit)
samplers = [b.name for b in local_backends()]
sampler = sampler_column.selectbox("Sampled on", samplers, index=samplers.index("default.qubit"), disabled=not show_histogram,
                                   help="Any simulator gives the same distribution, up to shot noise.")
weights = predictor.head.q_params.detach().double().numpy()


def show_prediction(index: int, name: str, data: bytes) -> None:
    try:
        image = load_rgb(data)
        result = predictor.predict(image)
    except ImageError as exc:
        st.error(f"**{name}**: {exc}")
        return
    left, right = st.columns([1, 2])
    preview = image.copy()
    preview.thumbnail((640, 640))  # never send a 40-megapixel upload back to every browser
    left.image(preview, caption=name, width="stretch")
    with right:
        # plain Markdown: HTML in it would make the browser fetch an HTML parser before it can show the verdict
        with st.container(key=f"prediction-{index}"):
            st.markdown(f"### {result.label} — {result.probability:.1%}")
        mask, no_mask = result.probabilities["mask"], result.probabilities["no_mask"]
        st.progress(mask, text=f"mask {mask:.1%} · no_mask {no_mask:.1%}")
        st.markdown(markdown_table({
            "qubit": list(range(spec.n_qubits)),
            "angle into the circuit (rad)": [float(a) for a in result.angles],
            "⟨Z⟩ out of the circuit": [float(z) for z in result.expvals],
        }))
        st.caption(f"Logits: mask {result.logits[0]:.3f}, no_mask {result.logits[1]:.3f}")
        if show_histogram:
            angles = np.array(result.angles)
            probs = exact_probabilities(spec, angles, weights)
            try:
                counts = sample_counts(spec, angles, weights, ExecutionSettings(sampler, 1024, seed=0))
            except (ValueError, RuntimeError) as exc:
                st.error(f"{sampler} could not sample this circuit: {exc}")
                return
            title = f"This image's circuit on {sampler}: 1,024 shots vs exact"
            st.vega_lite_chart(spec=histogram_spec(counts, probs, spec.n_qubits, title),
                            width="stretch", key=f"hist-{index}")  # two uploads may share a file name


for index, (name, data) in enumerate(inputs):
    with st.container(border=True):
        show_prediction(index, name, data)

st.divider()
st.subheader("Run the test set")
st.caption("Top-1 error over the 120 held-out test images, as the article reports it, with the misclassified photos.")
if st.button("Run the test set"):
    from core.learning.evaluate import evaluate_head
    from core.learning.features import load_split_features
    from core.paths import data_dir

    try:
        with st.spinner("Scoring 120 images …"):
            split = load_split_features(data_dir(), meta["backbone"], "test")
            result = evaluate_head(predictor.head, split)
    except (FileNotFoundError, ImageError) as exc:
        st.error(str(exc))
    else:
        wrong = [(p, g, t) for p, g, t in zip(split.paths, result["predictions"], split.labels.tolist()) if g != t]
        st.metric("top-1 error", f"{result['top1_error']:.2%}", help=f"{len(wrong)} of {len(split.paths)} wrong")
        st.dataframe(pd.DataFrame(result["confusion"], index=["true mask", "true no_mask"],
                                  columns=["pred mask", "pred no_mask"]))
        if wrong:
            st.markdown("**Misclassified**")
            cols = st.columns(4)
            for i, (p, guess, truth) in enumerate(wrong):
                caption = f"{predictor.classes[truth]} → predicted {predictor.classes[guess]}"
                cols[i % 4].image(str(p), caption=caption, width="stretch")

st.divider()
ibm_evaluation_panel(path, shots=1024)
