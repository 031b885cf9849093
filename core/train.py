"""Train the dressed quantum head on cached backbone features.

``python -m core.train --backbone efficientnet_lite0 --backend default.qubit --epochs 30``

The article's protocol by default: Adam 4e-4, StepLR(10, 0.1), batch 4,
30 epochs, cross-entropy; the best model by validation accuracy (then loss)
is kept, evaluated on the test split, and saved with a run record.
"""

from __future__ import annotations

import argparse
import copy
import math
import numbers
import os
import sys
import time
import uuid
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import torch
from torch import nn

from core.backbones import get_info
from core.backends import get_backend, resolve_shots, training_backends
from core.checkpoints import CHECKPOINTS_DIR, save_checkpoint
from core.circuit import CircuitSpec
from core.data import CLASSES, dataset_hash, default_data_dir, list_split
from core.features import extract_features
from core.model import HEAD_KINDS, Q_DELTA, build_head, count_parameters
from core.quantum import ExecutionCount, make_executor
from core.records import RUNS_DIR, SCHEMA, library_versions, now, write_record

MAX_EPOCHS = 200  # a bound for requests from the app; the article uses 30

EVAL_BATCH = 64


@dataclass
class TrainConfig:
    backbone: str = "efficientnet_lite0"
    backend: str = "default.qubit"
    shots: int | None | str = "default"
    epochs: int = 30
    batch_size: int = 4
    lr: float = 4e-4
    step_size: int = 10
    gamma: float = 0.1
    q_delta: float = Q_DELTA
    n_qubits: int = 4
    depth: int = 6
    seed: int = 0
    data_dir: str | None = None
    noise: str | None = None
    head: str = "quantum"  # or a classical reference: "linear", "mlp"

    @classmethod
    def from_dict(cls, settings: dict) -> TrainConfig:
        """From a request's dict (the retrain panel's): unknown keys are a ValueError, not a TypeError."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(settings) - known)
        if unknown:
            raise ValueError(f"unknown training setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        return cls(**settings)

    def resolved(self) -> TrainConfig:
        """A copy with defaults filled in and every bound checked."""
        cfg = copy.copy(self)
        cfg.shots = resolve_shots(cfg.backend, cfg.shots)
        backend = get_backend(cfg.backend)
        if not backend.trains:
            raise ValueError(f"{cfg.backend} is for {backend.purpose}; train on one of "
                             f"{', '.join(b.name for b in training_backends())}")
        cfg.data_dir = str(cfg.data_dir or default_data_dir())
        get_info(cfg.backbone)
        CircuitSpec(cfg.n_qubits, cfg.depth)
        if cfg.head not in HEAD_KINDS:
            raise ValueError(f"unknown head {cfg.head!r}; choose one of {', '.join(HEAD_KINDS)}")
        if cfg.noise:
            from core.noise import describe

            describe(cfg.noise)
        for name, low, high in (("epochs", 1, MAX_EPOCHS), ("batch_size", 1, 256), ("step_size", 1, 10_000), ("seed", 0, 2**31 - 1)):
            _check_whole(name, getattr(cfg, name), low, high)
        for name, low, high in (("lr", 1e-8, 10.0), ("gamma", 1e-6, 1.0), ("q_delta", 0.0, 10.0)):
            _check_real(name, getattr(cfg, name), low, high)
        if cfg.noise and not backend.supports_noise:
            raise ValueError(f"backend {cfg.backend!r} does not take a noise model; use qiskit.aer")
        return cfg


def _check_whole(name: str, value, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not low <= value <= high:
        raise ValueError(f"{name} must be a whole number between {low} and {high}, got {value!r}")


def _check_real(name: str, value, low: float, high: float) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or not low <= value <= high:
        raise ValueError(f"{name} must be a number between {low:g} and {high:g}, got {value!r}")


@dataclass
class Progress:
    """What the app's progress bar and live curves read."""

    phase: str  # "features" | "train" | "done"
    epoch: int = 0
    epochs: int = 0
    step: int = 0
    steps: int = 0
    history: list[dict] = field(default_factory=list)


class Cancelled(Exception):
    """Training was stopped by its ``should_stop`` callback."""


@dataclass
class SplitFeatures:
    features: torch.Tensor
    labels: torch.Tensor
    paths: list[str]


def load_split_features(data_dir: str | os.PathLike, backbone: str, split: str, progress=None) -> SplitFeatures:
    samples = list_split(data_dir, split)
    paths = [str(s.path) for s in samples]
    features = extract_features(paths, backbone, progress=progress)
    return SplitFeatures(features, torch.tensor([s.label for s in samples]), paths)


@torch.no_grad()
def evaluate_head(head: nn.Module, split: SplitFeatures, batch_size: int = EVAL_BATCH) -> dict[str, Any]:
    """Loss, accuracy, confusion matrix (rows = true class) and predictions on one split."""
    head.eval()
    losses, predictions, probabilities = [], [], []
    for start in range(0, len(split.labels), batch_size):
        logits = head(split.features[start : start + batch_size])
        losses.append(nn.functional.cross_entropy(logits, split.labels[start : start + batch_size], reduction="sum"))
        probabilities.append(logits.softmax(-1))
        predictions.append(logits.argmax(-1))
    predicted = torch.cat(predictions)
    n_classes = head.post_net.out_features
    confusion = torch.zeros(n_classes, n_classes, dtype=torch.long)
    for truth, guess in zip(split.labels.tolist(), predicted.tolist()):
        confusion[truth, guess] += 1
    accuracy = (predicted == split.labels).float().mean().item()
    return {
        "loss": torch.stack(losses).sum().item() / len(split.labels),
        "accuracy": accuracy,
        "top1_error": 1.0 - accuracy,
        "confusion": confusion.tolist(),
        "predictions": predicted.tolist(),
        "probabilities": torch.cat(probabilities).tolist(),
    }


def train(
    config: TrainConfig,
    on_progress: Callable[[Progress], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    runs_dir: str | os.PathLike = RUNS_DIR,
    checkpoints_dir: str | os.PathLike = CHECKPOINTS_DIR,
    run_id: str | None = None,
) -> dict:
    """Run one training; return its run record (also written to ``runs_dir``)."""
    cfg = config.resolved()
    record = _new_record(cfg, run_id)
    write_record(record, runs_dir)
    try:
        return _train(cfg, record, on_progress or (lambda p: None), should_stop or (lambda: False), runs_dir, checkpoints_dir)
    except Cancelled:
        record.update(status="cancelled", finished=now())
        write_record(record, runs_dir)
        raise
    except BaseException as exc:
        record.update(status="failed", finished=now(), error=f"{type(exc).__name__}: {exc}")
        write_record(record, runs_dir)
        raise


def run_label(cfg: TrainConfig) -> str:
    """backbone-backend-shots[-noise], or backbone-classical head: names runs and checkpoints."""
    if cfg.head != "quantum":
        return f"{cfg.backbone}-{cfg.head}"
    shots = f"{cfg.shots}shots" if cfg.shots else "analytic"
    return "-".join(filter(None, [cfg.backbone, cfg.backend, shots, cfg.noise]))


def _new_record(cfg: TrainConfig, run_id: str | None) -> dict:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    run_id = run_id or f"{stamp}-{run_label(cfg)}-s{cfg.seed}-{uuid.uuid4().hex[:6]}"
    config = asdict(cfg)
    record = {
        "schema": SCHEMA, "run_id": run_id, "status": "running", "created": now(), "pid": os.getpid(),
        "config": config, "dataset": {}, "epochs": [], "versions": library_versions(),
        "totals": {"seconds": 0.0, "feature_seconds": 0.0, "circuits": 0, "shots": 0},
    }
    if cfg.noise:
        from core.noise import noise_record

        record["noise_model"] = noise_record(cfg.noise)
    return record


def _train(cfg: TrainConfig, record: dict, on_progress, should_stop, runs_dir, checkpoints_dir) -> dict:
    started = time.perf_counter()
    on_progress(Progress("features"))
    splits = {
        name: load_split_features(cfg.data_dir, cfg.backbone, name, lambda d, t: on_progress(Progress("features", step=d, steps=t)))
        for name in ("train", "val", "test")
    }
    record["dataset"] = {
        "path": cfg.data_dir,
        "hash": dataset_hash(cfg.data_dir),
        "sizes": {name: len(s.labels) for name, s in splits.items()},
        "classes": list(CLASSES),
    }
    record["totals"]["feature_seconds"] = round(time.perf_counter() - started, 3)

    with single_threaded():
        return _fit(cfg, record, splits, on_progress, should_stop, runs_dir, checkpoints_dir, started)


@contextmanager
def single_threaded():
    """Run the training loop on one thread per library.

    The head's layers and the 4-qubit simulations are tiny: with OpenMP pools
    of torch, Aer and lightning spinning against each other (and against any
    other process), a step was 10–100× slower than on one thread.
    """
    from threadpoolctl import ThreadpoolController

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with ThreadpoolController().limit(limits=1):
            yield
    finally:
        torch.set_num_threads(threads)


def _fit(cfg: TrainConfig, record: dict, splits: dict, on_progress, should_stop, runs_dir, checkpoints_dir, started: float) -> dict:
    torch.manual_seed(cfg.seed)
    spec = CircuitSpec(cfg.n_qubits, cfg.depth)
    executor = make_executor(cfg.backend, spec, shots=cfg.shots, seed=cfg.seed, noise=cfg.noise) if cfg.head == "quantum" else None
    head = build_head(cfg.head, splits["train"].features.shape[1], spec, executor, len(CLASSES), cfg.q_delta)
    record["trainable_parameters"] = count_parameters(head)
    count = executor.count if executor is not None else ExecutionCount()
    optimizer = torch.optim.Adam(head.parameters(), lr=cfg.lr)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=cfg.step_size, gamma=cfg.gamma)
    order = torch.Generator().manual_seed(cfg.seed)
    best_state, best_key, best_epoch = copy.deepcopy(head.state_dict()), (-1.0, 0.0), 0
    train_split = splits["train"]
    steps = (len(train_split.labels) + cfg.batch_size - 1) // cfg.batch_size

    for epoch in range(1, cfg.epochs + 1):
        epoch_start = time.perf_counter()
        circuits_before, shots_before = count.circuits, count.shots
        head.train()
        total_loss, correct = 0.0, 0
        permutation = torch.randperm(len(train_split.labels), generator=order)
        for step in range(steps):
            if should_stop():
                raise Cancelled()
            index = permutation[step * cfg.batch_size : (step + 1) * cfg.batch_size]
            logits = head(train_split.features[index])
            loss = nn.functional.cross_entropy(logits, train_split.labels[index])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total_loss += loss.item() * len(index)
            correct += (logits.argmax(-1) == train_split.labels[index]).sum().item()
            on_progress(Progress("train", epoch, cfg.epochs, step + 1, steps, record["epochs"]))
        lr = optimizer.param_groups[0]["lr"]
        scheduler.step()
        val = evaluate_head(head, splits["val"])
        metrics = {
            "epoch": epoch,
            "train_loss": total_loss / len(train_split.labels),
            "train_acc": correct / len(train_split.labels),
            "val_loss": val["loss"],
            "val_acc": val["accuracy"],
            "seconds": round(time.perf_counter() - epoch_start, 4),
            "circuits": count.circuits - circuits_before,
            "shots": count.shots - shots_before,
            "lr": lr,
        }
        record["epochs"].append(metrics)
        if (val["accuracy"], -val["loss"]) > best_key:
            best_key, best_epoch = (val["accuracy"], -val["loss"]), epoch
            best_state = copy.deepcopy(head.state_dict())
        _update_totals(record, count, started)
        write_record(record, runs_dir)
        on_progress(Progress("train", epoch, cfg.epochs, steps, steps, record["epochs"]))

    head.load_state_dict(best_state)
    test = evaluate_head(head, splits["test"])
    _update_totals(record, count, started)
    record["best"] = {"epoch": best_epoch, "val_acc": best_key[0], "val_loss": -best_key[1]}
    record["test"] = {
        "accuracy": test["accuracy"], "top1_error": test["top1_error"], "loss": test["loss"],
        "confusion": test["confusion"], "n": len(splits["test"].labels),
        # relative to the data folder, so a record shipped from one machine names the same images on another
        "misclassified": [Path(p).relative_to(cfg.data_dir).as_posix()
                          for p, guess, truth in zip(splits["test"].paths, test["predictions"], splits["test"].labels.tolist()) if guess != truth],
    }
    record["executor"] = executor.describe() if executor is not None else f"classical {cfg.head} head"
    checkpoint = Path(checkpoints_dir) / f"{record['run_id']}.pt"
    save_checkpoint(checkpoint, head, _checkpoint_meta(cfg, record, train_split.features.shape[1]))
    record.update(status="completed", finished=now(), checkpoint=checkpoint.name)
    write_record(record, runs_dir)
    on_progress(Progress("done", cfg.epochs, cfg.epochs, steps, steps, record["epochs"]))
    return record


def _update_totals(record: dict, count: ExecutionCount, started: float) -> None:
    record["totals"].update(seconds=round(time.perf_counter() - started, 3), circuits=count.circuits, shots=count.shots)


def _checkpoint_meta(cfg: TrainConfig, record: dict, in_features: int) -> dict:
    return {
        "run_id": record["run_id"],
        "created": now(),
        "backbone": cfg.backbone,
        "backend": cfg.backend,
        "shots": cfg.shots,
        "noise": cfg.noise,
        "seed": cfg.seed,
        "n_qubits": cfg.n_qubits,
        "depth": cfg.depth,
        "head": cfg.head,
        "classes": list(CLASSES),
        "in_features": in_features,
        "transform": asdict(get_info(cfg.backbone).transform),
        "dataset_hash": record["dataset"]["hash"],
        "metrics": {
            "best_epoch": record["best"]["epoch"],
            "val_accuracy": record["best"]["val_acc"],
            "test_accuracy": record["test"]["accuracy"],
            "test_top1_error": record["test"]["top1_error"],
        },
    }


def _parse_shots(text: str) -> int | str | None:
    if text == "default":
        return "default"
    if text in ("0", "none", "analytic"):
        return None
    return int(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m core.train", description="Train the dressed quantum head.")
    defaults = TrainConfig()
    parser.add_argument("--backbone", default=defaults.backbone, choices=["resnet18", "efficientnet_lite0"])
    parser.add_argument("--backend", default=defaults.backend)
    parser.add_argument("--shots", default="default", type=_parse_shots, help="a count, 'analytic', or 'default' (1024 for qiskit/cirq)")
    parser.add_argument("--noise", default=None, help="a fake IBM device for qiskit.aer noise, e.g. fake_manila")
    parser.add_argument("--head", default="quantum", choices=list(HEAD_KINDS), help="the dressed circuit, or a classical reference head")
    parser.add_argument("--epochs", type=int, default=defaults.epochs)
    parser.add_argument("--batch-size", type=int, default=defaults.batch_size)
    parser.add_argument("--lr", type=float, default=defaults.lr)
    parser.add_argument("--qubits", type=int, default=defaults.n_qubits)
    parser.add_argument("--depth", type=int, default=defaults.depth)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--data", default=None, help="data set folder (train/ val/ test/); default: fetched or ../shared")
    parser.add_argument("--runs-dir", default=str(RUNS_DIR))
    parser.add_argument("--checkpoints-dir", default=str(CHECKPOINTS_DIR))
    parser.add_argument("--resnet18-weights", default=None, help="a local resnet18 ImageNet weights file")
    args = parser.parse_args(argv)
    if args.resnet18_weights:
        os.environ["QTL_RESNET18_WEIGHTS"] = args.resnet18_weights
    config = TrainConfig(
        backbone=args.backbone, backend=args.backend, shots=args.shots, epochs=args.epochs,
        batch_size=args.batch_size, lr=args.lr, n_qubits=args.qubits, depth=args.depth,
        seed=args.seed, data_dir=args.data, noise=args.noise, head=args.head,
    )
    try:
        record = train(config, on_progress=_cli_progress(), runs_dir=args.runs_dir, checkpoints_dir=args.checkpoints_dir)
    except (ValueError, RuntimeError, FileNotFoundError) as exc:
        print(f"\nerror: {exc}", file=sys.stderr)
        return 1
    print(summary(record))
    return 0


def summary(record: dict) -> str:
    last = record["epochs"][-1]
    test = record["test"]
    return (
        f"run {record['run_id']}\n"
        f"final epoch {last['epoch']}: train acc {last['train_acc']:.4f} loss {last['train_loss']:.4f}, "
        f"val acc {last['val_acc']:.4f} loss {last['val_loss']:.4f}\n"
        f"best epoch {record['best']['epoch']} (val acc {record['best']['val_acc']:.4f}); "
        f"test accuracy {test['accuracy']:.4f}, top-1 error {test['top1_error']:.4f}, confusion {test['confusion']}\n"
        f"{record['totals']['seconds']:.1f} s in all ({record['totals']['feature_seconds']:.1f} s features), "
        f"{record['totals']['circuits']:,} circuits, {record['totals']['shots']:,} shots\n"
        f"checkpoint: checkpoints/{record['checkpoint']}"
    )


def _cli_progress() -> Callable[[Progress], None]:
    from tqdm import tqdm

    bars: dict[str, Any] = {}

    def show(p: Progress) -> None:
        if p.phase == "features" and p.steps:
            bar = bars.get("features")
            if bar is None or bar.total != p.steps or p.step < bar.n:
                bar = bars["features"] = tqdm(total=p.steps, desc="features", unit="img", leave=False)
            bar.update(p.step - bar.n)
        elif p.phase == "train":
            bar = bars.get("train")
            if bar is None:
                bar = bars["train"] = tqdm(total=p.epochs * p.steps, desc="training", unit="step", mininterval=0.5)
            bar.update((p.epoch - 1) * p.steps + p.step - bar.n)
            if p.history and p.step == p.steps:
                h = p.history[-1]
                bar.set_postfix(epoch=h["epoch"], loss=f"{h['train_loss']:.3f}", acc=f"{h['train_acc']:.3f}", val=f"{h['val_acc']:.3f}", refresh=False)
        elif p.phase == "done":
            for bar in bars.values():
                bar.close()

    return show


if __name__ == "__main__":
    sys.exit(main())
