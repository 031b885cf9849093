"""Concepts: where this model sits, transfer learning, the dressed circuit, NISQ."""

import streamlit as st

from core.circuit.definition import CircuitSpec
from core.learning.backbones import BACKBONES
from core.results.qpu_estimate import QPUAssumptions, circuits_for_training, estimate, human_duration
from ui.figures import markdown_table
from ui.state_figures import circuit_alt, whole_circuit_svg

st.title("Hybrid classical-quantum transfer learning")
st.markdown(
    "A frozen image network turns a photo into numbers; a small **quantum circuit** learns on top of them "
    "to tell faces **with a mask** from faces **without**. This page explains the pieces."
)

st.header("1 · Classical or quantum: data × algorithm")
grid = {
    ("Classical data", "Classical algorithm"): ("CC", "Ordinary machine learning: a CNN classifies photos on a CPU or GPU."),
    ("Classical data", "Quantum algorithm"):
        ("CQ", "Classical data (here: photo features) processed by a quantum circuit. **This model.**"),
    ("Quantum data", "Classical algorithm"):
        ("QC", "Classical ML applied to measurements of quantum systems, e.g. classifying qubit readouts."),
    ("Quantum data", "Quantum algorithm"):
        ("QQ", "Quantum states processed by quantum circuits, e.g. learning a quantum channel."),
}
header = st.columns([1, 2, 2])
header[1].markdown("**Classical algorithm**")
header[2].markdown("**Quantum algorithm**")
for data in ("Classical data", "Quantum data"):
    row = st.columns([1, 2, 2])
    row[0].markdown(f"**{data}**")
    for col, algo in zip(row[1:], ("Classical algorithm", "Quantum algorithm")):
        code, text = grid[(data, algo)]
        (col.success if code == "CQ" else col.info)(f"**{code}** — {text}")

st.header("2 · Transfer learning")
st.markdown(
    "Following the article and Mari et al. (2019): a network **A** is pre-trained on a large data set **D_A** for a task "
    "**T_A** (ImageNet: 1,000 object classes). Its last layer is cut off, leaving **A′**, a general feature extractor. "
    "A new block **B** is trained on a small data set **D_B** for a new task **T_B** (mask / no mask, 240 training photos). "
    "Here **A′ = the frozen backbone** and **B = the dressed quantum circuit**."
)
cols = st.columns(2)
cols[0].markdown("**A′ — frozen backbones**")
cols[0].markdown(markdown_table({"backbone": list(BACKBONES), "features": [b.n_features for b in BACKBONES.values()],
                                 "weights": [b.weights_source for b in BACKBONES.values()]}))
cols[1].markdown("**B — the dressed quantum circuit (trainable)**")
cols[1].markdown(
    "- Linear layer: features → 4 numbers\n- tanh · π/2: 4 angles in (−π/2, π/2)\n"
    "- 4 qubits: Hadamard, RY(angle), then 6 × [CNOT entangling layer + RY(weight)]\n"
    "- ⟨Z⟩ of each qubit: 4 numbers in [−1, 1]\n- Linear layer: 4 → 2 classes"
)

st.header("3 · The dressed circuit, drawn from the code that runs it")
spec = CircuitSpec()
st.image(whole_circuit_svg(spec), width="stretch", alt=circuit_alt(spec))
st.markdown(
    "**Shapes along the way:** image (3 × 224 × 224) → **512** (ResNet-18) or **1,280** (EfficientNet-Lite0) features → "
    "**4 angles** → **4 qubits** (16 amplitudes) → **4 ⟨Z⟩ values** → **2 classes**."
)

st.page_link("views/inside.py", icon="🔬",
             label="Follow a photo through this circuit step by step, a Bloch sphere per qubit, and see why it got its verdict")

st.header("4 · NISQ: why a real quantum computer would take weeks")
record = {"config": {"n_qubits": 4, "depth": 6}, "dataset": {"sizes": {"train": 240, "val": 50, "test": 120}},
          "epochs": [{}] * 30}
counts = circuits_for_training(record)
one_job = estimate(counts["per_epoch"], QPUAssumptions())
st.markdown(
    "Today's machines are **Noisy Intermediate-Scale Quantum** (NISQ) devices: tens to hundreds of qubits, every gate "
    "a little wrong, states that decay within microseconds. They are shared in the cloud, so each job waits in a queue.\n\n"
    f"Training needs gradients; on hardware each gradient is measured with the *parameter-shift rule*: two extra circuits "
    f"per trainable angle. With 28 angles, one training image costs 1 + 2 × 28 = 57 circuits, so **one epoch is "
    f"{counts['per_epoch']:,} circuits** (240 images, plus 50 for validation) — our own count, the same our simulators record. "
    f"Sent one circuit per job, as the article did, with a {one_job['assumptions']['queue_s_per_job']:.0f} s queue per job, "
    f"that is **{human_duration(one_job['total_s'])} per epoch**. The article estimated up to a week per epoch. "
    "The Backend comparison page lets you change these assumptions."
)
