"""Model cards from the real shipped checkpoint and its run record, and from a checkpoint without one."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
from importlib.metadata import version

import pytest

from core.learning.checkpoints import load_checkpoint, save_checkpoint
from core.paths import PROJECT_ROOT
from core.results.model_card import NO_RECORD, find_record, model_card

SHIPPED = PROJECT_ROOT / "checkpoints" / "best-efficientnet_lite0-default.qubit-analytic.pt"
SHIPPED_RUNS = PROJECT_ROOT / "data" / "runs"
TODAY = dt.date(2026, 11, 27)


def table_row(card: str, first_cell: str) -> list[str]:
    """The cells of the Markdown table row that starts with ``first_cell``."""
    line = next(line for line in card.splitlines() if line.startswith(f"| {first_cell} |"))
    return [cell.strip() for cell in line.strip("|").split("|")]


def test_card_of_the_shipped_model_carries_its_run_records_numbers():
    meta = load_checkpoint(SHIPPED).meta
    record = find_record(meta, SHIPPED_RUNS)
    assert record is not None and record["run_id"] == meta["run_id"]
    card = model_card(SHIPPED, record, today=TODAY)

    assert card.startswith(f"# Model card: {SHIPPED.stem}\n")
    train_acc = next(e["train_acc"] for e in record["epochs"] if e["epoch"] == record["best"]["epoch"])
    for label, value in (("train (measured during the kept epoch)", train_acc),
                         ("validation (the kept epoch)", record["best"]["val_acc"]), ("test", record["test"]["accuracy"])):
        assert table_row(card, label)[1] == f"{value:.4f} ({value:.2%})"
    assert table_row(card, "test")[2] == str(record["dataset"]["sizes"]["test"])
    for name, row in zip(meta["classes"], record["test"]["confusion"]):
        assert table_row(card, name) == [name, *map(str, row)]
    assert table_row(card, "sha256")[1] == f"`{hashlib.sha256(SHIPPED.read_bytes()).hexdigest()}`"

    config = record["config"]
    assert table_row(card, "Epochs")[1].startswith(f"{config['epochs']}; kept: epoch {record['best']['epoch']}")
    assert table_row(card, "Learning rate")[1].startswith(str(config["lr"]))
    assert table_row(card, "Batch size")[1] == str(config["batch_size"])
    assert table_row(card, "Seed")[1] == str(config["seed"])
    assert table_row(card, "Backend")[1] == "default.qubit" and table_row(card, "Shots")[1] == "analytic (exact ⟨Z⟩)"
    assert table_row(card, "Circuit")[1].startswith("4 qubits, depth 6") and "24 trained weights" in card
    assert table_row(card, "Trainable parameters")[1] == f"{record['trainable_parameters']:,}"
    assert table_row(card, "Images")[1] == "train 240, val 50, test 120"
    assert table_row(card, "Content hash (sha256)")[1] == f"`{record['dataset']['hash']}`"
    assert "As recorded when the model was trained." in card
    assert all(table_row(card, lib) == [lib, v] for lib, v in record["versions"].items())
    assert record["created"] in table_row(card, "Trained")[1] and NO_RECORD not in card


def test_card_without_a_record_says_what_is_unknown():
    meta = load_checkpoint(SHIPPED).meta
    card = model_card(SHIPPED, None, today=TODAY)
    for field in ("Batch size", "Learning rate", "Executor", "Images"):
        assert table_row(card, field)[1] == NO_RECORD
    assert table_row(card, "train (measured during the kept epoch)")[1] == NO_RECORD
    assert table_row(card, "test")[1] == f"{meta['metrics']['test_accuracy']:.4f} ({meta['metrics']['test_accuracy']:.2%})"
    assert f"{NO_RECORD}: the checkpoint keeps only the accuracies." in card
    assert "the versions installed where this card was written, on 2026-11-27" in card
    assert table_row(card, "numpy") == ["numpy", version("numpy")]
    assert table_row(card, "Seed")[1] == str(meta["seed"])


def test_a_checkpoint_without_a_run_id_and_runs_folder_problems(tmp_path):
    checkpoint = load_checkpoint(SHIPPED)
    meta = {k: v for k, v in checkpoint.meta.items() if k not in ("run_id", "created", "dataset_hash")}
    bare = save_checkpoint(tmp_path / "bare.pt", checkpoint.build_head(), meta)
    assert find_record(meta, SHIPPED_RUNS) is None
    card = model_card(bare, None, today=TODAY)
    assert table_row(card, "Run id")[1] == "unknown" and table_row(card, "Content hash (sha256)")[1] == "unknown"
    assert table_row(card, "Trained")[1] == "unknown"

    runs = tmp_path / "runs"
    runs.mkdir()
    assert find_record(checkpoint.meta, runs) is None, "no record in the folder"
    (runs / f"{checkpoint.meta['run_id']}.json").write_text("{not json")
    assert find_record(checkpoint.meta, runs) is None, "an unreadable record is no record"
    assert find_record({**checkpoint.meta, "run_id": "../runs/x"}, runs) is None, "a run id is a file name, not a path"


def test_a_record_of_another_run_is_refused(tmp_path):
    meta = load_checkpoint(SHIPPED).meta
    other = json.loads((SHIPPED_RUNS / "exp-efficientnet_lite0-default.qubit-analytic-e30-s0.json").read_text())
    with pytest.raises(ValueError, match="the run record is of run 'exp-efficientnet_lite0-default.qubit-analytic-e30-s0'"):
        model_card(SHIPPED, other)
    copy = shutil.copy(SHIPPED, tmp_path / "copy.pt")
    record = find_record(meta, SHIPPED_RUNS)
    with pytest.raises(ValueError, match="depth differ"):
        model_card(copy, {**record, "config": {**record["config"], "depth": 2}})
