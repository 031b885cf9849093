"""The explorer's settings in its address: every setting round-trips, and no hostile query string can break the page."""

from __future__ import annotations

import math
import random
from dataclasses import fields, replace

import pytest

from core.circuit.definition import MAX_DEPTH, MAX_QUBITS
from core.execution.settings import MAX_SHOTS
from core.lessons.link_state import (
    CONTROLS,
    KEYS,
    MAX_SEED,
    ExplorerState,
    backend_names,
    default_angles,
    from_query,
    noise_possible,
    to_query,
)


def random_state(rng: random.Random) -> ExplorerState:
    n = rng.randint(1, MAX_QUBITS)
    sim, measure = rng.choice(backend_names()), rng.choice(["shots", "exact"])
    weights = rng.choice(["random", "model"])
    return ExplorerState(
        n_qubits=n, depth=rng.randint(0, MAX_DEPTH), sim=sim, measure=measure, shots=rng.randint(1, MAX_SHOTS),
        noise=noise_possible(sim, measure, n) and rng.random() < 0.5, weights=weights, seed=rng.randint(0, MAX_SEED),
        model=rng.choice(["", "best-efficientnet_lite0-default.qubit-analytic.pt"]) if weights == "model" else "",
        angles=tuple(round(rng.uniform(-math.pi / 2, math.pi / 2), 2) for _ in range(n)),
        hide=frozenset(rng.sample(CONTROLS, rng.randint(0, 3))), lock=frozenset(rng.sample(CONTROLS, rng.randint(0, 2))),
        challenge=rng.choice(["", "bell-pair", "no-mask"]),
    )


def test_every_setting_round_trips_through_the_address():
    rng = random.Random(18)
    seen = {f.name: set() for f in fields(ExplorerState)}
    for _ in range(500):
        state = random_state(rng)
        query = to_query(state)
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in query.items())
        back, warnings = from_query(query)
        assert (back, warnings) == (state, []), query
        for f in fields(ExplorerState):
            seen[f.name].add(getattr(state, f.name))
    assert all(len(values) > 1 for values in seen.values()), "every setting took several values"


def test_the_address_spells_each_setting_out():
    state = ExplorerState(n_qubits=2, depth=1, sim="qiskit.aer", shots=300, noise=True, seed=7, angles=(0, -1.5708),
                          hide=frozenset({"noise", "depth"}), lock=frozenset({"qubits"}), challenge="bell-pair")
    assert to_query(state) == {"qubits": "2", "depth": "1", "sim": "qiskit.aer", "measure": "shots", "shots": "300",
                               "noise": "on", "weights": "random", "seed": "7", "angles": "0,-1.57", "hide": "depth,noise",
                               "lock": "qubits", "challenge": "bell-pair"}


def test_a_short_teacher_link_fills_in_the_defaults():
    state, warnings = from_query({"qubits": "2", "hide": ["noise,depth"], "lock": "qubits"})
    assert warnings == []
    assert (state.n_qubits, state.depth, state.angles) == (2, 6, default_angles(2)) == (2, 6, (-0.3, 0.0))
    assert state.hide == {"noise", "depth"} and state.lock == {"qubits"} and state.is_lesson
    assert state.fixed("depth") and state.fixed("qubits") and not state.fixed("angles")
    assert from_query({}) == (ExplorerState(), []) and not ExplorerState().is_lesson


@pytest.mark.parametrize(("query", "field", "expected", "message"), [
    ({"qubits": "9"}, "n_qubits", 4, "'qubits' must be a whole number from 1 to 8, got '9'"),
    ({"qubits": "３"}, "n_qubits", 4, "'qubits' must be a whole number from 1 to 8"),  # a full-width digit
    ({"depth": "-1"}, "depth", 6, "'depth' must be a whole number from 0 to 10, got '-1'"),
    ({"shots": "1e3"}, "shots", 1024, "'shots' must be a whole number from 1 to 100,000, got '1e3'"),
    ({"seed": "99999999999999999999999"}, "seed", 0, "'seed' must be a whole number from 0 to 10,000"),
    ({"sim": "ibm.quantum"}, "sim", "qiskit.aer", "'sim' must be one of default.qubit"),
    ({"noise": "maybe"}, "noise", False, "'noise' must be one of on, off"),
    ({"weights": "trained"}, "weights", "random", "'weights' must be one of random, model, got 'trained'"),
    ({"angles": "0,nan,inf,2"}, "angles", (0.0, 0.0, 0.3, -0.3), "θ1 must be a number from -1.57 to 1.57"),
    ({"angles": "1,2"}, "angles", (-0.3, 0.0, 0.3, -0.3), "'angles' needs 4 comma-separated numbers (one per qubit), got 2"),
    ({"noise": "on", "sim": "default.qubit"}, "noise", False, "noise needs sim=qiskit.aer, measure=shots and at most 5"),
    ({"hide": "noise,volume"}, "hide", {"noise"}, "'hide' names an unknown control 'volume'"),
    ({"depth": ["1", "3"]}, "depth", 3, "'depth' is given 2 times: the last one is used"),
    ({"qubit": "3"}, "n_qubits", 4, "Unknown link parameter 'qubit' is ignored"),
    ({"model": "../../etc/passwd"}, "model", "", "'model' must be a checkpoint file name ending in .pt"),
    ({"challenge": "<script>"}, "challenge", "", "'challenge' must be a challenge's id"),
])
def test_a_bad_value_gets_a_message_naming_it_and_its_default(query, field, expected, message):
    state, warnings = from_query(query)
    assert getattr(state, field) == expected
    assert any(message in w for w in warnings), warnings


def test_a_good_value_beside_a_bad_one_is_kept():
    state, warnings = from_query({"qubits": "3", "depth": "eleven", "angles": "0.5,0.25,-1"})
    assert (state.n_qubits, state.depth, state.angles) == (3, 6, (0.5, 0.25, -1.0))
    assert len(warnings) == 1


def test_streamlits_own_parameters_are_not_ours_to_judge():
    assert from_query({"embed": "true", "embed_options": "dark_theme"}) == (ExplorerState(), [])


HOSTILE_VALUES = ["", " ", "NaN", "nan", "-inf", "inf", "Infinity", "1e309", "-1e309", "1" * 400, "9" * 10_000, "-0",
                  "0x10", "٣", "4\x00", "\u202e4", "1,2,3,4,5,6,7,8,9", ",,,", "💥", "null", "None", "true", "[1, 2]",
                  "%00", "' OR 1=1 --", "<img src=x onerror=alert(1)>", "-9223372036854775809", "1.5.5", "+", "e5"]


def hostile_value(rng: random.Random) -> str:
    kind = rng.randrange(4)
    if kind == 0:
        return rng.choice(HOSTILE_VALUES)
    if kind == 1:
        return "".join(chr(rng.randrange(0x20, 0x2FFFF)) for _ in range(rng.randint(0, 30)))
    if kind == 2:
        return ",".join(str(rng.choice([rng.uniform(-1e6, 1e6), math.nan, math.inf, rng.randint(-10**30, 10**30)]))
                        for _ in range(rng.randint(0, 10)))
    return rng.choice(["x" * 10_000, str(rng.randint(-10**400, 10**400)), repr(rng.random())])


def test_hostile_query_strings_never_raise_and_always_give_a_valid_state():
    rng = random.Random(1812)
    keys = list(KEYS) + ["", "x", "qubits ", "QUBITS", "💥", "a" * 10_000, "hide[]"]
    for _ in range(3000):
        query = {}
        for _ in range(rng.randint(1, 8)):
            key = rng.choice(keys)
            query[key] = hostile_value(rng) if rng.random() < 0.7 else [hostile_value(rng) for _ in range(rng.randint(0, 4))]
        state, warnings = from_query(query)
        assert isinstance(state, ExplorerState) and all(isinstance(w, str) and len(w) < 600 for w in warnings)
        assert replace(state) == state, "it passes its own checks"
        assert from_query(to_query(state)) == (state, [])


def test_a_mapping_that_cannot_be_read_gives_the_defaults_and_a_message():
    class Broken(dict):
        def items(self):
            raise RuntimeError("no")

    state, warnings = from_query(Broken())
    assert state == ExplorerState() and "could not be read" in warnings[0]


@pytest.mark.parametrize(("changes", "message"), [
    ({"n_qubits": 0}, "qubits must be a whole number from 1 to 8"),
    ({"n_qubits": True}, "qubits must be a whole number"),
    ({"angles": (0.1,)}, "angles must be 4 numbers"),
    ({"angles": (0, 0, 0, 2.0)}, "each angle must be a number from -π/2 to π/2"),
    ({"angles": (0, 0, 0, math.nan)}, "each angle must be a number from -π/2 to π/2"),
    ({"sim": "nope"}, "sim must be one of"),
    ({"noise": True, "sim": "default.qubit"}, "noise needs a simulator that models it"),
    ({"noise": True, "n_qubits": 6, "angles": ()}, "at most 5 qubits"),
    ({"hide": frozenset({"everything"})}, "hide must be a set of controls"),
    ({"hide": "noise"}, "hide must be a set of controls"),
    ({"challenge": "Bell Pair"}, "challenge must be a challenge's id"),
])
def test_an_impossible_state_is_refused_with_a_clear_message(changes, message):
    with pytest.raises(ValueError, match=message):
        replace(ExplorerState(), **changes)
