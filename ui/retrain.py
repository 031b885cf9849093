"""The sidebar's maintainer panel: the unlock (which also opens IBM Quantum sending) and the Retrain controls."""

from __future__ import annotations

import streamlit as st

from core.execution.backends import get_backend, training_backends
from core.execution.noise import DEFAULT_NOISE_DEVICE, short_label
from core.execution.settings import MAX_SHOTS
from core.learning.backbones import BACKBONES
from core.paths import checkpoints_dir, runs_dir
from core.server import training_worker
from core.server.access import check_password, client_key, maintainer_secret
from ui.shared import backbone_available

UNLOCKED = "maintainer_unlocked"
MAX_EPOCHS_UI = 100


def _client_key() -> str:
    """The throttle's key for this visitor: the address the server sees (core.server.access.client_key)."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return client_key(st.context.ip_address, st.context.headers, ctx.session_id if ctx else None)


def is_maintainer() -> bool:
    """Whether this session was unlocked with the maintainer password (only the login sets the flag)."""
    return st.session_state.get(UNLOCKED) is True


def retrain_panel() -> None:
    """Nothing at all unless a maintainer secret is configured; a login, then the controls."""
    secret = maintainer_secret(st.secrets)
    if not secret:
        return
    with st.sidebar.expander("🔧 Maintainer: retrain", expanded=is_maintainer()):
        if not is_maintainer():
            with st.form("maintainer_login", clear_on_submit=True):
                given = st.text_input("Maintainer password", type="password")
                if st.form_submit_button("Unlock"):
                    check = check_password(given, secret, key=_client_key())
                    st.session_state[UNLOCKED] = check.ok
                    (st.success if check.ok else st.error)(check.message)
                    if check.ok:
                        st.rerun()
            return
        _controls()
        _progress()


def _controls() -> None:
    backbone = st.selectbox("Backbone", list(BACKBONES)[::-1], key="rt_backbone")
    ok, why = backbone_available(backbone)
    if not ok:
        st.warning(why)
    backends = [b.name for b in training_backends()]
    backend = st.selectbox("Simulator", backends, key="rt_backend")
    sampled = get_backend(backend).default_shots is not None
    shots = st.number_input("Shots per circuit", 1, MAX_SHOTS, 1024, step=256, disabled=not sampled, key="rt_shots",
                            help="qiskit.aer and cirq.simulator sample; the PennyLane simulators run analytically.")
    noisy = get_backend(backend).supports_noise
    noise = st.checkbox(f"NISQ noise ({short_label(DEFAULT_NOISE_DEVICE)})", disabled=not noisy, key="rt_noise")
    epochs = st.number_input("Epochs", 1, MAX_EPOCHS_UI, 30, key="rt_epochs")
    seed = st.number_input("Seed", 0, 10_000, 0, key="rt_seed")
    running = training_worker.is_running()
    if st.button("Start training", disabled=running or not ok, type="primary", width="stretch"):
        config = {"backbone": backbone, "backend": backend, "shots": int(shots) if sampled else None,
                  "noise": DEFAULT_NOISE_DEVICE if noise and noisy else None, "epochs": int(epochs), "seed": int(seed)}
        try:
            result = training_worker.start_training(config, runs_dir=str(runs_dir()), checkpoints_dir=str(checkpoints_dir()))
        except ValueError as exc:
            st.error(str(exc))
        else:
            (st.success if result.started else st.warning)(result.message)
    elif running:
        st.caption("A training is running; one at a time.")


@st.fragment(run_every=1.0)
def _progress() -> None:
    status = training_worker.read_status()
    if not status:
        return
    state = status.get("state")
    st.markdown(f"**Last training:** {status.get('label', '')} — *{state}*")
    if state in ("starting", "running"):
        epochs, epoch = status.get("epochs") or 1, status.get("epoch") or 0
        steps, step = status.get("steps") or 1, status.get("step") or 0
        if status.get("phase") == "features":
            st.progress(min(1.0, step / steps), text=f"Backbone features: {step}/{steps} images")
        else:
            done = ((max(epoch, 1) - 1) * steps + step) / (epochs * steps)
            st.progress(min(1.0, done), text=f"Epoch {max(epoch, 1)}/{epochs}, step {step}/{steps}")
        if st.button("Cancel training", key="rt_cancel"):
            training_worker.cancel_training()
    elif state == "failed":
        st.error(status.get("error", "failed"))
    elif state == "completed":
        st.success(f"Done: test accuracy {status.get('test_accuracy', 0):.1%}; the model is in the picker.")
    history = status.get("history") or []
    if history:
        import pandas as pd

        frame = pd.DataFrame(history).set_index("epoch")[["train_acc", "val_acc", "train_loss", "val_loss"]]
        st.line_chart(frame, height=180)
