"""Every page on a phone-sized screen (390 × 844) in Debian's chromium: it renders, nothing runs off the right edge."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.browser import CHROMIUM, ROOT, TITLES, open_page, settle, streamlit_server, wait_until_idle

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).is_file(), reason=f"{CHROMIUM} is missing (apt-get install chromium)")

# Elements that stick out past the viewport's right edge with no box around them that scrolls sideways (a wide table
# in a horizontally scrollable box is fine on a phone). The nearest box that scrolls counts: one whose content fits (a
# table header cell's text box, as wide as the cell) is passed over. The page's own scrolling area (stMain) does not
# count: a page that scrolls sideways on a phone is what this test catches. A box that hides its overflow within the
# screen (a slider's track around its range input) does.
OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  const scrollsSideways = el => {
    for (let a = el.parentElement; a && a.dataset.testid !== 'stMain'; a = a.parentElement) {
      const x = getComputedStyle(a).overflowX;
      if ((x === 'auto' || x === 'scroll') && a.scrollWidth > a.clientWidth) return a.getBoundingClientRect().right <= width + 1;
      if ((x === 'hidden' || x === 'clip') && a.getBoundingClientRect().right <= width + 1) return true;  // cut off unseen
    }
    return false;
  };
  const unseen = el => { const s = getComputedStyle(el); return s.opacity === '0' || s.visibility === 'hidden'; };
  const out = [];
  for (const el of document.querySelectorAll('[data-testid="stMain"] *')) {
    const box = el.getBoundingClientRect();
    if (box.width > 0 && box.height > 0 && box.right > width + 1 && !unseen(el) && !scrollsSideways(el))
      out.push({right: Math.round(box.right), tag: el.tagName, testid: el.dataset.testid || '',
                text: (el.textContent || '').slice(0, 60)});
  }
  const main = document.querySelector('[data-testid="stMain"]');
  return {width, scroll: Math.max(document.scrollingElement.scrollWidth, main.scrollWidth), outside: out.slice(0, 5)};
}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("phone")
    env = {"QTL_CHECKPOINTS_DIR": str(ROOT / "checkpoints"), "QTL_RUNS_DIR": str(ROOT / "data" / "runs"),
           "QTL_JOBS_DIR": str(folder / "jobs"), "QTL_MAINTAINER_PASSWORD": ""}
    with streamlit_server(env) as (url, process):
        yield url


@pytest.mark.parametrize("name", list(TITLES))
def test_every_page_fits_a_phone(server, browser, name):
    page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    open_page(page, server, name, timeout_ms=180_000)
    # checked and photographed as drawn: every grey placeholder replaced, and no script run begun meanwhile
    settle(page, timeout_ms=60_000)
    wait_until_idle(page, timeout_ms=180_000)
    page.screenshot(path=str(ROOT / "tests" / "artifacts" / f"phone-{name}.png"), full_page=False)  # kept if a check fails
    assert page.get_by_role("heading", level=1).filter(has_text=TITLES[name]).first.is_visible()
    assert page.locator("[data-testid='stException']").count() == 0
    fit = page.evaluate(OVERFLOW)
    assert fit["scroll"] <= fit["width"] + 1 and fit["outside"] == [], fit
    assert not errors, errors
    page.close()
