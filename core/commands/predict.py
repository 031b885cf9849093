"""``python -m core predict PHOTO…``: every face in each photo, its box and verdict; ``--out`` writes annotated copies."""

from __future__ import annotations

import argparse
import io
import json
import sys
from pathlib import Path

from core.data.images import ImageError, load_rgb
from core.faces.annotate import annotate
from core.faces.detector import MAX_FACES
from core.files import atomic_write_bytes
from core.learning.checkpoints import CheckpointError, best_quantum_checkpoint, load_checkpoint
from core.learning.predict import PhotoVerdict, Predictor


def as_json(name: str, verdict: PhotoVerdict) -> dict:
    faces = [{"box": list(f.box), "detector_score": round(f.score, 4), "crop": list(f.crop),
              "label": f.prediction.label, "probability": round(f.prediction.probability, 4),
              "angles": [round(a, 6) for a in f.prediction.angles], "expvals": [round(z, 6) for z in f.prediction.expvals]}
             for f in verdict.faces]
    whole = verdict.whole_image
    return {"photo": name, "size": list(verdict.size), "faces_found": verdict.found, "faces": faces,
            "summary": verdict.summary, "seconds": {k: round(v, 4) for k, v in verdict.seconds.items()},
            "whole_image": None if whole is None else {"label": whole.label, "probability": round(whole.probability, 4)}}


def lines(name: str, verdict: PhotoVerdict) -> list[str]:
    out = [f"{name}: {verdict.summary}"]
    for number, face in enumerate(verdict.faces, 1):
        x0, y0, x1, y1 = face.box
        p = face.prediction
        out.append(f"{name}  face {number}  box ({x0}, {y0})-({x1}, {y1})  {p.label} {p.probability:.1%}  "
                   f"⟨Z⟩ {' '.join(f'{z:+.3f}' for z in p.expvals)}")
    if verdict.whole_image is not None:
        w = verdict.whole_image
        out.append(f"{name}  whole image  {w.label} {w.probability:.1%}")
    return out


def main(argv: list[str] | None = None, prog: str = "python -m core predict") -> int:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.split(":", 1)[1].strip())
    parser.add_argument("photos", nargs="+", help="image files (JPEG, PNG, WebP, BMP, GIF, TIFF)")
    parser.add_argument("--checkpoint", default=None, help="a trained model (default: the best quantum model in checkpoints/)")
    parser.add_argument("--json", action="store_true", help="one JSON object per photo instead of text lines")
    parser.add_argument("--out", default=None, help="a folder for annotated copies (<name>.faces.png)")
    parser.add_argument("--whole-image", action="store_true", help="also classify each photo as one face")
    parser.add_argument("--max-faces", type=int, default=MAX_FACES, help="faces classified per photo, the largest first")
    args = parser.parse_args(argv)
    try:
        predictor = Predictor(load_checkpoint(args.checkpoint or best_quantum_checkpoint()))
    except (CheckpointError, ValueError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    failed = 0
    for path in map(Path, args.photos):
        try:
            photo = load_rgb(path)
            verdict = predictor.predict_faces(photo, whole_image=args.whole_image, max_faces=args.max_faces)
        except ImageError as exc:
            print(f"{path}: {exc}", file=sys.stderr)
            failed += 1
            continue
        print(json.dumps(as_json(str(path), verdict)) if args.json else "\n".join(lines(str(path), verdict)))
        if args.out:
            buffer = io.BytesIO()
            annotate(photo, verdict.labelled_boxes).save(buffer, "PNG")
            atomic_write_bytes(Path(args.out) / f"{path.stem}.faces.png", buffer.getvalue())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
