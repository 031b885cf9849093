"""Many browser sessions on the Predict page at once while a retrain runs (loopback only).

Every visitor opens Predict; when all pages have loaded, all upload at the same
moment, and each measures the time from its upload to the prediction shown.
"""

from __future__ import annotations

import asyncio
import shutil
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from tools.browser import CHROMIUM, CHROMIUM_FLAGS, IDLE_JS, ROOT, TITLES, drawn_photo, streamlit_server


@dataclass
class LoadResult:
    sessions: int
    succeeded: int
    prediction_s: list[float]
    other_page_s: list[float]
    failures: list[str] = field(default_factory=list)
    server_peak_rss_mb: float = 0.0
    worker_peak_rss_mb: float = 0.0
    retrain_state_after: str = ""

    @property
    def median_s(self) -> float:
        return statistics.median(self.prediction_s) if self.prediction_s else float("nan")

    @property
    def p95_s(self) -> float:
        values = sorted(self.prediction_s)
        return values[min(len(values) - 1, round(0.95 * (len(values) - 1)))] if values else float("nan")


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident memory (VmHWM), in MiB; 0 if it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


async def _visitor(browser, url: str, photo: Path, timeout_ms: float, ready: asyncio.Barrier | None = None) -> float:
    """Open Predict, wait (with the others) until every page has loaded, upload, read the class: seconds from upload."""
    context = await browser.new_context()
    try:
        page = await context.new_page()
        await page.goto(f"{url}/predict", wait_until="domcontentloaded")
        uploader = page.locator("[data-testid='stFileUploader'] input[type=file]").first
        await uploader.wait_for(state="attached", timeout=timeout_ms)
        await page.wait_for_function(IDLE_JS, timeout=timeout_ms)
        if ready is not None:
            await ready.wait()
        start = time.perf_counter()
        await uploader.set_input_files(str(photo))
        verdict = page.locator("[data-testid='prediction']").first
        await verdict.wait_for(timeout=timeout_ms)
        label = (await verdict.inner_text()).strip()
        if label not in ("mask", "no_mask"):
            raise ValueError(f"unexpected prediction {label!r}")
        return time.perf_counter() - start
    finally:
        await context.close()


async def _other_pages(browser, url: str, stop: asyncio.Event, timeout_ms: float) -> list[float]:
    """Meanwhile, another visitor keeps opening the comparison and concepts pages."""
    times = []
    context = await browser.new_context()
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
        await _visitor(browser, url, drawn_photo(folder, 999), timeout_ms)
        await browser.close()


async def _run(url: str, sessions: int, folder: Path, timeout_ms: float) -> tuple[list, list[float]]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        stop = asyncio.Event()
        others = asyncio.create_task(_other_pages(browser, url, stop, timeout_ms))
        ready = asyncio.Barrier(sessions)
        visits = [_visitor(browser, url, drawn_photo(folder, i), timeout_ms, ready) for i in range(sessions)]
        results = await asyncio.gather(*visits, return_exceptions=True)
        stop.set()
        other_times = await others
        await browser.close()
    return results, other_times


def run_load(sessions: int = 20, retrain: dict | None = None, timeout_s: float = 180.0) -> LoadResult:
    """Start the app on a copy of the shipped models, warm it with one visit, start a retrain, send ``sessions`` visitors at once.

    ``retrain`` is the training request (default: 30 epochs on qiskit.aer with 1,024 shots, about a minute and a half).
    """
    import os

    from core import jobs

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
                started = jobs.start_training(request, runs_dir=env["QTL_RUNS_DIR"], checkpoints_dir=env["QTL_CHECKPOINTS_DIR"])
                if not started.started:
                    raise RuntimeError(started.message)
                worker_pid = (jobs.read_status() or {}).get("pid", 0)
                results, other_times = asyncio.run(_run(url, sessions, tmp_path, timeout_s * 1000))
                worker_peak = peak_rss_mb(worker_pid)
                server_peak = peak_rss_mb(server.pid)
                state = (jobs.read_status() or {}).get("state", "")
                jobs.cancel_training()
                deadline = time.monotonic() + 60
                while jobs.is_running() and time.monotonic() < deadline:
                    time.sleep(0.2)
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
    times = [r for r in results if isinstance(r, float)]
    failures = [f"{type(r).__name__}: {str(r).splitlines()[0] if str(r) else ''}" for r in results if not isinstance(r, float)]
    return LoadResult(sessions, len(times), times, other_times, failures, server_peak, worker_peak, state)
