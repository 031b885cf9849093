"""The maintainer secret: hidden panel, refused and slowed-down wrong tries, never shown or logged."""

from __future__ import annotations

import logging
import time

import pytest

from core.paths import PROJECT_ROOT
from core.server.access import Throttle, check_password, maintainer_secret

ROOT = PROJECT_ROOT
SECRET = "correct horse battery"


def test_secret_from_streamlit_secrets_first_then_the_environment(monkeypatch):
    monkeypatch.setenv("QTL_MAINTAINER_PASSWORD", "from-env")
    assert maintainer_secret({"maintainer_password": "from-secrets"}) == "from-secrets"
    assert maintainer_secret({}) == "from-env"
    monkeypatch.delenv("QTL_MAINTAINER_PASSWORD")
    assert maintainer_secret({}) is None
    assert maintainer_secret(None) is None


def test_wrong_tries_are_refused_and_slowed_down():
    throttle = Throttle(base_s=0.2, max_s=1.0)
    ok, message = check_password("guess", SECRET, key="a", throttle=throttle)
    assert not ok and message.startswith("Wrong password")
    ok, message = check_password(SECRET, SECRET, key="a", throttle=throttle)
    assert not ok and "Too many wrong tries" in message, "even the right password waits out the delay"
    assert check_password(SECRET, SECRET, key="b", throttle=throttle)[0], "another visitor is not blocked"
    time.sleep(0.25)
    assert not check_password("guess", SECRET, key="a", throttle=throttle)[0]
    assert 0.3 < throttle.wait_s("a") <= 0.4, "the second failure doubles the delay"
    time.sleep(0.45)
    assert check_password(SECRET, SECRET, key="a", throttle=throttle) == (True, "Unlocked.")
    assert throttle.wait_s("a") == 0


def test_no_secret_configured_means_no_unlock():
    ok, message = check_password("", None)
    assert not ok and "QTL_MAINTAINER_PASSWORD" in message


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

    monkeypatch.setenv("QTL_MAINTAINER_PASSWORD", SECRET)
    caplog.set_level(logging.DEBUG)
    at = login(AppTest.from_function(retrain_panel_app, default_timeout=60).run(), "hunter2")
    assert any(e.value.startswith("Wrong password") for e in at.error)
    assert not [b for b in at.button if b.label == "Start training"]
    at = login(at, SECRET)
    assert any("Too many wrong tries" in e.value for e in at.error), "a quick retry is slowed down"
    time.sleep(1.1)
    at = login(at, SECRET)
    assert [b for b in at.button if b.label == "Start training"], "the right password shows the controls"
    assert SECRET not in everything_shown(at)
    assert SECRET not in caplog.text
