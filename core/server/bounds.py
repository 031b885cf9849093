"""What one visitor's click may cost the server, page by page, and the pool that queues the heavy clicks.

Every page's settings are bounded where they are checked (qubits, depth, shots, reruns, uploads);
``PAGE_BOUNDS`` states, in one place, what the heaviest setting each page allows costs in CPU time
(measured with ``python bench/load_test.py --page-bounds`` on the workshop machine, 2 cores) and how
it is held in. Work above ``HEAVY_CPU_S`` goes through :data:`HEAVY_POOL`: at most ``HEAVY_SLOTS``
such runs at once for the whole server, at most ``HEAVY_QUEUE`` waiting, each for at most
``HEAVY_WAIT_S``; the visitor is told their place in the queue, or why they must try again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

HEAVY_CPU_S = 1.0  # a click that may cost more than this much CPU runs in the pool
HEAVY_SLOTS = 1  # one core of two for heavy clicks; the other stays free for the room's predictions
HEAVY_QUEUE = 8
HEAVY_WAIT_S = 60.0
# The explorer's runs that cost more than HEAVY_CPU_S (bench/load_test.py --page-bounds): many shots, noise, or a
# large register (2^7 amplitudes and up, with up to 10 layers).
EXPLORER_HEAVY_SHOTS, EXPLORER_HEAVY_QUBITS = 10_000, 7
# Q#'s simulator runs shot by shot and holds Python's GIL throughout (every other visitor's page waits): measured
# about 28 µs per gate and shot (8 qubits, depth 10: 1,000 shots 2.5 s, 4,000 shots 8.3 s of CPU; 100,000 shots
# would freeze the server for minutes). A run may have at most this many gate-shots, about 1 s (the model's 4 qubits,
# depth 6 at 1,024 shots: 32,768).
QSHARP_MAX_GATE_SHOTS = 40_000


@dataclass(frozen=True)
class PageBound:
    """The worst a page's settings allow, in CPU seconds on the workshop machine, and what the page says about it."""

    page: str
    worst: str
    cpu_s: float
    held_by: str

    @property
    def text(self) -> str:
        return f"Bounded: the heaviest setting here ({self.worst}) costs the server about {self.cpu_s:g} s of CPU; {self.held_by}"


_POOL = (f"runs costing more than {HEAVY_CPU_S:g} s of CPU wait their turn in a queue for the whole server "
         f"({HEAVY_SLOTS} at a time, at most {HEAVY_QUEUE} waiting), so the room's predictions keep a core.")
PAGE_BOUNDS = {
    "explorer": PageBound("explorer", "8 qubits, depth 10, 100,000 shots on qiskit.aer; or 5 qubits with noise", 5.0,
                          _POOL + f" Q# takes at most {QSHARP_MAX_GATE_SHOTS:,} gate-shots (about 1 s): it holds up "
                          "every page while it runs."),
    "inside": PageBound("inside", "100 reruns × 8,192 shots, on any simulator, with or without noise", 2.0, _POOL),
    # estimated from one photo's cost on this machine: ~0.3 s to find the faces, ~0.04 s per face judged
    "predict": PageBound("predict", "10 photos at once, at most 12 faces judged in each", 8.0,
                         "at most two face searches run at once for the whole server, one per core."),
    "predict-test-set": PageBound("predict-test-set", "the 120 test images; 0.05 s once their features are cached", 5.0,
                                  _POOL),
    "challenges": PageBound("challenges", "checking a challenge on the explorer's kept circuit", 0.1,
                            "the circuit itself runs on the explorer, under its bound."),
}


def page_bound(page: str) -> PageBound:
    """The stated bound of ``page``; a ValueError names the known pages."""
    if page not in PAGE_BOUNDS:
        raise ValueError(f"no bound is stated for page {page!r}; known: {', '.join(PAGE_BOUNDS)}")
    return PAGE_BOUNDS[page]


def explorer_is_heavy(n_qubits: int, shots: int | None, noise: bool) -> bool:
    """Whether an explorer run may cost more than ``HEAVY_CPU_S`` (``shots`` None: exact)."""
    return noise or n_qubits >= EXPLORER_HEAVY_QUBITS or (shots is not None and shots > EXPLORER_HEAVY_SHOTS)


def qsharp_gate_shots(n_qubits: int, depth: int, shots: int) -> int:
    """The gate applications a Q# run makes: the embedding (H and RY per qubit) and each layer's RY, shot by shot."""
    return shots * n_qubits * (depth + 2)


def explorer_refusal(sim: str, n_qubits: int, depth: int, shots: int | None) -> str | None:
    """Why the explorer must not run these settings at all (None: it may); checked before anything runs."""
    if sim == "qsharp" and shots is not None and qsharp_gate_shots(n_qubits, depth, shots) > QSHARP_MAX_GATE_SHOTS:
        most = max(1, QSHARP_MAX_GATE_SHOTS // (n_qubits * (depth + 2)))
        return (f"qsharp runs shot by shot and holds up everyone's pages meanwhile: with {n_qubits} qubits and depth "
                f"{depth} it may take at most {most:,} shots here (asked {shots:,}). Pick fewer shots or another simulator.")
    return None


class PoolBusy(RuntimeError):
    """The heavy-work pool cannot take this run now; the message tells the visitor why and what to do."""


class HeavyPool:
    """At most ``slots`` heavy runs at once in this process; at most ``max_waiting`` wait, each at most ``wait_s``."""

    def __init__(self, slots: int = HEAVY_SLOTS, max_waiting: int = HEAVY_QUEUE, wait_s: float = HEAVY_WAIT_S):
        if slots < 1 or max_waiting < 0 or not wait_s > 0:
            raise ValueError(f"a pool needs at least 1 slot, a queue of 0 or more and a wait above 0, got "
                             f"{slots}, {max_waiting}, {wait_s}")
        self.slots, self.max_waiting, self.wait_s = slots, max_waiting, wait_s
        self._free = threading.Semaphore(slots)
        self._lock = threading.Lock()
        self.running = 0
        self.waiting = 0

    @contextmanager
    def slot(self, on_wait: Callable[[int], None] | None = None) -> Iterator[None]:
        """Hold a slot for the block; ``on_wait(runs ahead)`` is called first if the block must wait.

        Raises PoolBusy when the queue is full or the wait ran out.
        """
        if not self._free.acquire(blocking=False):
            with self._lock:
                if self.waiting >= self.max_waiting:
                    raise PoolBusy(f"The server is busy with {self.running} heavy run(s) and {self.waiting} waiting: "
                                   "try again in a minute, or choose lighter settings.")
                self.waiting += 1
                ahead = self.running + self.waiting - 1
            try:
                if on_wait is not None:
                    on_wait(ahead)
                if not self._free.acquire(timeout=self.wait_s):
                    raise PoolBusy(f"Waited {self.wait_s:g} s for a turn on the busy server: try again, "
                                   "or choose lighter settings.")
            finally:
                with self._lock:
                    self.waiting -= 1
        with self._lock:
            self.running += 1
        try:
            yield
        finally:
            with self._lock:
                self.running -= 1
            self._free.release()


HEAVY_POOL = HeavyPool()
