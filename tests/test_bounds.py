"""Server-side bounds: qubits, depth, shots, epochs and circuit parameters are checked in core, not only by widgets.

Every public entry point the pages call (views/explorer.py: CircuitSpec,
exact_probabilities, statevector, sample_counts; ui/retrain.py:
core.server.training_worker.start_training) refuses out-of-range, non-integer, negative and
NaN values with a ValueError whose message names the setting and its range.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from core.circuit.definition import MAX_DEPTH, MAX_QUBITS, CircuitSpec
from core.execution.settings import MAX_SHOTS, ExecutionSettings, check_shots, resolve_shots
from core.execution.single_circuit import exact_probabilities, sample_counts, statevector

NOT_WHOLE = [2.5, 4.0, "4", None, True, math.nan, math.inf]


# --- qubits and depth (CircuitSpec: the explorer, training, checkpoints) ------------------------------


@pytest.mark.parametrize("n_qubits", [0, -1, MAX_QUBITS + 1, 10**9, *NOT_WHOLE])
def test_qubits_are_bounded(n_qubits):
    with pytest.raises(ValueError, match=rf"n_qubits must be a whole number between 1 and {MAX_QUBITS}, got"):
        CircuitSpec(n_qubits, 2)


@pytest.mark.parametrize("depth", [-1, MAX_DEPTH + 1, 10**9, *NOT_WHOLE])
def test_depth_is_bounded(depth):
    with pytest.raises(ValueError, match=rf"depth must be a whole number between 0 and {MAX_DEPTH}, got"):
        CircuitSpec(2, depth)


def test_numpy_integers_are_plain_ints_in_range():
    spec = CircuitSpec(np.int64(MAX_QUBITS), np.int32(0))
    assert (spec.n_qubits, spec.depth) == (MAX_QUBITS, 0) and type(spec.n_qubits) is int


# --- angles, weights and shots (explorer and predict page) -------------------------------------------------

SPEC = CircuitSpec(2, 1)
GOOD_ANGLES, GOOD_WEIGHTS = np.array([0.1, -0.2]), np.zeros((1, 2))


@pytest.mark.parametrize(
    ("angles", "weights", "needle"),
    [
        ([math.nan, 0.0], GOOD_WEIGHTS, "angles must be finite numbers"),
        ([math.inf, 0.0], GOOD_WEIGHTS, "angles must be finite numbers"),
        (GOOD_ANGLES, [[0.0, -math.inf]], "weights must be finite numbers"),
        ([0.1, 0.2, 0.3], GOOD_WEIGHTS, r"angles must have shape \(2,\)"),
        (GOOD_ANGLES, np.zeros((3, 2)), r"weights must have shape \(1, 2\)"),
        ([["a", "b"]], GOOD_WEIGHTS, "angles must be numbers"),
        (GOOD_ANGLES, None, "weights must"),
    ],
)
@pytest.mark.parametrize("entry", ["exact_probabilities", "statevector", "sample_counts"])
def test_circuit_parameters_are_checked(entry, angles, weights, needle):
    run = {
        "exact_probabilities": lambda: exact_probabilities(SPEC, angles, weights),
        "statevector": lambda: statevector(SPEC, angles, weights),
        "sample_counts": lambda: sample_counts(SPEC, angles, weights, ExecutionSettings("default.qubit", 100, 0)),
    }[entry]
    with pytest.raises(ValueError, match=needle):
        run()


@pytest.mark.parametrize("shots", [0, -1, -1024, MAX_SHOTS + 1, 10**12, 2.5, 1024.0, "1024", "x", None, True, math.nan, math.inf])
def test_sample_counts_shots_are_bounded(shots):
    with pytest.raises(ValueError, match=rf"shots must be a whole number between 1 and {MAX_SHOTS}, got"):
        sample_counts(SPEC, GOOD_ANGLES, GOOD_WEIGHTS, ExecutionSettings("qiskit.aer", shots, 0))


def test_valid_values_at_the_bounds_still_run():
    assert check_shots(np.int64(MAX_SHOTS)) == MAX_SHOTS
    counts = sample_counts(SPEC, GOOD_ANGLES, GOOD_WEIGHTS, ExecutionSettings("default.qubit", 1, 0))
    assert sum(counts.values()) == 1
    spec = CircuitSpec(1, MAX_DEPTH)
    probs = exact_probabilities(spec, [0.3], np.zeros(spec.weight_shape))
    assert probs.shape == (2,) and probs.sum() == pytest.approx(1.0)
    assert statevector(CircuitSpec(MAX_QUBITS, 0), np.zeros(MAX_QUBITS), np.zeros((0, MAX_QUBITS))).shape == (2**MAX_QUBITS,)


@pytest.mark.parametrize("shots", [0, -5, MAX_SHOTS + 1])
def test_resolve_shots_bounds(shots):
    if shots == 0:
        assert resolve_shots("qiskit.aer", shots) is None  # 0 means analytic, by design
        return
    with pytest.raises(ValueError, match=rf"shots must be a whole number between 1 and {MAX_SHOTS}"):
        resolve_shots("qiskit.aer", shots)


@pytest.mark.parametrize("shots", [2.5, True, "x", math.nan, math.inf])
def test_resolve_shots_refuses_non_integers(shots):
    with pytest.raises(ValueError, match="shots must be"):
        resolve_shots("qiskit.aer", shots)


# --- training (the sidebar's retrain → core.server.training_worker.start_training → TrainConfig.resolved) -----------------------


@pytest.fixture
def no_worker(monkeypatch, tmp_path):
    """Refused settings must fail in the request: never start a worker, never touch the real jobs folder."""
    from core.server import training_worker

    def refuse(*args, **kwargs):
        raise AssertionError("a training worker was started for settings that should have been refused")

    monkeypatch.setenv("QTL_JOBS_DIR", str(tmp_path / "jobs"))
    monkeypatch.setattr(training_worker.subprocess, "Popen", refuse)
    return training_worker


@pytest.mark.parametrize(
    ("setting", "needle"),
    [
        ({"epochs": 0}, "epochs must be a whole number between 1 and 200"),
        ({"epochs": -3}, "epochs must be a whole number between 1 and 200"),
        ({"epochs": 201}, "epochs must be a whole number between 1 and 200"),
        ({"epochs": 10**9}, "epochs must be a whole number between 1 and 200"),
        ({"epochs": math.nan}, "epochs must be a whole number between 1 and 200"),
        ({"shots": 10**9}, f"shots must be a whole number between 1 and {MAX_SHOTS}"),
        ({"shots": -1}, f"shots must be a whole number between 1 and {MAX_SHOTS}"),
        ({"n_qubits": MAX_QUBITS + 1}, "n_qubits must be a whole number between 1 and"),
        ({"n_qubits": 2.5}, "n_qubits must be a whole number between 1 and"),
        ({"depth": -1}, "depth must be a whole number between 0 and"),
        ({"depth": "6"}, "depth must be a whole number between 0 and"),
        ({"batch_size": 0}, "batch_size must be a whole number between 1 and 256"),
        ({"backend": "nope"}, "unknown backend"),
        ({"backbone": "nope"}, "unknown backbone"),
        ({"noise": "nope", "backend": "qiskit.aer", "shots": 1024}, "unknown noise device"),
    ],
)
def test_start_training_refuses_bad_settings(setting, needle, no_worker):
    config = {"backbone": "efficientnet_lite0", "backend": "default.qubit", "shots": None, "epochs": 30, "seed": 0, **setting}
    with pytest.raises(ValueError, match=needle):
        no_worker.start_training(config)
    assert not no_worker.is_running()


@pytest.mark.parametrize(
    "setting",
    [{"epochs": 2.5}, {"epochs": True}, {"epochs": "30"}, {"epochs": None}, {"epochs": 10**6, "max_epochs": 10**7},
     {"batch_size": 2.5}, {"lr": math.nan}, {"bogus": 1}, {"noise": "fake_manila", "backend": "default.qubit"}],
    ids=["epochs-2.5", "epochs-True", "epochs-str", "epochs-None", "max_epochs-override", "batch-2.5", "lr-nan", "unknown-key",
         "noise-on-default.qubit"],
)
def test_training_config_refuses_non_integers_and_overrides(setting, tmp_path):
    from core.learning.config import TrainConfig

    with pytest.raises(ValueError):
        TrainConfig.from_dict({"data_dir": str(tmp_path), **setting}).resolved()


# --- heavy clicks: the pool the pages' heaviest settings go through (ui.bounds_note, core.server.bounds) ----------


def _bounded_page():
    import streamlit as st

    from ui.bounds_note import bounds_note, run_heavy

    bounds_note("explorer")
    st.session_state["result"] = run_heavy("explorer", sum, [1, 2, 3], heavy=st.session_state.get("heavy", True))


def test_a_page_states_its_bound_and_a_heavy_run_returns_its_result():
    from streamlit.testing.v1 import AppTest

    from core.server.bounds import PAGE_BOUNDS

    app = AppTest.from_function(_bounded_page).run(timeout=30)
    assert not app.exception
    assert [c.value for c in app.caption] == [PAGE_BOUNDS["explorer"].text]
    assert app.session_state["result"] == 6 and not app.warning


def test_a_heavy_run_on_a_busy_server_is_refused_with_the_reason_on_the_page(monkeypatch):
    import threading

    from streamlit.testing.v1 import AppTest

    from core.server.bounds import HEAVY_POOL

    monkeypatch.setattr(HEAVY_POOL, "wait_s", 0.3)
    entered, release = threading.Event(), threading.Event()

    def hold():
        with HEAVY_POOL.slot():
            entered.set()
            release.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert entered.wait(10)
        app = AppTest.from_function(_bounded_page).run(timeout=30)
        assert app.session_state["result"] is None
        assert "Waited 0.3 s for a turn on the busy server" in app.warning[0].value
        light = AppTest.from_function(_bounded_page)
        light.session_state["heavy"] = False
        assert light.run(timeout=30).session_state["result"] == 6, "light work does not queue"
    finally:
        release.set()
        holder.join()


def _explorer_run():
    import numpy as np
    import streamlit as st

    from core.circuit.definition import CircuitSpec
    from core.execution.settings import ExecutionSettings
    from ui.bounds_note import explorer_counts

    n, depth, sim, shots = st.session_state["run"]
    try:
        st.session_state["counts"] = explorer_counts(CircuitSpec(n, depth), np.zeros(n), np.zeros((depth, n)),
                                                     ExecutionSettings(sim, shots, 0))
    except ValueError as exc:
        st.session_state["refused"] = str(exc)


@pytest.mark.parametrize(("run", "refused"), [((2, 1, "default.qubit", 20_000), None), ((2, 1, "qsharp", 100), None),
                                              ((8, 10, "qsharp", 100_000), "it may take at most 416 shots here")])
def test_the_explorers_runs_go_through_their_bound(run, refused):
    from streamlit.testing.v1 import AppTest

    app = AppTest.from_function(_explorer_run)
    app.session_state["run"] = run
    app.run(timeout=60)
    if refused:
        assert refused in app.session_state["refused"] and "counts" not in app.session_state
    else:
        assert sum(app.session_state["counts"].values()) == run[3], "a heavy run (20,000 shots) queues, then runs"
