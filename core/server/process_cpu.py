"""CPU seconds per group of processes, from Linux's /proc: what a load test charges to the server, the browsers, the rest.

A group is the process tree under a root pid (the server, the training worker, the
test harness with its browsers); a process belongs to the first group whose tree holds it,
and every other process on the machine to ``other``. The ledger remembers each process's
last reading, so the CPU of processes that have exited (a closed browser tab) still counts.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

TICKS_PER_S = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
OTHER = "other"


@dataclass(frozen=True)
class ProcessCpu:
    pid: int
    ppid: int
    started: int  # clock ticks after boot: tells a reused pid apart
    cpu_s: float  # user + system time so far


def read_process(pid: int) -> ProcessCpu | None:
    """One process's CPU so far (None if it is gone)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2:].split()  # the command name may hold spaces and parentheses
    utime, stime, started = int(fields[11]), int(fields[12]), int(fields[19])
    return ProcessCpu(pid, int(fields[1]), started, (utime + stime) / TICKS_PER_S)


def read_processes() -> dict[int, ProcessCpu]:
    """Every process now running."""
    found = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit() and (process := read_process(int(entry.name))) is not None:
            found[process.pid] = process
    return found


def tree(root: int, processes: Mapping[int, ProcessCpu]) -> set[int]:
    """``root`` and all its descendants among ``processes``."""
    children: dict[int, list[int]] = {}
    for p in processes.values():
        children.setdefault(p.ppid, []).append(p.pid)
    found, todo = set(), [root]
    while todo:
        pid = todo.pop()
        if pid in processes and pid not in found:
            found.add(pid)
            todo.extend(children.get(pid, []))
    return found


def machine_busy_s() -> tuple[float, float]:
    """(busy, idle) CPU seconds of the whole machine since boot, all cores."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values[:8]) - idle) / TICKS_PER_S, idle / TICKS_PER_S


class CpuLedger:
    """Cumulative CPU seconds per named group of process trees (``roots``: name → root pid, first match wins)."""

    def __init__(self, roots: Mapping[str, int]):
        if OTHER in roots:
            raise ValueError(f"{OTHER!r} is the name of every process outside the groups")
        self.roots = dict(roots)
        self._last: dict[tuple[int, int], tuple[str, float]] = {}  # (pid, start) → (group, CPU seconds)
        self._baseline = self._read()

    def _read(self) -> dict[str, float]:
        processes = read_processes()
        trees = {name: tree(root, processes) for name, root in self.roots.items()}
        for p in processes.values():
            group = next((name for name, pids in trees.items() if p.pid in pids), OTHER)
            self._last[(p.pid, p.started)] = (group, p.cpu_s)
        totals = dict.fromkeys([*self.roots, OTHER], 0.0)
        for group, cpu_s in self._last.values():
            totals[group] += cpu_s
        return totals

    def sample(self) -> dict[str, float]:
        """CPU seconds each group has used since the ledger was made (processes that exited meanwhile included)."""
        totals = self._read()
        return {name: totals[name] - self._baseline.get(name, 0.0) for name in totals}
