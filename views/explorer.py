"""Circuit explorer: play with the dressed circuit on any simulator. Every setting lives in the page address."""

import time

import numpy as np
import streamlit as st

from core.circuit.definition import MAX_DEPTH, MAX_QUBITS, CircuitSpec
from core.circuit.readout import expvals_from_counts, expvals_from_probabilities
from core.data.images import ImageError
from core.execution.backends import local_backends
from core.execution.noise import DEFAULT_NOISE_DEVICE, short_label
from core.execution.settings import MAX_SHOTS, ExecutionSettings
from core.execution.single_circuit import exact_probabilities, statevector
from core.lessons.link_state import model_file
from core.lessons.live import random_weights, total_variation
from ui import challenge_panel
from ui import lesson_link as link
from ui.bounds_note import bounds_note, explorer_counts
from ui.export_buttons import export_buttons
from ui.figures import histogram_alt, histogram_svg, markdown_table
from ui.handoff import remember_explorer
from ui.ibm_panel import ibm_panel
from ui.shared import load_predictor, selected_model
from ui.state_figures import circuit_alt, whole_circuit_svg

st.title("Circuit explorer")
st.caption("The same circuit code the model trains with. Change anything: it re-runs at once.")
bounds_note("explorer")
start = link.start_state()
link.lesson_banner(start)
challenge = challenge_panel.explorer_box(start)

left, right = st.columns([1, 2])
with left:
    n_qubits = link.control(start, "qubits", st.slider, "Qubits", 1, MAX_QUBITS)
    depth = link.control(start, "depth", st.slider, "Depth (entangling + RY layers)", 0, MAX_DEPTH)
    spec = CircuitSpec(n_qubits, depth)
    backend = link.control(start, "sim", st.selectbox, "Simulator", [b.name for b in local_backends()])
    sampled = link.control(start, "measure", st.toggle, "Measure with shots")
    shots = link.control(start, "shots", st.number_input, "Shots", 1, MAX_SHOTS, step=256, disabled=not sampled)
    noise_ok = link.noise_allowed(backend, sampled, n_qubits)
    noise = link.control(start, "noise", st.toggle, f"NISQ noise ({short_label(DEFAULT_NOISE_DEVICE)}, qiskit.aer)",
                         disabled=not noise_ok) and noise_ok
    model = selected_model()
    model_fits = model is not None and (model[1]["n_qubits"], model[1]["depth"]) == (n_qubits, depth)

    if not {"weights", "seed"} <= start.hide:
        st.header("Weights")
    weight_source = link.control(start, "weights", st.radio, "Weights", ["random", "model"], horizontal=True,
                                 label_visibility="collapsed",
                                 format_func={"random": "random (seeded)", "model": "the selected model's"}.get)
    seed = start.seed
    if weight_source == "model" and model_fits:
        weights = load_predictor(model[0]).head.q_params.detach().double().numpy()
    else:
        if weight_source == "model":
            st.info("The selected model has a different shape (or there is none): pick 4 qubits, depth 6 and a model.")
        seed = link.control(start, "seed", st.number_input, "Seed", 0, 10_000)
        weights = random_weights(spec, int(seed))

    if not {"angles", "photo"} <= start.hide:
        st.header("Input angles")
    from_photo = None
    # the uploader behind a toggle: a phone's browser loads and draws it only when asked for (bench/bench_lighthouse.py)
    if "photo" not in start.hide and st.toggle("Take them from a photo (through the selected model)", key="explorer-from-photo",
                                               disabled=not model_fits or "photo" in start.lock):
        photo = st.file_uploader("Photo", type=["jpg", "jpeg", "png", "webp", "bmp"])
        if photo is not None and model_fits:
            try:
                from_photo = load_predictor(model[0]).predict(photo.getvalue())
                st.success(f"Model says **{from_photo.label}** ({from_photo.probability:.0%}); its angles are used below.")
                if st.session_state.get("explorer-photo") != photo.file_id:
                    st.session_state["explorer-photo"] = photo.file_id
                    link.set_angles(from_photo.angles)
            except ImageError as exc:
                st.error(f"{photo.name}: {exc}")
    angles = np.array(link.angle_sliders(start, n_qubits, lambda q, key: st.slider(
        f"θ{q} (qubit {q})", -np.pi / 2, np.pi / 2, step=0.01, key=key, disabled="angles" in start.lock)))
    state = link.keep(start, n_qubits=n_qubits, depth=depth, sim=backend, measure="shots" if sampled else "exact",
                      shots=int(shots), noise=bool(noise), weights=weight_source, seed=int(seed),
                      model=model_file(model[0]) if weight_source == "model" and model_fits else "",
                      angles=tuple(float(a) for a in angles))
    angles = np.array(state.angles)  # to the link's 2 decimals: what the address reproduces
    link.share_box(state)

with right:
    started = time.perf_counter()
    probs = exact_probabilities(spec, angles, weights)
    counts = None
    if sampled:
        try:
            settings = ExecutionSettings(backend, int(shots), seed=0, noise=DEFAULT_NOISE_DEVICE if noise else None)
            counts = explorer_counts(spec, angles, weights, settings)
        except (ValueError, RuntimeError) as exc:
            st.error(str(exc))
    elapsed = time.perf_counter() - started
    title = f"{backend}{' with noise' if noise else ''}: measured vs exact"
    # a plain SVG, not a chart library: the page stays light on a phone (bench/bench_lighthouse.py)
    st.image(histogram_svg(counts, probs, n_qubits, title), width="stretch", alt=histogram_alt(counts, probs, n_qubits))
    exact_z = expvals_from_probabilities(probs, n_qubits)
    rows = {"qubit": list(range(n_qubits)), "exact ⟨Z⟩": np.round(exact_z, 4)}
    if counts:
        z, err = expvals_from_counts(counts, n_qubits)
        rows["measured ⟨Z⟩"] = np.round(z, 4)
        rows["± shot error (1σ)"] = np.round(err, 4)
    st.markdown("**⟨Z⟩ per qubit** — what the model's last layer reads")
    st.table(rows, hide_index=True)  # a plain HTML table: no data grid for the browser to load
    distance = f" Total-variation distance of the histogram to the exact distribution: {total_variation(counts, probs):.3f}." \
        if counts else ""
    st.caption(f"Ran in {elapsed * 1000:.0f} ms.{distance}")
    if n_qubits <= 5:
        with st.popover("State amplitudes (exact)"):  # drawn only when opened: light for a phone
            state_vector = statevector(spec, angles, weights)
            st.markdown(markdown_table({"basis state": [format(i, f"0{n_qubits}b") for i in range(2**n_qubits)],
                                        "amplitude (real)": [float(a) for a in state_vector.real],
                                        "amplitude (imag)": [float(a) for a in state_vector.imag],
                                        "probability": [float(p) for p in np.abs(state_vector) ** 2]}))

challenge_panel.check_in_explorer(challenge, state, counts)
remember_explorer(spec, angles, weights, state)
st.page_link("views/inside.py", label="Step through this circuit: a Bloch sphere per qubit after each layer", icon="🔬")

st.header("The circuit")
st.image(whole_circuit_svg(spec, list(angles) + list(np.asarray(weights).ravel())), width="stretch", alt=circuit_alt(spec))
export_buttons(spec, angles, weights, model[0] if weight_source == "model" and model_fits else int(seed))

st.header("On a real IBM quantum computer")
ibm_panel(spec, angles, weights, int(shots))
