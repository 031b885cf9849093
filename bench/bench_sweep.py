"""Sweep speed: the same runs one after another, and as Ray tasks on a local Ray instance.

    python bench/bench_sweep.py [--epochs 5,30] [--cpus N] [--out bench/out/sweep.json]

Six runs: default.qubit (analytic) and qiskit.aer (1,024 shots), 3 seeds each, the article's settings with a
few epochs (and with 30), on the face-mask-410 features (cached before the clock starts). Each path is the command a
user types, started afresh and timed from outside, so both pay their start-up:
``python -m core experiments --grid backend=default.qubit,qiskit.aer --sequential`` (one process, imports once)
and the same without ``--sequential`` (Ray's start, then each worker's imports and compilations). Ray's start-up
alone is timed as well. Records go to temporary folders; the bench checks both paths scored the same.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from core.files import atomic_write_bytes

ROOT = Path(__file__).resolve().parent.parent
GRID = ["backend=default.qubit,qiskit.aer"]
SEEDS = "0,1,2"


def sweep(epochs: int, ray_cpus: int | None) -> tuple[float, list[dict]]:
    """Wall seconds of the command and its records (in plan order); ``ray_cpus`` None runs it ``--sequential``."""
    with tempfile.TemporaryDirectory() as tmp:
        command = [sys.executable, "-m", "core", "experiments", "--grid", *GRID, "--seeds", SEEDS, "--epochs", str(epochs),
                   "--runs-dir", str(Path(tmp, "runs")), "--checkpoints-dir", str(Path(tmp, "checkpoints"))]
        command += ["--sequential"] if ray_cpus is None else ["--cpus", str(ray_cpus)]
        began = time.perf_counter()
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
        seconds = time.perf_counter() - began
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command[1:])} failed:\n{done.stderr[-3000:]}")
        records = [json.loads(p.read_text()) for p in sorted(Path(tmp, "runs").glob("*.json"))]
        return seconds, records


def ray_startup(cpus: int) -> float:
    """Seconds to start a local Ray instance, run one empty task and stop it."""
    import ray

    began = time.perf_counter()
    ray.init(num_cpus=cpus, include_dashboard=False, log_to_driver=False, _system_config={"worker_niceness": 0})
    ray.get(ray.remote(lambda: None).remote())
    ray.shutdown()
    return time.perf_counter() - began


def own_seconds(records: list[dict]) -> list[float]:
    """Each run's fit and test (the features not counted)."""
    return [round(r["totals"]["seconds"] - r["totals"]["feature_seconds"], 2) for r in records]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", default="5,30", help="comma-separated: one comparison per epoch count")
    parser.add_argument("--cpus", type=int, default=os.cpu_count(), help="CPUs of the local Ray instance (default: all)")
    parser.add_argument("--out", default=str(ROOT / "bench" / "out" / "sweep.json"))
    args = parser.parse_args()
    try:
        import ray  # noqa: F401
    except ImportError:
        print('Ray is not installed: pip install "ray[tune]==2.60.0"', file=sys.stderr)
        return 1
    print("caching the features (untimed) …", file=sys.stderr)
    sweep(1, None)
    rows = []
    for epochs in (int(e) for e in args.epochs.split(",")):
        print(f"{epochs} epochs: 6 runs one after another, then on local Ray ({args.cpus} CPUs) …", file=sys.stderr)
        sequential_s, sequential = sweep(epochs, None)
        ray_s, on_ray = sweep(epochs, args.cpus)
        rows.append({
            "epochs": epochs, "sequential_s": round(sequential_s, 2), "ray_s": round(ray_s, 2),
            "speed_up": round(sequential_s / ray_s, 2),
            "sequential_run_s": own_seconds(sequential), "ray_run_s": own_seconds(on_ray),
            "same_results": [r["test"]["confusion"] for r in sequential] == [r["test"]["confusion"] for r in on_ray],
        })
    startup_s = ray_startup(args.cpus)
    result = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "load_average": os.getloadavg()},
              "runs": [r["run_id"] for r in on_ray], "ray_cpus": args.cpus, "ray_startup_s": round(startup_s, 2), "rows": rows}
    print("\n| epochs | one after another, s | local Ray, s | speed-up | runs' own s (seq. / Ray) | same scores |")
    print("|---:|---:|---:|---:|---|---|")
    for r in rows:
        print(f"| {r['epochs']} | {r['sequential_s']:.1f} | {r['ray_s']:.1f} | {r['speed_up']:.2f} | "
              f"{sum(r['sequential_run_s']):.1f} / {sum(r['ray_run_s']):.1f} | {r['same_results']} |")
    print(f"\nRay's start-up and shutdown alone: {startup_s:.1f} s ({args.cpus} CPUs); load average now "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    atomic_write_bytes(Path(args.out), json.dumps(result, indent=1).encode())
    return 0


if __name__ == "__main__":
    sys.exit(main())
