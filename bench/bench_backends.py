"""Time per circuit on every registered backend, as the circuit explorer runs it.

    python bench/bench_backends.py [--repeats 10]

One dressed circuit (4 qubits, depth 6), 1,024 shots (the PennyLane simulators
also analytic), median of ``--repeats`` runs after a warm-up. ``ibm.quantum``
runs in qiskit-ibm-runtime's local test mode on the fake Manila device (noisy),
with an empty job cache each time, so it measures transpile + submit + result;
a real device adds its queue. Prints a table, writes bench/out/backends.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from core.circuit.definition import CircuitSpec
from core.execution.backends import BACKENDS
from core.execution.settings import ExecutionSettings
from core.execution.single_circuit import exact_probabilities, sample_counts

ROOT = Path(__file__).resolve().parent.parent


def timed(fn, repeats: int) -> float:
    fn()  # warm-up: imports, compilation, transpilation caches
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def ibm_local_runner(spec: CircuitSpec, angles, weights):
    from core.ibm import submission

    os.environ["QTL_IBM_LOCAL"] = "fake_manila"

    def run():
        with tempfile.TemporaryDirectory() as cache:  # a new job every time, never the cached answer
            os.environ["QTL_IBM_CACHE"] = cache
            record = submission.submit_circuit(spec, angles, weights, shots=1024)
            assert record.histogram, record
    return run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--out", default=str(ROOT / "bench" / "out" / "backends.json"))
    args = parser.parse_args(argv)
    spec = CircuitSpec(4, 6)
    rng = np.random.default_rng(0)
    angles, weights = rng.uniform(-1.5, 1.5, 4), rng.uniform(-np.pi, np.pi, spec.weight_shape)
    rows = []
    for name, backend in BACKENDS.items():
        if not backend.installed:
            continue
        cases = []
        if name == "ibm.quantum":
            cases.append(("1,024 shots, local test mode (fake Manila)", ibm_local_runner(spec, angles, weights)))
        else:
            cases.append(("1,024 shots", lambda n=name: sample_counts(spec, angles, weights, ExecutionSettings(n, 1024, 0))))
            if name == "default.qubit":
                cases.append(("analytic probabilities (what the explorer shows as exact)",
                              lambda: exact_probabilities(spec, angles, weights)))
        for label, fn in cases:
            seconds = timed(fn, args.repeats)
            rows.append({"backend": name, "run": label, "median_ms": round(seconds * 1000, 1), "trains": backend.trains,
                         "needs_account": backend.needs_account, "purpose": backend.purpose})
            print(f"{name:16} {label:44} {seconds * 1000:9.1f} ms")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"repeats": args.repeats, "rows": rows}, indent=1))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
