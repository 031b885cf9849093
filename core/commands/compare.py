"""``python -m core compare``: the results table (mean ± sd over seeds, the article's figures beside) from the run records."""

from __future__ import annotations

import argparse
import sys

from core.paths import runs_dir
from core.results.comparison import completed, group, markdown_table
from core.results.records import load_runs


def main(argv: list[str] | None = None, prog: str = "python -m core compare") -> int:
    parser = argparse.ArgumentParser(prog=prog, description="Summarise the run records as a Markdown table.")
    parser.add_argument("--runs-dir", default=None, help="default: $QTL_RUNS_DIR, else data/runs")
    parser.add_argument("--backbone", default="efficientnet_lite0")
    args = parser.parse_args(argv)
    folder = args.runs_dir or runs_dir()
    loaded = load_runs(folder)
    for problem in loaded.problems:
        print(f"skipped: {problem}", file=sys.stderr)
    groups = group(completed(loaded.records, args.backbone))
    if not groups:
        print(f"no completed runs for {args.backbone} in {folder}: run python -m core experiments", file=sys.stderr)
        return 1
    print(markdown_table(groups))
    return 0


if __name__ == "__main__":
    sys.exit(main())
