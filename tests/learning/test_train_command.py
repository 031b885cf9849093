"""``python -m core train`` run in-process more than once (tests, a notebook): its exit hook is added once."""

from __future__ import annotations

import atexit


def test_train_command_adds_its_exit_hook_once_per_process(capsys):
    from core.commands.train import main

    assert main(["--epochs", "0"]) == 1, "refused by the config, after the hook is registered"
    hooks = atexit._ncallbacks()
    assert main(["--epochs", "0"]) == 1 and main(["--epochs", "0"]) == 1
    assert atexit._ncallbacks() == hooks
    assert "error: epochs must be a whole number" in capsys.readouterr().err
