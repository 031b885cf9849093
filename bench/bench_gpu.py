"""A CUDA GPU beside the CPU, in one run: the backbone, a cold retrain and the circuit's simulator.

    python bench/bench_gpu.py [--epochs 30] [--steps 200] [--out bench/out/gpu.json]

* Features: face-mask-410's 410 images through efficientnet_lite0 by
  ``core.learning.features.backbone_features`` (decode, transform, network; the
  model loaded) on the CPU and on CUDA: images/s, and the largest difference
  between the two (the feature cache is shared, so they must agree).
* The network alone, random 224x224 batches of 64: images/s on each.
* A cold retrain: ``python -m core train --device cpu|cuda`` (``--backend``,
  default.qubit; ``--epochs``) in a child process with an empty cache: wall seconds, the
  record's feature seconds, test accuracy and the final training loss.
* The circuit: default.qubit's compiled forward and VJP (the training step's
  circuit, a batch of 4) on JAX's CPU and on its GPU where this JAX has one, and
  PennyLane's torch interface on CPU and CUDA tensors: milliseconds a step.
* The sweep: ``python -m core experiments --device cuda --sequential`` (one
  default.qubit run, 1 epoch) finishes and writes a valid record.

Without a CUDA GPU it says so and fills the CPU column only. Prints a table,
writes bench/out/gpu.json.
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

import torch

from core.files import atomic_write_bytes

ROOT = Path(__file__).resolve().parent.parent
BACKBONE = "efficientnet_lite0"
CIRCUIT_CHILD = r"""
import json, sys, time
import torch
from core.circuit.definition import CircuitSpec
from core.execution.settings import ExecutionSettings
kind, device, steps = sys.argv[1], sys.argv[2], int(sys.argv[3])
spec = CircuitSpec()
if kind == "jax":
    import jax
    from core.execution.jax_executor import JaxDefaultQubitExecutor
    executor = JaxDefaultQubitExecutor(spec, ExecutionSettings("default.qubit", shots=None))
    platform = jax.devices()[0].platform
    step_device = "cpu"
else:
    from core.execution.pennylane_executor import PennyLaneExecutor
    executor = PennyLaneExecutor(spec, ExecutionSettings("default.qubit", shots=None))
    platform = device
    step_device = device
executor.warm_up()
gen = torch.Generator().manual_seed(0)
angles = torch.rand(4, spec.n_qubits, generator=gen, dtype=torch.float64).to(step_device).requires_grad_()
weights = torch.rand(*spec.weight_shape, generator=gen, dtype=torch.float64).to(step_device).requires_grad_()
def step():
    out = executor.expvals(angles, weights)
    out.sum().backward()
    return out
first = step()
if step_device == "cuda":
    torch.cuda.synchronize()
began = time.perf_counter()
for _ in range(steps):
    step()
if step_device == "cuda":
    torch.cuda.synchronize()
ms = (time.perf_counter() - began) / steps * 1000
print(json.dumps({"platform": platform, "ms_per_step": round(ms, 3),
                  "expvals": [round(float(v), 8) for v in first.detach().cpu().flatten()[:4]]}))
"""


def has_cuda() -> bool:
    return torch.cuda.is_available()


def dataset_paths() -> list[str]:
    from core.data.dataset import list_all
    from core.paths import data_dir

    return [str(s.path) for s in list_all(data_dir())]


def timed(fn, sync: bool) -> tuple[float, object]:
    if sync:
        torch.cuda.synchronize()
    began = time.perf_counter()
    out = fn()
    if sync:
        torch.cuda.synchronize()
    return time.perf_counter() - began, out


def bench_features(devices: list[str]) -> dict:
    """Images/s end to end and the network alone on each device; the features' largest difference to the CPU's."""
    paths, rows, features = dataset_paths(), {}, {}
    for device in devices:
        rows[device], features[device] = features_on(device, paths)
        print(f"  features on {device}: {rows[device]}", flush=True)
    if "cuda" in features:
        cpu, gpu = features["cpu"], features["cuda"]
        rows["cuda"]["largest_difference_to_cpu"] = float((cpu - gpu).abs().max())
        rows["cuda"]["cosine_min"] = float(torch.nn.functional.cosine_similarity(cpu, gpu).min())
    return rows


def features_on(device: str, paths: list[str]) -> tuple[dict, torch.Tensor]:
    from core.learning.backbones import load_backbone
    from core.learning.features import backbone_features

    extractor, on_cuda = load_backbone(BACKBONE, device=device), device == "cuda"
    backbone_features(extractor, paths[:64])  # warm: cuDNN picks its kernels, the first batches allocate
    seconds, features = timed(lambda: backbone_features(extractor, paths), on_cuda)
    batch = torch.rand(64, 3, 224, 224)
    extractor.features(batch)
    network = min(timed(lambda: extractor.features(batch), on_cuda)[0] for _ in range(3))
    row = {"images": len(paths), "seconds": round(seconds, 3), "images_per_s": round(len(paths) / seconds, 1),
           "network_images_per_s": round(64 / network, 1)}
    return row, features


def cold_retrain(device: str, epochs: int, backend: str) -> dict:
    """``python -m core train --device DEVICE`` in a child with an empty cache: wall seconds and what its record says."""
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "QTL_CACHE": str(Path(tmp, "cache"))}
        command = [sys.executable, "-m", "core", "train", "--device", device, "--epochs", str(epochs), "--backend", backend,
                   "--runs-dir", str(Path(tmp, "runs")), "--checkpoints-dir", str(Path(tmp, "ckpt"))]
        began = time.perf_counter()
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
        seconds = time.perf_counter() - began
        if done.returncode != 0:
            return {"error": done.stderr[-2000:]}
        record = json.loads(next(Path(tmp, "runs").glob("*.json")).read_text())
    return {"seconds": round(seconds, 2), "feature_seconds": record["totals"]["feature_seconds"],
            "test_accuracy": round(record["test"]["accuracy"], 4), "final_train_loss": record["epochs"][-1]["train_loss"]}


def circuit_step(kind: str, device: str, steps: int) -> dict:
    """ms per forward and backward of the training step's circuit, in a child (JAX's platform is set at start)."""
    env = dict(os.environ)
    if kind == "jax":
        env["JAX_PLATFORMS"] = device
    done = subprocess.run([sys.executable, "-c", CIRCUIT_CHILD, kind, device, str(steps)], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    if done.returncode != 0:
        return {"error": done.stderr[-1500:]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def sweep_on(device: str) -> dict:
    """One default.qubit run of the sweep, 1 epoch, sequentially, the backbone on ``device``."""
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "QTL_CACHE": str(Path(tmp, "cache"))}
        command = [sys.executable, "-m", "core", "experiments", "--device", device, "--sequential", "--epochs", "1",
                   "--only", "default.qubit", "--seeds", "0", "--runs-dir", str(Path(tmp, "runs")),
                   "--checkpoints-dir", str(Path(tmp, "ckpt"))]
        began = time.perf_counter()
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
        records = [json.loads(p.read_text()) for p in Path(tmp, "runs").glob("*.json")]
    if done.returncode != 0:
        return {"error": done.stderr[-2000:]}
    return {"seconds": round(time.perf_counter() - began, 2), "records": len(records),
            "status": [r["status"] for r in records], "test_accuracy": [r["test"]["accuracy"] for r in records]}


def machine() -> dict:
    info = {"python": platform.python_version(), "torch": torch.__version__, "cpus": os.cpu_count(),
            "cuda": torch.version.cuda, "gpu": torch.cuda.get_device_name(0) if has_cuda() else None}
    try:
        import jax

        info["jax"], info["jax_default_platform"] = jax.__version__, jax.default_backend()
    except Exception as exc:  # noqa: BLE001 - reported, not needed
        info["jax"] = f"unavailable: {exc}"
    return info


def print_table(result: dict) -> None:
    devices = list(result["features"])
    print(f"\n{'':44}" + "".join(f"{d:>14}" for d in devices))
    rows = [("features, images/s (410 images, end to end)", lambda d: result["features"][d]["images_per_s"]),
            ("the network alone, images/s (batch 64)", lambda d: result["features"][d]["network_images_per_s"]),
            ("cold retrain, s", lambda d: result["retrain"][d].get("seconds", "failed")),
            ("  of it features, s", lambda d: result["retrain"][d].get("feature_seconds", "-")),
            ("  test accuracy", lambda d: result["retrain"][d].get("test_accuracy", "-"))]
    for label, cell in rows:
        print(f"{label:44}" + "".join(f"{cell(d)!s:>14}" for d in devices))
    for name, row in result["circuit"].items():
        print(f"circuit step, {name:30}{row.get('ms_per_step', 'failed')!s:>14} ms  ({row.get('platform', '')})")
    if "cuda" in result["features"]:
        print(f"features' largest difference GPU - CPU: {result['features']['cuda']['largest_difference_to_cpu']:.2e}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--steps", type=int, default=200, help="circuit steps timed per column")
    parser.add_argument("--backend", default="default.qubit", help="the cold retrain's simulator")
    parser.add_argument("--out", default=str(ROOT / "bench" / "out" / "gpu.json"))
    args = parser.parse_args()
    devices = ["cpu", "cuda"] if has_cuda() else ["cpu"]
    if not has_cuda():
        print("no CUDA GPU here (torch sees none): the CPU column only", flush=True)
    result: dict = {"machine": machine(), "features": bench_features(devices)}
    result["retrain"] = {d: cold_retrain(d, args.epochs, args.backend) for d in devices}
    print(f"  retrain: {result['retrain']}", flush=True)
    jax_platforms = ["cpu", "cuda"] if has_cuda() else ["cpu"]
    result["circuit"] = {f"jax on {p}": circuit_step("jax", p, args.steps) for p in jax_platforms}
    result["circuit"].update({f"torch tensors on {d}": circuit_step("torch", d, max(args.steps // 10, 5))
                              for d in devices})
    result["sweep"] = sweep_on(devices[-1])
    print(f"  sweep on {devices[-1]}: {result['sweep']}", flush=True)
    print_table(result)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(out, json.dumps(result, indent=2).encode())
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
