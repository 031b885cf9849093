"""An open workshop network, through the pages: only the unlocked maintainer sends IBM jobs, within the budget; a
forged click on a disabled button sends nothing; a reload does not reset the password throttle; upload totals;
no secret reaches a page or a log. docs/security.md lists what each test covers."""

from __future__ import annotations

import hmac
import inspect
import logging
from pathlib import Path

import pytest

from core.ibm import budget, submission
from core.paths import PROJECT_ROOT
from core.server import access

ROOT = PROJECT_ROOT
PASSWORD = "workshop-maintainer-5b2e"
TOKEN = "not-a-real-token-9c41aa"

MAINTAINER_AND_EXPLORER_PANEL = """
import numpy as np
import streamlit as st
from core.circuit.definition import CircuitSpec
from ui.ibm_panel import ibm_panel
from ui.retrain import retrain_panel
retrain_panel()
rng = np.random.default_rng(st.session_state.get("seed", 0))
ibm_panel(CircuitSpec(4, 2), rng.uniform(-1, 1, 4), rng.uniform(-3, 3, (2, 4)), shots=512)
"""


class Clock:
    def __init__(self):
        self.now = 5000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def server(monkeypatch, tmp_path) -> Path:
    """Local IBM test mode, a maintainer password, a fresh throttle on a clock that moves only when told."""
    for name in ("QTL_IBM_TOKEN", "QTL_IBM_BACKEND", "QTL_IBM_JOBS_PER_DAY", "QTL_IBM_MAX_SHOTS", "QTL_TRUST_PROXY",
                 "QTL_UPLOAD_MAX_FILES", "QTL_UPLOAD_MAX_MB"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("QTL_IBM_LOCAL", "fake_manila")
    monkeypatch.setenv("QTL_IBM_CACHE", str(tmp_path / "ibm"))
    monkeypatch.setenv("QTL_JOBS_DIR", str(tmp_path / "jobs"))
    monkeypatch.setenv("QTL_MAINTAINER_PASSWORD", PASSWORD)
    monkeypatch.setattr(access, "THROTTLE", access.Throttle(clock=Clock()))
    monkeypatch.chdir(ROOT)
    return tmp_path / "ibm"


def shown(at) -> str:
    """Everything a page wrote, as text."""
    kinds = ("title", "header", "subheader", "markdown", "caption", "info", "warning", "error", "success", "text", "code")
    parts = [str(e.value) for kind in kinds for e in getattr(at, kind)]
    parts += [f"{m.label} {m.value}" for m in at.metric] + [b.label for b in at.button]
    parts += [str(t.value) for t in at.text_input]
    return "\n".join(parts)


def records(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.json") if p.name != "budget-ledger.json") if folder.exists() else []


def forge_click(at, label: str):
    """Press a button as a hand-made websocket message would, disabled or not (AppTest's click() refuses a disabled one).

    Streamlit 1.67 discards such a value itself; the panel and core.ibm.budget check again, so the test holds either way.
    """
    button = next(b for b in at.button if b.label == label)
    button._value = True
    return at.run()


def login(at, password: str):
    next(t for t in at.text_input if t.label == "Maintainer password").input(password)
    next(b for b in at.button if b.label == "Unlock").click()
    return at.run()


def test_a_visitor_sees_who_sends_and_what_is_left_and_a_forged_click_sends_nothing(server):
    from streamlit.testing.v1 import AppTest

    before = submission.SUBMISSIONS
    at = AppTest.from_string(MAINTAINER_AND_EXPLORER_PANEL, default_timeout=120).run()
    text = shown(at)
    assert "Only the maintainer sends jobs (unlock in the sidebar's 🔧 Maintainer panel)" in text
    assert "3 of 3 jobs left, at most 8,192 shots per job" in text
    send = next(b for b in at.button if b.label == "Send to IBM Quantum")
    assert send.disabled
    at = forge_click(at, "Send to IBM Quantum")
    assert not at.exception, [e.value for e in at.exception]
    assert submission.SUBMISSIONS == before and records(server) == [], "nothing was sent"
    assert budget.allowance("local").jobs_left == 3


def test_the_maintainer_unlocks_sends_within_the_budget_and_then_is_refused(server, monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("QTL_IBM_JOBS_PER_DAY", "1")
    before = submission.SUBMISSIONS
    at = login(AppTest.from_string(MAINTAINER_AND_EXPLORER_PANEL, default_timeout=120).run(), PASSWORD)
    assert "You are unlocked as the maintainer" in shown(at) and "1 of 1 jobs left" in shown(at)
    next(b for b in at.button if b.label == "Send to IBM Quantum").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert submission.SUBMISSIONS == before + 1 and len(records(server)) == 1
    assert {m.label: m.value for m in at.metric}["status"] == "DONE"

    at.session_state["seed"] = 1  # another circuit: the day's one job is spent
    at.run()
    assert "Today's IBM Quantum budget is spent (1 jobs a day, QTL_IBM_JOBS_PER_DAY)" in shown(at)
    assert next(b for b in at.button if b.label == "Send to IBM Quantum").disabled
    forge_click(at, "Send to IBM Quantum")
    assert submission.SUBMISSIONS == before + 1 and len(records(server)) == 1, "the budget holds against a forged click"
    at.session_state["seed"] = 0
    at.run()
    assert {m.label: m.value for m in at.metric}["status"] == "DONE", "the job already sent is still shown"


def test_shots_beyond_the_budget_are_refused_before_the_button(server, monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("QTL_IBM_MAX_SHOTS", "256")
    at = login(AppTest.from_string(MAINTAINER_AND_EXPLORER_PANEL, default_timeout=120).run(), PASSWORD)
    assert "This job needs 512 shots; the budget allows 256 per job (QTL_IBM_MAX_SHOTS)." in shown(at)
    assert next(b for b in at.button if b.label == "Send to IBM Quantum").disabled


def test_without_a_password_nobody_sends_and_results_stay_visible(server, monkeypatch):
    import numpy as np
    from streamlit.testing.v1 import AppTest

    from core.circuit.definition import CircuitSpec

    monkeypatch.delenv("QTL_MAINTAINER_PASSWORD")
    rng = np.random.default_rng(0)  # the script's circuit, sent earlier (by a maintainer, or the library)
    submission.submit_circuit(CircuitSpec(4, 2), rng.uniform(-1, 1, 4), rng.uniform(-3, 3, (2, 4)), shots=512)
    visitor = AppTest.from_string(MAINTAINER_AND_EXPLORER_PANEL, default_timeout=120).run()
    assert "no maintainer password is set on this server" in shown(visitor)
    assert not [b for b in visitor.button if b.label == "Send to IBM Quantum"], "the result is shown instead"
    assert {m.label: m.value for m in visitor.metric}["status"] == "DONE"
    alts = [img.alt for element in visitor.get("image") for img in element.proto.imgs]
    assert any(a.startswith("Bar chart of the 16 bitstrings") and "measured (512 shots)" in a for a in alts), alts
    other = AppTest.from_string(MAINTAINER_AND_EXPLORER_PANEL.replace('get("seed", 0)', 'get("seed", 7)'),
                                default_timeout=120).run()
    assert next(b for b in other.button if b.label == "Send to IBM Quantum").disabled, "a new circuit cannot be sent"


def retrain_only():
    from ui.retrain import retrain_panel

    retrain_panel()


def test_a_reload_does_not_reset_the_password_throttle(server):
    from streamlit.testing.v1 import AppTest

    clock = access.THROTTLE.clock
    at = login(AppTest.from_function(retrain_only, default_timeout=60).run(), "guess-1")
    assert any(e.value.startswith("Wrong password") for e in at.error)
    reloaded = login(AppTest.from_function(retrain_only, default_timeout=60).run(), PASSWORD)  # a new session
    assert any("Too many wrong tries" in e.value for e in reloaded.error), "a new session is the same client"
    assert not [b for b in reloaded.button if b.label == "Start training"]
    clock.now += 1.0
    reloaded = login(AppTest.from_function(retrain_only, default_timeout=60).run(), PASSWORD)
    assert [b for b in reloaded.button if b.label == "Start training"]


def test_the_password_is_compared_in_constant_time():
    assert "hmac.compare_digest(given.encode(), secret.encode())" in inspect.getsource(access.check_password)
    assert access.hmac is hmac


def test_predict_reads_at_most_the_upload_limit_and_names_the_rest(app_env, face_mask_410, monkeypatch, open_page):
    monkeypatch.setenv("QTL_UPLOAD_MAX_FILES", "2")
    images = sorted((face_mask_410 / "test" / "no_mask").glob("*.jpg"))[:3]
    at = open_page("predict")
    assert any("at most 2 photos and 50 MB in all at once" in c.value for c in at.caption), "the page states the limits"
    at.file_uploader[0].set_value([(p.name, p.read_bytes(), "image/jpeg") for p in images]).run()
    assert not at.exception, [e.value for e in at.exception]
    refusal = next(e.value for e in at.error if "not read" in e.value)
    assert refusal.startswith("1 of 3 photos not read: at most 2 photos are read at once (QTL_UPLOAD_MAX_FILES)")
    assert f"Not read: {images[2].name}." in refusal
    verdicts = [m.value for m in at.markdown if m.value.startswith("### mask — ") or m.value.startswith("### no_mask — ")]
    assert len(verdicts) == 2, "only the photos within the limit are decoded and judged"


def test_predicts_ibm_test_set_is_the_maintainers_and_no_secret_reaches_a_page_or_a_log(
        app_env, server, monkeypatch, open_page, caplog):
    monkeypatch.setenv("QTL_MAINTAINER_PASSWORD", PASSWORD)
    monkeypatch.setenv("QTL_IBM_TOKEN", TOKEN)  # local test mode wins: nothing can reach IBM
    caplog.set_level(logging.DEBUG)
    before = submission.SUBMISSIONS
    at = open_page("predict")
    assert not at.exception, [e.value for e in at.exception]
    text = shown(at)
    assert "One job: 120 test images × 68 shots = 8,160 shots" in text
    assert next(b for b in at.button if b.label == "Send the test set to IBM Quantum").disabled
    forge_click(at, "Send the test set to IBM Quantum")
    assert submission.SUBMISSIONS == before and records(server) == []
    explorer = open_page("explorer")
    for page in (at, explorer):
        assert PASSWORD not in shown(page) and TOKEN not in shown(page)
    assert PASSWORD not in caplog.text and TOKEN not in caplog.text
