"""Sweeps on Ray: each (configuration, seed) is a Ray task with its CPU request; the driver keeps the records and models.

The driver computes the backbone features once and shares them through Ray's object store; a worker fits a head on
them (:func:`core.results.runs.train_on_features`) and sends each finished epoch to an inbox actor. The driver
writes the run record after every epoch and the record and checkpoint at the end, with the same atomic writes and
schema as :func:`core.results.runs.run_training`: results land on the driver's disk, wherever the workers ran.
Ray is optional (``pip install "ray[tune]==2.60.0"``); :mod:`core.results.experiments` runs without it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.learning.train import Progress
from core.results.records import now, write_record
from core.results.runs import (
    Trained,
    add_epoch,
    count_feature_seconds,
    describe_dataset,
    finish_record,
    load_features,
    new_record,
    train_on_features,
)

RAY_REQUIREMENT = "ray[tune]==2.60.0"
POLL_S = 0.5


@dataclass(frozen=True)
class RayOptions:
    """Where a sweep's runs go: a local Ray instance with ``cpus`` CPUs (default: all), or the cluster at ``address``."""

    address: str | None = None  # "auto", "HOST:6379", or a Ray Client address "ray://HOST:10001"
    cpus: int | None = None
    cpus_per_run: float = 1.0
    max_retries: int = 1  # how often a run whose worker died is started again (a run that raised is not)
    train: Callable[..., Trained] = train_on_features  # what a worker runs: (config, splits, on_epoch) -> Trained


def ray_available() -> bool:
    """Whether Ray can be imported here."""
    try:
        import ray  # noqa: F401
    except ImportError:
        return False
    return True


@dataclass
class _Live:
    """A run the driver has heard start: its record, progress callback and when it began."""

    record: dict
    on_progress: Callable[[Progress], None]
    began: float


def run_on_ray(
    todo: list[tuple[int, Any]],
    options: RayOptions,
    runs_dir: Path,
    staging: Path,
    total: int,
    on_run: Callable[[int, int, str, dict | None], None],
    progress: Callable[[], Callable[[Progress], None]],
    settled: Callable[[int, Any, dict], None],
) -> None:
    """Run ``todo`` (plan index, :class:`~core.results.experiments.PlannedRun`) as Ray tasks, as ``run_plan`` asks.

    ``settled(i, run, record)`` takes each finished or failed record.

    Models are written to ``staging``; on Ctrl-C the runs under way are cancelled and their records say so.
    """
    import ray

    started_ray = _connect(options)
    try:
        _Driver(todo, options, runs_dir, staging, total, on_run, progress, settled).run()
    finally:
        if started_ray:
            ray.shutdown()


def _connect(options: RayOptions) -> bool:
    """Start or join Ray unless this process already has; True if this call did it."""
    import ray

    if ray.is_initialized():
        return False
    if options.address:
        try:
            ray.init(address=options.address, log_to_driver=False)
        except ConnectionError as exc:
            raise RuntimeError(f"no Ray cluster answers at {options.address} ({exc}): is it up (ray status on its head)? "
                               "If it asks for a token (InvalidAuthToken in the log above), set RAY_AUTH_MODE=token and "
                               "its token here (docs/sweeps.md)") from None
    else:
        # Ray starts workers at nice 15, to yield to anything else on the machine; here the workers are the work, and
        # on a busy machine a niced sweep ran several times slower than the same runs one after another at nice 0.
        ray.init(num_cpus=options.cpus or os.cpu_count(), include_dashboard=False, log_to_driver=False,
                 _system_config={"worker_niceness": 0})
    return True


class _Inbox:
    """The workers' news for the driver: (run id, None) when a run starts, (run id, metrics) after each epoch."""

    def __init__(self) -> None:
        self.items: list[tuple[str, dict | None]] = []

    def put(self, item: tuple[str, dict | None]) -> None:
        self.items.append(item)

    def take(self) -> list[tuple[str, dict | None]]:
        items, self.items = self.items, []
        return items


def _work(train: Callable[..., Trained], config, splits, inbox, run_id: str) -> Trained:
    """A worker: say it started, fit, send every epoch back.

    The news is sent without waiting for it: a task that waits on another (ray.get) lends its CPU back to Ray,
    which then starts one run more than there are CPUs.
    """
    inbox.put.remote((run_id, None))
    return train(config, splits, lambda metrics: inbox.put.remote((run_id, metrics)))


class _Driver:
    def __init__(self, todo, options: RayOptions, runs_dir: Path, staging: Path, total: int, on_run, progress, settled):
        self.todo, self.options, self.runs_dir, self.staging, self.total = todo, options, runs_dir, staging, total
        self.on_run, self.progress, self.settled = on_run, progress, settled
        self.live: dict[str, _Live] = {}
        self.by_id = {run.run_id: (i, run) for i, run in todo}
        self.settled_ids: set[str] = set()
        self.features: dict[tuple[str, str], tuple[dict, Any, float]] = {}

    def run(self) -> None:
        import ray

        for _, run in self.todo:
            key = (run.config.backbone, run.config.data_dir)
            if key not in self.features:
                began = time.perf_counter()
                splits = load_features(run.config)
                self.features[key] = (splits, ray.put(splits), time.perf_counter() - began)
        self.inbox = ray.remote(num_cpus=0)(_Inbox).remote()
        task = ray.remote(_work).options(num_cpus=self.options.cpus_per_run, max_retries=self.options.max_retries)
        pending = {task.remote(self.options.train, run.config, self._features(run)[1], self.inbox, run.run_id): (i, run)
                   for i, run in self.todo}
        try:
            while pending:
                ready, _ = ray.wait(list(pending), num_returns=1, timeout=POLL_S)
                self._drain()
                for ref in ready:
                    self._finish(*pending.pop(ref), ref)
        except KeyboardInterrupt:
            for ref in pending:
                ray.cancel(ref, force=True)
            for live in self.live.values():
                live.record.update(status="cancelled", finished=now())
                write_record(live.record, self.runs_dir)
            raise

    def _features(self, run) -> tuple[dict, Any, float]:
        return self.features[(run.config.backbone, run.config.data_dir)]

    def _drain(self) -> None:
        """The workers' news: a run started (metrics None) or finished an epoch; late news of a settled run is dropped."""
        import ray

        for run_id, metrics in ray.get(self.inbox.take.remote()):
            i, run = self.by_id[run_id]
            if run_id in self.settled_ids:
                continue
            if metrics is None:
                self._start(i, run)
            elif run_id in self.live:
                live = self.live[run_id]
                add_epoch(live.record, metrics, self._features(run)[2] + time.perf_counter() - live.began)
                write_record(live.record, self.runs_dir)
                live.on_progress(Progress("train", metrics["epoch"], run.config.epochs, 1, 1, list(live.record["epochs"])))

    def _start(self, i: int, run) -> None:
        """A run's record, written when its worker begins (again, if Ray retries a run whose worker died)."""
        splits, _, seconds = self._features(run)
        record = new_record(run.config, run.run_id, run.extra)
        describe_dataset(record, run.config, splits)
        count_feature_seconds(record, seconds)
        write_record(record, self.runs_dir)
        if run.run_id not in self.live:
            self.on_run(i, self.total, run.run_id, None)
            self.live[run.run_id] = _Live(record, self.progress(), time.perf_counter())
        else:
            self.live[run.run_id].record, self.live[run.run_id].began = record, time.perf_counter()

    def _finish(self, i: int, run, ref) -> None:
        import ray

        if run.run_id not in self.live:
            self._start(i, run)
        live = self.live.pop(run.run_id)
        try:
            trained = ray.get(ref)
        except ray.exceptions.RayError as exc:
            cause = getattr(exc, "cause", None) or exc
            live.record.update(status="failed", finished=now(), error=f"{type(cause).__name__}: {_first_line(cause)}")
            write_record(live.record, self.runs_dir)
        else:
            finish_record(live.record, run.config, self._features(run)[0], trained, self.runs_dir, self.staging)
        epochs = len(live.record["epochs"])
        live.on_progress(Progress("done", epochs, run.config.epochs, 1, 1, live.record["epochs"]))
        self.settled_ids.add(run.run_id)
        self.settled(i, run, live.record)


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0][:500] if lines else ""
