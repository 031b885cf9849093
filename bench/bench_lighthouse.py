"""Lighthouse on every page of the dashboard: accessibility score and mobile total blocking time, against the goals.

    python bench/bench_lighthouse.py [--runs 3] [--pages explorer,comparison] [--no-floor] [--lighthouse PATH]

Starts ``streamlit run app.py`` on a loopback port with a copy of the shipped models and run records, opens each
page once in chromium (so that the server has imported what the page needs), then runs Lighthouse (npm
``lighthouse``; its default mobile profile: simulated slow 4G and a 4× slower CPU) with Debian's chromium,
``--runs`` times per page. Also measures a near-empty Streamlit page with the same theme: the floor that
Streamlit's own bundle sets. Prints a table beside the goals and writes bench/out/lighthouse.json.

Lighthouse is not a Python package: ``npm install --prefix /work/tools/lighthouse lighthouse`` (outside the repository).
It never downloads a browser here: chromium comes from CHROME_PATH (default /usr/bin/chromium).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tools.browser import CHROMIUM, CHROMIUM_FLAGS, PAGES, TITLES, launch_chromium, open_page, streamlit_server  # noqa: E402

GOALS = {"accessibility": 100, "tbt_ms": 600}
DEFAULT_LIGHTHOUSE = Path("/work/tools/lighthouse/node_modules/.bin/lighthouse")
INSTALL_HINT = ("Lighthouse was not found. Install it outside the repository with\n"
                "    npm install --prefix /work/tools/lighthouse lighthouse\n"
                "or pass --lighthouse PATH (Node.js 18 or newer; it uses the chromium at CHROME_PATH, never downloads one).")
# A Streamlit page is drawn after its script has run over the websocket: Lighthouse's load ends on network and
# CPU quiet, which comes after that; the ceiling leaves room for a slow first run on a busy machine.
MAX_WAIT_MS = 45_000
ATTEMPTS = 3
FLOOR_APP = 'import streamlit as st\n\nst.title("Floor")\nst.write("A near-empty Streamlit page.")\n'


def find_lighthouse(explicit: str | None) -> list[str]:
    """The command that runs Lighthouse: --lighthouse, the /work/tools install, or ``npx lighthouse`` if npx has it."""
    if explicit:
        if not Path(explicit).is_file():
            raise SystemExit(f"--lighthouse {explicit}: no such file.\n{INSTALL_HINT}")
        return [explicit]
    if DEFAULT_LIGHTHOUSE.is_file():
        return [str(DEFAULT_LIGHTHOUSE)]
    npx = shutil.which("npx")
    if npx and subprocess.run([npx, "--no-install", "lighthouse", "--version"], capture_output=True).returncode == 0:
        return [npx, "--no-install", "lighthouse"]
    raise SystemExit(INSTALL_HINT)


def run_lighthouse(command: list[str], url: str, out: Path) -> dict:
    """One Lighthouse run (mobile, accessibility + performance) of ``url``; its report as a dict."""
    args = [*command, url, "--output=json", f"--output-path={out}", "--only-categories=accessibility,performance",
            f"--chrome-flags={' '.join(CHROMIUM_FLAGS)}", f"--max-wait-for-load={MAX_WAIT_MS}", "--quiet"]
    env = {**os.environ, "CHROME_PATH": os.environ.get("CHROME_PATH", CHROMIUM)}
    for attempt in range(1, ATTEMPTS + 1):  # on a busy machine chromium's DevTools protocol sometimes times out
        out.unlink(missing_ok=True)
        done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=600)
        if done.returncode == 0 and out.is_file():
            return json.loads(out.read_text())
        print(f"lighthouse failed on {url} (attempt {attempt} of {ATTEMPTS}): {done.stderr.strip()[-300:]}", file=sys.stderr)
    raise RuntimeError(f"lighthouse failed {ATTEMPTS} times on {url}; see above")


def summarise(report: dict) -> dict:
    """The numbers this bench reports from one Lighthouse report."""
    audits = report["audits"]
    accessibility = report["categories"]["accessibility"]
    failing = sorted(ref["id"] for ref in accessibility["auditRefs"]
                     if ref["weight"] > 0 and audits[ref["id"]].get("score") not in (None, 1))
    breakdown = audits.get("mainthread-work-breakdown", {}).get("details", {}).get("items", [])
    bootup = audits.get("bootup-time", {}).get("details", {}).get("items", [])
    return {
        "accessibility": round(100 * (accessibility["score"] or 0)),
        "failing": failing,
        "tbt_ms": audits["total-blocking-time"]["numericValue"],
        "lcp_ms": audits["largest-contentful-paint"]["numericValue"],
        "dom_elements": audits.get("dom-size", {}).get("numericValue"),
        "main_thread_ms": {i["groupLabel"]: round(i["duration"]) for i in breakdown},
        "scripts_ms": [{"url": i["url"].rsplit("/", 1)[-1], "total": round(i["total"]), "scripting": round(i["scripting"])}
                       for i in bootup[:6]],
        "runtime_error": report.get("runtimeError", {}).get("message"),
    }


def rendered(report: dict, title: str) -> bool:
    """Whether the report saw the page's content, not Streamlit's empty shell: its title is named in the report
    (when it is the largest paint), or the page has far more elements than the shell (about 30, title included)."""
    return title.lower() in json.dumps(report).lower() or (report["audits"].get("dom-size", {}).get("numericValue") or 0) >= 100


def keep_screenshot(report: dict, path: Path) -> None:
    """The page as Lighthouse last saw it (a JPEG), to check by eye that it was rendered."""
    data = report["audits"].get("final-screenshot", {}).get("details", {}).get("data", "")
    if data.startswith("data:image/jpeg;base64,"):
        path.write_bytes(base64.b64decode(data.split(",", 1)[1]))


def measure_page(command: list[str], url: str, name: str, title: str, runs: int, folder: Path) -> dict:
    """``runs`` Lighthouse runs of one page: the medians and every run."""
    results = []
    for i in range(runs):
        report = run_lighthouse(command, url, folder / f"{name}-{i}.json")
        result = summarise(report)
        result["rendered"] = rendered(report, title)
        if i == 0:
            keep_screenshot(report, folder / f"{name}.jpg")
        results.append(result)
    return {"page": name, "url": url, "load_average": os.getloadavg(), "runs": results,
            "accessibility": min(r["accessibility"] for r in results),
            "failing": sorted({a for r in results for a in r["failing"]}),
            "tbt_median_ms": statistics.median(r["tbt_ms"] for r in results),
            "lcp_median_ms": statistics.median(r["lcp_ms"] for r in results),
            "rendered": all(r["rendered"] for r in results)}


def warm(url: str, names: list[str]) -> None:
    """Open every page once in chromium: the server imports what each page needs before Lighthouse measures it."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_page()
        for name in names:
            open_page(page, url, name, timeout_ms=180_000)
        browser.close()


def measure_app(command: list[str], names: list[str], runs: int, folder: Path) -> list[dict]:
    with tempfile.TemporaryDirectory() as tmp:
        models, records = Path(tmp) / "checkpoints", Path(tmp) / "runs"
        shutil.copytree(ROOT / "checkpoints", models)
        shutil.copytree(ROOT / "data" / "runs", records)
        env = {"QTL_CHECKPOINTS_DIR": str(models), "QTL_RUNS_DIR": str(records), "QTL_JOBS_DIR": str(Path(tmp) / "jobs"),
               "QTL_MAINTAINER_PASSWORD": ""}  # the sidebar as a visitor sees it
        with streamlit_server(env) as (url, _):
            warm(url, names)
            return [measure_page(command, f"{url}/{name}", name, TITLES[name], runs, folder) for name in names]


def measure_floor(command: list[str], runs: int, folder: Path) -> dict:
    """A near-empty page (a title and a line) under the app's .streamlit/config.toml: Streamlit's own cost."""
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "floor.py"
        script.write_text(FLOOR_APP)
        with streamlit_server(app=str(script)) as (url, _):
            run_lighthouse(command, url, folder / "floor-warm.json")
            return measure_page(command, url, "(streamlit floor)", "Floor", runs, folder)


def print_table(rows: list[dict]) -> None:
    print(f"{'page':18} {'a11y':>4} {'TBT median ms':>13} {'LCP s':>6} {'load':>5}  ok  failing audits")
    for r in rows:
        ok = r["accessibility"] >= GOALS["accessibility"] and r["tbt_median_ms"] <= GOALS["tbt_ms"]
        note = "" if r["rendered"] else "  (!) the page's title was not in the report: measured before it rendered?"
        print(f"{r['page']:18} {r['accessibility']:>4} {r['tbt_median_ms']:>13.0f} {r['lcp_median_ms'] / 1000:>6.1f} "
              f"{r['load_average'][0]:>5.2f}  {'yes' if ok else 'NO':3} {', '.join(r['failing']) or '-'}{note}")
    print(f"goals: accessibility {GOALS['accessibility']}, mobile total blocking time <= {GOALS['tbt_ms']} ms (median)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="Lighthouse runs per page (the median TBT is reported)")
    parser.add_argument("--pages", default=",".join(PAGES), help=f"comma-separated, from {', '.join(PAGES)}")
    parser.add_argument("--no-floor", action="store_true", help="skip the near-empty Streamlit page")
    parser.add_argument("--lighthouse", help="path to the lighthouse executable")
    parser.add_argument("--out", default=str(ROOT / "bench" / "out" / "lighthouse.json"))
    parser.add_argument("--reports", help="keep Lighthouse's JSON reports, and each page's final screenshot, in this folder")
    args = parser.parse_args(argv)
    names = [p.strip() for p in args.pages.split(",") if p.strip()]
    unknown = [p for p in names if p not in PAGES]
    if unknown or args.runs < 1:
        parser.error(f"unknown page(s) {unknown}; pages are {', '.join(PAGES)}" if unknown else "--runs must be at least 1")
    command = find_lighthouse(args.lighthouse)
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(args.reports or scratch)
        folder.mkdir(parents=True, exist_ok=True)
        rows = measure_app(command, names, args.runs, folder)
        if not args.no_floor:
            rows.append(measure_floor(command, args.runs, folder))
    print_table(rows)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"goals": GOALS, "runs_per_page": args.runs, "cpu_count": os.cpu_count(),
                                          "pages": rows}, indent=2))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
