"""Run records: the schema refuses what is wrong; unreadable files are skipped, dead runs read as failed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


def test_record_schema_rejects_what_is_wrong(short_run):
    from core.results.records import RecordError, validate

    record, _ = short_run
    assert validate(record) is record
    wrong = record["test"]["misclassified"]
    # dataset-relative, so the shipped records name the same images on any machine
    assert len(wrong) == sum(record["test"]["confusion"][i][j] for i in range(2) for j in range(2) if i != j)
    folder = Path(record["dataset"]["path"])
    assert all(not Path(p).is_absolute() and p.startswith("test/") and (folder / p).is_file() for p in wrong)
    broken = [
        {k: v for k, v in record.items() if k != "epochs"},
        {**record, "status": "exploded"},
        {**record, "config": {**record["config"], "epochs": "30"}},
        {**record, "test": None},
        {**record, "epochs": [{**record["epochs"][0], "val_acc": None}]},
    ]
    for bad in broken:
        with pytest.raises(RecordError):
            validate(bad)


def test_load_runs_skips_bad_files_and_marks_dead_runs(short_run, tmp_path):
    from core.results.records import load_runs

    record, out = short_run
    good = next((out / "runs").glob("*.json"))
    (tmp_path / good.name).write_text(good.read_text())
    (tmp_path / "truncated.json").write_text(good.read_text()[:100])
    (tmp_path / "other.json").write_text(json.dumps({"schema": "something/9"}))
    (tmp_path / "dead.json").write_text(json.dumps({**record, "run_id": "dead", "status": "running", "pid": 2**22 + 12345}))
    loaded = load_runs(tmp_path)
    assert len(loaded.problems) == 2 and any("truncated.json" in p for p in loaded.problems)
    statuses = {r["run_id"]: r["status"] for r in loaded.records}
    assert statuses == {record["run_id"]: "completed", "dead": "failed"}
