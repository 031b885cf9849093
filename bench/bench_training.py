"""Training speed: the article's per-sample loop, the batched path before the Aer changes, and the path now.

    python bench/bench_training.py [--quick] [--out bench/out/training.json]

For each simulator the paths run the same training steps (cached
efficientnet_lite0 features of the 240 training images, batch 4, one step =
forward + parameter-shift or adjoint backward + Adam) in this one process, on
this machine, one thread per library as training runs. An epoch is 60 steps
plus the validation pass (50 images); the per-step median is extrapolated to
the article's 30 epochs, the slow paths run only a few steps (their count is in
the table). "Before" is the batched path as it was (qiskit.aer: one Aer job
with a Result per row; with fake-device noise, Aer measuring every shot on its
density matrix), kept here as code (``BeforeAerSampler``); the other
simulators' paths did not change, so their before and now are one measurement.
The noisy row times a whole real epoch on the exact density path. Also measured:
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
NOISE = "fake_manila"
# (simulator, shots, noise, article-loop steps, before steps, now steps); the slow paths run only a few steps.
# The article loop is not run with noise: one step is 228 noisy PennyLane circuits, many minutes.
PLAN = [
    ("default.qubit", None, None, 20, 0, 120),
    ("lightning.qubit", None, None, 20, 0, 120),
    ("qiskit.aer", 1024, None, 2, 60, 120),
    ("cirq.simulator", 1024, None, 3, 0, 12),
    ("qiskit.aer", 1024, NOISE, 0, 3, STEPS_PER_EPOCH),
]


class BeforeAerSampler:
    """qiskit.aer as it was before core.execution.noisy_density (verbatim): the "before" column.

    Noiseless: one Aer job per step with a Result per row, shots drawn from its probabilities.
    Noisy: Aer measures every shot of the device circuit (its automatic method picks the density
    matrix for these shot counts, and samples and flips each shot's bits itself).
    """

    def __init__(self, spec: CircuitSpec, shots, seed, noise=None):
        import numpy as np
        from qiskit import transpile
        from qiskit_aer import AerSimulator

        from core.circuit.qiskit_circuit import qiskit_circuit
        from core.circuit.readout import z_signs
        from core.execution.noise import noisy_simulator

        self.spec, self.shots, self.noise = spec, shots, noise
        self.rng = np.random.default_rng(seed)
        circuit, self.theta = qiskit_circuit(spec, clbits=spec.n_qubits)
        if noise:
            circuit.measure(range(spec.n_qubits), range(spec.n_qubits))
            self.simulator = noisy_simulator(noise)
            layout = list(range(spec.n_qubits))
            self.circuit = transpile(circuit, self.simulator, initial_layout=layout, optimization_level=1, seed_transpiler=0)
        else:
            circuit.save_probabilities()
            self.simulator = AerSimulator(method="statevector")
            self.circuit = transpile(circuit, self.simulator, optimization_level=0)
        self.signs = z_signs(spec.n_qubits, big_endian=False)

    def run(self, rows):
        import numpy as np

        from core.circuit.readout import sample_expvals

        binds = [{p: rows[:, j] for j, p in enumerate(self.theta)}]
        seed = int(self.rng.integers(2**31))
        if not self.noise:
            result = self.simulator.run(self.circuit, parameter_binds=binds, shots=1, seed_simulator=seed).result()
            probs = np.stack([np.asarray(result.data(i)["probabilities"]) for i in range(len(rows))])
            return sample_expvals(probs, self.shots, self.signs, self.rng)
        result = self.simulator.run(self.circuit, parameter_binds=binds, shots=self.shots, seed_simulator=seed).result()
        counts = np.zeros((len(rows), 2**self.spec.n_qubits))
        for i in range(len(rows)):
            for bits, n in result.get_counts(i).items():
                counts[i, int(bits.replace(" ", ""), 2)] = n
        return counts @ self.signs / self.shots


def before_executor(spec: CircuitSpec, settings: ExecutionSettings) -> CircuitExecutor:
    from core.execution.shift_rule import ShiftRuleExecutor

    return ShiftRuleExecutor(spec, settings, BeforeAerSampler(spec, settings.shots, settings.seed, settings.noise))


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


def time_steps(executor: CircuitExecutor, splits: dict, steps: int, repeats: int = 3) -> dict:
    """Median seconds per training step over ``repeats`` runs of ``steps`` steps (after one warm-up step),
    and seconds for one validation pass (``core.learning.evaluate.evaluate_head`` on the 50 images).

    Every path runs as the training loop does, one thread per library (core.execution.threads.one_thread_per_library).
    """
    from core.execution.threads import one_thread_per_library

    with one_thread_per_library():
        return _time_steps(executor, splits["train"].features, splits["train"].labels, steps, repeats, splits["val"])


def _time_steps(executor: CircuitExecutor, features: torch.Tensor, labels: torch.Tensor, steps: int, repeats: int,
                val) -> dict:
    from core.learning.evaluate import evaluate_head

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
    per_step, cpu_per_step = [], []
    for _ in range(repeats):
        start, cpu = time.perf_counter(), time.process_time()
        for i in range(steps):
            step(i)
        per_step.append((time.perf_counter() - start) / steps)
        cpu_per_step.append((time.process_time() - cpu) / steps)
    start = time.perf_counter()
    evaluate_head(head, val)
    val_s = time.perf_counter() - start
    step_s = statistics.median(per_step)
    # CPU seconds of this process (all its threads): steadier than wall time when other work shares the machine
    return {"first_step_s": first, "step_s": step_s, "runs": per_step, "steps": steps, "repeats": repeats,
            "step_cpu_s": statistics.median(cpu_per_step), "validation_s": val_s, "epoch_s": step_s * STEPS_PER_EPOCH + val_s}


def bench_simulators(quick: bool, only: str | None = None, article: bool = True) -> list[dict]:
    from core.learning.features import load_split_features
    from core.paths import data_dir

    splits = {name: load_split_features(data_dir(), "efficientnet_lite0", name) for name in ("train", "val")}
    spec = CircuitSpec()
    rows = []
    for backend, shots, noise, base_steps, before_steps, our_steps in PLAN:
        if only and backend != only:
            continue
        if quick:
            base_steps, before_steps = min(base_steps, 1), min(before_steps, 2 if not noise else 1)
            our_steps = max(2, our_steps // 6)
        label = f"{backend}{' + ' + noise if noise else ''}"
        settings = ExecutionSettings(backend, shots, 0, noise)
        row = {"simulator": backend, "shots": shots, "noise": noise}
        if base_steps and article:
            repeats = 1 if backend in ("qiskit.aer", "cirq.simulator") else 3
            print(f"  {label}: article loop, {base_steps} steps × {repeats}", flush=True)
            row["article_loop"] = time_steps(ArticleLoopExecutor(backend, spec, shots), splits, base_steps, repeats)
        if before_steps:
            print(f"  {label}: before, {before_steps} steps", flush=True)
            row["before"] = time_steps(before_executor(spec, settings), splits, before_steps, repeats=1)
        # the noisy path now: one whole epoch, as training runs it
        repeats = 1 if noise else 3
        print(f"  {label}: now, {our_steps} steps × {repeats}", flush=True)
        ours_executor = make_executor(spec, settings)
        row["now"] = time_steps(ours_executor, splits, our_steps, repeats)
        row["executor"] = ours_executor.describe()
        row["before"] = row.get("before", row["now"])  # unchanged paths: one measurement
        row["before_is_now"] = not before_steps
        for key in ("article_loop", "before", "now"):
            if key in row:
                row[f"{key}_30_epochs_s"] = row[key]["epoch_s"] * EPOCHS
        if "article_loop" in row:
            row["speedup_vs_article"] = row["article_loop"]["step_s"] / row["now"]["step_s"]
        row["speedup_vs_before"] = row["before"]["epoch_s"] / row["now"]["epoch_s"]
        rows.append(row)
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
    from core.paths import data_dir

    predictor = Predictor(load_checkpoint(checkpoint))
    image = list_split(data_dir(), "test")[0].path
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
        "| simulator | article loop s/step | before s/step | now s/step | now vs article | now vs before "
        "| s/epoch before → now | 30 epochs: article loop / before / now | CPU s/step before → now |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results["simulators"]:
        shots = f" ({r['shots']} shots{', ' + r['noise'] if r['noise'] else ''})" if r["shots"] else " (analytic)"
        article = r.get("article_loop")
        before, now = r["before"], r["now"]
        before_text = "same" if r["before_is_now"] else f"{before['step_s']:.4f} ({before['steps']} steps)"
        article_text = f"{article['step_s']:.4f} ({article['steps']} steps)" if article else "not run"
        versus_article = f"{r['speedup_vs_article']:.0f}×" if article else "–"
        article_total = _duration(r["article_loop_30_epochs_s"]) if article else "–"
        lines.append(
            f"| {r['simulator']}{shots} | {article_text} | {before_text} | {now['step_s']:.4f} "
            f"| {versus_article} | {r['speedup_vs_before']:.1f}× | {before['epoch_s']:.2f} → {now['epoch_s']:.2f} "
            f"| {article_total} / {_duration(r['before_30_epochs_s'])} / {_duration(r['now_30_epochs_s'])} "
            f"| {before['step_cpu_s']:.4f} → {now['step_cpu_s']:.4f} |"
        )
    lines.append("(an epoch: 60 steps + the validation pass; 30 epochs: 30 × that, extrapolated from the steps run)")
    if "features" not in results:
        return "\n".join(lines)
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
    parser.add_argument("--only", metavar="SIMULATOR", help="only this simulator's rows, e.g. qiskit.aer")
    parser.add_argument("--no-article-loop", action="store_true", help="skip the article-loop column (minutes per step)")
    parser.add_argument("--simulators-only", action="store_true",
                        help="only the training-step table (no feature extraction or cold retrain)")
    parser.add_argument("--out", default=str(ROOT / "bench" / "out" / "training.json"))
    args = parser.parse_args()
    torch.set_num_threads(os.cpu_count() or 1)
    print("simulators (same steps, every path, this process):", flush=True)
    results = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "simulators": bench_simulators(args.quick, args.only, not args.no_article_loop),
        "quick": args.quick,
    }
    if not args.simulators_only:
        results["features"] = bench_features(args.quick)
        results["cold_retrain"] = bench_cold_retrain(args.quick)
    results["when"] = time.strftime("%Y-%m-%d %H:%M:%S")
    print(table(results))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
