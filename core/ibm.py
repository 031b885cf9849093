"""IBM Quantum: send the dressed circuit, or a test-set evaluation, to a real IBM device, once.

Where the credentials come from (the maintainer's, never shown or logged):
``st.secrets`` keys ``ibm_token``, ``ibm_instance``, ``ibm_backend``, ``ibm_channel``
(the page passes ``st.secrets`` in as a Mapping; core never imports Streamlit),
else the environment ``QTL_IBM_TOKEN``, ``QTL_IBM_INSTANCE``, ``QTL_IBM_BACKEND``,
``QTL_IBM_CHANNEL``. Without a token the backend is hidden. ``QTL_IBM_LOCAL=fake_manila``
(any fake device name of qiskit-ibm-runtime) switches to qiskit-ibm-runtime's *local
testing mode*: the same code path (transpile for the device, ``SamplerV2``, job,
result) runs on a fake device on this machine and nothing is sent; it wins over a
token so that trying the page never spends an account's time.

Every job is submitted once. Its record (job id, backend, status, queue position,
submission time, counts with wire 0 as the leftmost bit) is written atomically to
``$QTL_IBM_CACHE`` (default ``data/ibm_jobs/``) as ``<key>.json``, the key being a
hash of (mode, requested backend, the circuit's shape and parameters, shots); a
rerun finds the record and never resubmits; an exclusive file lock in that folder
makes "look up, else submit and write" one step for every process on the machine.
A pending cloud job is refreshed by its job id (at most every ``REFRESH_S`` seconds).

What differs with a real account (none of it can run here, there is no network):

- Connection: ``QiskitRuntimeService(channel="ibm_quantum_platform", token=...,
  instance=...)`` (the instance is the CRN or name of the IBM Cloud instance);
  the backend is ``service.backend(QTL_IBM_BACKEND)`` or, if unset,
  ``service.least_busy(operational=True, simulator=False, min_num_qubits=n)``.
  The cache key holds the *requested* name ("least-busy" when unset) so a rerun
  finds its record without asking the service; the record holds the real name.
- Queue: a real job waits in the device's queue for minutes to hours; ``submit_*``
  returns right after submission with status ``QUEUED`` (queue position from the
  job's metrics, ``position_in_queue``, when the service reports one; the IBM
  Quantum Platform often does not, then only the status is shown). Local jobs
  finish in about a second and are ``DONE`` at once.
- Retrieval: later calls (and a restarted app) get the job back with
  ``service.job(job_id)`` and read its status, then ``job.result()`` once DONE.
  A local job exists only inside the process, so local mode waits for the result.
- Session / batch: each call here is one job in job mode (the evaluation is ONE
  job: one parametric circuit and a (B, P) parameter array, so it queues once).
  Several jobs in a row could share ``Batch(backend=...)`` or a ``Session``
  (dedicated device time, paid plans); local mode accepts both and ignores them.
- Noise: local mode simulates the fake device's calibration snapshot (Aer noise
  model: gate, T1/T2 and readout errors), a real device has today's errors and
  drift; ``noiseless=True`` (local only) drops the noise to check the translation.
- Cost: real jobs use the instance's QPU minutes (free plan: 10 min / month).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import threading
import time
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from core.circuit import CircuitSpec, symbolic_ops
from core.data import PROJECT_ROOT, atomic_write_bytes, sha256_file

TOKEN_ENV, INSTANCE_ENV, BACKEND_ENV, CHANNEL_ENV = "QTL_IBM_TOKEN", "QTL_IBM_INSTANCE", "QTL_IBM_BACKEND", "QTL_IBM_CHANNEL"
LOCAL_ENV, CACHE_ENV = "QTL_IBM_LOCAL", "QTL_IBM_CACHE"
SECRET_KEYS = {"token": "ibm_token", "instance": "ibm_instance", "backend": "ibm_backend", "channel": "ibm_channel"}
DEFAULT_CHANNEL = "ibm_quantum_platform"
DEFAULT_LOCAL_DEVICE = "fake_manila"
CACHE_DIR = PROJECT_ROOT / "data" / "ibm_jobs"
FORMAT = "qtl-ibm-job/1"
LEAST_BUSY = "least-busy"
FINAL_STATES = ("DONE", "ERROR", "CANCELLED")
REFRESH_S = 10.0
LOCAL_LABEL = "local test mode (fake device, nothing is sent)"

SUBMISSIONS = 0  # jobs this process really submitted (cached answers do not count)
_LOCK = threading.Lock()
_SERVICES: dict[tuple, Any] = {}


class IBMError(RuntimeError):
    """The IBM backend cannot be used as asked (no credentials, a bad cache file, a failed job)."""


@dataclass(frozen=True)
class Connection:
    """Where jobs go: ``mode`` "cloud" (a real account) or "local" (a fake device, nothing sent)."""

    mode: str
    backend: str | None = None  # requested device; None: the least busy one (cloud)
    channel: str = DEFAULT_CHANNEL
    instance: str | None = None
    token: str | None = field(default=None, repr=False, compare=False)

    @property
    def label(self) -> str:
        if self.mode == "local":
            return f"{self.backend} — {LOCAL_LABEL}"
        return f"IBM Quantum ({self.backend or 'least busy device'})"


def _setting(name: str, env: str, secrets: Mapping | None) -> str | None:
    value = None
    if secrets is not None:
        try:
            value = secrets.get(SECRET_KEYS[name])
        except Exception:  # no secrets.toml: Streamlit raises rather than returning None
            value = None
    value = value or os.environ.get(env)
    return (str(value).strip() or None) if value else None


def connection(secrets: Mapping | None = None) -> Connection | None:
    """The configured connection: local test mode if ``$QTL_IBM_LOCAL``, else the account, else None."""
    local = os.environ.get(LOCAL_ENV, "").strip()
    if local and local.lower() not in ("0", "false", "no", "off"):
        device = DEFAULT_LOCAL_DEVICE if local.lower() in ("1", "true", "yes", "on") else local
        return Connection("local", device)
    token = _setting("token", TOKEN_ENV, secrets)
    if not token:
        return None
    return Connection(
        "cloud",
        backend=_setting("backend", BACKEND_ENV, secrets),
        channel=_setting("channel", CHANNEL_ENV, secrets) or DEFAULT_CHANNEL,
        instance=_setting("instance", INSTANCE_ENV, secrets),
        token=token,
    )


def configured(secrets: Mapping | None = None) -> bool:
    """Whether the IBM backend is usable: a token (real account) or ``$QTL_IBM_LOCAL`` (local test mode)."""
    return connection(secrets) is not None


def how_to_enable() -> str:
    """What a maintainer sets to enable the backend (names only, never values)."""
    return (f"To send circuits to IBM Quantum, set `{TOKEN_ENV}` and `{INSTANCE_ENV}` (optionally `{BACKEND_ENV}`, "
            f"else the least busy device is used), or the keys `{SECRET_KEYS['token']}`, `{SECRET_KEYS['instance']}`, "
            f"`{SECRET_KEYS['backend']}` in `.streamlit/secrets.toml`. To try it without an account, "
            f"`{LOCAL_ENV}=fake_manila` runs the same path in qiskit-ibm-runtime's local test mode "
            "(fake device, nothing is sent).")


def cache_dir() -> Path:
    return Path(os.environ.get(CACHE_ENV) or CACHE_DIR)


@contextmanager
def _submission_lock() -> Iterator[None]:
    """Held from "is there a record?" to "the record is written": one submission per circuit for the machine.

    A thread lock for this process's sessions and an exclusive flock for other processes (a second server,
    the CLI) sharing the cache folder; the kernel frees the flock however a process ends.
    """
    folder = cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    with _LOCK, open(folder / ".submit.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# --- the record ------------------------------------------------------------------------------------


@dataclass
class JobRecord:
    """One submitted job, as cached on disk (never holds the token)."""

    key: str
    kind: str  # "circuit" | "evaluation"
    mode: str  # "cloud" | "local"
    backend: str  # the device that runs it
    job_id: str
    status: str  # QUEUED, RUNNING, DONE, ERROR, CANCELLED (Qiskit Runtime's names)
    submitted: str  # ISO time, UTC
    shots: int
    n_qubits: int
    depth: int
    inputs: dict
    queue_position: int | None = None
    updated: str | None = None
    elapsed_s: float | None = None  # submission to result, when seen by this app
    counts: list[dict[str, int]] | None = None  # one per circuit; bitstrings with wire 0 leftmost
    metrics: dict | None = None  # evaluation: top1_error, accuracy, confusion, predictions
    transpiled: dict | None = None  # depth, gate counts and physical qubits on the device
    error: str | None = None
    format: str = FORMAT

    @property
    def done(self) -> bool:
        return self.status == "DONE" and self.counts is not None

    @property
    def final(self) -> bool:
        return self.status in FINAL_STATES

    @property
    def histogram(self) -> dict[str, int] | None:
        """The first (for a circuit job: the only) circuit's counts."""
        return self.counts[0] if self.counts else None

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), indent=1).encode()


def _key(payload: dict) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:24]


def _path(key: str) -> Path:
    return cache_dir() / f"{key}.json"


def _load(key: str) -> JobRecord | None:
    path = _path(key)
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text())
        if data.get("format") != FORMAT:
            raise ValueError(f"not a {FORMAT} record")
        return JobRecord(**data)
    except (ValueError, TypeError) as exc:
        # never resubmit on a damaged record: that could spend the account's time twice
        raise IBMError(f"{path}: unreadable job record ({exc}); delete it to submit again") from exc


def _save(record: JobRecord) -> None:
    atomic_write_bytes(_path(record.key), record.to_json())


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _redact(text: str, conn: Connection) -> str:
    return text.replace(conn.token, "***") if conn.token else text


# --- the circuit, from core/circuit.py's one definition -----------------------------------------------


def qiskit_circuit(spec: CircuitSpec):
    """The dressed circuit as a parametric Qiskit circuit, measured on every qubit.

    Built gate by gate from :func:`core.circuit.symbolic_ops` (the same ops the
    PennyLane model runs); parameter k is entry k of [angles (n), weights (depth*n)].
    """
    from qiskit import QuantumCircuit
    from qiskit.circuit import ParameterVector

    theta = ParameterVector("theta", spec.n_params)
    circuit = QuantumCircuit(spec.n_qubits, name="dressed")
    gates = {"Hadamard": lambda w, p: circuit.h(w[0]), "CNOT": lambda w, p: circuit.cx(*w), "RY": lambda w, p: circuit.ry(p, w[0])}
    for name, wires, index in symbolic_ops(spec):
        if name not in gates:
            raise IBMError(f"no Qiskit translation for gate {name}")
        gates[name](wires, None if index is None else theta[index])
    circuit.measure_all()
    return circuit


def parameter_rows(angles: Any, weights: Any, spec: CircuitSpec) -> np.ndarray:
    """(B, n_params) rows [angles, weights flattened] for angles (B, n) or (n,)."""
    a = np.atleast_2d(np.asarray(angles, dtype=float))
    w = np.asarray(weights, dtype=float).reshape(spec.weight_shape)
    if a.shape[1] != spec.n_qubits:
        raise ValueError(f"angles need {spec.n_qubits} columns, got {a.shape[1]}")
    return np.concatenate([a, np.broadcast_to(w.reshape(1, -1), (len(a), w.size))], axis=1)


def fake_device(name: str):
    """A fake IBM device of qiskit-ibm-runtime (``fake_manila``, ``fake_sherbrooke``, ...)."""
    from core.noise import NOISE_DEVICES, fake_backend

    if name in NOISE_DEVICES:
        return fake_backend(name)
    from qiskit.providers.exceptions import QiskitBackendNotFoundError
    from qiskit_ibm_runtime.fake_provider import FakeProviderForBackendV2

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return FakeProviderForBackendV2().backend(name)
        except QiskitBackendNotFoundError as exc:
            raise IBMError(f"{LOCAL_ENV}={name}: no such fake device in qiskit-ibm-runtime (try fake_manila)") from exc


def _service(conn: Connection):
    from qiskit_ibm_runtime import QiskitRuntimeService

    cache_key = (conn.channel, conn.instance, hashlib.sha256((conn.token or "").encode()).hexdigest())
    if cache_key not in _SERVICES:
        try:
            _SERVICES[cache_key] = QiskitRuntimeService(channel=conn.channel, token=conn.token, instance=conn.instance)
        except Exception as exc:
            raise IBMError(f"could not connect to IBM Quantum: {_redact(str(exc), conn)}") from None
    return _SERVICES[cache_key]


def _device(conn: Connection, n_qubits: int):
    if conn.mode == "local":
        return fake_device(conn.backend or DEFAULT_LOCAL_DEVICE)
    service = _service(conn)
    try:
        if conn.backend:
            return service.backend(conn.backend)
        return service.least_busy(operational=True, simulator=False, min_num_qubits=n_qubits)
    except Exception as exc:
        raise IBMError(f"no IBM device: {_redact(str(exc), conn)}") from None


def transpile_for(circuit, device, seed: int = 0):
    """The circuit in the device's native gates on its qubits (an ISA circuit), as Qiskit Runtime requires."""
    from qiskit.transpiler import generate_preset_pass_manager

    return generate_preset_pass_manager(optimization_level=1, backend=device, seed_transpiler=seed).run(circuit)


def _status_name(status: Any) -> str:
    return str(getattr(status, "name", status)).upper()


def _counts_from_result(result, n_rows: int) -> list[dict[str, int]]:
    """Per parameter row, counts with wire 0 leftmost (Qiskit prints qubit 0 rightmost)."""
    bits = result[0].data.meas
    return [{k[::-1]: int(v) for k, v in bits.get_counts(i).items()} for i in range(n_rows)]


def _queue_position(job) -> int | None:
    try:
        position = job.metrics().get("position_in_queue")
    except Exception:  # not reported, or no network: the status still says QUEUED
        return None
    return int(position) if isinstance(position, (int, float)) else None


def _sampler(conn: Connection, device, noiseless: bool, seed: int | None):
    from qiskit_ibm_runtime import SamplerV2

    options: dict[str, Any] = {}
    if conn.mode == "local":
        simulator: dict[str, Any] = {}
        if noiseless:
            from qiskit_aer.noise import NoiseModel

            simulator["noise_model"] = NoiseModel()
        if seed is not None:
            simulator["seed_simulator"] = int(seed)
        if simulator:
            options["simulator"] = simulator
    elif noiseless:
        raise IBMError("noiseless runs exist only in local test mode: a real device is never noiseless")
    return SamplerV2(mode=device, options=options or None)


def _device_name(conn: Connection, noiseless: bool) -> str:
    name = conn.backend or LEAST_BUSY
    return f"{name} (noiseless)" if noiseless else name


def _submit(key: str, kind: str, conn: Connection, spec: CircuitSpec, rows: np.ndarray, shots: int, inputs: dict,
            noiseless: bool, seed: int | None) -> JobRecord:
    """Transpile, submit ONE job (one PUB: the parametric circuit and all rows), write the record at once."""
    global SUBMISSIONS

    device = _device(conn, spec.n_qubits)
    if device.num_qubits < spec.n_qubits:
        raise IBMError(f"{device.name} has {device.num_qubits} qubits; this circuit needs {spec.n_qubits}")
    isa = transpile_for(qiskit_circuit(spec), device)
    layout = isa.layout.final_index_layout() if isa.layout is not None else list(range(spec.n_qubits))
    sampler = _sampler(conn, device, noiseless, seed)
    started = time.perf_counter()
    try:
        job = sampler.run([(isa, rows)], shots=int(shots))
    except Exception as exc:
        raise IBMError(f"submission failed: {_redact(str(exc), conn)}") from None
    SUBMISSIONS += 1
    record = JobRecord(
        key=key, kind=kind, mode=conn.mode, backend=str(device.name) + (" (noiseless)" if noiseless else ""),
        job_id=str(job.job_id()), status=_status_name(job.status()), submitted=_now(), shots=int(shots),
        n_qubits=spec.n_qubits, depth=spec.depth, inputs=inputs, updated=_now(),
        transpiled={"depth": int(isa.depth()), "ops": {k: int(v) for k, v in isa.count_ops().items()},
                    "physical_qubits": [int(q) for q in layout[: spec.n_qubits]]},
    )
    if conn.mode == "cloud":
        record.queue_position = _queue_position(job)
        _save(record)  # the job id is on disk before anything else can fail: never sent twice
        return record
    try:  # a local job lives only in this process: wait for it (about a second); a failure is not cached
        record.counts = _counts_from_result(job.result(), len(rows))
    except Exception as exc:
        raise IBMError(f"local job {record.job_id} failed: {type(exc).__name__}: {exc}") from exc
    record.status = "DONE"
    record.elapsed_s = round(time.perf_counter() - started, 4)
    record.updated = _now()
    _save(record)
    return record


def _refresh(record: JobRecord, conn: Connection | None, force: bool = False) -> JobRecord:
    """A pending cloud job's status (and result once DONE), retrieved by job id; never resubmits."""
    if record.final or record.mode != "cloud" or conn is None or conn.mode != "cloud":
        return record
    if not force and record.updated:
        age = (datetime.now(UTC) - datetime.fromisoformat(record.updated)).total_seconds()
        if age < REFRESH_S:
            return record
    try:
        job = _service(conn).job(record.job_id)
        record.status = _status_name(job.status())
        record.queue_position = _queue_position(job) if record.status == "QUEUED" else None
        if record.status == "DONE":
            rows = len(record.inputs.get("indices", [0]))
            record.counts = _counts_from_result(job.result(), rows)
            record.elapsed_s = (datetime.now(UTC) - datetime.fromisoformat(record.submitted)).total_seconds()
        elif record.status in ("ERROR", "CANCELLED"):
            record.error = _redact(str(job.error_message() or record.status), conn)
    except IBMError:
        raise
    except Exception as exc:
        raise IBMError(f"could not refresh job {record.job_id}: {_redact(str(exc), conn)}") from None
    record.updated = _now()
    _save(record)
    return record


# --- one circuit (the circuit explorer) ---------------------------------------------------------------


def circuit_key(spec: CircuitSpec, angles: Any, weights: Any, shots: int, conn: Connection, noiseless: bool = False) -> str:
    """The cache key: a hash of (mode, requested backend, circuit shape and parameters, shots)."""
    rows = parameter_rows(angles, weights, spec)
    return _key({"kind": "circuit", "mode": conn.mode, "backend": _device_name(conn, noiseless), "n_qubits": spec.n_qubits,
                 "depth": spec.depth, "params": np.round(rows, 10).tolist(), "shots": int(shots)})


def cached_circuit(spec: CircuitSpec, angles: Any, weights: Any, shots: int = 1024, secrets: Mapping | None = None,
                   conn: Connection | None = None, noiseless: bool = False) -> JobRecord | None:
    """The record of this exact circuit if it was sent before (a pending cloud job is refreshed), else None."""
    conn = conn or connection(secrets)
    if conn is None:
        return None
    record = _load(circuit_key(spec, angles, weights, shots, conn, noiseless))
    return _refresh(record, conn) if record else None


def submit_circuit(spec: CircuitSpec, angles: Any, weights: Any, shots: int = 1024, secrets: Mapping | None = None,
                   conn: Connection | None = None, noiseless: bool = False, seed: int | None = None) -> JobRecord:
    """Send the dressed circuit for ``angles`` (n,) and ``weights`` (depth, n) once; later calls return its record."""
    conn = conn or connection(secrets)
    if conn is None:
        raise IBMError(how_to_enable())
    if not 1 <= int(shots) <= 100_000:
        raise ValueError(f"shots must be between 1 and 100000, got {shots}")
    rows = parameter_rows(angles, weights, spec)
    if len(rows) != 1:
        raise ValueError("submit_circuit sends one circuit: pass angles of shape (n,)")
    key = circuit_key(spec, angles, weights, shots, conn, noiseless)
    with _submission_lock():
        record = _load(key)
        if record is not None:
            return _refresh(record, conn)
        inputs = {"angles": rows[0, : spec.n_qubits].tolist(), "weights": rows[0, spec.n_qubits :].tolist(), "indices": [0]}
        return _submit(key, "circuit", conn, spec, rows, shots, inputs, noiseless, seed)


# --- a test-set evaluation (one batched job) -----------------------------------------------------------


def _file_digest(path: Path) -> str:
    return sha256_file(Path(path))[:16]


def spread_indices(n_images: int, limit: int | None) -> list[int]:
    """All images, or ``limit`` of them spread evenly over the split (so both classes appear)."""
    if not limit or limit >= n_images:
        return list(range(n_images))
    return sorted({int(round(i)) for i in np.linspace(0, n_images - 1, limit)})


def _chosen_images(checkpoint, data_dir, limit: int | None, split: str) -> tuple[list, list[int]]:
    """The split's images to evaluate (``limit`` of them, spread out) and their indices; cheap, no backbone."""
    from core.data import default_data_dir, list_split

    if checkpoint.head_kind != "quantum":
        raise ValueError(f"{checkpoint.path.name} has a classical head: nothing to send to a quantum device")
    samples = list_split(data_dir or default_data_dir(), split)
    if not samples:
        raise FileNotFoundError(f"no images in the {split} split of {data_dir or default_data_dir()}")
    indices = spread_indices(len(samples), limit)
    return [samples[i] for i in indices], indices


def _angles_and_weights(checkpoint, head, chosen: list) -> tuple[np.ndarray, np.ndarray]:
    """The chosen images' circuit angles (through the backbone) and the circuit's weights."""
    import torch

    from core.features import extract_features

    features = extract_features([s.path for s in chosen], checkpoint.meta["backbone"])
    with torch.no_grad():
        return head.angles(features).double().numpy(), head.q_params.detach().double().numpy()


def evaluation_key(checkpoint, indices: list[int], split: str, shots: int, conn: Connection, noiseless: bool = False) -> str:
    """Cache key of an evaluation: the checkpoint's content, the images, shots, mode and backend."""
    return _key({"kind": "evaluation", "mode": conn.mode, "backend": _device_name(conn, noiseless),
                 "checkpoint": _file_digest(checkpoint.path), "split": split, "indices": indices, "shots": int(shots)})


def _finish_evaluation(record: JobRecord, head) -> JobRecord:
    """Top-1 error from the counts: <Z> per qubit from each image's counts, then the head's last layer."""
    import torch

    from core.quantum import expvals_from_counts

    if not record.done or record.metrics is not None:
        return record
    expvals = np.stack([expvals_from_counts(c, record.n_qubits)[0] for c in record.counts])
    with torch.no_grad():
        logits = head.post_net(torch.as_tensor(expvals, dtype=head.post_net.weight.dtype))
    predictions = logits.argmax(-1).tolist()
    labels = record.inputs["labels"]
    n_classes = logits.shape[-1]
    confusion = np.zeros((n_classes, n_classes), dtype=int)
    for truth, guess in zip(labels, predictions):
        confusion[truth, guess] += 1
    accuracy = float(np.mean(np.asarray(predictions) == np.asarray(labels)))
    record.metrics = {"top1_error": 1.0 - accuracy, "accuracy": accuracy, "confusion": confusion.tolist(),
                      "predictions": predictions, "expvals": np.round(expvals, 6).tolist()}
    _save(record)
    return record


def _exact_top1_error(head, angles: np.ndarray, weights: np.ndarray, labels: list[int], spec: CircuitSpec) -> float:
    """The same images through the exact simulator (default.qubit, analytic): the reference."""
    import torch

    from core.quantum import exact_probabilities

    signs = 1 - 2 * ((np.arange(2**spec.n_qubits)[:, None] >> (spec.n_qubits - 1 - np.arange(spec.n_qubits))[None, :]) & 1)
    expvals = np.atleast_2d(exact_probabilities(spec, angles, weights)) @ signs  # broadcast over the images
    with torch.no_grad():
        logits = head.post_net(torch.as_tensor(expvals, dtype=head.post_net.weight.dtype))
    return 1.0 - float(np.mean(logits.argmax(-1).numpy() == np.asarray(labels)))


def evaluate_test_set(checkpoint, data_dir: str | os.PathLike | None = None, limit: int | None = None, shots: int = 1024,
                      secrets: Mapping | None = None, conn: Connection | None = None, split: str = "test",
                      noiseless: bool = False, seed: int | None = None, submit: bool = True) -> JobRecord | None:
    """Top-1 error of a checkpoint with its circuit run on IBM Quantum: all images in ONE job, sent once.

    ``checkpoint`` is a :class:`core.checkpoints.Checkpoint`; ``limit`` takes that
    many images spread over the split. The record's ``metrics`` appear once the job
    is DONE (at once in local mode; on a later call for a queued cloud job).
    ``submit=False`` only looks up (and refreshes) an earlier job.
    """
    conn = conn or connection(secrets)
    if conn is None:
        if not submit:
            return None
        raise IBMError(how_to_enable())
    chosen, indices = _chosen_images(checkpoint, data_dir, limit, split)
    spec, head = checkpoint.spec, checkpoint.build_head(executor=None)
    key = evaluation_key(checkpoint, indices, split, shots, conn, noiseless)
    with _submission_lock():
        record = _load(key)
        if record is None:
            if not submit:
                return None  # a look-up never runs the backbone
            angles, weights = _angles_and_weights(checkpoint, head, chosen)
            labels = [s.label for s in chosen]
            inputs = {"checkpoint": checkpoint.path.name, "checkpoint_sha256": _file_digest(checkpoint.path), "split": split,
                      "indices": indices, "labels": labels, "images": [s.path.name for s in chosen],
                      "angles": np.round(angles, 6).tolist(),
                      "exact_top1_error": _exact_top1_error(head, angles, weights, labels, spec)}
            record = _submit(key, "evaluation", conn, spec, parameter_rows(angles, weights, spec), shots, inputs, noiseless, seed)
        else:
            record = _refresh(record, conn)
    return _finish_evaluation(record, head)

