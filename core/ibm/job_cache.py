"""IBM job records on disk: one JSON file per job, keyed by what was asked, written atomically; one submitter at a time.

The key hashes (mode, requested device, circuit shape and parameters, shots),
so a rerun finds its record and never resubmits. The record never holds the token.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from core.files import atomic_write_bytes, locked_file
from core.ibm.connection import IBMError
from core.paths import ibm_cache_dir

FORMAT = "qtl-ibm-job/1"
FINAL_STATES = ("DONE", "ERROR", "CANCELLED")
_LOCK = threading.Lock()


@contextmanager
def submission_lock() -> Iterator[None]:
    """Held from "is there a record?" to "the record is written": one submission per circuit for the machine.

    A thread lock for this process's sessions and an exclusive flock for other processes (a second server,
    the CLI) sharing the cache folder; the kernel frees the flock however a process ends.
    """
    with locked_file(ibm_cache_dir() / ".submit.lock", _LOCK):
        yield


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


def job_key(payload: dict) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:24]


def record_path(key: str) -> Path:
    return ibm_cache_dir() / f"{key}.json"


_OPTIONAL = (type(None),)
_FIELD_TYPES: dict[str, tuple[type, ...]] = {
    **dict.fromkeys(("key", "kind", "mode", "backend", "job_id", "status", "submitted", "format"), (str,)),
    **dict.fromkeys(("shots", "n_qubits", "depth"), (int,)), "inputs": (dict,),
    "queue_position": (int, *_OPTIONAL), "updated": (str, *_OPTIONAL), "elapsed_s": (int, float, *_OPTIONAL),
    "counts": (list, *_OPTIONAL), "metrics": (dict, *_OPTIONAL), "transpiled": (dict, *_OPTIONAL), "error": (str, *_OPTIONAL),
}


def _check_fields(data: dict, key: str) -> None:
    """A record is shown to every visitor: its fields must have the types the page formats, its key its file's name."""
    for name, kinds in _FIELD_TYPES.items():
        value = data.get(name)
        if not isinstance(value, kinds) or isinstance(value, bool):
            raise ValueError(f"{name} is {type(value).__name__}, not {' or '.join(k.__name__ for k in kinds)}")
    if data["key"] != key:
        raise ValueError(f"its key {data['key']!r} is not its file's name")
    for counts in data["counts"] or []:
        if not isinstance(counts, dict) or not all(isinstance(b, str) and type(n) is int for b, n in counts.items()):
            raise ValueError("counts must map bitstrings to whole numbers")
    transpiled = data["transpiled"]
    if transpiled is not None and not (isinstance(transpiled.get("ops"), dict) and type(transpiled.get("depth")) is int
                                       and isinstance(transpiled.get("physical_qubits"), list)):
        raise ValueError("transpiled needs ops, depth and physical_qubits")


def load_record(key: str) -> JobRecord | None:
    path = record_path(key)
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text())
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError(f"not a {FORMAT} record")
        _check_fields(data, key)
        return JobRecord(**data)
    except (OSError, ValueError, TypeError) as exc:
        # never resubmit on a damaged record: that could spend the account's time twice
        raise IBMError(f"{path}: unreadable job record ({exc}); delete it to submit again") from exc


def save_record(record: JobRecord) -> None:
    atomic_write_bytes(record_path(record.key), record.to_json())


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
