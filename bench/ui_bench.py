"""Dashboard responsiveness in a real browser (Debian chromium), against the issue's targets.

    python bench/ui_bench.py [--repeats 5]

Starts ``streamlit run app.py`` on a loopback port with the shipped models and
run records, then measures in chromium: the first page rendered after the
server is ready (the very first load, then fresh sessions), switching pages
through the sidebar, and the time from an upload of a group photo (three faces)
to every face's verdict shown, once the model is warm. Prints a table, writes
bench/out/ui.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

from core.paths import SHARED_DATA_DIR
from tools.browser import (
    PAGES,
    ROOT,
    group_photo,
    launch_chromium,
    open_page,
    open_page_timed,
    streamlit_server,
    switch_page,
    upload_and_read_faces,
)

TARGETS_S = {"first page shown (very first load)": 5.0, "first page complete (very first load)": 5.0,
             "first page complete (new session)": 5.0, "switch page": 2.0, "every face's verdict after upload (warm)": 1.5}


def measure(repeats: int) -> dict[str, list[float]]:
    from playwright.sync_api import sync_playwright

    times: dict[str, list[float]] = {k: [] for k in TARGETS_S}
    with tempfile.TemporaryDirectory() as tmp, streamlit_server({"QTL_JOBS_DIR": str(Path(tmp) / "jobs")}) as (url, _):
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            shown, complete = open_page_timed(page, url, "concepts", timeout_ms=120_000)
            times["first page shown (very first load)"].append(shown)
            times["first page complete (very first load)"].append(complete)
            for _ in range(repeats):
                fresh = browser.new_page()
                times["first page complete (new session)"].append(open_page(fresh, url, "concepts"))
                fresh.close()
            for _ in range(repeats):
                for name in list(PAGES)[1:] + ["concepts"]:
                    times["switch page"].append(switch_page(page, name))
            switch_page(page, "predict")
            upload_and_read_faces(page, group_photo(Path(tmp), 0, SHARED_DATA_DIR)[0], 0, timeout_ms=120_000)  # warms the model
            for i in range(1, repeats + 1):
                open_page(page, url, "predict")
                elapsed = upload_and_read_faces(page, group_photo(Path(tmp), i, SHARED_DATA_DIR)[0], 0)[1]
                times["every face's verdict after upload (warm)"].append(elapsed)
            browser.close()
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", default=str(ROOT / "bench" / "out" / "ui.json"))
    args = parser.parse_args(argv)
    times = measure(args.repeats)
    rows = []
    print(f"{'measure':34} {'median s':>9} {'max s':>7} {'n':>3} {'target s':>9}  ok")
    for name, values in times.items():
        median = statistics.median(values)
        row = {"measure": name, "median_s": round(median, 3), "max_s": round(max(values), 3), "n": len(values),
               "target_s": TARGETS_S[name], "meets_target": median <= TARGETS_S[name]}
        rows.append(row)
        verdict = "yes" if row["meets_target"] else "NO"
        print(f"{name:34} {median:9.2f} {max(values):7.2f} {len(values):3d} {TARGETS_S[name]:9.1f}  {verdict}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"rows": rows, "samples": times}, indent=1))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
