"""``python -m core train``: one training run on cached backbone features; a run record and the best model's checkpoint."""

from __future__ import annotations

import argparse
import atexit
import gc
import os
import sys
from functools import cache

from core.commands.progress import training_bars
from core.execution.noise import NOISE_DEVICES
from core.execution.settings import parse_shots
from core.learning.backbones import BACKBONES, DEVICES
from core.learning.config import TrainConfig
from core.learning.heads import HEAD_KINDS
from core.paths import RESNET18_WEIGHTS_ENV, checkpoints_dir, runs_dir
from core.results.runs import run_training, summary

DEVICE_HELP = ("where the backbone runs: auto (a CUDA GPU where PyTorch sees one, else the CPU), cpu or cuda; "
               "the head and the circuit simulators run on the CPU (default: %(default)s)")


@cache
def _freeze_at_exit() -> None:
    """Once per process, however often ``main`` runs (a test, a notebook).

    At exit, the interpreter's last garbage collections walk every object torch, JAX and PennyLane made (2 s);
    frozen, they are skipped (0.5 s). Only objects in reference cycles stay unfreed, for the OS to reclaim;
    records, checkpoints and caches are written and closed before (atomic writes).
    """
    atexit.register(gc.freeze)


def main(argv: list[str] | None = None, prog: str = "python -m core train") -> int:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.split(":", 1)[1].strip())
    defaults = TrainConfig()
    parser.add_argument("--backbone", default=defaults.backbone, choices=list(BACKBONES))
    parser.add_argument("--backend", default=defaults.backend)
    parser.add_argument("--shots", default="default", help="a count, 'analytic', or 'default' (1024 for qiskit/cirq)")
    parser.add_argument("--noise", default=None, help=f"a fake IBM device for qiskit.aer noise: {', '.join(NOISE_DEVICES)}")
    parser.add_argument("--head", default="quantum", choices=list(HEAD_KINDS),
                        help="the dressed circuit, or a classical reference head")
    parser.add_argument("--epochs", type=int, default=defaults.epochs)
    parser.add_argument("--batch-size", type=int, default=defaults.batch_size)
    parser.add_argument("--lr", type=float, default=defaults.lr)
    parser.add_argument("--qubits", type=int, default=defaults.n_qubits)
    parser.add_argument("--depth", type=int, default=defaults.depth)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--data", default=None,
                        help="data set folder (train/ val/ test/); default: $QTL_DATA, fetched, or ../shared")
    parser.add_argument("--runs-dir", default=None, help="default: $QTL_RUNS_DIR, else data/runs")
    parser.add_argument("--checkpoints-dir", default=None, help="default: $QTL_CHECKPOINTS_DIR, else checkpoints/")
    parser.add_argument("--resnet18-weights", default=None, help="a local resnet18 ImageNet weights file")
    parser.add_argument("--device", default=defaults.device, choices=DEVICES, help=DEVICE_HELP)
    args = parser.parse_args(argv)
    _freeze_at_exit()
    if args.resnet18_weights:
        os.environ[RESNET18_WEIGHTS_ENV] = args.resnet18_weights
    try:
        config = TrainConfig(
            backbone=args.backbone, backend=args.backend, shots=parse_shots(args.shots), epochs=args.epochs,
            batch_size=args.batch_size, lr=args.lr, n_qubits=args.qubits, depth=args.depth,
            seed=args.seed, data_dir=args.data, noise=args.noise, head=args.head, device=args.device,
        )
        record = run_training(config, on_progress=training_bars(), runs_dir=args.runs_dir or runs_dir(),
                              checkpoints_dir=args.checkpoints_dir or checkpoints_dir())
    except (ValueError, RuntimeError, FileNotFoundError) as exc:
        print(f"\nerror: {exc}", file=sys.stderr)
        return 1
    print(summary(record))
    return 0


if __name__ == "__main__":
    sys.exit(main())
