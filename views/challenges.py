"""Challenges: short exercises the app checks on the Circuit explorer's live circuit, with progress for this session."""

from urllib.parse import urlencode

import streamlit as st

from core.lessons.challenges import CHALLENGES
from ui import challenge_panel
from ui.bounds_note import bounds_note
from ui.handoff import explorer_state

st.title("Challenges")
st.caption("Each one opens the Circuit explorer set up for it (some controls hidden, to keep the focus); the explorer "
           "shows the goal and checks your circuit live as you change it. Progress is kept for this browser session.")
bounds_note("challenges")

solved = challenge_panel.done()
st.progress(len(solved) / len(CHALLENGES), text=f"{len(solved)} of {len(CHALLENGES)} done")
if st.button("Reset progress", icon=":material/restart_alt:", disabled=not solved):
    challenge_panel.reset()
    st.rerun()

kept = explorer_state()
base = (st.context.url or "").rsplit("/", 1)[0]
for challenge in CHALLENGES:
    button = f"check-{challenge.id}"
    verdict = challenge_panel.evaluate(challenge, kept) if st.session_state.get(button) and kept else None
    with st.container(border=True, key=f"challenge-{challenge.id}"):
        status = "✅ done" if challenge.id in solved else "not yet"
        st.markdown(f"## {challenge.title} · {status}")
        st.markdown(challenge.goal)
        # a popover, drawn only when opened, and few elements per challenge: each one is a redraw of the page in the
        # browser as it arrives, which adds up on a phone (bench/bench_lighthouse.py)
        with st.popover("Hint, and what it teaches", icon="💡"):
            st.markdown(f"**Hint**: {challenge.hint}\n\n**What it teaches**: {challenge.teaches}\n\nThe lesson link, to hand "
                        f"out:\n```\n{base}/explorer?{urlencode(challenge.lesson_query(), safe=',')}\n```")
        st.page_link("views/explorer.py", label="Open it in the explorer", icon="🎛", query_params=challenge.lesson_query())
        st.button("Check my explorer circuit", key=button, disabled=kept is None,
                  help="Checks the circuit the explorer shows now" if kept else "Open the explorer first")
        if verdict is not None:
            challenge_panel.show_verdict(verdict)
        elif challenge.id in solved:
            st.caption(f"Solved: {solved[challenge.id]}")
