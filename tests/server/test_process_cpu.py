"""CPU accounting per process tree (core.server.process_cpu): what the load test charges to the server, the
browsers and the rest, including processes that have exited."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from core.server.process_cpu import OTHER, CpuLedger, ProcessCpu, read_process, tree

BURN = "import time\nt = time.process_time()\nwhile time.process_time() - t < {s}: pass\nprint(time.process_time())"


def _burning_child(seconds: float) -> tuple[subprocess.Popen, float]:
    """A child that burns ``seconds`` of CPU, says how much it used, then waits for its stdin to close."""
    child = subprocess.Popen([sys.executable, "-c", BURN.format(s=seconds) + "\nimport sys; sys.stdin.read()"],
                             stdout=subprocess.PIPE, stdin=subprocess.PIPE, text=True)
    return child, float(child.stdout.readline())


def test_a_child_is_charged_to_its_group_and_still_counted_after_it_has_exited():
    ledger = CpuLedger({"harness": os.getpid()})
    child, burned = _burning_child(0.5)
    while_running = ledger.sample()
    child.communicate("", timeout=60)
    after_exit = ledger.sample()
    assert set(while_running) == {"harness", OTHER}
    # charged what it burned (plus interpreter start-up, and this test's own work), to its parent's group
    assert burned - 0.02 <= while_running["harness"] <= burned + 1.5
    assert after_exit["harness"] >= while_running["harness"], "an exited process's CPU is remembered, not dropped"


def test_the_first_group_that_holds_a_process_gets_it():
    child, burned = _burning_child(0.3)
    try:
        ledger = CpuLedger({"child": child.pid, "harness": os.getpid()})
        before = ledger.sample()
    finally:
        child.communicate("", timeout=60)
    assert before["child"] == 0.0, "what the child burned before the ledger was made is not charged"
    with_child = CpuLedger({"harness": os.getpid()})  # made while nothing burns: the baseline is now
    assert with_child.sample()["harness"] < 0.3


def test_groups_are_process_trees():
    procs = {p.pid: p for p in [ProcessCpu(1, 0, 0, 1.0), ProcessCpu(10, 1, 0, 1.0), ProcessCpu(11, 10, 0, 1.0),
                                 ProcessCpu(20, 1, 0, 1.0)]}
    assert tree(10, procs) == {10, 11} and tree(1, procs) == {1, 10, 11, 20} and tree(99, procs) == set()


def test_reading_this_process_and_a_missing_one():
    me = read_process(os.getpid())
    assert me is not None and me.pid == os.getpid() and me.ppid == os.getppid() and me.cpu_s >= 0
    assert read_process(2**22 + 12345) is None


def test_other_is_reserved():
    with pytest.raises(ValueError, match="'other' is the name of every process outside the groups"):
        CpuLedger({OTHER: 1})
