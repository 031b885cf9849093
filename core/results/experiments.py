"""The article's experiment on every simulator, with NISQ noise and classical baselines.

``python -m core experiments`` runs the article's protocol (face-mask-410,
240 : 50 : 120, 30 epochs, 4 qubits, depth 6) with the offline backbone for
each configuration below and 3 seeds, writing one run record per run into
``data/runs/`` and the best model of each configuration into ``checkpoints/``.
Finished runs are skipped, so an interrupted sweep resumes. ``--backbone
resnet18`` does the same with the article's backbone where its weights can be
downloaded.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from core.execution.noise import DEFAULT_NOISE_DEVICE
from core.learning.config import TrainConfig
from core.learning.train import Progress
from core.paths import checkpoints_dir as default_checkpoints_dir
from core.paths import runs_dir as default_runs_dir
from core.results.records import RecordError, read_record, write_record
from core.results.runs import run_label, run_training

SEEDS = (0, 1, 2)


@dataclass(frozen=True)
class Experiment:
    backend: str
    shots: int | None
    noise: str | None = None
    head: str = "quantum"


EXPERIMENTS = (
    Experiment("default.qubit", None),
    Experiment("lightning.qubit", None),
    Experiment("qiskit.aer", 1024),
    Experiment("cirq.simulator", 1024),
    Experiment("qiskit.aer", 1024, DEFAULT_NOISE_DEVICE),
    Experiment("default.qubit", None, head="linear"),
    Experiment("default.qubit", None, head="mlp"),
)


def config_for(experiment: Experiment, backbone: str, seed: int, epochs: int, data_dir: str | None) -> TrainConfig:
    return TrainConfig(
        backbone=backbone, backend=experiment.backend, shots=experiment.shots, noise=experiment.noise,
        head=experiment.head, seed=seed, epochs=epochs, data_dir=data_dir,
    )


def run_id(config: TrainConfig) -> str:
    """Deterministic, so a rerun finds what is done: ``exp-<label>-e<epochs>-s<seed>``."""
    return f"exp-{run_label(config.resolved())}-e{config.epochs}-s{config.seed}"


def is_done(runs_dir: Path, rid: str) -> bool:
    path = runs_dir / f"{rid}.json"
    try:
        return read_record(path)["status"] == "completed"
    except RecordError:
        return False


def best_checkpoint_name(config: TrainConfig) -> str:
    return f"best-{run_label(config.resolved())}.pt"


def run_all(
    backbone: str = "efficientnet_lite0",
    seeds: tuple[int, ...] = SEEDS,
    epochs: int = 30,
    only: str | None = None,
    data_dir: str | None = None,
    runs_dir: Path | None = None,
    checkpoints_dir: Path | None = None,
    on_run: Callable[[int, int, str, dict | None], None] = lambda i, n, rid, record: None,
    progress: Callable[[], Callable[[Progress], None]] = lambda: (lambda p: None),
) -> list[dict]:
    """Run every experiment × seed not yet completed; keep the best model of each experiment.

    ``on_run(i, n, run_id, record)`` is told before each run (``record`` None) and after it, or once with the
    finished record for a run done before; ``progress()`` makes each run's progress callback.
    """
    runs_dir, checkpoints_dir = Path(runs_dir or default_runs_dir()), Path(checkpoints_dir or default_checkpoints_dir())
    plan = [config_for(e, backbone, seed, epochs, data_dir) for e in EXPERIMENTS if _chosen(e, only, backbone, epochs, data_dir)
            for seed in seeds]
    records = []
    with tempfile.TemporaryDirectory() as staging:
        for i, config in enumerate(plan, 1):
            rid = run_id(config)
            if is_done(runs_dir, rid):
                records.append(read_record(runs_dir / f"{rid}.json"))
                on_run(i, len(plan), rid, records[-1])
                continue
            on_run(i, len(plan), rid, None)
            record = run_training(config, on_progress=progress(), runs_dir=runs_dir, checkpoints_dir=staging, run_id=rid)
            _keep_if_best(record, config, Path(staging), runs_dir, checkpoints_dir)
            on_run(i, len(plan), rid, record)
            records.append(record)
    return records


def _chosen(experiment: Experiment, only: str | None, backbone: str, epochs: int, data_dir: str | None) -> bool:
    """Whether ``--only`` names this experiment: by backend (quantum heads), head, or run label."""
    if only is None:
        return True
    label = run_label(config_for(experiment, backbone, 0, epochs, data_dir).resolved())
    return only in (experiment.backend if experiment.head == "quantum" else None, experiment.head, label)


def _keep_if_best(record: dict, config: TrainConfig, staging: Path, runs_dir: Path, checkpoints_dir: Path) -> None:
    """Copy this run's model to checkpoints/best-<label>.pt unless another seed of it ranks higher.

    The record that holds the best model names it in ``checkpoint``; the others say None.
    """
    target = checkpoints_dir / best_checkpoint_name(config)
    siblings = []
    for seed in SEEDS:
        path = runs_dir / f"{run_id(replace(config, seed=seed))}.json"
        if seed != config.seed and path.is_file():
            try:
                siblings.append(read_record(path))
            except RecordError:
                continue
    holder = next((r for r in siblings if r.get("checkpoint") == target.name), None)
    if holder is not None and target.is_file() and _rank(holder) > _rank(record):
        record["checkpoint"] = None
    else:
        checkpoints_dir.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".pt.part")
        shutil.copyfile(staging / record["checkpoint"], tmp)
        tmp.replace(target)
        record["checkpoint"] = target.name
        if holder is not None:
            write_record({**holder, "checkpoint": None}, runs_dir)
    write_record(record, runs_dir)


def _rank(record: dict) -> tuple[float, float, int]:
    """Best by validation accuracy, then test accuracy; the lower seed wins ties."""
    return (record["best"]["val_acc"], record["test"]["accuracy"], -record["config"]["seed"])
