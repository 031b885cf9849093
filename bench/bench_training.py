"""Training speed: the article's per-sample loop against the project's batched path.

    python bench/bench_training.py [--quick] [--out bench/out/training.json]

For each simulator both paths run the same training steps (cached
efficientnet_lite0 features of the 240 training images, batch 4, one step =
forward + backward + Adam) in this one process, on this machine. The per-step
median is extrapolated to the article's 30 epochs × 60 steps; the slow
baselines run only a few steps (their count is in the table). Also measured:
feature extraction throughput per backbone, warm single-image prediction
latency, and a cold end-to-end retrain (features + 30 epochs on default.qubit)
in a child process with its peak memory.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from core.circuit.definition import CircuitSpec
from core.circuit.pennylane_ops import make_qnode
from core.execution.executor import CircuitExecutor
from core.execution.factory import make_executor
from core.execution.settings import ExecutionSettings
from core.learning.heads import DressedQuantumHead

ROOT = Path(__file__).resolve().parent.parent

STEPS_PER_EPOCH, EPOCHS = 60, 30
# (simulator, shots, baseline steps, our steps); the slow baselines run only a few steps
PLAN = [
    ("default.qubit", None, 20, 120),
    ("lightning.qubit", None, 20, 120),
    ("qiskit.aer", 1024, 2, 120),
    ("cirq.simulator", 1024, 3, 12),
]


class ArticleLoopExecutor(CircuitExecutor):
    """The article's (and Mari et al.'s demo's) loop: one QNode call per image of the batch."""

    def __init__(self, backend: str, spec: CircuitSpec, shots):
        super().__init__(spec, ExecutionSettings(backend, shots))
        from core.execution.devices import make_device

        diff = self.backend.analytic_diff if self.shots is None else "parameter-shift"
        self.qnode = make_qnode(make_device(self.settings, spec.n_qubits), spec, diff, shots=self.shots)

    def expvals(self, angles, weights):
        rows = [torch.stack(list(self.qnode(a, weights))).to(angles.dtype) for a in angles]
        self.count.add(len(rows), self.shots)
        return torch.stack(rows)


def time_steps(executor: CircuitExecutor, features: torch.Tensor, labels: torch.Tensor, steps: int, repeats: int = 3) -> dict:
    """Median seconds per training step over ``repeats`` runs of ``steps`` steps (after one warm-up step).

    Both paths run as the training loop does, one thread per library (core.learning.train.single_threaded).
    """
    from core.learning.train import single_threaded

    with single_threaded():
        return _time_steps(executor, features, labels, steps, repeats)


def _time_steps(executor: CircuitExecutor, features: torch.Tensor, labels: torch.Tensor, steps: int, repeats: int) -> dict:
    torch.manual_seed(0)
    head = DressedQuantumHead(features.shape[1], executor.spec, executor)
    optimizer = torch.optim.Adam(head.parameters(), lr=4e-4)

    def step(i: int) -> None:
        index = torch.arange(i * 4, i * 4 + 4) % len(labels)
        loss = torch.nn.functional.cross_entropy(head(features[index]), labels[index])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    start = time.perf_counter()
    step(0)
    first = time.perf_counter() - start
    per_step = []
    for _ in range(repeats):
        start = time.perf_counter()
        for i in range(steps):
            step(i)
        per_step.append((time.perf_counter() - start) / steps)
    return {"first_step_s": first, "step_s": statistics.median(per_step), "runs": per_step, "steps": steps, "repeats": repeats}


def bench_simulators(quick: bool) -> list[dict]:
    from core.learning.features import load_split_features
    from core.paths import default_data_dir

    split = load_split_features(default_data_dir(), "efficientnet_lite0", "train")
    spec = CircuitSpec()
    rows = []
    for backend, shots, base_steps, our_steps in PLAN:
        if quick:
            base_steps, our_steps = max(1, base_steps // 4), max(2, our_steps // 6)
        base_repeats = 1 if backend in ("qiskit.aer", "cirq.simulator") else 3
        print(f"  {backend}: article loop, {base_steps} steps × {base_repeats}", flush=True)
        base = time_steps(ArticleLoopExecutor(backend, spec, shots), split.features, split.labels, base_steps, base_repeats)
        print(f"  {backend}: batched path, {our_steps} steps × 3", flush=True)
        ours_executor = make_executor(spec, ExecutionSettings(backend, shots, 0))
        ours = time_steps(ours_executor, split.features, split.labels, our_steps)
        rows.append(
            {
                "simulator": backend,
                "shots": shots,
                "article_loop": base,
                "batched": ours,
                "executor": ours_executor.describe(),
                "article_30_epochs_s": base["step_s"] * STEPS_PER_EPOCH * EPOCHS,
                "batched_30_epochs_s": ours["step_s"] * STEPS_PER_EPOCH * EPOCHS,
                "speedup": base["step_s"] / ours["step_s"],
            }
        )
    return rows


def bench_features(quick: bool) -> list[dict]:
    from core.learning.backbones import BackboneUnavailable, get_info, load_backbone

    out = []
    for name in ("efficientnet_lite0", "resnet18"):
        note = "pre-trained weights"
        try:
            extractor = load_backbone(name)
            network = extractor.features
        except BackboneUnavailable:
            from torchvision.models import resnet18

            net = resnet18(weights=None).eval()
            net.fc = torch.nn.Identity()
            network = torch.no_grad()(net)
            note = "architecture only: ImageNet weights not downloadable here (same compute)"
        size = get_info(name).transform.crop
        batch = torch.randn(16, 3, size, size)
        network(batch)
        times = []
        for _ in range(2 if quick else 5):
            start = time.perf_counter()
            network(batch)
            times.append(time.perf_counter() - start)
        out.append({"backbone": name, "images_per_s": len(batch) / statistics.median(times), "batch": len(batch), "note": note})
    return out


def bench_prediction(checkpoint: Path, quick: bool) -> dict:
    from core.data.dataset import list_split
    from core.learning.checkpoints import load_checkpoint
    from core.learning.predict import Predictor
    from core.paths import default_data_dir

    predictor = Predictor(load_checkpoint(checkpoint))
    image = list_split(default_data_dir(), "test")[0].path
    predictor.predict(image)
    times = []
    for _ in range(5 if quick else 20):
        start = time.perf_counter()
        predictor.predict(image)
        times.append(time.perf_counter() - start)
    return {"median_s": statistics.median(times), "p95_s": sorted(times)[int(0.95 * (len(times) - 1))], "n": len(times)}


def bench_cold_retrain(quick: bool) -> dict:
    """features of all 410 images from an empty cache, then 30 epochs on default.qubit, in a child process."""
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "QTL_CACHE": str(Path(tmp) / "cache")}
        epochs = 3 if quick else EPOCHS
        command = [sys.executable, "-m", "core", "train", "--epochs", str(epochs),
                   "--runs-dir", f"{tmp}/runs", "--checkpoints-dir", f"{tmp}/ckpt"]
        start = time.perf_counter()
        subprocess.run(command, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wall = time.perf_counter() - start
        peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        record = json.loads(next(Path(tmp, "runs").glob("*.json")).read_text())
        checkpoint = next(Path(tmp, "ckpt").glob("*.pt"))
        prediction = bench_prediction(checkpoint, quick)
    return {
        "epochs": epochs, "wall_s": wall, "peak_rss_gib": peak_kib / 2**20,
        "feature_s": record["totals"]["feature_seconds"], "test_accuracy": record["test"]["accuracy"],
        "prediction": prediction,
    }


def table(results: dict) -> str:
    lines = [
        "| simulator | article loop s/step | batched s/step | speed-up | article loop, 30 epochs | batched, 30 epochs |",
        "|---|---|---|---|---|---|",
    ]
    for r in results["simulators"]:
        shots = f" ({r['shots']} shots)" if r["shots"] else " (analytic)"
        lines.append(
            f"| {r['simulator']}{shots} | {r['article_loop']['step_s']:.4f} ({r['article_loop']['steps']} steps) "
            f"| {r['batched']['step_s']:.4f} | {r['speedup']:.0f}× "
            f"| {_duration(r['article_30_epochs_s'])} | {_duration(r['batched_30_epochs_s'])} |"
        )
    lines.append("")
    for f in results["features"]:
        lines.append(f"feature extraction {f['backbone']}: {f['images_per_s']:.1f} images/s ({f['note']})")
    cold = results["cold_retrain"]
    lines.append(
        f"cold retrain (410 images through efficientnet_lite0 + {cold['epochs']} epochs default.qubit): "
        f"{cold['wall_s']:.1f} s wall, features {cold['feature_s']:.1f} s, peak memory {cold['peak_rss_gib']:.2f} GiB, "
        f"test accuracy {cold['test_accuracy']:.3f}"
    )
    p = cold["prediction"]
    lines.append(f"warm single-image prediction: median {p['median_s'] * 1000:.0f} ms, "
                 f"p95 {p['p95_s'] * 1000:.0f} ms ({p['n']} runs)")
    return "\n".join(lines)


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps and repeats (a smoke run)")
    parser.add_argument("--out", default=str(ROOT / "bench" / "out" / "training.json"))
    args = parser.parse_args()
    torch.set_num_threads(os.cpu_count() or 1)
    print("simulators (same steps, both paths, this process):", flush=True)
    results = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "simulators": bench_simulators(args.quick),
        "features": bench_features(args.quick),
        "cold_retrain": bench_cold_retrain(args.quick),
        "quick": args.quick,
        "when": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    print(table(results))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
