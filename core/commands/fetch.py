"""``python -m core fetch``: the 410-image set from its public source (or ``--from`` a local folder), verified by sha256."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core.data.dataset import read_manifest
from core.data.fetch import FetchError, fetch
from core.paths import FETCHED_DATA_DIR, MANIFEST


def main(argv: list[str] | None = None, prog: str = "python -m core fetch") -> int:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.split(":", 1)[1].strip())
    parser.add_argument("--dest", default=str(FETCHED_DATA_DIR), help="where to put it (default: %(default)s)")
    parser.add_argument("--from", dest="from_dir", help="copy from this local folder instead of downloading")
    parser.add_argument("--manifest", default=str(MANIFEST))
    args = parser.parse_args(argv)

    from tqdm import tqdm

    bar = tqdm(total=len(read_manifest(Path(args.manifest))["files"]), unit="file")

    def progress(done: int, total: int, name: str) -> None:
        bar.n = done
        bar.set_postfix_str(name[-40:])
        bar.refresh()

    try:
        counts = fetch(args.dest, Path(args.manifest), args.from_dir, progress)
    except FetchError as exc:
        bar.close()
        print(f"error: {exc}\nRun the same command again to resume; verified files are kept.", file=sys.stderr)
        return 1
    bar.close()
    print(f"{args.dest}: {counts['fetched']} fetched, {counts['kept']} already present and verified")
    return 0


if __name__ == "__main__":
    sys.exit(main())
