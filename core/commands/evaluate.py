"""``python -m core evaluate CKPT``: a checkpoint's top-1 error on a split, where it was trained or on another backend.

With ``--backend`` the circuit runs on another simulator than it was trained
on, e.g. ``--backend qsharp --shots 1024``: ⟨Z⟩ estimated from the counts.
"""

from __future__ import annotations

import argparse
import sys

from core.data.dataset import CLASSES, SPLITS
from core.execution.settings import ExecutionSettings, parse_shots
from core.learning.checkpoints import CheckpointError, load_checkpoint
from core.learning.evaluate import evaluate_checkpoint


def settings_for(checkpoint_path: str, backend: str | None, shots: int | str | None, seed: int | None) -> ExecutionSettings:
    """Where to run: ``backend`` if given, else the checkpoint's, with its shots unless others are asked for."""
    meta = load_checkpoint(checkpoint_path).meta
    if backend is None or backend == meta["backend"]:
        return ExecutionSettings(meta["backend"], meta.get("shots") if shots == "default" else shots, seed)
    return ExecutionSettings(backend, shots, seed)


def format_confusion(confusion: list[list[int]], classes=CLASSES) -> str:
    width = max(len(c) for c in classes) + 8
    header = " " * width + "".join(f"{'pred ' + c:>{width}}" for c in classes)
    rows = [f"{'true ' + c:<{width}}" + "".join(f"{n:>{width}}" for n in row) for c, row in zip(classes, confusion)]
    return "\n".join([header, *rows])


def main(argv: list[str] | None = None, prog: str = "python -m core evaluate") -> int:
    parser = argparse.ArgumentParser(prog=prog, description="Test top-1 error of a checkpoint.")
    parser.add_argument("checkpoint")
    parser.add_argument("--data", default=None)
    parser.add_argument("--backend", default=None, help="run the circuit on another backend than it was trained on")
    parser.add_argument("--shots", default="default", help="a count, 'analytic', or 'default'")
    parser.add_argument("--split", default="test", choices=list(SPLITS))
    parser.add_argument("--seed", type=int, default=None, help="seed of a sampled backend's shots")
    args = parser.parse_args(argv)
    try:
        settings = settings_for(args.checkpoint, args.backend, parse_shots(args.shots), args.seed)
        result = evaluate_checkpoint(args.checkpoint, args.data, settings, args.split)
    except (CheckpointError, FileNotFoundError, ValueError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    n = len(result["labels"])
    wrong = round(result["top1_error"] * n)
    print(f"{args.checkpoint} on {args.split} ({n} images, {result['executor']})")
    print(f"top-1 error {result['top1_error']:.4f} ({wrong} of {n} wrong), "
          f"accuracy {result['accuracy']:.4f}, loss {result['loss']:.4f}")
    print(format_confusion(result["confusion"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
