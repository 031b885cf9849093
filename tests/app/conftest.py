"""The app's test environment: a model trained here from the real images, and a page opener through AppTest."""

from __future__ import annotations

import pytest

from core.paths import PROJECT_ROOT

ROOT = PROJECT_ROOT


@pytest.fixture(scope="module")
def trained(face_mask_410, tmp_path_factory):
    """A short real training: a checkpoint and a run record in their own folders."""
    from core.learning.config import TrainConfig
    from core.results.runs import run_training

    out = tmp_path_factory.mktemp("app")
    run_training(TrainConfig(epochs=2, data_dir=str(face_mask_410)), runs_dir=out / "runs", checkpoints_dir=out / "checkpoints")
    return out


@pytest.fixture
def app_env(trained, face_mask_410, monkeypatch, tmp_path):
    monkeypatch.setenv("QTL_RUNS_DIR", str(trained / "runs"))
    monkeypatch.setenv("QTL_CHECKPOINTS_DIR", str(trained / "checkpoints"))
    monkeypatch.setenv("QTL_DATA", str(face_mask_410))
    monkeypatch.setenv("QTL_JOBS_DIR", str(tmp_path / "jobs"))
    monkeypatch.delenv("QTL_MAINTAINER_PASSWORD", raising=False)
    monkeypatch.chdir(ROOT)
    return trained


@pytest.fixture
def open_page():
    """Opens a page of the app (in the app_env) through AppTest."""
    return _open_page


def _open_page(page: str):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180).run()
    if page != "concepts":
        # After a first run, so that st.navigation's custom url_paths are known (and app.py's sidebar runs).
        at.switch_page(f"views/{page}.py").run()
    return at


@pytest.fixture(scope="module")
def browser():
    """Debian's chromium through Playwright, one per test module."""
    from playwright.sync_api import sync_playwright

    from tools.browser import launch_chromium

    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()
