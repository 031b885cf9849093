"""Load test: N concurrent browser sessions upload a photo on Predict while a retrain runs.

    python bench/load_test.py [--sessions 20] [--browsers 1]

Loopback only, bounded in sessions and time. Prints median and 95th-percentile
time from upload to the shown prediction, and, to tell the server's share from
the browsers', from upload to the moment the server's message with the
prediction reached the page; the other pages' load times meanwhile, and the
server's and the training worker's peak memory; writes bench/out/load.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tools.browser import ROOT  # noqa: E402
from tools.load import median, p95, run_load  # noqa: E402

GOALS = {"p95_s": 10.0, "server_peak_mb": 4096.0}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=20, choices=range(1, 51), metavar="1..50")
    parser.add_argument("--browsers", type=int, default=1, choices=range(1, 51), metavar="1..50",
                        help="chromium processes the visitors are spread over (default: all in one)")
    parser.add_argument("--out", default=str(ROOT / "bench" / "out" / "load.json"))
    args = parser.parse_args(argv)
    result = run_load(args.sessions, browsers=min(args.browsers, args.sessions))
    summary = {
        "sessions": result.sessions, "succeeded": result.succeeded, "failures": result.failures,
        "median_s": round(result.median_s, 2), "p95_s": round(result.p95_s, 2),
        "max_s": round(max(result.prediction_s), 2) if result.prediction_s else None,
        "delivered_median_s": round(median(result.delivered_s), 2), "delivered_p95_s": round(p95(result.delivered_s), 2),
        "opened_median_s": round(median(result.opened_s), 2), "opened_p95_s": round(p95(result.opened_s), 2),
        "browsers": result.browsers,
        "other_pages_median_s": round(statistics.median(result.other_page_s), 2) if result.other_page_s else None,
        "other_pages_max_s": round(max(result.other_page_s), 2) if result.other_page_s else None,
        "server_peak_mb": round(result.server_peak_rss_mb), "worker_peak_mb": round(result.worker_peak_rss_mb),
        "retrain_state_during": result.retrain_state_after, "goals": GOALS,
    }
    print(f"{'measure':36} {'value':>10} {'goal':>8}")
    print(f"{'sessions succeeded':36} {result.succeeded:>6}/{result.sessions:<3} {'all':>8}")
    print(f"{'upload → prediction, median (s)':36} {summary['median_s']:>10} {'':>8}")
    print(f"{'upload → prediction, p95 (s)':36} {summary['p95_s']:>10} {GOALS['p95_s']:>8}")
    print(f"{'upload → delivered to page, median':36} {summary['delivered_median_s']:>10} {'':>8}")
    print(f"{'upload → delivered to page, p95':36} {summary['delivered_p95_s']:>10} {'':>8}")
    print(f"{'all open Predict at once, median (s)':36} {summary['opened_median_s']:>10} {'':>8}")
    print(f"{'all open Predict at once, p95 (s)':36} {summary['opened_p95_s']:>10} {'':>8}")
    print(f"{'chromium processes for the visitors':36} {result.browsers:>10} {'':>8}")
    print(f"{'other pages meanwhile, median (s)':36} {summary['other_pages_median_s']!s:>10} {'':>8}")
    print(f"{'server peak RSS (MiB)':36} {summary['server_peak_mb']:>10} {GOALS['server_peak_mb']:>8.0f}")
    print(f"{'training worker peak RSS (MiB)':36} {summary['worker_peak_mb']:>10} {'':>8}")
    print(f"{'retrain state during the load':36} {summary['retrain_state_during']:>10}")
    for failure in result.failures:
        print("failed:", failure)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({**summary, "prediction_s": result.prediction_s, "delivered_s": result.delivered_s,
                                     "opened_s": result.opened_s,
                                     "other_page_s": result.other_page_s}, indent=1))
    print(f"wrote {out}")
    return 0 if result.succeeded == result.sessions else 1


if __name__ == "__main__":
    sys.exit(main())
