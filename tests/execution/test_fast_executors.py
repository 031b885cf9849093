"""The fast executors compute what the per-sample PennyLane path computes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.circuit.definition import CircuitSpec
from core.execution.factory import make_executor
from core.execution.pennylane_executor import PennyLaneExecutor
from core.execution.settings import ExecutionSettings

BACKENDS = ["default.qubit", "lightning.qubit", "qiskit.aer", "cirq.simulator"]


def _inputs(spec: CircuitSpec, batch: int, seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    angles = (torch.rand(batch, spec.n_qubits, generator=gen, dtype=torch.float64) - 0.5) * np.pi
    weights = torch.rand(spec.weight_shape, generator=gen, dtype=torch.float64) * 2 * np.pi
    cotangent = torch.randn(batch, spec.n_qubits, generator=gen, dtype=torch.float64)
    return angles, weights, cotangent


def _value_and_grads(executor, angles, weights, cotangent):
    a, w = angles.clone().requires_grad_(), weights.clone().requires_grad_()
    out = executor.expvals(a, w)
    (out * cotangent).sum().backward()
    grad_w = w.grad if w.grad is not None else torch.zeros_like(w)
    return out.detach(), a.grad, grad_w


def _per_sample_reference(spec, angles, weights, cotangent):
    """The article's way: one default.qubit QNode call per sample."""
    reference = PennyLaneExecutor(spec, ExecutionSettings("default.qubit", None))
    outs, grads_a, grads_w = [], [], torch.zeros_like(weights)
    for i in range(len(angles)):
        out, ga, gw = _value_and_grads(reference, angles[i : i + 1], weights, cotangent[i : i + 1])
        outs.append(out)
        grads_a.append(ga)
        grads_w += gw
    return torch.cat(outs), torch.cat(grads_a), grads_w


@pytest.mark.parametrize("spec", [CircuitSpec(4, 6), CircuitSpec(3, 2), CircuitSpec(1, 3), CircuitSpec(6, 0)], ids=str)
@pytest.mark.parametrize("backend", BACKENDS)
def test_fast_analytic_matches_per_sample_path(backend, spec):
    angles, weights, cotangent = _inputs(spec, batch=5)
    expected = _per_sample_reference(spec, angles, weights, cotangent)
    got = _value_and_grads(make_executor(spec, ExecutionSettings(backend, None)), angles, weights, cotangent)
    for name, a, b in zip(("expvals", "d/dangles", "d/dweights"), got, expected):
        assert torch.allclose(a, b, atol=1e-6), f"{backend} {name} differs by {(a - b).abs().max():.2e}"


@pytest.mark.parametrize("backend", ["qiskit.aer", "cirq.simulator"])
def test_fast_shots_within_shot_noise(backend):
    spec, shots = CircuitSpec(), 4000
    angles, weights, cotangent = _inputs(spec, batch=3, seed=1)
    exact, exact_ga, exact_gw = _per_sample_reference(spec, angles, weights, cotangent)
    executor = make_executor(spec, ExecutionSettings(backend, shots, 7))
    out, ga, gw = _value_and_grads(executor, angles, weights, cotangent)
    stderr = torch.sqrt((1 - exact**2).clamp(min=1e-12) / shots)
    assert ((out - exact).abs() <= 5 * stderr + 1e-9).all(), (out - exact) / stderr
    # each gradient entry is (f+ - f-)/2 summed against the cotangent: its variance is bounded by
    # sum_i c_i^2 * 2 * (1/shots) / 4 per shifted pair; 5 sigma of that bound
    bound_a = 5 * torch.sqrt((cotangent**2).sum(1, keepdim=True) / (2 * shots))
    assert ((ga - exact_ga).abs() <= bound_a).all()
    bound_w = 5 * torch.sqrt((cotangent**2).sum() / (2 * shots))
    assert ((gw - exact_gw).abs() <= bound_w).all()


@pytest.mark.parametrize("backend", ["qiskit.aer", "cirq.simulator"])
def test_shot_executor_counts_every_circuit(backend):
    spec = CircuitSpec()
    angles, weights, cotangent = _inputs(spec, batch=4)
    executor = make_executor(spec, ExecutionSettings(backend, 1024, 0))
    _value_and_grads(executor, angles, weights, cotangent)
    # the article's loop: per image, one forward circuit and 2 shifted circuits per gate angle
    per_image = 1 + 2 * spec.n_params
    assert executor.count.circuits == 4 * per_image == 228
    assert executor.count.shots == 228 * 1024


def test_shot_executor_matches_pennylane_tracker_count():
    """The per-sample PennyLane path, counted by PennyLane's own tracker, runs as many circuits."""
    import pennylane as qml

    from core.circuit.pennylane_ops import circuit_tape

    spec = CircuitSpec()
    angles, weights, _ = _inputs(spec, batch=2)
    device = qml.device("cirq.simulator", wires=spec.n_qubits)
    a, w = angles.clone().requires_grad_(), weights.clone().requires_grad_()
    with qml.Tracker(device) as tracker:
        tapes = [circuit_tape(a[i], w, spec, shots=64) for i in range(2)]
        results = qml.execute(tapes, device, diff_method="parameter-shift")
        torch.stack([torch.stack(list(r)) for r in results]).sum().backward()
    executor = make_executor(spec, ExecutionSettings("cirq.simulator", 64, 0))
    _value_and_grads(executor, angles, weights, torch.ones(2, spec.n_qubits, dtype=torch.float64))
    assert tracker.totals["executions"] == executor.count.circuits


def test_noisy_aer_is_damped_but_close():
    spec = CircuitSpec()
    angles, weights, _ = _inputs(spec, batch=6, seed=3)
    exact = make_executor(spec, ExecutionSettings("default.qubit", None)).expvals(angles, weights)
    noisy = make_executor(spec, ExecutionSettings("qiskit.aer", 8000, 1, "fake_manila")).expvals(angles, weights)
    assert noisy.abs().mean() < exact.abs().mean()
    assert (noisy - exact).abs().max() < 0.5


def test_default_qubit_seed_free_and_deterministic():
    spec = CircuitSpec()
    angles, weights, cotangent = _inputs(spec, batch=7)
    first = _value_and_grads(make_executor(spec, ExecutionSettings("default.qubit")), angles, weights, cotangent)
    second = _value_and_grads(make_executor(spec, ExecutionSettings("default.qubit")), angles, weights, cotangent)
    for a, b in zip(first, second):
        assert torch.equal(a, b)


def test_noise_on_a_noiseless_backend_is_refused():
    with pytest.raises(ValueError, match="noise model"):
        make_executor(CircuitSpec(), ExecutionSettings("cirq.simulator", 1024, None, "fake_manila"))


@pytest.mark.parametrize("spec", [CircuitSpec(4, 6), CircuitSpec(3, 1), CircuitSpec(7, 3)], ids=str)
def test_cirq_batched_kernel_matches_cirq_simulator(spec):
    """The batched apply-unitary pass gives cirq.Simulator's final states, shared angles included."""
    import cirq
    import sympy

    from core.circuit.definition import symbolic_ops
    from core.execution.cirq_sampler import CirqBatchSampler

    rows = np.random.default_rng(0).uniform(-np.pi, np.pi, (6, spec.n_params))
    rows[3] = rows[2]  # identical rows and partly shared angles, as in parameter-shift batches
    rows[4, :2] = rows[1, :2]
    symbols = sympy.symbols(f"t0:{spec.n_params}")
    qubits = cirq.LineQubit.range(spec.n_qubits)
    circuit = cirq.Circuit()
    for name, wires, index in symbolic_ops(spec):
        if name == "Hadamard":
            circuit.append(cirq.H(qubits[wires[0]]))
        elif name == "CNOT":
            circuit.append(cirq.CNOT(qubits[wires[0]], qubits[wires[1]]))
        else:
            circuit.append(cirq.ry(symbols[index]).on(qubits[wires[0]]))
    simulator = cirq.Simulator(dtype=np.complex128)
    expected = np.stack(
        [simulator.simulate(circuit, cirq.ParamResolver(dict(zip(symbols, row))), qubit_order=qubits).final_state_vector
         for row in rows]
    )
    got = CirqBatchSampler(spec, None, 0).final_states(rows)
    assert np.abs(got - expected).max() < 1e-10


def test_lightning_finds_the_thread_pools_on_its_first_call_and_not_inside_a_training(monkeypatch):
    """Walking the loaded libraries can deadlock against a thread's import (core.execution.threads): lightning's
    executor does not walk when built (a training builds it in a thread beside imports), nor inside a training's
    one-thread block, and only once outside."""
    from threadpoolctl import ThreadpoolController

    from core.execution import lightning_executor
    from core.execution.threads import one_thread_per_library

    walks = []

    class Controller(ThreadpoolController):
        def __init__(self):
            walks.append(1)
            super().__init__()

    monkeypatch.setattr(lightning_executor, "ThreadpoolController", Controller)
    spec = CircuitSpec(4, 2)
    executor = make_executor(spec, ExecutionSettings("lightning.qubit", None))
    angles, weights = torch.full((3, 4), 0.3, dtype=torch.float64), torch.full((2, 4), 0.1, dtype=torch.float64)
    assert walks == []
    with one_thread_per_library():
        inside = executor.expvals(angles, weights)
    assert walks == []
    outside = [executor.expvals(angles, weights) for _ in range(2)]
    assert walks == [1]
    assert all(torch.allclose(inside, out) for out in outside)
