"""Microsoft's QDK (Q#) backend: the OpenQASM 3 export, agreement with default.qubit, inference only."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np
import pennylane as qml
import pytest
from scipy import stats

from core.circuit.definition import CircuitSpec
from core.execution.settings import ExecutionSettings
from core.paths import PROJECT_ROOT

pytest.importorskip("qdk", reason="Microsoft's Quantum Development Kit is not installed: pip install -r requirements.txt (qdk)")

ROOT = PROJECT_ROOT
SIGNIFICANCE = 0.001  # chi-square goodness of fit: fail only below this p-value


def test_qasm3_export_runs_basis_state_circuits_exactly():
    """Angles ±π/2 and weights 0 or π keep the dressed circuit in one basis state: every shot must give it."""
    from core.circuit.qasm import circuit_qasm3, tape_to_qasm3
    from core.execution.qsharp_executor import run_qasm
    from core.execution.single_circuit import exact_probabilities, sample_counts

    # wire order: only qubit 0 flipped -> "1000", wire 0 leftmost
    spec0 = CircuitSpec(4, 0)
    flips = [np.pi / 2, -np.pi / 2, -np.pi / 2, -np.pi / 2]
    assert sample_counts(spec0, flips, np.zeros((0, 4)), ExecutionSettings("qsharp", 50)) == {"1000": 50}

    rng = np.random.default_rng(1)
    spec = CircuitSpec(4, 6)
    for _ in range(3):
        angles = rng.choice([-np.pi / 2, np.pi / 2], 4)
        weights = rng.choice([0.0, np.pi], (6, 4))
        probs = exact_probabilities(spec, angles, weights)
        assert probs.max() == pytest.approx(1.0)
        source = circuit_qasm3(spec, angles, weights)
        assert source.startswith("OPENQASM 3.0;") and "c = measure q;" in source
        assert {line.split("(")[0].split()[0] for line in source.splitlines()[4:-1]} == {"h", "ry", "cx"}
        assert run_qasm(source, 64, seed=0) == {format(int(probs.argmax()), "04b"): 64}

    # gates without an OpenQASM 3 name are decomposed (Rot -> rz ry rz, Toffoli -> h, t, cx, ...)
    tape = qml.tape.QuantumScript([qml.Rot(0.3, np.pi, 0.2, wires=0), qml.PauliX(2), qml.Toffoli(wires=[0, 2, 3])])
    assert run_qasm(tape_to_qasm3(tape, n_qubits=4), 32, seed=0) == {"1011": 32}


def _merge_small_bins(observed: np.ndarray, expected: np.ndarray, least: float = 5.0) -> tuple[np.ndarray, np.ndarray]:
    """Pool the bins with the smallest expected counts until every pooled bin expects at least ``least``."""
    observed, expected = observed.astype(float), expected.astype(float)
    while len(expected) > 1 and expected.min() < least:
        first, second = np.argsort(expected)[:2]
        observed[second] += observed[first]
        expected[second] += expected[first]
        observed, expected = np.delete(observed, first), np.delete(expected, first)
    return observed, expected


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_qsharp_frequencies_fit_exact_probabilities(seed):
    """Q# bitstring counts (4,096 shots) against default.qubit's exact probabilities: chi-square at 0.001."""
    from core.execution.single_circuit import exact_probabilities, sample_counts

    spec, shots = CircuitSpec(4, 6), 4096
    rng = np.random.default_rng(100 + seed)
    angles, weights = rng.uniform(-np.pi / 2, np.pi / 2, 4), rng.uniform(-np.pi, np.pi, (6, 4))
    counts = sample_counts(spec, angles, weights, ExecutionSettings("qsharp", shots, seed))
    assert sum(counts.values()) == shots and all(len(k) == 4 for k in counts)
    probs = exact_probabilities(spec, angles, weights)
    observed = np.array([counts.get(format(i, "04b"), 0) for i in range(16)])
    obs, exp = _merge_small_bins(observed, probs / probs.sum() * shots)
    assert (exp >= 5).all() and len(exp) >= 2
    p_value = stats.chisquare(obs, exp).pvalue
    assert p_value > SIGNIFICANCE, f"Q# counts do not fit the exact distribution (p = {p_value:.2g}): {counts}"


def test_qsharp_is_for_inference_only():
    import torch

    from core.execution.backends import BACKENDS, training_backends
    from core.execution.devices import make_device
    from core.execution.factory import make_executor
    from core.execution.single_circuit import sample_counts
    from core.learning.config import TrainConfig

    assert BACKENDS["qsharp"].trains is False and "qsharp" not in {b.name for b in training_backends()}
    with pytest.raises(ValueError, match="inference and exploring") as refused:
        TrainConfig(backend="qsharp").resolved()
    assert "412,020 circuits" in str(refused.value) and "default.qubit" in str(refused.value)
    with pytest.raises(ValueError, match="not a PennyLane device"):
        make_device(ExecutionSettings("qsharp"), 4)
    with pytest.raises(ValueError, match="no analytic mode"):
        make_executor(CircuitSpec(), ExecutionSettings("qsharp", None))
    executor = make_executor(CircuitSpec(2, 1), ExecutionSettings("qsharp", 16))
    with pytest.raises(RuntimeError, match="forward only"):
        executor.expvals(torch.zeros(1, 2), torch.zeros(1, 2, requires_grad=True))
    with pytest.raises(ValueError, match="noise"):
        sample_counts(CircuitSpec(2, 1), [0, 0], [[0, 0]], ExecutionSettings("qsharp", 16, None, "fake_manila"))


@pytest.fixture(scope="module")
def trained(face_mask_410, tmp_path_factory) -> Path:
    """A short real training on default.qubit; the checkpoint's path."""
    from core.learning.config import TrainConfig
    from core.results.runs import run_training

    out = tmp_path_factory.mktemp("qsharp")
    config = TrainConfig(epochs=2, data_dir=str(face_mask_410))
    record = run_training(config, runs_dir=out / "runs", checkpoints_dir=out / "checkpoints")
    return out / "checkpoints" / record["checkpoint"]


def test_checkpoint_on_qsharp_predicts_like_analytic(trained, face_mask_410, tmp_path):
    """A handful of test images: Q# with 1,024 shots gives the analytic class wherever shot noise cannot flip it."""
    from core.commands.evaluate import main
    from core.learning.checkpoints import load_checkpoint
    from core.learning.evaluate import evaluate_checkpoint

    for name in ("mask", "no_mask"):  # four test images of each class, in a data folder of their own
        (tmp_path / "test" / name).mkdir(parents=True)
        for image in sorted((face_mask_410 / "test" / name).glob("*.jpg"))[:4]:
            shutil.copy(image, tmp_path / "test" / name)
    exact = evaluate_checkpoint(str(trained), str(tmp_path))
    sampled = evaluate_checkpoint(str(trained), str(tmp_path), ExecutionSettings("qsharp", 1024, seed=0))
    assert sampled["executor"].startswith("qsharp (1024 shots") and sampled["circuits"] == 8

    # With 1,024 shots each <Z> is off by less than 5/sqrt(1024) (5 sigma); the logit difference then
    # moves by at most that times the L1 norm of the output layer's row difference.
    post = load_checkpoint(trained).build_head().post_net.weight.detach()
    bound = 5 / math.sqrt(1024) * float((post[1] - post[0]).abs().sum())
    margins = [abs(math.log(p[1] / p[0])) for p in exact["probabilities"]]
    confident = [i for i, m in enumerate(margins) if m > bound]
    assert len(confident) >= 4, f"too few confidently classified image (margins {margins}, bound {bound:.3f})"
    assert [sampled["predictions"][i] for i in confident] == [exact["predictions"][i] for i in confident]

    assert main([str(trained), "--data", str(tmp_path), "--backend", "qsharp", "--shots", "0"]) == 1


def test_explorer_serves_qsharp(trained, face_mask_410, monkeypatch):
    """The circuit explorer lists qsharp and draws its histogram with no page change."""
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("QTL_CHECKPOINTS_DIR", str(trained.parent))
    monkeypatch.setenv("QTL_RUNS_DIR", str(trained.parent.parent / "runs"))
    monkeypatch.setenv("QTL_DATA", str(face_mask_410))
    monkeypatch.delenv("QTL_MAINTAINER_PASSWORD", raising=False)
    monkeypatch.chdir(ROOT)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180).run()
    at.switch_page("views/explorer.py").run()
    simulator = next(s for s in at.selectbox if s.label == "Simulator")
    assert "qsharp" in simulator.options
    simulator.set_value("qsharp").run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    table = at.table[0].value
    assert "measured ⟨Z⟩" in table.columns and table["measured ⟨Z⟩"].abs().max() <= 1
