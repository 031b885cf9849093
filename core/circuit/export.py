"""The explorer's circuit as files to take home: PennyLane, Qiskit and Cirq programs, OpenQASM 2 and 3.

Each program is written from :func:`symbolic_ops` (one line per gate, emitted,
never described again) with every number in full precision (``repr``), so it
reproduces the explorer's exact probabilities. Run with ``python FILE.py``, it
prints one line per bitstring, wire 0 leftmost (``0101 0.012345678901``), then
``Z0 0.123456789012`` per qubit. Plain Python: no simulator is imported here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from core.circuit.definition import CircuitSpec, symbolic_ops
from core.circuit.qasm import circuit_qasm, parameter_values
from core.paths import PROJECT_ROOT

PROJECT = "quantum-transfer-dashboard (a teaching dashboard for hybrid classical-quantum machine learning)"
PROGRAM_KINDS = ("pennylane", "qiskit", "cirq")
EXPORT_KINDS = (*PROGRAM_KINDS, "qasm2", "qasm3")


@dataclass(frozen=True)
class ExportedFile:
    """One downloadable file: what it is, its name, MIME type and text."""

    kind: str
    label: str
    filename: str
    mime: str
    text: str


@dataclass(frozen=True)
class _Program:
    title: str
    packages: tuple[str, ...]
    imports: str
    before: str  # code up to the first gate line
    gates: dict[str, str]  # gate name -> a line, with {p} the angle and {w0}, {w1} the wires
    after: str  # code after the last gate line
    indent: str = "    "


_PROGRAMS = {
    "pennylane": _Program(
        "PennyLane", ("pennylane", "numpy"), "import pennylane as qml",
        'device = qml.device("default.qubit", wires=N_QUBITS)\n\n\n@qml.qnode(device)\ndef circuit():\n'
        '    """The dressed circuit; the probability of every bitstring (PennyLane puts wire 0 leftmost)."""',
        {"Hadamard": "qml.Hadamard(wires={w0})", "RY": "qml.RY({p}, wires={w0})", "CNOT": "qml.CNOT(wires=[{w0}, {w1}])"},
        "    return qml.probs(wires=range(N_QUBITS))\n\n\ndef probabilities() -> list[float]:\n"
        "    return [float(p) for p in circuit()]",
    ),
    "qiskit": _Program(
        "Qiskit", ("qiskit", "numpy"), "from qiskit import QuantumCircuit\nfrom qiskit.quantum_info import Statevector",
        'def circuit() -> QuantumCircuit:\n    """The dressed circuit."""\n    qc = QuantumCircuit(N_QUBITS)',
        {"Hadamard": "qc.h({w0})", "RY": "qc.ry({p}, {w0})", "CNOT": "qc.cx({w0}, {w1})"},
        "    return qc\n\n\ndef probabilities() -> list[float]:\n"
        '    """The exact probability of every bitstring, wire 0 leftmost.\n\n'
        "    Qiskit numbers basis states little-endian (qubit 0 is the rightmost bit): each bitstring is reversed.\n"
        '    """\n'
        "    qiskit_order = Statevector(circuit()).probabilities()\n"
        '    return [float(qiskit_order[int(format(i, f"0{N_QUBITS}b")[::-1], 2)]) for i in range(2**N_QUBITS)]',
    ),
    "cirq": _Program(
        "Cirq", ("cirq-core", "numpy"), "import cirq\nimport numpy as np",
        'QUBITS = cirq.LineQubit.range(N_QUBITS)\n\n\ndef circuit() -> cirq.Circuit:\n    """The dressed circuit."""\n'
        "    q = QUBITS\n    return cirq.Circuit([",
        {"Hadamard": "cirq.H(q[{w0}]),", "RY": "cirq.ry({p}).on(q[{w0}]),", "CNOT": "cirq.CNOT(q[{w0}], q[{w1}]),"},
        "    ])\n\n\ndef probabilities() -> list[float]:\n"
        '    """The exact probability of every bitstring: Cirq is big-endian in qubit_order, so wire 0 is leftmost."""\n'
        "    result = cirq.Simulator(dtype=np.complex128).simulate(circuit(), qubit_order=QUBITS)\n"
        "    return [float(abs(a) ** 2) for a in result.final_state_vector]",
        indent="        ",
    ),
}

_MAIN = '''

def main() -> None:
    probs = probabilities()
    print(f"# {2**N_QUBITS} bitstrings (wire 0 is the leftmost bit) and their exact probabilities")
    for index, p in enumerate(probs):
        print(f"{index:0{N_QUBITS}b} {p:.12f}")
    print("# <Z> of each qubit: P(its bit is 0) - P(its bit is 1)")
    for wire in range(N_QUBITS):
        bit = N_QUBITS - 1 - wire  # wire 0 is the most significant bit
        print(f"Z{wire} {sum(-p if index >> bit & 1 else p for index, p in enumerate(probs)):.12f}")


if __name__ == "__main__":
    main()
'''


def pinned(package: str) -> str:
    """``package==version`` as requirements.txt pins it (else as installed here; else the bare name)."""
    requirements = PROJECT_ROOT / "requirements.txt"
    if requirements.is_file():
        for line in requirements.read_text().splitlines():
            name, _, version = line.split("#")[0].strip().partition("==")
            if name.lower() == package.lower() and version:
                return f"{name}=={version}"
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"{package}=={version(package)}"
    except PackageNotFoundError:
        return package


def _about(spec: CircuitSpec, weights_note: str | None, today: dt.date) -> list[str]:
    weights = f"; weights: {weights_note}" if weights_note else ""
    return [f"Settings: {spec.n_qubits} qubits, depth {spec.depth}{weights}.",
            f"Exported from {PROJECT} on {today.isoformat()}."]


def _section(spec: CircuitSpec, k: int) -> str:
    if k < spec.n_qubits:
        return "# the input angles: Hadamard, then RY(angle) on every qubit"
    layer = (k - spec.n_qubits) // spec.n_qubits + 1
    return f"# layer {layer} of {spec.depth}: CNOTs, then RY(weight) on every qubit"


def _angle_name(spec: CircuitSpec, k: int | None) -> str | None:
    """Parameter index k as the program's constant: ANGLES[k], or WEIGHTS[layer][wire] past the inputs."""
    n = spec.n_qubits
    return None if k is None else f"ANGLES[{k}]" if k < n else f"WEIGHTS[{(k - n) // n}][{(k - n) % n}]"


def _gate_lines(spec: CircuitSpec, program: _Program) -> list[str]:
    """One line per gate of :func:`symbolic_ops`, with a comment where the next parameterised block starts."""
    ops = symbolic_ops(spec)
    lines, last = [], None
    for i, (name, wires, _) in enumerate(ops):
        k = next(k for _, _, k in ops[i:] if k is not None)  # the block this gate belongs to
        section = _section(spec, k)
        if section != last:
            lines.append(program.indent + section)
            last = section
        lines.append(program.indent + program.gates[name].format(p=_angle_name(spec, ops[i][2]), w0=wires[0], w1=wires[-1]))
    return lines


def _constants(spec: CircuitSpec, values: list[float]) -> str:
    n = spec.n_qubits
    rows = [values[n + layer * n: n + (layer + 1) * n] for layer in range(spec.depth)]
    weights = "".join(f"    [{', '.join(map(repr, row))}],\n" for row in rows)
    return (f"N_QUBITS = {n}\n# the input angles, one per qubit (radians)\nANGLES = [{', '.join(map(repr, values[:n]))}]\n"
            f"# the weights, one row per layer, one angle per qubit (radians)\nWEIGHTS = [\n{weights}]\n")


def python_program(kind: str, spec: CircuitSpec, angles: Any, weights: Any, *, weights_note: str | None = None,
                   today: dt.date | None = None, filename: str | None = None) -> str:
    """A runnable ``kind`` ("pennylane", "qiskit" or "cirq") program of the circuit that prints its exact probabilities."""
    if kind not in _PROGRAMS:
        raise ValueError(f"no Python export for {kind!r}: choose one of {', '.join(PROGRAM_KINDS)}")
    program, values = _PROGRAMS[kind], parameter_values(spec, angles, weights)
    filename = filename or f"dressed_circuit_{kind}.py"
    header = [f"The dressed variational circuit (Mari et al. 2019) from the circuit explorer, as a {program.title} program.",
              "", *_about(spec, weights_note, today or dt.date.today()), "",
              "Run it (Python 3.11):",
              f"    pip install {' '.join(pinned(p) for p in program.packages)}", f"    python {filename}", "",
              f"It prints the exact probability of each of the {2**spec.n_qubits} bitstrings, one line each",
              '("0101 0.012345678901", wire 0 the leftmost bit), then <Z> of each qubit ("Z0 0.123456789012").']
    docstring = '"""' + "\n".join(header) + '\n"""\n'
    body = "\n".join([program.before, *_gate_lines(spec, program), program.after])
    return f"{docstring}\n{program.imports}\n\n{_constants(spec, values)}\n\n{body}\n{_MAIN}"


def qasm_program(version: int, spec: CircuitSpec, angles: Any, weights: Any, *, weights_note: str | None = None,
                 today: dt.date | None = None) -> str:
    """The circuit as OpenQASM ``version`` (2 or 3) with a comment header saying what it is and how to load it."""
    source = circuit_qasm(spec, angles, weights, version)
    load = ("qiskit.qasm2.load(path)  (pip install " + pinned("qiskit") + ")" if version == 2 else
            "qiskit.qasm3.load(path)  (pip install " + pinned("qiskit") + " " + pinned("qiskit-qasm3-import") + ")")
    header = [f"The dressed variational circuit (Mari et al. 2019) from the circuit explorer, as OpenQASM {version}.",
              *_about(spec, weights_note, today or dt.date.today()),
              "Every qubit is measured into c: c[i] is wire i (Qiskit prints c[0] as the rightmost bit).",
              f"Load it in Python with {load}" + (", or paste it into IBM Quantum Composer." if version == 2 else ".")]
    return "".join(f"// {line}\n" for line in header) + source


def export_files(spec: CircuitSpec, angles: Any, weights: Any, *, weights_note: str | None = None,
                 today: dt.date | None = None, stem: str = "dressed_circuit") -> list[ExportedFile]:
    """Every export of the circuit, in :data:`EXPORT_KINDS` order, ready for a download button."""
    files = []
    for kind in PROGRAM_KINDS:
        filename = f"{stem}_{kind}.py"
        text = python_program(kind, spec, angles, weights, weights_note=weights_note, today=today, filename=filename)
        files.append(ExportedFile(kind, _PROGRAMS[kind].title, filename, "text/x-python", text))
    for version, suffix in ((2, "qasm"), (3, "qasm3")):
        text = qasm_program(version, spec, angles, weights, weights_note=weights_note, today=today)
        files.append(ExportedFile(f"qasm{version}", f"OpenQASM {version}", f"{stem}.{suffix}", "text/plain", text))
    return files
