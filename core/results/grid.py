"""A grid study: every combination of some training settings, times seeds (``--grid qubits=2,4,6,8 depth=1,3,6,10``).

Any :class:`~core.learning.config.TrainConfig` setting can be a grid axis (``qubits`` stands for ``n_qubits``);
each cell's run record names it in ``grid`` and in its run id (``grid-…-qubits4-depth6-e30-s0``). A grid keeps
run records only, no models: its cells are a study, not models to pick (``python -m core train`` makes one).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import fields, replace
from typing import Any

from core.execution.settings import parse_shots
from core.learning.config import TrainConfig
from core.results.comparison import SETTING_NAMES
from core.results.experiments import PlannedRun
from core.results.runs import run_label

ALIASES = {short: name for name, short in SETTING_NAMES.items()}  # qubits=… for n_qubits=…
NOT_ON_A_GRID = {"seed": "give the seeds with --seeds", "data_dir": "give the data folder with --data"}
IN_THE_LABEL = ("backbone", "backend", "shots", "noise", "head", "epochs")  # already in every run id


def parse_grid(items: Sequence[str]) -> dict[str, list]:
    """``["qubits=2,4", "depth=1,3"]`` → ``{"n_qubits": [2, 4], "depth": [1, 3]}``; a clear ValueError for anything wrong."""
    known = {f.name: f for f in fields(TrainConfig)}
    grid: dict[str, list] = {}
    for item in items:
        name, sep, values = item.partition("=")
        name = ALIASES.get(name.strip(), name.strip())
        if not sep or not name or not values.strip():
            raise ValueError(f"--grid {item!r}: write a setting and its values, e.g. qubits=2,4,6,8")
        if name in NOT_ON_A_GRID:
            raise ValueError(f"--grid {item!r}: {name} is not a grid setting; {NOT_ON_A_GRID[name]}")
        if name not in known:
            settable = sorted(set(known) - set(NOT_ON_A_GRID) | set(ALIASES))
            raise ValueError(f"--grid {item!r}: unknown training setting {name!r}; known: {', '.join(settable)}")
        if name in grid:
            raise ValueError(f"--grid names {name} twice")
        parsed = [_value(name, known[name].default, text.strip()) for text in values.split(",")]
        repeated = sorted({str(v) for v in parsed if parsed.count(v) > 1})
        if repeated:
            raise ValueError(f"--grid {item!r}: {name} lists {', '.join(repeated)} more than once")
        grid[name] = parsed
    if not grid:
        raise ValueError("--grid needs at least one setting, e.g. qubits=2,4,6,8 depth=1,3,6,10")
    return grid


def _value(name: str, default: Any, text: str) -> Any:
    """One grid value, read as its setting's type."""
    if name == "shots":
        return parse_shots(text)
    if name == "noise":
        return None if text.lower() in ("", "none") else text
    kind = type(default)
    try:
        return kind(text) if kind in (int, float) else text
    except ValueError:
        what = "a whole number" if kind is int else "a number"
        raise ValueError(f"--grid {name}: {text!r} is not {what}") from None


def plan_grid(grid: dict[str, list], seeds: Sequence[int], base: TrainConfig | None = None) -> list[PlannedRun]:
    """Every cell of ``grid`` × seed on ``base`` (default: the article's settings); every cell is checked before any runs."""
    base = base or TrainConfig()
    names = list(grid)
    plan = []
    for values in itertools.product(*(grid[n] for n in names)):
        cell = dict(zip(names, values))
        for seed in seeds:
            try:
                config = replace(base, **cell, seed=seed).resolved()
            except ValueError as exc:
                raise ValueError(f"grid cell {_describe(cell)}: {exc}") from None
            plan.append(PlannedRun(grid_run_id(config, cell), config, cell))
    return plan


def grid_run_id(config: TrainConfig, cell: dict) -> str:
    """``grid-<label>-<setting><value>…-e<epochs>-s<seed>``: deterministic, so a rerun finds what is done."""
    parts = [f"{_short(n)}{v}" for n, v in cell.items() if n not in IN_THE_LABEL]
    return "-".join(["grid", run_label(config), *parts, f"e{config.epochs}", f"s{config.seed}"])


def _short(name: str) -> str:
    return SETTING_NAMES.get(name, name)


def _describe(cell: dict) -> str:
    return ", ".join(f"{_short(n)}={v}" for n, v in cell.items())
