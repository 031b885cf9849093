"""Fuzz the image path, decode → find faces → classify each and the whole image, with hostile inputs.

    python bench/fuzz_images.py [--count 20000] [--seed 0] [--checkpoint PATH] [--out bench/out/fuzz.json]

Inputs come from ``tools.fuzz.generate_inputs`` (random bytes, mutated real
JPEG/PNG/WebP files from the face-mask-410 set, truncated and empty files,
decompression bombs, animations, TIFF, ICO, broken EXIF, odd pixel modes).
Every input must end as verdicts (faces with boxes inside the photo, finite
probabilities, and the whole image's) or as an ``ImageError`` with a message;
anything else is unhandled, and the exit status is then 1. The failing
inputs are written beside the JSON report (``fuzz-failures/``) to replay.
Without ``--checkpoint`` the model is a freshly initialised head on
``efficientnet_lite0``: robustness needs the path, not a good model.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import torch
from tqdm import tqdm

from core.learning.checkpoints import load_checkpoint
from core.learning.predict import Predictor
from core.paths import SHARED_DATA_DIR
from tools.fuzz import generate_inputs, peak_rss_mib, run_fuzz, untrained_checkpoint

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--checkpoint", help="a trained checkpoint to predict with (default: an untrained head)")
    parser.add_argument("--data", default=str(SHARED_DATA_DIR), help="folder of real seed images (searched recursively)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (one is fastest on a busy machine)")
    parser.add_argument("--out", default=str(ROOT / "bench" / "out" / "fuzz.json"))
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    seeds = sorted(p for p in Path(args.data).rglob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    if not seeds:
        parser.error(f"no seed images under {args.data}")
    with tempfile.TemporaryDirectory() as tmp:
        checkpoint = load_checkpoint(args.checkpoint) if args.checkpoint else untrained_checkpoint(Path(tmp) / "fuzz.pt")
    predictor = Predictor(checkpoint)
    rss_before = peak_rss_mib()
    print(f"{args.count} inputs, seed {args.seed}, {len(seeds)} seed images, model {checkpoint.path.name} "
          f"(peak RSS before: {rss_before:.0f} MiB)", flush=True)

    with tqdm(total=args.count, unit="input", smoothing=0.05) as bar:
        report = run_fuzz(predictor, generate_inputs(args.count, args.seed, seeds), progress=bar.update)
    print(report.table())

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    failures_dir = out.parent / "fuzz-failures"
    for failure in report.failures:
        failures_dir.mkdir(exist_ok=True)
        name = f"{failure.kind.replace('/', '-')}-{hashlib.sha256(failure.data).hexdigest()[:12]}.bin"
        (failures_dir / name).write_bytes(failure.data)
    result = {"count": args.count, "seed": args.seed, "checkpoint": str(checkpoint.path), "cpus": os.cpu_count(),
              "threads": args.threads, "peak_rss_before_mib": rss_before, "when": time.strftime("%Y-%m-%d %H:%M:%S"),
              **report.to_json()}
    out.write_text(json.dumps(result, indent=1))
    print(f"wrote {out}" + (f"; {len(report.failures)} failing inputs in {failures_dir}" if report.failures else ""))
    for failure in report.failures[:20]:
        print(f"UNHANDLED {failure.kind}: {failure.error[:200]}")
    return 1 if report.total.unhandled else 0


if __name__ == "__main__":
    sys.exit(main())
