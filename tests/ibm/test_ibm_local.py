"""The IBM Quantum backend's whole code path, in qiskit-ibm-runtime's local testing mode (fake device, no network)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from core.circuit.definition import CircuitSpec, parameter_rows
from core.execution.single_circuit import exact_probabilities, statevector
from core.ibm import connection, evaluation, submission
from core.paths import IBM_CACHE_ENV, PROJECT_ROOT

ROOT = PROJECT_ROOT
TOKEN = "not-a-real-token-7d1f0c"
IBM_ENV = (connection.TOKEN_ENV, connection.INSTANCE_ENV, connection.BACKEND_ENV, connection.CHANNEL_ENV, connection.LOCAL_ENV,
           "QTL_IBM_JOBS_PER_DAY", "QTL_IBM_MAX_SHOTS")


@pytest.fixture
def cache(monkeypatch, tmp_path) -> Path:
    for name in IBM_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(IBM_CACHE_ENV, str(tmp_path / "ibm_jobs"))
    return tmp_path / "ibm_jobs"


@pytest.fixture
def local(cache, monkeypatch) -> Path:
    monkeypatch.setenv(connection.LOCAL_ENV, "fake_manila")
    return cache


def records(folder: Path) -> list[Path]:
    """The job records (the budget's ledger lies beside them)."""
    return sorted(p for p in folder.glob("*.json") if p.name != "budget-ledger.json")


def circuit(spec: CircuitSpec, seed: int = 0):
    rng = np.random.default_rng(seed)
    return rng.uniform(-np.pi / 2, np.pi / 2, spec.n_qubits), rng.uniform(-np.pi, np.pi, spec.weight_shape)


PANEL_SCRIPT = """
import numpy as np
from core.circuit.definition import CircuitSpec
from ui.ibm_panel import ibm_panel
rng = np.random.default_rng(0)
spec = CircuitSpec(4, 2)
ibm_panel(spec, rng.uniform(-1, 1, 4), rng.uniform(-3, 3, (2, 4)), shots=512)
"""


def maintainer_panel():
    """The panel as an unlocked maintainer sees it (tests/app/test_security.py unlocks through the real login)."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_string(PANEL_SCRIPT, default_timeout=120)
    at.session_state["maintainer_unlocked"] = True
    return at.run()


def page_text(at) -> str:
    """Everything the panel wrote, as text."""
    parts = [e.value for kind in ("markdown", "caption", "info", "warning", "error", "subheader") for e in getattr(at, kind)]
    parts += [f"{m.label} {m.value}" for m in at.metric] + [b.label for b in at.button]
    return "\n".join(map(str, parts))


def test_hidden_without_a_token_and_the_page_says_how_to_enable_it(cache):
    from streamlit.testing.v1 import AppTest

    assert not connection.configured() and connection.connection() is None
    assert not connection.configured({"ibm_token": ""})
    assert connection.configured({"ibm_token": TOKEN, "ibm_instance": "crn:demo"}), "secrets passed in as a Mapping count"
    assert submission.cached_circuit(CircuitSpec(), *circuit(CircuitSpec())) is None
    at = AppTest.from_string(PANEL_SCRIPT, default_timeout=60).run()
    assert not at.exception, [e.value for e in at.exception]
    message = at.info[0].value
    assert connection.TOKEN_ENV in message and "ibm_token" in message and "QTL_IBM_LOCAL=fake_manila" in message
    assert not at.button, "no send button without credentials"


def test_a_visitor_of_a_maintained_server_sees_one_line_and_the_maintainer_the_set_up(cache, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from core.server.access import PASSWORD_ENV
    from ui.ibm_panel import NOT_CONNECTED

    monkeypatch.setenv(PASSWORD_ENV, "a-maintainer-password")
    visitor = AppTest.from_string(PANEL_SCRIPT, default_timeout=60).run()
    assert not visitor.exception, [e.value for e in visitor.exception]
    assert NOT_CONNECTED in page_text(visitor)
    assert connection.TOKEN_ENV not in page_text(visitor) and "secrets.toml" not in page_text(visitor)
    maintainer = maintainer_panel()
    assert connection.TOKEN_ENV in maintainer.info[0].value and NOT_CONNECTED not in page_text(maintainer)


def test_the_qiskit_circuit_is_the_projects_circuit():
    """The translation from core/circuit/qiskit_circuit.py, exactly: same state as default.qubit (wire 0 = leftmost bit)."""
    from qiskit.quantum_info import Statevector

    for spec in (CircuitSpec(4, 6), CircuitSpec(3, 2), CircuitSpec(5, 1)):
        angles, weights = circuit(spec, seed=spec.n_qubits)
        bound = submission.measured_circuit(spec).remove_final_measurements(inplace=False)
        bound = bound.assign_parameters(parameter_rows(angles, weights, spec)[0])
        ours = Statevector(bound).reverse_qargs().data  # Qiskit's qubit 0 is the least significant bit
        reference = statevector(spec, angles, weights)
        assert abs(np.vdot(reference, ours)) == pytest.approx(1.0, abs=1e-9)


def test_noiseless_fake_device_run_agrees_with_the_exact_probabilities(local):
    spec, shots = CircuitSpec(4, 6), 8192
    angles, weights = circuit(spec, seed=3)
    record = submission.submit_circuit(spec, angles, weights, shots, noiseless=True, seed=11)
    assert record.done and record.mode == "local" and record.backend == "fake_manila (noiseless)"
    assert sum(record.histogram.values()) == shots and all(len(b) == spec.n_qubits for b in record.histogram)
    assert record.transpiled["physical_qubits"] == [0, 1, 2, 3], "Manila's line needs no SWAPs"
    probs = exact_probabilities(spec, angles, weights)
    measured = np.array([record.histogram.get(format(i, "04b"), 0) for i in range(16)]) / shots
    sigma = np.sqrt(probs * (1 - probs) / shots) + 1 / shots
    assert np.all(np.abs(measured - probs) < 5 * sigma), np.c_[probs, measured]
    # With the fake device's noise the histogram still resembles the exact one, but less well.
    noisy = submission.submit_circuit(spec, angles, weights, shots, seed=11)
    noisy_measured = np.array([noisy.histogram.get(format(i, "04b"), 0) for i in range(16)]) / shots
    assert noisy.backend == "fake_manila" and 0.5 * np.abs(noisy_measured - probs).sum() < 0.5


def test_submitted_once_cached_on_disk_and_kept_across_a_restart(local):
    spec = CircuitSpec(4, 3)
    angles, weights = circuit(spec, seed=5)
    before = submission.SUBMISSIONS
    first = submission.submit_circuit(spec, angles, weights, 1024, seed=1)
    assert submission.SUBMISSIONS == before + 1
    files = records(local)
    assert [f.stem for f in files] == [first.key]
    again = submission.submit_circuit(spec, angles, weights, 1024, seed=99)
    assert submission.SUBMISSIONS == before + 1, "a rerun must not submit again"
    assert again.job_id == first.job_id and again.histogram == first.histogram
    assert submission.cached_circuit(spec, angles, weights, 1024).job_id == first.job_id
    submission.submit_circuit(spec, angles, weights, 2048, seed=1)
    assert submission.SUBMISSIONS == before + 2, "other shots are another job"
    with pytest.raises(connection.IBMError, match="5 qubits"):
        submission.submit_circuit(CircuitSpec(6, 1), *circuit(CircuitSpec(6, 1)))
    assert submission.SUBMISSIONS == before + 2 and len(records(local)) == 2

    # A new process (fresh module state), the same cache folder: the record is found, nothing is submitted.
    code = ("import json, numpy as np; from core.ibm import submission; from core.circuit.definition import CircuitSpec;"
            f"r = submission.submit_circuit(CircuitSpec(4, 3), np.array({angles.tolist()}), np.array({weights.tolist()}), 1024);"
            "print(json.dumps({'job_id': r.job_id, 'submissions': submission.SUBMISSIONS}))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=dict(os.environ), capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.strip().splitlines()[-1]) == {"job_id": first.job_id, "submissions": 0}


RACER = """
import json, sys, time
from pathlib import Path
import numpy as np
from core.circuit.definition import CircuitSpec
from core.ibm import submission
go = Path(sys.argv[1])
Path(sys.argv[2]).touch()  # imported and waiting
while not go.exists():
    time.sleep(0.005)
r = submission.submit_circuit(CircuitSpec(4, 2), np.full(4, 0.3), np.full((2, 4), 0.7), 1024, seed=1)
print(json.dumps({"job_id": r.job_id, "submissions": submission.SUBMISSIONS}))
"""


def test_processes_asking_at_the_same_moment_submit_once(local, tmp_path):
    # two servers (or a server and the CLI) on one machine share the cache folder: the circuit goes out once
    go, ready = tmp_path / "go", [tmp_path / f"ready-{i}" for i in range(4)]
    racers = [subprocess.Popen([sys.executable, "-c", RACER, str(go), str(r)], cwd=ROOT, env=dict(os.environ),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for r in ready]
    deadline = time.monotonic() + 120
    while not all(r.exists() for r in ready) and time.monotonic() < deadline:
        time.sleep(0.05)
    go.touch()
    answers = []
    for racer in racers:
        out, err = racer.communicate(timeout=120)
        assert racer.returncode == 0, err
        answers.append(json.loads(out.strip().splitlines()[-1]))
    assert sum(a["submissions"] for a in answers) == 1
    assert len({a["job_id"] for a in answers}) == 1 and len(records(local)) == 1


def test_the_token_never_reaches_a_record_the_cache_or_the_page(local, monkeypatch):

    monkeypatch.setenv(connection.TOKEN_ENV, TOKEN)
    conn = connection.connection()
    assert conn.mode == "local", "local test mode wins over a token: trying the page never spends an account's time"
    monkeypatch.delenv(connection.LOCAL_ENV)
    cloud = connection.connection()
    assert cloud.mode == "cloud" and cloud.token == TOKEN and TOKEN not in repr(cloud) and TOKEN not in cloud.label
    assert connection.redact(f"401 for token {TOKEN}", cloud) == "401 for token ***"
    assert TOKEN not in connection.how_to_enable()
    monkeypatch.setenv(connection.LOCAL_ENV, "fake_manila")

    at = maintainer_panel()
    at.button[0].click().run()
    assert not at.exception, [e.value for e in at.exception]
    record, ledger = records(local)[0].read_text(), (local / "budget-ledger.json").read_text()
    page = page_text(at)
    assert TOKEN not in record and TOKEN not in ledger and TOKEN not in page
    assert "nothing is sent" in page


def test_the_panel_sends_once_and_shows_job_backend_status_and_histogram(local):
    from streamlit.testing.v1 import AppTest

    before = submission.SUBMISSIONS
    at = maintainer_panel()
    assert "nothing is sent" in at.warning[0].value
    assert [b.label for b in at.button] == ["Send to IBM Quantum"]
    at.button[0].click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert submission.SUBMISSIONS == before + 1
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["backend"] == "fake_manila" and metrics["status"] == "DONE" and metrics["shots"] == "512"
    job_id = json.loads(records(local)[0].read_text())["job_id"]
    assert any(job_id in c.value for c in at.caption)
    assert _histograms(at) == [_expected_histogram(local)], "the result histogram: measured vs exact, as an SVG"
    at = AppTest.from_string(PANEL_SCRIPT, default_timeout=120).run()  # a new visitor, same circuit
    assert not at.button and submission.SUBMISSIONS == before + 1 and _histograms(at) == [_expected_histogram(local)]


def _histograms(at) -> list[tuple[bool, str]]:
    """Every st.image on the page: (whether it is an SVG, its alt text)."""
    return [(img.url.startswith("data:image/svg+xml"), img.alt) for element in at.get("image") for img in element.proto.imgs]


def _expected_histogram(local: Path) -> tuple[bool, str]:
    """PANEL_SCRIPT's job, in words: its measured counts next to the circuit's exact probabilities."""
    from ui.figures import histogram_alt

    rng = np.random.default_rng(0)
    probs = exact_probabilities(CircuitSpec(4, 2), rng.uniform(-1, 1, 4), rng.uniform(-3, 3, (2, 4)))
    return True, histogram_alt(json.loads(records(local)[0].read_text())["counts"][0], probs, 4)


class _StubService:
    """Stands in for QiskitRuntimeService only (no network here); jobs really run on the fake device."""

    def __init__(self):
        from qiskit_ibm_runtime.fake_provider import FakeManilaV2

        self.device, self.jobs, self.lookups = FakeManilaV2(), {}, 0
        self.queued = True

    def backend(self, name):
        assert name == "ibm_test_device"
        return self.device

    def job(self, job_id):
        self.lookups += 1
        if self.queued:
            return _QueuedJob(self.jobs[job_id])
        self.jobs[job_id].result()  # let the fake device finish: the job is DONE when asked
        return self.jobs[job_id]


class _QueuedJob:
    def __init__(self, job):
        self.job = job

    def status(self):
        return "QUEUED"

    def metrics(self):
        return {"position_in_queue": 7}


def test_a_pending_cloud_job_is_refreshed_by_id_never_resent(cache, monkeypatch):
    from qiskit_ibm_runtime import SamplerV2

    stub = _StubService()
    monkeypatch.setenv(connection.TOKEN_ENV, TOKEN)
    monkeypatch.setenv(connection.BACKEND_ENV, "ibm_test_device")
    conn = connection.connection()
    monkeypatch.setitem(connection._SERVICES, (conn.channel, None, hashlib.sha256(TOKEN.encode()).hexdigest()), stub)
    real_run = SamplerV2.run

    def remember(self, pubs, *, shots=None):
        job = real_run(self, pubs, shots=shots)
        stub.jobs[job.job_id()] = job
        return job

    monkeypatch.setattr(SamplerV2, "run", remember)
    monkeypatch.setattr(submission, "REFRESH_S", 0.0)
    spec = CircuitSpec(4, 2)
    angles, weights = circuit(spec)
    before = submission.SUBMISSIONS
    record = submission.submit_circuit(spec, angles, weights, 1024)
    assert record.mode == "cloud" and record.counts is None, "a cloud submission returns at once, without waiting"
    pending = submission.cached_circuit(spec, angles, weights, 1024)
    assert pending.status == "QUEUED" and pending.queue_position == 7 and stub.lookups == 1
    stub.queued = False
    done = submission.submit_circuit(spec, angles, weights, 1024)
    assert done.done and sum(done.histogram.values()) == 1024 and done.job_id == record.job_id
    assert submission.SUBMISSIONS == before + 1 and stub.lookups == 2
    assert submission.cached_circuit(spec, angles, weights, 1024).done and stub.lookups == 2, "a finished job is not asked again"
    assert TOKEN not in records(cache)[0].read_text()


@pytest.fixture(scope="module")
def small_data(face_mask_410, tmp_path_factory) -> Path:
    """A few of the real images per split and class (links), to keep the training short."""
    root = tmp_path_factory.mktemp("small")
    for split, n in (("train", 6), ("val", 2), ("test", 5)):
        for label in ("mask", "no_mask"):
            (root / split / label).mkdir(parents=True)
            for image in sorted((face_mask_410 / split / label).glob("*"))[:n]:
                (root / split / label / image.name).symlink_to(image)
    return root


@pytest.fixture(scope="module")
def checkpoint(small_data, tmp_path_factory):
    """A short real training (one epoch) on those images."""
    from core.learning.checkpoints import list_checkpoints
    from core.learning.config import TrainConfig
    from core.results.runs import run_training

    out = tmp_path_factory.mktemp("ibm")
    run_training(TrainConfig(epochs=1, data_dir=str(small_data)), runs_dir=out / "runs", checkpoints_dir=out / "checkpoints")
    return list_checkpoints(out / "checkpoints").checkpoints[0]


def test_a_test_set_evaluation_is_one_job_with_a_top1_error(local, checkpoint, small_data, monkeypatch):
    monkeypatch.setenv("QTL_IBM_MAX_SHOTS", str(8 * 4096))  # the noiseless check below wants many shots
    before = submission.SUBMISSIONS
    assert evaluation.evaluate_test_set(checkpoint, small_data, limit=8, submit=False) is None
    record = evaluation.evaluate_test_set(checkpoint, small_data, limit=8, shots=1024, seed=2)
    assert submission.SUBMISSIONS == before + 1, "all images in ONE job"
    assert record.kind == "evaluation" and record.done and len(record.counts) == 8
    assert all(sum(c.values()) == 1024 for c in record.counts)
    assert set(record.inputs["labels"]) == {0, 1}, "the images spread over both classes"
    metrics = record.metrics
    assert 0.0 <= metrics["top1_error"] <= 1.0 and len(metrics["predictions"]) == 8
    assert sum(map(sum, metrics["confusion"])) == 8
    assert 0.0 <= record.inputs["exact_top1_error"] <= 1.0
    again = evaluation.evaluate_test_set(checkpoint, small_data, limit=8, shots=1024)
    assert submission.SUBMISSIONS == before + 1 and again.job_id == record.job_id and again.metrics == metrics
    # Noiseless, the <Z> values read from the counts are the exact ones within shot noise.
    clean = evaluation.evaluate_test_set(checkpoint, small_data, limit=8, shots=4096, noiseless=True, seed=3)
    assert submission.SUBMISSIONS == before + 2
    spec = checkpoint.spec
    signs = 1 - 2 * ((np.arange(16)[:, None] >> (3 - np.arange(4))[None, :]) & 1)
    angles = np.asarray(clean.inputs["angles"])  # (8, 4): what the head fed to the circuit
    exact = exact_probabilities(spec, angles, checkpoint.build_head().q_params.detach().double().numpy()) @ signs
    assert np.abs(np.asarray(clean.metrics["expvals"]) - exact).max() < 5 / np.sqrt(4096)

