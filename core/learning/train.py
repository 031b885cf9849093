"""Fit a head on cached backbone features: the article's loop (Adam, StepLR, cross-entropy), best model by validation.

This module trains; :mod:`core.results.runs` turns a training into a run
record and a checkpoint.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import torch
from torch import nn

from core.circuit.pennylane_ops import import_pennylane
from core.data.dataset import CLASSES
from core.execution.executor import CircuitExecutor, ExecutionCount
from core.execution.factory import make_executor
from core.learning.config import TrainConfig
from core.learning.evaluate import evaluate_head
from core.learning.features import SplitFeatures
from core.learning.heads import build_head


@dataclass
class Progress:
    """What the app's progress bar and live curves read."""

    phase: str  # "features" | "train" | "done"
    epoch: int = 0
    epochs: int = 0
    step: int = 0
    steps: int = 0
    history: list[dict] = field(default_factory=list)


class Cancelled(Exception):
    """Training was stopped by its ``should_stop`` callback."""


def build_model(cfg: TrainConfig, in_features: int,
                executor: CircuitExecutor | None = None) -> tuple[nn.Module, CircuitExecutor | None]:
    """A freshly initialised head (seeded by ``cfg.seed``) and, for the quantum head, its executor (``executor`` if given)."""
    torch.manual_seed(cfg.seed)
    if cfg.head == "quantum" and executor is None:
        executor = make_executor(cfg.spec, cfg.execution)
    return build_head(cfg.head, in_features, cfg.spec, executor, len(CLASSES), cfg.q_delta), executor


def executor_in_background(cfg: TrainConfig) -> Future[CircuitExecutor] | None:
    """The quantum head's executor, built and warmed up (compilation) in a thread while the features load.

    PennyLane is imported first, in the caller's thread, before torchvision's and timm's imports start.

    The thread also imports what the fit's optimizer will (torch._dynamo, with triton where installed).
    A cold training spends seconds on each, one core at a time; the features keep both cores busy only once
    the backbone has loaded. None for a classical head.
    """
    if cfg.head != "quantum":
        return None
    import_pennylane()  # here, before any thread: see its docstring

    def build() -> CircuitExecutor:
        executor = make_executor(cfg.spec, cfg.execution)
        executor.warm_up()
        import torch._dynamo  # noqa: F401  torch.optim's first optimizer imports it (2 s): here, while the features load
        return executor

    pool = ThreadPoolExecutor(1, thread_name_prefix="qtl-executor")
    future = pool.submit(build)
    pool.shutdown(wait=False)  # its thread ends with its one job
    return future


@dataclass
class FitResult:
    history: list[dict]  # one metrics dict per epoch
    best_epoch: int
    best_val_acc: float
    best_val_loss: float


def fit(
    cfg: TrainConfig,
    head: nn.Module,
    count: ExecutionCount,
    splits: dict[str, SplitFeatures],
    on_epoch: Callable[[dict], None] = lambda metrics: None,
    on_progress: Callable[[Progress], None] = lambda p: None,
    should_stop: Callable[[], bool] = lambda: False,
) -> FitResult:
    """Train ``head`` for ``cfg.epochs``; it ends holding the best epoch's weights (validation accuracy, then loss)."""
    # fused: the same update, one kernel over every parameter (0.23 ms a step less than one call per tensor)
    optimizer = torch.optim.Adam(head.parameters(), lr=cfg.lr, fused=True)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=cfg.step_size, gamma=cfg.gamma)
    order = torch.Generator().manual_seed(cfg.seed)
    best_state, best_key, best_epoch = copy.deepcopy(head.state_dict()), (-1.0, 0.0), 0
    train_split, history = splits["train"], []
    steps = (len(train_split.labels) + cfg.batch_size - 1) // cfg.batch_size
    for epoch in range(1, cfg.epochs + 1):
        epoch_start = time.perf_counter()
        circuits_before, shots_before = count.circuits, count.shots
        permutation = torch.randperm(len(train_split.labels), generator=order)
        def on_step(step: int, epoch: int = epoch) -> None:
            on_progress(Progress("train", epoch, cfg.epochs, step, steps, history))

        loss, correct = _train_epoch(cfg, head, optimizer, train_split, permutation, should_stop, on_step)
        lr = optimizer.param_groups[0]["lr"]
        scheduler.step()
        val = evaluate_head(head, splits["val"])
        metrics = {
            "epoch": epoch, "train_loss": loss, "train_acc": correct, "val_loss": val["loss"], "val_acc": val["accuracy"],
            "seconds": round(time.perf_counter() - epoch_start, 4),
            "circuits": count.circuits - circuits_before, "shots": count.shots - shots_before, "lr": lr,
        }
        history.append(metrics)
        if (val["accuracy"], -val["loss"]) > best_key:
            best_key, best_epoch = (val["accuracy"], -val["loss"]), epoch
            best_state = copy.deepcopy(head.state_dict())
        on_epoch(metrics)
        on_progress(Progress("train", epoch, cfg.epochs, steps, steps, history))
    head.load_state_dict(best_state)
    return FitResult(history, best_epoch, best_key[0], -best_key[1])


def _train_epoch(cfg, head, optimizer, split: SplitFeatures, permutation, should_stop, on_step) -> tuple[float, float]:
    """One pass over the shuffled training split: (mean loss, accuracy)."""
    head.train()
    total_loss, correct = 0.0, 0
    steps = (len(split.labels) + cfg.batch_size - 1) // cfg.batch_size
    for step in range(steps):
        if should_stop():
            raise Cancelled()
        index = permutation[step * cfg.batch_size : (step + 1) * cfg.batch_size]
        logits = head(split.features[index])
        loss = nn.functional.cross_entropy(logits, split.labels[index])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total_loss += loss.item() * len(index)
        correct += (logits.argmax(-1) == split.labels[index]).sum().item()
        on_step(step + 1)
    return total_loss / len(split.labels), correct / len(split.labels)
