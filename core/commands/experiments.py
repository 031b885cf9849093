"""``python -m core experiments``: the article's protocol on every simulator, with noise and classical baselines, 3 seeds.

Or a grid study (``--grid qubits=2,4,6,8 depth=1,3,6,10``). The runs go to a local Ray instance on this machine's
cores when Ray is installed, to a Ray cluster with ``--address``, else one after another. Finished runs are
skipped, so an interrupted sweep resumes. docs/sweeps.md tells how to run one on a cluster.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from core.commands.train import DEVICE_HELP
from core.learning.backbones import BACKBONES, DEVICES
from core.learning.config import TrainConfig
from core.learning.train import Progress
from core.paths import checkpoints_dir, runs_dir
from core.results.experiments import PlannedRun, is_done, plan_experiments, run_plan
from core.results.grid import parse_grid, plan_grid
from core.results.ray_sweep import RAY_REQUIREMENT, RayOptions, ray_available
from core.results.runs import summary

SCALE_HINT = (f'Ray is not installed, so the runs go one after another. To spread them over this machine\'s cores: '
              f'pip install "{RAY_REQUIREMENT}"; over a cluster: add --address HOST:6379 (docs/sweeps.md).')


def main(argv: list[str] | None = None, prog: str = "python -m core experiments") -> int:
    parser = _parser(prog)
    args = parser.parse_args(argv)
    try:
        plan = _plan(args)
        ray = _ray_options(args)
    except ValueError as exc:
        parser.error(str(exc))
    runs = Path(args.runs_dir or runs_dir())
    if args.list:
        for run in plan:
            print(("done    " if is_done(runs, run.run_id) else "pending ") + run.run_id)
        return 0
    if ray is None and not args.sequential:
        print(SCALE_HINT, file=sys.stderr)
    bars = SweepBars()
    try:
        records = run_plan(plan, runs, Path(args.checkpoints_dir or checkpoints_dir()), bars.on_run, bars.progress, ray)
    except KeyboardInterrupt:
        bars.close()
        print("interrupted: the finished runs are kept; the same command resumes the rest", file=sys.stderr)
        return 130
    except (ValueError, RuntimeError, FileNotFoundError) as exc:
        bars.close()
        print(f"error: {exc}", file=sys.stderr)
        return 1
    bars.close()
    failed = [r for r in records if r["status"] != "completed"]
    for record in failed:
        print(f"failed: {record['run_id']}: {record.get('error', record['status'])}", file=sys.stderr)
    if failed:
        print(f"{len(failed)} of {len(plan)} runs failed; the same command retries them", file=sys.stderr)
    return 1 if failed else 0


def _parser(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.split(":", 1)[1].strip().split("\n")[0])
    parser.add_argument("--backbone", default="efficientnet_lite0", choices=list(BACKBONES))
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated seeds (default: %(default)s)")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--only", default=None, help="one backend, head, or run label (e.g. qiskit.aer, mlp)")
    parser.add_argument("--grid", nargs="+", metavar="SETTING=V1,V2", default=None,
                        help="a grid study over training settings instead of the article's experiments, "
                             "e.g. qubits=2,4,6,8 depth=1,3,6,10 (records only, no models kept)")
    parser.add_argument("--data", default=None)
    parser.add_argument("--device", default="auto", choices=DEVICES, help=DEVICE_HELP)
    parser.add_argument("--runs-dir", default=None, help="default: $QTL_RUNS_DIR, else data/runs")
    parser.add_argument("--checkpoints-dir", default=None, help="default: $QTL_CHECKPOINTS_DIR, else checkpoints/")
    parser.add_argument("--list", action="store_true", help="list the runs and whether each is done")
    ray = parser.add_argument_group("where the runs go (Ray)")
    ray.add_argument("--address", default=None, help="an existing Ray cluster: HOST:6379, auto, or ray://HOST:10001 "
                                                     "(with ray[client]); default: a local Ray instance")
    ray.add_argument("--cpus", type=int, default=None, help="CPUs of the local Ray instance (default: all)")
    ray.add_argument("--cpus-per-run", type=float, default=1.0, help="CPUs each run asks Ray for (default: %(default)s)")
    ray.add_argument("--sequential", action="store_true", help="no Ray: one run after another in this process")
    return parser


def _plan(args: argparse.Namespace) -> list[PlannedRun]:
    try:
        seeds = tuple(int(s) for s in args.seeds.split(","))
    except ValueError:
        raise ValueError(f"--seeds: write whole numbers separated by commas, got {args.seeds!r}") from None
    if args.grid is None:
        plan = plan_experiments(args.backbone, seeds, args.epochs, args.only, args.data)
        return [replace(run, config=replace(run.config, device=args.device).resolved()) for run in plan]
    if args.only:
        raise ValueError("--only picks among the article's experiments; a --grid names its own settings")
    base = TrainConfig(backbone=args.backbone, epochs=args.epochs, data_dir=args.data, device=args.device)
    return plan_grid(parse_grid(args.grid), seeds, base)


def _ray_options(args: argparse.Namespace) -> RayOptions | None:
    if args.sequential:
        if args.address:
            raise ValueError("--sequential runs here without Ray; --address sends the runs to a Ray cluster")
        return None
    if not ray_available():
        if args.address:
            raise ValueError(f'--address needs Ray: pip install "{RAY_REQUIREMENT}"')
        return None
    if args.cpus is not None and args.cpus < 1:
        raise ValueError(f"--cpus must be at least 1, got {args.cpus}")
    if not args.cpus_per_run > 0:
        raise ValueError(f"--cpus-per-run must be more than 0, got {args.cpus_per_run}")
    return RayOptions(address=args.address, cpus=args.cpus, cpus_per_run=args.cpus_per_run)


class SweepBars:
    """tqdm bars: the whole sweep (runs settled of all planned), and one bar per run under way (features, then epochs)."""

    def __init__(self) -> None:
        self.overall: Any = None
        self.runs: dict[str, list] = {}  # run id -> [its bar or None, its line]
        self.starting = ""

    def on_run(self, i: int, n: int, rid: str, record: dict | None) -> None:
        from tqdm import tqdm

        if self.overall is None:
            self.overall = tqdm(total=n, desc="sweep", unit="run", position=0, dynamic_ncols=True)
        if record is None:
            self.starting = rid
            tqdm.write(f"[{i}/{n}] {rid}: started")
            return
        if rid not in self.runs:
            tqdm.write(f"[{i}/{n}] {rid}: done already, skipped")
        else:
            bar, _ = self.runs.pop(rid)
            if bar is not None:
                bar.close()
            ok = record["status"] == "completed"
            tqdm.write(summary(record) if ok else f"[{i}/{n}] {rid}: FAILED, {record.get('error', record['status'])}")
        self.overall.update(1)

    def progress(self) -> Callable[[Progress], None]:
        """The progress callback of the run just started."""
        from tqdm import tqdm

        rid = self.starting
        taken = {line for _, line in self.runs.values()}
        state = self.runs[rid] = [None, min(set(range(1, len(taken) + 2)) - taken)]

        def show(p: Progress) -> None:
            if state[0] is None and p.phase in ("features", "train") and p.steps:
                state[0] = tqdm(total=p.steps if p.phase == "features" else p.epochs, desc=rid, position=state[1],
                                leave=False, dynamic_ncols=True)
            bar = state[0]
            if bar is None:
                return
            if p.phase == "features":
                bar.set_description(f"{rid} features", refresh=False)
                bar.update(p.step - bar.n)
            elif p.phase == "train" and p.step == p.steps:
                if bar.total != p.epochs or bar.desc != rid:
                    bar.reset(total=p.epochs)
                    bar.set_description(rid, refresh=False)
                bar.update(p.epoch - bar.n)
                if p.history:
                    last = p.history[-1]
                    bar.set_postfix(loss=f"{last['train_loss']:.3f}", val=f"{last['val_acc']:.3f}", refresh=False)

        return show

    def close(self) -> None:
        for bar, _ in self.runs.values():
            if bar is not None:
                bar.close()
        if self.overall is not None:
            self.overall.close()


if __name__ == "__main__":
    sys.exit(main())
