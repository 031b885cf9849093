"""Load test: N concurrent browser sessions upload a photo on Predict while a retrain runs.

    python bench/load_test.py [--sessions 20] [--runs 1] [--photos group|closeup] [--proxy none|nginx|both]
                              [--browsers 1] [--worst-case 10] [--own-session] [--pin]
    python bench/load_test.py --page-bounds

Each visitor uploads a generated group photo of three faces (default) or, with ``--photos closeup``, one
test-split close-up (the test before Predict found faces). Loopback only, bounded in sessions and time.
Prints median and 95th-percentile
time from upload to the shown prediction, and, to tell the server's share from
the browsers', from upload to the moment the server's message with the
prediction reached the page, and the server's share by the page's clock and by
chromium's network clock (tools/frame_clock.py: request frame sent → answer frame
received, before the busy renderer reads it); the other pages' load times meanwhile, and the
server's and the training worker's peak memory. With ``--runs N`` it repeats
the whole test (a fresh server each time) and adds the figures over all
visits. The CPU seconds of the server, the training worker, the browsers (with
this harness) and the rest of the machine are charged per phase (all open
Predict; the uploads until the last verdict), from /proc. ``--worst-case N``
adds N visitors repeating each page's heaviest settings meanwhile;
``--page-bounds`` measures those settings' CPU time alone. ``--proxy nginx`` puts nginx in front as
docs/deployment.md does (``both``: run by run in turn, each way pooled). ``--pin`` puts the server's side
(server, nginx, the retrain) on the last core and the browsers on the others, as if on the visitors' own devices. Writes
bench/out/load.json.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tools.browser import ROOT
from tools.load import PHOTOS, LoadResult, median, p95, run_load, worst_case_visitors

GOALS = {"p95_s": 10.0, "served_p95_s": 5.0, "opened_served_p95_s": 5.0, "server_peak_mb": 4096.0}


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _finite(values) -> list[float]:
    return [v for v in values if v == v]


def _cpu(results: list[LoadResult], phase: str, group: str, per: int | None = None) -> float | None:
    """CPU seconds of ``group`` in ``phase``, summed over runs (divided by ``per`` visits if given)."""
    total = sum(r.cpu_s.get(phase, {}).get(group, 0.0) for r in results)
    if not any(phase in r.cpu_s for r in results):
        return None
    return round(total / per, 3) if per else round(total, 1)


def summarize(results: list[LoadResult]) -> dict:
    """The figures over the visits of ``results`` (one run or several)."""
    drawn = [s for r in results for s in r.prediction_s]
    opened_served = _finite(s for r in results for s in r.opened_served_s)
    served = _finite(s for r in results for s in r.served_s)
    rerun = _finite(s for r in results for s in r.rerun_s)
    opened_network = _finite(s for r in results for s in r.opened_network_s)
    served_network = _finite(s for r in results for s in r.served_network_s)
    visits = sum(r.succeeded for r in results) or 1
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
        "opened_served_median_s": _r(median(opened_served)), "opened_served_p95_s": _r(p95(opened_served)),
        "served_median_s": _r(median(served)), "served_p95_s": _r(p95(served)), "rerun_p95_s": _r(p95(rerun)),
        "served_network_median_s": _r(median(served_network)), "served_network_p95_s": _r(p95(served_network)),
        "opened_network_median_s": _r(median(opened_network)), "opened_network_p95_s": _r(p95(opened_network)),
        "server_cpu_per_open_s": _cpu(results, "opening", "server", sum(r.sessions for r in results)),
        "server_cpu_per_prediction_s": _cpu(results, "predicting", "server", visits),
        "cpu_s": {phase: {group: _cpu(results, phase, group) for group in CPU_GROUPS} for phase in CPU_PHASES},
        "loadavg": [r.uptime for r in results],
        "heavy": _heavy(results),
    }


def _heavy(results: list[LoadResult]) -> dict:
    """The worst-case visitors' clicks done, failures and longest wait, per kind, over ``results``."""
    kinds: dict[str, dict] = {}
    for entry in (h for r in results for h in r.heavy):
        k = kinds.setdefault(entry["kind"], {"visitors": 0, "done": 0, "failures": [], "max_s": 0.0})
        k["visitors"] += 1
        k["done"] += entry["done"]
        k["failures"] += entry["failures"]
        k["max_s"] = max([k["max_s"], *entry.get("seconds", [])])
    return kinds


CPU_PHASES = ("opening", "predicting", "whole run")
CPU_GROUPS = ("wall", "server", "proxy", "worker", "browsers", "other", "machine busy", "machine idle")


ROWS = [
    ("predictions shown", lambda s: f"{s['succeeded']}/{s['sessions']}", "all"),
    ("upload → prediction, median (s)", lambda s: s["median_s"], ""),
    ("upload → prediction, p95 (s)", lambda s: s["p95_s"], GOALS["p95_s"]),
    ("shown within the goal", lambda s: f"{s['within_goal']}/{s['succeeded']}", ""),
    ("upload → delivered to page, median", lambda s: s["delivered_median_s"], ""),
    ("upload → delivered to page, p95", lambda s: s["delivered_p95_s"], ""),
    ("server's share, upload request → verdict, p95", lambda s: s["served_p95_s"], GOALS["served_p95_s"]),
    ("server's share, rerun → verdict, p95", lambda s: s["rerun_p95_s"], ""),
    ("  by the network clock, median", lambda s: s["served_network_median_s"], ""),
    ("  by the network clock, p95", lambda s: s["served_network_p95_s"], GOALS["served_p95_s"]),
    ("all open Predict at once, median (s)", lambda s: s["opened_median_s"], ""),
    ("all open Predict at once, p95 (s)", lambda s: s["opened_p95_s"], ""),
    ("server's share of opening, median", lambda s: s["opened_served_median_s"], ""),
    ("server's share of opening, p95", lambda s: s["opened_served_p95_s"], GOALS["opened_served_p95_s"]),
    ("  by the network clock, median", lambda s: s["opened_network_median_s"], ""),
    ("  by the network clock, p95", lambda s: s["opened_network_p95_s"], GOALS["opened_served_p95_s"]),
    ("server CPU s per page open", lambda s: s["server_cpu_per_open_s"], ""),
    ("server CPU s per prediction", lambda s: s["server_cpu_per_prediction_s"], ""),
    ("other pages meanwhile, median (s)", lambda s: s["other_pages_median_s"], ""),
    ("server peak RSS (MiB)", lambda s: s["server_peak_mb"], f"{GOALS['server_peak_mb']:.0f}"),
    ("training worker peak RSS (MiB)", lambda s: s["worker_peak_mb"], ""),
    ("retrain state during the load", lambda s: ",".join(s["retrain_state_during"]), ""),
]


def print_table(per_run: list[dict], pooled: dict[str, dict], labels: list[str] | None = None) -> None:
    """One column per run (``labels``, default "run N") and one per entry of ``pooled`` (e.g. all visits)."""
    columns = (labels or [f"run {i + 1}" for i in range(len(per_run))]) + list(pooled)
    summaries = per_run + list(pooled.values())
    width = max(11, *(len(c) + 2 for c in columns))
    print(f"{'measure':46}" + "".join(f"{c:>{width}}" for c in columns) + f"{'goal':>8}")
    for label, value, goal in ROWS:
        print(f"{label:46}" + "".join(f"{value(s)!s:>{width}}" for s in summaries) + f"{goal!s:>8}")
    for phase in CPU_PHASES:
        print(f"CPU seconds while {phase}:")
        for group in CPU_GROUPS:
            print(f"  {group:44}" + "".join(f"{s['cpu_s'][phase][group]!s:>{width}}" for s in summaries))
    print("load average at the end of each run:", "; ".join(s["loadavg"][0] for s in per_run))
    for kind, h in summaries[-1]["heavy"].items():
        print(f"worst-case {kind}: {h['visitors']} visitors, {h['done']} heavy clicks done, longest {h['max_s']} s, "
              f"{len(h['failures'])} failed {h['failures'][:3]}")


def _cpu_of(work) -> float:
    """CPU seconds of ``work(1)`` after ``work(0)``: the first call imports and compiles, as a server did long before;
    the second gets other angles and seeds, so that no cache answers it."""
    import time

    work(0)
    started = time.process_time()
    work(1)
    return time.process_time() - started


def measure_page_bounds() -> dict[str, float]:
    """The CPU seconds (this process, warm) of each page's heaviest setting, beside its stated bound."""
    import numpy as np

    from core.circuit.definition import MAX_DEPTH, MAX_QUBITS, CircuitSpec
    from core.execution.noise import DEFAULT_NOISE_DEVICE
    from core.execution.settings import MAX_SHOTS, ExecutionSettings
    from core.execution.single_circuit import sample_counts
    from core.learning.checkpoints import load_checkpoint
    from core.learning.evaluate import evaluate_head
    from core.learning.features import load_split_features
    from core.learning.predict import Predictor
    from core.lessons.live import random_weights
    from core.paths import data_dir
    from core.results.shot_spread import shot_spread
    from core.server.bounds import PAGE_BOUNDS, QSHARP_MAX_GATE_SHOTS

    big, noisy = CircuitSpec(MAX_QUBITS, MAX_DEPTH), CircuitSpec(5, MAX_DEPTH)
    predictor = Predictor(load_checkpoint(ROOT / "checkpoints" / "best-efficientnet_lite0-default.qubit-analytic.pt"))
    def angles(i: int, n: int = 4) -> np.ndarray:
        return np.linspace(-1, 1, n) * (0.9 - 0.2 * i)

    qsharp_shots = QSHARP_MAX_GATE_SHOTS // (MAX_QUBITS * (MAX_DEPTH + 2))
    runs = {
        "explorer: 8 qubits, depth 10, 100,000 shots, qiskit.aer": ("explorer", lambda i: sample_counts(
            big, angles(i, MAX_QUBITS), random_weights(big, i), ExecutionSettings("qiskit.aer", MAX_SHOTS, i))),
        "explorer: 5 qubits, depth 10, 100,000 shots, noise": ("explorer", lambda i: sample_counts(
            noisy, angles(i, 5), random_weights(noisy, i),
            ExecutionSettings("qiskit.aer", MAX_SHOTS, i, noise=DEFAULT_NOISE_DEVICE))),
        f"explorer: Q# at its most ({qsharp_shots} shots, 8 qubits, depth 10)": ("explorer", lambda i: sample_counts(
            big, angles(i, MAX_QUBITS), random_weights(big, i), ExecutionSettings("qsharp", qsharp_shots, i))),
        "inside: 100 reruns x 8,192 shots, default.qubit": ("inside", lambda i: shot_spread(
            predictor.head, angles(i), 100, 8192, "default.qubit", seed=i)),
        "inside: 100 reruns x 8,192 shots, qiskit.aer with noise": ("inside", lambda i: shot_spread(
            predictor.head, angles(i), 100, 8192, "qiskit.aer", DEFAULT_NOISE_DEVICE, seed=i)),
        "predict: the test set (features cached)": ("predict-test-set", lambda i: evaluate_head(
            predictor.head, load_split_features(data_dir(), "efficientnet_lite0", "test"))),
    }
    measured = {}
    for label, (page, work) in runs.items():
        measured[label] = round(_cpu_of(work), 2)
        print(f"{label:66} {measured[label]:6.2f} s CPU   stated bound {PAGE_BOUNDS[page].cpu_s:g} s", flush=True)
    return measured


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=20, choices=range(1, 51), metavar="1..50")
    parser.add_argument("--runs", type=int, default=1, choices=range(1, 11), metavar="1..10",
                        help="repeat the whole test, each on a fresh server (default 1)")
    parser.add_argument("--photos", default="group", choices=PHOTOS,
                        help="what each visitor uploads: a group photo of three faces (default) or one close-up")
    parser.add_argument("--browsers", type=int, default=1, choices=range(1, 51), metavar="1..50",
                        help="chromium processes the visitors are spread over (default: all in one)")
    parser.add_argument("--own-session", action="store_true",
                        help="start the server in a session of its own (chromium starts one anyway: no measurable change)")
    parser.add_argument("--worst-case", type=int, default=0, choices=range(0, 31), metavar="0..30",
                        help="this many more visitors repeat each page's heaviest settings meanwhile (the issue: 10)")
    parser.add_argument("--page-bounds", action="store_true",
                        help="only measure the CPU time of each page's heaviest setting (no browsers)")
    parser.add_argument("--pin", action="store_true",
                        help="the server, nginx and the retrain on the last core, the browsers on the others")
    parser.add_argument("--proxy", default="none", choices=("none", "nginx", "both"),
                        help="visitors reach the server directly (default), through nginx as docs/deployment.md "
                             "deploys it (python -m core nginx-config), or both, run by run in turn")
    parser.add_argument("--out", default=str(ROOT / "bench" / "out" / "load.json"))
    args = parser.parse_args(argv)
    if args.page_bounds:
        measure_page_bounds()
        return 0
    ways = {"none": ["direct"], "nginx": ["nginx"], "both": ["direct", "nginx"]}[args.proxy]
    way_of_run = [ways[run % len(ways)] for run in range(args.runs)]
    labels = [f"run {run + 1}" + (f" {way}" if len(ways) > 1 else "") for run, way in enumerate(way_of_run)]
    results = []
    for run in range(args.runs):
        if args.runs > 1:
            print(f"{labels[run]} of {args.runs} …", flush=True)
        results.append(run_load(args.sessions, browsers=min(args.browsers, args.sessions), own_session=args.own_session,
                                extra=worst_case_visitors(args.worst_case), photos=args.photos,
                                proxy=way_of_run[run] == "nginx", pin=args.pin))
        if args.runs > 1:
            s = summarize(results[-1:])
            print(f"  shown {s['succeeded']}/{s['sessions']}, p95 {s['p95_s']} s, server's share p95 {s['served_p95_s']} s, "
                  f"(network clock {s['served_network_p95_s']} s), opening p95 {s['opened_p95_s']} s "
                  f"(server's share {s['opened_served_p95_s']} s, network clock {s['opened_network_p95_s']} s), "
                  f"server CPU {s['server_cpu_per_open_s']} s per open, {s['server_cpu_per_prediction_s']} s per prediction; "
                  f"load {s['loadavg'][0]}", flush=True)
    per_run = [summarize([r]) for r in results]
    by_way = {way: [r for r, w in zip(results, way_of_run, strict=True) if w == way] for way in ways}
    pooled = {f"all {way}" if len(ways) > 1 else "all visits": summarize(rs) for way, rs in by_way.items() if len(rs) > 1}
    print_table(per_run, pooled, labels)
    for failure in (f for s in per_run for f in s["failures"]):
        print("failed:", failure)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    raw = [{"prediction_s": r.prediction_s, "delivered_s": r.delivered_s, "opened_s": r.opened_s,
            "other_page_s": r.other_page_s, "browsers": r.browsers, "opened_served_s": r.opened_served_s,
            "served_s": r.served_s, "rerun_s": r.rerun_s, "opened_network_s": r.opened_network_s,
            "served_network_s": r.served_network_s} for r in results]
    report = {**(next(iter(pooled.values()), None) or per_run[0]), "photos": args.photos, "proxy": args.proxy,
              "pinned": args.pin,
              "pooled": pooled, "goals": GOALS,
              "runs": [{"label": label, **s, **v} for label, s, v in zip(labels, per_run, raw, strict=True)]}
    out.write_text(json.dumps(report, indent=1))
    print(f"wrote {out}")
    heavy_ok = all(not h["failures"] for r in results for h in r.heavy)
    return 0 if all(r.succeeded == r.sessions for r in results) and heavy_ok else 1


if __name__ == "__main__":
    sys.exit(main())
