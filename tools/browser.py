"""Start the dashboard on a loopback port and drive it with Debian's chromium through Playwright."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("QTL_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PAGES = {"concepts": "Concepts", "explorer": "Circuit explorer", "comparison": "Backend comparison", "predict": "Predict",
         "inside": "Inside the circuit", "challenges": "Challenges"}
DEFAULT_PAGE = "concepts"  # "/" redirects to /concepts
TITLES = {"concepts": "Hybrid classical-quantum", "explorer": "Circuit explorer", "comparison": "Backend comparison",
          "predict": "Predict:", "inside": "Inside the circuit", "challenges": "Challenges"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def streamlit_server(env: dict[str, str] | None = None, timeout_s: float = 120.0, own_session: bool = False,
                     app: str = "app.py", cwd: Path = ROOT) -> Iterator[tuple[str, subprocess.Popen]]:
    """``streamlit run app.py`` (or ``app``, in ``cwd``) on 127.0.0.1; yields (base URL, process) once it answers.

    ``own_session``: start it in a session of its own, as a deployed server runs (a service, a terminal); Linux's
    autogroup scheduling shares the CPU between sessions first.
    """
    port = free_port()
    command = [sys.executable, "-m", "streamlit", "run", app, "--server.address", "127.0.0.1", "--server.port", str(port),
               "--server.headless", "true", "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"]
    artifacts = ROOT / "tests" / "artifacts"
    log = open(artifacts / f"streamlit-{port}.log", "wb") if artifacts.is_dir() else subprocess.DEVNULL
    server = subprocess.Popen(command, cwd=cwd, env={**os.environ, **(env or {})}, stdout=log, stderr=subprocess.STDOUT,
                              start_new_session=own_session)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_answers(server, "streamlit", f"{url}/_stcore/health", timeout_s, expected=b"ok")
        yield url, server
    finally:
        _stop(server, 15)
        if log is not subprocess.DEVNULL:
            log.close()


def _wait_until_answers(process: subprocess.Popen, name: str, probe: str, timeout_s: float,
                        expected: bytes | None = None) -> None:
    """Until ``probe`` answers 200 (with the body ``expected``, if given); an error if ``process`` exits first."""
    deadline = time.monotonic() + timeout_s
    while True:
        if process.poll() is not None:
            said = process.stderr.read().decode()[-500:] if process.stderr else ""
            raise RuntimeError(f"{name} exited with {process.returncode} before it was ready {said}".strip())
        try:
            with urllib.request.urlopen(probe, timeout=2) as answer:
                if answer.status == 200 and (expected is None or answer.read().strip() == expected):
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{name} did not answer on {probe} within {timeout_s:.0f} s")
        time.sleep(0.2)


def _stop(process: subprocess.Popen, timeout_s: float) -> None:
    process.terminate()
    try:
        process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()


NGINX = os.environ.get("QTL_NGINX", "/usr/sbin/nginx")


@contextmanager
def nginx_in_front(upstream_url: str, timeout_s: float = 30.0,
                   health_path: str = "/_stcore/health") -> Iterator[tuple[str, subprocess.Popen]]:
    """nginx on a loopback port with ``python -m core nginx-config``'s configuration, in front of ``upstream_url``;
    yields (its base URL, its master process) once ``health_path`` answers through it."""
    import tempfile

    from core.server.proxy import configured_upload_mb, nginx_config

    if not Path(NGINX).is_file():
        raise FileNotFoundError(f"{NGINX} is missing: apt-get install nginx-light")
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="qtl-nginx-") as runtime:
        Path(runtime).chmod(0o755)  # started as root, nginx's workers run as nobody and keep upload bodies here
        conf = Path(runtime) / "nginx.conf"
        conf.write_text(nginx_config(f"127.0.0.1:{port}", upstream_url.removeprefix("http://"), runtime,
                                     max_upload_mb=configured_upload_mb(), foreground=True))
        proxy = subprocess.Popen([NGINX, "-c", str(conf), "-p", runtime, "-e", f"{runtime}/error.log"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_until_answers(proxy, "nginx", f"{url}{health_path}", timeout_s)
            yield url, proxy
        finally:
            _stop(proxy, 10)


def launch_chromium(playwright):
    """Debian's chromium, never a browser downloaded by Playwright."""
    if not Path(CHROMIUM).is_file():
        raise FileNotFoundError(f"{CHROMIUM} is missing: apt-get install chromium")
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)


IDLE_SELECTOR = '[data-testid="stApp"][data-test-script-state="notRunning"]'  # Streamlit has finished the script run
IDLE_JS = f"() => document.querySelector('{IDLE_SELECTOR}') !== null"
UPLOADER = "[data-testid='stFileUploader'] input[type=file]"


def wait_until_idle(page, timeout_ms: float = 60_000) -> None:
    """Until Streamlit has finished the current script run (the app root's script state)."""
    page.wait_for_timeout(150)
    page.wait_for_function(IDLE_JS, timeout=timeout_ms)


def open_page(page, url: str, name: str, timeout_ms: float = 60_000) -> float:
    """Load page ``name`` and wait for its title and a finished run; seconds taken."""
    return open_page_timed(page, url, name, timeout_ms)[1]


def open_page_timed(page, url: str, name: str, timeout_ms: float = 60_000) -> tuple[float, float]:
    """Load page ``name``: (seconds until its title is shown, seconds until its script run has finished)."""
    start = time.perf_counter()
    page.goto(f"{url}/{'' if name == DEFAULT_PAGE else name}", wait_until="domcontentloaded")
    page.get_by_role("heading", level=1).filter(has_text=TITLES[name]).first.wait_for(timeout=timeout_ms)
    shown = time.perf_counter() - start
    wait_until_idle(page, timeout_ms)
    return shown, time.perf_counter() - start


def switch_page(page, name: str, timeout_ms: float = 60_000) -> float:
    """Click page ``name`` in the sidebar navigation; seconds until its title shows and the run is done."""
    start = time.perf_counter()
    page.locator("[data-testid='stSidebarNav'] a").filter(has_text=PAGES[name]).first.click()
    page.get_by_role("heading", level=1).filter(has_text=TITLES[name]).first.wait_for(timeout=timeout_ms)
    wait_until_idle(page, timeout_ms)
    return time.perf_counter() - start


# The Predict page puts each verdict ("### no_mask — 97.3%") in a container keyed prediction-<upload>-<face>
# (face 1, 2, … left to right; "whole" for a photo classified whole), and each photo's summary in summary-<upload>.
PREDICTION = "[class*='st-key-prediction-'] h3"


# The Inside page: its verdict line, the step slider, the Bloch spheres' image and the decision atlas.
INSIDE_VERDICT = ".st-key-inside-verdict h3"
STEP_SLIDER = ".st-key-inside-step"
BLOCH_SPHERES = ".st-key-inside-bloch img"
ATLAS = ".st-key-inside-atlas"


def face_verdict(upload: int, face: int | str) -> str:
    """The selector of one face's verdict (``face`` from 1, or "whole")."""
    return f".st-key-prediction-{upload}-{face} h3"


def summary(upload: int) -> str:
    return f".st-key-summary-{upload}"


def faces_in(summary_text: str) -> int:
    """How many faces a summary line reports: "group.png — 3 faces: 2 mask, 1 no mask" → 3; "no face found" → 0."""
    words = summary_text.split("—")[-1].split()
    return int(words[0]) if words and words[0].isdigit() else 0


def verdict_label(text: str) -> str:
    """The class out of a shown verdict such as "no_mask — 97.3%"."""
    return text.split("—")[0].strip()


def upload_and_read_prediction(page, image: Path, timeout_ms: float = 60_000) -> tuple[str, float]:
    """Upload ``image`` on the Predict page; (predicted class, seconds until it is shown)."""
    before = page.locator(PREDICTION).count()
    start = time.perf_counter()
    page.locator(UPLOADER).first.set_input_files(str(image))
    verdict = page.locator(PREDICTION).nth(before)
    verdict.wait_for(timeout=timeout_ms)
    elapsed = time.perf_counter() - start
    return verdict_label(verdict.inner_text()), elapsed


def upload_and_read_faces(page, image: Path, upload: int, timeout_ms: float = 60_000) -> tuple[list[str], float]:
    """Upload ``image`` (the page's ``upload``-th, from 0) on Predict; (each face's class, seconds until all are shown)."""
    start = time.perf_counter()
    page.locator(UPLOADER).first.set_input_files(str(image))
    page.locator(summary(upload)).wait_for(timeout=timeout_ms)
    faces = faces_in(page.locator(summary(upload)).inner_text())
    if faces:
        page.locator(face_verdict(upload, faces)).wait_for(timeout=timeout_ms)
    elapsed = time.perf_counter() - start
    return [verdict_label(page.locator(face_verdict(upload, n)).inner_text()) for n in range(1, faces + 1)], elapsed


def settle(page, timeout_ms: float = 20_000) -> None:
    """Until lazily drawn elements (tables, charts) have replaced their grey placeholders."""
    page.wait_for_function(
        """() => !document.querySelector('[data-testid="stSkeleton"]')
              && [...document.querySelectorAll('[data-testid="stPlotlyChart"]')]
                   .every(c => c.getBoundingClientRect().top > innerHeight || c.querySelector('svg.main-svg'))
              && [...document.querySelectorAll('[data-testid="stDataFrame"]')]
                   .every(d => !d.checkVisibility() || d.getBoundingClientRect().top > innerHeight
                               || d.querySelector('canvas'))""",
        timeout=timeout_ms,
    )
    page.wait_for_timeout(1000)


def group_photo(folder: Path, index: int, data_dir: Path, faces: int = 3) -> tuple[Path, list[str]]:
    """A 1280×720 JPEG of ``faces`` test-split close-ups on a background, different per ``index``.

    Returns the file and the faces' classes from left to right, as the page numbers them.
    """
    import random

    from core.data.dataset import CLASSES, list_split
    from tools.scenes import SKIMAGE_BACKGROUNDS, make_scene

    samples = list_split(data_dir, "test")
    pool = {label: [s.path for s in samples if s.label == label] for label in range(len(CLASSES))}
    rng = random.Random(index)
    scene = make_scene(rng, pool, faces, (1280, 720), SKIMAGE_BACKGROUNDS[index % 3], heights=(140, 260))
    path = folder / f"group-{index}.jpg"
    scene.image.save(path, quality=90)
    return path, [CLASSES[f.label] for f in sorted(scene.faces, key=lambda f: f.box.x0)]
