"""The article's experiment on every simulator, with NISQ noise and classical baselines; sweeps on one machine or on Ray.

``python -m core experiments`` runs the article's protocol (face-mask-410,
240 : 50 : 120, 30 epochs, 4 qubits, depth 6) with the offline backbone for
each configuration below and 3 seeds, writing one run record per run into
``data/runs/`` and the best model of each configuration into ``checkpoints/``.
Finished runs are skipped, so an interrupted sweep resumes. ``--backbone
resnet18`` does the same with the article's backbone where its weights can be
downloaded. A grid sweep (:mod:`core.results.grid`) goes through the same
:func:`run_plan`; with Ray (:mod:`core.results.ray_sweep`) the runs go to Ray's workers.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from core.execution.noise import DEFAULT_NOISE_DEVICE
from core.learning.config import TrainConfig
from core.learning.train import Progress
from core.paths import checkpoints_dir as default_checkpoints_dir
from core.paths import runs_dir as default_runs_dir
from core.results.records import RecordError, read_record, write_record
from core.results.runs import run_label, run_training

if TYPE_CHECKING:
    from core.results.ray_sweep import RayOptions

SEEDS = (0, 1, 2)

OnRun = Callable[[int, int, str, "dict | None"], None]
ProgressFactory = Callable[[], Callable[[Progress], None]]


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


@dataclass(frozen=True)
class PlannedRun:
    """One (configuration, seed) of a sweep: its record's name and resolved configuration.

    ``grid`` is a grid cell's settings, written into its record; a grid run keeps no model (records only).
    """

    run_id: str
    config: TrainConfig
    grid: dict | None = field(default=None)

    @property
    def extra(self) -> dict:
        return {"grid": self.grid} if self.grid is not None else {}


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


def plan_experiments(backbone: str = "efficientnet_lite0", seeds: tuple[int, ...] = SEEDS, epochs: int = 30,
                     only: str | None = None, data_dir: str | None = None) -> list[PlannedRun]:
    """Every experiment (or the one ``only`` names) × seed, in order."""
    chosen = [e for e in EXPERIMENTS if _chosen(e, only, backbone, epochs, data_dir)]
    configs = [config_for(e, backbone, seed, epochs, data_dir) for e in chosen for seed in seeds]
    return [PlannedRun(run_id(c), c.resolved()) for c in configs]


def run_plan(
    plan: list[PlannedRun],
    runs_dir: Path | None = None,
    checkpoints_dir: Path | None = None,
    on_run: OnRun = lambda i, n, rid, record: None,
    progress: ProgressFactory = lambda: (lambda p: None),
    ray: RayOptions | None = None,
) -> list[dict]:
    """Run every planned run not yet completed, one after another here, or as Ray tasks with ``ray``.

    ``on_run(i, n, run_id, record)`` is told when a run starts (``record`` None) and when it ends (its record,
    "completed" or "failed"), or once with the record of a run finished before; ``progress()`` makes each run's
    progress callback. A failed run is reported and the others go on. Returns the records in plan order.
    """
    runs_dir, checkpoints_dir = Path(runs_dir or default_runs_dir()), Path(checkpoints_dir or default_checkpoints_dir())
    records: dict[str, dict] = {}
    todo = []
    for i, run in enumerate(plan, 1):
        if is_done(runs_dir, run.run_id):
            records[run.run_id] = read_record(runs_dir / f"{run.run_id}.json")
            on_run(i, len(plan), run.run_id, records[run.run_id])
        else:
            todo.append((i, run))
    with tempfile.TemporaryDirectory() as staging:
        def settled(i: int, run: PlannedRun, record: dict) -> None:
            if record["status"] == "completed":
                _settle(run, record, Path(staging), runs_dir, checkpoints_dir)
            records[run.run_id] = record
            on_run(i, len(plan), run.run_id, record)

        if ray is not None and todo:
            from core.results.ray_sweep import run_on_ray

            run_on_ray(todo, ray, runs_dir, Path(staging), len(plan), on_run, progress, settled)
        else:
            for i, run in todo:
                on_run(i, len(plan), run.run_id, None)
                settled(i, run, _train_here(run, runs_dir, Path(staging), progress()))
    return [records[r.run_id] for r in plan if r.run_id in records]


def _train_here(run: PlannedRun, runs_dir: Path, staging: Path, on_progress: Callable[[Progress], None]) -> dict:
    """One run in this process; a failure comes back as its "failed" record."""
    try:
        return run_training(run.config, on_progress, runs_dir=runs_dir, checkpoints_dir=staging, run_id=run.run_id,
                            extra=run.extra)
    except Exception:
        return read_record(runs_dir / f"{run.run_id}.json")


def _settle(run: PlannedRun, record: dict, staging: Path, runs_dir: Path, checkpoints_dir: Path) -> None:
    """A finished run's model: kept if it is its experiment's best seed; a grid run keeps none."""
    if run.grid is None:
        _keep_if_best(record, run.config, staging, runs_dir, checkpoints_dir)
    else:
        record["checkpoint"] = None
        write_record(record, runs_dir)


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
