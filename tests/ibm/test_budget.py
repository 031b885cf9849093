"""The IBM Quantum budget: jobs per day and shots per job, spent under a file lock that two processes cannot overspend."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from core.circuit.definition import CircuitSpec
from core.ibm import budget, connection, submission
from core.ibm.budget import Budget, BudgetError
from core.paths import IBM_CACHE_ENV, PROJECT_ROOT

ROOT = PROJECT_ROOT
NOON = datetime(2026, 3, 14, 12, 0, tzinfo=UTC)
BUDGET_ENV = (budget.JOBS_PER_DAY_ENV, budget.MAX_SHOTS_ENV)


@pytest.fixture
def cache(monkeypatch, tmp_path) -> Path:
    for name in (connection.TOKEN_ENV, connection.BACKEND_ENV, connection.LOCAL_ENV, *BUDGET_ENV):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(IBM_CACHE_ENV, str(tmp_path / "ibm_jobs"))
    return tmp_path / "ibm_jobs"


def test_the_defaults_fit_the_free_plans_ten_minutes_a_month():
    assert Budget() == Budget(jobs_per_day=3, max_shots=8192)
    seconds_per_job = 3.0 + 8192 * 0.3e-3  # the module docstring's model of a job's QPU time
    assert 31 * 3 * seconds_per_job < 600


def test_the_budget_comes_from_the_environment_and_bad_values_say_which(monkeypatch):
    monkeypatch.setenv("QTL_IBM_JOBS_PER_DAY", "0")
    monkeypatch.setenv("QTL_IBM_MAX_SHOTS", " 2048 ")
    assert Budget.from_env() == Budget(0, 2048)
    monkeypatch.setenv("QTL_IBM_MAX_SHOTS", "lots")
    with pytest.raises(ValueError, match="QTL_IBM_MAX_SHOTS='lots': expected a whole number of at least 1"):
        Budget.from_env()
    monkeypatch.setenv("QTL_IBM_MAX_SHOTS", "0")
    with pytest.raises(ValueError, match="QTL_IBM_MAX_SHOTS"):
        Budget.from_env()
    monkeypatch.setenv("QTL_IBM_MAX_SHOTS", "100")
    monkeypatch.setenv("QTL_IBM_JOBS_PER_DAY", "-1")
    with pytest.raises(ValueError, match="QTL_IBM_JOBS_PER_DAY='-1'"):
        Budget.from_env()


def test_jobs_per_day_and_shots_per_job_are_enforced_per_mode_and_renew_each_day(cache):
    two = Budget(jobs_per_day=2, max_shots=4096)
    assert budget.allowance("cloud", two, NOON).describe() == \
        "Budget today (2026-03-14, UTC): 2 of 2 jobs left, at most 4,096 shots per job."
    with pytest.raises(BudgetError, match="needs 4,097 shots; the budget allows 4,096 per job"):
        budget.spend("cloud", "big", 4097, two, NOON)
    budget.spend("cloud", "a", 4096, two, NOON)
    budget.spend("cloud", "b", 1, two, NOON + timedelta(hours=11))
    with pytest.raises(BudgetError, match=r"Today's IBM Quantum budget is spent \(2 jobs a day, QTL_IBM_JOBS_PER_DAY\)"):
        budget.spend("cloud", "c", 1, two, NOON + timedelta(hours=11, minutes=59))
    assert budget.allowance("cloud", two, NOON).jobs_left == 0
    assert budget.allowance("local", two, NOON).jobs_left == 2, "local test mode counts its own jobs"
    tomorrow = NOON + timedelta(hours=12)  # 00:00 UTC
    assert budget.allowance("cloud", two, tomorrow).jobs_left == 2
    entry = budget.spend("cloud", "c", 1, two, tomorrow)
    assert budget.allowance("cloud", two, tomorrow).jobs_left == 1
    budget.refund(entry)
    assert budget.allowance("cloud", two, tomorrow).jobs_left == 2, "a job that never reached IBM is given back"
    ledger = json.loads(budget.ledger_path().read_text())
    assert [(e["key"], e["day"], e["shots"]) for e in ledger["entries"]] == [("a", "2026-03-14", 4096), ("b", "2026-03-14", 1)]
    with pytest.raises(ValueError, match="shots must be a positive whole number"):
        budget.spend("cloud", "d", 0, two, tomorrow)


def test_old_entries_are_dropped_so_the_ledger_stays_small(cache):
    one = Budget(jobs_per_day=1)
    for day in range(100):
        budget.spend("cloud", f"k{day}", 10, one, NOON + timedelta(days=day))
    days = [e["day"] for e in json.loads(budget.ledger_path().read_text())["entries"]]
    assert len(days) == budget.KEEP_DAYS + 1 and days[-1] == (NOON + timedelta(days=99)).date().isoformat()


def test_a_damaged_ledger_spends_nothing(cache):
    budget.spend("cloud", "a", 10, Budget(), NOON)
    for damage in (b"{not json", b'{"format": "qtl-ibm-budget/1", "entries": [{"day": 1}]}', b"[]", b"\xff\xfe"):
        budget.ledger_path().write_bytes(damage)
        with pytest.raises(BudgetError, match="unreadable budget ledger.*nothing is sent"):
            budget.spend("cloud", "b", 10, Budget(), NOON)
        assert budget.ledger_path().read_bytes() == damage, "the ledger is left as found, for the maintainer to look at"


def test_a_test_set_job_is_fitted_to_the_shots_a_job_may_use():
    assert budget.fit_evaluation(120, 1024, 8192) == (120, 68), "every image, fewer shots each"
    assert budget.fit_evaluation(120, 1024, 4096) == (64, 64), "below 64 shots an image, fewer images instead"
    assert budget.fit_evaluation(8, 1024, 8192) == (8, 1024), "a job that fits is left as asked"
    assert budget.fit_evaluation(120, 1024, 10) == (1, 10)
    assert budget.fit_evaluation(10, 32, 100) == (3, 32)
    with pytest.raises(ValueError, match="must be positive"):
        budget.fit_evaluation(0, 1024, 8192)


RACER = """
import json, sys, time
from pathlib import Path
from core.ibm import budget
go, ready, tries = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
ready.touch()  # imported and waiting
while not go.exists():
    time.sleep(0.002)
spent = 0
for i in range(tries):
    try:
        budget.spend("cloud", f"{ready.name}-{i}", 1024)
        spent += 1
    except budget.BudgetError:
        pass
print(json.dumps({"spent": spent}))
"""


def test_two_processes_racing_at_the_edge_spend_exactly_the_budget(cache, tmp_path):
    # each process tries to spend the whole day's budget at the same moment: together they get it once, never more
    jobs = 25
    env = dict(os.environ, QTL_IBM_JOBS_PER_DAY=str(jobs))
    go, ready = tmp_path / "go", [tmp_path / f"racer-{i}" for i in range(2)]
    racers = [subprocess.Popen([sys.executable, "-c", RACER, str(go), str(r), str(jobs)], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for r in ready]
    deadline = time.monotonic() + 60
    while not all(r.exists() for r in ready) and time.monotonic() < deadline:
        time.sleep(0.02)
    go.touch()
    spent = []
    for racer in racers:
        out, err = racer.communicate(timeout=120)
        assert racer.returncode == 0, err
        spent.append(json.loads(out.strip().splitlines()[-1])["spent"])
    entries = json.loads(budget.ledger_path().read_text())["entries"]
    assert sum(spent) == jobs and len(entries) == jobs, f"spent {spent}, {len(entries)} in the ledger"
    assert len({e["key"] for e in entries}) == jobs


def circuit(spec: CircuitSpec, seed: int):
    rng = np.random.default_rng(seed)
    return rng.uniform(-np.pi / 2, np.pi / 2, spec.n_qubits), rng.uniform(-np.pi, np.pi, spec.weight_shape)


def test_a_submission_spends_the_budget_before_anything_is_sent(cache, monkeypatch):
    monkeypatch.setenv(connection.LOCAL_ENV, "fake_manila")
    monkeypatch.setenv("QTL_IBM_JOBS_PER_DAY", "2")
    monkeypatch.setenv("QTL_IBM_MAX_SHOTS", "2048")
    spec = CircuitSpec(4, 2)
    before = submission.SUBMISSIONS
    with pytest.raises(BudgetError, match="needs 4,096 shots"):
        submission.submit_circuit(spec, *circuit(spec, 0), shots=4096)
    with pytest.raises(connection.IBMError, match="5 qubits"):
        submission.submit_circuit(CircuitSpec(6, 1), *circuit(CircuitSpec(6, 1), 0), shots=1024)
    assert budget.allowance("local").jobs_left == 2, "a job that failed before it was sent is given back"
    first = submission.submit_circuit(spec, *circuit(spec, 1), shots=2048, seed=1)
    submission.submit_circuit(spec, *circuit(spec, 2), shots=1024, seed=1)
    assert submission.SUBMISSIONS == before + 2 and budget.allowance("local").jobs_left == 0
    with pytest.raises(BudgetError, match="Today's IBM Quantum budget is spent"):
        submission.submit_circuit(spec, *circuit(spec, 3), shots=1024)
    assert submission.SUBMISSIONS == before + 2 and len(list(cache.glob("*.json"))) == 3, "two records and the ledger"
    again = submission.submit_circuit(spec, *circuit(spec, 1), shots=2048)
    assert again.job_id == first.job_id, "a circuit already sent is shown, whatever is left of the budget"
