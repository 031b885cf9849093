"""End to end in a real browser: `streamlit run app.py`, Debian's chromium through Playwright.

Screenshots go to ``$QTL_SCREENSHOT_DIR`` (the README's come from
``QTL_SCREENSHOT_DIR=docs/screenshots``), else to tests/artifacts/. They never
show a data-set image: the Predict screenshot uses a drawn test card.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tools.browser import (
    CHROMIUM,
    PAGES,
    PREDICTION,
    ROOT,
    UPLOADER,
    drawn_photo,
    launch_chromium,
    open_page,
    settle,
    streamlit_server,
    switch_page,
    upload_and_read_prediction,
)

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).is_file(), reason=f"{CHROMIUM} is missing (apt-get install chromium)")


@pytest.fixture(scope="module")
def server(face_mask_410, tmp_path_factory):
    (ROOT / "tests" / "artifacts").mkdir(exist_ok=True)
    jobs = tmp_path_factory.mktemp("jobs")
    env = {"QTL_DATA": str(face_mask_410), "QTL_JOBS_DIR": str(jobs), "QTL_MAINTAINER_PASSWORD": ""}
    with streamlit_server(env) as (url, process):
        yield url


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


def test_every_page_and_a_prediction_in_chromium(server, browser, face_mask_410, tmp_path):
    shots = Path(os.environ.get("QTL_SCREENSHOT_DIR", ROOT / "tests" / "artifacts"))
    shots.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    open_page(page, server, "concepts", timeout_ms=120_000)
    for name in PAGES:
        if name != "concepts":
            switch_page(page, name, timeout_ms=120_000)
        assert page.locator("[data-testid='stException']").count() == 0, f"{name} shows an exception"
        assert page.locator("[data-testid='stSidebarNav']").is_visible()
        if name != "predict":
            settle(page)
            page.screenshot(path=str(shots / f"{name}.png"), full_page=False)

    photo = sorted((face_mask_410 / "test" / "no_mask").glob("*.jpg"))[0]
    label, _ = upload_and_read_prediction(page, photo, timeout_ms=120_000)
    assert label == "no_mask", "the shipped models get every no_mask test photo right"

    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    open_page(page, server, "predict", timeout_ms=120_000)
    label, _ = upload_and_read_prediction(page, drawn_photo(tmp_path, 1))
    assert label in ("mask", "no_mask")
    settle(page)
    page.screenshot(path=str(shots / "predict.png"), full_page=True)
    assert not errors, errors


def test_a_bad_upload_gets_a_message_in_chromium(server, browser, tmp_path):
    page = browser.new_page()
    open_page(page, server, "predict", timeout_ms=120_000)
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    page.locator(UPLOADER).first.set_input_files(str(broken))
    message = page.locator("[data-testid='stAlertContentError']").filter(has_text="broken.png")
    message.first.wait_for(timeout=60_000)
    assert page.locator("[data-testid='stException']").count() == 0


def test_an_oversize_upload_is_refused_with_a_message(server, browser, tmp_path):
    import tomllib

    limit_mb = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())["server"]["maxUploadSize"]
    page = browser.new_page()
    open_page(page, server, "predict", timeout_ms=120_000)
    huge = tmp_path / "huge.jpg"
    huge.write_bytes(b"\xff\xd8\xff" + os.urandom((limit_mb + 1) * 1024 * 1024))
    page.locator(UPLOADER).first.set_input_files(str(huge))
    message = page.get_by_text(f"{limit_mb:.1f}MB or smaller", exact=False)
    message.first.wait_for(timeout=30_000)
    assert page.locator(PREDICTION).count() == 0
