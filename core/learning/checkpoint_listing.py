"""The checkpoints in a folder, listed without torch while none of them changed.

Reading a checkpoint's metadata needs torch (2 s to import); the app's sidebar
lists the checkpoints on every page, the very first included. The listing is
kept in ``$QTL_CACHE/checkpoint-listing.json`` with the folder's stamp (each
file's name, mtime and size), so a restarted server lists them from JSON until
a checkpoint is added, removed or rewritten.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from core.files import atomic_write_bytes
from core.paths import cache_dir

LISTING_FILE = "checkpoint-listing.json"
_TUPLE = "__tuple__"  # JSON has no tuples; the metadata has some (the transform's mean and std)

Listing = tuple[list[tuple[str, str, dict]], list[str]]  # (path, label, meta) of each checkpoint, the skipped files' messages


def folder_stamp(directory: str | os.PathLike, pattern: str) -> tuple:
    """Changes whenever a file matching ``pattern`` in ``directory`` is added, removed or rewritten."""
    directory = Path(directory)
    if not directory.is_dir():
        return ()
    return tuple(sorted((p.name, s.st_mtime_ns, s.st_size) for p in directory.glob(pattern) for s in [p.stat()]))


def listed_checkpoints(directory: str | os.PathLike) -> Listing:
    """:func:`core.learning.checkpoints.list_checkpoints` as plain values, from the kept listing while it is current."""
    directory, stamp = str(directory), folder_stamp(directory, "*.pt")
    kept = _kept(directory, stamp)
    if kept is not None:
        return kept
    from core.learning.checkpoints import list_checkpoints

    listing = list_checkpoints(directory)
    found = [(str(c.path), c.label, c.meta) for c in listing.checkpoints], listing.problems
    _keep(directory, stamp, found)
    return found


def _kept(directory: str, stamp: tuple) -> Listing | None:
    try:
        kept = json.loads((cache_dir() / LISTING_FILE).read_text(), object_hook=_tuples)
        checkpoints, problems = kept["checkpoints"], kept["problems"]
        if kept["directory"] != directory or tuple(kept["stamp"]) != stamp or not _well_formed(checkpoints, problems):
            return None
        return checkpoints, problems
    except (OSError, ValueError, KeyError, TypeError):  # none yet, unreadable or another shape: list them again
        return None


def _well_formed(checkpoints, problems) -> bool:
    return isinstance(checkpoints, list) and isinstance(problems, list) and all(isinstance(p, str) for p in problems) \
        and all(isinstance(c, tuple) and len(c) == 3 and isinstance(c[0], str) and isinstance(c[1], str)
                and isinstance(c[2], dict) for c in checkpoints)


def _keep(directory: str, stamp: tuple, found: Listing) -> None:
    checkpoints, problems = found
    blob = {"directory": directory, "stamp": stamp, "checkpoints": checkpoints, "problems": problems}
    try:
        text = json.dumps(_tagged(blob))
        if json.loads(text, object_hook=_tuples) == blob:  # else the metadata has what JSON cannot carry (NaN, int keys)
            atomic_write_bytes(cache_dir() / LISTING_FILE, text.encode())
    except (TypeError, ValueError, OSError):  # not kept (or a read-only cache): the next start lists with torch
        pass


def _tagged(value):
    if isinstance(value, tuple):
        return {_TUPLE: [_tagged(v) for v in value]}
    if isinstance(value, list):
        return [_tagged(v) for v in value]
    if isinstance(value, dict):
        return {k: _tagged(v) for k, v in value.items()}
    return value


def _tuples(obj: dict):
    return tuple(obj[_TUPLE]) if set(obj) == {_TUPLE} else obj
