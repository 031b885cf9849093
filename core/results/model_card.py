"""A trained model's card, in Markdown: what it is, how it was trained, how well it does, and the file itself.

Built from the checkpoint (its ``meta``) and, where there is one, its run record
(``data/runs/<run_id>.json``): the record adds the training settings, the
per-split accuracies, the test confusion matrix, the data set's sizes and the
library versions. Whatever neither holds is written as unknown, never guessed.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

from core.data.dataset import manifest_hash, read_manifest
from core.files import sha256_file
from core.learning.checkpoints import FORMAT, load_checkpoint
from core.paths import MANIFEST
from core.paths import runs_dir as default_runs_dir
from core.results.records import RecordError, library_versions, read_record

PROJECT = "quantum-transfer-dashboard"
NO_RECORD = "unknown (no run record)"
# settings that must agree between a checkpoint and the record offered for it
_SHARED = ("backbone", "backend", "n_qubits", "depth", "seed")


def find_record(meta: dict, runs_dir: str | os.PathLike | None = None) -> dict | None:
    """The run record of the checkpoint's run (``meta["run_id"]``) in ``runs_dir`` (default ``$QTL_RUNS_DIR``), or None."""
    run_id = meta.get("run_id")
    if not isinstance(run_id, str) or not run_id or Path(run_id).name != run_id:
        return None
    path = Path(runs_dir or default_runs_dir()) / f"{run_id}.json"
    try:
        record = read_record(path) if path.is_file() else None
    except RecordError:
        return None
    return record if record is not None and record["run_id"] == run_id else None


def model_card(checkpoint_path: str | os.PathLike, record: dict | None = None, *, today: dt.date | None = None) -> str:
    """The Markdown card of the checkpoint at ``checkpoint_path``; ``record`` is its run record (None: unknown).

    A record of another run is a ValueError. ``today`` dates the card (default: today).
    """
    checkpoint = load_checkpoint(checkpoint_path)
    meta, path = checkpoint.meta, checkpoint.path
    if record is not None:
        _check_match(meta, record)
    today = today or dt.date.today()
    head = "a dressed variational quantum circuit (Mari et al. 2019)" if checkpoint.head_kind == "quantum" else "a classical head"
    sections = [
        f"# Model card: {path.stem}",
        f"A mask / no-mask image classifier from {PROJECT}: a frozen ImageNet backbone's features go through {head}. "
        "A teaching model: trained on a few hundred face close-ups; not for screening anyone.",
        "## Model\n" + _table(_model_rows(meta, checkpoint.state_dict, checkpoint.head_kind, record)),
        "## Training\n" + _table(_training_rows(meta, checkpoint.head_kind, record)),
        "## Data set\n" + _table(_dataset_rows(meta, record)),
        "## Accuracy\n" + _accuracy(meta, record),
        "## Test confusion matrix\n" + _confusion(meta, record),
        "## Library versions\n" + _versions(record, today),
        "## The file\n" + _table(_file_rows(path)),
        "## Use it\n" + _use(path),
        f"*Card written on {today.isoformat()} by {PROJECT} (core/results/model_card.py).*",
    ]
    return "\n\n".join(sections) + "\n"


def _check_match(meta: dict, record: dict) -> None:
    run_id, config = meta.get("run_id"), record.get("config", {})
    if run_id is not None and record.get("run_id") != run_id:
        raise ValueError(f"the run record is of run {record.get('run_id')!r}, the checkpoint of run {run_id!r}")
    wrong = [k for k in _SHARED if k in meta and k in config and meta[k] != config[k]]
    if wrong:
        raise ValueError(f"the run record does not match the checkpoint: {', '.join(wrong)} differ")


def _table(rows: list[tuple[str, Any]]) -> str:
    return "\n".join(["| | |", "|---|---|", *(f"| {name} | {value} |" for name, value in rows)])


def _head_text(kind: str, meta: dict) -> str:
    n, features, classes = meta["n_qubits"], meta["in_features"], len(meta["classes"])
    if kind == "linear":
        return f"classical reference: Linear {features}→{classes}"
    if kind == "mlp":
        return f"classical reference: Linear {features}→{n}, tanh·π/2, Linear {n}→{n}, tanh, Linear {n}→{classes}"
    return (f"quantum (dressed circuit): Linear {features}→{n}, tanh·π/2 as {n} input angles, the circuit, "
            f"⟨Z⟩ per qubit, Linear {n}→{classes}")


def _model_rows(meta: dict, state_dict: dict, kind: str, record: dict | None) -> list[tuple[str, Any]]:
    n, depth = meta["n_qubits"], meta["depth"]
    if kind == "quantum":
        circuit = (f"{n} qubits, depth {depth}: Hadamards, RY(input angle), then {depth} × [CNOTs, RY(weight)]; "
                   f"{n * depth} trained weights, {n} input angles per image")
    else:
        circuit = "none (a classical head)"
    if record is not None and "trainable_parameters" in record:
        parameters = f"{record['trainable_parameters']:,}"
    else:
        parameters = f"{sum(int(t.numel()) for t in state_dict.values()):,} (all tensors in the file)"
    t = meta["transform"]
    transform = (f"resize {t.get('resize')}, centre crop {t.get('crop')}, {t.get('interpolation')}, "
                 f"mean {t.get('mean')}, std {t.get('std')}")
    return [("Backbone", f"{meta['backbone']} (frozen, ImageNet-pre-trained; {meta['in_features']:,} features)"),
            ("Head", _head_text(kind, meta)), ("Circuit", circuit), ("Trainable parameters", parameters),
            ("Classes", ", ".join(f"{i} = {c}" for i, c in enumerate(meta["classes"]))), ("Input transform", transform)]


def _training_rows(meta: dict, kind: str, record: dict | None) -> list[tuple[str, Any]]:
    config = (record or {}).get("config", {})

    def setting(key: str) -> Any:
        return config.get(key, NO_RECORD)

    shots = meta.get("shots", config.get("shots"))
    noise = meta.get("noise", config.get("noise"))
    best = meta["metrics"].get("best_epoch")
    schedule = (f"{setting('lr')} (Adam; StepLR every {config['step_size']} epochs × {config['gamma']})"
                if {"step_size", "gamma"} <= set(config) else setting("lr"))
    started = (record or {}).get("created") or meta.get("created") or "unknown"
    finished = (record or {}).get("finished")
    rows = [
        ("Epochs", f"{setting('epochs')}; kept: epoch {best}, the best validation accuracy" if best else setting("epochs")),
        ("Learning rate", schedule), ("Batch size", setting("batch_size")), ("Seed", meta.get("seed", setting("seed"))),
    ]
    if kind == "quantum":
        rows += [("Backend", meta["backend"]), ("Shots", "analytic (exact ⟨Z⟩)" if not shots else f"{shots} per circuit"),
                 ("Noise", noise or "none (an ideal simulator)"), ("Executor", (record or {}).get("executor", NO_RECORD))]
    else:
        rows.append(("Backend", "none: a classical head runs no circuit"))
    return rows + [("Trained", f"{started} → {finished}" if finished else started), ("Run id", meta.get("run_id", "unknown"))]


def _dataset_rows(meta: dict, record: dict | None) -> list[tuple[str, Any]]:
    dataset = (record or {}).get("dataset", {})
    digest = dataset.get("hash") or meta.get("dataset_hash")
    name = Path(dataset["path"]).name if dataset.get("path") else NO_RECORD
    rows = [("Name", name)]
    manifest = _manifest()
    if digest and manifest and manifest_hash(manifest) == digest:
        rows = [("Name", f"face-mask-410 (the images of {MANIFEST.name})"),
                ("Source", f"{manifest.get('source')} @ {str(manifest.get('commit'))[:12]}, licence {manifest.get('licence')}")]
    sizes = dataset.get("sizes")
    rows.append(("Images", ", ".join(f"{split} {count}" for split, count in sizes.items()) if sizes else NO_RECORD))
    rows.append(("Content hash (sha256)", f"`{digest}`" if digest else "unknown"))
    return rows


def _manifest() -> dict | None:
    try:
        return read_manifest(MANIFEST)
    except (OSError, ValueError):
        return None


def _train_accuracy(meta: dict, record: dict | None) -> float | None:
    best = (record or {}).get("best", {}).get("epoch", meta["metrics"].get("best_epoch"))
    return next((e["train_acc"] for e in (record or {}).get("epochs", []) if e.get("epoch") == best), None)


def _accuracy(meta: dict, record: dict | None) -> str:
    metrics, test = meta["metrics"], (record or {}).get("test", {})
    val = (record or {}).get("best", {}).get("val_acc", metrics.get("val_accuracy"))
    rows = [("train (measured during the kept epoch)", _train_accuracy(meta, record)),
            ("validation (the kept epoch)", val), ("test", test.get("accuracy", metrics.get("test_accuracy")))]
    sizes = (record or {}).get("dataset", {}).get("sizes", {})
    lines = ["| split | accuracy | images |", "|---|---|---|"]
    for (label, value), split in zip(rows, ("train", "val", "test")):
        shown = f"{value:.4f} ({value:.2%})" if isinstance(value, (int, float)) else NO_RECORD
        lines.append(f"| {label} | {shown} | {sizes.get(split, '?')} |")
    error = test.get("top1_error", metrics.get("test_top1_error"))
    if isinstance(error, (int, float)):
        lines.append(f"\nTest top-1 error: {error:.2%}.")
    return "\n".join(lines)


def _confusion(meta: dict, record: dict | None) -> str:
    matrix = (record or {}).get("test", {}).get("confusion")
    if not matrix:
        return f"{NO_RECORD}: the checkpoint keeps only the accuracies."
    classes = meta["classes"]
    lines = ["| true \\ predicted | " + " | ".join(classes) + " |", "|---" * (len(classes) + 1) + "|"]
    lines += [f"| {name} | " + " | ".join(str(v) for v in row) + " |" for name, row in zip(classes, matrix)]
    return "\n".join(lines)


def _versions(record: dict | None, today: dt.date) -> str:
    versions = (record or {}).get("versions")
    if versions:
        note = "As recorded when the model was trained."
    else:
        versions = library_versions()
        note = f"Not in a run record: these are the versions installed where this card was written, on {today.isoformat()}."
    return note + "\n\n" + "\n".join(["| library | version |", "|---|---|", *(f"| {k} | {v} |" for k, v in versions.items())])


def _file_rows(path: Path) -> list[tuple[str, Any]]:
    return [("File", f"`{path.name}`"), ("Size", f"{path.stat().st_size:,} bytes"), ("Format", f"{FORMAT} (torch.save)"),
            ("sha256", f"`{sha256_file(path)}`")]


def _use(path: Path) -> str:
    return ("Load it safely (`weights_only=True`: nothing in the file is executed) with this project:\n\n"
            f"```\npython -m core predict photo.jpg --checkpoint {path.name}\n```\n\n"
            "or in Python: `core.learning.checkpoints.load_checkpoint(path).build_head()`.")
