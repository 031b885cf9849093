"""Challenges in the app: progress kept per session, a check of the explorer's live circuit, the explorer's challenge box."""

from __future__ import annotations

import streamlit as st

from core.lessons.challenges import CHALLENGES, Challenge, Verdict
from core.lessons.link_state import ExplorerState
from ui.shared import load_predictor, selected_model

DONE_KEY = "challenges-done"  # {challenge id: the detail of the check that solved it}


def done() -> dict[str, str]:
    return st.session_state.setdefault(DONE_KEY, {})


def reset() -> None:
    st.session_state[DONE_KEY] = {}


def find(challenge_id: str) -> Challenge | None:
    return next((c for c in CHALLENGES if c.id == challenge_id), None)


def selected_head(state: ExplorerState, challenge: Challenge):
    """The selected model's head when the check or the circuit needs it, else None."""
    model = selected_model()
    if model is None or not (challenge.needs_model or state.weights == "model"):
        return None
    return load_predictor(model[0]).head


def evaluate(challenge: Challenge, state: ExplorerState, counts: dict[str, int] | None = None) -> Verdict:
    """The challenge's check on the explorer's circuit; a solved one is remembered for this session."""
    from core.lessons.live import LiveCircuit

    try:
        verdict = challenge.check(LiveCircuit(state, selected_head(state, challenge), counts=counts))
    except (ValueError, RuntimeError) as exc:
        return Verdict(False, f"the check could not run: {exc}")
    if verdict.passed:
        done()[challenge.id] = verdict.detail
    return verdict


def show_verdict(verdict: Verdict) -> None:
    if verdict.passed:
        st.success(f"**Solved!** {verdict.detail}", icon="✅")
    else:
        st.info(f"**Not yet**: {verdict.detail}", icon="🎯")


def explorer_box(state: ExplorerState):
    """The challenge named by the explorer's link: its goal and hint now, a container for the live check."""
    if not state.challenge:
        return None
    challenge = find(state.challenge)
    if challenge is None:
        st.warning(f"This link names an unknown challenge {state.challenge!r}; see the Challenges page.", icon="🔗")
        return None
    box = st.container(border=True, key="lesson-challenge")
    with box:
        st.markdown(f"**🎯 Challenge: {challenge.title}**")
        st.markdown(challenge.goal)
        with st.expander("Hint"):
            st.markdown(challenge.hint)
    return challenge, box


def check_in_explorer(opened, state: ExplorerState, counts: dict[str, int] | None) -> None:
    """The live check, after the explorer has run its circuit (``opened`` from :func:`explorer_box`)."""
    if opened is None:
        return
    challenge, box = opened
    with box:
        with st.spinner("Checking …"):
            verdict = evaluate(challenge, state, counts)
        show_verdict(verdict)
        if verdict.passed:
            st.caption(f"What it teaches: {challenge.teaches}")
