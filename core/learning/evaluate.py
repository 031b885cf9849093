"""How good a head is: loss, accuracy and confusion matrix on a split, for a head in memory or a checkpoint on disk."""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import torch
from torch import nn

from core.execution.factory import make_executor
from core.execution.settings import ExecutionSettings
from core.learning.checkpoints import load_checkpoint
from core.learning.features import SplitFeatures, load_split_features
from core.paths import data_dir as default_data_dir

EVAL_BATCH = 64


def confusion_matrix(labels: list[int], predictions: list[int], n_classes: int) -> list[list[int]]:
    """Counts per (true class, predicted class): rows are the truth."""
    confusion = np.zeros((n_classes, n_classes), dtype=int)
    for truth, guess in zip(labels, predictions, strict=True):
        confusion[truth, guess] += 1
    return confusion.tolist()


@torch.no_grad()
def evaluate_head(head: nn.Module, split: SplitFeatures, batch_size: int = EVAL_BATCH) -> dict[str, Any]:
    """Loss, accuracy, confusion matrix (rows = true class) and predictions on one split."""
    head.eval()
    losses, predictions, probabilities = [], [], []
    for start in range(0, len(split.labels), batch_size):
        logits = head(split.features[start : start + batch_size])
        losses.append(nn.functional.cross_entropy(logits, split.labels[start : start + batch_size], reduction="sum"))
        probabilities.append(logits.softmax(-1))
        predictions.append(logits.argmax(-1))
    predicted = torch.cat(predictions)
    accuracy = (predicted == split.labels).float().mean().item()
    return {
        "loss": torch.stack(losses).sum().item() / len(split.labels),
        "accuracy": accuracy,
        "top1_error": 1.0 - accuracy,
        "confusion": confusion_matrix(split.labels.tolist(), predicted.tolist(), head.post_net.out_features),
        "predictions": predicted.tolist(),
        "probabilities": torch.cat(probabilities).tolist(),
    }


def evaluate_checkpoint(path: str | os.PathLike, data_dir: str | None = None, settings: ExecutionSettings | None = None,
                        split: str = "test") -> dict:
    """Top-1 error, accuracy and confusion matrix of a checkpoint on one split.

    ``settings`` run the circuit elsewhere than it was trained (e.g. ``qsharp``
    with 1,024 shots); by default where it was trained, with its shots.
    """
    checkpoint = load_checkpoint(path)
    settings = settings or ExecutionSettings(checkpoint.meta["backend"], checkpoint.meta.get("shots"))
    executor = make_executor(checkpoint.spec, settings)
    head = checkpoint.build_head(executor)
    features = load_split_features(data_dir or default_data_dir(), checkpoint.meta["backbone"], split)
    result = evaluate_head(head, features)
    result.update(paths=features.paths, labels=features.labels.tolist(), executor=executor.describe(),
                  circuits=executor.count.circuits)
    return result
