"""The maintainer's IBM Quantum budget: jobs per day and shots per job, kept in a ledger no two processes can overspend.

The defaults fit IBM's free (Open) plan, 10 QPU minutes = 600 s a month. IBM
counts a job as the time the QPU is locked for it; its usage guide estimates a
small circuit at the Sampler's default 4,096 shots at 4.1 s. Taking a job as
about 3 s plus 0.3 ms a shot (the default repetition delay of 250 µs, the
circuit and the readout), a job of at most 8,192 shots (all its circuits
together) is about 5.5 s; 3 such jobs a day are 16.5 s, and 31 days 508 s:
under 600 s even when every day's budget is spent.

Spending is "check and record" in one step under an exclusive file lock beside
the ledger (``$QTL_IBM_CACHE/budget-ledger.json``), written atomically. Each
mode (cloud, local test mode) has its own count, so trying the page on a fake
device never uses the account's day. A damaged ledger spends nothing.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from core.files import atomic_write_bytes, locked_file
from core.ibm.connection import IBMError
from core.paths import IBM_JOBS_PER_DAY_ENV as JOBS_PER_DAY_ENV
from core.paths import IBM_MAX_SHOTS_ENV as MAX_SHOTS_ENV
from core.paths import ibm_cache_dir

DEFAULT_JOBS_PER_DAY = 3
DEFAULT_MAX_SHOTS = 8192
MIN_SHOTS_PER_IMAGE = 64  # below this, one image's <Z> values carry more than ±0.125 of shot noise
FORMAT = "qtl-ibm-budget/1"
KEEP_DAYS = 62  # entries older than this are dropped when the ledger is written: it stays small
_LOCK = threading.Lock()


class BudgetError(IBMError):
    """A job that today's budget does not allow, or a ledger that cannot be read."""


def _env_int(name: str, default: int, minimum: int) -> int:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        value = minimum - 1
    if value < minimum:
        raise ValueError(f"{name}={text!r}: expected a whole number of at least {minimum}")
    return value


@dataclass(frozen=True)
class Budget:
    """What the maintainer allows: ``jobs_per_day`` (UTC days; 0 sends nothing) and ``max_shots`` per job."""

    jobs_per_day: int = DEFAULT_JOBS_PER_DAY
    max_shots: int = DEFAULT_MAX_SHOTS

    @classmethod
    def from_env(cls) -> Budget:
        """``$QTL_IBM_JOBS_PER_DAY`` and ``$QTL_IBM_MAX_SHOTS``, else the defaults; a bad value is a ValueError."""
        return cls(_env_int(JOBS_PER_DAY_ENV, DEFAULT_JOBS_PER_DAY, 0), _env_int(MAX_SHOTS_ENV, DEFAULT_MAX_SHOTS, 1))


@dataclass(frozen=True)
class Allowance:
    """What is left of one mode's budget on one day."""

    day: str
    jobs_used: int
    budget: Budget

    @property
    def jobs_left(self) -> int:
        return max(0, self.budget.jobs_per_day - self.jobs_used)

    def refusal(self, shots: int) -> str | None:
        """Why a job of ``shots`` (all its circuits together) may not be sent today; None if it may."""
        if shots > self.budget.max_shots:
            return (f"This job needs {shots:,} shots; the budget allows {self.budget.max_shots:,} per job "
                    f"({MAX_SHOTS_ENV}).")
        if self.jobs_left == 0:
            return (f"Today's IBM Quantum budget is spent ({self.budget.jobs_per_day} jobs a day, {JOBS_PER_DAY_ENV}); "
                    "it renews at 00:00 UTC.")
        return None

    def describe(self) -> str:
        return (f"Budget today ({self.day}, UTC): {self.jobs_left} of {self.budget.jobs_per_day} jobs left, "
                f"at most {self.budget.max_shots:,} shots per job.")


def ledger_path() -> Path:
    return ibm_cache_dir() / "budget-ledger.json"


@contextmanager
def _ledger_lock() -> Iterator[None]:
    """This process's threads, and every process sharing the folder."""
    with locked_file(ibm_cache_dir() / "budget-ledger.lock", _LOCK):
        yield


def _valid_entry(entry: object) -> bool:
    return (isinstance(entry, dict) and all(isinstance(entry.get(k), str) for k in ("day", "at", "mode", "key"))
            and type(entry.get("shots")) is int)


def _read() -> list[dict]:
    path = ledger_path()
    if not path.exists():
        return []
    try:
        data = json.loads(path.read_text())
        entries = data.get("entries") if isinstance(data, dict) and data.get("format") == FORMAT else None
        if not isinstance(entries, list) or not all(map(_valid_entry, entries)):
            raise ValueError(f"not a {FORMAT} ledger")
    except (OSError, ValueError) as exc:
        raise BudgetError(f"{path}: unreadable budget ledger ({exc}); nothing is sent until it is repaired or "
                          "deleted (deleting it forgets today's jobs)") from exc
    return entries


def _write(entries: list[dict]) -> None:
    atomic_write_bytes(ledger_path(), json.dumps({"format": FORMAT, "entries": entries}, indent=1).encode())


def _allowance(entries: list[dict], mode: str, budget: Budget, now: datetime) -> Allowance:
    day = now.date().isoformat()
    return Allowance(day, sum(e["day"] == day and e["mode"] == mode for e in entries), budget)


def _today(now: datetime | None) -> datetime:
    return (now or datetime.now(UTC)).astimezone(UTC)


def allowance(mode: str, budget: Budget | None = None, now: datetime | None = None) -> Allowance:
    """What is left today (UTC) for ``mode`` ("cloud" or "local")."""
    with _ledger_lock():
        return _allowance(_read(), mode, budget or Budget.from_env(), _today(now))


def check(mode: str, shots: int, budget: Budget | None = None, now: datetime | None = None) -> None:
    """Raise BudgetError if a job of ``shots`` would be refused now (a cheap early look; :func:`spend` decides)."""
    refusal = allowance(mode, budget, now).refusal(shots)
    if refusal:
        raise BudgetError(refusal)


def spend(mode: str, key: str, shots: int, budget: Budget | None = None, now: datetime | None = None) -> dict:
    """Check and record one job in ONE locked step: its ledger entry, or BudgetError if today's budget refuses it."""
    if type(shots) is not int or shots < 1:
        raise ValueError(f"shots must be a positive whole number, got {shots!r}")
    budget, now = budget or Budget.from_env(), _today(now)
    with _ledger_lock():
        entries = _read()
        refusal = _allowance(entries, mode, budget, now).refusal(shots)
        if refusal:
            raise BudgetError(refusal)
        entry = {"day": now.date().isoformat(), "at": now.isoformat(timespec="seconds"), "mode": mode, "key": key,
                 "shots": shots}
        oldest = (now - timedelta(days=KEEP_DAYS)).date().isoformat()
        _write([e for e in entries if e["day"] >= oldest] + [entry])
    return entry


def refund(entry: dict) -> None:
    """Take back the entry of a job that never reached IBM (its submission failed before a job id existed)."""
    with _ledger_lock():
        entries = _read()
        if entry in entries:
            entries.remove(entry)
            _write(entries)


def fit_evaluation(n_images: int, shots: int, max_shots: int, min_shots: int = MIN_SHOTS_PER_IMAGE) -> tuple[int, int]:
    """(images, shots per image) for a test-set job within ``max_shots``: every image with fewer shots each,
    down to ``min_shots``; below that, fewer images (spread over the split) at ``min_shots`` each."""
    if n_images < 1 or shots < 1 or max_shots < 1:
        raise ValueError(f"images, shots and max_shots must be positive, got {n_images}, {shots}, {max_shots}")
    each = min(shots, max_shots // n_images)
    if each >= min(min_shots, shots):
        return n_images, each
    each = min(shots, min_shots, max_shots)
    return max(1, max_shots // each), each
