"""Run records: one JSON schema for every training run, validated on read.

A record is written when a run starts (status "running"), after every epoch,
and when it ends ("completed", "failed" or "cancelled"); each write is atomic.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core.files import atomic_write_bytes
from core.paths import runs_dir as default_runs_dir

SCHEMA = "qtl-run/1"
STATUSES = ("running", "completed", "failed", "cancelled")

EPOCH_FIELDS = {
    "epoch": int, "train_loss": float, "train_acc": float, "val_loss": float, "val_acc": float,
    "seconds": float, "circuits": int, "shots": int, "lr": float,
}
TOP_FIELDS = {
    "schema": str, "run_id": str, "status": str, "created": str, "config": dict, "dataset": dict,
    "epochs": list, "totals": dict, "versions": dict,
}
CONFIG_FIELDS = {
    "backbone": str, "backend": str, "epochs": int, "batch_size": int, "lr": float, "seed": int, "n_qubits": int, "depth": int,
}


class RecordError(ValueError):
    """A run record is unreadable or does not follow the schema."""


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def validate(record: Any) -> dict:
    """Return ``record`` if it follows the schema, else raise :class:`RecordError` saying where not."""
    if not isinstance(record, dict):
        raise RecordError("a run record must be a JSON object")
    _check_fields(record, TOP_FIELDS, "record")
    if record["schema"] != SCHEMA:
        raise RecordError(f"unknown schema {record['schema']!r} (expected {SCHEMA!r})")
    if record["status"] not in STATUSES:
        raise RecordError(f"unknown status {record['status']!r}")
    _check_fields(record["config"], CONFIG_FIELDS, "config")
    for i, epoch in enumerate(record["epochs"]):
        if not isinstance(epoch, dict):
            raise RecordError(f"epochs[{i}] must be an object")
        _check_fields(epoch, EPOCH_FIELDS, f"epochs[{i}]")
    if record["status"] == "completed":
        test = record.get("test")
        if not isinstance(test, dict) or not {"top1_error", "confusion", "accuracy"} <= set(test):
            raise RecordError("a completed run needs test.top1_error, test.accuracy and test.confusion")
    return record


def _check_fields(obj: dict, fields: dict[str, type], where: str) -> None:
    for name, kind in fields.items():
        if name not in obj:
            raise RecordError(f"{where}.{name} is missing")
        value = obj[name]
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) if kind is float else isinstance(value, kind)
        if kind is int and isinstance(value, bool):
            ok = False
        if not ok:
            raise RecordError(f"{where}.{name} must be {kind.__name__}, got {type(value).__name__}")


def read_record(path: str | os.PathLike) -> dict:
    path = Path(path)
    try:
        record = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RecordError(f"{path.name}: not readable JSON ({exc})") from exc
    try:
        return validate(record)
    except RecordError as exc:
        raise RecordError(f"{path.name}: {exc}") from exc


def write_record(record: dict, runs_dir: str | os.PathLike | None = None) -> Path:
    """Validate ``record`` and write it atomically as ``<run_id>.json`` (default folder ``$QTL_RUNS_DIR``)."""
    validate(record)
    path = Path(runs_dir or default_runs_dir()) / f"{record['run_id']}.json"
    atomic_write_bytes(path, json.dumps(record, indent=1).encode())
    return path


@dataclass
class LoadedRuns:
    records: list[dict]
    problems: list[str]  # one message per file that was skipped


def load_runs(runs_dir: str | os.PathLike | None = None) -> LoadedRuns:
    """Every valid record in ``runs_dir``; invalid files are skipped and named in ``problems``.

    A "running" record whose process is gone is reported as failed.
    """
    records, problems = [], []
    for path in sorted(Path(runs_dir or default_runs_dir()).glob("*.json")):
        try:
            record = read_record(path)
        except RecordError as exc:
            problems.append(str(exc))
            continue
        if record["status"] == "running" and not process_alive(record.get("pid")):
            record = {**record, "status": "failed", "error": "the training process ended without finishing the run"}
        records.append(record)
    return LoadedRuns(records, problems)


def process_alive(pid: Any) -> bool:
    """Whether process ``pid`` runs on this machine; a zombie (exited, not yet reaped) counts as gone."""
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except (OSError, IndexError):
        return True


def library_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    names = ["torch", "torchvision", "timm", "pennylane", "pennylane-lightning", "pennylane-qiskit",
             "pennylane-cirq", "qiskit", "qiskit-aer", "cirq-core", "numpy"]
    out = {}
    for name in names:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            continue
    import platform

    out["python"] = platform.python_version()
    return out
