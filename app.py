"""Quantum transfer learning dashboard: ``streamlit run app.py``.

The pages live in views/, not pages/: a pages/ folder puts Streamlit in its older
folder mode for a first visit straight to a page URL, which then skips this file.
"""

from __future__ import annotations

import streamlit as st

st.set_page_config(page_title="Quantum transfer learning", page_icon="⚛", layout="wide")
# A Markdown table wider than a phone scrolls sideways in its own box instead of widening the whole page
# (tests/app/test_phone_browser.py); st.table's tables already do.
st.html("<style>[data-testid='stMarkdownContainer'] table{display:block;overflow-x:auto;max-width:100%}</style>")

from ui.retrain import retrain_panel  # noqa: E402
from ui.shared import model_picker, warm_up_in_background  # noqa: E402


def _home() -> None:
    """The app's root address: go to the Concepts page, which has an address of its own (/concepts)."""
    st.switch_page("views/concepts.py", query_params=st.query_params.to_dict())


home = st.Page(_home, title="Home", default=True, visibility="hidden")
pages = [
    home,
    st.Page("views/concepts.py", title="Concepts", icon="📘", url_path="concepts"),
    st.Page("views/explorer.py", title="Circuit explorer", icon="🎛", url_path="explorer"),
    st.Page("views/comparison.py", title="Backend comparison", icon="📊", url_path="comparison"),
    st.Page("views/predict.py", title="Predict", icon="📷", url_path="predict"),
    st.Page("views/inside.py", title="Inside the circuit", icon="🔬", url_path="inside"),
    st.Page("views/challenges.py", title="Challenges", icon="🎯", url_path="challenges"),
]
navigation = st.navigation(pages)
if navigation is home:
    _home()  # before the sidebar is drawn: the visitor's first script run is only the redirect
st.sidebar.title("⚛ Quantum transfer learning")
model_picker()
retrain_panel()
navigation.run()
warm_up_in_background()
