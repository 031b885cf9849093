"""The circuit exports: every Python program runs and reproduces the exact probabilities; the QASM loads back into Qiskit."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

import numpy as np
import pytest
import qiskit.qasm2
import qiskit.qasm3
from qiskit.quantum_info import Statevector

from core.circuit.definition import CircuitSpec, symbolic_ops
from core.circuit.export import EXPORT_KINDS, PROGRAM_KINDS, export_files, pinned, python_program, qasm_program
from core.circuit.pennylane_ops import circuit_tape
from core.circuit.qasm import circuit_qasm, circuit_qasm2, circuit_qasm3, tape_to_qasm3
from core.circuit.readout import expvals_from_probabilities
from core.execution.single_circuit import exact_probabilities
from core.paths import PROJECT_ROOT


def circuit(n_qubits: int, depth: int, seed: int) -> tuple[CircuitSpec, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    spec = CircuitSpec(n_qubits, depth)
    return spec, rng.uniform(-np.pi / 2, np.pi / 2, n_qubits), rng.uniform(-np.pi, np.pi, spec.weight_shape)


CIRCUITS = [circuit(4, 6, 0), circuit(3, 2, 1), circuit(1, 0, 2)]
TODAY = dt.date(2026, 11, 26)


def parse_output(text: str) -> tuple[dict[str, float], list[float]]:
    """The program's "0101 0.0123" lines and its "Z0 0.123" lines."""
    probs, z = {}, []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        key, value = line.split()
        if key.startswith("Z"):
            assert int(key[1:]) == len(z)
            z.append(float(value))
        else:
            probs[key] = float(value)
    return probs, z


@pytest.mark.parametrize("kind", PROGRAM_KINDS)
def test_exported_program_prints_the_explorers_exact_probabilities(kind, tmp_path):
    runs = []
    for number, (spec, angles, weights) in enumerate(CIRCUITS):
        path = tmp_path / f"circuit{number}_{kind}.py"
        path.write_text(python_program(kind, spec, angles, weights, weights_note="random, seed 0", filename=path.name))
        runs.append(subprocess.Popen([sys.executable, str(path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, cwd=tmp_path))
    for (spec, angles, weights), run in zip(CIRCUITS, runs):
        out, err = run.communicate(timeout=300)
        assert run.returncode == 0, err
        probs, z = parse_output(out)
        exact = exact_probabilities(spec, angles, weights)
        n = spec.n_qubits
        assert list(probs) == [format(i, f"0{n}b") for i in range(2**n)], "every bitstring, in order, wire 0 leftmost"
        np.testing.assert_allclose(list(probs.values()), exact, atol=1e-6)
        np.testing.assert_allclose(z, expvals_from_probabilities(exact, n), atol=1e-6)


def test_the_distribution_is_not_symmetric_so_a_bit_order_mistake_would_show():
    spec, angles, weights = CIRCUITS[0]
    exact = exact_probabilities(spec, angles, weights)
    reversed_bits = [exact[int(format(i, "04b")[::-1], 2)] for i in range(16)]
    assert np.abs(exact - reversed_bits).max() > 0.01


@pytest.mark.parametrize("spec, angles, weights", [*CIRCUITS, circuit(8, 10, 3)])
def test_both_qasm_versions_load_back_into_qiskit_with_the_exact_probabilities(spec, angles, weights):
    n = spec.n_qubits
    exact = exact_probabilities(spec, angles, weights)
    for version, loads in ((2, qiskit.qasm2.loads), (3, qiskit.qasm3.loads)):
        loaded = loads(qasm_program(version, spec, angles, weights, weights_note="trained", today=TODAY))
        assert loaded.num_qubits == n and loaded.num_clbits == n
        assert sum(1 for i in loaded.data if i.operation.name != "measure") == len(symbolic_ops(spec))
        loaded.remove_final_measurements()
        qiskit_order = Statevector(loaded).probabilities()  # little-endian: qubit 0 is the rightmost bit
        ours = [qiskit_order[int(format(i, f"0{n}b")[::-1], 2)] for i in range(2**n)]
        np.testing.assert_allclose(ours, exact, atol=1e-6)


def test_qasm3_from_the_gate_list_is_the_pennylane_tapes_translation():
    for spec, angles, weights in CIRCUITS:
        assert circuit_qasm3(spec, angles, weights) == tape_to_qasm3(circuit_tape(angles, weights, spec), spec.n_qubits)
    spec, angles, weights = CIRCUITS[1]
    qasm2 = circuit_qasm2(spec, angles, weights)
    assert qasm2.startswith('OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[3];\ncreg c[3];\n')
    assert qasm2.endswith("measure q -> c;\n") and f"ry({float(weights[1][2])!r}) q[2];" in qasm2


def test_headers_say_what_the_file_is_and_how_to_run_it():
    spec, angles, weights = CIRCUITS[0]
    files = export_files(spec, angles, weights, weights_note="random, seed 7", today=TODAY)
    assert [f.kind for f in files] == list(EXPORT_KINDS)
    assert [f.filename for f in files] == ["dressed_circuit_pennylane.py", "dressed_circuit_qiskit.py", "dressed_circuit_cirq.py",
                                           "dressed_circuit.qasm", "dressed_circuit.qasm3"]
    requirements = (PROJECT_ROOT / "requirements.txt").read_text().splitlines()
    for f, package in zip(files, ["pennylane", "qiskit", "cirq-core", "qiskit", "qiskit-qasm3-import"]):
        assert "4 qubits, depth 6; weights: random, seed 7." in f.text and "2026-11-26" in f.text
        assert "quantum-transfer-dashboard" in f.text and pinned(package) in f.text and pinned(package) in requirements
    for f in files[:3]:
        assert f"    pip install {pinned(f.kind if f.kind != 'cirq' else 'cirq-core')} numpy==" in f.text
        assert f"    python {f.filename}\n" in f.text
        compile(f.text, f.filename, "exec")
    assert files[3].text.splitlines()[5] == "OPENQASM 2.0;" and files[4].text.splitlines()[5] == "OPENQASM 3.0;"


def test_numbers_are_written_in_full_precision():
    spec = CircuitSpec(2, 1)
    angles, weights = np.array([0.1 + 1e-15, -np.pi / 3]), np.array([[np.pi, 1 / 3]])
    text = python_program("qiskit", spec, angles, weights)
    assert f"ANGLES = [{float(angles[0])!r}, {float(angles[1])!r}]" in text
    assert f"    [{np.pi!r}, {1 / 3!r}],\n" in text
    assert f"ry({np.pi!r}) q[0];" in circuit_qasm(spec, angles, weights, 2)


def test_bad_input_is_refused_with_a_clear_message():
    spec, angles, weights = CIRCUITS[1]
    with pytest.raises(ValueError, match=r"weights must have shape \(2, 3\), got \(3, 2\)"):
        python_program("cirq", spec, angles, weights.T)
    with pytest.raises(ValueError, match=r"angles must have shape \(3,\), got \(4,\)"):
        circuit_qasm3(spec, np.zeros(4), weights)
    with pytest.raises(ValueError, match="finite"):
        circuit_qasm2(spec, [0.0, np.nan, 0.0], weights)
    with pytest.raises(ValueError, match="no Python export for 'braket': choose one of pennylane, qiskit, cirq"):
        python_program("braket", spec, angles, weights)
    with pytest.raises(ValueError, match="OpenQASM version must be 2 or 3"):
        circuit_qasm(spec, angles, weights, 4)


def test_writing_the_exports_imports_no_simulator():
    code = ("import sys, numpy as np; from core.circuit.definition import CircuitSpec; "
            "from core.circuit.export import export_files; export_files(CircuitSpec(2, 1), np.zeros(2), np.zeros((1, 2))); "
            "print(sorted(m for m in ('pennylane', 'qiskit', 'cirq', 'torch') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=PROJECT_ROOT).stdout
    assert out.strip() == "[]"
