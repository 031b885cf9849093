"""Core library: backbones, circuit, registry, images, data, feature cache, records, checkpoints."""

from __future__ import annotations

import io
import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from core.backbones import BackboneUnavailable, load_backbone
from core.backends import BACKENDS, installed_backends, resolve_shots, training_backends
from core.circuit import CircuitSpec, circuit_ops, draw_text, entangling_pairs, symbolic_ops
from core.data import FetchError, dataset_hash, fetch, list_split, manifest_hash, read_manifest
from core.images import ImageError, load_rgb

ROOT = Path(__file__).resolve().parent.parent


# --- backbones ---------------------------------------------------------------------------------------


def test_offline_backbone_is_really_imagenet_pretrained(lite0):
    from skimage import data as skdata

    coffee = Image.fromarray(skdata.coffee())
    x = lite0.info.transform.build()(coffee)[None]
    logits = lite0(x)
    assert int(logits.argmax()) == 967, "scikit-image's coffee photo must be ImageNet class 967, espresso"
    assert lite0.features(x).shape == (1, 1280)
    assert not any(p.requires_grad for p in lite0.parameters())


def test_resnet18_offline_names_both_ways_out(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch-home"))
    monkeypatch.delenv("QTL_RESNET18_WEIGHTS", raising=False)
    with pytest.raises(BackboneUnavailable) as err:
        load_backbone("resnet18")
    message = str(err.value)
    assert "QTL_RESNET18_WEIGHTS" in message and "efficientnet_lite0" in message


def test_resnet18_local_weights_file(tmp_path, monkeypatch):
    """The local-file path (a randomly initialised state dict stands in: not ImageNet weights)."""
    from torchvision.models import resnet18

    path = tmp_path / "resnet18.pth"
    torch.save(resnet18(weights=None).state_dict(), path)
    monkeypatch.setenv("QTL_RESNET18_WEIGHTS", str(path))
    extractor = load_backbone("resnet18")
    assert extractor.features(torch.zeros(1, 3, 224, 224)).shape == (1, 512)
    (tmp_path / "garbage.pth").write_bytes(b"not a checkpoint")
    monkeypatch.setenv("QTL_RESNET18_WEIGHTS", str(tmp_path / "garbage.pth"))
    with pytest.raises(BackboneUnavailable, match="could not be read"):
        load_backbone("resnet18")
    monkeypatch.setenv("QTL_RESNET18_WEIGHTS", str(tmp_path / "missing.pth"))
    with pytest.raises(BackboneUnavailable, match="does not exist"):
        load_backbone("resnet18")


# --- circuit and registry -----------------------------------------------------------------------------


def test_circuit_shape_and_bounds():
    spec = CircuitSpec()
    assert entangling_pairs(4) == [(0, 1), (2, 3), (1, 2)]
    names = [op.name for op in circuit_ops(np.zeros(4), np.zeros((6, 4)), spec)]
    assert names.count("Hadamard") == 4 and names.count("RY") == 28 and names.count("CNOT") == 18
    assert [i for _, _, i in symbolic_ops(spec) if i is not None] == list(range(28))
    text = draw_text(spec)
    assert "RY" in text and "<Z>" in text
    for bad in (dict(n_qubits=0), dict(n_qubits=9), dict(depth=-1), dict(depth=11)):
        with pytest.raises(ValueError, match="between"):
            CircuitSpec(**bad)


def test_registry_and_shots():
    assert list(BACKENDS) == ["default.qubit", "lightning.qubit", "qiskit.aer", "cirq.simulator", "qsharp", "ibm.quantum"]
    assert [b.name for b in training_backends()] == ["default.qubit", "lightning.qubit", "qiskit.aer", "cirq.simulator"]
    assert {b.name for b in installed_backends()} == set(BACKENDS)
    assert resolve_shots("qiskit.aer") == 1024 and resolve_shots("cirq.simulator") == 1024
    assert resolve_shots("default.qubit") is None and resolve_shots("qiskit.aer", 0) is None
    with pytest.raises(ValueError, match="between 1 and"):
        resolve_shots("qiskit.aer", 10**9)
    with pytest.raises(ValueError, match="unknown backend"):
        resolve_shots("ibm.nonexistent")


@pytest.mark.parametrize("backend", [n for n, b in BACKENDS.items() if b.device_name])
def test_pennylane_devices_agree_on_expvals_and_gradients(backend):
    """Through each plugin's PennyLane device: <Z> to 1e-5, gradients to 1e-5 (analytic)."""
    from core.quantum import PennyLaneExecutor

    spec = CircuitSpec()
    gen = torch.Generator().manual_seed(11)
    angles = torch.rand(2, 4, generator=gen, dtype=torch.float64) * 3
    weights = torch.rand(6, 4, generator=gen, dtype=torch.float64) * 3

    def run(name):
        a, w = angles.clone().requires_grad_(), weights.clone().requires_grad_()
        out = PennyLaneExecutor(name, spec, shots=None).expvals(a, w)
        (out * torch.arange(1.0, 5.0, dtype=torch.float64)).sum().backward()
        return out.detach(), a.grad, w.grad

    for got, want in zip(run(backend), run("default.qubit")):
        assert torch.allclose(got, want, atol=1e-5)


@pytest.mark.parametrize("backend", ["qiskit.aer", "cirq.simulator", "lightning.qubit"])
def test_sampled_expvals_within_five_standard_errors(backend):
    from core.quantum import PennyLaneExecutor, expvals_from_counts, sample_counts

    spec, shots = CircuitSpec(), 2000
    angles, weights = torch.rand(2, 4, dtype=torch.float64), torch.rand(6, 4, dtype=torch.float64)
    exact = PennyLaneExecutor("default.qubit", spec, shots=None).expvals(angles, weights)
    sampled = PennyLaneExecutor(backend, spec, shots=shots, seed=3).expvals(angles, weights)
    stderr = torch.sqrt((1 - exact**2) / shots)
    assert ((sampled - exact).abs() <= 5 * stderr).all()
    counts = sample_counts(backend, spec, angles[0].numpy(), weights.numpy(), shots, seed=5)
    assert sum(counts.values()) == shots
    z, err = expvals_from_counts(counts, 4)
    assert (np.abs(z - exact[0].numpy()) <= 5 * err + 1e-9).all()


def test_counts_follow_exact_probabilities_chi_square():
    from scipy.stats import chisquare

    from core.quantum import exact_probabilities, sample_counts, statevector

    spec = CircuitSpec()
    angles, weights = np.linspace(-1, 1, 4), np.linspace(0, 2, 24).reshape(6, 4)
    probs = exact_probabilities(spec, angles, weights)
    assert probs.sum() == pytest.approx(1.0)
    assert np.allclose(np.abs(statevector(spec, angles, weights)) ** 2, probs)
    counts = sample_counts("qiskit.aer", spec, angles, weights, 20000, seed=1)
    observed = np.array([counts.get(format(i, "04b"), 0) for i in range(16)])
    expected = probs * 20000
    keep = expected >= 5
    observed = np.append(observed[keep], observed[~keep].sum())
    expected = np.append(expected[keep], expected[~keep].sum())
    if expected[-1] == 0:
        observed, expected = observed[:-1], expected[:-1]
    assert chisquare(observed, expected * observed.sum() / expected.sum()).pvalue > 0.001


# --- images ------------------------------------------------------------------------------------------


def _png_bytes(image: Image.Image, fmt: str = "PNG", **kwargs) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **kwargs)
    return buffer.getvalue()


def test_odd_images_become_rgb():
    palette = Image.new("P", (8, 8), 0)
    palette.putpalette([255, 0, 0] * 256)
    palette.info["transparency"] = 0
    assert load_rgb(_png_bytes(palette)).getpixel((0, 0)) == (255, 255, 255)
    cmyk = Image.new("CMYK", (10, 6), (0, 255, 0, 0))
    assert load_rgb(_png_bytes(cmyk, "JPEG")).mode == "RGB"
    sixteen = Image.fromarray(np.arange(64 * 64, dtype=np.uint16).reshape(64, 64) * 16)
    assert sixteen.mode.startswith("I;16")
    rgb16 = load_rgb(_png_bytes(sixteen))
    assert rgb16.mode == "RGB" and rgb16.getextrema()[0] == (0, 255)
    rotated = Image.new("RGB", (40, 20), "blue")
    exif = Image.Exif()
    exif[0x0112] = 6
    assert load_rgb(_png_bytes(rotated, "JPEG", exif=exif)).size == (20, 40)
    frames = [Image.new("RGB", (5, 5), c) for c in ("red", "green")]
    gif = io.BytesIO()
    frames[0].save(gif, "GIF", save_all=True, append_images=frames[1:])
    assert load_rgb(gif.getvalue()).getpixel((0, 0))[0] > 200
    for fmt in ("WEBP", "BMP", "TIFF"):
        assert load_rgb(_png_bytes(Image.new("L", (7, 7), 128), fmt)).mode == "RGB"


def test_unusable_images_get_clear_messages(tmp_path, monkeypatch):
    real = _png_bytes(Image.new("RGB", (64, 64), "white"), "JPEG")
    cases = {
        b"": "empty",
        os.urandom(2000): "not an image format",
        real[: len(real) // 2]: "truncated or corrupt",
    }
    for data, needle in cases.items():
        with pytest.raises(ImageError, match=needle):
            load_rgb(data)
    with pytest.raises(ImageError, match="no such file"):
        load_rgb(tmp_path / "missing.jpg")
    monkeypatch.setattr("core.images.MAX_PIXELS", 100)
    with pytest.raises(ImageError, match="limit"):
        load_rgb(_png_bytes(Image.new("RGB", (20, 20))))
    monkeypatch.setattr("core.images.MAX_BYTES", 10)
    with pytest.raises(ImageError, match="MiB"):
        load_rgb(real)


def test_png_header_claiming_enormous_size_is_refused():
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 100000, 100000, 8, 2, 0, 0, 0)
    bomb = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 100)) + chunk(b"IEND", b"")
    with pytest.raises(ImageError, match="too large|limit"):
        load_rgb(bomb)


# --- data and feature cache ---------------------------------------------------------------------------


def test_splits_and_manifest_hash(face_mask_410):
    sizes = {split: len(list_split(face_mask_410, split)) for split in ("train", "val", "test")}
    assert sizes == {"train": 240, "val": 50, "test": 120}
    labels = [s.label for s in list_split(face_mask_410, "test")]
    assert labels.count(0) == labels.count(1) == 60
    assert dataset_hash(face_mask_410) == manifest_hash(read_manifest())


def test_fetch_copies_verifies_and_resumes(face_mask_410, tmp_path):
    dest = tmp_path / "data"
    assert fetch(dest, from_dir=face_mask_410) == {"kept": 0, "fetched": 410, "failed": 0}
    files = sorted(dest.rglob("*.jp*g"))
    files[0].unlink()
    files[1].unlink()
    files[2].write_bytes(b"corrupted")
    assert fetch(dest, from_dir=face_mask_410) == {"kept": 407, "fetched": 3, "failed": 0}
    assert not list(dest.rglob("*.part"))


def test_fetch_reports_each_failure_and_keeps_good_files(face_mask_410, tmp_path):
    manifest = read_manifest()
    entries = manifest["files"][:3]
    bad_hash = dict(entries[1], sha256="0" * 64)
    missing = dict(entries[2], path="train/mask/not-there.jpg")
    small = dict(manifest, files=[entries[0], bad_hash, missing])
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(small))
    with pytest.raises(FetchError) as err:
        fetch(tmp_path / "out", manifest_path=path, from_dir=face_mask_410)
    assert [p for p, _ in err.value.failures] == [bad_hash["path"], missing["path"]]
    assert "sha256 mismatch" in str(err.value) and "missing in the source folder" in str(err.value)
    assert (tmp_path / "out" / entries[0]["path"]).is_file()
    offline = dict(small, files=[entries[0]], url_template="http://127.0.0.1:9/{commit}/{source}")
    path.write_text(json.dumps(offline))
    with pytest.raises(FetchError, match="download failed"):
        fetch(tmp_path / "offline", manifest_path=path)
    assert not list(tmp_path.rglob("*.part"))


def test_fetch_cli(face_mask_410, tmp_path):
    ok = subprocess.run([sys.executable, "-m", "core.data", "fetch", "--from", str(face_mask_410), "--dest", str(tmp_path / "d")],
                        cwd=ROOT, capture_output=True, text=True)
    assert ok.returncode == 0 and "410 fetched" in ok.stdout
    bad = subprocess.run([sys.executable, "-m", "core.data", "fetch", "--from", str(tmp_path / "nowhere"), "--dest", str(tmp_path / "e")],
                         cwd=ROOT, capture_output=True, text=True)
    assert bad.returncode == 1 and "could not be fetched" in bad.stderr


def test_feature_cache_runs_the_backbone_once(face_mask_410, lite0, monkeypatch):
    from core import features

    paths = [s.path for s in list_split(face_mask_410, "val")[:6]]
    first = features.extract_features(paths, "efficientnet_lite0", extractor=lite0)
    cache = features.cache_path("efficientnet_lite0")
    stamp = cache.stat().st_mtime_ns

    def must_not_load(name):
        raise AssertionError("the backbone ran although every image was cached")

    monkeypatch.setattr(features, "load_backbone", must_not_load)
    second = features.extract_features(paths, "efficientnet_lite0")
    assert torch.equal(first, second) and cache.stat().st_mtime_ns == stamp
    assert first.shape == (6, 1280)


def test_corrupt_feature_cache_is_rebuilt(face_mask_410, lite0, tmp_path, monkeypatch):
    from core import features

    monkeypatch.setenv("QTL_CACHE", str(tmp_path))
    paths = [s.path for s in list_split(face_mask_410, "val")[:2]]
    features.cache_path("efficientnet_lite0").parent.mkdir(parents=True)
    features.cache_path("efficientnet_lite0").write_bytes(b"half-written")
    with pytest.warns(UserWarning, match="rebuilding"):
        out = features.extract_features(paths, "efficientnet_lite0", extractor=lite0)
    assert out.shape == (2, 1280)


# --- records and checkpoints --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def short_run(face_mask_410, tmp_path_factory):
    from core.train import TrainConfig, train

    out = tmp_path_factory.mktemp("run")
    record = train(TrainConfig(epochs=2, seed=3, data_dir=str(face_mask_410)), runs_dir=out / "runs", checkpoints_dir=out / "ckpt")
    return record, out


def test_record_schema_rejects_what_is_wrong(short_run):
    from core.records import RecordError, validate

    record, _ = short_run
    assert validate(record) is record
    wrong = record["test"]["misclassified"]
    # dataset-relative, so the shipped records name the same images on any machine
    assert len(wrong) == sum(record["test"]["confusion"][i][j] for i in range(2) for j in range(2) if i != j)
    assert all(not Path(p).is_absolute() and p.startswith("test/") and (Path(record["dataset"]["path"]) / p).is_file() for p in wrong)
    broken = [
        {k: v for k, v in record.items() if k != "epochs"},
        {**record, "status": "exploded"},
        {**record, "config": {**record["config"], "epochs": "30"}},
        {**record, "test": None},
        {**record, "epochs": [{**record["epochs"][0], "val_acc": None}]},
    ]
    for bad in broken:
        with pytest.raises(RecordError):
            validate(bad)


def test_load_runs_skips_bad_files_and_marks_dead_runs(short_run, tmp_path):
    from core.records import load_runs

    record, out = short_run
    good = next((out / "runs").glob("*.json"))
    (tmp_path / good.name).write_text(good.read_text())
    (tmp_path / "truncated.json").write_text(good.read_text()[:100])
    (tmp_path / "other.json").write_text(json.dumps({"schema": "something/9"}))
    (tmp_path / "dead.json").write_text(json.dumps({**record, "run_id": "dead", "status": "running", "pid": 2**22 + 12345}))
    loaded = load_runs(tmp_path)
    assert len(loaded.problems) == 2 and any("truncated.json" in p for p in loaded.problems)
    statuses = {r["run_id"]: r["status"] for r in loaded.records}
    assert statuses == {record["run_id"]: "completed", "dead": "failed"}


def test_checkpoints_round_trip_and_refuse_bad_files(short_run, tmp_path):
    from core.checkpoints import CheckpointError, list_checkpoints, load_checkpoint

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
    from core.train import Cancelled, Progress, TrainConfig, train

    phases = []
    again = train(TrainConfig(epochs=2, seed=3, data_dir=str(face_mask_410)), on_progress=lambda p: phases.append(p.phase),
                  runs_dir=tmp_path, checkpoints_dir=tmp_path)
    assert again["epochs"] == [] or [
        {k: e[k] for k in ("train_loss", "train_acc", "val_loss", "val_acc")} for e in again["epochs"]
    ] == [{k: e[k] for k in ("train_loss", "train_acc", "val_loss", "val_acc")} for e in short_run[0]["epochs"]]
    assert {"features", "train", "done"} <= set(phases)
    with pytest.raises(Cancelled):
        train(TrainConfig(epochs=2, data_dir=str(face_mask_410), seed=4), should_stop=lambda: True, runs_dir=tmp_path / "c", checkpoints_dir=tmp_path)
    assert json.loads(next((tmp_path / "c").glob("*.json")).read_text())["status"] == "cancelled"
    for bad in (dict(epochs=0), dict(backend="nope"), dict(n_qubits=9), dict(head="forest"), dict(noise="fake_nowhere")):
        with pytest.raises(ValueError):
            train(TrainConfig(data_dir=str(face_mask_410), **bad), runs_dir=tmp_path / "bad", checkpoints_dir=tmp_path)
    assert isinstance(Progress("train"), Progress)


def test_train_and_evaluate_cli(face_mask_410, tmp_path):
    env = {**os.environ}
    train = subprocess.run([sys.executable, "-m", "core.train", "--epochs", "1", "--data", str(face_mask_410),
                            "--runs-dir", str(tmp_path / "r"), "--checkpoints-dir", str(tmp_path / "c")],
                           cwd=ROOT, capture_output=True, text=True, env=env)
    assert train.returncode == 0, train.stderr[-2000:]
    assert "test accuracy" in train.stdout
    checkpoint = next((tmp_path / "c").glob("*.pt"))
    evaluate = subprocess.run([sys.executable, "-m", "core.evaluate", str(checkpoint), "--data", str(face_mask_410)],
                              cwd=ROOT, capture_output=True, text=True, env=env)
    assert evaluate.returncode == 0, evaluate.stderr[-2000:]
    assert "top-1 error" in evaluate.stdout and "true no_mask" in evaluate.stdout
    broken = tmp_path / "broken.pt"
    broken.write_bytes(b"\x00" * 10)
    failed = subprocess.run([sys.executable, "-m", "core.evaluate", str(broken)], cwd=ROOT, capture_output=True, text=True, env=env)
    assert failed.returncode == 1 and "broken.pt" in failed.stderr


def test_prediction_api(short_run, face_mask_410):
    from core.checkpoints import load_checkpoint
    from core.predict import Predictor

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
    from core.train import TrainConfig, train

    record = train(TrainConfig(epochs=30, data_dir=str(face_mask_410)), runs_dir=tmp_path, checkpoints_dir=tmp_path)
    assert record["best"]["val_acc"] >= 0.9
    assert record["test"]["accuracy"] >= 0.9
    assert len(record["epochs"]) == 30 and record["totals"]["circuits"] == 30 * 290 + 120
