"""One line per page: what its heaviest setting costs the server and how it is held in; heavy runs queue in one pool.

The values and the text live in ``core.server.bounds``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import streamlit as st

from core.circuit.definition import CircuitSpec
from core.execution.settings import ExecutionSettings
from core.execution.single_circuit import sample_counts
from core.server.bounds import HEAVY_POOL, PoolBusy, explorer_is_heavy, explorer_refusal, page_bound

T = TypeVar("T")


def bounds_note(page: str) -> None:
    """A caption stating ``page``'s bound (``core.server.bounds.PAGE_BOUNDS``)."""
    st.caption(page_bound(page).text, help="docs/security.md and docs/benchmarks.md (Bounds) say how it was measured.")


def run_heavy(page: str, work: Callable[..., T], *args, heavy: bool = True, **kwargs) -> T | None:
    """``work(*args, **kwargs)``, in the server's heavy-work pool when ``heavy``; the visitor sees their place in the queue.

    None, with the reason shown on the page, when the pool refuses (queue full, or the wait ran out).
    """
    page_bound(page)  # an unknown page is a programming error: say so at once
    if not heavy:
        return work(*args, **kwargs)
    notice = st.empty()
    try:
        with HEAVY_POOL.slot(lambda ahead: notice.info(f"Queued: {ahead} heavy run(s) on this server go first "
                                                       "(one at a time, so that everyone's predictions keep a core) …")):
            notice.empty()
            return work(*args, **kwargs)
    except PoolBusy as exc:
        notice.warning(str(exc))
        return None


def explorer_counts(spec: CircuitSpec, angles, weights, settings: ExecutionSettings) -> dict[str, int] | None:
    """The explorer's sampled run within its bound: refused outright (ValueError, the reason) when Q# would hold up
    the server, through the heavy-work pool when it may cost more than a second; None when the pool refuses."""
    shots = settings.shots if isinstance(settings.shots, int) else None
    refusal = explorer_refusal(settings.backend, spec.n_qubits, spec.depth, shots)
    if refusal:
        raise ValueError(refusal)
    heavy = explorer_is_heavy(spec.n_qubits, shots, settings.noise is not None)
    return run_heavy("explorer", sample_counts, spec, angles, weights, settings, heavy=heavy)
