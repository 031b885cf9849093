"""``--device auto|cpu|cuda``: where the backbone runs. Nothing needs a GPU: "auto" takes the CPU where there is none,
and "cuda" there is refused with a message that says why and what to do instead."""

from __future__ import annotations

import pytest
import torch

from core.learning.backbones import DEVICES, load_backbone, resolve_device
from core.learning.config import TrainConfig

HAS_CUDA = torch.cuda.is_available()
needs_no_cuda = pytest.mark.skipif(HAS_CUDA, reason="checks the refusal on a machine without a CUDA GPU")


def test_auto_takes_a_gpu_only_where_there_is_one():
    assert DEVICES == ("auto", "cpu", "cuda")
    assert resolve_device("auto") == ("cuda" if HAS_CUDA else "cpu")
    assert resolve_device("cpu") == "cpu"
    with pytest.raises(ValueError, match="unknown device 'gpu'; choose one of auto, cpu, cuda"):
        resolve_device("gpu")


@needs_no_cuda
def test_cuda_without_a_gpu_is_refused_with_the_way_out():
    with pytest.raises(ValueError) as err:
        resolve_device("cuda")
    message = str(err.value)
    assert "PyTorch sees no CUDA GPU here" in message and torch.__version__ in message
    assert "--device cpu" in message and "--device auto" in message
    with pytest.raises(ValueError, match="no CUDA GPU"):
        load_backbone("efficientnet_lite0", device="cuda")


def test_training_config_checks_the_device_in_the_request():
    assert TrainConfig().device == "auto"
    assert TrainConfig(device="auto").resolved().device == "auto", "settled where the backbone loads, e.g. a sweep's worker"
    assert TrainConfig(device="cpu").resolved().device == "cpu"
    with pytest.raises(ValueError, match="unknown device 'tpu'"):
        TrainConfig(device="tpu").resolved()
    with pytest.raises(ValueError, match="unknown training setting"):
        TrainConfig.from_dict({"devices": "cpu"})
    assert TrainConfig.from_dict({"device": "cpu"}).resolved().device == "cpu"


@needs_no_cuda
def test_train_command_with_cuda_and_no_gpu_says_why(face_mask_410, tmp_path, capsys):
    from core.commands.train import main

    code = main(["--device", "cuda", "--epochs", "1", "--data", str(face_mask_410),
                 "--runs-dir", str(tmp_path / "runs"), "--checkpoints-dir", str(tmp_path / "ckpt")])
    assert code == 1
    err = capsys.readouterr().err
    assert "error: device 'cuda' asked for, but PyTorch sees no CUDA GPU here" in err and "--device cpu" in err
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir()), "refused before any run began"


def test_train_command_lists_the_devices(capsys):
    from core.commands.train import main

    with pytest.raises(SystemExit):
        main(["--device", "tpu"])
    assert "invalid choice: 'tpu'" in capsys.readouterr().err


def test_features_on_auto_come_back_on_the_cpu(face_mask_410):
    from core.data.dataset import list_split
    from core.learning.features import extract_features

    paths = [s.path for s in list_split(face_mask_410, "test")[:3]]
    features = extract_features(paths, "efficientnet_lite0", device="auto")
    assert features.shape == (3, 1280) and features.device.type == "cpu" and torch.isfinite(features).all()


@needs_no_cuda
def test_sweep_command_takes_the_device_for_every_run(tmp_path, capsys):
    from core.commands.experiments import main

    listed = main(["--device", "cpu", "--list", "--only", "default.qubit", "--seeds", "0", "--runs-dir", str(tmp_path)])
    assert listed == 0 and "pending exp-efficientnet_lite0-default.qubit-analytic-e30-s0" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["--device", "cuda", "--list", "--grid", "qubits=2,4", "--runs-dir", str(tmp_path)])
    assert "PyTorch sees no CUDA GPU here" in capsys.readouterr().err


def test_sweep_plans_carry_the_device():
    import argparse

    from core.commands.experiments import _parser, _plan

    args: argparse.Namespace = _parser("experiments").parse_args(["--device", "cpu", "--grid", "depth=1,2", "--seeds", "0"])
    assert [run.config.device for run in _plan(args)] == ["cpu", "cpu"]
    args = _parser("experiments").parse_args(["--device", "cpu", "--only", "mlp", "--seeds", "0,1"])
    assert {run.config.device for run in _plan(args)} == {"cpu"}
