"""Send the dressed circuit to an IBM device once: transpile, one SamplerV2 job, the record written at once.

A pending cloud job is refreshed by its job id (at most every ``REFRESH_S``
seconds); a local job (fake device) finishes in about a second.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import numpy as np

from core.circuit.definition import CircuitSpec, parameter_rows
from core.circuit.qiskit_circuit import qiskit_circuit
from core.execution.settings import check_shots
from core.ibm import budget
from core.ibm.connection import Connection, IBMError, connection, device_for, how_to_enable, redact, service
from core.ibm.job_cache import JobRecord, job_key, load_record, save_record, submission_lock, utc_now

# Qiskit is imported inside the functions that use it: the explorer imports this module on every visit.

LEAST_BUSY = "least-busy"
REFRESH_S = 10.0
SUBMISSIONS = 0  # jobs this process really submitted (cached answers do not count)


def measured_circuit(spec: CircuitSpec):
    """The parametric circuit with every qubit measured (register ``meas``), as Qiskit Runtime samples it."""
    circuit, _ = qiskit_circuit(spec)
    circuit.measure_all()
    return circuit


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


def device_name(conn: Connection, noiseless: bool) -> str:
    name = conn.backend or LEAST_BUSY
    return f"{name} (noiseless)" if noiseless else name


def _send(conn: Connection, spec: CircuitSpec, rows: np.ndarray, shots: int, noiseless: bool, seed: int | None):
    """The device, the transpiled circuit, the job and when it was sent: the only step that reaches IBM."""
    device = device_for(conn, spec.n_qubits)
    if device.num_qubits < spec.n_qubits:
        raise IBMError(f"{device.name} has {device.num_qubits} qubits; this circuit needs {spec.n_qubits}")
    isa = transpile_for(measured_circuit(spec), device)
    sampler = _sampler(conn, device, noiseless, seed)
    started = time.perf_counter()
    try:
        job = sampler.run([(isa, rows)], shots=int(shots))
    except Exception as exc:
        raise IBMError(f"submission failed: {redact(str(exc), conn)}") from None
    return device, isa, job, started


def submit(key: str, kind: str, conn: Connection, spec: CircuitSpec, rows: np.ndarray, shots: int, inputs: dict,
            noiseless: bool, seed: int | None) -> JobRecord:
    """Spend the budget, transpile, submit ONE job (one PUB: the parametric circuit and all rows), write the record at once.

    The budget (core.ibm.budget) is checked and spent before anything reaches IBM; a submission that fails before
    a job exists gives it back.
    """
    global SUBMISSIONS

    entry = budget.spend(conn.mode, key, len(rows) * int(shots))
    try:
        device, isa, job, started = _send(conn, spec, rows, shots, noiseless, seed)
    except BaseException:
        budget.refund(entry)
        raise
    layout = isa.layout.final_index_layout() if isa.layout is not None else list(range(spec.n_qubits))
    SUBMISSIONS += 1
    record = JobRecord(
        key=key, kind=kind, mode=conn.mode, backend=str(device.name) + (" (noiseless)" if noiseless else ""),
        job_id=str(job.job_id()), status=_status_name(job.status()), submitted=utc_now(), shots=int(shots),
        n_qubits=spec.n_qubits, depth=spec.depth, inputs=inputs, updated=utc_now(),
        transpiled={"depth": int(isa.depth()), "ops": {k: int(v) for k, v in isa.count_ops().items()},
                    "physical_qubits": [int(q) for q in layout[: spec.n_qubits]]},
    )
    if conn.mode == "cloud":
        record.queue_position = _queue_position(job)
        save_record(record)  # the job id is on disk before anything else can fail: never sent twice
        return record
    try:  # a local job lives only in this process: wait for it (about a second); a failure is not cached
        record.counts = _counts_from_result(job.result(), len(rows))
    except Exception as exc:
        raise IBMError(f"local job {record.job_id} failed: {type(exc).__name__}: {exc}") from exc
    record.status = "DONE"
    record.elapsed_s = round(time.perf_counter() - started, 4)
    record.updated = utc_now()
    save_record(record)
    return record


def refresh(record: JobRecord, conn: Connection | None, force: bool = False) -> JobRecord:
    """A pending cloud job's status (and result once DONE), retrieved by job id; never resubmits."""
    if record.final or record.mode != "cloud" or conn is None or conn.mode != "cloud":
        return record
    if not force and record.updated:
        age = (datetime.now(UTC) - datetime.fromisoformat(record.updated)).total_seconds()
        if age < REFRESH_S:
            return record
    try:
        job = service(conn).job(record.job_id)
        record.status = _status_name(job.status())
        record.queue_position = _queue_position(job) if record.status == "QUEUED" else None
        if record.status == "DONE":
            rows = len(record.inputs.get("indices", [0]))
            record.counts = _counts_from_result(job.result(), rows)
            record.elapsed_s = (datetime.now(UTC) - datetime.fromisoformat(record.submitted)).total_seconds()
        elif record.status in ("ERROR", "CANCELLED"):
            record.error = redact(str(job.error_message() or record.status), conn)
    except IBMError:
        raise
    except Exception as exc:
        raise IBMError(f"could not refresh job {record.job_id}: {redact(str(exc), conn)}") from None
    record.updated = utc_now()
    save_record(record)
    return record


# --- one circuit (the circuit explorer) ---------------------------------------------------------------


def circuit_key(spec: CircuitSpec, angles: Any, weights: Any, shots: int, conn: Connection, noiseless: bool = False) -> str:
    """The cache key: a hash of (mode, requested backend, circuit shape and parameters, shots)."""
    rows = parameter_rows(angles, weights, spec)
    return job_key({"kind": "circuit", "mode": conn.mode, "backend": device_name(conn, noiseless), "n_qubits": spec.n_qubits,
                 "depth": spec.depth, "params": np.round(rows, 10).tolist(), "shots": int(shots)})


def cached_circuit(spec: CircuitSpec, angles: Any, weights: Any, shots: int = 1024, secrets: Mapping | None = None,
                   conn: Connection | None = None, noiseless: bool = False) -> JobRecord | None:
    """The record of this exact circuit if it was sent before (a pending cloud job is refreshed), else None."""
    conn = conn or connection(secrets)
    if conn is None:
        return None
    record = load_record(circuit_key(spec, angles, weights, shots, conn, noiseless))
    return refresh(record, conn) if record else None


def submit_circuit(spec: CircuitSpec, angles: Any, weights: Any, shots: int = 1024, secrets: Mapping | None = None,
                   conn: Connection | None = None, noiseless: bool = False, seed: int | None = None) -> JobRecord:
    """Send the dressed circuit for ``angles`` (n,) and ``weights`` (depth, n) once; later calls return its record."""
    conn = conn or connection(secrets)
    if conn is None:
        raise IBMError(how_to_enable())
    shots = check_shots(shots)
    rows = parameter_rows(angles, weights, spec)
    if len(rows) != 1:
        raise ValueError("submit_circuit sends one circuit: pass angles of shape (n,)")
    key = circuit_key(spec, angles, weights, shots, conn, noiseless)
    with submission_lock():
        record = load_record(key)
        if record is not None:
            return refresh(record, conn)
        inputs = {"angles": rows[0, : spec.n_qubits].tolist(), "weights": rows[0, spec.n_qubits :].tolist(), "indices": [0]}
        return submit(key, "circuit", conn, spec, rows, shots, inputs, noiseless, seed)
