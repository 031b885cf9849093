"""A training run: the features, the fit, the test score, a run record after every epoch and the best model's checkpoint."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

from core.data.dataset import CLASSES, dataset_hash
from core.execution.executor import ExecutionCount
from core.learning.backbones import get_info
from core.learning.checkpoints import save_checkpoint
from core.learning.config import TrainConfig
from core.learning.evaluate import evaluate_head
from core.learning.features import load_split_features
from core.learning.heads import count_parameters
from core.learning.train import Cancelled, Progress, build_model, fit, single_threaded
from core.paths import checkpoints_dir as default_checkpoints_dir
from core.paths import runs_dir as default_runs_dir
from core.results.records import SCHEMA, library_versions, now, write_record


def run_training(
    config: TrainConfig,
    on_progress: Callable[[Progress], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    runs_dir: str | os.PathLike | None = None,
    checkpoints_dir: str | os.PathLike | None = None,
    run_id: str | None = None,
) -> dict:
    """Run one training; return its run record (also written to ``runs_dir``, default ``$QTL_RUNS_DIR``)."""
    cfg = config.resolved()
    runs_dir = Path(runs_dir or default_runs_dir())
    checkpoints_dir = Path(checkpoints_dir or default_checkpoints_dir())
    record = _new_record(cfg, run_id)
    write_record(record, runs_dir)
    try:
        return _run(cfg, record, on_progress or (lambda p: None), should_stop or (lambda: False), runs_dir, checkpoints_dir)
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
    record = {
        "schema": SCHEMA, "run_id": run_id, "status": "running", "created": now(), "pid": os.getpid(),
        "config": asdict(cfg), "dataset": {}, "epochs": [], "versions": library_versions(),
        "totals": {"seconds": 0.0, "feature_seconds": 0.0, "circuits": 0, "shots": 0},
    }
    if cfg.noise:
        from core.execution.noise import noise_record

        record["noise_model"] = noise_record(cfg.noise)
    return record


def _run(cfg: TrainConfig, record: dict, on_progress, should_stop, runs_dir: Path, checkpoints_dir: Path) -> dict:
    started = time.perf_counter()
    on_progress(Progress("features"))
    def features_done(done: int, total: int) -> None:
        on_progress(Progress("features", step=done, steps=total))

    splits = {name: load_split_features(cfg.data_dir, cfg.backbone, name, features_done) for name in ("train", "val", "test")}
    record["dataset"] = {
        "path": cfg.data_dir,
        "hash": dataset_hash(cfg.data_dir),
        "sizes": {name: len(s.labels) for name, s in splits.items()},
        "classes": list(CLASSES),
    }
    record["totals"]["feature_seconds"] = round(time.perf_counter() - started, 3)
    with single_threaded():
        head, executor = build_model(cfg, splits["train"].features.shape[1])
        record["trainable_parameters"] = count_parameters(head)
        count = executor.count if executor is not None else ExecutionCount()

        def on_epoch(metrics: dict) -> None:
            record["epochs"].append(metrics)
            _update_totals(record, count, started)
            write_record(record, runs_dir)

        result = fit(cfg, head, count, splits, on_epoch, on_progress, should_stop)
        test = evaluate_head(head, splits["test"])
    _update_totals(record, count, started)
    record["best"] = {"epoch": result.best_epoch, "val_acc": result.best_val_acc, "val_loss": result.best_val_loss}
    record["test"] = {
        "accuracy": test["accuracy"], "top1_error": test["top1_error"], "loss": test["loss"],
        "confusion": test["confusion"], "n": len(splits["test"].labels),
        # relative to the data folder, so a record shipped from one machine names the same images on another
        "misclassified": [Path(p).relative_to(cfg.data_dir).as_posix()
                          for p, guess, truth in zip(splits["test"].paths, test["predictions"], splits["test"].labels.tolist())
                          if guess != truth],
    }
    record["executor"] = executor.describe() if executor is not None else f"classical {cfg.head} head"
    checkpoint = checkpoints_dir / f"{record['run_id']}.pt"
    save_checkpoint(checkpoint, head, _checkpoint_meta(cfg, record, splits["train"].features.shape[1]))
    record.update(status="completed", finished=now(), checkpoint=checkpoint.name)
    write_record(record, runs_dir)
    steps = -(-len(splits["train"].labels) // cfg.batch_size)
    on_progress(Progress("done", cfg.epochs, cfg.epochs, steps, steps, record["epochs"]))
    return record


def _update_totals(record: dict, count: ExecutionCount, started: float) -> None:
    record["totals"].update(seconds=round(time.perf_counter() - started, 3), circuits=count.circuits, shots=count.shots)


def _checkpoint_meta(cfg: TrainConfig, record: dict, in_features: int) -> dict:
    return {
        "run_id": record["run_id"], "created": now(), "backbone": cfg.backbone, "backend": cfg.backend,
        "shots": cfg.shots, "noise": cfg.noise, "seed": cfg.seed, "n_qubits": cfg.n_qubits, "depth": cfg.depth,
        "head": cfg.head, "classes": list(CLASSES), "in_features": in_features,
        "transform": asdict(get_info(cfg.backbone).transform), "dataset_hash": record["dataset"]["hash"],
        "metrics": {
            "best_epoch": record["best"]["epoch"], "val_accuracy": record["best"]["val_acc"],
            "test_accuracy": record["test"]["accuracy"], "test_top1_error": record["test"]["top1_error"],
        },
    }


def summary(record: dict) -> str:
    """A finished run in five lines, for the command line."""
    last, test, totals = record["epochs"][-1], record["test"], record["totals"]
    return (
        f"run {record['run_id']}\n"
        f"final epoch {last['epoch']}: train acc {last['train_acc']:.4f} loss {last['train_loss']:.4f}, "
        f"val acc {last['val_acc']:.4f} loss {last['val_loss']:.4f}\n"
        f"best epoch {record['best']['epoch']} (val acc {record['best']['val_acc']:.4f}); "
        f"test accuracy {test['accuracy']:.4f}, top-1 error {test['top1_error']:.4f}, confusion {test['confusion']}\n"
        f"{totals['seconds']:.1f} s in all ({totals['feature_seconds']:.1f} s features), "
        f"{totals['circuits']:,} circuits, {totals['shots']:,} shots\n"
        f"checkpoint: {record['checkpoint']}"
    )
