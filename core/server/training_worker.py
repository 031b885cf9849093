"""Background retraining: one at a time for the whole machine, in its own process.

An exclusive flock on a lock file, inherited by the worker process, admits
one training; a second request is told which one runs. The worker process runs
:func:`core.results.runs.run_training` and writes its progress atomically to a status file
that any page (after a reload too) reads; a cancel-flag file stops it between
steps. A worker that died leaves a "running" status with a dead pid: that
status reads as failed, and the kernel has already released the lock.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from core.files import atomic_write_bytes
from core.paths import IBM_TOKEN_ENV, PASSWORD_ENV, PROJECT_ROOT, jobs_dir
from core.results.records import now, process_alive

STARTING_TIMEOUT_S = 60
SECRET_ENVS = (PASSWORD_ENV, IBM_TOKEN_ENV)  # never handed to the training worker
WORKER_NICENESS = 10  # added to the server's niceness: the worker yields the CPU to page requests


def _paths() -> tuple[Path, Path, Path, Path]:
    d = jobs_dir()
    return d / "training.lock", d / "status.json", d / "cancel", d / "worker.log"


@dataclass
class StartResult:
    started: bool
    message: str


def _read_json(path: Path) -> dict | None:
    try:
        value = json.loads(path.read_text())
        return value if isinstance(value, dict) else None
    except (OSError, ValueError):
        return None


def _acquire_lock(lock: Path) -> int | None:
    """An fd holding an exclusive flock on ``lock``, or None if a training holds it.

    The worker inherits the fd, so the kernel releases the lock when the worker
    ends, however it ends: there is never a stale lock to clean up.
    """
    lock.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock, os.O_CREAT | os.O_RDWR, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def start_training(config: dict, runs_dir: str | None = None, checkpoints_dir: str | None = None) -> StartResult:
    """Start a training in a worker process unless one is running; ``config`` holds TrainConfig fields."""
    from core.learning.config import TrainConfig

    TrainConfig.from_dict(config).resolved()  # bad settings fail here, in the request, with their message
    lock, status, cancel, log = _paths()
    lock_fd = _acquire_lock(lock)
    deadline = time.monotonic() + 5.0
    while lock_fd is None and not is_running() and time.monotonic() < deadline:
        time.sleep(0.1)  # the last worker has written its final status and is exiting
        lock_fd = _acquire_lock(lock)
    if lock_fd is None:
        current = read_status() or {}
        return StartResult(False, f"A training is already running ({current.get('label', 'started by another visitor')}); "
                                  "wait for it to finish or cancel it.")
    cancel.unlink(missing_ok=True)
    command = [sys.executable, "-m", "core.server.training_worker", "worker",
               "--config", json.dumps(config), "--lock-fd", str(lock_fd)]
    if runs_dir:
        command += ["--runs-dir", str(runs_dir)]
    if checkpoints_dir:
        command += ["--checkpoints-dir", str(checkpoints_dir)]
    label = (f"{config.get('backbone', 'efficientnet_lite0')} + {config.get('backend', 'default.qubit')}, "
             f"{config.get('epochs', 30)} epochs")
    _write_status(status, {"state": "starting", "label": label, "config": config, "history": [], "started": now()})
    try:
        with open(log, "ab") as out:
            worker = subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=out, stderr=subprocess.STDOUT,
                                      start_new_session=True, pass_fds=(lock_fd,), env=_worker_environment())
    except OSError as exc:
        _write_status(status, {"state": "failed", "label": label, "config": config, "history": [], "error": str(exc)})
        return StartResult(False, f"The training could not be started: {exc}")
    finally:
        os.close(lock_fd)  # the worker holds its own copy until it exits
    _write_status(status, {"state": "starting", "label": label, "config": config, "history": [], "started": now(),
                           "pid": worker.pid})
    return StartResult(True, f"Training started: {label}.")


def read_status() -> dict | None:
    """The last training's status; a "running" one whose worker died reads as failed."""
    _, status_path, _, _ = _paths()
    status = _read_json(status_path)
    if status and status.get("state") in ("starting", "running") and _worker_gone(status, status_path):
        status = {**status, "state": "failed", "error": status.get("error") or "the training process ended unexpectedly"}
    return status


def _worker_gone(status: dict, status_path: Path) -> bool:
    if "pid" in status:
        return not process_alive(status["pid"])
    try:  # no pid yet: the server died while starting the worker
        return time.time() - status_path.stat().st_mtime > STARTING_TIMEOUT_S
    except OSError:
        return True


def is_running() -> bool:
    status = read_status()
    return bool(status and status.get("state") in ("starting", "running"))


def cancel_training() -> bool:
    """Ask the running training to stop at its next step; False if none runs."""
    if not is_running():
        return False
    _, _, cancel, _ = _paths()
    cancel.parent.mkdir(parents=True, exist_ok=True)
    cancel.touch()
    return True


def _write_status(path: Path, status: dict) -> None:
    atomic_write_bytes(path, json.dumps({**status, "updated": now()}).encode())


def _lower_autogroup(niceness: int) -> None:
    """Give this process's scheduler autogroup the same niceness.

    The worker runs in a session of its own (start_new_session), and Linux with autogroup scheduling (enabled
    by many distributions' kernels) shares the CPU fairly between sessions first: os.nice alone only ranks the
    worker within its own session, and it took as much CPU as the whole server (docs/benchmarks.md). Raising an
    autogroup's niceness needs no privilege; kernels without autogroup have no such file.
    """
    try:
        Path("/proc/self/autogroup").write_text(str(niceness))
    except OSError:
        pass


def _worker(config: dict, runs_dir: str | None, checkpoints_dir: str | None, lock_fd: int | None = None) -> int:
    from core.learning.config import TrainConfig
    from core.learning.train import Cancelled, Progress
    from core.results.runs import run_training

    # Visitors first: on a busy server the retrain takes the CPU time they leave over.
    os.nice(WORKER_NICENESS)
    _lower_autogroup(WORKER_NICENESS)

    _, status_path, cancel, _ = _paths()
    base = {**(_read_json(status_path) or {}), "pid": os.getpid(), "config": config}
    last_write = [0.0]

    def on_progress(p: Progress) -> None:
        if time.monotonic() - last_write[0] < 0.25 and p.phase == "train" and p.step != p.steps:
            return
        last_write[0] = time.monotonic()
        _write_status(status_path, {**base, "state": "running", "phase": p.phase, "epoch": p.epoch, "epochs": p.epochs,
                                    "step": p.step, "steps": p.steps, "history": list(p.history)})

    kwargs = {k: v for k, v in (("runs_dir", runs_dir), ("checkpoints_dir", checkpoints_dir)) if v}
    try:
        record = run_training(TrainConfig.from_dict(config), on_progress=on_progress, should_stop=cancel.exists, **kwargs)
        _write_status(status_path, {**base, "state": "completed", "run_id": record["run_id"], "history": record["epochs"],
                                    "test_accuracy": record["test"]["accuracy"], "checkpoint": record["checkpoint"]})
        return 0
    except Cancelled:
        _write_status(status_path, {**base, "state": "cancelled"})
        return 0
    except Exception as exc:
        _write_status(status_path, {**base, "state": "failed", "error": f"{type(exc).__name__}: {exc}"})
        return 1
    finally:
        cancel.unlink(missing_ok=True)
        if lock_fd is not None:
            os.close(lock_fd)  # after the final status: the next training may start now


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m core.server.training_worker")
    sub = parser.add_subparsers(dest="command", required=True)
    worker = sub.add_parser("worker", help="run one training (started by start_training)")
    worker.add_argument("--config", required=True)
    worker.add_argument("--runs-dir")
    worker.add_argument("--checkpoints-dir")
    worker.add_argument("--lock-fd", type=int, help="the inherited fd holding the training lock")
    sub.add_parser("status", help="print the last training's status")
    args = parser.parse_args(argv)
    if args.command == "status":
        print(json.dumps(read_status(), indent=1))
        return 0
    return _worker(json.loads(args.config), args.runs_dir, args.checkpoints_dir, args.lock_fd)


if __name__ == "__main__":
    sys.exit(main())


def _worker_environment() -> dict[str, str]:
    """The server's environment without its secrets: training needs neither the password nor the IBM token."""
    return {k: v for k, v in os.environ.items() if k not in SECRET_ENVS}
