"""Shared fixtures: the real data set from ../shared, isolated caches and output folders."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from core.data import SHARED_DATA_DIR

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
    from core.backbones import load_backbone

    return load_backbone("efficientnet_lite0")
