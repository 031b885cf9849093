"""Shared fixtures: the real data set from ../shared, isolated caches and output folders."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from core.paths import SHARED_DATA_DIR

SHARED_DIR = SHARED_DATA_DIR.parent.parent
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require_shared(path: Path) -> Path:
    """``path`` inside ../shared, or skip (a user's clone) / fail (CI) when it is absent."""
    if path.exists():
        return path
    message = f"{path} is absent: these tests need ../shared/datasets beside the project"
    if IN_CI:
        pytest.fail(message + " (CI=true, so this is an error, not a skip)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def face_mask_410() -> Path:
    """The article-sized data set (240 : 50 : 120) in ../shared."""
    return require_shared(SHARED_DATA_DIR)


@pytest.fixture(scope="session")
def face_mask_pool() -> Path:
    return require_shared(SHARED_DIR / "datasets" / "face-mask-pool")


@pytest.fixture(scope="session", autouse=True)
def _session_feature_cache(tmp_path_factory) -> None:
    """One feature cache for the whole test session, never the user's."""
    os.environ["QTL_CACHE"] = str(tmp_path_factory.mktemp("cache"))


@pytest.fixture(scope="session")
def lite0():
    """The offline, really pre-trained backbone, loaded once per session."""
    from core.learning.backbones import load_backbone

    return load_backbone("efficientnet_lite0")


@pytest.fixture(scope="session")
def short_run(face_mask_410, tmp_path_factory):
    """A 2-epoch default.qubit run on the real images: (its record, the folder with runs/ and ckpt/)."""
    from core.learning.config import TrainConfig
    from core.results.runs import run_training

    out = tmp_path_factory.mktemp("run")
    config = TrainConfig(epochs=2, seed=3, data_dir=str(face_mask_410))
    record = run_training(config, runs_dir=out / "runs", checkpoints_dir=out / "ckpt")
    return record, out
