"""Streamlit glue shared by the pages: cached loaders, the model picker, colours."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import streamlit as st

from core.learning.checkpoint_listing import folder_stamp
from core.paths import RESNET18_WEIGHTS_ENV, checkpoints_dir, runs_dir

# The library's heavy modules are imported inside the functions that use them: the first page must show before they load.

MODEL_KEY = "model_path"


@st.cache_data(show_spinner=False)
def _checkpoints(directory: str, stamp: tuple):
    from core.learning.checkpoint_listing import listed_checkpoints

    return listed_checkpoints(directory)


def checkpoint_options() -> tuple[list[tuple[str, str, dict]], list[str]]:
    """(path, label, meta) of every loadable checkpoint, best first, and the skipped files' messages."""
    directory = checkpoints_dir()
    return _checkpoints(str(directory), folder_stamp(directory, "*.pt"))


@st.cache_data(show_spinner=False)
def _runs(directory: str, stamp: tuple):
    from core.results.records import load_runs

    loaded = load_runs(directory)
    return loaded.records, loaded.problems


def run_records() -> tuple[list[dict], list[str]]:
    directory = runs_dir()
    return _runs(str(directory), folder_stamp(directory, "*.json"))


@st.cache_resource(show_spinner="Loading the backbone …")
def backbone(name: str):
    import torch

    from core.learning.backbones import load_backbone

    # Sessions run in threads of their own: one thread per forward pass keeps concurrent visitors from
    # oversubscribing the cores (a lone prediction is a little slower; docs/benchmarks.md, *Load*).
    torch.set_num_threads(1)
    return load_backbone(name)


@st.cache_resource(show_spinner="Loading the model …")
def predictor(path: str, mtime: int):
    from core.learning.checkpoints import load_checkpoint
    from core.learning.predict import Predictor

    checkpoint = load_checkpoint(path)
    return Predictor(checkpoint, extractor=backbone(checkpoint.meta["backbone"]))


def backbone_available(name: str) -> tuple[bool, str]:
    """Whether a backbone's weights can be had here, without downloading anything."""
    if name == "efficientnet_lite0":
        return True, ""
    if os.environ.get(RESNET18_WEIGHTS_ENV):
        return True, ""
    hub = Path(os.environ.get("TORCH_HOME", Path.home() / ".cache" / "torch")) / "hub" / "checkpoints" / "resnet18-f37072fd.pth"
    if hub.is_file():
        return True, ""
    return False, ("ResNet-18's ImageNet weights are not on this machine (torchvision downloads them on first use; "
                   f"offline, set {RESNET18_WEIGHTS_ENV}=/path/to/resnet18-f37072fd.pth). "
                   "The offline backbone efficientnet_lite0 works here.")


def quantum_models() -> list[tuple[str, str, dict]]:
    return [o for o in checkpoint_options()[0] if o[2].get("head", "quantum") == "quantum"]


def model_picker() -> None:
    """The sidebar's model picker, shared by every page through ``st.session_state[MODEL_KEY]``."""
    options = quantum_models()
    if not options:
        st.sidebar.info("No trained model yet. Train one with the Retrain panel below or `python -m core train`.")
        st.session_state[MODEL_KEY] = None
        return
    paths = [p for p, _, _ in options]
    labels = {}
    for path, label, meta in options:
        ok, _ = backbone_available(meta["backbone"])
        labels[path] = label if ok else f"⚠ {label} (backbone not available here)"
    current = st.session_state.get(MODEL_KEY)
    index = paths.index(current) if current in paths else 0
    st.session_state[MODEL_KEY] = st.sidebar.selectbox("Model", paths, index=index, format_func=labels.get,
                                                       help="Trained dressed-circuit models, best test accuracy first.")


def selected_model() -> tuple[str, dict] | None:
    path = st.session_state.get(MODEL_KEY)
    for p, _, meta in quantum_models():
        if p == path:
            return p, meta
    return None


def load_predictor(path: str):
    return predictor(path, Path(path).stat().st_mtime_ns)


@st.cache_resource(show_spinner=False)
def warm_up_in_background() -> threading.Thread:
    """Import torch and the circuit libraries once per process, after the first page, while the visitor reads it.

    A page that needs them meanwhile waits for the same import (Python's import lock), never a second one.
    The imports start WARM_UP_DELAY_S after the first page's script: importing holds the GIL for seconds, and begun
    at once it held up the server sending the rest of that page (complete 0.5 s later; docs/benchmarks.md, *Start-up*).
    """

    def work() -> None:  # the first page needs none of these
        import pennylane  # noqa: F401
        import torch  # noqa: F401

    thread = threading.Timer(WARM_UP_DELAY_S, work)
    thread.name, thread.daemon = "qtl-warm-up", True
    thread.start()
    return thread


WARM_UP_DELAY_S = 2.0
