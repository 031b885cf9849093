"""The page's own clock (tools/page_clock.py), which bench/bench_startup.py times the first page by."""

from __future__ import annotations

import tempfile

import pytest

from core.paths import PROJECT_ROOT
from tools.page_clock import open_page_clocked, page_times

TITLE = "Hybrid classical-quantum"


def clock(states, titles=None, origin=1_000_000.0):
    return {"origin": origin, "states": states, "titles": titles if titles is not None else {f"{TITLE} transfer": 900.0}}


def test_times_count_from_the_moment_python_asked_and_end_with_the_last_run():
    # Asked at 999,950 ms; navigation began 50 ms later; a rerun followed the first run at once.
    states = [["initial", 700.0], ["running", 800.0], ["notRunning", 1500.0], ["running", 1550.0], ["notRunning", 2100.0]]
    times = page_times(clock(states), 999_950.0, TITLE, 2.4, 2.6)
    assert times.shown_s == pytest.approx(0.95)
    assert times.complete_s == pytest.approx(2.15)
    assert (times.shown_polled_s, times.complete_polled_s) == (2.4, 2.6)


def test_a_run_that_has_not_ended_or_never_started_is_refused():
    with pytest.raises(ValueError, match="had not ended"):
        page_times(clock([["initial", 1.0], ["running", 2.0]]), 0.0, TITLE, 1.0, 1.0)
    with pytest.raises(ValueError, match="had not ended"):
        page_times(clock([["notRunning", 1.0]]), 0.0, TITLE, 1.0, 1.0)


def test_a_page_without_the_title_is_refused():
    with pytest.raises(ValueError, match="no title"):
        page_times(clock([["running", 1.0], ["notRunning", 2.0]], titles={"⚛ Quantum transfer learning": 5.0}),
                   0.0, TITLE, 1.0, 1.0)


def test_the_first_page_by_both_clocks_in_chromium(browser):
    from tools.browser import streamlit_server

    with tempfile.TemporaryDirectory() as tmp:
        env = {"QTL_JOBS_DIR": f"{tmp}/jobs", "QTL_CACHE": f"{tmp}/cache",
               "QTL_CHECKPOINTS_DIR": str(PROJECT_ROOT / "checkpoints"), "QTL_RUNS_DIR": str(PROJECT_ROOT / "data" / "runs")}
        with streamlit_server(env) as (url, _):
            page = browser.new_page()
            times = open_page_clocked(page, url, "concepts", timeout_ms=120_000)
            page.close()
    # The page's clock reads the same run as the polling, never later than it.
    assert 0 < times.shown_s <= times.complete_s <= times.complete_polled_s
    assert times.shown_s <= times.shown_polled_s
    assert times.complete_polled_s - times.complete_s < 5
