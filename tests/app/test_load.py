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
    # the server's share, by each page's clock: inside the whole wait, and the rerun inside the upload's requests
    assert len(result.opened_served_s) == 6 and all(0 < s <= o for s, o in zip(result.opened_served_s, result.opened_s))
    assert all(0 < r <= s <= d + 0.01 for r, s, d in zip(result.rerun_s, result.served_s, result.delivered_s))
    # and by chromium's network clock, stamped before the renderer reads a frame: never later than the page's
    assert len(result.opened_network_s) == len(result.served_network_s) == 6
    assert all(0 < n <= s + 0.05 for n, s in zip(result.opened_network_s, result.opened_served_s))
    assert all(0 < n <= s + 0.05 for n, s in zip(result.served_network_s, result.served_s))
    # CPU charged per phase: the server worked in both, the browsers too, and nothing is charged twice
    for phase in ("opening", "predicting"):
        spent = result.cpu_s[phase]
        assert spent["server"] > 0 and spent["browsers"] > 0 and spent["wall"] > 0
        assert spent["server"] + spent["worker"] + spent["browsers"] <= spent["machine busy"] + 1.0
    assert result.heavy == []


@needs_chromium
def test_worst_case_visitors_do_not_stop_the_predictions(face_mask_410, monkeypatch):
    from tools.load import WORST_KINDS, run_load, worst_case_visitors

    monkeypatch.setenv("QTL_DATA", str(face_mask_410))
    result = run_load(sessions=3, extra=worst_case_visitors(len(WORST_KINDS)), photos="closeup")
    assert result.failures == [] and result.succeeded == 3, result.failures
    assert sorted(h["kind"] for h in result.heavy) == sorted(WORST_KINDS)
    for heavy in result.heavy:
        assert heavy["failures"] == [] and heavy["done"] >= 1, heavy
    assert result.other_page_s, "the app kept answering other pages"
    assert 0 < result.server_peak_rss_mb < 4096


def test_visitors_upload_group_photos_or_close_ups(face_mask_410, monkeypatch, tmp_path):
    from PIL import Image

    from tools.load import run_load, visitor_photo

    monkeypatch.setenv("QTL_DATA", str(face_mask_410))
    closeups = [visitor_photo("closeup", tmp_path, i) for i in range(3)]
    assert len({p.read_bytes() for p in closeups}) == 3, "a different close-up per visitor"
    assert all(str(face_mask_410) not in str(p) and p.parent == tmp_path for p in closeups), "copies, the data set untouched"
    assert Image.open(visitor_photo("group", tmp_path, 0)).size == (1280, 720)
    with pytest.raises(ValueError, match="photos must be one of"):
        visitor_photo("selfie", tmp_path, 0)
    with pytest.raises(ValueError, match="photos must be one of"):
        run_load(sessions=1, photos="selfie")


def test_the_load_bench_pools_visits_over_runs():
    from bench.load_test import summarize
    from tools.load import LoadResult

    first = LoadResult(3, 3, [1.0, 2.0, 12.0], [0.5], server_peak_rss_mb=900.4, retrain_state_after="running",
                       delivered_s=[0.8, 1.5, 11.0], opened_s=[3.0, 4.0, 5.0], served_s=[0.5, 1.0, float("nan")],
                       cpu_s={"opening": {"server": 1.5}, "predicting": {"server": 3.0}},
                       heavy=[{"kind": "explorer", "done": 4, "failures": [], "seconds": [2.0, 7.5]}])
    second = LoadResult(3, 2, [4.0, 5.0], [0.7, 0.9], failures=["TimeoutError: late"], server_peak_rss_mb=1200.6,
                        retrain_state_after="running", delivered_s=[3.0, 4.5], opened_s=[6.0, 7.0])
    pooled = summarize([first, second])
    assert (pooled["sessions"], pooled["succeeded"], pooled["failures"]) == (6, 5, ["TimeoutError: late"])
    assert (pooled["median_s"], pooled["p95_s"], pooled["max_s"]) == (4.0, 12.0, 12.0)
    assert pooled["within_goal"] == 4, "12 s is over the 10 s goal"
    assert pooled["server_peak_mb"] == 1201 and pooled["other_pages_median_s"] == 0.7
    assert summarize([first])["p95_s"] == 12.0 and summarize([second])["median_s"] == 4.5
    # a visit whose message the spy missed (nan) is left out of the server's share, not counted as 0
    assert pooled["served_p95_s"] == 1.0 and pooled["served_median_s"] == 0.75
    # server CPU per page open over all 6 sessions, per prediction over the 5 shown
    assert pooled["server_cpu_per_open_s"] == 0.25 and pooled["server_cpu_per_prediction_s"] == 0.6
    assert pooled["heavy"] == {"explorer": {"visitors": 1, "done": 4, "failures": [], "max_s": 7.5}}


def test_histograms_built_by_many_visitors_at_once_all_arrive():
    """PennyLane records tapes in one process-wide list: twenty histograms at once raced on it and left its lock
    held, hanging every later circuit in the server (docs/benchmarks.md: load). The page builds them one at a time."""
    import threading

    import numpy as np

    from ui.verdicts import histogram_data

    weights = np.linspace(-1, 1, 24).reshape(6, 4)
    results, errors = [], []

    def visitor(i: int) -> None:
        try:
            counts, probs = histogram_data(4, 6, tuple(np.linspace(-1, 1, 4) * (i + 1) / 20), weights.tobytes(), "default.qubit")
            results.append((sum(counts.values()), round(float(probs.sum()), 9)))
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(repr(exc))

    threads = [threading.Thread(target=visitor, args=(i,)) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == [] and not any(t.is_alive() for t in threads), errors
    assert results == [(1024, 1.0)] * 16


def test_the_network_clock_spans_a_request_to_the_verdicts_frame():
    import base64

    from tools.frame_clock import FrameClock

    def frame(t: float, data: bytes, opcode: int = 2) -> dict:
        payload = data.decode() if opcode == 1 else base64.b64encode(data).decode()
        return {"timestamp": t, "response": {"opcode": opcode, "payloadData": payload}}

    clock = FrameClock(sent=[10.0, 10.5])
    for event in (frame(11.0, b"\x08delta"), frame(12.0, b"ready", opcode=1)):
        clock.on_received(event)
    assert clock.opening_s() == 2.0 and clock.verdicts == []
    clock.sent += [20.0, 20.2]  # after the upload: its upload-URL request, then the rerun
    for event in (frame(23.0, "\x12### no_mask — 97.3%".encode()), frame(24.5, b"### mask 88.0%"), frame(25.0, b"done")):
        clock.on_received(event)
    assert clock.verdicts == [23.0, 24.5]
    assert clock.served_s(sent_before=2) == 4.5, "the upload's first request to the last verdict's frame"
    assert FrameClock().served_s(0) != FrameClock().served_s(0), "nothing recorded: nan, left out of the figures"


def test_pinning_puts_the_server_side_on_the_last_core_and_what_starts_meanwhile_on_the_others():
    import os
    import subprocess
    import sys
    import time

    from tools.load import _pinned

    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2:
        pytest.skip("one core: nothing to pin apart")
    server = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        time.sleep(0.2)
        with _pinned(True, [server.pid]):
            browser = subprocess.run([sys.executable, "-c", "import os; print(sorted(os.sched_getaffinity(0)))"],
                                     capture_output=True, text=True, check=True)
            assert os.sched_getaffinity(server.pid) == {cores[-1]}
        assert browser.stdout.strip() == str(cores[:-1]), "what starts meanwhile runs on the other cores"
        assert sorted(os.sched_getaffinity(0)) == cores, "this thread as before"
    finally:
        server.kill()
        server.wait()
