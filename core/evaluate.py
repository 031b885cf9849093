"""Evaluate a checkpoint on a data set's test split.

``python -m core.evaluate checkpoints/NAME.pt --data DIR [--backend B --shots N --seed S]``

With ``--backend`` the circuit runs on another simulator than it was trained
on, e.g. ``--backend qsharp --shots 1024``: <Z> estimated from the counts.
"""

from __future__ import annotations

import argparse
import sys

from core.checkpoints import CheckpointError, load_checkpoint
from core.data import CLASSES, default_data_dir
from core.quantum import make_executor
from core.train import evaluate_head, load_split_features


def evaluate_checkpoint(
    path: str, data_dir: str | None = None, backend: str | None = None, shots="default", split: str = "test",
    seed: int | None = None,
) -> dict:
    """Top-1 error, accuracy and confusion matrix of a checkpoint on one split (``seed``: sampled backends)."""
    checkpoint = load_checkpoint(path)
    backend = backend or checkpoint.meta["backend"]
    if shots == "default" and backend == checkpoint.meta["backend"]:
        shots = checkpoint.meta.get("shots")
    executor = make_executor(backend, checkpoint.spec, shots=shots, seed=seed)
    head = checkpoint.build_head(executor)
    features = load_split_features(data_dir or default_data_dir(), checkpoint.meta["backbone"], split)
    result = evaluate_head(head, features)
    result["paths"] = features.paths
    result["labels"] = features.labels.tolist()
    result["executor"] = executor.describe()
    result["circuits"] = executor.count.circuits
    return result


def format_confusion(confusion: list[list[int]], classes=CLASSES) -> str:
    width = max(len(c) for c in classes) + 2
    header = " " * (width + 6) + "".join(f"{'pred ' + c:>{width + 6}}" for c in classes)
    rows = [f"{'true ' + c:<{width + 6}}" + "".join(f"{n:>{width + 6}}" for n in row) for c, row in zip(classes, confusion)]
    return "\n".join([header, *rows])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m core.evaluate", description="Test top-1 error of a checkpoint.")
    parser.add_argument("checkpoint")
    parser.add_argument("--data", default=None)
    parser.add_argument("--backend", default=None, help="run the circuit on another backend than it was trained on")
    parser.add_argument("--shots", default="default")
    parser.add_argument("--split", default="test", choices=["train", "val", "test"])
    parser.add_argument("--seed", type=int, default=None, help="seed of a sampled backend's shots")
    args = parser.parse_args(argv)
    shots = args.shots if args.shots == "default" else (None if args.shots in ("0", "analytic") else int(args.shots))
    try:
        result = evaluate_checkpoint(args.checkpoint, args.data, args.backend, shots, args.split, args.seed)
    except (CheckpointError, FileNotFoundError, ValueError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    n = len(result["labels"])
    wrong = round(result["top1_error"] * n)
    print(f"{args.checkpoint} on {args.split} ({n} images, {result['executor']})")
    print(f"top-1 error {result['top1_error']:.4f} ({wrong} of {n} wrong), accuracy {result['accuracy']:.4f}, loss {result['loss']:.4f}")
    print(format_confusion(result["confusion"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
