"""Fast executors: every circuit of a training step in one batched call per simulator.

* default.qubit: PennyLane's default.qubit traced by JAX and compiled once
  (``jax.jit``) for the forward pass and its vector-Jacobian product.
* lightning.qubit: lightning's C++ state vector and adjoint Jacobian, with the
  gate list serialised once and only the angles bound per sample.
* qiskit.aer and cirq.simulator with shots: the parameter-shift rule done by
  us as one batch; the circuit is compiled once from :mod:`core.circuit` and
  every forward and shifted parameter row is sent at once (Aer: one
  transpiled circuit with parameter binds in one job; Cirq: its apply-unitary
  kernel on a stack of states).

All of them compute what the per-sample PennyLane path computes; tests check
outputs and gradients against it.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import torch

from core.circuit import CircuitSpec, symbolic_ops
from core.quantum import CircuitExecutor

SHIFT = math.pi / 2  # RY's generator is Y/2: the two-term shift rule is exact


def flat_parameters(angles: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Rows of gate angles [angles (n), weights (depth*n)], the order of :func:`symbolic_ops`."""
    tiled = np.broadcast_to(weights.reshape(1, -1), (angles.shape[0], weights.size))
    return np.concatenate([angles, tiled], axis=1)


def split_gradient(grad_params: np.ndarray, spec: CircuitSpec) -> tuple[np.ndarray, np.ndarray]:
    """Per-row gradients (B, P) into d/d angles (B, n) and d/d weights (depth, n), summed over the batch."""
    n = spec.n_qubits
    return grad_params[:, :n], grad_params[:, n:].sum(axis=0).reshape(spec.weight_shape)


class _NumpyVJPFunction(torch.autograd.Function):
    """Torch glue: forward and backward delegate to an executor's numpy methods."""

    @staticmethod
    def forward(ctx, angles, weights, executor):
        a = angles.detach().double().cpu().numpy()
        w = weights.detach().double().cpu().numpy()
        ctx.executor, ctx.saved = executor, (a, w)
        ctx.dtype = angles.dtype
        return torch.from_numpy(executor._forward(a, w)).to(angles.dtype)

    @staticmethod
    def backward(ctx, grad_out):
        a, w = ctx.saved
        ga, gw = ctx.executor._vjp(a, w, grad_out.detach().double().cpu().numpy())
        return torch.from_numpy(ga).to(ctx.dtype), torch.from_numpy(gw).to(ctx.dtype), None


class NumpyVJPExecutor(CircuitExecutor):
    """Base for executors that provide ``_forward(a, w)`` and ``_vjp(a, w, g)`` on numpy arrays."""

    def expvals(self, angles: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        if torch.is_grad_enabled() and (angles.requires_grad or weights.requires_grad):
            return _NumpyVJPFunction.apply(angles, weights, self)
        a = angles.detach().double().cpu().numpy()
        return torch.from_numpy(self._forward(a, weights.detach().double().cpu().numpy())).to(angles.dtype)

    def _forward(self, a: np.ndarray, w: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _vjp(self, a: np.ndarray, w: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError


# --- default.qubit through jax.jit ------------------------------------------------------------------


def _configure_jax():
    import jax

    jax.config.update("jax_enable_x64", True)
    cache = Path(os.environ.get("QTL_CACHE", Path(__file__).resolve().parent.parent / "data" / "cache")) / "jax"
    try:
        jax.config.update("jax_compilation_cache_dir", str(cache))
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)
    except (AttributeError, ValueError):  # an older jax without the persistent cache
        pass
    return jax


class JaxDefaultQubitExecutor(NumpyVJPExecutor):
    """default.qubit, analytic, compiled once with ``jax.jit``; batches are padded to a fixed chunk."""

    CHUNK = 4  # one compiled shape serves training (batch 4) and evaluation (chunks of 4)

    def __init__(self, spec: CircuitSpec, seed: int | None = None):
        super().__init__("default.qubit", spec, None, seed)
        jax = _configure_jax()
        import jax.numpy as jnp
        import pennylane as qml

        from core.circuit import circuit_ops, expval_measurements

        device = qml.device("default.qubit", wires=spec.n_qubits)

        @qml.qnode(device, interface="jax", diff_method="backprop")
        def circuit(a, w):
            circuit_ops(a, w, spec)
            return expval_measurements(spec)

        def expvals(a, w):
            return jnp.stack(circuit(a, w), axis=-1)

        @jax.jit
        def forward_and_vjp(a, w, g):
            out, pullback = jax.vjp(expvals, a, w)
            return (out, *pullback(g))

        self._fn = forward_and_vjp

    def _chunks(self, a: np.ndarray):
        pad = (-len(a)) % self.CHUNK
        padded = np.concatenate([a, np.zeros((pad, a.shape[1]))]) if pad else a
        for start in range(0, len(padded), self.CHUNK):
            yield start, padded[start : start + self.CHUNK]

    def _run(self, a: np.ndarray, w: np.ndarray, g: np.ndarray | None):
        outs, gas, gw = [], [], np.zeros_like(w)
        for start, chunk in self._chunks(a):
            gchunk = np.zeros_like(chunk) if g is None else _pad_to(g[start : start + self.CHUNK], len(chunk))
            out, ga, gwc = self._fn(chunk, w, gchunk)
            outs.append(np.asarray(out))
            gas.append(np.asarray(ga))
            gw = gw + np.asarray(gwc)
        n = len(a)
        return np.concatenate(outs)[:n], np.concatenate(gas)[:n], gw

    def _forward(self, a, w):
        self.count.add(len(a), None)
        return self._run(a, w, None)[0]

    def _vjp(self, a, w, g):
        _, ga, gw = self._run(a, w, g)
        return ga, gw


def _pad_to(x: np.ndarray, rows: int) -> np.ndarray:
    return x if len(x) == rows else np.concatenate([x, np.zeros((rows - len(x), x.shape[1]))])


# --- lightning.qubit: its C++ state vector and adjoint Jacobian, called directly --------------------


class LightningAdjointExecutor(NumpyVJPExecutor):
    """lightning.qubit, analytic, through the C++ kernels its PennyLane device uses.

    PennyLane's device layer re-serialises every tape in Python (about 1.5 ms a
    circuit here); the gate list is fixed, so it is serialised once and each
    row only binds its angles. Outputs and the adjoint gradients are checked
    against the PennyLane device in the tests.
    """

    def __init__(self, spec: CircuitSpec, seed: int | None = None):
        super().__init__("lightning.qubit", spec, None, seed)
        from pennylane_lightning.lightning_qubit_ops import MeasurementsC128, StateVectorC128
        from pennylane_lightning.lightning_qubit_ops.algorithms import AdjointJacobianC128, create_ops_listC128
        from pennylane_lightning.lightning_qubit_ops.observables import NamedObsC128

        self._state_type, self._measurements = StateVectorC128, MeasurementsC128
        self._create_ops, self._adjoint = create_ops_listC128, AdjointJacobianC128()
        self.ops = symbolic_ops(spec)
        self.observables = [NamedObsC128("PauliZ", [w]) for w in range(spec.n_qubits)]
        self._no_matrix = [np.zeros(0, dtype=np.complex128)] * len(self.ops)
        from threadpoolctl import ThreadpoolController

        # torch and lightning each bring an OpenMP runtime; on a 4-qubit state their
        # threads only fight (330 ms a step instead of 3 ms here), so lightning runs on one.
        self._threads = ThreadpoolController()

    def _single_thread(self):
        return self._threads.limit(limits=1, user_api="openmp")

    def _final_state(self, row: np.ndarray):
        state = self._state_type(self.spec.n_qubits)
        state.resetStateVector()
        for name, wires, index in self.ops:
            getattr(state, name)(list(wires), False, [] if index is None else [float(row[index])])
        return state

    def _forward(self, a, w):
        with self._single_thread():
            return self._expvals(a, w)

    def _expvals(self, a, w):
        self.count.add(len(a), None)
        out = np.empty_like(a)
        for i, row in enumerate(flat_parameters(a, w)):
            state = self._final_state(row)  # keep a reference: the measurement object does not
            measure = self._measurements(state)
            out[i] = [measure.expval("PauliZ", [q]) for q in range(self.spec.n_qubits)]
        return out

    def _vjp(self, a, w, g):
        with self._single_thread():
            return self._adjoint_vjp(a, w, g)

    def _adjoint_vjp(self, a, w, g):
        n_ops, n_params = len(self.ops), self.spec.n_params
        grads = np.empty((len(a), n_params))
        for i, row in enumerate(flat_parameters(a, w)):
            params = [[] if index is None else [float(row[index])] for _, _, index in self.ops]
            op_list = self._create_ops(
                [name for name, _, _ in self.ops], params, [list(wires) for _, wires, _ in self.ops],
                [False] * n_ops, self._no_matrix, [[]] * n_ops, [[]] * n_ops,
            )
            jacobian = np.asarray(self._adjoint(self._final_state(row), self.observables, op_list, list(range(n_params))))
            grads[i] = g[i] @ jacobian.reshape(self.spec.n_qubits, n_params)
        return split_gradient(grads, self.spec)


# --- sampling backends: parameter shift as one batch ------------------------------------------------


class ShiftRuleExecutor(NumpyVJPExecutor):
    """Forward rows and all 2·P shifted rows of a step go to the simulator as one batch."""

    def __init__(self, backend: str, spec: CircuitSpec, shots, seed: int | None, sampler):
        super().__init__(backend, spec, shots, seed)
        self.sampler = sampler

    def _forward(self, a, w):
        rows = flat_parameters(a, w)
        self.count.add(len(rows), self.shots)
        return self.sampler.run(rows)

    def _vjp(self, a, w, g):
        rows = flat_parameters(a, w)  # (B, P)
        batch, n_params = rows.shape
        eye = np.eye(n_params) * SHIFT
        shifted = np.concatenate([rows[:, None, :] + eye, rows[:, None, :] - eye], axis=1)  # (B, 2P, P)
        self.count.add(batch * 2 * n_params, self.shots)
        values = self.sampler.run(shifted.reshape(-1, n_params)).reshape(batch, 2, n_params, -1)
        jacobian = (values[:, 0] - values[:, 1]) / 2.0  # (B, P, n_out)
        return split_gradient(np.einsum("bpo,bo->bp", jacobian, g), self.spec)


def z_signs(n_qubits: int, big_endian: bool = True) -> np.ndarray:
    """(2**n, n) matrix of Z eigenvalues ±1 for each basis state index and qubit."""
    index = np.arange(2**n_qubits)[:, None]
    qubit = np.arange(n_qubits)[None, :]
    shift = (n_qubits - 1 - qubit) if big_endian else qubit
    return 1.0 - 2.0 * ((index >> shift) & 1)


def sample_expvals(probs: np.ndarray, shots: int | None, signs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """<Z> per qubit from final-state probabilities (M, 2**n): exact, or from ``shots`` draws per row.

    A multinomial draw of ``shots`` outcomes is the same distribution as
    ``shots`` independent terminal measurements of that state.
    """
    probs = probs / probs.sum(axis=1, keepdims=True)
    if shots is None:
        return probs @ signs
    counts = np.stack([rng.multinomial(shots, p) for p in probs])
    return counts @ signs / shots


class AerBatchSampler:
    """One transpiled Qiskit circuit, every parameter row bound in one Aer job.

    Noiseless: Aer computes each row's final-state probabilities and the shots
    are drawn from them. With a noise model, Aer itself runs every shot (gate
    noise, decoherence and readout errors happen per shot).
    """

    def __init__(self, spec: CircuitSpec, shots: int | None, seed: int | None, noise: str | None = None):
        from qiskit import QuantumCircuit, transpile
        from qiskit.circuit import ParameterVector
        from qiskit_aer import AerSimulator

        self.spec, self.shots, self.noise = spec, shots, noise
        self.rng = np.random.default_rng(seed)
        self.theta = ParameterVector("theta", spec.n_params)
        circuit = QuantumCircuit(spec.n_qubits, spec.n_qubits)
        for name, wires, index in symbolic_ops(spec):
            if name == "Hadamard":
                circuit.h(wires[0])
            elif name == "CNOT":
                circuit.cx(*wires)
            else:
                circuit.ry(self.theta[index], wires[0])
        if noise:
            from core.noise import noisy_simulator

            if shots is None:
                raise ValueError("a noisy simulation needs shots")
            circuit.measure(range(spec.n_qubits), range(spec.n_qubits))
            self.simulator = noisy_simulator(noise)
            layout = list(range(spec.n_qubits))
            self.circuit = transpile(circuit, self.simulator, initial_layout=layout, optimization_level=1, seed_transpiler=0)
        else:
            circuit.save_probabilities()
            self.simulator = AerSimulator(method="statevector")
            self.circuit = transpile(circuit, self.simulator, optimization_level=0)
        self.signs = z_signs(spec.n_qubits, big_endian=False)  # Qiskit: qubit 0 is the least significant bit

    def run(self, rows: np.ndarray) -> np.ndarray:
        binds = [{p: rows[:, j] for j, p in enumerate(self.theta)}]
        seed = int(self.rng.integers(2**31))
        if not self.noise:
            result = self.simulator.run(self.circuit, parameter_binds=binds, shots=1, seed_simulator=seed).result()
            probs = np.stack([np.asarray(result.data(i)["probabilities"]) for i in range(len(rows))])
            return sample_expvals(probs, self.shots, self.signs, self.rng)
        result = self.simulator.run(self.circuit, parameter_binds=binds, shots=self.shots, seed_simulator=seed).result()
        counts = np.zeros((len(rows), 2**self.spec.n_qubits))
        for i in range(len(rows)):
            for bits, n in result.get_counts(i).items():
                counts[i, int(bits.replace(" ", ""), 2)] = n
        return counts @ self.signs / self.shots


class CirqBatchSampler:
    """Cirq's state-vector kernel applied to every parameter row of a batch at once.

    ``cirq.Simulator`` applies each gate with ``cirq.apply_unitary`` to one
    state; here the same protocol acts on a stack of states (an extra tensor
    axis), so a step's 228 circuits cost one pass over the gate list. A gate
    whose angle differs between rows is applied once per distinct angle to the
    rows that have it (parameter-shift rows share most angles). Checked
    against ``cirq.Simulator`` in the tests; the shots are drawn from the
    final states' probabilities (see :func:`sample_expvals`).
    """

    def __init__(self, spec: CircuitSpec, shots: int | None, seed: int | None):
        import cirq

        self.spec, self.shots = spec, shots
        self.rng = np.random.default_rng(seed)
        self.qubits = cirq.LineQubit.range(spec.n_qubits)
        self.ops = symbolic_ops(spec)
        self._fixed = {
            i: cirq.H(self.qubits[wires[0]]) if name == "Hadamard" else cirq.CNOT(*(self.qubits[w] for w in wires))
            for i, (name, wires, index) in enumerate(self.ops)
            if index is None
        }
        self.signs = z_signs(spec.n_qubits, big_endian=True)  # Cirq: qubit 0 is the most significant bit

    def final_states(self, rows: np.ndarray) -> np.ndarray:
        """Final state vectors (M, 2**n) of the circuit for each parameter row."""
        n = self.spec.n_qubits
        state = np.zeros((len(rows),) + (2,) * n, dtype=np.complex128)
        state[(slice(None),) + (0,) * n] = 1.0
        for i, (_, wires, index) in enumerate(self.ops):
            axes = [1 + w for w in wires]
            if index is None:
                state = _apply(self._fixed[i], state, axes)
                continue
            values, which = np.unique(rows[:, index], return_inverse=True)
            if len(values) == 1:
                state = _apply(self._ry(values[0], wires[0]), state, axes)
                continue
            for k, value in enumerate(values):
                chosen = which == k
                state[chosen] = _apply(self._ry(value, wires[0]), state[chosen], axes)
        return state.reshape(len(rows), -1)

    def _ry(self, angle: float, wire: int):
        import cirq

        return cirq.ry(float(angle)).on(self.qubits[wire])

    def run(self, rows: np.ndarray) -> np.ndarray:
        probs = np.abs(self.final_states(rows)) ** 2
        return sample_expvals(probs, self.shots, self.signs, self.rng)


def _apply(operation, state: np.ndarray, axes: list[int]) -> np.ndarray:
    import cirq

    args = cirq.ApplyUnitaryArgs(target_tensor=state, available_buffer=np.empty_like(state), axes=axes)
    return cirq.apply_unitary(operation, args)
