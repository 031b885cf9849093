"""The maintainer secret: hidden panel, refused and slowed-down wrong tries that no new session or forged header resets.

Time is an injected clock: the tests assert the throttle's decisions and waits, never wall-clock timings.
"""

from __future__ import annotations

import logging

import pytest

from core.paths import PROJECT_ROOT
from core.server import access
from core.server.access import GLOBAL_FAILURES, MAX_S, WINDOW_S, Throttle, check_password, client_key, maintainer_secret

ROOT = PROJECT_ROOT
SECRET = "correct horse battery"


class Clock:
    """Monotonic seconds that move only when told."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def test_secret_from_streamlit_secrets_first_then_the_environment(monkeypatch):
    monkeypatch.setenv("QTL_MAINTAINER_PASSWORD", "from-env")
    assert maintainer_secret({"maintainer_password": "from-secrets"}) == "from-secrets"
    assert maintainer_secret({}) == "from-env"
    monkeypatch.delenv("QTL_MAINTAINER_PASSWORD")
    assert maintainer_secret({}) is None
    assert maintainer_secret(None) is None


def test_wrong_tries_are_refused_and_each_doubles_the_clients_wait():
    clock = Clock()
    throttle = Throttle(clock=clock)
    first = check_password("guess", SECRET, key="ip:a", throttle=throttle)
    assert not first.ok and first.message == "Wrong password. The next try is possible in 1 s." and first.wait_s == 1.0
    early = check_password(SECRET, SECRET, key="ip:a", throttle=throttle)
    assert not early.ok and early.message == "Too many wrong tries: wait 1 s before trying again.", \
        "even the right password waits out the delay"
    assert check_password(SECRET, SECRET, key="ip:b", throttle=throttle).ok, "another visitor is not blocked"
    clock.advance(1.0)
    assert check_password("guess", SECRET, key="ip:a", throttle=throttle).wait_s == 2.0, "the second failure doubles it"
    clock.advance(1.9)
    assert throttle.wait_s("ip:a") == pytest.approx(0.1)
    clock.advance(0.1)
    assert check_password(SECRET, SECRET, key="ip:a", throttle=throttle) == (True, "Unlocked.", 0.0)
    assert throttle.wait_s("ip:a") == 0


def test_fresh_sessions_with_forged_headers_are_one_client_and_stay_slowed():
    """A guesser who reloads (a new session) and forges X-Forwarded-For every try: 15 minutes, one try a second."""
    clock = Clock()
    throttle = Throttle(clock=clock)
    keys, heard, waits = set(), 0, []
    for i in range(900):
        key = client_key("203.0.113.9", {"X-Forwarded-For": f"10.0.{i % 250}.{i // 250}"}, f"session-{i}", behind_proxy=False)
        keys.add(key)
        check = check_password(f"guess-{i}", SECRET, key=key, throttle=throttle)
        if check.message.startswith("Wrong password"):
            heard += 1
            waits.append(check.wait_s)
        else:
            assert check.message.startswith("Too many wrong tries") and check.wait_s > 0
        clock.advance(1.0)
    assert keys == {"ip:203.0.113.9"}, "neither the header nor the session changes who is trying"
    assert waits[:7] == [1, 2, 4, 8, 16, 32, 60] and set(waits[7:]) == {MAX_S}
    assert heard <= 21, f"{heard} of 900 guesses were compared with the password"


def test_many_clients_trip_the_process_wide_limit_and_the_maintainer_gets_in_after_the_window():
    clock = Clock()
    throttle = Throttle(clock=clock)
    for i in range(GLOBAL_FAILURES - 1):
        assert throttle.attempt(f"ip:10.1.0.{i}", correct=False).outcome == "wrong"
    assert throttle.wait_s("ip:10.9.9.9") == 0, "below the limit, a new client tries at once"
    assert throttle.attempt(f"ip:10.1.0.{GLOBAL_FAILURES}", correct=False).wait_s == 1.0
    refused = throttle.attempt("ip:10.9.9.9", correct=True)
    assert refused.outcome == "wait" and refused.wait_s == 1.0, "past the limit every try anywhere waits, right or wrong"
    waits = []
    for i in range(8):  # new addresses, each trying the moment the wait is over
        clock.advance(throttle.wait_s(f"ip:10.2.0.{i}"))
        waits.append(throttle.attempt(f"ip:10.2.0.{i}", correct=False).wait_s)
    assert waits == [2, 4, 8, 16, 32, 60, 60, 60]
    assert throttle.attempt("ip:10.9.9.9", correct=True).outcome == "wait"
    clock.advance(WINDOW_S + MAX_S)
    assert throttle.attempt("ip:10.9.9.9", correct=True).outcome == "unlocked", "after the window the right password works"
    assert throttle.attempt("ip:10.3.0.1", correct=False).wait_s == 1.0, "and the slate is clean again"
    assert len(throttle._clients) == 1, "old clients are forgotten: the memory stays bounded"


def test_a_forwarded_address_counts_only_behind_a_trusted_proxy(monkeypatch):
    headers = {"X-Forwarded-For": "1.2.3.4, 198.51.100.7"}
    assert client_key("192.0.2.1", headers, "s1", behind_proxy=False) == "ip:192.0.2.1"
    assert client_key("192.0.2.1", headers, "s1", behind_proxy=True) == "forwarded:198.51.100.7", \
        "the last entry is the one the proxy wrote; the first is the client's to choose"
    assert client_key(None, {}, "s1", behind_proxy=True) == "session:s1"
    assert client_key(None, None, None) == "session:unknown"
    monkeypatch.setenv("QTL_TRUST_PROXY", "1")
    assert access.trust_proxy() and client_key("192.0.2.1", headers, "s1") == "forwarded:198.51.100.7"
    monkeypatch.setenv("QTL_TRUST_PROXY", "0")
    assert not access.trust_proxy() and client_key("192.0.2.1", headers, "s1") == "ip:192.0.2.1"


def test_no_secret_configured_means_no_unlock():
    check = check_password("", None)
    assert not check.ok and "QTL_MAINTAINER_PASSWORD" in check.message


@pytest.fixture
def app(monkeypatch, tmp_path):
    monkeypatch.setenv("QTL_JOBS_DIR", str(tmp_path / "jobs"))
    monkeypatch.setenv("QTL_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("QTL_CHECKPOINTS_DIR", str(tmp_path / "checkpoints"))
    monkeypatch.delenv("QTL_MAINTAINER_PASSWORD", raising=False)
    monkeypatch.chdir(ROOT)

    def open_app():
        from streamlit.testing.v1 import AppTest

        return AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()

    return open_app


def everything_shown(at) -> str:
    kinds = ("markdown", "error", "success", "warning", "info", "caption", "text", "code")
    parts = [str(getattr(e, "value", "")) for kind in kinds for e in getattr(at, kind)]
    parts += [str(t.value) for t in at.text_input]
    return "\n".join(parts)


def login(at, password: str):
    box = next(t for t in at.text_input if t.label == "Maintainer password")
    box.input(password)
    next(b for b in at.button if b.label == "Unlock").click()
    return at.run()


def test_panel_does_not_exist_without_a_secret(app):
    at = app()
    assert not [t for t in at.text_input if "password" in t.label.lower()]
    assert not [e for e in at.expander if "retrain" in e.label.lower()]
    assert not [b for b in at.button if "training" in b.label.lower()]


def retrain_panel_app():
    from ui.retrain import retrain_panel

    retrain_panel()


def test_wrong_password_is_refused_then_the_right_one_unlocks(app, monkeypatch, caplog):
    # The panel on its own: AppTest shows app.py's own sidebar elements only on its first run.
    from streamlit.testing.v1 import AppTest

    clock = Clock()
    monkeypatch.setattr(access, "THROTTLE", Throttle(clock=clock))
    monkeypatch.setenv("QTL_MAINTAINER_PASSWORD", SECRET)
    caplog.set_level(logging.DEBUG)
    at = login(AppTest.from_function(retrain_panel_app, default_timeout=60).run(), "hunter2")
    assert any(e.value.startswith("Wrong password") for e in at.error)
    assert not [b for b in at.button if b.label == "Start training"]
    at = login(at, SECRET)
    assert any("Too many wrong tries" in e.value for e in at.error), "a quick retry is slowed down"
    clock.advance(1.0)
    at = login(at, SECRET)
    assert [b for b in at.button if b.label == "Start training"], "the right password shows the controls"
    assert SECRET not in everything_shown(at)
    assert SECRET not in caplog.text
