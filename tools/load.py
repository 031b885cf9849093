"""Many browser sessions on the Predict page at once while a retrain runs (loopback only).

Every visitor opens Predict; when all pages have loaded, all upload a group photo
(three faces, a different one each) at the same moment, and each measures the
time from its upload to every face's verdict shown.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import statistics
import tempfile
import threading
import time
from collections.abc import AsyncIterator
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
    nginx_in_front,
    streamlit_server,
    summary,
    verdict_label,
)
from tools.frame_clock import VERDICT_PATTERN, FrameClock


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
    # the server's share, by each page's clock: its first request (the rerun when it connects; the upload-URL request
    # after the upload) → the last message before it was ready / the message with the last verdict
    opened_served_s: list[float] = field(default_factory=list)
    served_s: list[float] = field(default_factory=list)
    rerun_s: list[float] = field(default_factory=list)  # the rerun request carrying the upload → the last verdict's message
    cpu_s: dict[str, dict[str, float]] = field(default_factory=dict)  # phase → group (server, worker, browsers, …) → CPU s
    uptime: str = ""
    heavy: list[dict] = field(default_factory=list)  # the worst-case visitors: {kind, done, failures, seconds}
    # the server's share by the browser's network clock (tools/frame_clock.py): as above, without the page's own delay
    opened_network_s: list[float] = field(default_factory=list)
    served_network_s: list[float] = field(default_factory=list)


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
# each face's Markdown delta holds "### no_mask — 97.3%" verbatim inside its protobuf bytes (VERDICT_PATTERN, as the
# network clock reads it). Also when the page sends each of its requests (rerun, upload URLs) and when the last
# message of any kind arrived.
_DELIVERY_SPY = """(() => {
  window.__qtlPredictionAt = 0;
  window.__qtlSends = [];
  window.__qtlLastMessageAt = 0;
  const marker = /VERDICT_PATTERN/;
  const Native = window.WebSocket;
  window.WebSocket = function (...args) {
    const socket = new Native(...args);
    const send = socket.send.bind(socket);
    socket.send = (data) => { window.__qtlSends.push(Date.now()); return send(data); };
    socket.addEventListener("message", (event) => {
      window.__qtlLastMessageAt = Date.now();
      if (!(event.data instanceof ArrayBuffer)) return;
      if (marker.test(new TextDecoder("latin1").decode(event.data))) window.__qtlPredictionAt = Date.now();
    });
    return socket;
  };
  window.WebSocket.prototype = Native.prototype;
  Object.assign(window.WebSocket, Native);
})()""".replace("VERDICT_PATTERN", VERDICT_PATTERN)


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
    opened_served_s: float = float("nan")  # the page's first request → the last message before it was ready
    served_s: float = float("nan")  # the page's first request after the upload → the last verdict's message
    rerun_s: float = float("nan")  # the page's last request before that message (the rerun) → the message
    done_at: float = 0.0  # epoch second the last verdict was shown
    opened_network_s: float = float("nan")  # opened_served_s and served_s by the browser's network clock
    served_network_s: float = float("nan")


_OPENED_JS = "() => [window.__qtlSends[0] || 0, window.__qtlLastMessageAt]"
_SERVED_JS = """(since) => {
  const sends = window.__qtlSends.filter((t) => t >= since);
  const at = window.__qtlPredictionAt;
  const before = sends.filter((t) => t <= at);
  return [sends[0] || 0, before.length ? before[before.length - 1] : 0, at];
}"""


def _span(start_ms: float, end_ms: float) -> float:
    return (end_ms - start_ms) / 1000 if start_ms and end_ms else float("nan")


async def _open_predict(page, url: str, timeout_ms: float) -> tuple[float, float]:
    """Open Predict and wait until it is ready for an upload: (seconds taken, the server's share by the page's clock)."""
    opening = time.perf_counter()
    await page.goto(f"{url}/predict", wait_until="domcontentloaded")
    await appears(page, UPLOADER, timeout_ms / 1000)
    await appears(page, IDLE_SELECTOR, timeout_ms / 1000)
    opened = time.perf_counter() - opening
    first_request, last_message = await page.evaluate(_OPENED_JS)
    return opened, _span(first_request, last_message)


@contextlib.asynccontextmanager
async def _own_page(browser, timeout_ms: float, init_script: str | None = None) -> AsyncIterator:
    """A page in a browser context of its own (its own Streamlit session), closed after the with-block."""
    context = await browser.new_context()
    context.set_default_timeout(timeout_ms)
    if init_script:
        await context.add_init_script(init_script)
    try:
        yield await context.new_page()
    finally:
        await context.close()


async def _visitor(browser, url: str, photo: Path, timeout_ms: float, ready: asyncio.Barrier | None = None,
                   on_ready=None) -> Visit:
    """Open Predict, wait (with the others) until every page has loaded, upload, read every face's class.

    ``on_ready`` is called once, by the first visitor through the barrier, when all pages are ready.
    """
    async with _own_page(browser, timeout_ms, _DELIVERY_SPY) as page:
        frames = await FrameClock.attach(page)
        opened, opened_served = await _open_predict(page, url, timeout_ms)
        if ready is not None and await ready.wait() == 0 and on_ready is not None:
            on_ready()
        opened_network, sent_before = frames.opening_s(), len(frames.sent)  # the page is idle until the upload
        start_epoch = time.time()
        await page.locator(UPLOADER).first.set_input_files(str(photo))
        await appears(page, summary(0), timeout_ms / 1000)
        faces = faces_in(await page.locator(summary(0)).inner_text())
        if faces:
            done_at = await appears(page, face_verdict(0, faces), timeout_ms / 1000)
            shown = [face_verdict(0, n) for n in range(1, faces + 1)]
        else:  # a close-up the detector finds no face in: as a visitor would, classify it whole
            await page.get_by_text("Classify the whole image anyway").click()
            done_at = await appears(page, face_verdict(0, "whole"), timeout_ms / 1000)
            shown = [face_verdict(0, "whole")]
        labels = [verdict_label(await page.locator(selector).inner_text()) for selector in shown]
        if not set(labels) <= {"mask", "no_mask"}:
            raise ValueError(f"unexpected predictions {labels}")
        first_request, rerun, delivered_at = await page.evaluate(_SERVED_JS, start_epoch * 1000)
        return Visit(done_at - start_epoch, delivered_at / 1000 - start_epoch if delivered_at else float("nan"), opened,
                     opened_served, _span(first_request, delivered_at), _span(rerun, delivered_at), done_at,
                     opened_network, frames.served_s(sent_before))


async def _other_pages(browser, url: str, stop: asyncio.Event, timeout_ms: float) -> list[float]:
    """Meanwhile, another visitor keeps opening the comparison and concepts pages."""
    times = []
    async with _own_page(browser, timeout_ms) as page:
        for name in ("comparison", "concepts") * 50:
            if stop.is_set():
                break
            start = time.perf_counter()
            await page.goto(f"{url}/{'' if name == 'concepts' else name}", wait_until="domcontentloaded")
            await page.get_by_role("heading", level=1).filter(has_text=TITLES[name]).first.wait_for(timeout=timeout_ms)
            times.append(time.perf_counter() - start)
    return times


PHOTOS = ("group", "closeup")


def visitor_photo(kind: str, folder: Path, index: int) -> Path:
    """Visitor ``index``'s upload: a generated 1280×720 group photo of three test-split faces, or one test-split close-up."""
    if kind == "group":
        return group_photo(folder, index, _data_dir())[0]
    if kind != "closeup":
        raise ValueError(f"photos must be one of {PHOTOS}, got {kind!r}")
    from core.data.dataset import list_split

    samples = sorted(list_split(_data_dir(), "test"), key=lambda s: str(s.path))
    source = samples[(index * 7) % len(samples)].path  # both classes, a different face per visitor
    path = folder / f"closeup-{index}{source.suffix}"
    shutil.copyfile(source, path)
    return path


async def _warm_up(url: str, photo: Path, timeout_ms: float) -> None:
    """One visitor first: the server has loaded the model, as it has once anyone used it."""
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        await _visitor(browser, url, photo, timeout_ms)
        await browser.close()


class CpuSampler:
    """Samples a :class:`CpuLedger` (and the machine's busy/idle seconds) every ``interval_s`` in a thread."""

    def __init__(self, roots: dict[str, int], interval_s: float = 0.5):
        from core.server.process_cpu import CpuLedger, machine_busy_s

        self._busy = machine_busy_s
        self.ledger, self.interval_s = CpuLedger(roots), interval_s
        self.samples: list[tuple[float, dict[str, float]]] = []
        self._stop = threading.Event()
        self._busy0 = machine_busy_s()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _take(self) -> None:
        busy, idle = self._busy()
        self.samples.append((time.time(), {**self.ledger.sample(), "machine busy": busy - self._busy0[0],
                                           "machine idle": idle - self._busy0[1]}))

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            self._take()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        self._take()

    def at(self, epoch: float) -> dict[str, float]:
        """The totals of the first sample taken at or after ``epoch`` (else the last one)."""
        return next((totals for t, totals in self.samples if t >= epoch), self.samples[-1][1])

    def between(self, start: float, end: float) -> dict[str, float]:
        """CPU seconds per group from ``start`` to ``end`` (epoch seconds), to the sampling interval."""
        first, last = self.at(start), self.at(end)
        return {name: round(last[name] - first.get(name, 0.0), 2) for name in last} | {"wall": round(end - start, 2)}


async def _run(url: str, photos: list[Path], timeout_ms: float, browsers: int,
               extra: list | None = None) -> tuple[list, list[float], float]:
    """The visitors at once; ``extra`` coroutine functions (browser, url, stop event) run beside them until they finish.

    Returns the visits (or their exceptions, plus those of ``extra``), the other pages' load times and the epoch
    second when every visitor's page was ready.
    """
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        launched = [await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
                    for _ in range(browsers)]
        stop = asyncio.Event()
        others = asyncio.create_task(_other_pages(launched[0], url, stop, timeout_ms))
        side = [asyncio.create_task(job(launched[i % browsers], url, stop)) for i, job in enumerate(extra or [])]
        sessions = len(photos)
        ready, ready_at = asyncio.Barrier(sessions), []
        visits = [_visitor(launched[i % browsers], url, photos[i], timeout_ms, ready, lambda: ready_at.append(time.time()))
                  for i in range(sessions)]
        results = await asyncio.gather(*visits, return_exceptions=True)
        stop.set()
        other_times = await others
        side_results = await asyncio.gather(*side, return_exceptions=True)
        for browser in launched:
            await browser.close()
    side_results = [{"kind": "?", "done": 0, "failures": [_failure(r)]} if isinstance(r, BaseException) else r
                    for r in side_results]
    return results, other_times, (ready_at or [0.0])[0], side_results


def _failure(error: BaseException) -> str:
    return f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"


# The heaviest settings each page allows (core.server.bounds.PAGE_BOUNDS): the worst-case visitors repeat them.
EXPLORER_WORST = ("qubits=8&depth=10&sim=qiskit.aer&measure=shots&shots=100000&noise=off&weights=random&seed={seed}",
                  "qubits=5&depth=10&sim=qiskit.aer&measure=shots&shots=100000&noise=on&weights=random&seed={seed}")
WORST_KINDS = ("explorer", "inside", "test-set")


async def heavy_visitor(kind: str, browser, url: str, stop: asyncio.Event, timeout_ms: float = 180_000) -> dict:
    """Repeat ``kind``'s heaviest click until ``stop``: the explorer at its maxima (and with noise), Inside the circuit's
    shot spread at its maxima with noise, Predict's test-set button. Returns {kind, done, failures, seconds}."""
    if kind not in WORST_KINDS:
        raise ValueError(f"unknown heavy visitor {kind!r}; known: {', '.join(WORST_KINDS)}")
    done, failures, seconds = 0, [], []
    async with _own_page(browser, timeout_ms) as page:
        while not stop.is_set():
            start = time.perf_counter()
            try:
                await _HEAVY[kind](page, url, done, timeout_ms / 1000)
                done += 1
                seconds.append(round(time.perf_counter() - start, 2))
            except Exception as exc:  # noqa: BLE001 - reported: a heavy visitor's failure is a finding, not a crash
                failures.append(_failure(exc))
                with contextlib.suppress(Exception):
                    await page.screenshot(path=str(ROOT / "bench" / "out" / f"heavy-{kind}-{len(failures)}.png"), full_page=True)
                if len(failures) > 3:
                    break
    return {"kind": kind, "done": done, "failures": failures, "seconds": seconds}


async def _explorer_worst(page, url: str, n: int, timeout_s: float) -> None:
    await page.goto(f"{url}/explorer?{EXPLORER_WORST[n % 2].format(seed=n + 1)}", wait_until="domcontentloaded")
    await appears(page, "h1", timeout_s)
    await appears(page, IDLE_SELECTOR, timeout_s)
    await page.get_by_text("Ran in").first.wait_for()


async def _inside_worst(page, url: str, n: int, timeout_s: float) -> None:
    if n == 0 or "/inside" not in page.url:
        await page.goto(f"{url}/inside", wait_until="domcontentloaded")
        await appears(page, IDLE_SELECTOR, timeout_s)
    form = page.locator("[data-testid='stForm']").filter(has_text="Reruns R")
    if not await form.is_visible():  # the form sits in a popover ("Rerun this photo's circuit with shots")
        await page.locator("[data-testid='stPopover'] button").filter(has_text="Rerun this photo's circuit with shots").click()
    if n == 0:
        await form.get_by_label("Reruns R").fill("100")
        await form.get_by_label("Shots per run S").fill("8192")
        await form.locator("[data-testid='stSelectbox']").filter(has_text="Simulator").click()
        await page.get_by_role("option", name="qiskit.aer").click()
        await form.get_by_text("noise").first.click()
    await form.locator("button").filter(has_text="Rerun this photo").click()
    await page.wait_for_timeout(300)
    await appears(page, IDLE_SELECTOR, timeout_s)
    await page.get_by_text("Runs whose label flipped").first.wait_for()


async def _test_set_worst(page, url: str, n: int, timeout_s: float) -> None:
    if n == 0 or "/predict" not in page.url:
        await page.goto(f"{url}/predict", wait_until="domcontentloaded")
        await appears(page, IDLE_SELECTOR, timeout_s)
    await page.get_by_role("button", name="Run the test set").click()
    await page.wait_for_timeout(300)
    await appears(page, IDLE_SELECTOR, timeout_s)
    await page.get_by_text("top-1 error").first.wait_for()


_HEAVY = {"explorer": _explorer_worst, "inside": _inside_worst, "test-set": _test_set_worst}


def worst_case_visitors(count: int = 10) -> list:
    """``count`` heavy visitors, the kinds in turn, for :func:`run_load`'s ``extra``."""
    return [lambda browser, url, stop, kind=WORST_KINDS[i % len(WORST_KINDS)]: heavy_visitor(kind, browser, url, stop)
            for i in range(count)]


def _data_dir() -> Path:
    from core.paths import data_dir

    return data_dir()


def _worker_pid(training_worker, timeout_s: float = 10.0) -> int:
    deadline = time.monotonic() + timeout_s
    while not (pid := (training_worker.read_status() or {}).get("pid", 0)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return pid


def run_load(sessions: int = 20, retrain: dict | None = None, timeout_s: float = 180.0, browsers: int = 1,
             extra: list | None = None, own_session: bool = False, photos: str = "group",
             proxy: bool = False, pin: bool = False) -> LoadResult:
    """Start the app on a copy of the shipped models, warm it with one visit, start a retrain, send ``sessions`` visitors at once.

    ``retrain`` is the training request (default: 30 epochs on qiskit.aer with 1,024 shots, about a minute and a half).
    ``browsers`` chromium processes share the visitors (each visitor has its own context, i.e. its own session).
    ``extra``: more visitors, coroutine functions (browser, url, stop event) that run beside them (the worst case).
    ``own_session``: the server runs in a session (an autogroup) of its own, as a deployed one does. Chromium starts
    a session of its own anyway, so Linux's autogroup scheduling already shares the CPU between it and the server.
    CPU seconds are charged per phase (``opening``: all open Predict; ``predicting``: the uploads until the last
    verdict is shown) to the server, the training worker, the browsers (with this harness) and the rest of the machine.
    ``photos``: each visitor uploads a group photo (``"group"``, three faces) or a close-up of one face (``"closeup"``).
    ``proxy``: the visitors come through nginx with ``python -m core nginx-config``'s configuration (it sends the
    frontend files; its CPU is the group "proxy"), as docs/deployment.md deploys the server.
    ``pin``: the server's side (the server, its nginx, the training worker) on the last core, the visitors' browsers
    (with this harness) on the others, as if the browsers were on the visitors' own devices: the server's share is
    then what the server does with a core of its own, not what twenty pages drawing on its cores leave it.
    (Chromium, run as root, sets its own processes' priorities, so niceness cannot do this.)
    """
    if photos not in PHOTOS:
        raise ValueError(f"photos must be one of {PHOTOS}, got {photos!r}")
    if not 1 <= browsers <= sessions:
        raise ValueError(f"browsers must be between 1 and sessions ({sessions}), got {browsers}")
    from core.server import training_worker

    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        shutil.copytree(ROOT / "checkpoints", tmp_path / "checkpoints")
        env = {"QTL_CHECKPOINTS_DIR": str(tmp_path / "checkpoints"), "QTL_RUNS_DIR": str(tmp_path / "runs"),
               "QTL_JOBS_DIR": str(tmp_path / "jobs")}
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        try:
            with (streamlit_server(env, own_session=own_session) as (url, server),
                  nginx_in_front(url) if proxy else contextlib.nullcontext((url, None)) as (url, front)):
                asyncio.run(_warm_up(url, visitor_photo(photos, tmp_path, 999), timeout_s * 1000))
                request = retrain or {"backend": "qiskit.aer", "shots": 1024, "epochs": 30, "seed": 7}
                started = training_worker.start_training(request, runs_dir=env["QTL_RUNS_DIR"],
                                                         checkpoints_dir=env["QTL_CHECKPOINTS_DIR"])
                if not started.started:
                    raise RuntimeError(started.message)
                worker_pid = _worker_pid(training_worker)
                # first match wins: nginx, a child of this harness, before the browsers' group (the harness's tree)
                roots = {"server": server.pid, "worker": worker_pid} | ({"proxy": front.pid} if front else {})
                sampler = CpuSampler(roots | {"browsers": os.getpid()})
                began = time.time()
                try:
                    with _pinned(pin, [server.pid, worker_pid, *([front.pid] if front else [])]):
                        results, other_times, ready_at, heavy = asyncio.run(
                            _run(url, [visitor_photo(photos, tmp_path, i) for i in range(sessions)], timeout_s * 1000,
                                 browsers, extra))
                finally:
                    ended = time.time()
                    sampler.stop()
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
    failures = [_failure(r) for r in results if not isinstance(r, Visit)]
    done = max((v.done_at for v in visits), default=ended)
    ready_at = ready_at or done
    cpu = {"opening": sampler.between(began, ready_at), "predicting": sampler.between(ready_at, done),
           "whole run": sampler.between(began, ended)}
    return LoadResult(sessions, len(visits), [v.drawn_s for v in visits], other_times, failures, server_peak, worker_peak, state,
                      [v.delivered_s for v in visits], [v.opened_s for v in visits], browsers,
                      [v.opened_served_s for v in visits], [v.served_s for v in visits], [v.rerun_s for v in visits],
                      cpu, _uptime(), heavy, [v.opened_network_s for v in visits], [v.served_network_s for v in visits])


@contextlib.contextmanager
def _pinned(pin: bool, server_side: list[int]):
    """With ``pin``: the processes ``server_side`` (every thread, and their children) on the last core, this thread
    and the processes it starts meanwhile (the browsers) on the others; then this thread as before."""
    before = os.sched_getaffinity(0)
    if pin:
        cores = sorted(before)
        if len(cores) < 2:
            raise ValueError("pinning needs two cores or more: one for the server's side, the rest for the browsers")
        for pid in server_side:
            _pin_process(pid, set(cores[-1:]))
        os.sched_setaffinity(0, set(cores[:-1]))  # Linux: the calling thread, inherited by what it starts
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


def _pin_process(pid: int, cores: set[int]) -> None:
    """Every thread of ``pid`` and of its children onto ``cores`` (threads started later inherit it)."""
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(ProcessLookupError, FileNotFoundError):
            os.sched_setaffinity(int(task.name), cores)
            children = (task / "children").read_text().split()
            for child in children:
                _pin_process(int(child), cores)


def _uptime() -> str:
    try:
        return Path("/proc/loadavg").read_text().strip()
    except OSError:
        return ""
