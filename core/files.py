"""Files written safely and identified by content."""

from __future__ import annotations

import fcntl
import hashlib
import os
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def atomic_write_bytes(target: Path, data: bytes) -> None:
    """Write to a temporary file beside ``target`` and rename it into place: readers see the old or the new file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@contextmanager
def locked_file(lock: Path, threads: threading.Lock) -> Iterator[None]:
    """Held by one thread of this process (``threads``) and one process on the machine (an exclusive flock on ``lock``).

    The kernel frees the flock however a process ends, so a crash never leaves it held.
    """
    lock.parent.mkdir(parents=True, exist_ok=True)
    with threads, open(lock, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
