"""A short load test in chromium: several visitors predict at once while a retrain runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.browser import CHROMIUM

needs_chromium = pytest.mark.skipif(not Path(CHROMIUM).is_file(), reason=f"{CHROMIUM} is missing (apt-get install chromium)")


@needs_chromium
def test_concurrent_visitors_all_get_a_prediction_during_a_retrain(face_mask_410, monkeypatch):
    from tools.load import run_load

    monkeypatch.setenv("QTL_DATA", str(face_mask_410))
    result = run_load(sessions=6)
    assert result.failures == [] and result.succeeded == 6, result.failures
    assert result.retrain_state_after in ("starting", "running"), "the retrain kept running under the load"
    assert result.other_page_s, "another visitor could open other pages meanwhile"
    assert result.server_peak_rss_mb > 0
    # the verdict's message reached each page (seen by the spy) before, or as, the page showed it
    assert len(result.delivered_s) == 6 and all(0 < d <= s + 0.5 for d, s in zip(result.delivered_s, result.prediction_s))
    assert len(result.opened_s) == 6 and min(result.opened_s) > 0


def test_the_load_bench_pools_visits_over_runs():
    from bench.load_test import summarize
    from tools.load import LoadResult

    first = LoadResult(3, 3, [1.0, 2.0, 12.0], [0.5], server_peak_rss_mb=900.4, retrain_state_after="running",
                       delivered_s=[0.8, 1.5, 11.0], opened_s=[3.0, 4.0, 5.0])
    second = LoadResult(3, 2, [4.0, 5.0], [0.7, 0.9], failures=["TimeoutError: late"], server_peak_rss_mb=1200.6,
                        retrain_state_after="running", delivered_s=[3.0, 4.5], opened_s=[6.0, 7.0])
    pooled = summarize([first, second])
    assert (pooled["sessions"], pooled["succeeded"], pooled["failures"]) == (6, 5, ["TimeoutError: late"])
    assert (pooled["median_s"], pooled["p95_s"], pooled["max_s"]) == (4.0, 12.0, 12.0)
    assert pooled["within_goal"] == 4, "12 s is over the 10 s goal"
    assert pooled["server_peak_mb"] == 1201 and pooled["other_pages_median_s"] == 0.7
    assert summarize([first])["p95_s"] == 12.0 and summarize([second])["median_s"] == 4.5
