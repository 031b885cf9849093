"""The step-by-step drawings: Bloch spheres and the circuit so far (SVG), the amplitudes (Vega-Lite)."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from core.circuit.definition import CircuitSpec, symbolic_ops
from core.circuit.state_steps import step_views
from core.paths import PROJECT_ROOT
from ui.state_figures import bloch_spheres_svg, circuit_svg, probabilities_spec

NS = {"svg": "http://www.w3.org/2000/svg"}


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    width, height = float(root.get("width")), float(root.get("height"))
    assert root.get("viewBox") == f"0 0 {width:.0f} {height:.0f}"
    assert root.find("svg:title", NS).text
    return root


def spheres(root: ET.Element) -> list[ET.Element]:
    return [g for g in root.iter("{http://www.w3.org/2000/svg}g") if g.get("class") == "bloch-sphere"]


def arrow_offset(sphere: ET.Element) -> np.ndarray | None:
    """The arrow's tip (the head's first point) relative to the sphere's centre, in pixels; None without an arrow."""
    head = sphere.find("svg:polygon[@class='bloch-arrowhead']", NS)
    if head is None:
        return None
    centre = sphere.find("svg:circle", NS)
    tip = np.array([float(v) for v in head.get("points").split()[0].split(",")])
    return tip - np.array([float(centre.get("cx")), float(centre.get("cy"))])


def test_one_sphere_per_qubit_with_its_length():
    bloch = np.array([[1.0, 0, 0], [0, 0, 0.5], [0, 0, 0]])
    root = parse(bloch_spheres_svg(bloch, (1 + np.sum(bloch**2, axis=1)) / 2))
    found = spheres(root)
    assert [g.get("data-qubit") for g in found] == ["0", "1", "2"]
    texts = ["".join(g.itertext()) for g in found]
    assert "q0 · length 1.00" in texts[0] and "q1 · length 0.50" in texts[1] and "q2 · length 0.00" in texts[2]
    assert "|0⟩" in texts[0] and "|1⟩" in texts[0]
    assert "purity 0.62" in found[1].find("svg:title", NS).text
    assert arrow_offset(found[2]) is None  # a fully entangled qubit: no arrow, only the centre


def test_arrow_follows_and_scales_with_the_bloch_vector():
    vectors = np.array([[0, 0, 1.0], [0, 0, -1.0], [0.8, 0, 0.6], [0.4, 0, 0.3], [0, 1.0, 0]])
    offsets = [arrow_offset(g) for g in spheres(parse(bloch_spheres_svg(vectors, np.ones(5))))]
    assert offsets[0][0] == pytest.approx(0, abs=0.1) and offsets[0][1] < -40  # |0⟩ straight up
    assert offsets[1][0] == pytest.approx(0, abs=0.1) and offsets[1][1] > 40  # |1⟩ straight down
    np.testing.assert_allclose(offsets[3], offsets[2] / 2, atol=0.15)  # half the vector, half the arrow
    assert offsets[4][0] > 40  # y goes to the right


def test_bloch_spheres_refuse_bad_input():
    with pytest.raises(ValueError, match=r"bloch must have shape \(n_qubits, 3\), got \(4,\)"):
        bloch_spheres_svg(np.zeros(4), np.ones(4))
    with pytest.raises(ValueError, match=r"purities must have shape \(2,\)"):
        bloch_spheres_svg(np.zeros((2, 3)), np.ones(3))
    with pytest.raises(ValueError, match="finite"):
        bloch_spheres_svg(np.full((1, 3), np.nan), np.ones(1))
    with pytest.raises(ValueError, match="size must be"):
        bloch_spheres_svg(np.zeros((1, 3)), np.ones(1), size=10)
    with pytest.raises(ValueError, match="per_row must be"):
        bloch_spheres_svg(np.zeros((1, 3)), np.ones(1), per_row=0)


def test_spheres_wrap_into_rows():
    root = parse(bloch_spheres_svg(np.tile([0, 0, 1.0], (8, 1)), np.ones(8), size=100, per_row=3))
    assert (root.get("width"), root.get("height")) == ("300", "360")  # 3 rows of up to 3 spheres, 100 + 20 high each
    assert [g.get("transform") for g in spheres(root)][3:5] == ["translate(0,120)", "translate(100,120)"]


def gates(root: ET.Element) -> list[ET.Element]:
    return [g for g in root.iter("{http://www.w3.org/2000/svg}g") if g.get("class", "").startswith("gate")]


def gate_x(gate: ET.Element) -> float:
    return float(gate.get("transform").removeprefix("translate(").split(",")[0])


@pytest.mark.parametrize("n_qubits, depth", [(1, 0), (4, 2), (5, 3), (8, 10)])
def test_circuit_fades_the_gates_to_come(n_qubits, depth):
    spec = CircuitSpec(n_qubits, depth)
    total = len(symbolic_ops(spec))
    for done in (0, total // 3, total):
        root = parse(circuit_svg(spec, done))
        drawn = gates(root)
        assert len(drawn) == total
        pending = [g for g in drawn if "pending" in g.get("class")]
        assert len(pending) == total - done
        assert all(g.get("opacity") == "0.3" for g in pending)
        assert all(g.get("opacity") is None for g in drawn if g not in pending)
        here = float(root.find("svg:line[@class='you-are-here']", NS).get("x1"))
        assert all(gate_x(g) < here for g in drawn if g not in pending)
        assert all(gate_x(g) > here for g in pending)
        assert f"{done} of {total} gates applied" in root.find("svg:title", NS).text


def test_circuit_labels_its_ry_gates():
    spec = CircuitSpec(2, 1)
    named = "".join(parse(circuit_svg(spec, 3)).itertext())
    assert named.count("H") == 2 and "x0" in named and "w0,1" in named and "you are here" in named
    valued = "".join(parse(circuit_svg(spec, 3, [0.25, -1.5, 3.0, 0.125])).itertext())
    assert "0.25" in valued and "−1.50" in valued and "3.00" in valued and "x0" not in valued


def test_circuit_refuses_bad_input():
    spec = CircuitSpec(2, 1)
    with pytest.raises(ValueError, match=r"done_ops must be a whole number between 0 and 7"):
        circuit_svg(spec, 8)
    with pytest.raises(ValueError, match="done_ops"):
        circuit_svg(spec, 1.5)
    with pytest.raises(ValueError, match=r"values must be 4 finite numbers"):
        circuit_svg(spec, 0, [0.1, 0.2])
    with pytest.raises(ValueError, match="spec must be a CircuitSpec"):
        circuit_svg((2, 1), 0)


def test_probability_bars_match_the_state():
    spec = CircuitSpec(3, 1)
    views = step_views(spec, [0.4, -1.0, 2.5], [[0.3, 0.2, -0.7]])
    for view in views:
        chart = probabilities_spec(view.probabilities, view.state, 3, view.step.label)
        rows = chart["data"]["values"]
        assert [r["bitstring"] for r in rows] == [format(i, "03b") for i in range(8)]
        np.testing.assert_allclose([r["probability"] for r in rows], view.probabilities)
        np.testing.assert_allclose([r["re"] for r in rows], view.state.real)
        assert chart["title"] == view.step.label
    # after the Hadamards every amplitude is +1/√8: one colour, no legend
    plain = probabilities_spec(views[1].probabilities, views[1].state, 3, "H")
    assert plain["encoding"]["color"] == {"value": "#1f77b4"}
    # θ = 2.5 gives qubit 2 a negative |0⟩ amplitude: coloured by phase, 0 and π both present
    signed = probabilities_spec(views[2].probabilities, views[2].state, 3, "RY")
    assert signed["encoding"]["color"]["field"] == "phase"
    assert signed["encoding"]["color"]["scale"]["domain"] == [-np.pi, np.pi]
    assert {round(r["phase"], 6) for r in signed["data"]["values"]} == {0.0, round(np.pi, 6)}


def test_complex_amplitudes_show_their_phase():
    state = np.array([1, 1j, -1j, 0]) / np.sqrt(3)
    chart = probabilities_spec(np.abs(state) ** 2, state, 2, "complex")
    rows = chart["data"]["values"]
    assert [r["phase_pi"] for r in rows] == ["0.00π", "0.50π", "−0.50π", "0.00π"]
    assert rows[1]["amplitude"] == "0.0000 + 0.5774i" and rows[2]["amplitude"] == "0.0000 − 0.5774i"
    assert chart["encoding"]["color"]["field"] == "phase"
    with pytest.raises(ValueError, match=r"state must have shape \(4,\) for 2 qubits, got \(3,\)"):
        probabilities_spec(np.ones(4) / 4, state[:3], 2, "bad")


def test_drawings_import_no_simulator_and_no_streamlit():
    code = ("import sys, ui.state_figures; "
            "print(sorted(m for m in ('pennylane', 'qiskit', 'cirq', 'jax', 'streamlit') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
