"""The Circuit explorer's settings as a page address: parsed leniently, written canonically.

A link such as ``/explorer?qubits=2&depth=1&angles=0,1.57&hide=noise,sim`` opens the
explorer exactly so. :func:`from_query` never raises: a bad value gets a warning that
names the parameter and what it expects, and its default is used instead.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cache

from core.circuit.definition import MAX_DEPTH, MAX_QUBITS
from core.execution.backends import BACKENDS, local_backends
from core.execution.noise import NOISY_MAX_QUBITS
from core.execution.settings import MAX_SHOTS

MAX_SEED = 10_000
ANGLE_LIMIT = math.pi / 2  # the input angles are tanh(·)·π/2: the model never sends a larger one
ANGLE_DECIMALS = 2  # the explorer's sliders move in steps of 0.01
ANGLE_MAX = 1.57  # π/2 to the sliders' 2 decimals; up to π/2 + 0.005 is read as this (1.5708 is π/2 too)
WEIGHT_SOURCES = ("random", "model")
MEASURES = ("shots", "exact")
# what a link may hide or lock: the explorer's controls (photo is the uploader)
CONTROLS = ("qubits", "depth", "sim", "measure", "shots", "noise", "weights", "seed", "angles", "photo")
KEYS = ("qubits", "depth", "sim", "measure", "shots", "noise", "weights", "seed", "model", "angles", "hide", "lock",
        "challenge")
STREAMLIT_KEYS = ("embed", "embed_options")  # Streamlit's own query parameters: not ours to judge
MAX_VALUE_CHARS = 400  # longer values are refused unread
NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,39}")
MODEL_FILE = re.compile(r"[\w.-]{1,120}\.pt", re.ASCII)
INTEGER = re.compile(r"[+-]?[0-9]{1,7}")
DECIMAL = re.compile(r"[+-]?([0-9]{1,6}(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]{1,3})?")


@cache
def backend_names() -> tuple[str, ...]:
    """The simulators the explorer offers here (installed, no account needed)."""
    return tuple(b.name for b in local_backends())


def default_backend() -> str:
    names = backend_names()
    return "qiskit.aer" if "qiskit.aer" in names else names[0]


def default_angles(n_qubits: int) -> tuple[float, ...]:
    """The explorer's starting input angles: -0.3, 0, 0.3, -0.3, …"""
    return tuple(round(0.3 * (q % 3) - 0.3, ANGLE_DECIMALS) for q in range(n_qubits))


def model_file(path: str) -> str:
    """The checkpoint file name a link names a model by ("" when the name is not one a link can carry)."""
    name = str(path).replace("\\", "/").rsplit("/", 1)[-1]
    return name if MODEL_FILE.fullmatch(name) else ""


def noise_possible(sim: str, measure: str, n_qubits: int) -> bool:
    """NISQ noise needs a simulator that models it, shots, and at most the fake device's 5 qubits."""
    return sim in BACKENDS and BACKENDS[sim].supports_noise and measure == "shots" and n_qubits <= NOISY_MAX_QUBITS


@dataclass(frozen=True)
class ExplorerState:
    """Every setting of the Circuit explorer, and what a lesson link hides or locks. Checked on creation."""

    n_qubits: int = 4
    depth: int = 6
    sim: str = field(default_factory=default_backend)
    measure: str = "shots"  # "shots": sampled; "exact": the exact probabilities only
    shots: int = 1024
    noise: bool = False
    weights: str = "random"  # "random" (seeded) or "model" (the selected model's)
    seed: int = 0
    model: str = ""  # the model's checkpoint file name, when the weights are a model's; "" = whichever is selected
    angles: tuple[float, ...] = ()  # () = the defaults for n_qubits
    hide: frozenset[str] = frozenset()
    lock: frozenset[str] = frozenset()
    challenge: str = ""  # a challenge's id: the explorer shows its goal and checks it live

    def __post_init__(self) -> None:
        _check_int("qubits", self.n_qubits, 1, MAX_QUBITS)
        _check_int("depth", self.depth, 0, MAX_DEPTH)
        _check_int("shots", self.shots, 1, MAX_SHOTS)
        _check_int("seed", self.seed, 0, MAX_SEED)
        for name, value, allowed in (("sim", self.sim, backend_names()), ("measure", self.measure, MEASURES),
                                     ("weights", self.weights, WEIGHT_SOURCES)):
            if value not in allowed:
                raise ValueError(f"{name} must be one of {', '.join(allowed)}, got {value!r:.60}")
        if not isinstance(self.noise, bool):
            raise ValueError(f"noise must be True or False, got {self.noise!r:.60}")
        if self.noise and not noise_possible(self.sim, self.measure, self.n_qubits):
            raise ValueError(f"noise needs a simulator that models it (qiskit.aer), shots and at most {NOISY_MAX_QUBITS} qubits")
        if self.model and not (isinstance(self.model, str) and MODEL_FILE.fullmatch(self.model)):
            raise ValueError(f"model must be a checkpoint file name (ending in .pt), got {self.model!r:.60}")
        if self.challenge and not (isinstance(self.challenge, str) and NAME.fullmatch(self.challenge)):
            raise ValueError(f"challenge must be a challenge's id (a-z, 0-9, -), got {self.challenge!r:.60}")
        object.__setattr__(self, "angles", _checked_angles(self.angles, self.n_qubits))
        for name in ("hide", "lock"):
            value = getattr(self, name)
            names = frozenset(value) if isinstance(value, (set, frozenset, list, tuple)) else None
            if names is None or not names <= set(CONTROLS):
                raise ValueError(f"{name} must be a set of controls from {', '.join(CONTROLS)}, got {value!r:.80}")
            object.__setattr__(self, name, names)

    @property
    def sampled(self) -> bool:
        return self.measure == "shots"

    @property
    def is_lesson(self) -> bool:
        """A teacher's link: it hides or locks controls, or sets a challenge."""
        return bool(self.hide or self.lock or self.challenge)

    def fixed(self, control: str) -> bool:
        """Whether the student cannot change ``control`` (hidden or locked)."""
        return control in self.hide or control in self.lock


def _check_int(name: str, value: object, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{name} must be a whole number from {low} to {high}, got {value!r:.60}")


def _checked_angles(angles: object, n_qubits: int) -> tuple[float, ...]:
    values = tuple(angles) if isinstance(angles, (tuple, list)) else None
    if values == ():
        return default_angles(n_qubits)
    if values is None or len(values) != n_qubits:
        raise ValueError(f"angles must be {n_qubits} numbers (one per qubit), got {angles!r:.80}")
    checked = []
    for value in values:
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not _angle_in_range(float(value)):
            raise ValueError(f"each angle must be a number from -π/2 to π/2 (±{ANGLE_MAX}), got {value!r:.60}")
        checked.append(_rounded_angle(float(value)))
    return tuple(checked)


def _angle_in_range(value: float) -> bool:
    return abs(value) <= ANGLE_LIMIT + 0.005  # false for NaN


def _rounded_angle(value: float) -> float:
    return min(max(round(value, ANGLE_DECIMALS), -ANGLE_MAX), ANGLE_MAX) + 0.0  # + 0.0: no -0.0


def to_query(state: ExplorerState) -> dict[str, str]:
    """The address's query parameters for ``state``: every setting, then the lesson's hide/lock/challenge if any."""
    query = {"qubits": str(state.n_qubits), "depth": str(state.depth), "sim": state.sim, "measure": state.measure,
             "shots": str(state.shots), "noise": "on" if state.noise else "off", "weights": state.weights,
             "seed": str(state.seed)}
    if state.weights == "model" and state.model:
        query["model"] = state.model
    query["angles"] = ",".join(_format_angle(a) for a in state.angles)
    for name in ("hide", "lock"):
        if getattr(state, name):
            query[name] = ",".join(c for c in CONTROLS if c in getattr(state, name))
    if state.challenge:
        query["challenge"] = state.challenge
    return query


def _format_angle(value: float) -> str:
    text = f"{value:.{ANGLE_DECIMALS}f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def from_query(params: Mapping[str, str | list[str]]) -> tuple[ExplorerState, list[str]]:
    """The state a page address asks for, and a warning per value that could not be used (its default is used instead).

    ``params`` maps each key to its value, or to every value when the key is repeated. Never raises.
    """
    warnings: list[str] = []
    try:
        items = list(params.items())
    except Exception:  # a hostile mapping: nothing can be read from it
        return ExplorerState(), ["The link's parameters could not be read: the explorer's defaults are used."]
    raw: dict[str, list[str]] = {}
    for key, value in items:
        key_text = str(key)
        values = [str(v) for v in value] if isinstance(value, (list, tuple)) else [str(value)]
        if key_text in STREAMLIT_KEYS:
            continue
        if key_text not in KEYS:
            warnings.append(f"Unknown link parameter {_show(key_text)} is ignored; the explorer reads {', '.join(KEYS)}.")
            continue
        raw[key_text] = values
    return _build(raw, warnings), warnings


def _show(text: str, limit: int = 40) -> str:
    """A value quoted for a message, cut short."""
    return repr(text if len(text) <= limit else text[:limit] + "…")


def _single(raw: dict[str, list[str]], key: str, warnings: list[str]) -> str | None:
    values = raw.get(key)
    if not values:
        return None
    if len(values) > 1:
        warnings.append(f"Link parameter {key!r} is given {len(values)} times: the last one is used.")
    value = values[-1].strip()
    if len(value) > MAX_VALUE_CHARS:
        warnings.append(f"Link parameter {key!r} is {len(value):,} characters long (at most {MAX_VALUE_CHARS}): "
                        "its default is used.")
        return None
    return value


def _integer(raw, key: str, low: int, high: int, warnings: list[str]) -> int | None:
    text = _single(raw, key, warnings)
    if text is None:
        return None
    if INTEGER.fullmatch(text) and low <= int(text) <= high:
        return int(text)
    warnings.append(f"Link parameter {key!r} must be a whole number from {low:,} to {high:,}, got {_show(text)}: "
                    "its default is used.")
    return None


def _choice(raw, key: str, options: dict[str, object], warnings: list[str]) -> object | None:
    text = _single(raw, key, warnings)
    if text is None:
        return None
    if text.lower() in options:
        return options[text.lower()]
    warnings.append(f"Link parameter {key!r} must be one of {', '.join(options)}, got {_show(text)}: its default is used.")
    return None


def _names(raw, key: str, warnings: list[str]) -> frozenset[str]:
    """hide / lock: comma-separated control names; a repeated key adds its names."""
    found: set[str] = set()
    for value in raw.get(key, []):
        if len(value) > MAX_VALUE_CHARS:
            warnings.append(f"Link parameter {key!r} is {len(value):,} characters long (at most {MAX_VALUE_CHARS}): ignored.")
            continue
        for name in filter(None, (part.strip().lower() for part in value.split(","))):
            if name in CONTROLS:
                found.add(name)
            else:
                warnings.append(f"Link parameter {key!r} names an unknown control {_show(name)}; "
                                f"controls: {', '.join(CONTROLS)}.")
    return frozenset(found)


def _angles(raw, n_qubits: int, warnings: list[str]) -> tuple[float, ...]:
    text = _single(raw, "angles", warnings)
    defaults = default_angles(n_qubits)
    if text is None:
        return defaults
    parts = [p.strip() for p in text.split(",")]
    if len(parts) != n_qubits:
        warnings.append(f"Link parameter 'angles' needs {n_qubits} comma-separated numbers (one per qubit), got "
                        f"{len(parts)}: the default angles are used.")
        return defaults
    angles = list(defaults)
    for q, part in enumerate(parts):
        value = float(part) if DECIMAL.fullmatch(part) else math.nan
        if _angle_in_range(value):
            angles[q] = _rounded_angle(value)
        else:
            warnings.append(f"Link parameter 'angles': θ{q} must be a number from -{ANGLE_MAX} to {ANGLE_MAX} (±π/2), "
                            f"got {_show(part)}: {defaults[q]} is used.")
    return tuple(angles)


def _build(raw: dict[str, list[str]], warnings: list[str]) -> ExplorerState:
    default = ExplorerState()
    given: dict[str, object] = {
        "n_qubits": _integer(raw, "qubits", 1, MAX_QUBITS, warnings),
        "depth": _integer(raw, "depth", 0, MAX_DEPTH, warnings),
        "sim": _choice(raw, "sim", {name: name for name in backend_names()}, warnings),
        "measure": _choice(raw, "measure", {m: m for m in MEASURES}, warnings),
        "shots": _integer(raw, "shots", 1, MAX_SHOTS, warnings),
        "noise": _choice(raw, "noise", {"on": True, "off": False, "true": True, "false": False, "1": True, "0": False},
                         warnings),
        "weights": _choice(raw, "weights", {w: w for w in WEIGHT_SOURCES}, warnings),
        "seed": _integer(raw, "seed", 0, MAX_SEED, warnings),
        "hide": _names(raw, "hide", warnings),
        "lock": _names(raw, "lock", warnings),
    }
    for key, pattern, expected in (("model", MODEL_FILE, "a checkpoint file name ending in .pt"),
                                   ("challenge", NAME, "a challenge's id (a-z, 0-9, -)")):
        text = _single(raw, key, warnings)
        if text is not None and not pattern.fullmatch(text):
            warnings.append(f"Link parameter {key!r} must be {expected}, got {_show(text)}: ignored.")
            text = None
        given[key] = text
    values = {k: v for k, v in given.items() if v is not None}
    values["angles"] = _angles(raw, values.get("n_qubits", default.n_qubits), warnings)
    if values.get("weights", default.weights) != "model":
        values.pop("model", None)
    merged = replace(default, **{k: v for k, v in values.items() if k != "noise"})
    if values.get("noise") and not noise_possible(merged.sim, merged.measure, merged.n_qubits):
        warnings.append(f"Link parameter 'noise' is on, but noise needs sim=qiskit.aer, measure=shots and at most "
                        f"{NOISY_MAX_QUBITS} qubits: it is off.")
        return merged
    return replace(merged, noise=bool(values.get("noise", False)))
