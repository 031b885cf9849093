"""The IBM Quantum section: send the explorer's circuit (or a test-set evaluation) to a real device, once.

Only an unlocked maintainer sends, within the budget of core.ibm.budget; every visitor sees the jobs already sent.
The send button is disabled for everyone else. Streamlit discards a disabled widget's forged value, and a click is
checked again here all the same, and the budget once more in core when the job is sent.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import streamlit as st

from core.circuit.definition import CircuitSpec
from core.execution.single_circuit import exact_probabilities
from core.ibm import budget, evaluation, submission
from core.ibm import connection as ibm_connection
from core.ibm.connection import LOCAL_LABEL, Connection, IBMError
from core.ibm.job_cache import JobRecord
from core.server.access import maintainer_secret
from ui.figures import histogram_alt, histogram_svg
from ui.retrain import is_maintainer

ONLY_MAINTAINER = "Only the maintainer can send this to IBM Quantum."
NOT_CONNECTED = "This server is not connected to IBM Quantum; its maintainer can connect it."


def _connection() -> Connection | None:
    return ibm_connection.connection(st.secrets)


def _mode_banner(conn: Connection) -> None:
    if conn.mode == "local":
        st.warning(f"**{LOCAL_LABEL.capitalize()}**: `{conn.backend}` from qiskit-ibm-runtime, simulated here "
                   f"with its calibrated noise. Unset `{ibm_connection.LOCAL_ENV}` to use the real account.")
    else:
        st.caption(f"Jobs go to IBM Quantum ({conn.backend or 'the least busy device'}) on the maintainer's account. "
                   "Each circuit is sent once; its result is kept and shown to everyone.")
    st.caption(_who_can_send())


def _who_can_send() -> str:
    if maintainer_secret(st.secrets) is None:
        return ("Only the maintainer sends jobs, and no maintainer password is set on this server, so jobs already sent "
                "are shown and nothing new is sent.")
    if is_maintainer():
        return "You are unlocked as the maintainer: you can send jobs, within the budget below."
    return "Only the maintainer sends jobs (unlock in the sidebar's 🔧 Maintainer panel); jobs already sent are shown to all."


def _send_refusal(conn: Connection, shots: int) -> str | None:
    """Why this session may not send a job of ``shots`` in all now (None: it may); shows what is left today."""
    try:
        allowance = budget.allowance(conn.mode)
    except (IBMError, ValueError) as exc:
        return str(exc)
    st.caption(allowance.describe() + (" Local test mode counts its own jobs." if conn.mode == "local" else ""))
    if not is_maintainer():
        return ONLY_MAINTAINER
    return allowance.refusal(shots)


def _send_button(label: str, refusal: str | None, help: str) -> bool:
    """The send button, disabled with the reason when this session may not send; pressed AND allowed."""
    if refusal and refusal != ONLY_MAINTAINER:  # the banner already says who sends
        st.caption(refusal)
    return st.button(label, type="primary", disabled=refusal is not None, help=refusal or help) and refusal is None


def _job_summary(record: JobRecord) -> None:
    status = record.status if record.queue_position is None else f"{record.status} (#{record.queue_position} in queue)"
    left, middle, right = st.columns(3)
    left.metric("backend", record.backend)
    middle.metric("status", status)
    right.metric("shots", f"{record.shots:,}")
    st.caption(f"Job id `{record.job_id}` · submitted {record.submitted} UTC"
               + (f" · {record.elapsed_s:.1f} s to the result" if record.elapsed_s is not None else "")
               + (" · " + LOCAL_LABEL if record.mode == "local" else ""))
    if record.transpiled:
        t = record.transpiled
        ops = ", ".join(f"{n} {k}" for k, n in t["ops"].items() if k not in ("barrier", "measure"))
        st.caption(f"On the device: physical qubits {t['physical_qubits']}, depth {t['depth']} ({ops}).")
    if record.error:
        st.error(f"The job ended with {record.status}: {record.error}")
    elif not record.final:
        st.info("Queued on IBM Quantum: rerun the page or press *Check again* (status is asked for at most every "
                f"{submission.REFRESH_S:.0f} s; the job is never sent twice).")
        st.button("Check again", key=f"ibm-refresh-{record.key}")


def _section(title: str):
    """The section's heading and mode banner; without an account, how to enable it, and None."""
    st.subheader(title)
    conn = _connection()
    if conn is None:
        _not_connected()
    else:
        _mode_banner(conn)
    return conn


def _not_connected() -> None:
    """How to connect, for whoever can act on it (an unlocked maintainer, or anyone where no maintainer password is
    set: a personal install); a visitor of a maintained server gets one line instead of its set-up."""
    if maintainer_secret(st.secrets) is None or is_maintainer():
        st.info(ibm_connection.how_to_enable())
    else:
        st.caption(NOT_CONNECTED)


def ibm_panel(spec: CircuitSpec, angles: Any, weights: Any, shots: int = 1024) -> None:
    """The circuit explorer's IBM Quantum section for this circuit."""
    conn = _section("Run it on IBM Quantum")
    if conn is None:
        return
    try:
        record = submission.cached_circuit(spec, angles, weights, shots, conn=conn)
        if record is None and _send_button("Send to IBM Quantum", _send_refusal(conn, shots),
                                           f"{spec.n_qubits} qubits, depth {spec.depth}, {shots:,} shots; sent once"):
            with st.spinner("Transpiling for the device and submitting …"):
                record = submission.submit_circuit(spec, angles, weights, shots, conn=conn)
    except (IBMError, ValueError) as exc:
        st.error(str(exc))
        return
    except Exception as exc:  # e.g. the circuit needs more qubits than the device has
        st.error(f"Could not run this circuit on {conn.backend or 'IBM Quantum'}: {type(exc).__name__}: {exc}")
        return
    if record is None:
        st.caption("Not sent yet: this exact circuit (angles, weights, shots) has no job.")
        return
    _job_summary(record)
    if record.done:
        probs = exact_probabilities(spec, np.asarray(angles, dtype=float), np.asarray(weights, dtype=float))
        title = f"{record.backend}: measured vs exact (job {record.job_id[:8]}…)"
        # an SVG image, like every histogram in the app: no chart library for a phone to load and run
        st.image(histogram_svg(record.histogram, probs, spec.n_qubits, title), width="stretch",
                 alt=histogram_alt(record.histogram, probs, spec.n_qubits))


def ibm_evaluation_panel(checkpoint_path: str, data_dir: str | None = None, limit: int | None = None, shots: int = 1024) -> None:
    """Test-set top-1 error of a checkpoint with its circuit run on IBM Quantum (one batched job, sent once)."""
    from core.learning.checkpoints import CheckpointError, load_checkpoint

    conn = _section("Test set on IBM Quantum")
    if conn is None:
        return
    try:
        checkpoint = load_checkpoint(checkpoint_path)
        max_shots = budget.Budget.from_env().max_shots
        images, each = evaluation.within_budget(data_dir, limit, shots, max_shots)
        record = evaluation.evaluate_test_set(checkpoint, data_dir, images, each, conn=conn, submit=False)
        if record is None:
            st.caption(f"One job: {images} test images × {each:,} shots = {images * each:,} shots; a job may use at most "
                       f"{max_shots:,} ({budget.MAX_SHOTS_ENV}), so the shots per image (down to "
                       f"{budget.MIN_SHOTS_PER_IMAGE}), then the images, are cut to fit.")
        if record is None and _send_button("Send the test set to IBM Quantum", _send_refusal(conn, images * each),
                                           "all images' circuits in ONE job; sent once"):
            with st.spinner("Submitting the test set as one job …"):
                record = evaluation.evaluate_test_set(checkpoint, data_dir, images, each, conn=conn)
    except (IBMError, CheckpointError, ValueError, FileNotFoundError) as exc:
        st.error(str(exc))
        return
    if record is None:
        return
    _job_summary(record)
    if record.metrics:
        n = len(record.inputs["labels"])
        left, right = st.columns(2)
        left.metric("top-1 error on the device", f"{record.metrics['top1_error']:.1%}", help=f"{n} images")
        right.metric("top-1 error, exact simulation", f"{record.inputs['exact_top1_error']:.1%}")
