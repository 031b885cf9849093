"""The Predict page's downloads of the selected model: its card (Markdown) and the checkpoint file itself."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from core.results.model_card import find_record, model_card


def model_downloads(path: str, meta: dict) -> None:
    """Two download buttons: "Model card (Markdown)" (with the run record's numbers where it is found) and "Checkpoint (.pt)"."""
    checkpoint = Path(path)
    try:
        card = model_card(checkpoint, find_record(meta))
    except (ValueError, OSError) as exc:  # CheckpointError is a ValueError
        st.warning(f"No model card for {checkpoint.name}: {exc}")
        return
    left, right, _ = st.columns([1, 1, 2])
    left.download_button("Model card (Markdown)", card, file_name=f"{checkpoint.stem}.model-card.md", mime="text/markdown",
                         on_click="ignore", key="download-model-card", icon=":material/description:")
    right.download_button("Checkpoint (.pt)", checkpoint.read_bytes(), file_name=checkpoint.name,
                          mime="application/octet-stream", on_click="ignore", key="download-checkpoint",
                          icon=":material/download:")
