"""The shipped, trained default.qubit model's head, for the tests of what is computed from it."""

from __future__ import annotations

import pytest

from core.paths import PROJECT_ROOT

CHECKPOINT = PROJECT_ROOT / "checkpoints" / "best-efficientnet_lite0-default.qubit-analytic.pt"


@pytest.fixture(scope="module")
def head():
    """Its dressed head on an exact default.qubit executor."""
    from core.execution.factory import make_executor
    from core.execution.settings import ExecutionSettings
    from core.learning.checkpoints import load_checkpoint

    checkpoint = load_checkpoint(CHECKPOINT)
    return checkpoint.build_head(make_executor(checkpoint.spec, ExecutionSettings("default.qubit", None)))
