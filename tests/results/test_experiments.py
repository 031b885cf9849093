"""The experiment sweep: resumable, keeps the best model per configuration; classical heads; QPU estimate."""

from __future__ import annotations

import json

import pytest

from core.learning.checkpoints import load_checkpoint
from core.results.experiments import EXPERIMENTS, best_checkpoint_name, config_for, plan_experiments, run_id, run_plan
from core.results.qpu_estimate import QPUAssumptions, circuits_for_training, estimate, human_duration
from core.results.records import read_record


def test_the_sweep_covers_every_simulator_noise_and_baselines():
    labels = {(e.backend, e.shots, e.noise, e.head) for e in EXPERIMENTS}
    assert ("default.qubit", None, None, "quantum") in labels
    assert ("lightning.qubit", None, None, "quantum") in labels
    assert ("qiskit.aer", 1024, None, "quantum") in labels
    assert ("cirq.simulator", 1024, None, "quantum") in labels
    assert ("qiskit.aer", 1024, "fake_manila", "quantum") in labels
    assert {"linear", "mlp"} <= {e.head for e in EXPERIMENTS}


def test_run_ids_are_deterministic_and_distinct():
    ids = {run_id(config_for(e, "efficientnet_lite0", s, 30, None)) for e in EXPERIMENTS for s in (0, 1, 2)}
    assert len(ids) == 3 * len(EXPERIMENTS)
    first = run_id(config_for(EXPERIMENTS[0], "efficientnet_lite0", 1, 30, None))
    assert first == "exp-efficientnet_lite0-default.qubit-analytic-e30-s1"


def test_sweep_resumes_and_keeps_the_best_seed(face_mask_410, tmp_path):
    runs, checkpoints = tmp_path / "runs", tmp_path / "checkpoints"
    plan = plan_experiments(seeds=(0, 1), epochs=2, only="mlp", data_dir=str(face_mask_410))
    first = run_plan(plan, runs, checkpoints)
    assert [r["status"] for r in first] == ["completed", "completed"]
    assert sorted(p.name for p in checkpoints.iterdir()) == ["best-efficientnet_lite0-mlp.pt"]
    holders = [r for r in (read_record(p) for p in runs.glob("*.json")) if r.get("checkpoint")]
    assert len(holders) == 1, "exactly one seed's record names the kept model"
    best = max(first, key=lambda r: (r["best"]["val_acc"], r["test"]["accuracy"], -r["config"]["seed"]))
    assert holders[0]["run_id"] == best["run_id"]
    kept = checkpoints / best_checkpoint_name(config_for(EXPERIMENTS[-1], "efficientnet_lite0", 0, 2, None))
    assert load_checkpoint(kept).meta["run_id"] == best["run_id"]
    told = []
    second = run_plan(plan, runs, checkpoints, on_run=lambda i, n, rid, record: told.append((rid, record is None)))
    assert [rid for rid, _ in told] == [r["run_id"] for r in first]
    assert not any(started for _, started in told), "a finished run is reported as done, never started again"
    assert [r["epochs"] for r in second] == [r["epochs"] for r in first]


def test_classical_heads_record_their_size(face_mask_410, tmp_path):
    from core.data.dataset import manifest_hash, read_manifest
    from core.learning.config import TrainConfig
    from core.results.runs import run_training

    sizes = {}
    for head in ("linear", "mlp", "quantum"):
        config = TrainConfig(head=head, epochs=1, data_dir=str(face_mask_410))
        record = run_training(config, runs_dir=tmp_path, checkpoints_dir=tmp_path)
        sizes[head] = record["trainable_parameters"]
        assert (record["totals"]["circuits"] > 0) == (head == "quantum")
        assert record["dataset"]["hash"] == manifest_hash(read_manifest()), "the manifest's, from the features' keys"
    assert sizes == {"linear": 1280 * 2 + 2, "mlp": 1280 * 4 + 4 + 20 + 10, "quantum": 1280 * 4 + 4 + 24 + 10}


def test_qpu_estimate_counts_jobs_and_time():
    one_per_job = estimate(13730, QPUAssumptions(queue_s_per_job=60, shot_s=250e-6, circuit_overhead_s=0.05))
    assert one_per_job["jobs"] == 13730
    assert one_per_job["shots"] == 13730 * 1024
    assert one_per_job["total_s"] == pytest.approx(13730 * (60 + 0.05 + 1024 * 250e-6))
    batched = estimate(13730, QPUAssumptions(circuits_per_job=228))
    assert batched["jobs"] == 61 and batched["total_s"] < one_per_job["total_s"]
    with pytest.raises(ValueError):
        estimate(10, QPUAssumptions(circuits_per_job=0))
    assert human_duration(9.6 * 86400) == "9.6 days"
    assert human_duration(20 * 86400) == "2.9 weeks"
    assert human_duration(90) == "90 s"


def test_qpu_circuits_match_a_shot_runs_record():
    record = {"config": {"n_qubits": 4, "depth": 6}, "dataset": {"sizes": {"train": 240, "val": 50, "test": 120}},
              "epochs": [{}] * 30}
    counts = circuits_for_training(record)
    # 240 images × (1 + 2·28) + 50 validation images per epoch; 412,020 is what a qiskit.aer record counts
    assert counts["per_epoch"] == 13730
    assert counts["training"] == 412020
    json.dumps(counts)


def test_a_shipped_default_qubit_run_reproduces_from_its_seed(face_mask_410, tmp_path):
    """The first epochs of a shipped 30-epoch record, rerun from its configuration and seed."""
    from dataclasses import fields

    from core.learning.config import TrainConfig
    from core.paths import DATA_ROOT
    from core.results.runs import run_training

    shipped = read_record(DATA_ROOT / "runs" / "exp-efficientnet_lite0-default.qubit-analytic-e30-s1.json")
    names = {f.name for f in fields(TrainConfig)}
    config = TrainConfig(**{k: v for k, v in shipped["config"].items() if k in names})
    config.epochs, config.data_dir = 3, str(face_mask_410)
    rerun = run_training(config, runs_dir=tmp_path / "runs", checkpoints_dir=tmp_path / "checkpoints")
    for mine, theirs in zip(rerun["epochs"], shipped["epochs"][:3], strict=True):
        for exact in ("train_acc", "val_acc", "circuits"):
            assert mine[exact] == theirs[exact]
        assert mine["train_loss"] == pytest.approx(theirs["train_loss"], abs=1e-6)
        assert mine["val_loss"] == pytest.approx(theirs["val_loss"], abs=1e-6)
