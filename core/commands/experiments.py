"""``python -m core experiments``: the article's protocol on every simulator, with noise and classical baselines, 3 seeds.

Finished runs are skipped, so an interrupted sweep resumes.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core.commands.progress import training_bars
from core.learning.backbones import BACKBONES
from core.paths import checkpoints_dir, runs_dir
from core.results.experiments import EXPERIMENTS, config_for, is_done, run_all, run_id
from core.results.runs import summary


def main(argv: list[str] | None = None, prog: str = "python -m core experiments") -> int:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.split(":", 1)[1].strip().split("\n")[0])
    parser.add_argument("--backbone", default="efficientnet_lite0", choices=list(BACKBONES))
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated seeds (default: %(default)s)")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--only", default=None, help="one backend, head, or run label (e.g. qiskit.aer, mlp)")
    parser.add_argument("--data", default=None)
    parser.add_argument("--runs-dir", default=None, help="default: $QTL_RUNS_DIR, else data/runs")
    parser.add_argument("--checkpoints-dir", default=None, help="default: $QTL_CHECKPOINTS_DIR, else checkpoints/")
    parser.add_argument("--list", action="store_true", help="list the runs and whether each is done")
    args = parser.parse_args(argv)
    seeds = tuple(int(s) for s in args.seeds.split(","))
    runs = Path(args.runs_dir or runs_dir())
    if args.list:
        for e in EXPERIMENTS:
            for seed in seeds:
                rid = run_id(config_for(e, args.backbone, seed, args.epochs, args.data))
                print(("done    " if is_done(runs, rid) else "pending ") + rid)
        return 0
    started: set[str] = set()

    def on_run(i: int, n: int, rid: str, record: dict | None) -> None:
        if record is None:
            started.add(rid)
            print(f"[{i}/{n}] {rid}")
        elif rid in started:
            print(summary(record))
        else:
            print(f"[{i}/{n}] {rid}: done already, skipped")

    try:
        run_all(args.backbone, seeds, args.epochs, args.only, args.data, runs, Path(args.checkpoints_dir or checkpoints_dir()),
                on_run=on_run, progress=training_bars)
    except (ValueError, RuntimeError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
