"""End to end in a real browser: `streamlit run app.py`, Debian's chromium through Playwright.

Screenshots go to ``$QTL_SCREENSHOT_DIR`` (the README's come from
``QTL_SCREENSHOT_DIR=docs/screenshots``), else to tests/artifacts/. The Predict
screenshot is a made-up group photo: three test-split close-ups pasted onto
scikit-image's rocket picture, as the scene benchmark builds scenes.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tools.browser import (
    ATLAS,
    BLOCH_SPHERES,
    CHROMIUM,
    INSIDE_VERDICT,
    PAGES,
    PREDICTION,
    ROOT,
    STEP_SLIDER,
    UPLOADER,
    face_verdict,
    faces_in,
    group_photo,
    open_page,
    settle,
    streamlit_server,
    summary,
    switch_page,
    upload_and_read_prediction,
    verdict_label,
    wait_until_idle,
)

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).is_file(), reason=f"{CHROMIUM} is missing (apt-get install chromium)")


@pytest.fixture(scope="module")
def server(face_mask_410, tmp_path_factory):
    (ROOT / "tests" / "artifacts").mkdir(exist_ok=True)
    jobs = tmp_path_factory.mktemp("jobs")
    env = {"QTL_DATA": str(face_mask_410), "QTL_JOBS_DIR": str(jobs), "QTL_MAINTAINER_PASSWORD": ""}
    with streamlit_server(env) as (url, process):
        yield url


def test_every_page_and_a_prediction_in_chromium(server, browser, face_mask_410, tmp_path):
    shots = Path(os.environ.get("QTL_SCREENSHOT_DIR", ROOT / "tests" / "artifacts"))
    shots.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    open_page(page, server, "concepts", timeout_ms=120_000)  # the root address, as the server prints it
    assert page.url.rstrip("/").endswith("/concepts"), "the root address goes on to the Concepts page's own"
    for name in PAGES:
        if name != "concepts":
            switch_page(page, name, timeout_ms=120_000)
        shown = page.locator("[data-testid='stException']").all_inner_texts()
        assert not shown, f"{name} shows an exception: {shown}"
        assert page.locator("[data-testid='stSidebarNav']").is_visible()
        if name != "predict":
            settle(page)
            page.screenshot(path=str(shots / f"{name}.png"), full_page=False)

    switch_page(page, "predict", timeout_ms=120_000)
    photo = sorted((face_mask_410 / "test" / "no_mask").glob("*.jpg"))[0]
    label, _ = upload_and_read_prediction(page, photo, timeout_ms=120_000)
    assert label == "no_mask", "a close-up: its one face is found, and the shipped model gets it right"
    assert not errors, errors


def test_the_comparison_page_draws_the_tab_its_address_names(server, browser):
    """A tab's name goes into the address, so a lesson link can open it; only the open tab's content is drawn."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    charts = page.locator("[data-testid='stImage'] img")
    open_page(page, server, "comparison", timeout_ms=120_000)
    charts.nth(3).wait_for(timeout=60_000)  # an image element appears once its picture has loaded
    assert charts.count() == 4, "the training curves: four charts"
    assert page.locator("table").count() == 0, "the tables' tab is not drawn yet"
    page.get_by_role("tab", name="Per simulator").click()
    page.wait_for_url("**section=Per+simulator**", timeout=60_000)
    page.locator("table").first.wait_for(timeout=60_000)
    wait_until_idle(page, 60_000)
    page.wait_for_function("() => !document.querySelector(\"[data-testid='stImage'] img\")", timeout=60_000)
    link = page.url
    page.close()
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(link)
    page.locator("table").first.wait_for(timeout=60_000)
    assert page.get_by_role("tab", name="Per simulator").get_attribute("aria-selected") == "true"
    page.close()


@pytest.mark.parametrize("viewport", [{"width": 1400, "height": 1100}, {"width": 390, "height": 844}], ids=["desktop", "phone"])
def test_a_group_photo_gets_one_verdict_per_face_in_chromium(server, browser, face_mask_410, tmp_path, viewport):
    photo, expected = group_photo(tmp_path, 0, face_mask_410)
    page = browser.new_page(viewport=viewport)
    open_page(page, server, "predict", timeout_ms=120_000)
    page.locator(UPLOADER).first.set_input_files(str(photo))
    page.locator(summary(0)).wait_for(timeout=120_000)
    assert faces_in(page.locator(summary(0)).inner_text()) == len(expected)
    page.locator(face_verdict(0, len(expected))).wait_for(timeout=120_000)
    shown = [verdict_label(page.locator(face_verdict(0, n)).inner_text()) for n in range(1, len(expected) + 1)]
    assert shown == expected, "one label per face, numbered left to right"
    assert page.locator("[data-testid='stException']").count() == 0
    settle(page)
    shots = Path(os.environ.get("QTL_SCREENSHOT_DIR", ROOT / "tests" / "artifacts"))
    name = "predict.png" if viewport["width"] > 1000 else "predict-phone.png"
    page.screenshot(path=str(shots / name), full_page=True)


def test_a_picture_without_a_face_says_so_and_can_be_classified_whole(server, browser, tmp_path):
    from PIL import Image
    from skimage import data

    picture = tmp_path / "coffee.png"
    Image.fromarray(data.coffee()).save(picture)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    open_page(page, server, "predict", timeout_ms=120_000)
    page.locator(UPLOADER).first.set_input_files(str(picture))
    page.locator(summary(0)).filter(has_text="no face found").wait_for(timeout=120_000)
    assert page.get_by_text("No face found in this photo").count() == 1
    page.get_by_text("Classify the whole image anyway").click()
    page.locator(face_verdict(0, "whole")).wait_for(timeout=60_000)
    assert verdict_label(page.locator(face_verdict(0, "whole")).inner_text()) in ("mask", "no_mask")


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


def test_a_face_followed_inside_the_circuit_step_by_step_in_chromium(server, browser, face_mask_410, tmp_path):
    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    open_page(page, server, "predict", timeout_ms=120_000)
    photo = sorted((face_mask_410 / "test" / "mask").glob("*.jpg"))[0]
    upload_and_read_prediction(page, photo, timeout_ms=120_000)
    page.get_by_role("button", name="Inside the circuit →").first.click()  # Predict hands the face over
    page.get_by_role("heading", level=1).filter(has_text="Inside the circuit").wait_for(timeout=60_000)
    page.locator(INSIDE_VERDICT).wait_for(timeout=120_000)
    page.get_by_text("∂P(mask)/∂θ, shift rule").first.wait_for(timeout=120_000)  # the explanation rendered
    wait_until_idle(page, 120_000)
    spheres = page.locator(BLOCH_SPHERES).first
    final = spheres.get_attribute("src")
    slider = page.locator(f"{STEP_SLIDER} input[type='range']").first
    slider.focus()
    page.keyboard.press("Home")  # the start: |0000⟩, every arrow up
    page.get_by_text("Start |0").first.wait_for(timeout=30_000)
    wait_until_idle(page, 60_000)
    assert page.locator(BLOCH_SPHERES).first.get_attribute("src") != final, "the spheres follow the step"
    page.keyboard.press("ArrowRight")
    page.get_by_text("After the Hadamards").first.wait_for(timeout=30_000)
    assert page.locator("[data-testid='stException']").count() == 0
    assert not errors, errors
    page.keyboard.press("ArrowRight")  # after the embedding: each qubit turned by its photo's angle
    page.get_by_text("After the embedding").first.wait_for(timeout=30_000)
    page.set_viewport_size({"width": 1400, "height": 2300})  # the page scrolls inside its own container
    wait_until_idle(page, 60_000)
    settle(page)
    shots = Path(os.environ.get("QTL_SCREENSHOT_DIR", ROOT / "tests" / "artifacts"))
    page.screenshot(path=str(shots / "inside.png"), full_page=True)
    page.get_by_text("Draw the decision atlas").click()  # drawn on request: its shapes cost a phone seconds
    page.locator(f"{ATLAS} path").first.wait_for(timeout=120_000)
    page.locator(f"{ATLAS} path[aria-label*='true class: no_mask']").first.click()  # a dot on the atlas: that test image
    page.locator(INSIDE_VERDICT).filter(has_text="truly no_mask").wait_for(timeout=60_000)
    assert page.locator("[data-testid='stException']").count() == 0
