"""The article's experiment on every simulator, with NISQ noise and classical baselines.

``python -m core.experiments`` runs the article's protocol (face-mask-410,
240 : 50 : 120, 30 epochs, 4 qubits, depth 6) with the offline backbone for
each configuration below and 3 seeds, writing one run record per run into
``data/runs/`` and the best model of each configuration into ``checkpoints/``.
Finished runs are skipped, so an interrupted sweep resumes. ``--backbone
resnet18`` does the same with the article's backbone where its weights can be
downloaded.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from core.checkpoints import CHECKPOINTS_DIR
from core.records import RUNS_DIR, RecordError, read_record
from core.train import TrainConfig, run_label, train

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
    Experiment("qiskit.aer", 1024, "fake_manila"),
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
    runs_dir: Path = RUNS_DIR,
    checkpoints_dir: Path = CHECKPOINTS_DIR,
) -> list[dict]:
    """Run every experiment × seed not yet completed; keep the best model of each experiment."""
    runs_dir, checkpoints_dir = Path(runs_dir), Path(checkpoints_dir)
    plan = [
        config_for(e, backbone, seed, epochs, data_dir)
        for e in EXPERIMENTS
        if only is None or only in (e.backend if e.head == "quantum" else None, e.head, run_label(config_for(e, backbone, 0, epochs, data_dir).resolved()))
        for seed in seeds
    ]
    records = []
    with tempfile.TemporaryDirectory() as staging:
        for i, config in enumerate(plan, 1):
            rid = run_id(config)
            if is_done(runs_dir, rid):
                print(f"[{i}/{len(plan)}] {rid}: done already, skipped")
                records.append(read_record(runs_dir / f"{rid}.json"))
                continue
            print(f"[{i}/{len(plan)}] {rid}")
            from core.train import _cli_progress, summary

            record = train(config, on_progress=_cli_progress(), runs_dir=runs_dir, checkpoints_dir=staging, run_id=rid)
            print(summary(record))
            _keep_if_best(record, config, Path(staging), runs_dir, checkpoints_dir)
            records.append(record)
    return records


def _keep_if_best(record: dict, config: TrainConfig, staging: Path, runs_dir: Path, checkpoints_dir: Path) -> None:
    """Copy this run's model to checkpoints/best-<label>.pt unless another seed of it ranks higher.

    The record that holds the best model names it in ``checkpoint``; the others say None.
    """
    from core.records import write_record

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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m core.experiments", description=__doc__.split("\n")[0])
    parser.add_argument("--backbone", default="efficientnet_lite0", choices=["efficientnet_lite0", "resnet18"])
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated seeds (default: %(default)s)")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--only", default=None, help="one backend, head, or run label (e.g. qiskit.aer, mlp)")
    parser.add_argument("--data", default=None)
    parser.add_argument("--runs-dir", default=str(RUNS_DIR))
    parser.add_argument("--checkpoints-dir", default=str(CHECKPOINTS_DIR))
    parser.add_argument("--list", action="store_true", help="list the runs and whether each is done")
    args = parser.parse_args(argv)
    seeds = tuple(int(s) for s in args.seeds.split(","))
    if args.list:
        for e in EXPERIMENTS:
            for seed in seeds:
                rid = run_id(config_for(e, args.backbone, seed, args.epochs, args.data))
                print(("done    " if is_done(Path(args.runs_dir), rid) else "pending ") + rid)
        return 0
    try:
        run_all(args.backbone, seeds, args.epochs, args.only, args.data, Path(args.runs_dir), Path(args.checkpoints_dir))
    except (ValueError, RuntimeError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
