"""Where the project keeps things, and every ``QTL_*`` environment variable that moves or configures them.

A folder's function reads its variable on every call, so a test or a server
that sets the variable later is still obeyed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_ROOT = PROJECT_ROOT / "data"
MANIFEST = DATA_ROOT / "face-mask-410.manifest.json"
FETCHED_DATA_DIR = DATA_ROOT / "face-mask-410"
SHARED_DATA_DIR = PROJECT_ROOT.parent / "shared" / "datasets" / "face-mask-410"
ARTICLE_FILE = DATA_ROOT / "article_results.json"

DATA_ENV = "QTL_DATA"
RUNS_ENV = "QTL_RUNS_DIR"
CHECKPOINTS_ENV = "QTL_CHECKPOINTS_DIR"
CACHE_ENV = "QTL_CACHE"
JOBS_ENV = "QTL_JOBS_DIR"
IBM_CACHE_ENV = "QTL_IBM_CACHE"
RESNET18_WEIGHTS_ENV = "QTL_RESNET18_WEIGHTS"
PASSWORD_ENV = "QTL_MAINTAINER_PASSWORD"
IBM_TOKEN_ENV, IBM_INSTANCE_ENV = "QTL_IBM_TOKEN", "QTL_IBM_INSTANCE"
IBM_BACKEND_ENV, IBM_CHANNEL_ENV, IBM_LOCAL_ENV = "QTL_IBM_BACKEND", "QTL_IBM_CHANNEL", "QTL_IBM_LOCAL"
IBM_JOBS_PER_DAY_ENV, IBM_MAX_SHOTS_ENV = "QTL_IBM_JOBS_PER_DAY", "QTL_IBM_MAX_SHOTS"
TRUST_PROXY_ENV = "QTL_TRUST_PROXY"
UPLOAD_MAX_FILES_ENV, UPLOAD_MAX_MB_ENV = "QTL_UPLOAD_MAX_FILES", "QTL_UPLOAD_MAX_MB"

# Every variable the project reads, with its default: the README and docs/deployment.md list the same.
ENVIRONMENT: dict[str, str] = {
    DATA_ENV: "the image folder (train/ val/ test/); default data/face-mask-410 once fetched, else ../shared's copy",
    RUNS_ENV: "run records; default data/runs",
    CHECKPOINTS_ENV: "trained models; default checkpoints/",
    CACHE_ENV: "backbone features and JAX's compiled code; default data/cache",
    JOBS_ENV: "the retrain worker's lock, status and log; default data/jobs",
    IBM_CACHE_ENV: "IBM Quantum job records; default data/ibm_jobs",
    RESNET18_WEIGHTS_ENV: "a local ResNet-18 ImageNet weights file, for machines without network; default: torchvision downloads",
    PASSWORD_ENV: "the maintainer password (or maintainer_password in .streamlit/secrets.toml); default: none, no panel",
    IBM_TOKEN_ENV: "IBM Quantum token (or ibm_token in secrets.toml); default: none, the IBM backend is hidden",
    IBM_INSTANCE_ENV: "IBM Cloud instance (CRN or name)",
    IBM_BACKEND_ENV: "IBM device name; default: the least busy one",
    IBM_CHANNEL_ENV: "Qiskit Runtime channel; default ibm_quantum_platform",
    IBM_LOCAL_ENV: "a fake device name (e.g. fake_manila): IBM path in local test mode, nothing sent",
    IBM_JOBS_PER_DAY_ENV: "IBM Quantum jobs the maintainer may send per day (UTC); default 3, which fits the free plan",
    IBM_MAX_SHOTS_ENV: "shots per IBM Quantum job, all its circuits together; default 8192",
    TRUST_PROXY_ENV: "1: a reverse proxy on another host fronts the server; the password throttle then keys visitors "
                     "by X-Forwarded-For's last entry; default off",
    UPLOAD_MAX_FILES_ENV: "photos the Predict page reads at once (uploads and camera); default 10",
    UPLOAD_MAX_MB_ENV: "MB of photos the Predict page reads at once, per visitor session; default 50",
}


def _folder(env: str, default: Path) -> Path:
    return Path(os.environ.get(env) or default)


def runs_dir() -> Path:
    return _folder(RUNS_ENV, DATA_ROOT / "runs")


def checkpoints_dir() -> Path:
    return _folder(CHECKPOINTS_ENV, PROJECT_ROOT / "checkpoints")


def cache_dir() -> Path:
    return _folder(CACHE_ENV, DATA_ROOT / "cache")


def jobs_dir() -> Path:
    return _folder(JOBS_ENV, DATA_ROOT / "jobs")


def ibm_cache_dir() -> Path:
    return _folder(IBM_CACHE_ENV, DATA_ROOT / "ibm_jobs")


def data_dir() -> Path:
    """``$QTL_DATA``, else ``data/face-mask-410`` if fetched, else ``../shared``'s copy."""
    if os.environ.get(DATA_ENV):
        return Path(os.environ[DATA_ENV])
    if (FETCHED_DATA_DIR / "train").is_dir():
        return FETCHED_DATA_DIR
    return SHARED_DATA_DIR


def secret_or_env(secrets: Mapping | None, key: str, env: str) -> str | None:
    """``secrets[key]`` (e.g. ``st.secrets``), else ``$env``; blank values count as unset."""
    value = None
    if secrets is not None:
        try:
            value = secrets.get(key)
        except Exception:  # no secrets.toml: Streamlit raises rather than returning None
            value = None
    value = value or os.environ.get(env)
    return (str(value).strip() or None) if value else None
