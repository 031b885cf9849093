"""Many browser sessions on the Predict page at once while a retrain runs (loopback only).

Every visitor opens Predict; when all pages have loaded, all upload a group photo
(three faces, a different one each) at the same moment, and each measures the
time from its upload to every face's verdict shown.
"""

from __future__ import annotations

import asyncio
import shutil
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from tools.browser import (
    CHROMIUM,
    CHROMIUM_FLAGS,
    IDLE_SELECTOR,
    ROOT,
    TITLES,
    UPLOADER,
    face_verdict,
    faces_in,
    group_photo,
    streamlit_server,
    summary,
    verdict_label,
)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def p95(values: list[float]) -> float:
    """The 95th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))] if ordered else float("nan")


@dataclass
class LoadResult:
    sessions: int
    succeeded: int
    prediction_s: list[float]  # upload → every face's verdict shown, per visitor
    other_page_s: list[float]
    failures: list[str] = field(default_factory=list)
    server_peak_rss_mb: float = 0.0
    worker_peak_rss_mb: float = 0.0
    retrain_state_after: str = ""
    delivered_s: list[float] = field(default_factory=list)  # upload → the last verdict's message reached the page
    opened_s: list[float] = field(default_factory=list)  # all open Predict at once → each page ready
    browsers: int = 1


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident memory (VmHWM), in MiB; 0 if it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


# Notes when the server's last message carrying a verdict reaches the page (before the page draws it):
# each face's Markdown delta holds "### no_mask — 97.3%" verbatim inside its protobuf bytes.
_DELIVERY_SPY = """(() => {
  window.__qtlPredictionAt = 0;
  const marker = /### (no_)?mask /;
  const Native = window.WebSocket;
  window.WebSocket = function (...args) {
    const socket = new Native(...args);
    socket.addEventListener("message", (event) => {
      if (!(event.data instanceof ArrayBuffer)) return;
      if (marker.test(new TextDecoder("latin1").decode(event.data))) window.__qtlPredictionAt = Date.now();
    });
    return socket;
  };
  window.WebSocket.prototype = Native.prototype;
  Object.assign(window.WebSocket, Native);
})()"""


# Resolves (to the page's clock, ms since the epoch) at the first frame in which ``selector`` matches. A
# MutationObserver costs the page nothing while it waits; Playwright's own waits poll (wait_for_function on every
# animation frame), which with 20 pages on two cores takes CPU from the server being measured.
_APPEARS_JS = """(selector) => new Promise((resolve) => {
  const seen = () => { observer.disconnect(); requestAnimationFrame(() => resolve(Date.now())); };
  const observer = new MutationObserver(() => { if (document.querySelector(selector)) seen(); });
  if (document.querySelector(selector)) return seen();
  observer.observe(document.documentElement, { childList: true, subtree: true, attributes: true, characterData: true });
})"""


async def appears(page, selector: str, timeout_s: float) -> float:
    """Wait, without polling, until ``selector`` matches in ``page``; the epoch second of the frame it was first in."""
    return await asyncio.wait_for(page.evaluate(_APPEARS_JS, selector), timeout_s) / 1000


@dataclass
class Visit:
    drawn_s: float  # upload → every face's verdict shown in the page
    delivered_s: float  # upload → the server's message with the last verdict reached the page
    opened_s: float  # the Predict page opened (all visitors at once) → ready for an upload


async def _visitor(browser, url: str, photo: Path, timeout_ms: float, ready: asyncio.Barrier | None = None) -> Visit:
    """Open Predict, wait (with the others) until every page has loaded, upload, read every face's class."""
    context = await browser.new_context()
    context.set_default_timeout(timeout_ms)
    await context.add_init_script(_DELIVERY_SPY)
    try:
        page = await context.new_page()
        opening = time.perf_counter()
        await page.goto(f"{url}/predict", wait_until="domcontentloaded")
        await appears(page, UPLOADER, timeout_ms / 1000)
        await appears(page, IDLE_SELECTOR, timeout_ms / 1000)
        opened = time.perf_counter() - opening
        if ready is not None:
            await ready.wait()
        start_epoch = time.time()
        await page.locator(UPLOADER).first.set_input_files(str(photo))
        await appears(page, summary(0), timeout_ms / 1000)
        faces = faces_in(await page.locator(summary(0)).inner_text())
        if not faces:
            raise ValueError(f"no face found in {photo.name}")
        drawn = await appears(page, face_verdict(0, faces), timeout_ms / 1000) - start_epoch
        labels = [verdict_label(await page.locator(face_verdict(0, n)).inner_text()) for n in range(1, faces + 1)]
        if not set(labels) <= {"mask", "no_mask"}:
            raise ValueError(f"unexpected predictions {labels}")
        delivered_at = await page.evaluate("window.__qtlPredictionAt") / 1000
        return Visit(drawn, delivered_at - start_epoch if delivered_at else float("nan"), opened)
    finally:
        await context.close()


async def _other_pages(browser, url: str, stop: asyncio.Event, timeout_ms: float) -> list[float]:
    """Meanwhile, another visitor keeps opening the comparison and concepts pages."""
    times = []
    context = await browser.new_context()
    context.set_default_timeout(timeout_ms)
    page = await context.new_page()
    for name in ("comparison", "concepts") * 50:
        if stop.is_set():
            break
        start = time.perf_counter()
        await page.goto(f"{url}/{'' if name == 'concepts' else name}", wait_until="domcontentloaded")
        await page.get_by_role("heading", level=1).filter(has_text=TITLES[name]).first.wait_for(timeout=timeout_ms)
        times.append(time.perf_counter() - start)
    await context.close()
    return times


async def _warm_up(url: str, folder: Path, timeout_ms: float) -> None:
    """One visitor first: the server has loaded the model, as it has once anyone used it."""
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        await _visitor(browser, url, group_photo(folder, 999, _data_dir())[0], timeout_ms)
        await browser.close()


async def _run(url: str, sessions: int, folder: Path, timeout_ms: float, browsers: int) -> tuple[list, list[float]]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        launched = [await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
                    for _ in range(browsers)]
        stop = asyncio.Event()
        others = asyncio.create_task(_other_pages(launched[0], url, stop, timeout_ms))
        ready = asyncio.Barrier(sessions)
        photos = [group_photo(folder, i, _data_dir())[0] for i in range(sessions)]
        visits = [_visitor(launched[i % browsers], url, photos[i], timeout_ms, ready) for i in range(sessions)]
        results = await asyncio.gather(*visits, return_exceptions=True)
        stop.set()
        other_times = await others
        for browser in launched:
            await browser.close()
    return results, other_times


def _data_dir() -> Path:
    from core.paths import data_dir

    return data_dir()


def run_load(sessions: int = 20, retrain: dict | None = None, timeout_s: float = 180.0, browsers: int = 1) -> LoadResult:
    """Start the app on a copy of the shipped models, warm it with one visit, start a retrain, send ``sessions`` visitors at once.

    ``retrain`` is the training request (default: 30 epochs on qiskit.aer with 1,024 shots, about a minute and a half).
    ``browsers`` chromium processes share the visitors (each visitor has its own context, i.e. its own session).
    """
    if not 1 <= browsers <= sessions:
        raise ValueError(f"browsers must be between 1 and sessions ({sessions}), got {browsers}")
    import os

    from core.server import training_worker

    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        shutil.copytree(ROOT / "checkpoints", tmp_path / "checkpoints")
        env = {"QTL_CHECKPOINTS_DIR": str(tmp_path / "checkpoints"), "QTL_RUNS_DIR": str(tmp_path / "runs"),
               "QTL_JOBS_DIR": str(tmp_path / "jobs")}
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        try:
            with streamlit_server(env) as (url, server):
                asyncio.run(_warm_up(url, tmp_path, timeout_s * 1000))
                request = retrain or {"backend": "qiskit.aer", "shots": 1024, "epochs": 30, "seed": 7}
                started = training_worker.start_training(request, runs_dir=env["QTL_RUNS_DIR"],
                                                         checkpoints_dir=env["QTL_CHECKPOINTS_DIR"])
                if not started.started:
                    raise RuntimeError(started.message)
                worker_pid = (training_worker.read_status() or {}).get("pid", 0)
                results, other_times = asyncio.run(_run(url, sessions, tmp_path, timeout_s * 1000, browsers))
                worker_peak = peak_rss_mb(worker_pid)
                server_peak = peak_rss_mb(server.pid)
                state = (training_worker.read_status() or {}).get("state", "")
                training_worker.cancel_training()
                deadline = time.monotonic() + 60
                while training_worker.is_running() and time.monotonic() < deadline:
                    time.sleep(0.2)
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
    visits = [r for r in results if isinstance(r, Visit)]
    failures = [f"{type(r).__name__}: {str(r).splitlines()[0] if str(r) else ''}" for r in results if not isinstance(r, Visit)]
    return LoadResult(sessions, len(visits), [v.drawn_s for v in visits], other_times, failures, server_peak, worker_peak, state,
                      [v.delivered_s for v in visits], [v.opened_s for v in visits], browsers)
