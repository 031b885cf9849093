"""Job records are shown to every visitor: a damaged one is an error that names the file, never a crash or a resend."""

from __future__ import annotations

import json

import pytest

from core.ibm.connection import IBMError
from core.ibm.job_cache import JobRecord, load_record, record_path, save_record
from core.paths import IBM_CACHE_ENV

KEY = "0123456789abcdef01234567"


@pytest.fixture
def record(monkeypatch, tmp_path) -> dict:
    monkeypatch.setenv(IBM_CACHE_ENV, str(tmp_path))
    good = JobRecord(key=KEY, kind="circuit", mode="local", backend="fake_manila", job_id="j-1", status="DONE",
                     submitted="2026-03-14T12:00:00+00:00", shots=1024, n_qubits=2, depth=1, inputs={"indices": [0]},
                     counts=[{"00": 1000, "11": 24}], transpiled={"depth": 5, "ops": {"cx": 1}, "physical_qubits": [0, 1]})
    save_record(good)
    assert load_record(KEY) == good
    return json.loads(record_path(KEY).read_text())


@pytest.mark.parametrize("change, reason", [
    ({"shots": "1024"}, "shots is str, not int"),
    ({"shots": True}, "shots is bool, not int"),
    ({"inputs": None}, "inputs is NoneType, not dict"),
    ({"key": "fedcba9876543210fedcba98"}, "is not its file's name"),
    ({"counts": [{"00": 1.5}]}, "counts must map bitstrings to whole numbers"),
    ({"counts": ["00"]}, "counts must map bitstrings to whole numbers"),
    ({"transpiled": {"depth": 5}}, "transpiled needs ops, depth and physical_qubits"),
    ({"format": "other/1"}, "not a qtl-ibm-job/1 record"),
    ({"surprise": 1}, "unexpected keyword argument"),
])
def test_a_record_with_wrong_fields_is_refused_by_name(record, change, reason):
    record_path(KEY).write_text(json.dumps({**record, **change}))
    with pytest.raises(IBMError, match=f"{KEY}.json: unreadable job record.*{reason}.*delete it to submit again"):
        load_record(KEY)


@pytest.mark.parametrize("text", ["[1, 2]", "{not json", "null"])
def test_a_record_that_is_not_an_object_is_refused(record, text):
    record_path(KEY).write_text(text)
    with pytest.raises(IBMError, match="unreadable job record"):
        load_record(KEY)
