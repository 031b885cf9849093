"""``python -m core <command> [options]``: the project's command-line tools (``python -m core <command> --help``)."""

from __future__ import annotations

import importlib
import os
import sys

COMMANDS = {
    "fetch": ("core.commands.fetch", "download (or copy) the 410-image data set, verified by sha256"),
    "crop-faces": ("core.commands.crop_faces", "a data set's images cut to their face, as the Predict page frames faces"),
    "train": ("core.commands.train", "train the dressed quantum head (a run record and a checkpoint)"),
    "evaluate": ("core.commands.evaluate", "a checkpoint's top-1 error on a split, on any backend"),
    "predict": ("core.commands.predict", "every face in photos: its box and verdict (annotated copies with --out)"),
    "experiments": ("core.commands.experiments", "the article's protocol on every simulator, noise, baselines, 3 seeds"),
    "compare": ("core.commands.compare", "the results table from the run records"),
    "nginx-config": ("core.commands.nginx_config", "an nginx.conf for a workshop server: nginx sends the frontend files"),
}


def usage() -> str:
    width = max(map(len, COMMANDS))
    lines = [f"  {name:<{width}}  {about}" for name, (_, about) in COMMANDS.items()]
    return "usage: python -m core <command> [options]\n\ncommands:\n" + "\n".join(lines) + "\n\n" \
        "python -m core <command> --help tells a command's options."


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help"):
        print(usage())
        return 0 if argv else 2
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        print(f"unknown command {name!r}\n\n{usage()}", file=sys.stderr)
        return 2
    try:
        return importlib.import_module(COMMANDS[name][0]).main(rest, prog=f"python -m core {name}")
    except BrokenPipeError:  # the output went to a pipe that closed early (| head): not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
