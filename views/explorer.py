"""Circuit explorer: play with the dressed circuit on any simulator."""

import time

import numpy as np
import streamlit as st

from core.circuit.definition import MAX_DEPTH, MAX_QUBITS, CircuitSpec
from core.circuit.readout import expvals_from_counts, expvals_from_probabilities
from core.data.images import ImageError
from core.execution.backends import get_backend, local_backends
from core.execution.noise import DEFAULT_NOISE_DEVICE, NOISY_MAX_QUBITS, short_label
from core.execution.settings import MAX_SHOTS, ExecutionSettings
from core.execution.single_circuit import exact_probabilities, sample_counts, statevector
from ui.export_buttons import export_buttons
from ui.figures import circuit_figure, histogram_figure
from ui.handoff import remember_explorer
from ui.ibm_panel import ibm_panel
from ui.shared import load_predictor, selected_model

st.title("Circuit explorer")
st.caption("The same circuit code the model trains with. Change anything: it re-runs at once.")

left, right = st.columns([1, 2])
with left:
    n_qubits = st.slider("Qubits", 1, MAX_QUBITS, 4)
    depth = st.slider("Depth (entangling + RY layers)", 0, MAX_DEPTH, 6)
    spec = CircuitSpec(n_qubits, depth)
    backend = st.selectbox("Simulator", [b.name for b in local_backends()], index=2 if n_qubits else 0)
    sampled = st.toggle("Measure with shots", value=True)
    shots = st.number_input("Shots", 1, MAX_SHOTS, 1024, step=256, disabled=not sampled)
    noise = st.toggle(f"NISQ noise ({short_label(DEFAULT_NOISE_DEVICE)}, qiskit.aer)", value=False,
                      disabled=not get_backend(backend).supports_noise or not sampled or n_qubits > NOISY_MAX_QUBITS)
    model = selected_model()
    model_fits = model is not None and (model[1]["n_qubits"], model[1]["depth"]) == (n_qubits, depth)

    st.subheader("Weights")
    weight_source = st.radio("Weights", ["random (seeded)", "the selected model's"], horizontal=True,
                             label_visibility="collapsed")
    if weight_source == "the selected model's" and model_fits:
        weights = load_predictor(model[0]).head.q_params.detach().double().numpy()
    else:
        if weight_source == "the selected model's":
            st.info("The selected model has a different shape (or there is none): pick 4 qubits, depth 6 and a model.")
        seed = st.number_input("Seed", 0, 10_000, 0)
        weights = np.random.default_rng(int(seed)).uniform(-np.pi, np.pi, spec.weight_shape)

    st.subheader("Input angles")
    photo = st.file_uploader("Take them from a photo (through the selected model)", type=["jpg", "jpeg", "png", "webp", "bmp"],
                             disabled=not model_fits)
    from_photo = None
    if photo is not None and model_fits:
        try:
            from_photo = load_predictor(model[0]).predict(photo.getvalue())
            st.success(f"Model says **{from_photo.label}** ({from_photo.probability:.0%}); its angles are used below.")
        except ImageError as exc:
            st.error(f"{photo.name}: {exc}")
    angles = np.array([
        st.slider(f"θ{q} (qubit {q})", -np.pi / 2, np.pi / 2, float(from_photo.angles[q]) if from_photo else 0.3 * (q % 3) - 0.3,
                  step=0.01, key=f"angle{q}-{from_photo is not None}")
        for q in range(n_qubits)
    ])

with right:
    started = time.perf_counter()
    probs = exact_probabilities(spec, angles, weights)
    counts = None
    if sampled:
        try:
            settings = ExecutionSettings(backend, int(shots), seed=0, noise=DEFAULT_NOISE_DEVICE if noise else None)
            counts = sample_counts(spec, angles, weights, settings)
        except (ValueError, RuntimeError) as exc:
            st.error(str(exc))
    elapsed = time.perf_counter() - started
    title = f"{backend}{' with noise' if noise else ''}: measured vs exact"
    st.plotly_chart(histogram_figure(counts, probs, n_qubits, title), width="stretch")
    exact_z = expvals_from_probabilities(probs, n_qubits)
    rows = {"qubit": list(range(n_qubits)), "exact ⟨Z⟩": np.round(exact_z, 4)}
    if counts:
        z, err = expvals_from_counts(counts, n_qubits)
        rows["measured ⟨Z⟩"] = np.round(z, 4)
        rows["± shot error (1σ)"] = np.round(err, 4)
    st.markdown("**⟨Z⟩ per qubit** — what the model's last layer reads")
    st.dataframe(rows, hide_index=True, width="stretch")
    st.caption(f"Ran in {elapsed * 1000:.0f} ms.")
    if n_qubits <= 5:
        with st.expander("State amplitudes (exact)"):
            state = statevector(spec, angles, weights)
            st.dataframe({"basis state": [format(i, f"0{n_qubits}b") for i in range(2**n_qubits)],
                          "amplitude (real)": np.round(state.real, 4), "amplitude (imag)": np.round(state.imag, 4),
                          "probability": np.round(np.abs(state) ** 2, 4)}, hide_index=True, width="stretch")

remember_explorer(spec, angles, weights)
st.page_link("views/inside.py", label="Step through this circuit: a Bloch sphere per qubit after each layer", icon="🔬")

st.subheader("The circuit")
st.pyplot(circuit_figure(spec, tuple(np.round(angles, 2)), tuple(np.round(weights, 2).ravel())), width="stretch")
export_buttons(spec, angles, weights, model[0] if weight_source == "the selected model's" and model_fits else int(seed))

st.subheader("On a real IBM quantum computer")
ibm_panel(spec, angles, weights, int(shots))
