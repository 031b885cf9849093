"""How many photos, and how many bytes of them, one visitor's page reads at once.

Streamlit's ``maxUploadSize`` bounds one file; the uploader accepts any number.
The rule here bounds what the Predict page decodes and judges per session:
at most ``max_files`` photos and ``max_mb`` MB in all (defaults 10 photos and
50 MB: ten phone photos of up to 5 MB each; twenty visitors at the limit hold
1 GB of photos, a quarter of the 4 GB the server may use). Files beyond the
limit are refused by name and never decoded.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

from core.paths import UPLOAD_MAX_FILES_ENV, UPLOAD_MAX_MB_ENV

DEFAULT_MAX_FILES = 10
DEFAULT_MAX_MB = 50
MB = 1_000_000  # Streamlit's maxUploadSize counts in these


def _env_number(name: str, default: int) -> int:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"{name}={text!r}: expected a whole number of at least 1")
    return int(text)


@dataclass(frozen=True)
class UploadLimits:
    """At most ``max_files`` photos and ``max_mb`` MB of them read at once, per session."""

    max_files: int = DEFAULT_MAX_FILES
    max_mb: int = DEFAULT_MAX_MB

    def __post_init__(self):
        if self.max_files < 1 or self.max_mb < 1:
            raise ValueError(f"upload limits must be at least 1 file and 1 MB, got {self.max_files} and {self.max_mb}")

    @classmethod
    def from_env(cls) -> UploadLimits:
        """``$QTL_UPLOAD_MAX_FILES`` and ``$QTL_UPLOAD_MAX_MB``, else the defaults; a bad value is a ValueError."""
        return cls(_env_number(UPLOAD_MAX_FILES_ENV, DEFAULT_MAX_FILES), _env_number(UPLOAD_MAX_MB_ENV, DEFAULT_MAX_MB))

    def describe(self) -> str:
        return f"at most {self.max_files} photos and {self.max_mb} MB in all at once"


@dataclass(frozen=True)
class UploadDecision:
    """The first ``accepted`` files are read; ``message`` names the limit and the refused files (None: all read)."""

    accepted: int
    message: str | None


def accept_uploads(files: Sequence[tuple[str, int]], limits: UploadLimits) -> UploadDecision:
    """Which of ``files`` ((name, size in bytes), in upload order) are read: the longest prefix within both limits."""
    total, accepted = 0, 0
    for _, size in files:
        if accepted == limits.max_files or total + size > limits.max_mb * MB:
            break
        total, accepted = total + size, accepted + 1
    refused = [name for name, _ in files[accepted:]]
    if not refused:
        return UploadDecision(accepted, None)
    if accepted == limits.max_files:
        why = f"at most {limits.max_files} photos are read at once ({UPLOAD_MAX_FILES_ENV})"
    else:
        why = f"at most {limits.max_mb} MB of photos are read at once ({UPLOAD_MAX_MB_ENV})"
    shown = ", ".join(refused[:5]) + (f" and {len(refused) - 5} more" if len(refused) > 5 else "")
    return UploadDecision(accepted, f"{len(refused)} of {len(files)} photos not read: {why}. Not read: {shown}. "
                                    "Remove some photos to add others.")
