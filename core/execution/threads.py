"""One thread per native library (torch, OpenMP, BLAS) while a block runs.

The head's layers and the 4-qubit simulations are tiny: with the OpenMP pools of torch, Aer and lightning spinning
against each other (and against any other process), a training step was many times slower than on one thread
(docs/benchmarks.md).

threadpoolctl finds the pools by walking the loaded libraries under the dynamic loader's lock, calling Python for each;
a thread that meanwhile imports an extension module holds the GIL while it waits for that lock, and both wait for ever
(a warm training hung so, its executor's thread importing torch._dynamo). So walk where no other thread may be
importing, and as seldom as possible: a block inside another walks nothing again.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

_state = threading.local()


@contextmanager
def one_thread_per_library() -> Iterator[None]:
    """torch and every native thread pool loaded now on one thread until the block ends (see the module's note)."""
    if limited():
        yield
        return
    import torch
    from threadpoolctl import ThreadpoolController

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    _state.limited = True
    try:
        with ThreadpoolController().limit(limits=1):
            yield
    finally:
        _state.limited = False
        torch.set_num_threads(threads)


def limited() -> bool:
    """Whether this thread runs inside :func:`one_thread_per_library`."""
    return getattr(_state, "limited", False)
