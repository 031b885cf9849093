"""Checkpoints: the trainable head plus the metadata needed to use it again.

One format (``qtl-checkpoint/1``): ``{"format", "meta", "state_dict"}``,
written atomically with ``torch.save`` and read with ``weights_only=True`` so
that nothing in a file is ever executed.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path

import torch

from core.circuit.definition import CircuitSpec
from core.files import atomic_write_bytes
from core.learning.heads import build_head
from core.paths import checkpoints_dir

FORMAT = "qtl-checkpoint/1"
REQUIRED_META = ("backbone", "backend", "n_qubits", "depth", "classes", "in_features", "transform", "metrics")


class CheckpointError(ValueError):
    """A checkpoint is missing, unreadable, or not in our format."""


@dataclass
class Checkpoint:
    path: Path
    meta: dict
    state_dict: dict[str, torch.Tensor]

    @property
    def spec(self) -> CircuitSpec:
        return CircuitSpec(self.meta["n_qubits"], self.meta["depth"])

    @property
    def label(self) -> str:
        m = self.meta
        acc = m["metrics"].get("test_accuracy")
        acc_text = f", test {acc:.1%}" if isinstance(acc, (int, float)) else ""
        shots = f"{m['shots']} shots" if m.get("shots") else "analytic"
        if self.head_kind != "quantum":
            return f"{self.path.stem} — {m['backbone']} + classical {self.head_kind} head{acc_text}"
        return f"{self.path.stem} — {m['backbone']} + {m['backend']} ({shots}{acc_text})"

    @property
    def head_kind(self) -> str:
        return self.meta.get("head", "quantum")

    def build_head(self, executor=None) -> torch.nn.Module:
        head = build_head(self.head_kind, self.meta["in_features"], self.spec, executor, n_classes=len(self.meta["classes"]))
        head.load_state_dict(self.state_dict)
        head.eval()
        return head


def save_checkpoint(path: str | os.PathLike, head: torch.nn.Module, meta: dict) -> Path:
    missing = [k for k in REQUIRED_META if k not in meta]
    if missing:
        raise CheckpointError(f"checkpoint metadata lacks {', '.join(missing)}")
    buffer = io.BytesIO()
    state = {k: v.detach().clone() for k, v in head.state_dict().items()}
    torch.save({"format": FORMAT, "meta": meta, "state_dict": state}, buffer)
    path = Path(path)
    atomic_write_bytes(path, buffer.getvalue())
    return path


def load_checkpoint(path: str | os.PathLike) -> Checkpoint:
    """Read a checkpoint safely; any problem is a :class:`CheckpointError` that names the file."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint")
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # truncated zip, pickle with code, random bytes
        raise CheckpointError(f"{path.name}: not a readable checkpoint ({type(exc).__name__}: {_first_line(exc)})") from exc
    if not isinstance(blob, dict) or blob.get("format") != FORMAT:
        raise CheckpointError(f"{path.name}: not a {FORMAT} checkpoint")
    meta, state = blob.get("meta"), blob.get("state_dict")
    if not isinstance(meta, dict) or not isinstance(state, dict):
        raise CheckpointError(f"{path.name}: checkpoint lacks meta or state_dict")
    missing = [k for k in REQUIRED_META if k not in meta]
    if missing:
        raise CheckpointError(f"{path.name}: checkpoint metadata lacks {', '.join(missing)}")
    checkpoint = Checkpoint(path, meta, state)
    try:
        checkpoint.build_head()
    except (RuntimeError, ValueError, TypeError, KeyError) as exc:
        raise CheckpointError(f"{path.name}: weights do not fit the model it describes ({_first_line(exc)})") from exc
    return checkpoint


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else ""


@dataclass
class CheckpointListing:
    checkpoints: list[Checkpoint]
    problems: list[str]


def list_checkpoints(directory: str | os.PathLike | None = None) -> CheckpointListing:
    """Every loadable checkpoint in ``directory`` (default ``$QTL_CHECKPOINTS_DIR``), best test accuracy first.

    Unreadable files are named in ``problems``.
    """
    found, problems = [], []
    for path in sorted(Path(directory or checkpoints_dir()).glob("*.pt")):
        try:
            found.append(load_checkpoint(path))
        except CheckpointError as exc:
            problems.append(str(exc))
    found.sort(key=lambda c: -(c.meta["metrics"].get("test_accuracy") or 0.0))
    return CheckpointListing(found, problems)


def best_quantum_checkpoint(directory: str | os.PathLike | None = None) -> Path:
    """The dressed-circuit model with the best test accuracy (the shipped ones, or trained here)."""
    quantum = [c for c in list_checkpoints(directory).checkpoints if c.head_kind == "quantum"]
    if not quantum:
        raise CheckpointError("no trained model in checkpoints/: train one with python -m core train")
    return quantum[0].path
