"""A training run: the features, the fit, the test score, a run record after every epoch and the best model's checkpoint."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from core.data.dataset import CLASSES, SPLITS, content_hash
from core.execution.executor import CircuitExecutor, ExecutionCount
from core.execution.threads import one_thread_per_library
from core.learning.backbones import get_info
from core.learning.checkpoints import save_checkpoint
from core.learning.config import TrainConfig
from core.learning.evaluate import evaluate_head
from core.learning.features import SplitFeatures, load_split_features, split_in_background
from core.learning.heads import build_head, count_parameters
from core.learning.train import Cancelled, Progress, build_model, executor_in_background, fit
from core.paths import checkpoints_dir as default_checkpoints_dir
from core.paths import runs_dir as default_runs_dir
from core.results.records import SCHEMA, library_versions, now, write_record

FIT_SPLITS = ("train", "val")  # what the fit needs; the test split only once it is done


def run_training(
    config: TrainConfig,
    on_progress: Callable[[Progress], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    runs_dir: str | os.PathLike | None = None,
    checkpoints_dir: str | os.PathLike | None = None,
    run_id: str | None = None,
    extra: dict | None = None,
) -> dict:
    """Run one training; return its run record (also written to ``runs_dir``, default ``$QTL_RUNS_DIR``).

    ``extra`` adds fields to the record (a grid sweep's cell).
    """
    cfg = config.resolved()
    runs_dir = Path(runs_dir or default_runs_dir())
    checkpoints_dir = Path(checkpoints_dir or default_checkpoints_dir())
    record = new_record(cfg, run_id, extra)
    write_record(record, runs_dir)
    on_progress = on_progress or (lambda p: None)
    try:
        started = time.perf_counter()
        executor = executor_in_background(cfg)
        splits = load_features(cfg, on_progress, FIT_SPLITS)
        count_feature_seconds(record, time.perf_counter() - started)

        def on_epoch(metrics: dict) -> None:
            add_epoch(record, metrics, time.perf_counter() - started)
            write_record(record, runs_dir)

        warmed = executor.result() if executor else None  # its imports done before the pools are walked (threads.py)
        # the test split only at the end: extracted on one core while the fit runs on the other (single-threaded)
        with one_thread_per_library(), split_in_background(cfg.data_dir, cfg.backbone, "test", cfg.device) as test:
            trained = train_on_features(cfg, {**splits, "test": test}, on_epoch, on_progress,
                                        should_stop or (lambda: False), warmed)
            splits["test"] = test.result()
        describe_dataset(record, cfg, splits)
        finish_record(record, cfg, splits, trained, runs_dir, checkpoints_dir)
    except Cancelled:
        record.update(status="cancelled", finished=now())
        write_record(record, runs_dir)
        raise
    except BaseException as exc:
        record.update(status="failed", finished=now(), error=f"{type(exc).__name__}: {exc}")
        write_record(record, runs_dir)
        raise
    steps = -(-len(splits["train"].labels) // cfg.batch_size)
    on_progress(Progress("done", cfg.epochs, cfg.epochs, steps, steps, record["epochs"]))
    return record


def run_label(cfg: TrainConfig) -> str:
    """backbone-backend-shots[-noise], or backbone-classical head: names runs and checkpoints."""
    if cfg.head != "quantum":
        return f"{cfg.backbone}-{cfg.head}"
    shots = f"{cfg.shots}shots" if cfg.shots else "analytic"
    return "-".join(filter(None, [cfg.backbone, cfg.backend, shots, cfg.noise]))


def new_record(cfg: TrainConfig, run_id: str | None = None, extra: dict | None = None) -> dict:
    """A "running" record for the resolved ``cfg`` (not yet written); ``extra`` adds fields."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    run_id = run_id or f"{stamp}-{run_label(cfg)}-s{cfg.seed}-{uuid.uuid4().hex[:6]}"
    record = {
        "schema": SCHEMA, "run_id": run_id, "status": "running", "created": now(), "pid": os.getpid(),
        "config": asdict(cfg), "dataset": {}, "epochs": [], "versions": library_versions(),
        "totals": {"seconds": 0.0, "feature_seconds": 0.0, "circuits": 0, "shots": 0}, **(extra or {}),
    }
    if cfg.noise:
        from core.execution.noise import noise_record

        record["noise_model"] = noise_record(cfg.noise)
    return record


def load_features(cfg: TrainConfig, on_progress: Callable[[Progress], None] = lambda p: None,
                  split_names: tuple[str, ...] = SPLITS) -> dict[str, SplitFeatures]:
    """The backbone's features of the splits (from the cache where present; default every split): what a training runs on."""
    on_progress(Progress("features"))

    def features_done(done: int, total: int) -> None:
        on_progress(Progress("features", step=done, steps=total))

    return {name: load_split_features(cfg.data_dir, cfg.backbone, name, features_done, device=cfg.device)
            for name in split_names}


def describe_dataset(record: dict, cfg: TrainConfig, splits: dict[str, SplitFeatures]) -> None:
    """Fill the record's ``dataset`` block from every split's features."""
    record["dataset"] = {
        "path": cfg.data_dir,
        "hash": split_content_hash(cfg.data_dir, splits),
        "sizes": {name: len(s.labels) for name, s in splits.items()},
        "classes": list(CLASSES),
    }


def count_feature_seconds(record: dict, seconds: float) -> None:
    """The seconds until the fit could begin (its splits' features), the run's time so far."""
    record["totals"]["feature_seconds"] = record["totals"]["seconds"] = round(seconds, 3)


def split_content_hash(root: str | os.PathLike, splits: dict[str, SplitFeatures]) -> str:
    """The data set's content hash (the manifest's) from the sha256 its features were keyed by: no file read again."""
    root = Path(root)
    return content_hash((Path(path).relative_to(root).as_posix(), digest)
                        for split in splits.values() for path, digest in zip(split.paths, split.hashes, strict=True))


def add_epoch(record: dict, metrics: dict, seconds: float) -> None:
    """One finished epoch into the record; ``seconds`` since the run began (features included)."""
    record["epochs"].append(metrics)
    record["totals"].update(seconds=round(seconds, 3), circuits=sum(e["circuits"] for e in record["epochs"]),
                            shots=sum(e["shots"] for e in record["epochs"]))


@dataclass
class Trained:
    """A finished fit on given features: all its record and checkpoint need (plain data, so it can come back from a worker)."""

    epochs: list[dict]
    best: dict
    test: dict  # evaluate_head's answer on the test split
    state_dict: dict[str, torch.Tensor]  # the best epoch's weights
    in_features: int
    trainable_parameters: int
    executor: str
    seconds: float  # the fit and the test, not the features
    circuits: int
    shots: int


def train_on_features(
    cfg: TrainConfig,
    splits: dict[str, SplitFeatures | Future[SplitFeatures]],
    on_epoch: Callable[[dict], None] = lambda metrics: None,
    on_progress: Callable[[Progress], None] = lambda p: None,
    should_stop: Callable[[], bool] = lambda: False,
    executor: CircuitExecutor | None = None,
) -> Trained:
    """Fit a fresh head for the resolved ``cfg`` on ``splits`` and score it on the test split; writes nothing.

    ``executor``: the quantum head's, built already (:func:`core.learning.train.executor_in_background`).
    The test split may still be coming (a Future): it is waited for once the fit is done.
    """
    started = time.perf_counter()
    in_features = splits["train"].features.shape[1]
    with one_thread_per_library():
        head, executor = build_model(cfg, in_features, executor)
        count = executor.count if executor is not None else ExecutionCount()
        result = fit(cfg, head, count, splits, on_epoch, on_progress, should_stop)
        test = evaluate_head(head, _ready(splits["test"]))
    best = {"epoch": result.best_epoch, "val_acc": result.best_val_acc, "val_loss": result.best_val_loss}
    return Trained(
        epochs=result.history, best=best, test=test, in_features=in_features,
        state_dict={k: v.detach().clone() for k, v in head.state_dict().items()},
        trainable_parameters=count_parameters(head),
        executor=executor.describe() if executor is not None else f"classical {cfg.head} head",
        seconds=time.perf_counter() - started, circuits=count.circuits, shots=count.shots,
    )


def _ready(split: SplitFeatures | Future[SplitFeatures]) -> SplitFeatures:
    return split.result() if isinstance(split, Future) else split


def finish_record(record: dict, cfg: TrainConfig, splits: dict[str, SplitFeatures], trained: Trained,
                  runs_dir: Path, checkpoints_dir: Path) -> dict:
    """Complete the record of a fit: its scores, ``<run_id>.pt`` in ``checkpoints_dir``, the record written atomically."""
    record["epochs"] = trained.epochs
    record["trainable_parameters"] = trained.trainable_parameters
    record["totals"].update(seconds=round(record["totals"]["feature_seconds"] + trained.seconds, 3),
                            circuits=trained.circuits, shots=trained.shots)
    record["best"] = trained.best
    test = trained.test
    record["test"] = {
        "accuracy": test["accuracy"], "top1_error": test["top1_error"], "loss": test["loss"],
        "confusion": test["confusion"], "n": len(splits["test"].labels),
        # relative to the data folder, so a record shipped from one machine names the same images on another
        "misclassified": [Path(p).relative_to(cfg.data_dir).as_posix()
                          for p, guess, truth in zip(splits["test"].paths, test["predictions"], splits["test"].labels.tolist())
                          if guess != truth],
    }
    record["executor"] = trained.executor
    head = build_head(cfg.head, trained.in_features, cfg.spec, None, len(CLASSES), cfg.q_delta)
    head.load_state_dict(trained.state_dict)
    checkpoint = checkpoints_dir / f"{record['run_id']}.pt"
    save_checkpoint(checkpoint, head, _checkpoint_meta(cfg, record, trained.in_features))
    record.update(status="completed", finished=now(), checkpoint=checkpoint.name)
    write_record(record, runs_dir)
    return record


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
