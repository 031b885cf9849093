"""Sweeps on Ray: records written by the driver, resumption, a failing run, the grid parser."""

from __future__ import annotations

import pytest

from core.learning.config import TrainConfig
from core.results.experiments import plan_experiments, run_plan
from core.results.grid import parse_grid, plan_grid
from core.results.ray_sweep import RayOptions
from core.results.records import load_runs, read_record


@pytest.fixture(scope="module")
def local_ray():
    """A local Ray instance on two CPUs, for this module's sweeps (Ray is optional: skipped without it)."""
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def test_the_grid_parser_reads_settings_and_refuses_what_is_wrong():
    assert parse_grid(["qubits=2,4,6,8", "depth=1,3,6,10"]) == {"n_qubits": [2, 4, 6, 8], "depth": [1, 3, 6, 10]}
    assert parse_grid(["lr=0.001,4e-4", "shots=analytic,1024", "noise=none,fake_manila", "backend=qiskit.aer"]) == {
        "lr": [0.001, 0.0004], "shots": [None, 1024], "noise": [None, "fake_manila"], "backend": ["qiskit.aer"]}
    wrong = {
        "colour=red": "unknown training setting 'colour'",
        "depth=1,three": "depth: 'three' is not a whole number",
        "lr=fast": "lr: 'fast' is not a number",
        "seed=1,2": "give the seeds with --seeds",
        "depth": "write a setting and its values",
        "depth=": "write a setting and its values",
        "depth=1,1": "lists 1 more than once",
    }
    for item, message in wrong.items():
        with pytest.raises(ValueError, match=message):
            parse_grid([item])
    with pytest.raises(ValueError, match="names n_qubits twice"):
        parse_grid(["qubits=2", "n_qubits=4"])


def test_a_grid_plans_every_cell_and_seed_and_checks_each_before_running():
    plan = plan_grid({"n_qubits": [2, 8], "depth": [1, 10]}, seeds=(0, 1))
    assert len(plan) == 8
    assert plan[0].run_id == "grid-efficientnet_lite0-default.qubit-analytic-qubits2-depth1-e30-s0"
    assert plan[-1].run_id == "grid-efficientnet_lite0-default.qubit-analytic-qubits8-depth10-e30-s1"
    assert (plan[-1].config.n_qubits, plan[-1].config.depth, plan[-1].config.seed) == (8, 10, 1)
    assert plan[-1].grid == {"n_qubits": 8, "depth": 10}
    with pytest.raises(ValueError, match=r"grid cell qubits=9, depth=1: n_qubits must be a whole number between 1 and 8"):
        plan_grid({"n_qubits": [2, 9], "depth": [1]}, seeds=(0,))


def test_a_sweep_on_ray_writes_valid_records_and_a_rerun_trains_nothing(local_ray, face_mask_410, tmp_path):
    from core.results.runs import run_training

    runs, checkpoints = tmp_path / "runs", tmp_path / "checkpoints"
    plan = plan_experiments(seeds=(0, 1), epochs=1, only="mlp", data_dir=str(face_mask_410))
    first = run_plan(plan, runs, checkpoints, ray=RayOptions())
    on_disk = {r["run_id"]: r for r in load_runs(runs).records}
    assert sorted(on_disk) == [r.run_id for r in plan] == [r["run_id"] for r in first]
    assert all(read_record(runs / f"{rid}.json")["status"] == "completed" for rid in on_disk)
    assert [p.name for p in checkpoints.iterdir()] == ["best-efficientnet_lite0-mlp.pt"]
    assert sum(1 for r in on_disk.values() if r["checkpoint"]) == 1
    # the worker fits exactly what a run in this process fits
    here = run_training(plan[0].config, runs_dir=tmp_path / "here", checkpoints_dir=tmp_path / "here")
    assert [e["train_acc"] for e in here["epochs"]] == [e["train_acc"] for e in first[0]["epochs"]]
    assert here["test"]["confusion"] == first[0]["test"]["confusion"]
    told = []
    second = run_plan(plan, runs, checkpoints, on_run=lambda i, n, rid, record: told.append(record), ray=RayOptions())
    assert len(told) == 2 and None not in told, "nothing is started again"
    assert [r["finished"] for r in second] == [r["finished"] for r in first]


def test_a_run_that_raises_is_reported_and_the_other_finishes(local_ray, face_mask_410, tmp_path):
    from core.results.runs import train_on_features

    def train(config, splits, on_epoch):
        if config.n_qubits == 3:
            raise RuntimeError("this cell breaks")
        return train_on_features(config, splits, on_epoch)

    plan = plan_grid({"n_qubits": [2, 3]}, seeds=(0,), base=TrainConfig(epochs=1, data_dir=str(face_mask_410)))
    told = []
    records = run_plan(plan, tmp_path / "runs", tmp_path / "checkpoints", ray=RayOptions(train=train),
                       on_run=lambda i, n, rid, record: told.append((rid, record and record["status"])))
    assert [r["status"] for r in records] == ["completed", "failed"]
    assert records[1]["error"] == "RuntimeError: this cell breaks"
    assert (plan[1].run_id, "failed") in told and (plan[0].run_id, "completed") in told
    assert {r["run_id"]: r["status"] for r in load_runs(tmp_path / "runs").records} == {
        plan[0].run_id: "completed", plan[1].run_id: "failed"}
    assert records[0]["checkpoint"] is None and not (tmp_path / "checkpoints").exists(), "a grid keeps records only"


def test_the_shipped_grid_is_left_out_of_the_series_and_makes_one_study():
    from core.paths import DATA_ROOT
    from core.results import comparison
    from ui.svg_charts import heatmap_alt, heatmap_svg

    records = comparison.completed(load_runs(DATA_ROOT / "runs").records)
    groups = comparison.group(records)
    assert not any(comparison.is_grid(r) for runs in groups.values() for r in runs)
    assert len(groups["default.qubit, analytic"]) == 3, "the article's default.qubit series keeps its three seeds"
    studies = comparison.grid_studies(records)
    assert list(studies) == ["default.qubit, analytic, 30 epochs: qubits × depth"]
    rows = studies[next(iter(studies))]
    assert sorted((r["row"], r["column"]) for r in rows) == [(q, d) for q in (2, 4, 6, 8) for d in (1, 3, 6, 10)]
    assert all(r["seeds"] == 3 and 50 <= r["test_acc"] <= 100 and r["train_seconds"] > 0 for r in rows)
    cell = next(r for r in rows if (r["row"], r["column"]) == (4, 6))
    runs = [r for r in records if r.get("grid") == {"n_qubits": 4, "depth": 6}]
    assert cell["test_acc"] == pytest.approx(sum(r["test"]["accuracy"] for r in runs) / 3 * 100)
    svg = heatmap_svg(rows, "test_acc", "Test accuracy", ".1f", "#1e7b1e")
    assert svg.startswith("<svg") and f"{cell['test_acc']:.1f}" in svg
    assert heatmap_alt(rows, "test_acc", "Test accuracy", ".1f").count(" and depth ") == 16
    best, slow = max(rows, key=lambda r: r["test_acc"]), max(rows, key=lambda r: r["train_seconds"])
    finding = comparison.grid_finding(rows)
    assert f"to {best['test_acc']:.1f} % (qubits {best['row']}, depth {best['column']})" in finding
    assert f"to {slow['train_seconds']:.0f} s (qubits {slow['row']}, depth {slow['column']})" in finding


def test_without_ray_the_command_runs_one_after_another_and_says_how_to_scale(face_mask_410, tmp_path, monkeypatch, capsys):
    import sys

    from core.commands.experiments import main

    monkeypatch.setitem(sys.modules, "ray", None)  # what an environment without Ray gives: import ray raises ImportError
    args = ["--grid", "depth=1", "--seeds", "0", "--epochs", "1", "--data", str(face_mask_410), "--runs-dir", str(tmp_path)]
    assert main(args) == 0
    err = capsys.readouterr().err
    assert 'Ray is not installed' in err and 'pip install "ray[tune]==2.60.0"' in err and "--address" in err
    assert [r["status"] for r in load_runs(tmp_path).records] == ["completed"]
    with pytest.raises(SystemExit) as exit_:
        main([*args, "--address", "auto"])
    assert exit_.value.code == 2 and '--address needs Ray: pip install "ray[tune]==2.60.0"' in capsys.readouterr().err
