"""Load test: N concurrent browser sessions upload a photo on Predict while a retrain runs.

    python bench/load_test.py [--sessions 20] [--runs 1] [--browsers 1]

Loopback only, bounded in sessions and time. Prints median and 95th-percentile
time from upload to the shown prediction, and, to tell the server's share from
the browsers', from upload to the moment the server's message with the
prediction reached the page; the other pages' load times meanwhile, and the
server's and the training worker's peak memory. With ``--runs N`` it repeats
the whole test (a fresh server each time) and adds the figures over all
visits. Writes bench/out/load.json.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tools.browser import ROOT
from tools.load import LoadResult, median, p95, run_load

GOALS = {"p95_s": 10.0, "server_peak_mb": 4096.0}


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def summarize(results: list[LoadResult]) -> dict:
    """The figures over the visits of ``results`` (one run or several)."""
    drawn = [s for r in results for s in r.prediction_s]
    delivered = [s for r in results for s in r.delivered_s]
    opened = [s for r in results for s in r.opened_s]
    others = [s for r in results for s in r.other_page_s]
    return {
        "sessions": sum(r.sessions for r in results), "succeeded": sum(r.succeeded for r in results),
        "failures": [f for r in results for f in r.failures],
        "median_s": _r(median(drawn)), "p95_s": _r(p95(drawn)), "max_s": _r(max(drawn, default=None)),
        "within_goal": sum(s <= GOALS["p95_s"] for s in drawn),
        "delivered_median_s": _r(median(delivered)), "delivered_p95_s": _r(p95(delivered)),
        "opened_median_s": _r(median(opened)), "opened_p95_s": _r(p95(opened)),
        "other_pages_median_s": _r(median(others)), "other_pages_max_s": _r(max(others, default=None)),
        "server_peak_mb": round(max(r.server_peak_rss_mb for r in results)),
        "worker_peak_mb": round(max(r.worker_peak_rss_mb for r in results)),
        "retrain_state_during": sorted({r.retrain_state_after for r in results}),
    }


ROWS = [
    ("predictions shown", lambda s: f"{s['succeeded']}/{s['sessions']}", "all"),
    ("upload → prediction, median (s)", lambda s: s["median_s"], ""),
    ("upload → prediction, p95 (s)", lambda s: s["p95_s"], GOALS["p95_s"]),
    ("shown within the goal", lambda s: f"{s['within_goal']}/{s['succeeded']}", ""),
    ("upload → delivered to page, median", lambda s: s["delivered_median_s"], ""),
    ("upload → delivered to page, p95", lambda s: s["delivered_p95_s"], ""),
    ("all open Predict at once, median (s)", lambda s: s["opened_median_s"], ""),
    ("other pages meanwhile, median (s)", lambda s: s["other_pages_median_s"], ""),
    ("server peak RSS (MiB)", lambda s: s["server_peak_mb"], f"{GOALS['server_peak_mb']:.0f}"),
    ("training worker peak RSS (MiB)", lambda s: s["worker_peak_mb"], ""),
    ("retrain state during the load", lambda s: ",".join(s["retrain_state_during"]), ""),
]


def print_table(per_run: list[dict], pooled: dict | None) -> None:
    columns = [f"run {i + 1}" for i in range(len(per_run))] + (["all visits"] if pooled else [])
    print(f"{'measure':38}" + "".join(f"{c:>11}" for c in columns) + f"{'goal':>8}")
    for label, value, goal in ROWS:
        cells = [value(s) for s in per_run] + ([value(pooled)] if pooled else [])
        print(f"{label:38}" + "".join(f"{c!s:>11}" for c in cells) + f"{goal!s:>8}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=20, choices=range(1, 51), metavar="1..50")
    parser.add_argument("--runs", type=int, default=1, choices=range(1, 11), metavar="1..10",
                        help="repeat the whole test, each on a fresh server (default 1)")
    parser.add_argument("--browsers", type=int, default=1, choices=range(1, 51), metavar="1..50",
                        help="chromium processes the visitors are spread over (default: all in one)")
    parser.add_argument("--out", default=str(ROOT / "bench" / "out" / "load.json"))
    args = parser.parse_args(argv)
    results = []
    for run in range(args.runs):
        if args.runs > 1:
            print(f"run {run + 1} of {args.runs} …", flush=True)
        results.append(run_load(args.sessions, browsers=min(args.browsers, args.sessions)))
    per_run = [summarize([r]) for r in results]
    pooled = summarize(results) if len(results) > 1 else None
    print_table(per_run, pooled)
    for failure in (pooled or per_run[0])["failures"]:
        print("failed:", failure)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    raw = [{"prediction_s": r.prediction_s, "delivered_s": r.delivered_s, "opened_s": r.opened_s,
            "other_page_s": r.other_page_s, "browsers": r.browsers} for r in results]
    report = {**(pooled or per_run[0]), "goals": GOALS, "runs": [{**s, **v} for s, v in zip(per_run, raw)]}
    out.write_text(json.dumps(report, indent=1))
    print(f"wrote {out}")
    return 0 if all(r.succeeded == r.sessions for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
