"""Training progress as tqdm bars on the terminal."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.learning.train import Progress


def training_bars() -> Callable[[Progress], None]:
    """A progress callback drawing a features bar, then a steps bar with the last epoch's figures."""
    from tqdm import tqdm

    bars: dict[str, Any] = {}

    def show(p: Progress) -> None:
        if p.phase == "features" and p.steps:
            bar = bars.get("features")
            if bar is None or bar.total != p.steps or p.step < bar.n:
                bar = bars["features"] = tqdm(total=p.steps, desc="features", unit="img", leave=False)
            bar.update(p.step - bar.n)
        elif p.phase == "train":
            bar = bars.get("train")
            if bar is None:
                bar = bars["train"] = tqdm(total=p.epochs * p.steps, desc="training", unit="step", mininterval=0.5)
            bar.update((p.epoch - 1) * p.steps + p.step - bar.n)
            if p.history and p.step == p.steps:
                h = p.history[-1]
                bar.set_postfix(epoch=h["epoch"], loss=f"{h['train_loss']:.3f}", acc=f"{h['train_acc']:.3f}",
                                val=f"{h['val_acc']:.3f}", refresh=False)
        elif p.phase == "done":
            for bar in bars.values():
                bar.close()

    return show
