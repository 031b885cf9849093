"""default.qubit, analytic: PennyLane's simulator traced by JAX and compiled once (``jax.jit``), forward and VJP."""

from __future__ import annotations

import numpy as np

from core.circuit.definition import CircuitSpec
from core.circuit.pennylane_ops import PENNYLANE_LOCK
from core.execution.executor import NumpyVJPExecutor
from core.execution.settings import ExecutionSettings
from core.paths import cache_dir


def _configure_jax():
    import jax

    jax.config.update("jax_enable_x64", True)
    cache = cache_dir() / "jax"
    try:
        jax.config.update("jax_compilation_cache_dir", str(cache))
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)
    except (AttributeError, ValueError):  # an older jax without the persistent cache
        pass
    return jax


class JaxDefaultQubitExecutor(NumpyVJPExecutor):
    """default.qubit, analytic, compiled once with ``jax.jit``; batches are padded to a fixed chunk."""

    CHUNK = 4  # one compiled shape serves training (batch 4) and evaluation (chunks of 4)

    def __init__(self, spec: CircuitSpec, settings: ExecutionSettings):
        super().__init__(spec, settings)
        jax = _configure_jax()
        import jax.numpy as jnp
        import pennylane as qml

        from core.circuit.pennylane_ops import circuit_ops, expval_measurements

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

    def warm_up(self) -> None:
        """Trace and compile the one shape every call uses (the longest part of a short training's first epoch)."""
        n, depth = self.spec.n_qubits, self.spec.depth
        zeros = np.zeros((self.CHUNK, n))
        with PENNYLANE_LOCK:
            self._fn(zeros, np.zeros((depth, n)), zeros)

    def _chunks(self, a: np.ndarray):
        pad = (-len(a)) % self.CHUNK
        padded = np.concatenate([a, np.zeros((pad, a.shape[1]))]) if pad else a
        for start in range(0, len(padded), self.CHUNK):
            yield start, padded[start : start + self.CHUNK]

    def _run(self, a: np.ndarray, w: np.ndarray, g: np.ndarray | None):
        outs, gas, gw = [], [], np.zeros_like(w)
        for start, chunk in self._chunks(a):
            gchunk = np.zeros_like(chunk) if g is None else _pad_to(g[start : start + self.CHUNK], len(chunk))
            with PENNYLANE_LOCK:  # the first call traces the QNode
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

