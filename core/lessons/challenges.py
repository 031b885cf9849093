"""Short exercises the app checks from the explorer's live circuit: a goal, a hint, what it teaches, and a lesson link.

Each check takes a :class:`LiveCircuit` and returns ``Verdict(passed, detail)``, the detail naming the measured value.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from itertools import combinations
from typing import NamedTuple

import numpy as np

from core.circuit.state_steps import bloch_vectors, entanglement_entropy, purities
from core.lessons.link_state import ExplorerState, to_query
from core.lessons.live import LiveCircuit, sample, total_variation
from core.lessons.plateau import SAMPLES, gradient_variance

Z_TOLERANCE = 0.02
ALL_ZEROS = 0.99
MIXED_PURITY, PURE_PAIR = 0.51, 0.99  # a qubit alone: Tr ρ² 1/2 (maximally mixed) to 1; a Bell pair together: 1
HALF_ENTROPY = 0.99  # bits
# the shipped models' most confident "no_mask" over every input angle is 87 % (default.qubit) to 90 % (cirq): 90 % is
# out of reach for most, since the angles are bounded by ±π/2
NO_MASK = 0.85
PLATEAU_RATIO, PLATEAU_QUBITS = 0.1, (4, 8)
TV_DISTANCE = 0.05
NOISE_SHIFT = 0.05
MODEL_SHAPE = "4 qubits, depth 6"


class Verdict(NamedTuple):
    passed: bool
    detail: str  # what was measured, and what is missing if it failed


@dataclass(frozen=True)
class Challenge:
    id: str
    title: str
    goal: str
    hint: str
    teaches: str
    start: ExplorerState  # the lesson link's settings
    check: Callable[[LiveCircuit], Verdict]
    needs_model: bool = False  # the selected model's head must be given

    def lesson_query(self) -> dict[str, str]:
        """The explorer's address for this challenge: its start settings, hidden controls and id."""
        return to_query(replace(self.start, challenge=self.id))


def _fmt(values: np.ndarray) -> str:
    return "(" + ", ".join(f"{v:+.3f}" for v in values) + ")"


def balance_qubit(live: LiveCircuit) -> Verdict:
    z = float(live.expvals[0])
    return Verdict(abs(z) <= Z_TOLERANCE, f"qubit 0's exact ⟨Z⟩ = {z:+.3f} (goal: 0 ± {Z_TOLERANCE})")


def all_zeros(live: LiveCircuit) -> Verdict:
    n, p = live.state.n_qubits, float(live.probabilities[0])
    detail = f"P(|{'0' * n}⟩) = {p:.3f} on {n} qubits (goal: ≥ {ALL_ZEROS} on at least 3 qubits)"
    return Verdict(n >= 3 and p >= ALL_ZEROS, detail)


def pair_purity(state: np.ndarray, qubits: tuple[int, int]) -> float:
    """Tr ρ² of two qubits together, the others traced out (1: the pair is a pure state of its own)."""
    n = int(np.log2(state.size))
    rows = np.moveaxis(state.reshape((2,) * n), qubits, (0, 1)).reshape(4, -1)
    rho = rows @ rows.conj().T
    return float(np.real(np.trace(rho @ rho)))


def bell_pair(live: LiveCircuit) -> Verdict:
    state, n = live.statevector, live.state.n_qubits
    if n < 2:
        return Verdict(False, "a pair needs at least 2 qubits")
    purity = purities(bloch_vectors(state))
    best = min(combinations(range(n), 2), key=lambda pair: max(purity[list(pair)]) - pair_purity(state, pair))
    alone, together = max(purity[list(best)]), pair_purity(state, best)
    detail = (f"qubits {best[0]} and {best[1]}: each alone Tr ρ² = {purity[best[0]]:.3f}, {purity[best[1]]:.3f}; "
              f"together {together:.3f} (goal: each ≤ {MIXED_PURITY}, together ≥ {PURE_PAIR})")
    return Verdict(alone <= MIXED_PURITY and together >= PURE_PAIR, detail)


def entangle_halves(live: LiveCircuit) -> Verdict:
    n = live.state.n_qubits
    if n < 4:
        return Verdict(False, f"{n} qubits: this one needs at least 4")
    half = list(range(n // 2))
    bits = entanglement_entropy(live.statevector, half)
    detail = f"{bits:.3f} bits of entanglement between qubits 0–{n // 2 - 1} and the rest (goal: ≥ {HALF_ENTROPY})"
    return Verdict(bits >= HALF_ENTROPY, detail)


def _needs_model(live: LiveCircuit) -> Verdict | None:
    if live.head is None:
        return Verdict(False, "no model is selected: pick a trained model in the sidebar")
    if not live.uses_model:
        return Verdict(False, f"the circuit does not run the model's weights: choose {MODEL_SHAPE} and the selected "
                              "model's weights")
    return None


def no_mask(live: LiveCircuit) -> Verdict:
    if (missing := _needs_model(live)) is not None:
        return missing
    p = live.model_probabilities()["no_mask"]
    return Verdict(p >= NO_MASK, f"the model says no_mask with {p:.1%} for θ = {_fmt(live.angles)} (goal: ≥ {NO_MASK:.0%})")


def plateau_ratios(live: LiveCircuit) -> dict[int, float]:
    """Gradient variance at depths 1, depth − 1 and depth, each over the depth-1 value."""
    n, depth = live.state.n_qubits, live.state.depth
    first = gradient_variance(n, 1, live.angles)
    return {d: gradient_variance(n, d, live.angles) / first for d in sorted({1, max(1, depth - 1), depth})}


def barren_plateau(live: LiveCircuit) -> Verdict:
    n, depth = live.state.n_qubits, live.state.depth
    low, high = PLATEAU_QUBITS
    if not low <= n <= high:
        return Verdict(False, f"{n} qubits: measure it on {low} to {high} qubits")
    if depth < 2:
        return Verdict(False, f"depth {depth}: deepen the circuit, the variance is compared with depth 1's")
    ratios = plateau_ratios(live)
    shown = ", ".join(f"depth {d}: {r:.3f}" for d, r in ratios.items())
    detail = (f"variance of ∂⟨Z₀⟩/∂w over {SAMPLES} random weight sets, as a share of depth 1's: {shown} "
              f"(goal: the first depth below {PLATEAU_RATIO})")
    passed = ratios[depth] < PLATEAU_RATIO <= ratios[depth - 1]
    if ratios[depth] < PLATEAU_RATIO and not passed:
        detail += "; it is already below at a smaller depth"
    return Verdict(passed, detail)


def fewest_shots(live: LiveCircuit) -> Verdict:
    state = live.state
    if state.n_qubits < 3 or not state.sampled or state.noise:
        return Verdict(False, "measure with shots, without noise, on at least 3 qubits")
    distance = total_variation(live.measured_counts(), live.probabilities)
    detail = f"total-variation distance {distance:.3f} with {state.shots:,} shots (goal: < {TV_DISTANCE})"
    if distance >= TV_DISTANCE:
        return Verdict(False, detail)
    half = state.shots // 2
    fewer = total_variation(sample(state, live.weights, half), live.probabilities) if half else 1.0
    detail += f"; with {half:,} shots it is {fewer:.3f}"
    return Verdict(fewer >= TV_DISTANCE, detail + ("" if fewer >= TV_DISTANCE else ": fewer shots are enough"))


def _noisy_verdicts(live: LiveCircuit) -> tuple[Verdict | None, float, str, str]:
    if (missing := _needs_model(live)) is not None:
        return missing, 0.0, "", ""
    if not live.state.noise:
        return Verdict(False, "switch the NISQ noise on (qiskit.aer, with shots)"), 0.0, "", ""
    exact, noisy = live.expvals, live.measured_expvals()
    (clean, p_clean), (measured, p_noisy) = live.verdict(exact), live.verdict(noisy)
    shift = float(np.max(np.abs(noisy - exact)))
    return None, shift, f"{clean} ({p_clean:.1%})", f"{measured} ({p_noisy:.1%})"


def noise_keeps_verdict(live: LiveCircuit) -> Verdict:
    missing, shift, clean, noisy = _noisy_verdicts(live)
    if missing:
        return missing
    same = clean.split()[0] == noisy.split()[0]
    detail = f"⟨Z⟩ moved by up to {shift:.3f} (goal: ≥ {NOISE_SHIFT}); verdict exact {clean}, with noise {noisy}"
    return Verdict(shift >= NOISE_SHIFT and same, detail)


def noise_flips_verdict(live: LiveCircuit) -> Verdict:
    missing, shift, clean, noisy = _noisy_verdicts(live)
    if missing:
        return missing
    flipped = clean.split()[0] != noisy.split()[0]
    return Verdict(flipped, f"verdict exact {clean}, with noise {noisy} (⟨Z⟩ moved by up to {shift:.3f})")


_EXACT = frozenset({"sim", "measure", "shots", "noise"})
_MODEL = frozenset({"qubits", "depth", "weights", "seed"})
CHALLENGES: tuple[Challenge, ...] = (
    Challenge("balance-qubit", "A fair coin", f"Make qubit 0's ⟨Z⟩ equal 0 (± {Z_TOLERANCE}).",
              "⟨Z⟩ = P(0) − P(1): move θ0 and watch the table; it changes smoothly, so it crosses 0 somewhere.",
              "⟨Z⟩ is what the model reads from each qubit; 0 means the qubit is as likely to read 0 as 1.",
              ExplorerState(n_qubits=2, depth=1, seed=3, measure="exact", hide=_EXACT | {"weights", "seed", "photo"}),
              balance_qubit),
    Challenge("all-zeros", "Back to |000⟩", f"On 3 qubits, make the bitstring 000 come out with probability ≥ {ALL_ZEROS}.",
              "A Hadamard puts each qubit in the middle; an RY turn of the right size brings it back to |0⟩. "
              "With no CNOTs (depth 0) every qubit is on its own.",
              "Superposition can be undone: RY(−π/2)·H maps |0⟩ back to |0⟩. Without entanglement the probabilities "
              "multiply, qubit by qubit.",
              ExplorerState(n_qubits=3, depth=0, measure="exact", hide=_EXACT | {"weights", "seed", "photo"},
                            lock=frozenset({"qubits", "depth"})),
              all_zeros),
    Challenge("bell-pair", "A Bell pair", "Make two qubits that are each completely random on their own "
              f"(Tr ρ² ≤ {MIXED_PURITY}) but a pure state together (≥ {PURE_PAIR}).",
              "A CNOT entangles when its control is in an equal superposition and its target is definite: which θ0 "
              "leaves qubit 0 halfway, and which θ1 makes qubit 1 a 0 or a 1?",
              "Entanglement: the pair holds information that neither qubit holds alone (a Bell state). The final RY "
              "turns act on one qubit each, so they cannot undo it.",
              ExplorerState(n_qubits=2, depth=1, measure="exact", hide=_EXACT | {"weights", "seed", "photo"},
                            lock=frozenset({"qubits", "depth"})),
              bell_pair),
    Challenge("entangle-halves", "Across the middle", f"On 4 qubits at depth 1, entangle qubits 0–1 with qubits 2–3 "
              f"by ≥ {HALF_ENTROPY} bit.",
              "At depth 1 only the CNOT on (1, 2) crosses the middle, and a CNOT entangles most when its control is "
              "halfway between 0 and 1: which θ1 does that? Then try the other angles at 0 or at an end (±1.57).",
              "Entanglement needs a gate across the cut: the circuit's brick pattern of CNOTs decides who can "
              "entangle with whom, layer by layer.",
              ExplorerState(n_qubits=4, depth=1, measure="exact", hide=_EXACT | {"weights", "seed", "photo"},
                            lock=frozenset({"qubits", "depth"})),
              entangle_halves),
    Challenge("no-mask", "Think like the model", f"Find input angles for which the selected model says no_mask with "
              f"≥ {NO_MASK:.0%}.",
              "A photo reaches the circuit only as these 4 angles. The model is surest near the edges (±1.57): try "
              "each angle at an end of its slider and keep what raises the no_mask probability.",
              "The trained model is a function of 4 numbers; the backbone's only job is to find them in a photo.",
              ExplorerState(weights="model", measure="exact", hide=_EXACT | _MODEL), no_mask, needs_model=True),
    Challenge("barren-plateau", "The barren plateau", f"On {PLATEAU_QUBITS[0]}–{PLATEAU_QUBITS[1]} qubits, find the first "
              f"depth at which the gradient's variance over random weights falls below {PLATEAU_RATIO:g} of its depth-1 "
              "value.",
              "Raise the depth one step at a time and read the measured shares. On 4 qubits it levels off before: "
              "try 6 or 8.",
              "Barren plateaus: in deep random circuits gradients vanish, so training stalls; shallow circuits like the "
              "model's depth 6 on 4 qubits keep them.",
              ExplorerState(n_qubits=6, depth=1, measure="exact", hide=_EXACT | {"weights", "seed", "photo"}),
              barren_plateau),
    Challenge("fewest-shots", "How many shots?", f"Find the fewest shots (to within a factor of 2) for which the "
              f"histogram's total-variation distance to the exact distribution is < {TV_DISTANCE}.",
              "Double the shots until the distance drops below the goal; halving them should then push it above.",
              "Shot noise shrinks as 1/√shots, and more qubits mean more bars to fill: a real device's answer is "
              "always an estimate.",
              ExplorerState(n_qubits=5, depth=2, seed=2, shots=64, hide=frozenset({"noise", "weights", "seed", "photo"}),
                            lock=frozenset({"measure"})),
              fewest_shots),
    Challenge("noise-keeps-verdict", "Noise, same answer", "With the model's weights, switch the NISQ noise on and find "
              f"angles where it moves some ⟨Z⟩ by ≥ {NOISE_SHIFT} yet the model's verdict stays the same.",
              "Compare the exact and measured ⟨Z⟩ columns: noise pulls every ⟨Z⟩ toward 0. Angles the model is sure "
              "about leave room for that.",
              "A classifier with a margin survives a noisy device: the quantities move, the decision need not.",
              ExplorerState(weights="model", sim="qiskit.aer", hide=_MODEL | {"sim", "photo"}, lock=frozenset({"measure"})),
              noise_keeps_verdict, needs_model=True),
    Challenge("noise-flips-verdict", "Noise decides", "With the model's weights and NISQ noise on, find angles where "
              "noise flips the model's verdict.",
              "Look for angles where the model hesitates (close to 50 %): noise pulls ⟨Z⟩ toward 0, which pushes the "
              "verdict toward the class the last layer's bias prefers.",
              "Near the decision boundary a noisy device decides: error mitigation and margins matter on real hardware.",
              ExplorerState(weights="model", sim="qiskit.aer", noise=True, hide=_MODEL | {"sim", "photo"},
                            lock=frozenset({"noise", "measure"})),
              noise_flips_verdict, needs_model=True),
)


def challenge_by_id(challenge_id: str) -> Challenge:
    """The challenge with this id, else a ValueError naming the known ones."""
    for challenge in CHALLENGES:
        if challenge.id == challenge_id:
            return challenge
    raise ValueError(f"unknown challenge {challenge_id!r:.60}; challenges: {', '.join(c.id for c in CHALLENGES)}")
