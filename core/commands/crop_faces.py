"""``python -m core crop-faces``: a data set's images as face crops, framed as the Predict page frames faces.

Then ``python -m core train --data DEST`` trains on them.
"""

from __future__ import annotations

import argparse
import sys

from core.data.images import ImageError
from core.faces.crops import FRAMING, TRAINING_FRAMING
from core.faces.dataset_crops import crop_data_set
from core.faces.detector import DetectorUnavailable, RetinaFaceDetector
from core.paths import DATA_ROOT, data_dir


def main(argv: list[str] | None = None, prog: str = "python -m core crop-faces") -> int:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.split(":", 1)[1].strip().split("\n")[0])
    parser.add_argument("--from", dest="source", default=None, help="a data set (train/ val/ test/); default: $QTL_DATA, …")
    parser.add_argument("--to", dest="dest", default=str(DATA_ROOT / "face-mask-410-faces"), help="default: %(default)s")
    parser.add_argument("--framing", choices=("box", "training"), default="box",
                        help="box: the detector's box, as Predict cuts a face out of a group photo (default); "
                             "training: the margin the training images have around it")
    args = parser.parse_args(argv)
    framing = FRAMING if args.framing == "box" else TRAINING_FRAMING

    from tqdm import tqdm

    bar = tqdm(unit="img")

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.update(done - bar.n)

    try:
        counts = crop_data_set(args.source or data_dir(), args.dest, RetinaFaceDetector(threads=2), framing,
                               progress=progress)
    except (DetectorUnavailable, ImageError, FileNotFoundError) as exc:
        bar.close()
        print(f"error: {exc}", file=sys.stderr)
        return 1
    bar.close()
    print(f"{args.dest}: {counts['cropped']} images cropped to their face, {counts['kept']} kept whole (no face found)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
