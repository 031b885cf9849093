"""Drawings of the circuit's state step by step: Bloch spheres, the circuit so far (hand-made SVG) and the amplitudes (Vega-Lite).

All plain functions returning strings or dicts, cheap for the server and the browser: an SVG shown with
``st.image`` costs the browser next to nothing, where a Plotly figure (let alone a 3-D one) costs it seconds.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from core.circuit.definition import CircuitSpec, symbolic_ops
from core.circuit.state_steps import ZERO_AMPLITUDE, phases

# The view of the Bloch sphere: turned 30° about z and tilted 20° towards the viewer, so that x comes out of
# the page to the lower left, y goes right and z up; the sphere's outline is a circle and its equator an ellipse.
AZIMUTH, ELEVATION = math.radians(30), math.radians(20)
ARROW_COLOUR = "#d62728"
GATE_COLOURS = {"Hadamard": "#e8f1fb", "embedding": "#eaf6ea", "weight": "#fff4e5"}
FADED = 0.3
PHASE_COLOUR = "#1f77b4"  # the bars' one colour when no amplitude is negative or complex
SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="{w:.0f}" height="{h:.0f}" viewBox="0 0 {w:.0f} {h:.0f}" ' \
      'font-family="sans-serif">'


def project(x: float, y: float, z: float) -> tuple[float, float]:
    """Screen offset (right, down) of the point (x, y, z) of a unit-radius Bloch sphere."""
    sa, ca, se, ce = math.sin(AZIMUTH), math.cos(AZIMUTH), math.sin(ELEVATION), math.cos(ELEVATION)
    return -x * sa + y * ca, -(z * ce - (x * ca + y * sa) * se)


def _num(value: float) -> str:
    return f"{value:.1f}"


def _text(x: float, y: float, text: str, size: int = 11, anchor: str = "middle", colour: str = "#333") -> str:
    return (f'<text x="{_num(x)}" y="{_num(y)}" font-size="{size}" text-anchor="{anchor}" fill="{colour}" '
            f'dominant-baseline="middle">{text}</text>')


def _line(x1: float, y1: float, x2: float, y2: float, colour: str = "#999", width: float = 1, extra: str = "") -> str:
    return (f'<line x1="{_num(x1)}" y1="{_num(y1)}" x2="{_num(x2)}" y2="{_num(y2)}" stroke="{colour}" '
            f'stroke-width="{width}"{extra}/>')


def _arrow(cx: float, cy: float, dx: float, dy: float) -> str:
    """The Bloch vector from the centre to (cx + dx, cy + dy): a shaft and a head whose first point is the tip."""
    length = math.hypot(dx, dy)
    if length < 0.5:
        return ""
    ux, uy = dx / length, dy / length
    head = min(9.0, 0.6 * length)
    bx, by = cx + dx - ux * head, cy + dy - uy * head  # the head's base
    points = [(cx + dx, cy + dy), (bx - uy * head * 0.45, by + ux * head * 0.45), (bx + uy * head * 0.45, by - ux * head * 0.45)]
    return (_line(cx, cy, bx, by, ARROW_COLOUR, 2.5, ' class="bloch-vector"')
            + f'<polygon class="bloch-arrowhead" points="{" ".join(f"{_num(px)},{_num(py)}" for px, py in points)}" '
              f'fill="{ARROW_COLOUR}"/>')


def _sphere(qubit: int, vector: np.ndarray, purity: float, size: int, per_row: int) -> str:
    r, cx, cy = 0.34 * size, size / 2, 0.48 * size
    tilt = r * math.sin(ELEVATION)
    x, y, z = (float(v) for v in vector)
    length = math.sqrt(x * x + y * y + z * z)
    row, column = divmod(qubit, per_row)
    parts = [f'<g class="bloch-sphere" data-qubit="{qubit}" transform="translate({column * size},{row * (size + 20)})">',
             f"<title>q{qubit}: Bloch vector (x, y, z) = ({x:.2f}, {y:.2f}, {z:.2f}), length {length:.2f}, "
             f"purity {purity:.2f}</title>",
             f'<circle cx="{_num(cx)}" cy="{_num(cy)}" r="{_num(r)}" fill="#f6f8fb" stroke="#666" stroke-width="1.2"/>',
             # the equator: its back half (above the centre on screen) dashed, its front half solid
             f'<path d="M {_num(cx - r)} {_num(cy)} A {_num(r)} {_num(tilt)} 0 0 1 {_num(cx + r)} {_num(cy)}" fill="none" '
             'stroke="#aaa" stroke-dasharray="3 3"/>',
             f'<path d="M {_num(cx - r)} {_num(cy)} A {_num(r)} {_num(tilt)} 0 0 0 {_num(cx + r)} {_num(cy)}" fill="none" '
             'stroke="#888"/>']
    for axis, label in (((1, 0, 0), "x"), ((0, 1, 0), "y"), ((0, 0, 1), None)):
        (ex, ey), (sx, sy) = project(*axis), project(*(-a for a in axis))
        parts.append(_line(cx + r * sx, cy + r * sy, cx + r * ex, cy + r * ey, "#bbb", 1, ' stroke-dasharray="2 2"'))
        if label:
            parts.append(_text(cx + 1.18 * r * ex, cy + 1.18 * r * ey, label, 12, colour="#555"))
    parts += [_text(cx, cy - r - 10, "|0⟩", 12), _text(cx + 9, cy - r + 8, "z", 10, "start", "#555"),
              _text(cx, cy + r + 10, "|1⟩", 12)]
    dx, dy = project(x, y, z)
    parts += [_arrow(cx, cy, r * dx, r * dy), f'<circle cx="{_num(cx)}" cy="{_num(cy)}" r="2.5" fill="#333"/>',
              _text(cx, size + 8, f"q{qubit} · length {length:.2f}", 13), "</g>"]
    return "".join(parts)


def bloch_spheres_svg(bloch: np.ndarray, purities: np.ndarray, size: int = 170, per_row: int | None = None) -> str:
    """One Bloch sphere per qubit, side by side (``per_row`` at most in a row), as a standalone SVG for ``st.image``.

    The arrow is the qubit's Bloch vector: length 1 for a qubit on its own, shorter as it is entangled with the others.
    """
    bloch, purities, per_row = _check_spheres(bloch, purities, size, per_row)
    n = len(bloch)
    lengths = ", ".join(f"q{q} {np.linalg.norm(v):.2f}" for q, v in enumerate(bloch))
    head = SVG.format(w=size * per_row, h=(size + 20) * math.ceil(n / per_row))
    title = f"<title>Bloch spheres of the {n} qubits; Bloch vector lengths: {lengths}</title>"
    return head + title + "".join(_sphere(q, v, p, size, per_row) for q, (v, p) in enumerate(zip(bloch, purities))) + "</svg>"


def _check_spheres(bloch: Any, purities: Any, size: Any, per_row: Any) -> tuple[np.ndarray, np.ndarray, int]:
    bloch, purities = np.asarray(bloch, dtype=float), np.asarray(purities, dtype=float)
    if bloch.ndim != 2 or bloch.shape[1] != 3 or len(bloch) == 0:
        raise ValueError(f"bloch must have shape (n_qubits, 3), got {bloch.shape}")
    if purities.shape != (len(bloch),):
        raise ValueError(f"purities must have shape ({len(bloch)},), one per qubit, got {purities.shape}")
    if not (np.isfinite(bloch).all() and np.isfinite(purities).all()):
        raise ValueError("bloch and purities must be finite numbers (no NaN or infinity)")
    if isinstance(size, bool) or not isinstance(size, int) or not 60 <= size <= 600:
        raise ValueError(f"size must be a whole number of pixels between 60 and 600, got {size!r}")
    per_row = len(bloch) if per_row is None else per_row
    if isinstance(per_row, bool) or not isinstance(per_row, int) or per_row < 1:
        raise ValueError(f"per_row must be a whole number of at least 1, got {per_row!r}")
    return bloch, purities, min(per_row, len(bloch))


def _signed(value: float, digits: int = 4) -> str:
    """``value`` with a true minus sign, and no "-0.0000"."""
    return f"{round(value, digits) + 0.0:.{digits}f}".replace("-", "−")


def _amplitude_text(amplitude: complex) -> str:
    re, im = amplitude.real, amplitude.imag
    return _signed(re) if abs(im) < ZERO_AMPLITUDE else f"{_signed(re)} {'−' if im < 0 else '+'} {abs(im):.4f}i"


def probabilities_spec(probabilities: np.ndarray, state: np.ndarray, n_qubits: int, title: str) -> dict:
    """The 2**n probabilities as bars for ``st.vega_lite_chart``, coloured by the amplitude's phase where it matters.

    When every amplitude is real and ≥ 0 the bars have one colour and no legend; otherwise a cyclic colour scale
    over [-π, π] (this circuit's amplitudes are real: positive and negative ones get opposite colours).
    """
    probabilities, state = np.asarray(probabilities, dtype=float), np.asarray(state, dtype=complex)
    if isinstance(n_qubits, bool) or not isinstance(n_qubits, int) or n_qubits < 1:
        raise ValueError(f"n_qubits must be a whole number of at least 1, got {n_qubits!r}")
    for name, array in (("probabilities", probabilities), ("state", state)):
        if array.shape != (2**n_qubits,):
            raise ValueError(f"{name} must have shape ({2**n_qubits},) for {n_qubits} qubits, got {array.shape}")
    angles = phases(state)
    rows = [{"bitstring": format(i, f"0{n_qubits}b"), "probability": float(p), "re": float(a.real), "im": float(a.imag),
             "amplitude": _amplitude_text(a), "phase": float(phi), "phase_pi": f"{_signed(phi / np.pi, 2)}π"}
            for i, (p, a, phi) in enumerate(zip(probabilities, state, angles))]
    labels = [row["bitstring"] for row in rows]
    tooltip = [{"field": "bitstring"}, {"field": "probability", "format": ".4f"}, {"field": "amplitude"},
               {"field": "phase_pi", "title": "phase"}]
    if np.allclose(angles, 0.0):
        colour: dict[str, Any] = {"value": PHASE_COLOUR}
    else:
        ticks = [-np.pi, -np.pi / 2, 0.0, np.pi / 2, np.pi]
        colour = {"field": "phase", "type": "quantitative", "scale": {"scheme": "sinebow", "domain": [-np.pi, np.pi]},
                  "legend": {"title": "phase of the amplitude", "orient": "bottom", "values": ticks, "gradientLength": 200,
                             "labelExpr": "['−π', '−π/2', '0', 'π/2', 'π'][round(2 * datum.value / PI) + 2]"}}
    return {
        "title": title,
        "height": 240,
        "autosize": {"type": "fit-x", "contains": "padding"},  # the height is the plot's; axis and legend come on top of it
        "data": {"values": rows},
        "mark": {"type": "bar"},
        "encoding": {
            "x": {"field": "bitstring", "type": "nominal", "sort": labels, "title": "bitstring (qubit 0 first)",
                  "axis": {"labelAngle": 0 if n_qubits <= 4 else -90, "labelOverlap": True}},
            "y": {"field": "probability", "type": "quantitative", "title": "probability"},
            "color": colour,
            "tooltip": tooltip,
        },
    }


NEGATIVE_COLOUR = "#ff7f0e"  # a bar whose amplitude is real and negative (phase π)


def _phase_colour(phase: float) -> str:
    if abs(phase) < 1e-6:
        return PHASE_COLOUR
    if abs(abs(phase) - math.pi) < 1e-6:
        return NEGATIVE_COLOUR
    return f"hsl({math.degrees(phase) % 360:.0f}, 70%, 45%)"  # a complex amplitude: its phase as a hue


def probabilities_svg(probabilities: np.ndarray, state: np.ndarray, n_qubits: int, title: str) -> tuple[str, str]:
    """The bars of :func:`probabilities_spec` as an SVG for ``st.image`` (no chart library), and its alt text.

    Blue: a real, positive amplitude; orange: a real, negative one; any other colour: a complex amplitude's phase.
    """
    from ui.svg_charts import bars_svg

    probabilities_spec(probabilities, state, n_qubits, title)  # the same checks
    state = np.asarray(state, dtype=complex)
    angles = phases(state)
    labels = [format(i, f"0{n_qubits}b") for i in range(2**n_qubits)]
    colours = [_phase_colour(float(phi)) for phi in angles]
    legend = [(name, colour) for name, colour in (("amplitude > 0", PHASE_COLOUR), ("amplitude < 0", NEGATIVE_COLOUR))
              if colour in colours]
    if any(c.startswith("hsl") for c in colours):
        legend.append(("complex: colour = phase", "#8c564b"))
    svg = bars_svg(labels, [float(p) for p in probabilities], colours, title, "probability", legend)
    top = np.argsort(-np.asarray(probabilities, dtype=float), kind="stable")[:4]
    alt = (f"Bar chart: {title}, bitstrings with qubit 0 first. The most likely: "
           + ", ".join(f"{labels[i]} {float(probabilities[i]):.3f} (amplitude {_amplitude_text(state[i])})" for i in top) + ".")
    return svg, alt


def _place(spec: CircuitSpec, done_ops: int) -> list[tuple[int, str, tuple[int, ...], int | None]]:
    """(column, name, wires, parameter) per gate: each at the first column free on all its wires, none that is
    still to come left of one already applied (a barrier after ``done_ops``)."""
    placed, free = [], [0] * spec.n_qubits
    for i, (name, wires, k) in enumerate(symbolic_ops(spec)):
        if i == done_ops:
            free = [max(free)] * spec.n_qubits
        span = range(min(wires), max(wires) + 1)
        column = max(free[w] for w in span)
        for w in span:
            free[w] = column + 1
        placed.append((column, name, wires, k))
    return placed


def _gate(name: str, wires: tuple[int, ...], k: int | None, n: int, values: list[float] | None, y) -> str:
    if name == "CNOT":
        control, target = y(wires[0]), y(wires[1])
        return (_line(0, control, 0, target, "#222", 1.3) + f'<circle cx="0" cy="{_num(control)}" r="4.5" fill="#222"/>'
                f'<circle cx="0" cy="{_num(target)}" r="10" fill="white" stroke="#222" stroke-width="1.3"/>'
                + _line(-10, target, 10, target, "#222", 1.3) + _line(0, target - 10, 0, target + 10, "#222", 1.3))
    wire_y = y(wires[0])
    if name == "Hadamard":
        return (f'<rect x="-15" y="{_num(wire_y - 15)}" width="30" height="30" rx="4" fill="{GATE_COLOURS[name]}" '
                f'stroke="#555"/>' + _text(0, wire_y + 1, "H", 13))
    if values is not None:
        below = _signed(values[k], 2)
    else:
        below = f"x{k}" if k < n else f"w{(k - n) // n},{(k - n) % n}"
    fill = GATE_COLOURS["embedding" if k < n else "weight"]
    return (f'<rect x="-19" y="{_num(wire_y - 17)}" width="38" height="34" rx="4" fill="{fill}" stroke="#555"/>'
            + _text(0, wire_y - 7, "RY", 10) + _text(0, wire_y + 8, below, 9))


def whole_circuit_svg(spec: CircuitSpec, values: Any = None) -> str:
    """The whole circuit drawn from :func:`symbolic_ops`, without a step marker (for ``st.image``)."""
    if not isinstance(spec, CircuitSpec):
        raise ValueError(f"spec must be a CircuitSpec, got {type(spec).__name__}")
    return circuit_svg(spec, len(symbolic_ops(spec)), values, marker=False)


def circuit_alt(spec: CircuitSpec) -> str:
    """Alt text for a drawing of the circuit: what a screen reader says instead of the picture."""
    return (f"The dressed circuit on {spec.n_qubits} qubit{'s' if spec.n_qubits > 1 else ''}: a Hadamard and an RY input "
            f"rotation on every qubit, then {spec.depth} layer{'s' if spec.depth != 1 else ''} of CNOTs between neighbouring "
            "qubits followed by an RY weight rotation on every qubit.")


def circuit_svg(spec: CircuitSpec, done_ops: int, values: Any = None, marker: bool = True) -> str:
    """The circuit drawn from :func:`symbolic_ops`, the first ``done_ops`` gates applied and the rest faded,
    with a dashed "you are here" line after the last gate applied (unless ``marker`` is False). RY gates
    show ``values`` (the flat [angles, weights] list) when given, else their parameter names."""
    if not isinstance(spec, CircuitSpec):
        raise ValueError(f"spec must be a CircuitSpec, got {type(spec).__name__}")
    n, total = spec.n_qubits, len(symbolic_ops(spec))
    if isinstance(done_ops, bool) or not isinstance(done_ops, (int, np.integer)) or not 0 <= done_ops <= total:
        raise ValueError(f"done_ops must be a whole number between 0 and {total} (the circuit's gates), got {done_ops!r}")
    if values is not None:
        values = np.asarray(values, dtype=float).reshape(-1)
        if values.size != spec.n_params or not np.isfinite(values).all():
            raise ValueError(f"values must be {spec.n_params} finite numbers ([angles, weights]), got {values.size}")
        values = values.tolist()
    placed = _place(spec, int(done_ops))
    step, row, left, top = 48, 46, 44, 30
    columns = max(c for c, *_ in placed) + 1
    width, height = left + columns * step + 16, top + n * row + 6

    def y(w: int) -> float:
        return top + w * row + row / 2

    parts = [SVG.format(w=width, h=height),
             f"<title>The dressed circuit ({n} qubits, depth {spec.depth}): {done_ops} of {total} gates applied</title>"]
    for w in range(n):
        parts += [_line(left - 8, y(w), width - 8, y(w), "#444", 1), _text(left - 14, y(w), f"q{w}", 12, "end")]
    for i, (column, name, wires, k) in enumerate(placed):
        state = "applied" if i < done_ops else "pending"
        fade = "" if i < done_ops else f' opacity="{FADED}"'
        parts.append(f'<g class="gate {state}" data-op="{i}" transform="translate({left + column * step + step / 2:.1f},0)"'
                     f'{fade}>{_gate(name, wires, k, n, values, y)}</g>')
    if not marker:
        return "".join([*parts, "</svg>"])
    here = left + (max((c for c, *_ in placed[:done_ops]), default=-1) + 1) * step
    anchor = "start" if here < left + step else "end" if here > width - step else "middle"
    parts += [_line(here, top - 6, here, height - 2, ARROW_COLOUR, 1.5, ' class="you-are-here" stroke-dasharray="5 4"'),
              _text(here, 12, "you are here", 11, anchor, ARROW_COLOUR), "</svg>"]
    return "".join(parts)
