"""Training, checkpoints, prediction and their commands, on the real images."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from core.data.dataset import list_split
from core.data.images import ImageError
from core.paths import PROJECT_ROOT

ROOT = PROJECT_ROOT


def test_checkpoints_round_trip_and_refuse_bad_files(short_run, tmp_path):
    from core.learning.checkpoints import CheckpointError, list_checkpoints, load_checkpoint

    record, out = short_run
    good = out / "ckpt" / record["checkpoint"]
    checkpoint = load_checkpoint(good)
    assert checkpoint.meta["backbone"] == "efficientnet_lite0" and checkpoint.meta["n_qubits"] == 4
    (tmp_path / "good.pt").write_bytes(good.read_bytes())
    (tmp_path / "truncated.pt").write_bytes(good.read_bytes()[:500])
    (tmp_path / "random.pt").write_bytes(os.urandom(4096))
    (tmp_path / "json.pt").write_text("{}")
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (Path.touch, (marker,))

    (tmp_path / "pickle.pt").write_bytes(pickle.dumps({"format": "qtl-checkpoint/1", "x": Payload()}))
    for name in ("truncated.pt", "random.pt", "json.pt", "pickle.pt"):
        with pytest.raises(CheckpointError, match=name):
            load_checkpoint(tmp_path / name)
    assert not marker.exists(), "loading a checkpoint must never run code from it"
    listing = list_checkpoints(tmp_path)
    assert [c.path.name for c in listing.checkpoints] == ["good.pt"] and len(listing.problems) == 4


def test_training_is_seeded_and_reports_progress(face_mask_410, tmp_path, short_run):
    from core.learning.config import TrainConfig
    from core.learning.train import Cancelled, Progress
    from core.results.runs import run_training

    phases = []
    again = run_training(TrainConfig(epochs=2, seed=3, data_dir=str(face_mask_410)), on_progress=lambda p: phases.append(p.phase),
                  runs_dir=tmp_path, checkpoints_dir=tmp_path)
    assert again["epochs"] == [] or [
        {k: e[k] for k in ("train_loss", "train_acc", "val_loss", "val_acc")} for e in again["epochs"]
    ] == [{k: e[k] for k in ("train_loss", "train_acc", "val_loss", "val_acc")} for e in short_run[0]["epochs"]]
    assert {"features", "train", "done"} <= set(phases)
    with pytest.raises(Cancelled):
        run_training(TrainConfig(epochs=2, data_dir=str(face_mask_410), seed=4), should_stop=lambda: True,
                     runs_dir=tmp_path / "c", checkpoints_dir=tmp_path)
    assert json.loads(next((tmp_path / "c").glob("*.json")).read_text())["status"] == "cancelled"
    for bad in (dict(epochs=0), dict(backend="nope"), dict(n_qubits=9), dict(head="forest"), dict(noise="fake_nowhere")):
        with pytest.raises(ValueError):
            run_training(TrainConfig(data_dir=str(face_mask_410), **bad), runs_dir=tmp_path / "bad", checkpoints_dir=tmp_path)
    assert isinstance(Progress("train"), Progress)


def test_train_and_evaluate_cli(face_mask_410, tmp_path):
    env = {**os.environ}
    train = subprocess.run([sys.executable, "-m", "core", "train", "--epochs", "1", "--data", str(face_mask_410),
                            "--runs-dir", str(tmp_path / "r"), "--checkpoints-dir", str(tmp_path / "c")],
                           cwd=ROOT, capture_output=True, text=True, env=env)
    assert train.returncode == 0, train.stderr[-2000:]
    assert "test accuracy" in train.stdout
    checkpoint = next((tmp_path / "c").glob("*.pt"))
    evaluate = subprocess.run([sys.executable, "-m", "core", "evaluate", str(checkpoint), "--data", str(face_mask_410)],
                              cwd=ROOT, capture_output=True, text=True, env=env)
    assert evaluate.returncode == 0, evaluate.stderr[-2000:]
    assert "top-1 error" in evaluate.stdout and "true no_mask" in evaluate.stdout
    broken = tmp_path / "broken.pt"
    broken.write_bytes(b"\x00" * 10)
    failed = subprocess.run([sys.executable, "-m", "core", "evaluate", str(broken)], cwd=ROOT, capture_output=True, text=True,
                            env=env)
    assert failed.returncode == 1 and "broken.pt" in failed.stderr


def test_prediction_api(short_run, face_mask_410):
    from core.learning.checkpoints import load_checkpoint
    from core.learning.predict import Predictor

    record, out = short_run
    predictor = Predictor(load_checkpoint(out / "ckpt" / record["checkpoint"]))
    image = list_split(face_mask_410, "test")[0].path
    first, second = predictor.predict(image), predictor.predict(image.read_bytes())
    assert first == second
    assert first.label in ("mask", "no_mask") and sum(first.probabilities.values()) == pytest.approx(1.0)
    assert len(first.angles) == 4 and all(abs(a) <= np.pi / 2 for a in first.angles)
    assert len(first.expvals) == 4 and all(-1 <= z <= 1 for z in first.expvals) and len(first.logits) == 2
    big = Image.new("RGB", (6000, 4000), "gray")
    assert predictor.predict(big).label in ("mask", "no_mask")
    with pytest.raises(ImageError):
        predictor.predict(b"")


@pytest.mark.slow
def test_integration_thirty_epochs_on_the_real_images(face_mask_410, tmp_path):
    from core.learning.config import TrainConfig
    from core.results.runs import run_training

    record = run_training(TrainConfig(epochs=30, data_dir=str(face_mask_410)), runs_dir=tmp_path, checkpoints_dir=tmp_path)
    assert record["best"]["val_acc"] >= 0.9
    assert record["test"]["accuracy"] >= 0.9
    assert len(record["epochs"]) == 30 and record["totals"]["circuits"] == 30 * 290 + 120


def test_an_executor_warmed_in_the_background_trains_the_same(face_mask_410):
    from core.learning.config import TrainConfig
    from core.learning.train import executor_in_background
    from core.results.runs import load_features, train_on_features

    cfg = TrainConfig(epochs=2, seed=5, data_dir=str(face_mask_410)).resolved()
    future = executor_in_background(cfg)
    splits = load_features(cfg)
    warmed = future.result(timeout=300)
    assert warmed.count.circuits == 0, "warming up counts no circuits"
    inline, background = train_on_features(cfg, splits), train_on_features(cfg, splits, executor=warmed)
    assert background.epochs[-1]["circuits"] == inline.epochs[-1]["circuits"] > 0
    for key in ("train_loss", "val_loss", "val_acc"):
        assert [e[key] for e in background.epochs] == [e[key] for e in inline.epochs]
    assert executor_in_background(TrainConfig(head="mlp").resolved()) is None


def test_a_training_walks_the_thread_pools_once_after_its_executor_thread(face_mask_410, tmp_path, monkeypatch,
                                                                          short_run):
    """threadpoolctl's walk of the loaded libraries deadlocks against a thread importing an extension module (a warm
    training hung so): a training walks them once, only after its executor's thread is done (the cache is warm here,
    so the fit would otherwise start while that thread still imports)."""
    import threadpoolctl

    from core.learning import train
    from core.learning.config import TrainConfig
    from core.results.runs import run_training

    futures, walks = [], []
    real_background = train.executor_in_background

    def executor_in_background(cfg):
        futures.append(real_background(cfg))
        return futures[-1]

    class Controller(threadpoolctl.ThreadpoolController):
        def __init__(self):
            walks.append(all(future.done() for future in futures))
            super().__init__()

    monkeypatch.setattr("core.results.runs.executor_in_background", executor_in_background)
    monkeypatch.setattr(threadpoolctl, "ThreadpoolController", Controller)
    record = run_training(TrainConfig(epochs=1, seed=5, data_dir=str(face_mask_410)),
                          runs_dir=tmp_path / "runs", checkpoints_dir=tmp_path / "ckpt")
    assert record["status"] == "completed"
    assert len(futures) == 1 and walks == [True]
