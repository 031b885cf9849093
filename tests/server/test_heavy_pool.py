"""The heavy-work pool (core.server.bounds): one heavy run at a time for the server, a bounded queue, a bounded wait,
and a message the visitor can act on; every page states its bound."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from core.server.bounds import PAGE_BOUNDS, HeavyPool, PoolBusy, explorer_is_heavy, page_bound


@contextmanager
def held(pool: HeavyPool) -> Iterator[None]:
    """The pool's slot held by another thread for the with-block, then given back."""
    entered, release = threading.Event(), threading.Event()

    def hold():
        with pool.slot():
            entered.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert entered.wait(10)
        yield
    finally:
        release.set()
        holder.join()


def test_a_second_run_waits_its_turn_and_is_told_how_many_go_first():
    pool, told, order = HeavyPool(slots=1, max_waiting=2, wait_s=10), [], []

    def second():
        with pool.slot(on_wait=told.append):
            order.append("second ran")

    waiter = threading.Thread(target=second)
    with held(pool):
        waiter.start()
        waiter.join(0.3)
        assert order == [] and pool.waiting == 1 and pool.running == 1, "the second run waits while the first holds the slot"
    waiter.join(10)
    assert order == ["second ran"] and told == [1]
    assert (pool.running, pool.waiting) == (0, 0)


def test_a_full_queue_refuses_at_once_with_a_message():
    pool = HeavyPool(slots=1, max_waiting=0, wait_s=10)
    with held(pool), pytest.raises(PoolBusy, match=r"busy with 1 heavy run\(s\) and 0 waiting: try again"):
        with pool.slot():
            pass
    with pool.slot():  # free again
        assert pool.running == 1


def test_a_wait_that_runs_out_says_so_and_leaves_the_queue():
    pool = HeavyPool(slots=1, max_waiting=3, wait_s=0.2)
    with held(pool):
        with pytest.raises(PoolBusy, match=r"Waited 0.2 s for a turn"):
            with pool.slot():
                pass
        assert pool.waiting == 0


def test_an_error_in_the_work_frees_the_slot():
    pool = HeavyPool(slots=1, max_waiting=0, wait_s=1)
    with pytest.raises(ZeroDivisionError):
        with pool.slot():
            raise ZeroDivisionError("in the work")
    with pool.slot():
        assert pool.running == 1


@pytest.mark.parametrize(("slots", "queue", "wait"), [(0, 1, 1.0), (1, -1, 1.0), (1, 1, 0.0), (1, 1, float("nan"))])
def test_a_pool_needs_sensible_sizes(slots, queue, wait):
    with pytest.raises(ValueError, match="a pool needs at least 1 slot"):
        HeavyPool(slots, queue, wait)


def test_every_page_states_its_bound():
    assert set(PAGE_BOUNDS) >= {"explorer", "inside", "predict", "predict-test-set", "challenges"}
    for name, bound in PAGE_BOUNDS.items():
        assert bound.page == name and bound.cpu_s > 0
        assert bound.text.startswith(f"Bounded: the heaviest setting here ({bound.worst}) costs the server about")
    with pytest.raises(ValueError, match="no bound is stated for page 'nowhere'; known: explorer"):
        page_bound("nowhere")


@pytest.mark.parametrize(("n_qubits", "shots", "noise", "heavy"), [
    (4, 1024, False, False), (4, None, False, False), (6, 10_000, False, False),  # the explorer's everyday settings
    (8, 100_000, False, True), (5, 100_000, True, True), (2, 100, True, True), (7, None, False, True), (4, 10_001, False, True),
])
def test_the_explorers_heavy_runs_are_told_apart(n_qubits, shots, noise, heavy):
    assert explorer_is_heavy(n_qubits, shots, noise) is heavy


def test_qsharp_runs_that_would_hold_up_the_server_are_refused_before_they_run():
    from core.server.bounds import QSHARP_MAX_GATE_SHOTS, explorer_refusal, qsharp_gate_shots

    assert explorer_refusal("qsharp", 4, 6, 1024) is None and qsharp_gate_shots(4, 6, 1024) <= QSHARP_MAX_GATE_SHOTS
    message = explorer_refusal("qsharp", 8, 10, 100_000)
    assert message is not None and "it may take at most 416 shots here (asked 100,000)" in message
    assert explorer_refusal("qsharp", 8, 10, None) is None, "exact runs never go to Q#"
    assert explorer_refusal("qiskit.aer", 8, 10, 100_000) is None, "other simulators queue instead"
