"""A short load test in chromium: several visitors predict at once while a retrain runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.browser import CHROMIUM

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).is_file(), reason=f"{CHROMIUM} is missing (apt-get install chromium)")


def test_concurrent_visitors_all_get_a_prediction_during_a_retrain(face_mask_410, monkeypatch):
    from tools.load import run_load

    monkeypatch.setenv("QTL_DATA", str(face_mask_410))
    result = run_load(sessions=6)
    assert result.failures == [] and result.succeeded == 6
    assert result.retrain_state_after in ("starting", "running"), "the retrain kept running under the load"
    assert result.other_page_s, "another visitor could open other pages meanwhile"
    assert result.server_peak_rss_mb > 0
    # the verdict's message reached each page (seen by the spy) before, or as, the page showed it
    assert len(result.delivered_s) == 6 and all(0 < d <= s + 0.5 for d, s in zip(result.delivered_s, result.prediction_s))
    assert len(result.opened_s) == 6 and min(result.opened_s) > 0
